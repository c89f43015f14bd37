//! Progress bars over the learned models' training data (`train`, `tokenize`) and checks of
//! their flags; the data itself is [`rig_pipeline::training`]'s.

use std::path::{Path, PathBuf};

use rig_core::creature::{creature, CreatureOptions};
use rig_core::Rig;
use rig_model::data::Asset;
use rig_model::features::SkinPrior;
pub use rig_pipeline::training::{display_name, load_asset, load_augmented, rigged_files, training_rigs, Copies};

use super::files;

/// Loads each file and builds its shape field for the artist's skeleton, with a progress bar;
/// files that cannot be used are reported and skipped. Joints that carry no weight in the file
/// (IK targets, end markers) are not learned from, as in `rig --use-skeleton`.
pub fn load_assets(paths: &[PathBuf], prior: SkinPrior) -> Vec<(PathBuf, Asset)> {
    load_each(paths, |p| Ok(load_asset(p, prior)?))
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
