//! The rig: a mesh, its skeleton, its skin weights, its clips and its materials.

use crate::animation::Clip;
use crate::error::RigError;
use crate::material::MaterialLibrary;
use crate::mesh::Mesh;
use crate::skeleton::Skeleton;
use crate::weights::SkinWeights;
use crate::Mat4;

/// A rigged character. An unrigged mesh has an empty skeleton and empty weight rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rig {
    pub name: String,
    pub mesh: Mesh,
    pub skeleton: Skeleton,
    /// One row per mesh vertex; indices into `skeleton.joints`.
    pub weights: SkinWeights,
    pub clips: Vec<Clip>,
    pub materials: MaterialLibrary,
}

impl Rig {
    /// A rig for a bare mesh: no joints, no weights.
    pub fn unrigged(name: impl Into<String>, mesh: Mesh, materials: MaterialLibrary) -> Rig {
        let weights = SkinWeights::empty(mesh.vertex_count());
        Rig { name: name.into(), mesh, skeleton: Skeleton::default(), weights, clips: Vec::new(), materials }
    }

    /// Checks that every index points somewhere and every number is finite.
    pub fn validate(&self) -> Result<(), RigError> {
        self.mesh.validate()?;
        self.skeleton.validate()?;
        self.weights.validate(self.mesh.vertex_count(), self.skeleton.len())?;
        Ok(())
    }

    /// Marks joints that carry no weight as non-deforming (when any joint carries weight): the
    /// closest glTF has to Blender's per-bone Deform flag, since exporters list every bone in
    /// the skin. Returns how many joints changed.
    pub fn mark_unweighted_joints_non_deforming(&mut self) -> usize {
        let counts = self.weights.vertices_per_joint(self.skeleton.len());
        self.skeleton.mark_uninfluential_non_deforming(&counts)
    }

    /// Vertices that belong to skinned parts but have no influence.
    pub fn unweighted_skinned_vertices(&self) -> usize {
        self.mesh
            .parts
            .iter()
            .filter(|p| p.skinned)
            .flat_map(|p| p.vertices.clone())
            .filter(|&v| self.weights.row(v as usize).0.is_empty())
            .count()
    }

    /// Where the file's own scene puts the mesh: glTF skins ignore the mesh node, so the stored
    /// vertices sit in the skeleton's bind space, which a parent node may turn (CesiumMan's Z_UP).
    /// When every deforming joint's rest skinning matrix (`rest model_from_joint * joint_from_mesh`)
    /// is the same rigid transform, that transform shows the character the way other viewers do;
    /// otherwise (rest and bind differ joint by joint) the mesh is shown as stored.
    pub fn display_from_mesh(&self) -> Mat4 {
        let s = &self.skeleton;
        let rest = s.model_from_joints_rest();
        let mut common: Option<Mat4> = None;
        for (m, j) in rest.iter().zip(&s.joints).filter(|(_, j)| j.deform) {
            let skin = m * j.joint_from_mesh;
            match &common {
                None => common = Some(skin),
                Some(c) if (c - skin).abs().max() <= 1e-3 * c.abs().max().max(1.0) => {}
                Some(_) => return Mat4::identity(),
            }
        }
        common
            .filter(|m| m.iter().all(|v| v.is_finite()) && m.fixed_view::<3, 3>(0, 0).determinant().abs() > 1e-9)
            .unwrap_or_else(Mat4::identity)
    }

    /// The mesh-space direction that the file's scene shows as up (+Y of the display).
    pub fn up_direction(&self) -> [f32; 3] {
        let m = self.display_from_mesh();
        let inv = m.fixed_view::<3, 3>(0, 0).try_inverse().unwrap_or_else(nalgebra::Matrix3::identity);
        let up = inv * nalgebra::Vector3::y();
        let n = up.norm();
        if n > 0.0 && n.is_finite() {
            (up / n).into()
        } else {
            [0.0, 1.0, 0.0]
        }
    }
}
