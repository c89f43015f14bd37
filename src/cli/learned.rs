//! Loading rigged characters for the learned models (`train`, `tokenize`).

use std::path::{Path, PathBuf};

use rig_core::creature::{creature, CreatureOptions};
use rig_core::{Rig, Task};
use rig_model::augment::{posed_copy, Augment};
use rig_model::data::Asset;
use rig_model::decimate::decimated_copy;
use rig_model::features::SkinPrior;

use super::files;

/// Rigged files under each of `inputs` (a file or a folder), sorted, without duplicates.
pub fn rigged_files(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = inputs.iter().flat_map(|p| if p.is_dir() { files::inputs_in(p) } else { vec![p.clone()] }).collect();
    out.sort();
    out.dedup();
    out
}

/// Loads each file and builds its shape field for the artist's skeleton, with a progress bar;
/// files that cannot be used are reported and skipped. Joints that carry no weight in the file
/// (IK targets, end markers) are not learned from, as in `rig --use-skeleton`.
pub fn load_assets(paths: &[PathBuf], prior: SkinPrior) -> Vec<(PathBuf, Asset)> {
    load_each(paths, |p| load_asset(p, prior))
}

/// `load` for each file with a progress bar; failures are reported and skipped.
pub fn load_each<T>(paths: &[PathBuf], load: impl Fn(&Path) -> anyhow::Result<T>) -> Vec<(PathBuf, T)> {
    let bar = files::progress_bar(paths.len());
    let mut out = Vec::new();
    for path in paths {
        bar.set_message(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        match load(path) {
            Ok(a) => out.push((path.clone(), a)),
            Err(e) => bar.suspend(|| eprintln!("skipped {}: {e}", path.display())),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    out
}

/// Extra copies of each training character, besides the character itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Copies {
    /// In random poses of its own skeleton, stretched ([`posed_copy`]).
    pub posed: usize,
    /// With the surface simplified to 1/2, 1/4, ... of its triangles ([`decimated_copy`]);
    /// fewer where the mesh is already too coarse to lose more.
    pub decimated: usize,
}

/// The rigged file's character, then its `copies` (the seeds come from the file's name, so a
/// run repeats).
pub fn training_rigs(path: &Path, copies: Copies) -> anyhow::Result<Vec<Rig>> {
    let rig = load_rig(path)?;
    let base = rig.name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    let mut out: Vec<Rig> = (0..copies.posed).map(|k| posed_copy(&rig, &Augment::default(), base.wrapping_add(k as u64))).collect();
    let mut triangles = rig.mesh.triangle_count();
    for k in 0..copies.decimated {
        match decimated_copy(&rig, 0.5f32.powi(k as i32 + 1)) {
            Some(copy) if copy.mesh.triangle_count() < triangles => {
                triangles = copy.mesh.triangle_count();
                out.push(copy);
            }
            _ => break,
        }
    }
    out.insert(0, rig);
    Ok(out)
}

/// [`training_rigs`] as the tokenizer's shape fields.
pub fn load_augmented(path: &Path, prior: SkinPrior, copies: Copies) -> anyhow::Result<Vec<Asset>> {
    training_rigs(path, copies)?.iter().map(|rig| Ok(Asset::new(rig, prior, Task::silent())?)).collect()
}

/// `make` for each of the procedural creatures of seeds `0..count`, with a progress bar;
/// failures are reported and skipped.
pub fn creatures<T>(count: usize, make: impl Fn(&Rig) -> anyhow::Result<T>) -> Vec<T> {
    if count == 0 {
        return Vec::new();
    }
    eprintln!("growing {count} procedural creatures");
    let bar = files::progress_bar(count);
    let options = CreatureOptions::default();
    let out = (0..count as u64)
        .filter_map(|seed| {
            let made = make(&creature(seed, &options));
            bar.inc(1);
            made.map_err(|e| bar.suspend(|| eprintln!("skipped creature {seed}: {e}"))).ok()
        })
        .collect();
    bar.finish_and_clear();
    out
}

/// One rigged file's shape field, built with the `prior` binder (the model's).
pub fn load_asset(path: &Path, prior: SkinPrior) -> anyhow::Result<Asset> {
    Ok(Asset::new(&load_rig(path)?, prior, Task::silent())?)
}

/// A rigged file with its weightless joints marked non-deforming, named for tables.
pub fn load_rig(path: &Path) -> anyhow::Result<Rig> {
    let mut rig = rig_io::load(path)?.rig;
    rig.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    rig.mark_unweighted_joints_non_deforming();
    rig.name = display_name(path);
    Ok(rig)
}

/// `folder/file` without the extension: enough to tell assets apart in tables.
pub fn display_name(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    match path.parent().and_then(|p| p.file_name()) {
        Some(dir) => format!("{}/{stem}", dir.to_string_lossy()),
        None => stem,
    }
}

/// Refuses decoding thresholds that cannot mean what the user wants: a weight share must be in
/// [0, 1), a presence probability in [0, 1].
pub fn check_thresholds(min_weights: &[f32], min_presence: f32) -> anyhow::Result<()> {
    if let Some(m) = min_weights.iter().find(|m| !(0.0..1.0).contains(*m)) {
        anyhow::bail!("--min-weight is a fraction of a vertex's total weight: 0 or more and under 1, not {m}");
    }
    if !(0.0..=1.0).contains(&min_presence) {
        anyhow::bail!("--min-presence is a probability: 0 to 1, not {min_presence}");
    }
    Ok(())
}

/// Refuses a loss weight, margin or step size that is negative or not a number (each would
/// silently switch its term off or climb the loss).
pub fn check_non_negative(values: &[(&str, f32)]) -> anyhow::Result<()> {
    match values.iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
        Some((flag, v)) => anyhow::bail!("{flag} must be a number of 0 or more, not {v}"),
        None => Ok(()),
    }
}
