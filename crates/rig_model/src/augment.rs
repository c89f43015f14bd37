//! Training augmentation that keeps the artist's rig as the ground truth: the character posed
//! by its own skeleton and weights (random joint rotations, linear blend skinning) and
//! stretched along each axis, with the posed skeleton as the new bind pose. The weights do not
//! change, so they stay the right answer for the new shape.

use nalgebra::Vector3;
use rig_core::lbs::skin_positions;
use rig_core::metrics::{random_pose, SplitMix};
use rig_core::{Mat4, Rig, Trs};

/// How a copy is made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augment {
    /// Each deforming joint turns by up to this angle (radians) about a random axis.
    pub max_angle: f32,
    /// Each axis is scaled by a factor in `[1 - stretch, 1 + stretch]`.
    pub stretch: f32,
}

impl Default for Augment {
    fn default() -> Self {
        Augment { max_angle: 20f32.to_radians(), stretch: 0.15 }
    }
}

/// A copy of `rig` in a random pose (`seed` picks it), bound in that pose. Joints keep their
/// names, parents and weights; the mesh is the skinned mesh, scaled per axis with the joints.
pub fn posed_copy(rig: &Rig, augment: &Augment, seed: u64) -> Rig {
    let mut rng = SplitMix(seed);
    let pose = random_pose(&rig.skeleton, &mut rng, augment.max_angle);
    let scale = Vector3::from_fn(|_, _| 1.0 + augment.stretch * rng.signed());
    let posed = skin_positions(&rig.mesh.positions, &rig.weights, &pose.skinning_matrices(&rig.skeleton));
    let model_from_joint: Vec<Mat4> = pose
        .model_from_joints(&rig.skeleton)
        .into_iter()
        .map(|mut m| {
            for axis in 0..3 {
                m[(axis, 3)] *= scale[axis];
            }
            m
        })
        .collect();
    let mut out = rig.clone();
    out.mesh.positions = posed.iter().map(|p| [p[0] * scale.x, p[1] * scale.y, p[2] * scale.z]).collect();
    out.mesh.normals.clear();
    out.clips.clear();
    for (j, joint) in out.skeleton.joints.iter_mut().enumerate() {
        let parent_from_model = joint.parent.map_or(Some(Mat4::identity()), |p| model_from_joint[p].try_inverse());
        let local = parent_from_model.map(|m| m * model_from_joint[j]);
        joint.rest_local = local.and_then(|m| Trs::from_matrix(&m)).unwrap_or(joint.rest_local);
        joint.joint_from_mesh = model_from_joint[j].try_inverse().unwrap_or_else(Mat4::identity);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rigs::fox;
    use rig_core::Pose;

    #[test]
    fn a_posed_copy_is_bound_in_its_pose_and_differs_from_the_original() {
        let rig = fox();
        let copy = posed_copy(&rig, &Augment::default(), 7);
        copy.validate().expect("a valid rig");
        assert_eq!(copy.weights, rig.weights, "the artist's weights are the truth");
        // Bound in the new pose: its own bind pose leaves its mesh where it is.
        let m = Pose::bind(&copy.skeleton).skinning_matrices(&copy.skeleton);
        let again = skin_positions(&copy.mesh.positions, &copy.weights, &m);
        let diag = 100.0; // the fox is about 100 units across
        let worst = again.iter().zip(&copy.mesh.positions).map(|(a, b)| (Vector3::from(*a) - Vector3::from(*b)).norm()).fold(0.0, f32::max);
        assert!(worst < 1e-3 * diag, "bind pose reproduces the posed mesh: {worst}");
        // Rest and bind agree, as they do in the files we read.
        let rest = copy.skeleton.rest_positions();
        let bind: Vec<[f32; 3]> = copy.skeleton.model_from_joints_bind().iter().map(|m| [m[(0, 3)], m[(1, 3)], m[(2, 3)]]).collect();
        assert!(rest.iter().zip(&bind).all(|(a, b)| (Vector3::from(*a) - Vector3::from(*b)).norm() < 1e-3 * diag));
        let moved = copy
            .mesh
            .positions
            .iter()
            .zip(&rig.mesh.positions)
            .filter(|(a, b)| (Vector3::from(**a) - Vector3::from(**b)).norm() > 0.01 * diag)
            .count();
        assert!(moved > rig.mesh.vertex_count() / 2, "the pose and stretch move most vertices ({moved})");
        assert_eq!(posed_copy(&rig, &Augment::default(), 7).mesh.positions, copy.mesh.positions, "the seed fixes the copy");
    }

    #[test]
    fn no_turn_and_no_stretch_gives_the_original_shape() {
        let rig = fox();
        let copy = posed_copy(&rig, &Augment { max_angle: 0.0, stretch: 0.0 }, 3);
        let worst = copy
            .mesh
            .positions
            .iter()
            .zip(&rig.mesh.positions)
            .map(|(a, b)| (Vector3::from(*a) - Vector3::from(*b)).norm())
            .fold(0.0, f32::max);
        assert!(worst < 1e-3, "{worst}");
    }
}
