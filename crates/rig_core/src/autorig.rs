//! Whole-rig generation with the geometric methods: a skeleton (generated or kept) and its skin.
//! The library behind `rigsmith rig` and the editor's Generate and Re-skin.

use crate::autoskel::{skeleton_for_mesh_in, AutoSkeletonOptions};
use crate::autoskin::{AutoSkinOptions, SkinBinder};
use crate::mesh::Mesh;
use crate::rig::Rig;
use crate::skeleton::Skeleton;
use crate::task::{Cancelled, Task};
use crate::weights::SkinWeights;

/// Where the skeleton comes from.
#[derive(Debug, Clone)]
pub enum SkeletonSource {
    /// Keep the rig's skeleton. With `weighted_only`, joints that carry no weight in the input
    /// (IK targets, prop slots, end markers) stay non-deforming.
    Keep { weighted_only: bool },
    /// Generate a new one from the mesh's volume.
    Generate(AutoSkeletonOptions),
}

/// Why a rig could not be generated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AutoRigError {
    #[error("the file has no skeleton to keep (open a rigged file, or generate a skeleton)")]
    NoSkeleton,
    #[error("no solid volume found to build a skeleton in (is the mesh empty or flat?)")]
    NoVolume,
    #[error("{0}; try the generic kind")]
    TemplateDoesNotFit(String),
    #[error("cancelled")]
    Cancelled,
}

impl From<Cancelled> for AutoRigError {
    fn from(_: Cancelled) -> Self {
        AutoRigError::Cancelled
    }
}

/// A skeleton generated for `mesh`.
pub fn generate_skeleton(mesh: &Mesh, options: &AutoSkeletonOptions, task: Task) -> Result<Skeleton, AutoRigError> {
    task.stage("skeleton", 0.0)?;
    let skeleton = skeleton_for_mesh_in(mesh, options, &task);
    task.check()?;
    let skeleton = skeleton.map_err(AutoRigError::TemplateDoesNotFit)?;
    task.check()?;
    if skeleton.is_empty() {
        return Err(AutoRigError::NoVolume);
    }
    Ok(skeleton)
}

/// Skin weights from `binder` (built for `mesh`), with the rows of static parts left empty:
/// static geometry stays static.
pub fn skin_weights(
    binder: &mut SkinBinder,
    mesh: &Mesh,
    skeleton: &Skeleton,
    options: &AutoSkinOptions,
    task: Task,
) -> Result<SkinWeights, Cancelled> {
    Ok(clear_static_rows(mesh, binder.skin(mesh, skeleton, options, task)?))
}

/// `weights` with the rows of parts that follow no joint emptied (static geometry stays
/// static); unchanged when every part is skinned.
pub fn clear_static_rows(mesh: &Mesh, weights: SkinWeights) -> SkinWeights {
    if mesh.parts.iter().all(|p| p.skinned) {
        return weights;
    }
    let mut rows: Vec<Vec<(u32, f32)>> = (0..mesh.vertex_count()).map(|v| weights.row_pairs(v)).collect();
    for p in mesh.parts.iter().filter(|p| !p.skinned) {
        (p.vertices.start..p.vertices.end).for_each(|v| rows[v as usize].clear());
    }
    SkinWeights::from_rows(rows)
}

/// Rigs `rig` in place. A generated skeleton replaces the old one: the file's clips animated
/// the old joints, so they are dropped, and every part becomes skinned.
pub fn rig_in_place(rig: &mut Rig, source: &SkeletonSource, options: &AutoSkinOptions, task: Task) -> Result<(), AutoRigError> {
    match source {
        SkeletonSource::Generate(o) => {
            let o = AutoSkeletonOptions { up: o.up.or_else(|| Some(rig.up_direction())), ..o.clone() };
            rig.skeleton = generate_skeleton(&rig.mesh, &o, task)?;
            rig.clips.clear();
            rig.mesh.parts.iter_mut().for_each(|p| p.skinned = true);
        }
        SkeletonSource::Keep { weighted_only } => {
            if rig.skeleton.joints.iter().all(|j| !j.deform) {
                return Err(AutoRigError::NoSkeleton);
            }
            if *weighted_only {
                rig.mark_unweighted_joints_non_deforming();
            }
        }
    }
    let mut binder = SkinBinder::new(&rig.mesh, options, task)?;
    rig.weights = skin_weights(&mut binder, &rig.mesh, &rig.skeleton, options, task)?;
    Ok(())
}
