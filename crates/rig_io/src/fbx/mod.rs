//! Binary FBX 7.x import and FBX 7.4 export, through fbxcel's node-level reader and writer.
//! Rigsmith's space is glTF's (Y up, metres); files in other axes or units are converted.

mod doc;
mod layout;
mod node;
mod objects;
mod read;
mod read_anim;
mod read_mesh;
mod read_shapes;
mod transform;
mod write;
mod write_mesh;
mod write_shapes;

use std::path::Path;

use rig_core::{Mat4, Rig};

use crate::atomic::write_atomic;
use crate::error::IoError;
use crate::Imported;

/// FBX time unit: ticks per second.
pub const TICKS_PER_SECOND: i64 = 46_186_158_000;

/// Writes `rig` as binary FBX 7.4, atomically. Returns warnings about what was left out.
pub fn save(rig: &Rig, path: &Path) -> Result<Vec<String>, IoError> {
    let (top, warnings) = write::document(&in_model_space(rig))?;
    write_atomic(path, &node::to_binary(&top)?)?;
    Ok(warnings)
}

/// Reads a binary FBX 7.x file.
pub fn load(path: &Path) -> Result<Imported, IoError> {
    let bytes = std::fs::read(path).map_err(|source| IoError::Read { path: path.to_path_buf(), source })?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    read::from_bytes(&bytes, &name)
}

/// Reads binary FBX from memory (`name` becomes the rig's name).
pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Imported, IoError> {
    read::from_bytes(bytes, name)
}

/// The rig with its skinned parts in model space, where the rest pose places them. FBX readers
/// take a cluster's TransformLink as the joint's global bind matrix and the geometry as placed
/// by its model, so a mesh stored in another space (a glTF skin bound under a turned or
/// scaled node: CesiumMan's Z_UP, an armature scaled by 100) must be moved there first.
/// Blender builds its bones from those bind matrices without their scale: when the skins
/// place the mesh at different scales (RecursiveSkeletons' instances under scaled joints),
/// the move keeps only its rotation and translation if that leaves more bind matrices rigid.
pub fn in_model_space(rig: &Rig) -> std::borrow::Cow<'_, Rig> {
    let shown_from_mesh = rig.display_from_mesh();
    let model_from_mesh = rigid_where_it_binds_better(rig, shown_from_mesh);
    if rig.skeleton.is_empty() || (model_from_mesh - Mat4::identity()).abs().max() <= 1e-6 {
        return std::borrow::Cow::Borrowed(rig);
    }
    let mut moved = rig.clone();
    if !moved.change_mesh_space(&model_from_mesh) {
        return std::borrow::Cow::Borrowed(rig);
    }
    // Static parts are written where the scene shows them, scale included.
    if let Some(mesh_from_model) = (model_from_mesh != shown_from_mesh).then(|| model_from_mesh.try_inverse()).flatten() {
        moved.mesh.move_parts(&(shown_from_mesh * mesh_from_model), |p| !p.skinned);
    }
    std::borrow::Cow::Owned(moved)
}

/// `model_from_mesh`, or its rotation and translation alone when with that move more
/// deforming joints get a bind matrix without scale.
fn rigid_where_it_binds_better(rig: &Rig, model_from_mesh: Mat4) -> Mat4 {
    let linear = model_from_mesh.fixed_view::<3, 3>(0, 0).into_owned();
    let scale = linear.determinant().abs().cbrt();
    if !(scale.is_finite() && scale > 0.0) || (scale - 1.0).abs() <= 1e-4 {
        return model_from_mesh;
    }
    let mut rigid = model_from_mesh;
    rigid.fixed_view_mut::<3, 3>(0, 0).copy_from(&(linear / scale));
    let rigid_binds = |m: &Mat4| {
        let deforming = rig.skeleton.joints.iter().filter(|j| j.deform);
        deforming.filter_map(|j| j.joint_from_mesh.try_inverse()).filter(|bind| is_rigid(&(m * bind))).count()
    };
    if rigid_binds(&rigid) > rigid_binds(&model_from_mesh) {
        rigid
    } else {
        model_from_mesh
    }
}

fn is_rigid(m: &Mat4) -> bool {
    let l = m.fixed_view::<3, 3>(0, 0);
    ((l.transpose() * l) - nalgebra::Matrix3::identity()).abs().max() <= 1e-3
}
