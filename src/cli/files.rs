//! Finding input files in folders and mirroring their layout into an output folder.

use std::path::{Path, PathBuf};

/// Extensions `rig` and `eval` pick up when given a folder.
const RIG_INPUTS: &[&str] = &["glb", "gltf", "vrm", "obj"];

/// Files under `dir` (recursively) with one of `RIG_INPUTS`' extensions, sorted.
pub fn inputs_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().and_then(|x| x.to_str()).is_some_and(|x| RIG_INPUTS.contains(&x.to_ascii_lowercase().as_str())) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `file`'s path relative to `root`, without its extension: the key that pairs files of two folders.
pub fn key(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file);
    rel.with_extension("").to_string_lossy().replace('\\', "/")
}
