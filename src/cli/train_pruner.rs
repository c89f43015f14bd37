//! `rigsmith train joint-pruner`: which joints of the geometric template the learned method
//! keeps.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::bail;
use burn::module::AutodiffModule;
use rig_model::joint_pruner::{config_for, mean_chamfer, save, train, PrunerSample, PrunerTraining};
use rig_model::CpuTrainBackend;

/// Width of the network's hidden layers.
const WIDTH: usize = 64;

pub fn run(data: &[PathBuf], out: Option<&Path>, validation_every: usize, options: &PrunerTraining) -> anyhow::Result<()> {
    let started = Instant::now();
    let files = rig_pipeline::training::rigged_files(data);
    if files.is_empty() {
        bail!("no .glb/.gltf/.fbx file under {data:?}");
    }
    let every = validation_every.max(2);
    let (mut training, mut validation): (Vec<PrunerSample>, Vec<PrunerSample>) = (Vec::new(), Vec::new());
    for (i, file) in files.iter().enumerate() {
        match rig_pipeline::training::pruner_samples(file) {
            Ok([sample, mirrored]) if i % every == every - 1 => {
                validation.push(sample);
                drop(mirrored);
            }
            Ok(both) => training.extend(both),
            Err(e) => eprintln!("  skipped {}: {e}", file.display()),
        }
    }
    if training.is_empty() {
        bail!("no usable training character under {data:?}");
    }
    eprintln!(
        "{} training samples (each character and its mirror image), {} validation characters ({:.0} s)",
        training.len(),
        validation.len(),
        started.elapsed().as_secs_f32()
    );
    let config = config_for(&training, WIDTH);
    let device = Default::default();
    let report = |epoch, loss, val| eprintln!("epoch {epoch}: expected CD-J2J {loss:.3}, validation CD-J2J {val:.3}");
    let model = train::<CpuTrainBackend>(&config, &training, &validation, options, &device, report)?;
    let all_kept = validation.iter().map(|s| s.chamfer(&vec![true; s.positions.len()])).sum::<f32>() / validation.len().max(1) as f32;
    let pruned = mean_chamfer(&model.valid(), &config, &validation, &device);
    eprintln!("validation CD-J2J: template {all_kept:.3}, pruned {pruned:.3} ({} characters)", validation.len());
    if let Some(dir) = out {
        save(&model, &config, dir)?;
        eprintln!("wrote {}/joint_pruner.mpk and .json ({:.0} s in all)", dir.display(), started.elapsed().as_secs_f32());
    }
    Ok(())
}
