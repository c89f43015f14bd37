//! Binary FBX 7.x import and FBX 7.4 export, through fbxcel's node-level reader and writer.
//! Rigsmith's space is glTF's (Y up, metres); files in other axes or units are converted.

mod doc;
mod layout;
mod node;
mod objects;
mod read;
mod read_anim;
mod read_mesh;
mod transform;
mod write;
mod write_mesh;

use std::path::Path;

use rig_core::Rig;

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
pub fn in_model_space(rig: &Rig) -> std::borrow::Cow<'_, Rig> {
    let model_from_mesh = rig.display_from_mesh();
    if rig.skeleton.is_empty() || (model_from_mesh - rig_core::Mat4::identity()).abs().max() <= 1e-6 {
        return std::borrow::Cow::Borrowed(rig);
    }
    let mut moved = rig.clone();
    if !moved.change_mesh_space(&model_from_mesh) {
        return std::borrow::Cow::Borrowed(rig);
    }
    std::borrow::Cow::Owned(moved)
}
