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
