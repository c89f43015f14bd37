//! Bone segments in mesh (bind) space: a joint's weights cover the bone that starts at the
//! joint and runs to its child; a leaf joint gets a stub along its parent's direction.

use nalgebra::Vector3;

use crate::skeleton::Skeleton;
use crate::transform::translation;
use crate::Mat4;

/// A segment `a..b` owned by `joint` (several when the joint has several children).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoneSegment {
    pub joint: usize,
    pub a: Vector3<f32>,
    pub b: Vector3<f32>,
}

impl BoneSegment {
    /// Distance from `p` to the segment.
    pub fn distance(&self, p: &Vector3<f32>) -> f32 {
        (p - self.closest_point(p)).norm()
    }

    /// The point of the segment nearest to `p`.
    pub fn closest_point(&self, p: &Vector3<f32>) -> Vector3<f32> {
        let ab = self.b - self.a;
        let len2 = ab.norm_squared();
        let t = if len2 > 0.0 { ((p - self.a).dot(&ab) / len2).clamp(0.0, 1.0) } else { 0.0 };
        self.a + ab * t
    }

    /// Points along the segment no further apart than `spacing`.
    pub fn samples(&self, spacing: f32) -> impl Iterator<Item = Vector3<f32>> + '_ {
        let n = (((self.b - self.a).norm() / spacing.max(1e-9)).ceil() as usize).clamp(1, 10_000);
        (0..=n).map(move |i| self.a + (self.b - self.a) * (i as f32 / n as f32))
    }
}

/// Joint positions in mesh space at bind time.
pub fn bind_positions(skeleton: &Skeleton) -> Vec<Vector3<f32>> {
    skeleton.model_from_joints_bind().iter().map(translation).collect()
}

/// Segments of every deforming joint. A leaf joint's stub points at the centroid of the
/// vertices nearer to it than to any other bone (so a leg whose joint is a leaf at the hip
/// grows down the leg); with too few such vertices it extends the parent bone by
/// `leaf_fraction` of its length.
pub fn segments(skeleton: &Skeleton, leaf_fraction: f32, positions: &[[f32; 3]]) -> Vec<BoneSegment> {
    segments_with(skeleton, leaf_fraction, false, positions)
}

/// [`segments`], and with `axis_leaves`, when the skeleton follows Blender's convention (each
/// joint's children lie along its local +Y, see [`bones_along_y`]), a leaf's stub runs along
/// its own +Y for its parent bone's length, as Blender's bones do.
pub fn segments_with(skeleton: &Skeleton, leaf_fraction: f32, axis_leaves: bool, positions: &[[f32; 3]]) -> Vec<BoneSegment> {
    let model = skeleton.model_from_joints_bind();
    let pos: Vec<Vector3<f32>> = model.iter().map(translation).collect();
    let mut out = Vec::new();
    let mut leaves = Vec::new();
    for (j, _) in skeleton.joints.iter().enumerate().filter(|(_, jt)| jt.deform) {
        let children: Vec<usize> = skeleton.children(j).collect();
        if children.is_empty() {
            leaves.push(j);
        }
        out.extend(children.iter().map(|&c| BoneSegment { joint: j, a: pos[j], b: pos[c] }));
    }
    let stubs = if axis_leaves && bones_along_y(skeleton, &model) {
        axis_stubs(skeleton, &model, &pos, &leaves)
    } else {
        centroid_stubs(skeleton, &pos, &leaves, &out, leaf_fraction, positions)
    };
    out.extend(stubs);
    out
}

/// Leaf stubs aimed at the centroid of the vertices nearest to each leaf (see [`segments`]);
/// `bones`: the joint-to-child segments.
fn centroid_stubs(
    skeleton: &Skeleton,
    pos: &[Vector3<f32>],
    leaves: &[usize],
    bones: &[BoneSegment],
    leaf_fraction: f32,
    positions: &[[f32; 3]],
) -> Vec<BoneSegment> {
    let points: Vec<BoneSegment> = leaves.iter().map(|&j| BoneSegment { joint: j, a: pos[j], b: pos[j] }).collect();
    let centroids = leaf_centroids(bones, &points, positions);
    points
        .iter()
        .zip(centroids)
        .map(|(leaf, centroid)| {
            let j = leaf.joint;
            let parent_len = skeleton.joints[j].parent.map_or(0.0, |p| (pos[j] - pos[p]).norm());
            let stub = match centroid {
                Some(c) if (c - pos[j]).norm() > 1e-6 => {
                    let d = (c - pos[j]) * 2.0;
                    let cap = 3.0 * parent_len.max(1e-6);
                    if d.norm() > cap && parent_len > 0.0 {
                        d * (cap / d.norm())
                    } else {
                        d
                    }
                }
                _ => skeleton.joints[j].parent.map_or(Vector3::zeros(), |p| (pos[j] - pos[p]) * leaf_fraction),
            };
            BoneSegment { joint: j, a: pos[j], b: pos[j] + stub }
        })
        .collect()
}

/// For each leaf point, the centroid of the vertices nearest to it (at least 3), if any.
fn leaf_centroids(bones: &[BoneSegment], leaves: &[BoneSegment], positions: &[[f32; 3]]) -> Vec<Option<Vector3<f32>>> {
    let mut sums = vec![(Vector3::zeros(), 0usize); leaves.len()];
    for p in positions {
        let p = Vector3::from(*p);
        let nearest_bone = bones.iter().map(|b| b.distance(&p)).fold(f32::MAX, f32::min);
        let best = leaves.iter().enumerate().map(|(i, l)| (i, l.distance(&p))).min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((i, d)) = best.filter(|(_, d)| *d < nearest_bone) {
            let _ = d;
            sums[i].0 += p;
            sums[i].1 += 1;
        }
    }
    sums.into_iter().map(|(s, n)| (n >= 3).then(|| s / n as f32)).collect()
}

/// True when at least 80 % of the parent-to-child offsets of deforming joints point along the
/// parent's local +Y axis at bind time (Blender's bones, and files exported from it); `model`:
/// the skeleton's model-from-joint matrices at bind time.
fn bones_along_y(skeleton: &Skeleton, model: &[Mat4]) -> bool {
    let (mut along, mut total) = (0, 0);
    for (c, joint) in skeleton.joints.iter().enumerate() {
        let Some(p) = joint.parent.filter(|&p| skeleton.joints[p].deform) else { continue };
        let offset = translation(&model[c]) - translation(&model[p]);
        let y = y_axis(&model[p]);
        if offset.norm() > 1e-9 && y.norm() > 1e-9 {
            total += 1;
            along += usize::from(offset.normalize().dot(&y.normalize()) > 0.98);
        }
    }
    total > 0 && along * 5 >= total * 4
}

fn y_axis(m: &Mat4) -> Vector3<f32> {
    Vector3::new(m[(0, 1)], m[(1, 1)], m[(2, 1)])
}

/// Leaf stubs along each leaf joint's +Y, as long as its parent bone (the mean bone length for
/// a joint without a deforming parent).
fn axis_stubs(skeleton: &Skeleton, model: &[Mat4], pos: &[Vector3<f32>], leaves: &[usize]) -> Vec<BoneSegment> {
    let lengths: Vec<f32> = skeleton
        .joints
        .iter()
        .enumerate()
        .filter_map(|(j, jt)| jt.parent.map(|p| (pos[j] - pos[p]).norm()))
        .filter(|&l| l > 1e-9)
        .collect();
    let mean = lengths.iter().sum::<f32>() / lengths.len().max(1) as f32;
    leaves
        .iter()
        .map(|&j| {
            let parent_len = skeleton.joints[j].parent.filter(|&p| skeleton.joints[p].deform).map_or(0.0, |p| (pos[j] - pos[p]).norm());
            let len = if parent_len > 1e-9 { parent_len } else { mean };
            let dir = y_axis(&model[j]).try_normalize(1e-9).unwrap_or_else(Vector3::y);
            BoneSegment { joint: j, a: pos[j], b: pos[j] + dir * len }
        })
        .collect()
}
