//! Joint hierarchies. Joints are stored parents first, so one forward pass computes world transforms.

use crate::error::RigError;
use crate::transform::Trs;
use crate::Mat4;

/// One joint: a transform in the hierarchy. Bones are joint-to-child segments.
#[derive(Debug, Clone, PartialEq)]
pub struct Joint {
    pub name: String,
    /// Index of the parent joint, always smaller than this joint's index.
    pub parent: Option<usize>,
    /// `parent_from_joint` in the rest pose (the file's node transform).
    pub rest_local: Trs,
    /// Inverse bind matrix: maps mesh-space points into this joint's space at bind time.
    pub joint_from_mesh: Mat4,
    /// True when the joint deforms the mesh (listed in a skin); false for helper nodes
    /// such as an armature root that only carry a transform.
    pub deform: bool,
    /// True for a bone: a joint the file lists in its skin (Blender and Maya make a bone of
    /// it). False for a transform node the importer kept above the bones (an armature object
    /// carrying the rig's scale or turn), which exporters write back as a plain node.
    pub in_skin: bool,
}

/// Choices a glTF skin makes that glTF's skinning ignores but Blender's importer reads: the
/// glTF writer makes the file's choices again, so that a converted file opens in Blender in
/// the bind pose the original opens in. Blender binds the root bone at its inverse bind matrix
/// (in the armature's space, scale dropped) when the skin names a skeleton root, and where its
/// node rests otherwise; so both the root's naming and the scale of the inverse bind matrices
/// move the mesh Blender shows at rest (the Quaternius dinosaurs' bind matrices scale by 1/3
/// under a x300 armature: stored at another scale, the mesh came out 3.7 units lower).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceSkin {
    /// The skin names its skeleton root (`skin.skeleton`).
    pub names_root: bool,
    /// The file's skinned-vertex space from the rig's mesh space (the scale the reader took
    /// out when it stored the mesh at its skeleton's scale).
    pub skin_from_mesh: Mat4,
}

/// A joint hierarchy, possibly a forest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Skeleton {
    pub joints: Vec<Joint>,
    /// How the glTF skin this skeleton was read from was laid out; `None` for a skeleton
    /// built here or read from another format.
    pub source_skin: Option<SourceSkin>,
}

impl Skeleton {
    pub fn len(&self) -> usize {
        self.joints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.joints.is_empty()
    }

    /// Index of the first joint with this name.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.joints.iter().position(|j| j.name == name)
    }

    pub fn roots(&self) -> impl Iterator<Item = usize> + '_ {
        self.joints.iter().enumerate().filter(|(_, j)| j.parent.is_none()).map(|(i, _)| i)
    }

    pub fn children(&self, joint: usize) -> impl Iterator<Item = usize> + '_ {
        self.joints.iter().enumerate().filter(move |(_, j)| j.parent == Some(joint)).map(|(i, _)| i)
    }

    /// Every joint's parent comes before it.
    pub fn validate(&self) -> Result<(), RigError> {
        for (i, j) in self.joints.iter().enumerate() {
            if let Some(p) = j.parent {
                if p >= i {
                    return Err(RigError::ParentOrder { joint: i, name: j.name.clone(), parent: p });
                }
            }
        }
        Ok(())
    }

    /// `model_from_joint` for every joint, given each joint's `parent_from_joint`.
    pub fn model_from_joints(&self, parent_from_joint: &[Mat4]) -> Vec<Mat4> {
        let mut out: Vec<Mat4> = Vec::with_capacity(self.joints.len());
        for (j, local) in self.joints.iter().zip(parent_from_joint) {
            let m = match j.parent {
                Some(p) => out[p] * local,
                None => *local,
            };
            out.push(m);
        }
        out
    }

    /// `model_from_joint` in the rest pose.
    pub fn model_from_joints_rest(&self) -> Vec<Mat4> {
        let locals: Vec<Mat4> = self.joints.iter().map(|j| j.rest_local.to_matrix()).collect();
        self.model_from_joints(&locals)
    }

    /// `model_from_joint` in the bind pose (inverse of each inverse bind matrix).
    pub fn model_from_joints_bind(&self) -> Vec<Mat4> {
        self.joints.iter().map(|j| j.joint_from_mesh.try_inverse().unwrap_or_else(Mat4::identity)).collect()
    }

    /// Joint positions in model space, rest pose.
    pub fn rest_positions(&self) -> Vec<[f32; 3]> {
        self.model_from_joints_rest().iter().map(|m| [m[(0, 3)], m[(1, 3)], m[(2, 3)]]).collect()
    }

    /// True when `joint` is `ancestor` or below it.
    pub fn is_descendant(&self, mut joint: usize, ancestor: usize) -> bool {
        loop {
            if joint == ancestor {
                return true;
            }
            match self.joints[joint].parent {
                Some(p) => joint = p,
                None => return false,
            }
        }
    }

    /// Marks joints that influence no vertex (`vertices_per_joint[j] == 0`) as non-deforming,
    /// unless no joint influences anything. Returns how many joints changed.
    pub fn mark_uninfluential_non_deforming(&mut self, vertices_per_joint: &[usize]) -> usize {
        if vertices_per_joint.iter().all(|&n| n == 0) {
            return 0;
        }
        let mut changed = 0;
        for (j, &n) in self.joints.iter_mut().zip(vertices_per_joint) {
            if j.deform && n == 0 {
                j.deform = false;
                changed += 1;
            }
        }
        changed
    }

    /// Sets every inverse bind matrix to the inverse of the rest pose (bind = rest).
    pub fn bind_to_rest(&mut self) {
        let model = self.model_from_joints_rest();
        for (j, m) in self.joints.iter_mut().zip(model) {
            j.joint_from_mesh = m.try_inverse().unwrap_or_else(Mat4::identity);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Vector3;

    fn chain() -> Skeleton {
        let joint = |name: &str, parent, y| Joint {
            name: name.into(),
            parent,
            rest_local: Trs { translation: Vector3::new(0.0, y, 0.0), ..Trs::IDENTITY },
            joint_from_mesh: Mat4::identity(),
            deform: true,
            in_skin: true,
        };
        let mut s = Skeleton {
            joints: vec![joint("root", None, 1.0), joint("mid", Some(0), 2.0), joint("tip", Some(1), 3.0)],
            ..Default::default()
        };
        s.bind_to_rest();
        s
    }

    #[test]
    fn rest_positions_accumulate_down_the_chain() {
        let s = chain();
        assert_eq!(s.rest_positions(), vec![[0.0, 1.0, 0.0], [0.0, 3.0, 0.0], [0.0, 6.0, 0.0]]);
        let bind = s.model_from_joints_bind();
        assert!((bind[2] - s.model_from_joints_rest()[2]).abs().max() < 1e-6);
    }

    #[test]
    fn parent_order_is_enforced() {
        let mut s = chain();
        s.joints[0].parent = Some(2);
        assert!(matches!(s.validate(), Err(RigError::ParentOrder { joint: 0, .. })));
    }

    #[test]
    fn descendants_and_children() {
        let s = chain();
        assert!(s.is_descendant(2, 0));
        assert!(!s.is_descendant(0, 2));
        assert_eq!(s.children(0).collect::<Vec<_>>(), vec![1]);
        assert_eq!(s.roots().collect::<Vec<_>>(), vec![0]);
    }
}
