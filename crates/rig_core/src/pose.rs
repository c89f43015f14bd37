//! A pose: one local transform per joint.

use crate::skeleton::Skeleton;
use crate::transform::Trs;
use crate::Mat4;

/// Local (`parent_from_joint`) transforms, one per joint of a skeleton.
#[derive(Debug, Clone, PartialEq)]
pub struct Pose {
    pub local: Vec<Trs>,
}

impl Pose {
    /// The skeleton's rest pose.
    pub fn rest(skeleton: &Skeleton) -> Pose {
        Pose { local: skeleton.joints.iter().map(|j| j.rest_local).collect() }
    }

    /// The bind pose (the pose the inverse bind matrices describe), as local transforms.
    /// Joints whose bind matrix does not decompose keep their rest transform.
    pub fn bind(skeleton: &Skeleton) -> Pose {
        let model = skeleton.model_from_joints_bind();
        let local = skeleton
            .joints
            .iter()
            .enumerate()
            .map(|(i, j)| {
                let parent_from_model = j.parent.map_or(Some(Mat4::identity()), |p| model[p].try_inverse());
                parent_from_model.and_then(|m| Trs::from_matrix(&(m * model[i]))).unwrap_or(j.rest_local)
            })
            .collect();
        Pose { local }
    }

    /// `model_from_joint` for every joint.
    pub fn model_from_joints(&self, skeleton: &Skeleton) -> Vec<Mat4> {
        let locals: Vec<Mat4> = self.local.iter().map(Trs::to_matrix).collect();
        skeleton.model_from_joints(&locals)
    }

    /// `model_from_mesh` per joint: what linear blend skinning multiplies vertices by.
    pub fn skinning_matrices(&self, skeleton: &Skeleton) -> Vec<Mat4> {
        self.model_from_joints(skeleton)
            .iter()
            .zip(&skeleton.joints)
            .map(|(model_from_joint, j)| model_from_joint * j.joint_from_mesh)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skeleton::Joint;
    use nalgebra::{UnitQuaternion, Vector3};

    #[test]
    fn bind_pose_reproduces_the_inverse_bind_matrices() {
        let joint = |parent, t: [f32; 3], angle: f32| Joint {
            name: String::new(),
            parent,
            rest_local: Trs {
                translation: t.into(),
                rotation: UnitQuaternion::from_euler_angles(angle, 0.0, 0.0),
                scale: Vector3::repeat(1.0),
            },
            joint_from_mesh: Mat4::identity(),
            deform: true,
            in_skin: true,
        };
        let mut s =
            Skeleton { joints: vec![joint(None, [0.0, 1.0, 0.0], 0.3), joint(Some(0), [0.0, 2.0, 0.0], -0.7)], ..Default::default() };
        s.bind_to_rest();
        // Move the rest pose away from the bind pose: the bind pose must not follow it.
        s.joints[1].rest_local.rotation = UnitQuaternion::from_euler_angles(0.0, 1.0, 0.0);
        let m = Pose::bind(&s).skinning_matrices(&s);
        assert!(m.iter().all(|m| (m - Mat4::identity()).abs().max() < 1e-5));
    }
}
