//! The generator's token language for skeletons (the TokenRig layout, numbers from the paper's
//! public code): coordinates in 256 bins over [-1, 1] after centring the mesh's box and scaling
//! its longest side to 2; joints depth-first from the root; a joint whose parent is the joint
//! just emitted writes its 3 coordinates, any other writes `BRANCH`, its parent's 3
//! coordinates, then its own; `BOS CLASS ... EOS` around the skeleton. Parents are recovered as
//! the latest earlier joint nearest to the written parent coordinates. After `EOS` come exactly
//! [`SKIN_TOKENS`] skin tokens per joint in joint order (the model emits those; see
//! `generator`).
//!
//! [`Grammar`] is the decoder's state machine: which tokens may come next.

use nalgebra::Vector3;
use rig_core::mesh::Aabb;

pub const COORD_BINS: u32 = 256;
pub const BRANCH: u32 = 256;
pub const BOS: u32 = 257;
pub const EOS: u32 = 258;
/// The one class token (a single class today: "any character").
pub const CLASS: u32 = 259;
/// Size of the skeleton vocabulary.
pub const SKELETON_VOCAB: usize = 260;
/// Skin tokens per joint.
pub const SKIN_TOKENS: usize = 4;

/// The normalisation of a shape into the unit box: `unit = (p - center) * scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub center: Vector3<f32>,
    pub scale: f32,
}

impl Frame {
    /// Mesh space itself (no centring, no scaling).
    pub fn identity() -> Frame {
        Frame { center: Vector3::zeros(), scale: 1.0 }
    }

    /// Centres the points' box and scales its longest side to 2.
    pub fn of_points(points: &[[f32; 3]]) -> Frame {
        let Some(b) = Aabb::of_points(points) else { return Frame::identity() };
        let (lo, hi) = (Vector3::from(b.min), Vector3::from(b.max));
        Frame { center: (lo + hi) * 0.5, scale: 2.0 / (hi - lo).max().max(1e-9) }
    }

    pub fn to_unit(&self, p: &Vector3<f32>) -> Vector3<f32> {
        (p - self.center) * self.scale
    }

    pub fn from_unit(&self, u: &Vector3<f32>) -> Vector3<f32> {
        u / self.scale + self.center
    }
}

/// The bin of a unit coordinate.
pub fn bin(x: f32) -> u32 {
    (((x + 1.0) * 0.5 * COORD_BINS as f32).floor() as i64).clamp(0, COORD_BINS as i64 - 1) as u32
}

/// The centre of a bin.
pub fn unbin(b: u32) -> f32 {
    (b as f32 + 0.5) / COORD_BINS as f32 * 2.0 - 1.0
}

fn bins(p: &Vector3<f32>) -> [u32; 3] {
    [bin(p.x), bin(p.y), bin(p.z)]
}

/// A skeleton written as tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct SkeletonTokens {
    /// `BOS CLASS ... EOS`.
    pub tokens: Vec<u32>,
    /// The input joint written `i`-th (depth-first order).
    pub order: Vec<usize>,
}

/// Writes a joint tree (unit coordinates, parents before children, one root) as tokens.
/// Children are visited in the order of their binned coordinates, so the sequence does not
/// depend on the file's joint order. Returns `None` for an empty or rootless tree or one with
/// more than one root.
pub fn encode_skeleton(positions: &[Vector3<f32>], parents: &[Option<usize>]) -> Option<SkeletonTokens> {
    let roots: Vec<usize> = (0..parents.len()).filter(|&j| parents[j].is_none()).collect();
    if roots.len() != 1 || parents.iter().enumerate().any(|(j, p)| p.is_some_and(|p| p >= j)) {
        return None;
    }
    let mut children = vec![Vec::new(); parents.len()];
    for (j, p) in parents.iter().enumerate() {
        if let Some(p) = p {
            children[*p].push(j);
        }
    }
    for c in &mut children {
        c.sort_by_key(|&k| {
            let b = bins(&positions[k]);
            (b[1], b[0], b[2], k)
        });
    }
    let mut tokens = vec![BOS, CLASS];
    let mut order = Vec::with_capacity(parents.len());
    let mut stack = vec![roots[0]];
    while let Some(j) = stack.pop() {
        let follows_parent = match (parents[j], order.last()) {
            (Some(p), Some(&last)) => p == last,
            (None, _) => true,
            _ => false,
        };
        if !follows_parent {
            tokens.push(BRANCH);
            tokens.extend(bins(&positions[parents[j]?]));
        }
        tokens.extend(bins(&positions[j]));
        order.push(j);
        stack.extend(children[j].iter().rev());
    }
    tokens.push(EOS);
    Some(SkeletonTokens { tokens, order })
}

/// A decoded joint tree in unit coordinates (parents first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecodedSkeleton {
    pub positions: Vec<Vector3<f32>>,
    pub parents: Vec<Option<usize>>,
}

/// Reads a skeleton token sequence (with or without `BOS CLASS` and `EOS`) back into joints.
/// Fails on a sequence the grammar would not have produced.
pub fn decode_skeleton(tokens: &[u32]) -> Result<DecodedSkeleton, String> {
    let grammar = parse(tokens, usize::MAX)?;
    if !grammar.is_complete_joint() && !grammar.is_done() {
        return Err("the sequence stops inside a joint".into());
    }
    Ok(grammar.into_skeleton())
}

/// Runs the grammar (with a joint limit) over a sequence, with or without `BOS CLASS`;
/// fails at the first token it does not allow.
pub fn parse(tokens: &[u32], max_joints: usize) -> Result<Grammar, String> {
    let mut grammar = Grammar::new(max_joints);
    let body = tokens.strip_prefix(&[BOS, CLASS]).unwrap_or(tokens);
    for &t in body {
        if !grammar.allows(t) {
            return Err(format!("token {t} not allowed after {} joints", grammar.joints()));
        }
        grammar.push(t);
    }
    Ok(grammar)
}

/// What the decoder is in the middle of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between joints: a joint, a branch or the end may come.
    Between,
    /// Writing coordinates: `left` more, of which the first `parent_left` are the parent's.
    Coords {
        left: usize,
        parent_left: usize,
    },
    Done,
}

/// The skeleton grammar as a state machine over the tokens after `BOS CLASS`, building the
/// joint tree as it goes.
#[derive(Debug, Clone)]
pub struct Grammar {
    phase: Phase,
    max_joints: usize,
    current: Vec<u32>,
    parent_coords: Option<Vector3<f32>>,
    skeleton: DecodedSkeleton,
}

impl Grammar {
    /// A grammar that forces `EOS` once `max_joints` joints are written.
    pub fn new(max_joints: usize) -> Grammar {
        Grammar {
            phase: Phase::Coords { left: 3, parent_left: 0 },
            max_joints: max_joints.max(1),
            current: Vec::new(),
            parent_coords: None,
            skeleton: DecodedSkeleton::default(),
        }
    }

    pub fn joints(&self) -> usize {
        self.skeleton.positions.len()
    }

    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    fn is_complete_joint(&self) -> bool {
        self.phase == Phase::Between
    }

    /// Whether token `t` may come next.
    pub fn allows(&self, t: u32) -> bool {
        match self.phase {
            Phase::Done => false,
            Phase::Coords { .. } => t < COORD_BINS,
            Phase::Between => {
                let room = self.joints() < self.max_joints;
                (room && (t < COORD_BINS || t == BRANCH)) || t == EOS
            }
        }
    }

    /// The role of the next token: 0 free choice, 1-3 a joint's x/y/z, 4-6 a parent's x/y/z,
    /// 7 nothing (done).
    pub fn next_role(&self) -> usize {
        match self.phase {
            Phase::Between => 0,
            Phase::Coords { parent_left, .. } if parent_left > 0 => 4 + (3 - parent_left),
            Phase::Coords { left, .. } => 1 + (3 - left.min(3)),
            Phase::Done => 7,
        }
    }

    /// Appends an allowed token.
    pub fn push(&mut self, t: u32) {
        match (self.phase, t) {
            (Phase::Between, EOS) => self.phase = Phase::Done,
            (Phase::Between, BRANCH) => self.phase = Phase::Coords { left: 6, parent_left: 3 },
            (Phase::Between, t) => {
                self.current = vec![t];
                self.phase = Phase::Coords { left: 2, parent_left: 0 };
            }
            (Phase::Coords { left, parent_left }, t) => {
                self.current.push(t);
                if parent_left == 1 {
                    self.parent_coords = Some(self.take_point());
                }
                if left == 1 {
                    let p = self.take_point();
                    self.add_joint(p);
                    self.phase = Phase::Between;
                } else {
                    self.phase = Phase::Coords { left: left - 1, parent_left: parent_left.saturating_sub(1) };
                }
            }
            (Phase::Done, _) => {}
        }
    }

    fn take_point(&mut self) -> Vector3<f32> {
        let c = std::mem::take(&mut self.current);
        Vector3::new(unbin(c[0]), unbin(c[1]), unbin(c[2]))
    }

    fn add_joint(&mut self, p: Vector3<f32>) {
        let s = &mut self.skeleton;
        let parent = match self.parent_coords.take() {
            // The latest earlier joint nearest to the written parent position.
            Some(q) => (0..s.positions.len()).rev().min_by(|&a, &b| (s.positions[a] - q).norm().total_cmp(&(s.positions[b] - q).norm())),
            None => s.positions.len().checked_sub(1),
        };
        s.positions.push(p);
        s.parents.push(parent);
    }

    /// The tree written so far.
    pub fn skeleton(&self) -> &DecodedSkeleton {
        &self.skeleton
    }

    pub fn into_skeleton(self) -> DecodedSkeleton {
        self.skeleton
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (Vec<Vector3<f32>>, Vec<Option<usize>>) {
        // Hips with a spine and two legs: the second leg needs a branch.
        let p = [[0.0, 0.0, 0.0], [0.0, 0.5, 0.0], [-0.2, -0.1, 0.0], [-0.2, -0.8, 0.0], [0.2, -0.1, 0.0], [0.2, -0.8, 0.1]];
        let parents = vec![None, Some(0), Some(0), Some(2), Some(0), Some(4)];
        (p.iter().map(|a| Vector3::from(*a)).collect(), parents)
    }

    #[test]
    fn skeleton_round_trips_within_a_bin() {
        let (p, parents) = tree();
        let t = encode_skeleton(&p, &parents).unwrap();
        assert_eq!(t.tokens[..2], [BOS, CLASS]);
        assert_eq!(*t.tokens.last().unwrap(), EOS);
        // Root, 5 joints; two of the three children of the hips need a branch.
        assert_eq!(t.tokens.len(), 2 + 6 * 3 + 2 * 4 + 1);
        let d = decode_skeleton(&t.tokens).unwrap();
        assert_eq!(d.positions.len(), 6);
        for (i, &j) in t.order.iter().enumerate() {
            assert!((d.positions[i] - p[j]).amax() <= 1.0 / COORD_BINS as f32 + 1e-6);
            let want = parents[j].map(|pj| t.order.iter().position(|&o| o == pj).unwrap());
            assert_eq!(d.parents[i], want, "joint {j}");
        }
    }

    #[test]
    fn grammar_rejects_what_it_would_not_write() {
        assert!(decode_skeleton(&[BOS, CLASS, EOS]).is_err(), "no joint");
        assert!(decode_skeleton(&[BOS, CLASS, 1, 2]).is_err(), "stops inside a joint");
        assert!(decode_skeleton(&[BOS, CLASS, 1, 2, 3, BRANCH, EOS]).is_err(), "branch without coordinates");
        let mut g = Grammar::new(1);
        [1, 2, 3].into_iter().for_each(|t| g.push(t));
        assert!(!g.allows(4) && !g.allows(BRANCH) && g.allows(EOS), "joint limit forces the end");
    }

    #[test]
    fn bins_cover_the_unit_box() {
        assert_eq!(bin(-1.0), 0);
        assert_eq!(bin(1.0), COORD_BINS - 1);
        for b in [0, 17, 128, 255] {
            assert_eq!(bin(unbin(b)), b);
        }
    }
}
