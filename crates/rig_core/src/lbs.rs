//! CPU linear blend skinning: the reference that GPU skinning and exporters are checked against.

use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;

use crate::skeleton::Skeleton;
use crate::weights::SkinWeights;
use crate::Mat4;

/// Vertices per parallel work item: large enough to amortise scheduling.
const CHUNK: usize = 4096;

/// Deforms mesh-space `positions` by `model_from_mesh` matrices (one per joint, see
/// [`crate::Pose::skinning_matrices`]). Vertices without weights keep their position.
pub fn skin_positions(positions: &[[f32; 3]], weights: &SkinWeights, model_from_mesh: &[Mat4]) -> Vec<[f32; 3]> {
    let mut out = vec![[0.0f32; 3]; positions.len()];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
        let base = c * CHUNK;
        for (k, o) in chunk.iter_mut().enumerate() {
            *o = skin_one(positions[base + k], weights, base + k, model_from_mesh);
        }
    });
    out
}

/// Blends the affine part of the influencing matrices, then transforms once.
fn skin_one(p: [f32; 3], weights: &SkinWeights, vertex: usize, model_from_mesh: &[Mat4]) -> [f32; 3] {
    let (joints, w) = weights.row(vertex);
    if joints.is_empty() {
        return p;
    }
    let mut blended = [0.0f32; 12];
    for (&j, &wt) in joints.iter().zip(w) {
        let m = &model_from_mesh[j as usize];
        for r in 0..3 {
            for c in 0..4 {
                blended[r * 4 + c] += wt * m[(r, c)];
            }
        }
    }
    let mut q = [0.0; 3];
    for (r, qr) in q.iter_mut().enumerate() {
        let b = &blended[r * 4..r * 4 + 4];
        *qr = b[0] * p[0] + b[1] * p[1] + b[2] * p[2] + b[3];
    }
    q
}

/// Deforms normals with the blended linear part (inverse transpose), renormalised.
pub fn skin_normals(normals: &[[f32; 3]], weights: &SkinWeights, model_from_mesh: &[Mat4]) -> Vec<[f32; 3]> {
    let linear: Vec<Matrix3<f32>> = model_from_mesh.iter().map(|m| m.fixed_view::<3, 3>(0, 0).into_owned()).collect();
    normals
        .par_iter()
        .enumerate()
        .map(|(v, n)| {
            let (joints, w) = weights.row(v);
            if joints.is_empty() {
                return *n;
            }
            let blended: Matrix3<f32> = joints.iter().zip(w).map(|(&j, &wt)| linear[j as usize] * wt).sum();
            let it = blended.try_inverse().map(|m| m.transpose()).unwrap_or(blended);
            let out = (it * Vector3::from(*n)).try_normalize(1e-12).unwrap_or(Vector3::from(*n));
            [out.x, out.y, out.z]
        })
        .collect()
}

/// Rotates `joint` and everything below it about the joint's current position, with the
/// rotation given in model axes: `model_from_joint` is updated in place.
pub fn rotate_subtree_in_model_space(skeleton: &Skeleton, model_from_joint: &mut [Mat4], joint: usize, rotation: &Matrix3<f32>) {
    let head = Vector3::new(model_from_joint[joint][(0, 3)], model_from_joint[joint][(1, 3)], model_from_joint[joint][(2, 3)]);
    let about = Mat4::new_translation(&head) * rotation.to_homogeneous() * Mat4::new_translation(&-head);
    for (k, m) in model_from_joint.iter_mut().enumerate() {
        if skeleton.is_descendant(k, joint) {
            *m = about * *m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pose::Pose;
    use crate::skeleton::Joint;
    use crate::transform::Trs;
    use nalgebra::{Point3, UnitQuaternion};
    use rand::{rngs::StdRng, Rng, SeedableRng};

    fn random_rig(rng: &mut StdRng, joints: usize, vertices: usize, max_infl: usize) -> (Skeleton, SkinWeights, Vec<[f32; 3]>) {
        let mut s = Skeleton::default();
        for j in 0..joints {
            let parent = if j == 0 { None } else { Some(rng.gen_range(0..j)) };
            let rest_local = Trs {
                translation: Vector3::new(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)),
                rotation: UnitQuaternion::from_euler_angles(rng.gen_range(-3.0..3.0), rng.gen_range(-1.5..1.5), rng.gen_range(-3.0..3.0)),
                scale: Vector3::repeat(rng.gen_range(0.5..1.5)),
            };
            s.joints.push(Joint {
                name: format!("j{j}"),
                parent,
                rest_local,
                joint_from_mesh: Mat4::identity(),
                deform: true,
                in_skin: true,
            });
        }
        s.bind_to_rest();
        let rows = (0..vertices).map(|_| {
            let n = rng.gen_range(0..=max_infl);
            (0..n).map(|_| (rng.gen_range(0..joints as u32), rng.gen_range(0.01..1.0))).collect::<Vec<_>>()
        });
        let mut w = SkinWeights::from_rows(rows.collect::<Vec<_>>());
        w.normalize(1e-3);
        let pos = (0..vertices).map(|_| [rng.gen_range(-2.0..2.0), rng.gen_range(-2.0..2.0), rng.gen_range(-2.0..2.0)]).collect();
        (s, w, pos)
    }

    /// The textbook formula, one influence at a time with full 4x4 products.
    fn naive(positions: &[[f32; 3]], weights: &SkinWeights, m: &[Mat4]) -> Vec<[f32; 3]> {
        let mut out = Vec::new();
        for (v, p) in positions.iter().enumerate() {
            let (joints, w) = weights.row(v);
            if joints.is_empty() {
                out.push(*p);
                continue;
            }
            let mut acc = Vector3::zeros();
            for (&j, &wt) in joints.iter().zip(w) {
                acc += (m[j as usize].transform_point(&Point3::from(*p))).coords * wt;
            }
            out.push([acc.x, acc.y, acc.z]);
        }
        out
    }

    #[test]
    fn optimised_matches_naive_on_random_rigs() {
        let mut rng = StdRng::seed_from_u64(7);
        for trial in 0..20 {
            let (s, w, pos) = random_rig(&mut rng, 1 + trial * 3, 5000, 8);
            let mut pose = Pose::rest(&s);
            for l in pose.local.iter_mut() {
                l.rotation =
                    UnitQuaternion::from_euler_angles(rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0))
                        * l.rotation;
            }
            let mats = pose.skinning_matrices(&s);
            let fast = skin_positions(&pos, &w, &mats);
            let slow = naive(&pos, &w, &mats);
            let worst = fast.iter().zip(&slow).map(|(a, b)| (Vector3::from(*a) - Vector3::from(*b)).norm()).fold(0.0, f32::max);
            assert!(worst < 1e-3, "trial {trial}: max deviation {worst}");
        }
    }

    #[test]
    fn rest_pose_is_identity_when_bind_equals_rest() {
        let mut rng = StdRng::seed_from_u64(3);
        let (s, w, pos) = random_rig(&mut rng, 10, 1000, 4);
        let out = skin_positions(&pos, &w, &Pose::rest(&s).skinning_matrices(&s));
        let worst = out.iter().zip(&pos).map(|(a, b)| (Vector3::from(*a) - Vector3::from(*b)).norm()).fold(0.0, f32::max);
        assert!(worst < 1e-4, "{worst}");
    }

    #[test]
    fn subtree_rotation_moves_only_descendants() {
        let mut rng = StdRng::seed_from_u64(5);
        let (s, _, _) = random_rig(&mut rng, 8, 1, 1);
        let mut m = s.model_from_joints_rest();
        let before = m.clone();
        let r = *UnitQuaternion::from_euler_angles(0.5, 0.0, 0.0).to_rotation_matrix().matrix();
        rotate_subtree_in_model_space(&s, &mut m, 3, &r);
        for k in 0..8 {
            let moved = (m[k] - before[k]).abs().max() > 1e-6;
            assert_eq!(moved, s.is_descendant(k, 3) && k != 3 || (k == 3 && moved), "joint {k}");
        }
        assert!((m[3].column(3) - before[3].column(3)).norm() < 1e-5, "the pivot stays put");
    }
}
