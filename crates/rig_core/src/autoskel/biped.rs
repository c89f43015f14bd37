//! The biped template, fitted to the voxelised solid by cross-sections:
//! legs are followed from the two feet up to the crotch where they join, arms from the hands
//! inwards to where they join the torso, and the spine runs up the middle of the torso
//! between them. Joints are named in the Unreal mannequin's scheme (`pelvis`, `spine_01`,
//! `thigh_l`, `upperarm_r`, ...); left is the character's left.

use nalgebra::Vector3;
use rayon::prelude::*;

use super::slices::{Layer, Piece};
use super::JointTree;
use crate::autoskin::voxel::VoxelGrid;

/// The character's axes in grid axes.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub up: usize,
    pub up_sign: f32,
    pub lateral: usize,
    pub front: usize,
    pub front_sign: f32,
    /// Mesh-space coordinate of the symmetry plane along `lateral`.
    pub centre: f32,
    /// +1 when the character's left is towards +lateral.
    pub left_sign: f32,
    /// Share of the solid whose mirror image across the symmetry plane is solid too.
    pub symmetry: f32,
}

impl Frame {
    /// The frame for `up` (an axis index and sign): the lateral axis is whichever of the other
    /// two the solid is more mirror-symmetric across; the front follows the glTF convention
    /// (+Z when Y is up, -Y when Z is up).
    pub fn for_up(grid: &VoxelGrid, up: usize, up_sign: f32) -> Frame {
        let others: Vec<usize> = (0..3).filter(|&a| a != up).collect();
        let solid = SolidCentres::of(grid);
        let scored: Vec<(usize, f32, f32)> = others
            .iter()
            .map(|&a| {
                let centre = best_mirror_centre(&solid, a);
                (a, centre, solid.mirror_score(a, centre))
            })
            .collect();
        // Characters face along Z in glTF and Blender files, so X is their left-right axis
        // unless the other axis is clearly the more symmetric one (props in one hand make X
        // less than perfect).
        let (x, other) = if scored[0].0 == 0 { (scored[0], scored[1]) } else { (scored[1], scored[0]) };
        let margin = if x.0 == 0 { 0.15 } else { 0.0 };
        let best = if x.2 + margin >= other.2 { x } else { other };
        let lateral = best.0;
        let front = others.into_iter().find(|&a| a != lateral).unwrap_or(0);
        let front_sign = match (up, front) {
            (2, 1) => -1.0,
            _ => 1.0,
        };
        let mut u = Vector3::zeros();
        u[up] = up_sign;
        let mut f = Vector3::zeros();
        f[front] = front_sign;
        let left_sign = u.cross(&f)[lateral].signum();
        Frame { up, up_sign, lateral, front, front_sign, centre: best.1, left_sign, symmetry: best.2 }
    }

    pub(super) fn height(&self, p: &Vector3<f32>) -> f32 {
        p[self.up] * self.up_sign
    }

    /// The point of `track` whose height is nearest to `h`.
    pub(super) fn nearest_at_height(&self, track: &[Vector3<f32>], h: f32) -> Option<Vector3<f32>> {
        track.iter().min_by(|a, b| (self.height(a) - h).abs().total_cmp(&(self.height(b) - h).abs())).copied()
    }

    /// Fails, saying why, when the shape is too little mirror-symmetric for a template.
    pub(super) fn check_symmetric(&self) -> Result<(), String> {
        if self.symmetry < MIN_SYMMETRY {
            return Err(format!("the shape is not left/right symmetric ({:.0}% mirrors onto itself)", 100.0 * self.symmetry));
        }
        Ok(())
    }

    /// `p` with its height set to `h`.
    /// `p` moved along the lateral axis to `x`.
    pub(super) fn at_lateral(&self, mut p: Vector3<f32>, x: f32) -> Vector3<f32> {
        p[self.lateral] = x;
        p
    }

    pub(super) fn at_height(&self, p: Vector3<f32>, h: f32) -> Vector3<f32> {
        let mut q = p;
        q[self.up] = h * self.up_sign;
        q
    }
}

/// The plane across `axis` that the solid is most mirror-symmetric about, searched within
/// twelve voxels of the solid's mean (a sword or a shield held out to one side pulls the mean
/// off the body's middle: KayKit's Knight).
fn best_mirror_centre(solid: &SolidCentres, axis: usize) -> f32 {
    let mean = solid.mean(axis);
    let candidates: Vec<f32> = (-24..=24).map(|k| mean + k as f32 * 0.5 * solid.grid.size).collect();
    let scores: Vec<f32> = candidates.par_iter().map(|&c| solid.mirror_score(axis, c)).collect();
    // Ties (a symmetric shape scores the same a half voxel either side) go to the mean.
    candidates
        .iter()
        .zip(scores)
        .map(|(&c, score)| (score, -(c - mean).abs(), c))
        .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map_or(mean, |(_, _, c)| c)
}

/// The centres of a grid's solid voxels, listed once for the many mirror tests of a frame.
struct SolidCentres<'a> {
    grid: &'a VoxelGrid,
    centres: Vec<Vector3<f32>>,
}

impl<'a> SolidCentres<'a> {
    fn of(grid: &'a VoxelGrid) -> Self {
        SolidCentres { grid, centres: grid.solid_centres() }
    }

    /// Mean coordinate of the solid along `axis`.
    fn mean(&self, axis: usize) -> f32 {
        let sum: f64 = self.centres.iter().map(|p| p[axis] as f64).sum();
        (sum / self.centres.len().max(1) as f64) as f32
    }

    /// Share of solid voxels whose mirror image across the plane `axis = centre` is solid too.
    fn mirror_score(&self, axis: usize, centre: f32) -> f32 {
        let grid = self.grid;
        let hit = self
            .centres
            .iter()
            .filter(|c| {
                let mut p = **c;
                p[axis] = 2.0 * centre - p[axis];
                grid.contains(&p) && grid.solid[grid.index(grid.cell_of(&p))]
            })
            .count();
        hit as f32 / self.centres.len().max(1) as f32
    }
}

/// Height of the highest solid voxel.
pub(super) fn solid_top(grid: &VoxelGrid, f: &Frame) -> f32 {
    grid.solid.iter().enumerate().filter(|(_, s)| **s).map(|(i, _)| f.height(&grid.center(grid.coords(i)))).fold(f32::MIN, f32::max)
}

/// Layer indices across `axis`, starting from the `sign` < 0 end (the bottom when `sign` > 0).
pub(super) fn layers_from(grid: &VoxelGrid, axis: usize, sign: f32) -> Vec<usize> {
    let n = grid.dims[axis];
    if sign > 0.0 {
        (0..n).collect()
    } else {
        (0..n).rev().collect()
    }
}

/// A leg followed from the ground up: its centroid in each layer, lowest first.
struct Leg {
    track: Vec<Vector3<f32>>,
    /// The foot's furthest point towards the front (near the ground).
    toe_tip: Vector3<f32>,
}

/// The two legs (left, right) and the crotch height where they join.
fn find_legs(grid: &VoxelGrid, f: &Frame) -> Result<([Leg; 2], f32), String> {
    let order = layers_from(grid, f.up, f.up_sign);
    let mut first_solid: Option<usize> = None;
    let mut legs: Option<[Piece; 2]> = None;
    let mut tracks: [Vec<Vector3<f32>>; 2] = [Vec::new(), Vec::new()];
    let mut toes = [Vector3::zeros(); 2];
    for (k, &i) in order.iter().enumerate() {
        let layer = Layer::new(grid, f.up, i);
        let Some([left, right]) = &legs else {
            if layer.pieces.is_empty() && first_solid.is_none() {
                continue;
            }
            let start = *first_solid.get_or_insert(k);
            if k > start + order.len() / 5 {
                return Err("no two separate feet near the ground (four legs, a robe or a base?)".into());
            }
            legs = feet(grid, f, &layer.pieces);
            if let Some(pair) = &legs {
                let below: Vec<usize> = order[start..k].iter().rev().copied().collect();
                let lower = feet_below(grid, f, &below, pair);
                for s in 0..2 {
                    tracks[s].extend(lower[s].iter().rev().map(|p| p.centroid));
                    tracks[s].push(pair[s].centroid);
                    toes[s] = toe_tip(grid, f, lower[s].iter().chain([&pair[s]]));
                }
            }
            continue;
        };
        match (layer.follow(left), layer.follow(right)) {
            (Some(a), Some(b)) if a == b && legs_touch(grid, f, left, right, &layer.pieces[a], i) => {
                // Feet or knees touching: follow each half of the joined piece.
                let (l, r) = split_by_plane(grid, f, &layer.pieces[a]);
                if l.cells.is_empty() || r.cells.is_empty() {
                    return Err("a leg crosses the middle of the body".into());
                }
                tracks[0].push(l.centroid);
                tracks[1].push(r.centroid);
                legs = Some([l, r]);
            }
            (Some(a), Some(b)) if a == b => {
                let crotch = f.height(&layer.pieces[a].centroid);
                let [l, r] = tracks;
                return Ok(([Leg { track: l, toe_tip: toes[0] }, Leg { track: r, toe_tip: toes[1] }], crotch));
            }
            (Some(a), Some(b)) => {
                tracks[0].push(layer.pieces[a].centroid);
                tracks[1].push(layer.pieces[b].centroid);
                legs = Some([layer.pieces[a].clone(), layer.pieces[b].clone()]);
            }
            _ => return Err("a leg ends before it joins the body".into()),
        }
    }
    Err(if first_solid.is_none() { "the mesh has no volume" } else { "the legs never join" }.into())
}

/// The feet's cross-sections in the layers under the lowest layer where they are apart (boots
/// that touch, feet joined at the soles), nearest first: each foot's piece followed down, the
/// piece split at the symmetry plane where both feet reach it. Stops where a side's share is
/// more than `BASE_SHARE` times the foot's area (a base or a platform under the feet).
fn feet_below(grid: &VoxelGrid, f: &Frame, below: &[usize], feet: &[Piece; 2]) -> [Vec<Piece>; 2] {
    let mut out: [Vec<Piece>; 2] = [Vec::new(), Vec::new()];
    let mut current = feet.clone();
    for &i in below {
        let layer = Layer::new(grid, f.up, i);
        let (Some(a), Some(b)) = (layer.follow(&current[0]), layer.follow(&current[1])) else { break };
        let next = if a == b {
            let (l, r) = split_by_plane(grid, f, &layer.pieces[a]);
            [l, r]
        } else {
            [layer.pieces[a].clone(), layer.pieces[b].clone()]
        };
        if next.iter().zip(feet).any(|(n, foot)| n.cells.is_empty() || n.cells.len() > BASE_SHARE * foot.cells.len()) {
            break;
        }
        for s in 0..2 {
            out[s].push(next[s].clone());
        }
        current = next;
    }
    out
}

/// Under the feet, a side's cross-section more than this many times the foot's is a base.
const BASE_SHARE: usize = 6;

/// Whether `joined`, the piece of layer `index` that both legs run into, is two legs touching
/// rather than the body: the voxel midway between the legs is empty (feet touching at the
/// heels), or the solid is notched at the symmetry plane (knees, boots or trousers pressed
/// together, a cape behind the legs).
fn legs_touch(grid: &VoxelGrid, f: &Frame, left: &Piece, right: &Piece, joined: &Piece, index: usize) -> bool {
    !between_legs_is_solid(grid, f, left, right, index) || notched(grid, f, joined)
}

/// Whether `piece` is thinner along the front axis at the symmetry plane than at half the
/// thickest column on either side of it: two legs side by side, not a torso or a robe.
fn notched(grid: &VoxelGrid, f: &Frame, piece: &Piece) -> bool {
    let centre = grid.cell_of(&f.at_lateral(piece.centroid, f.centre))[f.lateral];
    let mut depth: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    piece.cells.iter().for_each(|c| *depth.entry(c[f.lateral]).or_default() += 1);
    let thickest = |side: bool| depth.iter().filter(|(&k, _)| (k > centre) == side && k != centre).map(|(_, &d)| d).max().unwrap_or(0);
    let (a, b) = (thickest(true), thickest(false));
    let middle = depth.get(&centre).copied().unwrap_or(0);
    a >= MIN_FOOT_CELLS && b >= MIN_FOOT_CELLS && 2 * middle <= a.min(b)
}

/// Whether the voxel of layer `index` midway between the two legs' centroids is solid.
fn between_legs_is_solid(grid: &VoxelGrid, f: &Frame, left: &Piece, right: &Piece, index: usize) -> bool {
    let mid = 0.5 * (left.centroid + right.centroid);
    let mut c = grid.cell_of(&mid);
    c[f.up] = index;
    grid.contains(&mid) && grid.solid[grid.index(c)]
}

/// The piece's cells on the character's left and right of the symmetry plane.
fn split_by_plane(grid: &VoxelGrid, f: &Frame, piece: &Piece) -> (Piece, Piece) {
    let (mut l, mut r) = (Vec::new(), Vec::new());
    for c in &piece.cells {
        if (grid.center(*c)[f.lateral] - f.centre) * f.left_sign > 0.0 {
            l.push(*c);
        } else {
            r.push(*c);
        }
    }
    (Piece::new(grid, l), Piece::new(grid, r))
}

/// The feet among the lowest layer's pieces: one on each side of the symmetry plane, none
/// crossing it, not two big ones on a side (four legs). `None` while only one foot shows.
fn feet(grid: &VoxelGrid, f: &Frame, pieces: &[Piece]) -> Option<[Piece; 2]> {
    let mut sides: [Vec<&Piece>; 2] = [Vec::new(), Vec::new()];
    let mut halves: Vec<Piece> = Vec::new();
    // Stray voxels of the bottom faces, a cape's hem or a weapon's tip are not feet.
    let largest = pieces.iter().map(|p| p.cells.len()).max().unwrap_or(0);
    for p in pieces.iter().filter(|p| p.cells.len() >= MIN_FOOT_CELLS && p.cells.len() * 5 >= largest) {
        if p.crosses(grid, f.lateral, f.centre) {
            if !notched(grid, f, p) {
                // One piece across the middle (a robe, a base): look higher.
                return None;
            }
            // Feet pressed together: one on each side of the plane.
            let (l, r) = split_by_plane(grid, f, p);
            halves.push(l);
            halves.push(r);
            continue;
        }
        sides[if (p.centroid[f.lateral] - f.centre) * f.left_sign > 0.0 { 0 } else { 1 }].push(p);
    }
    for h in halves.iter().filter(|h| !h.cells.is_empty()) {
        sides[if (h.centroid[f.lateral] - f.centre) * f.left_sign > 0.0 { 0 } else { 1 }].push(h);
    }
    // Pieces of one foot (a sole and a boot) overlap or nearly touch and are merged; a side
    // with two separate big pieces (heel and toe of a curved sole, or two legs) waits for a
    // higher layer.
    let mut feet: Vec<Piece> = Vec::new();
    for side in &mut sides {
        side.sort_by_key(|p| std::cmp::Reverse(p.cells.len()));
        let first = side.first()?;
        let (lo, hi) = first.range(grid, f.front);
        let mut cells = first.cells.clone();
        for p in side.iter().skip(1) {
            let (plo, phi) = p.range(grid, f.front);
            if (plo - hi).max(lo - phi) <= 2.0 * grid.size {
                cells.extend_from_slice(&p.cells);
            } else if p.cells.len() * 3 >= first.cells.len() {
                return None;
            }
        }
        feet.push(Piece::new(grid, cells));
    }
    Some([feet[0].clone(), feet[1].clone()])
}

/// The point of a foot's cross-sections furthest towards the front.
fn toe_tip<'a>(grid: &VoxelGrid, f: &Frame, foot: impl Iterator<Item = &'a Piece>) -> Vector3<f32> {
    foot.flat_map(|p| p.cells.iter())
        .map(|c| grid.center(*c))
        .max_by(|a, b| (a[f.front] * f.front_sign).total_cmp(&(b[f.front] * f.front_sign)))
        .unwrap_or_default()
}

/// An arm followed from its outer end inwards: centroids from the tip to the shoulder.
/// `height`: the character's, ground to top.
fn find_arm(grid: &VoxelGrid, f: &Frame, side: f32, height: f32) -> Result<Vec<Vector3<f32>>, String> {
    // Start at the outer end of this side: layers across the lateral axis, outside first.
    let outward = side * f.left_sign;
    let order = layers_from(grid, f.lateral, -outward);
    let mut current: Option<Piece> = None;
    let mut track: Vec<Vector3<f32>> = Vec::new();
    let mut sizes: Vec<usize> = Vec::new();
    let mut spans: Vec<f32> = Vec::new();
    for &i in &order {
        let layer = Layer::new(grid, f.lateral, i);
        let next = match &current {
            None => layer.pieces.iter().max_by_key(|p| p.cells.len()).cloned(),
            Some(prev) => match layer.follow(prev) {
                Some(k) => Some(layer.pieces[k].clone()),
                // What ended was not the arm (a weapon held apart from the hand): start again.
                None => {
                    track.clear();
                    sizes.clear();
                    spans.clear();
                    layer.pieces.iter().max_by_key(|p| p.cells.len()).cloned()
                }
            },
        };
        let Some(mut piece) = next else { continue };
        if (piece.centroid[f.lateral] - f.centre) * outward <= 0.0 {
            return Err("no arm separates from the body".into());
        }
        let (lo, hi) = piece.range(grid, f.up);
        let mut span = hi - lo + grid.size;
        if let (Some(prev), true) = (&current, track.len() >= 3) {
            let mut sorted = sizes.clone();
            sorted.sort_unstable();
            let median = sorted[sorted.len() / 2];
            // The arm's widest cross-section before the last one: a slim torso that widens
            // over two layers where the arm joins it (Quaternius' cyberpunk character)
            // would otherwise raise the bar as it grows.
            let widest = spans[..spans.len() - 1].iter().copied().fold(0.0, f32::max);
            // The torso: the cross-section twice the arm's usual area (a prop in the hand
            // inflates that; three times missed KayKit's Knight), much taller, and tall for
            // the character (a palm after separate fingers is not).
            if piece.cells.len() > 2 * median && span > 1.8 * widest && span > MIN_TORSO_SPAN * height {
                let above = height_range(grid, f, &piece).1 - height_range(grid, f, prev).1;
                if above <= ABOVE_SHOULDER * widest || !slopes_down(f, &track) {
                    return Ok(track);
                }
                // An arm slanting down (an A-pose) with solid rising well above it: a hand or
                // an elbow against the hip or the waist, not the shoulder (a level arm under
                // a big head is). Keep following the arm's part.
                piece = beside(grid, f, &piece, prev);
                if piece.cells.is_empty() {
                    continue;
                }
                let (lo, hi) = piece.range(grid, f.up);
                span = hi - lo + grid.size;
            }
        }
        track.push(piece.centroid);
        sizes.push(piece.cells.len());
        spans.push(span);
        current = Some(piece);
    }
    Err("no arm separates from the body".into())
}

/// Whether the arm followed so far (`track`, from its outer end in) rises towards the body
/// by more than 20 degrees.
fn slopes_down(f: &Frame, track: &[Vector3<f32>]) -> bool {
    let (Some(first), Some(last)) = (track.first(), track.last()) else { return false };
    f.height(last) - f.height(first) > 0.36 * (last[f.lateral] - first[f.lateral]).abs()
}

/// The torso's cross-section where an arm joins it is at least this share of the height.
const MIN_TORSO_SPAN: f32 = 0.15;
/// At the shoulder the torso rises at most this many arm thicknesses above the arm.
const ABOVE_SHOULDER: f32 = 2.0;

/// The cells of `joined` (an arm run into a leg) within a voxel below to two above the
/// heights `arm` (the arm's piece in the previous layer) spans: an arm rises towards the
/// shoulder.
fn beside(grid: &VoxelGrid, f: &Frame, joined: &Piece, arm: &Piece) -> Piece {
    let (lo, hi) = height_range(grid, f, arm);
    let cells = joined.cells.iter().copied().filter(|c| (lo - grid.size..=hi + 2.0 * grid.size).contains(&f.height(&grid.center(*c))));
    Piece::new(grid, cells.collect())
}

/// The lowest and highest heights of `piece`'s voxel centres.
fn height_range(grid: &VoxelGrid, f: &Frame, piece: &Piece) -> (f32, f32) {
    piece.cells.iter().map(|c| f.height(&grid.center(*c))).fold((f32::MAX, f32::MIN), |(lo, hi), h| (lo.min(h), hi.max(h)))
}

/// Length of the polyline through `points`.
pub(super) fn length(points: &[Vector3<f32>]) -> f32 {
    points.windows(2).map(|w| (w[1] - w[0]).norm()).sum()
}

/// The point at `fraction` of the polyline's length, measured from its first point.
pub(super) fn along(points: &[Vector3<f32>], fraction: f32) -> Vector3<f32> {
    let mut left = fraction.clamp(0.0, 1.0) * length(points);
    for w in points.windows(2) {
        let len = (w[1] - w[0]).norm();
        if left <= len && len > 0.0 {
            return w[0] + (w[1] - w[0]) * (left / len);
        }
        left -= len;
    }
    points.last().copied().unwrap_or_else(Vector3::zeros)
}

/// Centroid of the torso at height `h`: the solid in that layer within `half_width` of the
/// symmetry plane (so arms hanging beside it do not pull it sideways).
fn torso_centre(grid: &VoxelGrid, f: &Frame, h: f32, half_width: f32, fallback: Vector3<f32>) -> Vector3<f32> {
    let probe = f.at_height(fallback, h);
    if !grid.contains(&probe) {
        return probe;
    }
    let layer = Layer::new(grid, f.up, grid.cell_of(&probe)[f.up]);
    layer.centroid_where(grid, |p| (p[f.lateral] - f.centre).abs() <= half_width).map_or(probe, |c| f.at_height(c, h))
}

/// Joint names of the template, parents first (see `fit`): a non-deforming `root` on the
/// ground under the pelvis (Unreal's mannequin has it), then the deforming joints.
pub const NAMES: [&str; 23] = [
    "root",
    "pelvis",
    "spine_01",
    "spine_02",
    "spine_03",
    "neck_01",
    "head",
    "clavicle_l",
    "upperarm_l",
    "lowerarm_l",
    "hand_l",
    "clavicle_r",
    "upperarm_r",
    "lowerarm_r",
    "hand_r",
    "thigh_l",
    "calf_l",
    "foot_l",
    "ball_l",
    "thigh_r",
    "calf_r",
    "foot_r",
    "ball_r",
];

const PARENTS: [Option<usize>; 23] = [
    None,
    Some(0),
    Some(1),
    Some(2),
    Some(3),
    Some(4),
    Some(5),
    Some(4),
    Some(7),
    Some(8),
    Some(9),
    Some(4),
    Some(11),
    Some(12),
    Some(13),
    Some(1),
    Some(15),
    Some(16),
    Some(17),
    Some(1),
    Some(19),
    Some(20),
    Some(21),
];

/// Indices in [`NAMES`] of the hands (left, right).
pub const HANDS: [usize; 2] = [10, 14];

/// Why the template does not fit, and how far the fit got: `progress` counts the stages
/// passed (0: symmetry or legs failed, 1: the left arm, 2: the right arm, 3: the proportions).
/// A prop held out in one hand stops the fit at that side's arm.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub progress: u8,
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// The fitted template and each arm's outer end (left, right): where the fingers or the
/// mitten end.
pub struct Fitted {
    pub tree: JointTree,
    pub arm_tips: [Vector3<f32>; 2],
}

/// Pieces of the lowest layers smaller than this are not feet (both templates).
pub(super) const MIN_FOOT_CELLS: usize = 3;
/// Shapes less mirror-symmetric than this fit neither template.
const MIN_SYMMETRY: f32 = 0.5;
/// Legs (ground to crotch, or to the body) shorter than this share of the height are not legs
/// (both templates).
pub(super) const MIN_LEG: f32 = 0.1;
/// Arms (hand to shoulder) shorter than this share of the height are not arms.
const MIN_ARM: f32 = 0.1;

/// Fits the biped template with `f` as the character's frame, or says why it does not fit.
pub fn fit(grid: &VoxelGrid, f: &Frame) -> Result<Fitted, Refusal> {
    let at = |progress: u8| move |reason: String| Refusal { progress, reason };
    f.check_symmetric().map_err(at(0))?;
    let ([leg_l, leg_r], crotch) = find_legs(grid, f).map_err(at(0))?;
    let ground = f.height(&leg_l.track[0]).min(f.height(&leg_r.track[0]));
    let top = solid_top(grid, f);
    let height = top - ground;
    let arm_l = find_arm(grid, f, 1.0, height).map_err(|e| at(1)(format!("left side: {e}")))?;
    let arm_r = find_arm(grid, f, -1.0, height).map_err(|e| at(2)(format!("right side: {e}")))?;
    let (Some(&shoulder_l), Some(&shoulder_r)) = (arm_l.last(), arm_r.last()) else {
        return Err(at(2)("no arm reaches the body".into()));
    };
    let shoulder = 0.5 * (f.height(&shoulder_l) + f.height(&shoulder_r));
    let body = shoulder - crotch;
    if body <= 0.1 * height {
        return Err(at(3)("the arms join the body below or at the legs".into()));
    }
    if (f.height(&shoulder_l) - f.height(&shoulder_r)).abs() > 0.25 * height {
        return Err(at(3)("the shoulders are at very different heights".into()));
    }
    let leg = crotch - ground;
    if leg < MIN_LEG * height {
        return Err(at(3)(format!("the legs are too short ({:.0}% of the height)", 100.0 * leg / height)));
    }
    if length(&arm_l).min(length(&arm_r)) < MIN_ARM * height {
        return Err(at(3)("the arms are too short".into()));
    }
    let half_width = 0.6 * (shoulder_l[f.lateral] - shoulder_r[f.lateral]).abs() * 0.5;
    let mid_hips = 0.5 * (leg_l.track.last().copied().unwrap_or_default() + leg_r.track.last().copied().unwrap_or_default());
    let spine = |t: f32| torso_centre(grid, f, crotch + t * body, half_width, mid_hips);
    let neck = spine(1.0);
    let head = torso_centre(grid, f, shoulder + 0.2 * (top - shoulder), half_width, neck);
    let pelvis = spine(0.1);
    let mut positions = vec![f.at_height(pelvis, ground), pelvis, spine(0.35), spine(0.6), spine(0.85), neck, head];
    for (arm, shoulder_point) in [(&arm_l, shoulder_l), (&arm_r, shoulder_r)] {
        let from_shoulder: Vec<Vector3<f32>> = arm.iter().rev().copied().collect();
        let clavicle = neck + (f.at_height(shoulder_point, f.height(&neck)) - neck) * 0.35;
        positions.extend([clavicle, shoulder_point, along(&from_shoulder, 0.4), along(&from_shoulder, 0.75)]);
    }
    for leg in [&leg_l, &leg_r] {
        let hip = leg.track.last().copied().unwrap_or_default();
        let thigh = f.at_height(hip, crotch + 0.05 * body);
        let height_of = |t: f32| ground + t * (crotch - ground);
        let at = |h: f32| f.nearest_at_height(&leg.track, h).unwrap_or(hip);
        let ankle = at(height_of(0.1));
        let mut ball = ankle + (leg.toe_tip - ankle) * 0.65;
        ball = f.at_height(ball, height_of(0.03));
        ball[f.lateral] = ankle[f.lateral];
        positions.extend([thigh, at(height_of(0.5)), ankle, ball]);
    }
    let arm_tips = [arm_l[0], arm_r[0]];
    Ok(Fitted { tree: JointTree { positions, parents: PARENTS.to_vec() }, arm_tips })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain definition: every cell of the grid visited, solid ones mirrored.
    fn naive_mirror_score(grid: &VoxelGrid, axis: usize, centre: f32) -> f32 {
        let (mut hit, mut n) = (0usize, 0usize);
        for i in (0..grid.solid.len()).filter(|&i| grid.solid[i]) {
            let mut p = grid.center(grid.coords(i));
            p[axis] = 2.0 * centre - p[axis];
            n += 1;
            hit += usize::from(grid.contains(&p) && grid.solid[grid.index(grid.cell_of(&p))]);
        }
        hit as f32 / n.max(1) as f32
    }

    #[test]
    fn mirror_scores_from_the_listed_solid_match_a_visit_of_every_cell() {
        // A body and one arm held out to the side: not symmetric about its mean.
        let (pos, tris) = crate::test_shapes::boxes(&[([0.0, 0.0, 0.0], [1.0, 3.0, 0.6]), ([1.0, 2.0, 0.1], [2.5, 2.4, 0.5])]);
        let grid = VoxelGrid::from_mesh(&pos, &tris, 40);
        let solid = SolidCentres::of(&grid);
        for axis in 0..3 {
            for k in -6..=6 {
                let centre = 0.5 + 0.1 * k as f32;
                assert_eq!(solid.mirror_score(axis, centre), naive_mirror_score(&grid, axis, centre), "axis {axis} centre {centre}");
            }
        }
        let best = best_mirror_centre(&solid, 0);
        assert!((best - 0.5).abs() <= grid.size, "the body's middle, not the arm's pull: {best}");
    }
}
