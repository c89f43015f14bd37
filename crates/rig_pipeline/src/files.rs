//! Finding input files in folders and pairing the files of two folders.

use std::path::{Path, PathBuf};

/// Extensions `rig` and `eval` pick up when given a folder.
pub const RIG_INPUTS: &[&str] = &["glb", "gltf", "vrm", "obj"];

/// Files under `dir` (recursively) with one of `RIG_INPUTS`' extensions, sorted.
pub fn inputs_in(dir: &Path) -> Vec<PathBuf> {
    rig_io::files_under(dir, RIG_INPUTS)
}

/// `file`'s path relative to `root`, without its extension: the key that pairs files of two folders.
pub fn key(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file);
    rel.with_extension("").to_string_lossy().replace('\\', "/")
}
