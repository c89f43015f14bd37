//! glTF 2.0 / GLB export: joints as a node hierarchy at the scene root, one skin, the mesh
//! groups as skinned mesh nodes at the scene root (static parts as plain mesh nodes),
//! inverse bind matrices, JOINTS_n/WEIGHTS_n, morph targets, clips, and the source's
//! materials and textures.

mod animation;
mod buffer;
mod materials;
mod meshes;
mod skeleton;

use std::path::Path;

use rig_core::{InfluenceLimit, Rig};
use serde_json::{json, Value};

use crate::atomic::write_atomic;
use crate::error::IoError;
use buffer::BinWriter;

/// The skin extra (`extras.rigsmith`) that maps the written skinned vertices back to the rig's
/// own mesh space (column-major 4x4), for Rigsmith's reader; other readers need not know it.
pub(crate) const MESH_FROM_ARMATURE: &str = "mesh_from_armature";

/// Choices the exporter leaves to the user.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// The influence limit applied on the way out ([`InfluenceLimit::limit_row`]). `None`
    /// keeps every influence, writing JOINTS_1/WEIGHTS_1 (and more) when a vertex has over four.
    pub limit: Option<InfluenceLimit>,
    /// Write the VRM 1.0 extension (`VRMC_vrm`: the humanoid bones read from the joint names,
    /// and meta); a `.vrm` path sets it.
    pub vrm: bool,
    /// VRM meta's authors (VRM requires at least one; empty: a placeholder, with a warning).
    pub vrm_authors: Vec<String>,
}

/// Writes `rig` to `path` (GLB when `binary`, else .gltf with a .bin beside it).
/// Returns warnings about anything the format could not hold.
pub fn save(rig: &Rig, path: &Path, options: &ExportOptions, binary: bool) -> Result<Vec<String>, IoError> {
    let bin_name = path.file_stem().map(|s| format!("{}.bin", s.to_string_lossy())).unwrap_or_else(|| "buffer.bin".into());
    let (doc, bin, warnings) = to_document(rig, options, if binary { None } else { Some(&bin_name) })?;
    let json = serde_json::to_vec(&doc).map_err(|e| IoError::Invalid(format!("cannot serialise glTF JSON: {e}")))?;
    if binary {
        write_atomic(path, &buffer::glb(&json, &bin))?;
    } else {
        write_atomic(&path.with_file_name(&bin_name), &bin)?;
        write_atomic(path, &json)?;
    }
    Ok(warnings)
}

/// Encodes a rig as GLB bytes in memory.
pub fn to_glb(rig: &Rig, options: &ExportOptions) -> Result<(Vec<u8>, Vec<String>), IoError> {
    let (doc, bin, warnings) = to_document(rig, options, None)?;
    let json = serde_json::to_vec(&doc).map_err(|e| IoError::Invalid(format!("cannot serialise glTF JSON: {e}")))?;
    Ok((buffer::glb(&json, &bin), warnings))
}

/// The glTF JSON document and its binary buffer. `bin_uri` names an external buffer file.
pub fn to_document(rig: &Rig, options: &ExportOptions, bin_uri: Option<&str>) -> Result<(Value, Vec<u8>, Vec<String>), IoError> {
    rig.validate()?;
    let mut warnings = Vec::new();
    let mut w = BinWriter::default();
    let mut nodes: Vec<Value> = Vec::new();
    let skel = skeleton::write(rig, &mut w, &mut nodes);
    let mesh_out = meshes::write(rig, options, &skel, &mut w, &mut nodes, &mut warnings);
    let mut scene_nodes = skel.scene_roots.clone();
    scene_nodes.extend(mesh_out.nodes.iter().copied());
    let anims = animation::write(rig, &mesh_out.group_nodes, &mut w, &mut warnings);
    let mats = materials::write(&rig.materials, &mut w, &mut warnings);
    let mut buffer = json!({ "byteLength": w.bin.len() });
    if let Some(uri) = bin_uri {
        buffer["uri"] = json!(uri);
    }
    let mut doc = json!({
        "asset": { "version": "2.0", "generator": concat!("Rigsmith ", env!("CARGO_PKG_VERSION")) },
        "scene": 0,
        "scenes": [{ "name": rig.name, "nodes": scene_nodes }],
        "nodes": nodes,
        "meshes": mesh_out.meshes,
    });
    let obj = doc.as_object_mut().expect("literal object");
    let put = |obj: &mut serde_json::Map<String, Value>, k: &str, v: Vec<Value>| {
        if !v.is_empty() {
            obj.insert(k.into(), Value::Array(v));
        }
    };
    put(obj, "skins", skel.skin.into_iter().collect());
    put(obj, "animations", anims);
    put(obj, "materials", mats.materials);
    put(obj, "textures", mats.textures);
    put(obj, "samplers", mats.samplers);
    put(obj, "images", mats.images);
    let mut used: Vec<Value> = rig.materials.extensions_used.iter().map(|s| json!(s)).collect();
    if options.vrm {
        if options.vrm_authors.is_empty() {
            warnings.push(format!("VRM meta names no author: written as {PLACEHOLDER_AUTHOR:?} (--author NAME sets it)"));
        }
        obj.insert("extensions".into(), json!({ "VRMC_vrm": vrm_extension(rig, &options.vrm_authors)? }));
        used.push(json!("VRMC_vrm"));
    }
    put(obj, "extensionsUsed", used);
    put(obj, "extensionsRequired", rig.materials.extensions_required.iter().map(|s| json!(s)).collect());
    if !w.bin.is_empty() {
        put(obj, "buffers", vec![buffer]);
        put(obj, "bufferViews", std::mem::take(&mut w.views));
        put(obj, "accessors", std::mem::take(&mut w.accessors));
    }
    Ok((doc, w.bin, warnings))
}

/// VRM meta's author when none is given.
const PLACEHOLDER_AUTHOR: &str = "unknown (set in a VRM editor)";

/// The `VRMC_vrm` extension: VRM 1.0 meta and the humanoid bones (node `j` is joint `j`).
/// Refused, naming them, when the skeleton lacks a bone VRM requires.
fn vrm_extension(rig: &Rig, authors: &[String]) -> Result<Value, IoError> {
    let bones = rig_core::naming::vrm_humanoid(&rig.skeleton);
    let missing: Vec<&str> = rig_core::naming::VRM_REQUIRED.iter().copied().filter(|r| !bones.iter().any(|(b, _)| b == r)).collect();
    if !missing.is_empty() {
        return Err(IoError::Unsupported(format!(
            "cannot write VRM: no joint is named as VRM's {} (VRM needs a humanoid skeleton; rig it with --kind biped, or write .glb)",
            missing.join(", ")
        )));
    }
    let human_bones: serde_json::Map<String, Value> = bones.into_iter().map(|(b, j)| (b, json!({ "node": j }))).collect();
    let name = if rig.name.is_empty() { "character" } else { rig.name.as_str() };
    let authors: Vec<&str> = match authors.is_empty() {
        true => vec![PLACEHOLDER_AUTHOR],
        false => authors.iter().map(String::as_str).collect(),
    };
    Ok(json!({
        "specVersion": "1.0",
        "meta": {
            "name": name,
            "authors": authors,
            "licenseUrl": "https://vrm.dev/licenses/1.0/",
            "avatarPermission": "onlyAuthor",
            "commercialUsage": "personalNonProfit",
            "allowRedistribution": false,
            "modification": "prohibited",
        },
        "humanoid": { "humanBones": human_bones },
    }))
}
