//! `rigsmith train motion-init`: the learned initialiser of rig from motion.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::bail;
use burn::module::AutodiffModule;
use rig_model::motion_init::{save, train, validation_loss, MotionInitConfig, MotionInitTraining};
use rig_model::CpuTrainBackend;

/// Procedural creatures added to the files' clips.
const CREATURES: usize = 40;
/// Clips read from each file.
const CLIPS_PER_FILE: usize = 3;

pub fn run(data: &[PathBuf], out: Option<&Path>, epochs: usize, lr: f64) -> anyhow::Result<()> {
    let started = Instant::now();
    let files = rig_pipeline::training::rigged_files(data);
    if files.is_empty() {
        bail!("no .glb/.gltf/.fbx file under {data:?}");
    }
    // Every eighth file is held out for the validation loss.
    let (mut train_files, mut val_files) = (Vec::new(), Vec::new());
    for (i, f) in files.iter().enumerate() {
        if i % 8 == 7 {
            val_files.push(f.clone())
        } else {
            train_files.push(f.clone())
        }
    }
    let sequences = rig_pipeline::motion::training_sequences(&train_files, CLIPS_PER_FILE, CREATURES, |line| eprintln!("  {line}"));
    let validation = rig_pipeline::motion::training_sequences(&val_files, CLIPS_PER_FILE, 0, |_| {});
    eprintln!(
        "{} training sequences from {} files and {CREATURES} creatures ({:.0} s)",
        sequences.len(),
        files.len(),
        started.elapsed().as_secs_f32()
    );
    let options = MotionInitTraining { steps: epochs.max(1) * 100, learning_rate: lr, ..Default::default() };
    let config = MotionInitConfig::new();
    let device = Default::default();
    let model = train::<CpuTrainBackend>(&config, &sequences, &options, &device, |step, loss| eprintln!("step {step}: loss {loss:.4}"))?;
    let held_out = validation_loss(&model.valid(), &validation, &options, &device);
    eprintln!("validation loss on {} held-out clips: {held_out:.4}", validation.len());
    if let Some(dir) = out {
        save(&model, &config, dir)?;
        eprintln!("wrote {}/motion_init.mpk and .json ({:.0} s in all)", dir.display(), started.elapsed().as_secs_f32());
    }
    Ok(())
}
