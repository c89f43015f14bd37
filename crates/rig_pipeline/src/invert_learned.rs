//! Learned inversion of a black-box rig, end to end as EA's paper runs it: sample the rig, train
//! the approximation, then invert a test animation three ways (an inverse network trained through
//! the approximation with a mesh loss, gradient descent on the controls through the
//! approximation, and the baseline inverse trained on the samples' controls), each measured as
//! the mean vertex distance of the true rig's meshes at the found controls.

use std::time::Instant;

use rig_core::invert::blackbox::{mean_vertex_distance, straight_animation, ControlRig, SampledRig};
use rig_core::Task;
use rig_model::rig_inverse::{optimise_controls, train_approximation, train_control_loss_inverse, train_mesh_loss_inverse, Schedule};
use rig_model::CpuTrainBackend;

use crate::PipelineError;

/// Sizes of one run (EA's toy: 1,000 samples with the last 100 held out, a 128-frame test
/// animation, an approximation of two layers of 1,024 and an inverse of one layer of 512).
#[derive(Debug, Clone)]
pub struct LearnedSetup {
    pub samples: usize,
    pub validation: usize,
    pub frames: usize,
    pub approximation_widths: Vec<usize>,
    pub inverse_widths: Vec<usize>,
    pub approximation: Schedule,
    pub inverse: Schedule,
    /// Adam steps of the direct optimisation per frame batch.
    pub direct_steps: usize,
    pub seed: u64,
}

impl Default for LearnedSetup {
    fn default() -> Self {
        LearnedSetup {
            samples: 1000,
            validation: 100,
            frames: 128,
            approximation_widths: vec![1024, 1024],
            inverse_widths: vec![512],
            approximation: Schedule { learning_rate: 1e-3, max_epochs: 1000, ..Schedule::default() },
            inverse: Schedule { learning_rate: 1e-3, max_epochs: 1000, ..Schedule::default() },
            direct_steps: 500,
            seed: 1,
        }
    }
}

/// Each figure is a mean Euclidean vertex distance on the test animation, in the rig's units.
#[derive(Debug, Clone)]
pub struct LearnedReport {
    pub rig: String,
    pub vertices: usize,
    pub controls: usize,
    /// The approximation's meshes at the animation's true controls against the true meshes.
    pub approximation: f64,
    pub approximation_epochs: usize,
    pub approximation_seconds: f32,
    /// Inverse trained through the approximation with a mesh loss (EA's method).
    pub mesh_loss_inverse: f64,
    pub mesh_loss_seconds: f32,
    /// Gradient descent on each frame's controls through the approximation.
    pub direct: f64,
    pub direct_seconds: f32,
    /// Inverse trained on the samples with a loss on the controls (EA's baseline).
    pub control_loss_inverse: f64,
    pub control_loss_seconds: f32,
    /// The scale of the figures: mean distance of the animation's vertices from their centre.
    pub mesh_radius: f64,
}

fn through_rig(rig: &dyn ControlRig, controls: &[Vec<f32>]) -> Vec<Vec<[f32; 3]>> {
    controls.iter().map(|c| rig.evaluate(c)).collect()
}

fn radius(meshes: &[Vec<[f32; 3]>]) -> f64 {
    let mut sum = 0.0;
    let mut n = 0;
    for m in meshes {
        let c: [f64; 3] = std::array::from_fn(|a| m.iter().map(|p| p[a] as f64).sum::<f64>() / m.len().max(1) as f64);
        for p in m {
            sum += (0..3).map(|a| (p[a] as f64 - c[a]).powi(2)).sum::<f64>().sqrt();
            n += 1;
        }
    }
    sum / n.max(1) as f64
}

/// Runs the comparison on `rig`, reporting each stage's progress on `task`.
pub fn run_learned(rig: &dyn ControlRig, setup: &LearnedSetup, task: &Task) -> Result<LearnedReport, PipelineError> {
    let device = Default::default();
    let data = SampledRig::sample(rig, setup.samples, setup.seed);
    let n = rig.control_names().len();
    let anim = straight_animation(n, setup.frames, setup.seed ^ 0xA11);
    let truth = through_rig(rig, &anim);
    // Each stage's epochs fill its share of the progress bar; Cancel ends the run.
    let progress = |stage: &'static str, from: f32, span: f32, max: usize| {
        move |epoch: usize, train: f32, _valid: f32| {
            let fraction = from + span * (epoch + 1) as f32 / max.max(1) as f32;
            task.stage(&format!("{stage}: epoch {}, loss {train:.2e}", epoch + 1), fraction).is_ok()
        }
    };
    let mut report = progress("training the rig approximation", 0.0, 0.5, setup.approximation.max_epochs);
    let approx = train_approximation::<CpuTrainBackend>(
        &data.controls,
        &data.meshes,
        setup.validation,
        &setup.approximation_widths,
        &setup.approximation,
        &device,
        &mut report,
    )
    .map_err(|e| PipelineError::Invert(rig_core::invert::InvertError::Learned(e.to_string())))?;
    let approximation = mean_vertex_distance(&approx.meshes(&anim, &device), &truth);
    task.check()?;
    task.check()?;
    let started = Instant::now();
    let mut report = progress("training the inverse through the approximation", 0.5, 0.2, setup.inverse.max_epochs);
    let inverse =
        train_mesh_loss_inverse::<CpuTrainBackend>(&approx, &truth, n, &setup.inverse_widths, &setup.inverse, &device, &mut report);
    let mesh_loss_inverse = mean_vertex_distance(&through_rig(rig, &inverse.controls(&truth, &approx.scale, &device)), &truth);
    let mesh_loss_seconds = started.elapsed().as_secs_f32();
    task.check()?;
    task.stage("optimising each frame's controls through the approximation", 0.7)?;
    let started = Instant::now();
    let direct_controls = optimise_controls::<CpuTrainBackend>(&approx, &truth, &rig.neutral(), setup.direct_steps, 0.05, &device);
    let direct = mean_vertex_distance(&through_rig(rig, &direct_controls), &truth);
    let direct_seconds = started.elapsed().as_secs_f32();
    task.check()?;
    let started = Instant::now();
    let mut report = progress("training the control-loss inverse", 0.8, 0.2, setup.inverse.max_epochs);
    let baseline = train_control_loss_inverse::<CpuTrainBackend>(
        (&data.controls, &data.meshes),
        &approx.scale,
        setup.validation,
        &setup.inverse_widths,
        &setup.inverse,
        &device,
        &mut report,
    );
    let control_loss_inverse = mean_vertex_distance(&through_rig(rig, &baseline.controls(&truth, &approx.scale, &device)), &truth);
    task.check()?;
    Ok(LearnedReport {
        rig: rig.name().to_string(),
        vertices: rig.vertex_count(),
        controls: n,
        approximation,
        approximation_epochs: approx.report.epochs,
        approximation_seconds: approx.report.seconds,
        mesh_loss_inverse,
        mesh_loss_seconds,
        direct,
        direct_seconds,
        control_loss_inverse,
        control_loss_seconds: started.elapsed().as_secs_f32(),
        mesh_radius: radius(&truth),
    })
}

/// A rig known only by samples, inverted on target meshes: the approximation is trained on the
/// samples (the last tenth held out), then each target's controls descend the mesh loss through
/// it (EA's direct optimisation, their best figure on the toy).
#[derive(Debug, Clone)]
pub struct SampledSetup {
    pub widths: Vec<usize>,
    pub schedule: Schedule,
    pub direct_steps: usize,
}

impl Default for SampledSetup {
    fn default() -> Self {
        SampledSetup {
            widths: vec![256, 256],
            schedule: Schedule { learning_rate: 1e-3, max_epochs: 300, ..Schedule::default() },
            direct_steps: 500,
        }
    }
}

/// The controls found for each target and how far the approximation puts them.
#[derive(Debug, Clone)]
pub struct SampledInversion {
    pub control_names: Vec<String>,
    pub controls: Vec<Vec<f32>>,
    /// Per target: mean vertex distance of the approximation's mesh at the found controls,
    /// fraction of the targets' diagonal (the true rig is not at hand to measure through).
    pub frame_errors: Vec<f64>,
    /// The approximation on the held-out samples: mean vertex distance, fraction of the diagonal
    /// (how far to trust `frame_errors`).
    pub validation_error: f64,
    pub epochs: usize,
    pub seconds: f32,
}

/// Reads a samples file: JSON with `controls` (one list of numbers in [0, 1] per sample),
/// `meshes` (per sample, its vertices as `[x, y, z]`), and optionally `control_names` and `name`.
pub fn read_samples(path: &std::path::Path) -> Result<SampledRig, PipelineError> {
    let bad = |reason: String| PipelineError::Samples { path: path.to_path_buf(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let numbers = |v: &serde_json::Value, what: &str| -> Result<Vec<f32>, PipelineError> {
        v.as_array()
            .ok_or_else(|| bad(format!("{what} is not a list")))?
            .iter()
            .map(|x| x.as_f64().map(|x| x as f32).ok_or_else(|| bad(format!("{what} holds something other than a number"))))
            .collect()
    };
    let list = |key: &str| json.get(key).and_then(|v| v.as_array()).ok_or_else(|| bad(format!("no \"{key}\" list")));
    let controls =
        list("controls")?.iter().enumerate().map(|(i, c)| numbers(c, &format!("controls[{i}]"))).collect::<Result<Vec<_>, _>>()?;
    let meshes = list("meshes")?
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let flat = m.as_array().ok_or_else(|| bad(format!("meshes[{i}] is not a list of vertices")))?;
            flat.iter()
                .map(|p| {
                    let p = numbers(p, &format!("a vertex of meshes[{i}]"))?;
                    <[f32; 3]>::try_from(p.as_slice()).map_err(|_| bad(format!("a vertex of meshes[{i}] is not [x, y, z]")))
                })
                .collect::<Result<Vec<[f32; 3]>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let count = controls.first().map_or(0, Vec::len);
    if count == 0 && !controls.is_empty() {
        return Err(bad("the samples have no controls: each sample needs its control values".into()));
    }
    let control_names = match json.get("control_names").and_then(|v| v.as_array()) {
        Some(names) => names
            .iter()
            .map(|n| n.as_str().map(str::to_string).ok_or_else(|| bad("control_names holds something other than a name".into())))
            .collect::<Result<Vec<_>, _>>()?,
        None => (0..count).map(|c| format!("control_{c}")).collect(),
    };
    let name = json.get("name").and_then(|v| v.as_str()).unwrap_or("samples").to_string();
    let rig = SampledRig { name, control_names, controls, meshes };
    rig.check().map_err(|e| bad(e.to_string()))?;
    if rig.control_names.len() != count {
        return Err(bad(format!("{} control names for {count} controls", rig.control_names.len())));
    }
    if rig.controls.len() < 10 {
        return Err(bad(format!("{} samples: give at least 10 (EA use 1,000)", rig.controls.len())));
    }
    Ok(rig)
}

/// Inverts `targets` (each with the samples' vertex count) through an approximation trained on
/// `samples`.
pub fn invert_samples(
    samples: &SampledRig,
    targets: &[Vec<[f32; 3]>],
    setup: &SampledSetup,
    task: &Task,
) -> Result<SampledInversion, PipelineError> {
    if targets.is_empty() {
        return Err(PipelineError::Invert(rig_core::invert::InvertError::NoFrames));
    }
    let vertices = samples.meshes.first().map_or(0, Vec::len);
    if let Some((f, t)) = targets.iter().enumerate().find(|(_, t)| t.len() != vertices) {
        return Err(PipelineError::Invert(rig_core::invert::InvertError::VertexCount { frame: f, found: t.len(), expected: vertices }));
    }
    if let Some(f) = targets.iter().position(|t| t.iter().flatten().any(|v| !v.is_finite())) {
        let vertex = targets[f].iter().position(|p| p.iter().any(|v| !v.is_finite())).unwrap_or(0);
        return Err(PipelineError::Invert(rig_core::invert::InvertError::NotFinite { frame: f, vertex }));
    }
    let started = Instant::now();
    let device = Default::default();
    let validation = (samples.controls.len() / 10).max(1);
    let epochs = setup.schedule.max_epochs;
    let mut report = |epoch: usize, train: f32, _valid: f32| {
        task.stage(
            &format!("training the rig approximation: epoch {}, loss {train:.2e}", epoch + 1),
            0.8 * (epoch + 1) as f32 / epochs.max(1) as f32,
        )
        .is_ok()
    };
    let approx = train_approximation::<CpuTrainBackend>(
        &samples.controls,
        &samples.meshes,
        validation,
        &setup.widths,
        &setup.schedule,
        &device,
        &mut report,
    )
    .map_err(|e| PipelineError::Invert(rig_core::invert::InvertError::Learned(e.to_string())))?;
    task.check()?;
    let split = samples.controls.len() - validation;
    let diagonal = rig_core::invert::diagonal(targets.first().map_or(&[][..], |t| t.as_slice())).max(1e-12);
    let held_out = approx.meshes(&samples.controls[split..], &device);
    let validation_error = mean_vertex_distance(&held_out, &samples.meshes[split..]) / diagonal;
    task.stage("optimising each target's controls through the approximation", 0.8)?;
    let neutral = vec![0.5; samples.control_names.len()];
    let controls = optimise_controls::<CpuTrainBackend>(&approx, targets, &neutral, setup.direct_steps, 0.05, &device);
    let reached = approx.meshes(&controls, &device);
    let frame_errors = reached
        .iter()
        .zip(targets)
        .map(|(a, b)| mean_vertex_distance(std::slice::from_ref(a), std::slice::from_ref(b)) / diagonal)
        .collect();
    Ok(SampledInversion {
        control_names: samples.control_names.clone(),
        controls,
        frame_errors,
        validation_error,
        epochs: approx.report.epochs,
        seconds: started.elapsed().as_secs_f32(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rig_core::invert::blackbox::CubeToy;

    /// A small run on EA's toy: both ways through the learned approximation land far nearer the
    /// targets than the neutral controls do, and the approximation itself is close (bounds
    /// with room for the networks' unseeded initialisation).
    #[test]
    fn the_learned_inversion_of_the_cube_toy_beats_standing_still() {
        let setup = LearnedSetup {
            samples: 300,
            validation: 30,
            frames: 32,
            approximation_widths: vec![64, 64],
            inverse_widths: vec![64],
            approximation: Schedule { learning_rate: 3e-3, max_epochs: 150, ..Schedule::default() },
            inverse: Schedule { learning_rate: 3e-3, max_epochs: 150, ..Schedule::default() },
            direct_steps: 200,
            seed: 3,
        };
        let r = run_learned(&CubeToy, &setup, &Task::silent()).expect("runs");
        let anim = straight_animation(6, 32, 3 ^ 0xA11);
        let truth = through_rig(&CubeToy, &anim);
        let neutral = through_rig(&CubeToy, &vec![CubeToy.neutral(); 32]);
        let standing = mean_vertex_distance(&neutral, &truth);
        assert!(r.approximation < 0.35 * standing, "approximation {} vs neutral {standing}", r.approximation);
        assert!(r.mesh_loss_inverse < 0.5 * standing, "mesh-loss inverse {} vs neutral {standing}", r.mesh_loss_inverse);
        assert!(r.direct < 0.5 * standing, "direct {} vs neutral {standing}", r.direct);
    }
}
