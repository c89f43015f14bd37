//! The rig: a mesh, its skeleton, its skin weights, its clips and its materials.

use crate::animation::Clip;
use crate::error::RigError;
use crate::material::MaterialLibrary;
use crate::mesh::Mesh;
use crate::skeleton::Skeleton;
use crate::weights::SkinWeights;

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
}
