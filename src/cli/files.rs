//! Finding input files in folders and mirroring their layout into an output folder.

use std::path::{Path, PathBuf};

/// Extensions `rig` and `eval` pick up when given a folder.
const RIG_INPUTS: &[&str] = &["glb", "gltf", "vrm", "obj"];

/// Files under `dir` (recursively) with one of `RIG_INPUTS`' extensions, sorted.
pub fn inputs_in(dir: &Path) -> Vec<PathBuf> {
    rig_io::files_under(dir, RIG_INPUTS)
}

/// `file`'s path relative to `root`, without its extension: the key that pairs files of two folders.
pub fn key(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file);
    rel.with_extension("").to_string_lossy().replace('\\', "/")
}

/// A progress bar for `len` files: bar, count, elapsed time, current file.
pub fn progress_bar(len: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    let style = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}");
    bar.set_style(style.unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
    bar
}
