//! Per-(vertex, joint) geometric features: what the skin tokenizer's encoder and decoder see of
//! the shape. Everything is measured in normalised units (the mesh's longest side spans 2, as
//! in the paper's [-1, 1] box), so one model serves characters of any scale.
//!
//! The strongest features come from the geodesic voxel binder of `rig_core`: each joint's
//! distance through the solid to each vertex, and the binder's own weights (the geometric
//! prior). The learned part only has to say how this artist's weights differ from that prior.

use nalgebra::Vector3;
use rig_core::autoskin::{bones, smooth, AutoSkinOptions, SkinBinder};
use rig_core::{Cancelled, Mesh, Skeleton, Task};

/// Which geometric binder gives the prior weights the features are built on (a model is trained
/// with one and must be run with the same; its config says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SkinPrior {
    /// The inverse-distance falloff binder (sharper blends; older model configs name it).
    #[default]
    Falloff,
    /// Bone heat, the geometric default.
    Heat,
}

impl SkinPrior {
    fn options(self) -> AutoSkinOptions {
        match self {
            SkinPrior::Falloff => AutoSkinOptions::falloff(),
            SkinPrior::Heat => AutoSkinOptions::default(),
        }
    }
}

/// Features per (vertex, joint) row.
pub const FEATURES: usize = 22;

/// A joint's place in the hierarchy and its bone segments (normalised units).
#[derive(Debug, Clone)]
struct JointGeom {
    deform: bool,
    parent: Option<usize>,
    children: Vec<usize>,
    siblings: Vec<usize>,
    segments: Vec<(Vector3<f32>, Vector3<f32>)>,
    length: f32,
}

/// The shape as the tokenizer sees it for one skeleton: distances and the geometric prior.
#[derive(Debug, Clone)]
pub struct ShapeField {
    /// Normalised units per mesh unit.
    pub scale: f32,
    positions: Vec<Vector3<f32>>,
    joints: Vec<JointGeom>,
    /// Geodesic distance of each deforming joint to each vertex (normalised units).
    dist: Vec<Option<Vec<f32>>>,
    /// Per vertex, the smallest of `dist` over joints.
    d_min: Vec<f32>,
    /// The geodesic binder's weights, per vertex.
    prior: Vec<Vec<(u32, f32)>>,
    /// Connected piece of the welded surface, per vertex.
    piece: Vec<u32>,
    /// Per piece: its share of the vertices, and each joint's mean prior weight over it.
    pieces: Vec<(f32, Vec<(u32, f32)>)>,
}

impl ShapeField {
    /// Voxelises the mesh, runs the `prior` binder for `skeleton` and keeps what the features
    /// need. Fails only when `task` is cancelled.
    pub fn new(mesh: &Mesh, skeleton: &Skeleton, prior: SkinPrior, task: Task) -> Result<ShapeField, Cancelled> {
        let options = prior.options();
        let mut binder = SkinBinder::new(mesh, &options, task)?;
        let raw = binder.joint_distances(mesh, skeleton, &options, task)?;
        let prior_weights = binder.skin(mesh, skeleton, &options, task)?;
        let scale = normalising_scale(mesh);
        let dist: Vec<Option<Vec<f32>>> = raw.into_iter().map(|d| d.map(|d| d.iter().map(|x| x * scale).collect())).collect();
        let n = mesh.vertex_count();
        let mut d_min = vec![f32::MAX; n];
        for d in dist.iter().flatten() {
            d_min.iter_mut().zip(d).for_each(|(m, x)| *m = m.min(*x));
        }
        let prior: Vec<Vec<(u32, f32)>> = (0..n).map(|v| prior_weights.row_pairs(v)).collect();
        let positions = mesh.positions.iter().map(|p| Vector3::from(*p) * scale).collect();
        let joints = joint_geometry(skeleton, &mesh.positions, scale, &options);
        let piece = binder.surface_components();
        let pieces = piece_shares(&piece, &prior);
        Ok(ShapeField { scale, positions, joints, dist, d_min, prior, piece, pieces })
    }

    pub fn vertex_count(&self) -> usize {
        self.positions.len()
    }

    pub fn joint_count(&self) -> usize {
        self.joints.len()
    }

    /// Joints that receive weight (the others have no distance field).
    pub fn deforming(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.joints.len()).filter(|&j| self.dist[j].is_some())
    }

    /// The geometric prior's weight rows.
    pub fn prior_rows(&self) -> &[Vec<(u32, f32)>] {
        &self.prior
    }

    /// `d_min / d` for joint `j` at vertex `v`: 1 where `j` is the nearest bone, towards 0 far away.
    pub fn ratio(&self, j: usize, v: usize) -> f32 {
        // The small offset keeps a vertex lying on a bone (d_min = 0) at ratio 1 for that bone.
        match &self.dist[j] {
            Some(d) => ((self.d_min[v] + 1e-4) / (d[v] + 1e-4)).min(1.0),
            None => 0.0,
        }
    }

    /// Vertices where joint `j` could plausibly carry weight: near it relative to the nearest
    /// bone, or weighted by the prior (a quarter of the encoder's samples come from these).
    pub fn candidates(&self, j: usize) -> Vec<usize> {
        (0..self.vertex_count()).filter(|&v| self.ratio(j, v) > CANDIDATE_RATIO || self.prior_of(j, v) > 0.0).collect()
    }

    /// The bones that compete for vertex `v`: up to `k` deforming joints by descending
    /// `d_min / d` above [`CANDIDATE_RATIO`], plus any the prior weights there; never empty
    /// when the skeleton has a deforming joint. The decoder's softmax runs over these.
    pub fn vertex_candidates(&self, v: usize, k: usize) -> Vec<usize> {
        self.vertex_candidates_where(v, k, |_| true)
    }

    /// [`ShapeField::vertex_candidates`] among the joints `keep` accepts, at most `k + 4`.
    pub fn vertex_candidates_where(&self, v: usize, k: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
        let mut near: Vec<(usize, f32)> = self.deforming().filter(|&j| keep(j)).map(|j| (j, self.ratio(j, v))).collect();
        near.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut out: Vec<usize> =
            near.iter().take(k.max(1)).enumerate().filter(|(i, e)| *i == 0 || e.1 > CANDIDATE_RATIO).map(|(_, e)| e.0).collect();
        for &(j, _) in &self.prior[v] {
            if keep(j as usize) && !out.contains(&(j as usize)) && out.len() < k + 4 {
                out.push(j as usize);
            }
        }
        out
    }

    fn prior_of(&self, j: usize, v: usize) -> f32 {
        weight_in(&self.prior[v], j)
    }

    /// Joint `j`'s mean prior weight over the piece holding vertex `v` (1 for a piece the prior
    /// binds rigidly to `j`).
    fn piece_share(&self, j: usize, v: usize) -> f32 {
        weight_in(&self.pieces[self.piece[v] as usize].1, j)
    }

    /// The feature row of joint `j` at vertex `v`.
    pub fn features(&self, j: usize, v: usize) -> [f32; FEATURES] {
        let g = &self.joints[j];
        let d = self.dist[j].as_ref().map_or(10.0, |d| d[v]);
        let r = self.ratio(j, v);
        let p = self.positions[v];
        let (euclid, along, radial) = nearest_on_segments(&g.segments, &p);
        let max_ratio = |js: &[usize]| js.iter().map(|&k| self.ratio(k, v)).fold(0.0, f32::max);
        let parent = g.parent.filter(|&k| self.joints[k].deform);
        let others = self.prior[v].iter().filter(|e| e.0 as usize != j).map(|e| e.1).fold(0.0, f32::max);
        [
            self.prior_of(j, v),
            r,
            r.powi(4),
            r.powi(12),
            ((d - self.d_min[v]) * 5.0).min(3.0),
            d.min(3.0),
            euclid.min(3.0),
            along.clamp(-1.0, 2.0),
            radial.min(3.0),
            g.length.min(2.0),
            parent.map_or(0.0, |k| self.ratio(k, v)),
            max_ratio(&g.children),
            max_ratio(&g.siblings),
            parent.map_or(0.0, |k| self.prior_of(k, v)),
            g.children.iter().map(|&k| self.prior_of(k, v)).sum(),
            others,
            if g.children.is_empty() { 1.0 } else { 0.0 },
            if parent.is_none() { 1.0 } else { 0.0 },
            (g.children.len() as f32 / 4.0).min(2.0),
            (d / g.length.max(0.02)).min(5.0),
            self.piece_share(j, v),
            self.pieces[self.piece[v] as usize].0.sqrt(),
        ]
    }
}

/// Joint `j`'s weight in a `(joint, weight)` row, 0 when absent.
pub fn weight_in(row: &[(u32, f32)], j: usize) -> f32 {
    row.iter().find(|e| e.0 as usize == j).map_or(0.0, |e| e.1)
}

/// Below this `d_min / d` a joint is taken to have no weight at a vertex (20 times farther than
/// the nearest bone).
pub const CANDIDATE_RATIO: f32 = 0.05;

/// Per piece: the fraction of all vertices in it and each joint's mean prior weight over it.
fn piece_shares(piece: &[u32], prior: &[Vec<(u32, f32)>]) -> Vec<(f32, Vec<(u32, f32)>)> {
    let mut sizes = vec![0usize; piece.iter().map(|&p| p as usize + 1).max().unwrap_or(0)];
    piece.iter().for_each(|&p| sizes[p as usize] += 1);
    let total = piece.len().max(1) as f32;
    smooth::component_totals(piece, prior)
        .into_iter()
        .zip(sizes)
        .map(|(sums, n)| (n as f32 / total, sums.into_iter().map(|(j, w)| (j, w / n.max(1) as f32)).collect()))
        .collect()
}

/// 2 / the longest side of the mesh's box.
fn normalising_scale(mesh: &Mesh) -> f32 {
    let longest = mesh.bounds().map_or(1.0, |b| b.size().into_iter().fold(0.0, f32::max));
    2.0 / longest.max(1e-9)
}

fn joint_geometry(skeleton: &Skeleton, positions: &[[f32; 3]], scale: f32, options: &AutoSkinOptions) -> Vec<JointGeom> {
    let segs = bones::segments(skeleton, options.leaf_fraction, positions);
    let children: Vec<Vec<usize>> =
        (0..skeleton.len()).map(|j| skeleton.children(j).filter(|&c| skeleton.joints[c].deform).collect()).collect();
    (0..skeleton.len())
        .map(|j| {
            let segments: Vec<(Vector3<f32>, Vector3<f32>)> =
                segs.iter().filter(|s| s.joint == j).map(|s| (s.a * scale, s.b * scale)).collect();
            let length = segments.iter().map(|(a, b)| (b - a).norm()).fold(0.0, f32::max);
            let parent = skeleton.joints[j].parent;
            let siblings = parent.map_or(Vec::new(), |p| children[p].iter().copied().filter(|&c| c != j).collect());
            JointGeom { deform: skeleton.joints[j].deform, parent, children: children[j].clone(), siblings, segments, length }
        })
        .collect()
}

/// Distance to the nearest segment, the position along it (0 at the joint, 1 at the child,
/// unclamped) and the distance to its line.
fn nearest_on_segments(segments: &[(Vector3<f32>, Vector3<f32>)], p: &Vector3<f32>) -> (f32, f32, f32) {
    let mut best = (f32::MAX, 0.0, f32::MAX);
    for (a, b) in segments {
        let ab = b - a;
        let len2 = ab.norm_squared();
        let t = if len2 > 1e-12 { (p - a).dot(&ab) / len2 } else { 0.0 };
        let euclid = (p - (a + ab * t.clamp(0.0, 1.0))).norm();
        if euclid < best.0 {
            best = (euclid, t, (p - (a + ab * t)).norm());
        }
    }
    if best.0 == f32::MAX {
        (3.0, 0.0, 3.0)
    } else {
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_on_segments_reports_distance_along_and_radial() {
        let seg = [(Vector3::new(0.0, 0.0, 0.0), Vector3::new(0.0, 1.0, 0.0))];
        let (d, t, r) = nearest_on_segments(&seg, &Vector3::new(0.5, 2.0, 0.0));
        assert!((t - 2.0).abs() < 1e-6);
        assert!((r - 0.5).abs() < 1e-6);
        assert!((d - (0.25f32 + 1.0).sqrt()).abs() < 1e-6);
    }
}
