//! The papers' rig metrics: skeleton Chamfer distances (RigNet / MagicArticulate / Puppeteer
//! convention), skin precision / recall / L1, and vertex error under random poses.

use std::collections::HashMap;

use nalgebra::{UnitQuaternion, Vector3};

use crate::lbs::skin_positions;
use crate::mesh::Aabb;
use crate::pose::Pose;
use crate::skeleton::Skeleton;
use crate::weights::SkinWeights;

/// Predicted weights below this are zeroed before counting influences.
pub const INFLUENCE_THRESHOLD: f32 = 1e-3;

/// Skin agreement with the artist's weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SkinScores {
    pub precision: f32,
    pub recall: f32,
    /// Mean over vertices of the L1 distance between weight vectors.
    pub l1: f32,
}

/// Compares `pred` with `truth` on the same vertices. `joint_of_truth[j]` is the predicted
/// joint matching truth joint `j` (by name), or `None`; `vertex_of_truth[v]` the predicted vertex.
pub fn skin_scores(pred: &SkinWeights, truth: &SkinWeights, joint_of_truth: &[Option<u32>], vertex_of_truth: &[usize]) -> SkinScores {
    let (mut hits, mut n_pred, mut n_truth, mut l1) = (0usize, 0usize, 0usize, 0f64);
    let mut pred_to_truth: HashMap<u32, u32> = HashMap::new();
    for (t, p) in joint_of_truth.iter().enumerate() {
        if let Some(p) = p {
            pred_to_truth.insert(*p, t as u32);
        }
    }
    for (tv, &pv) in vertex_of_truth.iter().enumerate() {
        let (tj, tw) = truth.row(tv);
        let (pj, pw) = pred.row(pv);
        // Predicted influences in truth joint numbering; unmatched joints get unique ids.
        let mut pred_row: Vec<(i64, f32)> = Vec::new();
        for (&j, &w) in pj.iter().zip(pw) {
            if w >= INFLUENCE_THRESHOLD {
                let id = pred_to_truth.get(&j).map_or(-1 - j as i64, |&t| t as i64);
                pred_row.push((id, w));
            }
        }
        let truth_row: Vec<(i64, f32)> = tj.iter().zip(tw).filter(|(_, w)| **w > 0.0).map(|(&j, &w)| (j as i64, w)).collect();
        n_pred += pred_row.len();
        n_truth += truth_row.len();
        hits += pred_row.iter().filter(|(j, _)| truth_row.iter().any(|(k, _)| k == j)).count();
        let mut diff: f32 = truth_row.iter().map(|(j, w)| (w - pred_row.iter().find(|e| e.0 == *j).map_or(0.0, |e| e.1)).abs()).sum();
        diff += pred_row.iter().filter(|(j, _)| !truth_row.iter().any(|(k, _)| k == j)).map(|e| e.1).sum::<f32>();
        l1 += diff as f64;
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f32 / b as f32 };
    SkinScores { precision: ratio(hits, n_pred), recall: ratio(hits, n_truth), l1: (l1 / vertex_of_truth.len().max(1) as f64) as f32 }
}

/// Mean vertex distance, as a fraction of the bounding-box diagonal, between the artist's
/// skeleton posed with `poses` random poses and skinned by `truth` versus by `pred` (both
/// indexed by the truth skeleton's joints and the truth mesh's vertices).
pub fn posed_vertex_error(
    skeleton: &Skeleton,
    positions: &[[f32; 3]],
    truth: &SkinWeights,
    pred: &SkinWeights,
    poses: usize,
    seed: u64,
) -> f32 {
    let diag = Aabb::of_points(positions).map_or(0.0, |b| b.diagonal()).max(1e-9);
    let mut rng = SplitMix(seed);
    let mut total = 0.0f64;
    for _ in 0..poses {
        let pose = random_pose(skeleton, &mut rng, 35f32.to_radians());
        let m = pose.skinning_matrices(skeleton);
        let a = skin_positions(positions, truth, &m);
        let b = skin_positions(positions, pred, &m);
        let sum: f64 = a.iter().zip(&b).map(|(p, q)| (Vector3::from(*p) - Vector3::from(*q)).norm() as f64).sum();
        total += sum / positions.len().max(1) as f64;
    }
    (total / poses.max(1) as f64) as f32 / diag
}

/// The bind pose with every deforming joint turned by up to `max_angle` about a random axis.
pub fn random_pose(skeleton: &Skeleton, rng: &mut SplitMix, max_angle: f32) -> Pose {
    let mut pose = Pose::bind(skeleton);
    for (local, joint) in pose.local.iter_mut().zip(&skeleton.joints) {
        if !joint.deform {
            continue;
        }
        let axis = Vector3::new(rng.signed(), rng.signed(), rng.signed());
        if let Some(axis) = nalgebra::Unit::try_new(axis, 1e-6) {
            local.rotation *= UnitQuaternion::from_axis_angle(&axis, rng.unit() * max_angle);
        }
    }
    pose
}

/// Small deterministic generator (SplitMix64), so evaluations repeat exactly.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [-1, 1).
    pub fn signed(&mut self) -> f32 {
        2.0 * self.unit() - 1.0
    }

    /// Standard normal (Box-Muller).
    pub fn gaussian(&mut self) -> f32 {
        let u = (self.unit() as f64).max(1e-12);
        let v = self.unit() as f64;
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
}

/// Skeleton Chamfer distances, in units of the normalised mesh (longest side 1), x 100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SkeletonScores {
    pub cd_j2j: f32,
    pub cd_j2b: f32,
    pub cd_b2b: f32,
}

/// A bone as its two end points.
pub type Segment = (Vector3<f32>, Vector3<f32>);
/// Joint positions and bones of a skeleton.
pub type JointsAndBones = (Vec<Vector3<f32>>, Vec<Segment>);

/// Joints and bone segments of a skeleton (deforming joints; bones joint -> child).
pub fn joints_and_bones(skeleton: &Skeleton) -> JointsAndBones {
    let pos = crate::autoskin::bones::bind_positions(skeleton);
    // Joints that carry a transform only (armature roots) are not part of the rig being judged.
    let keep: Vec<usize> = (0..skeleton.len()).filter(|&j| skeleton.joints[j].deform).collect();
    let joints = keep.iter().map(|&j| pos[j]).collect();
    let bones =
        keep.iter().filter_map(|&j| skeleton.joints[j].parent.filter(|p| skeleton.joints[*p].deform).map(|p| (pos[p], pos[j]))).collect();
    (joints, bones)
}

/// Distance from `p` to the segment `a`-`b` (a point when `a == b`).
pub fn distance_to_segment(p: &Vector3<f32>, (a, b): &(Vector3<f32>, Vector3<f32>)) -> f32 {
    let ab = b - a;
    let t = if ab.norm_squared() > 0.0 { ((p - a).dot(&ab) / ab.norm_squared()).clamp(0.0, 1.0) } else { 0.0 };
    (p - (a + ab * t)).norm()
}

fn mean_nearest(from: &[Vector3<f32>], to: &[Vector3<f32>]) -> f32 {
    if from.is_empty() || to.is_empty() {
        return 0.0;
    }
    from.iter().map(|p| to.iter().map(|q| (p - q).norm()).fold(f32::MAX, f32::min)).sum::<f32>() / from.len().max(1) as f32
}

/// Points along each bone no more than `step` apart, both ends included (a bone of no length
/// gives its point twice).
pub fn sample_bones(bones: &[(Vector3<f32>, Vector3<f32>)], step: f32) -> Vec<Vector3<f32>> {
    bones
        .iter()
        .flat_map(|(a, b)| {
            let n = (((b - a).norm() / step).ceil() as usize).max(1);
            (0..=n).map(move |i| a + (b - a) * (i as f32 / n as f32))
        })
        .collect()
}

/// A skeleton with no bones (a single joint, or deforming joints whose parents are all
/// helpers) as bones of no length at its joints, so that its J2B and B2B terms measure its
/// joints instead of counting as zero.
fn with_points_as_bones((joints, bones): JointsAndBones) -> JointsAndBones {
    let bones = if bones.is_empty() { joints.iter().map(|p| (*p, *p)).collect() } else { bones };
    (joints, bones)
}

/// CD-J2J, CD-J2B and CD-B2B with both skeletons normalised by the truth mesh's bounds
/// (centred, longest side 1) and bones sampled every 0.005.
pub fn skeleton_scores(pred: &Skeleton, truth: &Skeleton, truth_mesh_bounds: &Aabb) -> SkeletonScores {
    let centre = Vector3::from(truth_mesh_bounds.min).lerp(&Vector3::from(truth_mesh_bounds.max), 0.5);
    let scale = 1.0 / truth_mesh_bounds.size().into_iter().fold(1e-9, f32::max);
    let norm = |(j, b): JointsAndBones| {
        let f = |p: Vector3<f32>| (p - centre) * scale;
        (j.into_iter().map(f).collect::<Vec<_>>(), b.into_iter().map(|(a, b)| (f(a), f(b))).collect::<Vec<_>>())
    };
    let (pj, pb) = with_points_as_bones(norm(joints_and_bones(pred)));
    let (tj, tb) = with_points_as_bones(norm(joints_and_bones(truth)));
    let j2b = |js: &[Vector3<f32>], bs: &[(Vector3<f32>, Vector3<f32>)]| {
        if bs.is_empty() {
            return 0.0;
        }
        js.iter().map(|p| bs.iter().map(|b| distance_to_segment(p, b)).fold(f32::MAX, f32::min)).sum::<f32>() / js.len().max(1) as f32
    };
    let (ps, ts) = (sample_bones(&pb, 0.005), sample_bones(&tb, 0.005));
    SkeletonScores {
        cd_j2j: 50.0 * (mean_nearest(&pj, &tj) + mean_nearest(&tj, &pj)),
        cd_j2b: 50.0 * (j2b(&pj, &tb) + j2b(&tj, &pb)),
        cd_b2b: 50.0 * (mean_nearest(&ps, &ts) + mean_nearest(&ts, &ps)),
    }
}

/// For each vertex of `truth`, the vertex of `pred` at the same position (identity when the
/// arrays agree). `None` when some truth vertex has no counterpart within `tolerance`.
pub fn match_vertices(truth: &[[f32; 3]], pred: &[[f32; 3]], tolerance: f32) -> Option<Vec<usize>> {
    if truth.len() == pred.len() && truth.iter().zip(pred).all(|(a, b)| (Vector3::from(*a) - Vector3::from(*b)).norm() <= tolerance) {
        return Some((0..truth.len()).collect());
    }
    match_vertices_partial(truth, pred, tolerance).into_iter().collect()
}

/// Like [`match_vertices`], with `None` for each truth vertex that has no counterpart.
pub fn match_vertices_partial(truth: &[[f32; 3]], pred: &[[f32; 3]], tolerance: f32) -> Vec<Option<usize>> {
    let cell = (tolerance * 4.0).max(1e-9);
    let key = |p: &[f32; 3]| p.map(|c| (c / cell).floor() as i64);
    let mut buckets: HashMap<[i64; 3], Vec<usize>> = HashMap::new();
    for (i, p) in pred.iter().enumerate() {
        buckets.entry(key(p)).or_default().push(i);
    }
    truth
        .iter()
        .map(|p| {
            let k = key(p);
            let mut best: Option<(f32, usize)> = None;
            for dx in -1..=1 {
                for dy in -1..=1 {
                    for dz in -1..=1 {
                        for &i in buckets.get(&[k[0] + dx, k[1] + dy, k[2] + dz]).into_iter().flatten() {
                            let d = (Vector3::from(*p) - Vector3::from(pred[i])).norm();
                            if d <= tolerance && best.is_none_or(|(bd, _)| d < bd) {
                                best = Some((d, i));
                            }
                        }
                    }
                }
            }
            best.map(|(_, i)| i)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_weights_score_perfectly() {
        let w = SkinWeights::from_rows(vec![vec![(0, 0.7), (1, 0.3)], vec![(1, 1.0)]]);
        let s = skin_scores(&w, &w, &[Some(0), Some(1)], &[0, 1]);
        assert_eq!((s.precision, s.recall, s.l1), (1.0, 1.0, 0.0));
    }

    #[test]
    fn extra_and_missing_influences_are_counted() {
        let truth = SkinWeights::from_rows(vec![vec![(0, 1.0)], vec![(0, 0.5), (1, 0.5)]]);
        let pred = SkinWeights::from_rows(vec![vec![(0, 0.5), (1, 0.5)], vec![(1, 1.0)]]);
        let s = skin_scores(&pred, &truth, &[Some(0), Some(1)], &[0, 1]);
        assert!((s.precision - 2.0 / 3.0).abs() < 1e-6, "{s:?}");
        assert!((s.recall - 2.0 / 3.0).abs() < 1e-6);
        assert!((s.l1 - 1.0).abs() < 1e-6, "(1.0 + 1.0) / 2 vertices");
    }

    #[test]
    fn a_skeleton_whose_joints_hang_from_a_helper_is_scored_by_its_joints() {
        use crate::autoskel::{skeleton_from_tree, JointTree};
        let v = |x: f32, y: f32| Vector3::new(x, y, 0.0);
        // The artist's two deforming joints hang from a helper: no bone between them.
        let tree = JointTree { positions: vec![v(0.5, 0.5), v(0.0, 0.0), v(1.0, 0.0)], parents: vec![None, Some(0), Some(0)] };
        let mut truth = skeleton_from_tree(&tree);
        truth.joints[0].deform = false;
        let pred = skeleton_from_tree(&JointTree { positions: vec![v(0.0, 0.0), v(0.0, 1.0)], parents: vec![None, Some(0)] });
        let bounds = Aabb::of_points(&[[0.0, 0.0, 0.0], [1.0, 1.0, 0.0]]).expect("bounds");
        let s = skeleton_scores(&pred, &truth, &bounds);
        // Each side: one joint on the other's, one 1 away; the predicted bone's points lie 0
        // to 1 from the nearest artist joint, 0.5 on average.
        assert!((s.cd_j2j - 50.0).abs() < 1e-3, "{s:?}");
        assert!((s.cd_j2b - 50.0).abs() < 1e-3, "{s:?}");
        assert!((s.cd_b2b - 50.0).abs() < 0.1, "not 0 for want of artist bones: {s:?}");
    }

    #[test]
    fn shuffled_vertices_are_matched_by_position() {
        let truth = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0]];
        let pred = [[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]];
        assert_eq!(match_vertices(&truth, &pred, 1e-5), Some(vec![1, 2, 0]));
        assert_eq!(match_vertices(&truth, &pred[..2], 1e-5), None);
    }
}

/// Generalised winding number of the triangle soup around `p` (1 inside a closed surface,
/// 0 outside; in between near holes). Van Oosterom and Strackee's solid angle per triangle.
pub fn winding_number(p: &Vector3<f32>, positions: &[[f32; 3]], triangles: &[[u32; 3]]) -> f32 {
    let mut total = 0.0f64;
    for t in triangles {
        let [a, b, c] = t.map(|i| (Vector3::from(positions[i as usize]) - p).cast::<f64>());
        let (la, lb, lc) = (a.norm(), b.norm(), c.norm());
        let num = a.dot(&b.cross(&c));
        let den = la * lb * lc + a.dot(&b) * lc + b.dot(&c) * la + c.dot(&a) * lb;
        total += 2.0 * num.atan2(den);
    }
    (total / (4.0 * std::f64::consts::PI)) as f32
}

/// Fraction of `skeleton`'s deforming joints (bind pose) inside the mesh (winding number over 0.5).
pub fn joints_inside(skeleton: &Skeleton, positions: &[[f32; 3]], triangles: &[[u32; 3]]) -> f32 {
    let (joints, _) = joints_and_bones(skeleton);
    if joints.is_empty() {
        return 0.0;
    }
    let inside = joints.iter().filter(|p| winding_number(p, positions, triangles).abs() > 0.5).count();
    inside as f32 / joints.len() as f32
}

#[cfg(test)]
mod winding_tests {
    use super::*;

    #[test]
    fn winding_number_tells_inside_from_outside_of_a_cube() {
        let (pos, tris) = crate::test_shapes::boxes(&[([0.0; 3], [1.0; 3])]);
        assert!((winding_number(&Vector3::new(0.5, 0.5, 0.5), &pos, &tris).abs() - 1.0).abs() < 1e-4);
        assert!(winding_number(&Vector3::new(1.5, 0.5, 0.5), &pos, &tris).abs() < 1e-4);
    }
}
