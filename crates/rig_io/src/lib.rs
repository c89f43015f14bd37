//! Rigsmith's file formats: glTF 2.0 / GLB and binary FBX in and out, OBJ in, RigNet `rig_info` text in.
//!
//! Every reader returns an [`Imported`] rig plus the warnings a user should see; every
//! error names the file's problem and, where possible, how to fix it. Readers never panic
//! and never allocate more than a small multiple of the file's size.

mod atomic;
pub use atomic::write_atomic;
mod error;
pub mod fbx;
pub mod gltf_read;
pub mod gltf_write;
pub mod obj;
pub mod rignet;
pub mod sequence;

use std::path::Path;

pub use error::IoError;
pub use gltf_write::ExportOptions;
use rig_core::Rig;

/// A rig read from a file, with the non-fatal problems found on the way.
#[derive(Debug, Clone)]
pub struct Imported {
    pub rig: Rig,
    /// Problems found while reading. Those starting with [`NOT_KEPT`] name data the file holds
    /// and the rig does not, so writing the rig out would lose it.
    pub warnings: Vec<String>,
}

/// How a warning about data the rig could not keep begins.
pub const NOT_KEPT: &str = "not kept: ";

impl Imported {
    /// What the file holds that the rig does not (see [`NOT_KEPT`]).
    pub fn losses(&self) -> Vec<&str> {
        self.warnings.iter().filter(|w| w.starts_with(NOT_KEPT)).map(String::as_str).collect()
    }
}

/// What a file written to `path` (by its extension) would leave out of `rig`, each starting
/// with [`NOT_KEPT`]; empty when the format holds everything.
pub fn export_losses(rig: &Rig, path: &Path) -> Vec<String> {
    let fbx = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("fbx"));
    let mut out = Vec::new();
    if fbx && rig.clips.iter().any(|c| !c.morph_channels.is_empty()) {
        out.push(format!("{NOT_KEPT}morph weight animation (the FBX export does not write it yet; GLB keeps it)"));
    }
    out
}

/// The formats Rigsmith reads, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Gltf,
    Glb,
    Obj,
    RigNet,
    Fbx,
}

impl Format {
    pub fn from_path(path: &Path) -> Result<Format, IoError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        match ext.as_str() {
            "gltf" => Ok(Format::Gltf),
            "glb" | "vrm" => Ok(Format::Glb),
            "obj" => Ok(Format::Obj),
            "txt" => Ok(Format::RigNet),
            "fbx" => Ok(Format::Fbx),
            other => Err(IoError::Unsupported(format!(
                "unknown file extension {other:?}; Rigsmith reads .glb, .gltf, .vrm, .fbx, .obj and RigNet .txt"
            ))),
        }
    }
}

/// Files under `dir` (recursively, following links) whose extension, in any case, is one of
/// `extensions`; sorted.
pub fn files_under(dir: &Path, extensions: &[&str]) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().and_then(|x| x.to_str()).is_some_and(|x| extensions.contains(&x.to_ascii_lowercase().as_str())) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Reads any supported file into a rig.
pub fn load(path: &Path) -> Result<Imported, IoError> {
    // A missing path is a missing file, whatever its name ends with.
    if let Err(source) = std::fs::metadata(path) {
        return Err(IoError::Read { path: path.to_path_buf(), source });
    }
    match Format::from_path(path)? {
        Format::Gltf | Format::Glb => gltf_read::load(path),
        Format::Obj => obj::load(path),
        Format::RigNet => rignet::load(path),
        Format::Fbx => fbx::load(path),
    }
}

/// Writes a rig as `.glb` or `.gltf` (with a `.bin` beside it), atomically.
pub fn save(rig: &Rig, path: &Path, options: &ExportOptions) -> Result<Vec<String>, IoError> {
    let writes = || format!("cannot write {}: Rigsmith writes .glb, .gltf and .fbx", path.display());
    if path.is_dir() {
        return Err(IoError::Unsupported(format!("{} is a folder: name the file to write (.glb, .gltf or .fbx)", path.display())));
    }
    match Format::from_path(path).map_err(|_| IoError::Unsupported(writes()))? {
        Format::Glb if has_extension(path, "vrm") => gltf_write::save(rig, path, &ExportOptions { vrm: true, ..options.clone() }, true),
        Format::Glb => gltf_write::save(rig, path, options, true),
        Format::Gltf => gltf_write::save(rig, path, options, false),
        Format::Fbx => fbx::save(&with_limit(rig, options), path),
        _ => Err(IoError::Unsupported(writes())),
    }
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// The rig through `options.limit` (a copy only when it has one).
fn with_limit<'a>(rig: &'a Rig, options: &ExportOptions) -> std::borrow::Cow<'a, Rig> {
    match &options.limit {
        Some(limit) => {
            let mut r = rig.clone();
            r.weights.limit(limit);
            std::borrow::Cow::Owned(r)
        }
        None => std::borrow::Cow::Borrowed(rig),
    }
}
