//! `rigsmith train-face`: the face rig's learned refinement, trained on ICT identities.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use rig_model::face_refine::{train, FaceRefineConfig};
use rig_model::rig_inverse::Schedule;
use rig_model::CpuTrainBackend;
use rig_pipeline::face_train::{dataset, Topology};

#[derive(clap::Args)]
pub struct Args {
    /// ICT's identity model (ict_face_identities.glb).
    #[arg(long)]
    identities: PathBuf,
    /// Heads to train on: identities drawn with these seeds (FIRST..END).
    #[arg(long, default_value = "0..40")]
    seeds: String,
    /// Heads whose loss picks the kept network (FIRST..END, apart from the training seeds).
    #[arg(long, default_value = "500..504")]
    validation: String,
    /// Moving vertices drawn per head (each gives a row per shape).
    #[arg(long, default_value_t = 600)]
    vertices: usize,
    #[arg(long, default_value_t = 40)]
    epochs: usize,
    /// The models folder holding face/ict_face_expressions.glb; the refinement is written to its face/.
    #[arg(long)]
    models: Option<PathBuf>,
    /// Write the refinement here instead of the models folder's face/.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// `FIRST..END` as a range.
pub fn seed_range(text: &str, what: &str) -> anyhow::Result<(u64, u64)> {
    let (first, end) = text.split_once("..").with_context(|| format!("{what}: FIRST..END, not {text}"))?;
    let (first, end): (u64, u64) = (first.parse().context(what.to_string())?, end.parse().context(what.to_string())?);
    anyhow::ensure!(first < end, "{what}: {text} holds no seed");
    Ok((first, end))
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let (first, end) = seed_range(&a.seeds, "--seeds")?;
    let (vfirst, vend) = seed_range(&a.validation, "--validation")?;
    anyhow::ensure!(vend <= first || vfirst >= end, "--validation {} overlaps --seeds {}", a.validation, a.seeds);
    let path = rig_pipeline::face::template_path(a.models.as_deref());
    let template_mesh = rig_io::load(&path).with_context(|| format!("{}", path.display()))?.rig.mesh;
    let template = rig_core::face::FaceTemplate::from_ict(&template_mesh).with_context(|| format!("{}", path.display()))?;
    let identities = rig_io::load(&a.identities).with_context(|| format!("{}", a.identities.display()))?.rig.mesh;
    anyhow::ensure!(
        identities.positions.len() == template_mesh.positions.len(),
        "{}: {} vertices, the template has {}",
        a.identities.display(),
        identities.positions.len(),
        template_mesh.positions.len()
    );
    let topologies = [Topology::Own, Topology::Simplified(0.25), Topology::Simplified(0.5)];
    let mut say =
        |seed: u64, t: Topology, rows: usize| eprintln!("  head {seed} {t:?}: {rows} rows ({:.0} s)", started.elapsed().as_secs_f32());
    let dir = a.out.clone().unwrap_or_else(|| rig_model::store::models_dir(a.models.as_deref()).join(rig_pipeline::face::REFINER_DIR));
    let val_rows = dataset(&template, &template_mesh, &identities, vfirst..vend, &topologies, a.vertices, &mut say)?;
    let train_rows = dataset(&template, &template_mesh, &identities, first..end, &topologies, a.vertices, &mut say)?;
    eprintln!(
        "{} training rows, {} validation rows ({:.0} s)",
        train_rows.inputs.len(),
        val_rows.inputs.len(),
        started.elapsed().as_secs_f32()
    );
    let schedule = Schedule {
        batch: 2048,
        max_epochs: a.epochs,
        patience: 8,
        plateau: 3,
        learning_rate: 2e-3,
        validate_by_distance: true,
        ..Default::default()
    };
    let mut report = |epoch: usize, train: f32, val: f32| {
        eprintln!("epoch {epoch}: train {train:.5}, validation {val:.5} ({:.0} s)", started.elapsed().as_secs_f32());
        true
    };
    let (refiner, out) =
        train::<CpuTrainBackend>(FaceRefineConfig::default(), &train_rows, &val_rows, &schedule, &Default::default(), &mut report)?;
    print_shape_errors(&refiner, &val_rows);
    refiner.save(&dir)?;
    println!(
        "kept epoch {} of {}: validation {:.5} (no correction: {:.5}); wrote {}/{}.mpk ({:.0} s)",
        out.best_epoch,
        out.epochs,
        out.validation_loss,
        val_rows.wanted.iter().map(|w| w.iter().map(|x| x * x).sum::<f32>().sqrt()).sum::<f32>() / val_rows.wanted.len().max(1) as f32,
        dir.display(),
        rig_model::face_refine::STEM,
        started.elapsed().as_secs_f32()
    );
    Ok(())
}

/// Each shape's mean distance of the validation rows from the truth, without and with the
/// corrections.
fn print_shape_errors(
    refiner: &rig_model::face_refine::FaceRefiner<rig_model::CpuBackend>,
    validation: &rig_model::face_refine::RefineData,
) {
    let errors = rig_model::face_refine::shape_errors(refiner, validation, &Default::default());
    for (name, (without, with, rows)) in rig_core::face::ARKIT_52.iter().zip(&errors) {
        if *rows > 0 {
            eprintln!("{name:20} {without:.4} -> {with:.4} ({rows} validation rows)");
        }
    }
}
