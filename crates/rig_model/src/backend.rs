//! Which burn backend runs the learned models, chosen once when they are loaded. The candidates
//! are CUDA (with the `cuda` feature, when the driver's library is there and a device answers),
//! wgpu (with the `wgpu` feature, when an adapter answers) and the CPU (ndarray); when a GPU one
//! answers, each runs the same probe and the fastest is kept (a software Vulkan driver loses
//! to the CPU), and the note names it with the times, or says why each GPU one was passed over. Training picks its backend itself
//! (`rigsmith train --backend`, [`crate::CudaTrainBackend`]).

use std::path::Path;
use std::time::{Duration, Instant};

use burn::tensor::backend::Backend;

use nalgebra::Vector3;
use rig_core::autoskel::{skeleton_from_tree, JointTree};
use rig_core::{Mesh, MeshGroup, Part, Skeleton, Task};

use crate::decode::greedy_steps;
use crate::features::ShapeField;
use crate::gen_data::shape_tensors;
use crate::rigging::ModelPair;
use crate::shape::POINT_WIDTH;
use crate::skin::{predict, DecodeOptions};
use crate::{CpuBackend, ModelError};

/// What the caller asked for (`--backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// The fastest one available.
    #[default]
    Auto,
    Cpu,
    Wgpu,
    Cuda,
}

/// The models on the backend that loaded them.
pub(crate) enum Loaded {
    Cpu(Box<ModelPair<CpuBackend>>),
    #[cfg(feature = "wgpu")]
    Wgpu(Box<ModelPair<burn::backend::Wgpu>>),
    #[cfg(feature = "cuda")]
    Cuda(Box<ModelPair<burn::backend::Cuda>>),
}

/// Runs `$body` with `$pair` bound to the loaded [`ModelPair`], whatever its backend.
macro_rules! dispatch {
    ($loaded:expr, $pair:ident => $body:expr) => {
        match $loaded {
            $crate::backend::Loaded::Cpu($pair) => $body,
            #[cfg(feature = "wgpu")]
            $crate::backend::Loaded::Wgpu($pair) => $body,
            #[cfg(feature = "cuda")]
            $crate::backend::Loaded::Cuda($pair) => $body,
        }
    };
}
pub(crate) use dispatch;

/// Loads the models from `dir` on `choice`, returning a note that names the backend and, when it
/// is not the one asked for, why. `Auto` loads every backend that answers and keeps the one that
/// runs a probe fastest ([`probe`]); with the CPU alone there is nothing to measure.
pub(crate) fn load(dir: &Path, choice: BackendChoice) -> Result<(Loaded, String), ModelError> {
    let mut candidates: Vec<(Loaded, &'static str)> = Vec::new();
    let mut passed_over: Vec<String> = Vec::new();
    if matches!(choice, BackendChoice::Auto | BackendChoice::Cuda) {
        match cuda(dir)? {
            Ok(loaded) => candidates.push((loaded, "CUDA (burn-cuda)")),
            Err(why) => passed_over.push(format!("CUDA: {why}")),
        }
    }
    if matches!(choice, BackendChoice::Auto | BackendChoice::Wgpu) {
        match wgpu(dir)? {
            Ok(loaded) => candidates.push((loaded, "GPU (wgpu)")),
            Err(why) => passed_over.push(format!("wgpu: {why}")),
        }
    }
    if choice != BackendChoice::Auto {
        if let Some((loaded, name)) = candidates.pop() {
            return Ok((loaded, name.to_string()));
        }
    }
    let cpu = Loaded::Cpu(Box::new(ModelPair::load(dir, Default::default())?));
    if candidates.is_empty() {
        let note = match (choice, passed_over.is_empty()) {
            (BackendChoice::Cpu, _) | (_, true) => "CPU (ndarray)".to_string(),
            _ => format!("CPU (ndarray); passed over {}", passed_over.join("; ")),
        };
        return Ok((cpu, note));
    }
    candidates.push((cpu, "CPU (ndarray)"));
    let timed: Vec<(Loaded, &str, Option<Duration>)> = candidates
        .into_iter()
        .map(|(loaded, name)| {
            let time = dispatch!(&loaded, pair => probe(pair));
            (loaded, name, time)
        })
        .collect();
    let times: Vec<(&str, Option<Duration>)> = timed.iter().map(|(_, name, t)| (*name, *t)).collect();
    let (best, mut note) = probe_choice(&times);
    if !passed_over.is_empty() {
        note.push_str(&format!("; passed over {}", passed_over.join("; ")));
    }
    let loaded = timed.into_iter().nth(best).map(|(l, _, _)| l).ok_or_else(|| ModelError::Config("no backend ran the probe".into()))?;
    Ok((loaded, note))
}

/// Skeleton tokens the probe writes after encoding the shape.
const PROBE_TOKENS: usize = 24;

/// Time of the network work a learned rig with these models does, at a small scale, on a
/// synthetic character (an ellipsoid with a chain of three joints): the skin predictor's
/// encoding and decoding when the folder has one, and the generator's shape encoding and
/// [`PROBE_TOKENS`] skeleton tokens one at a time when the generator writes the skeleton (no
/// joint pruner) or the skin (no skin predictor). The geometric prior is computed once,
/// untimed (it runs on the CPU whatever the backend). Timed after one untimed pass that lets a
/// GPU backend compile its kernels; `None` when the backend panics.
pub(crate) fn probe<B: Backend>(pair: &ModelPair<B>) -> Option<Duration> {
    let n = pair.config.points.max(1);
    let points: Vec<[f32; POINT_WIDTH]> = (0..n).map(|i| sphere_point(i, n)).collect();
    let uses_generator = pair.pruner.is_none() || pair.predictor.is_none();
    let (mesh, skeleton) = probe_character();
    let field = pair.predictor.as_ref().and_then(|p| ShapeField::new(&mesh, &skeleton, p.prior(), Task::silent()).ok());
    let run = || {
        if uses_generator {
            let (p, q) = shape_tensors::<B>(&[&points], pair.config.latents, &pair.device);
            let latents = pair.generator.encode_shape(p, q);
            greedy_steps(&pair.generator, &pair.config, latents, PROBE_TOKENS);
        }
        if let (Some(predictor), Some(field)) = (&pair.predictor, &field) {
            let _ = predict(predictor, field.clone(), &DecodeOptions::default(), Task::silent(), &pair.device);
        }
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run();
        let t = Instant::now();
        run();
        t.elapsed()
    }))
    .ok()
}

/// The probe's character: a closed ellipsoid (0.3 x 1 x 0.3, 554 vertices) with a chain of
/// three joints along its long axis.
fn probe_character() -> (Mesh, Skeleton) {
    const RINGS: usize = 24;
    const SEGMENTS: usize = 24;
    let mut positions = vec![[0.0, -1.0, 0.0]];
    for r in 1..RINGS {
        let phi = std::f32::consts::PI * r as f32 / RINGS as f32;
        let (y, s) = (-phi.cos(), phi.sin());
        for k in 0..SEGMENTS {
            let t = std::f32::consts::TAU * k as f32 / SEGMENTS as f32;
            positions.push([0.3 * s * t.cos(), y, 0.3 * s * t.sin()]);
        }
    }
    positions.push([0.0, 1.0, 0.0]);
    let top = positions.len() as u32 - 1;
    let ring = |r: usize, k: usize| (1 + (r - 1) * SEGMENTS + k % SEGMENTS) as u32;
    let mut triangles = Vec::new();
    for k in 0..SEGMENTS {
        triangles.push([0, ring(1, k + 1), ring(1, k)]);
        triangles.push([ring(RINGS - 1, k), ring(RINGS - 1, k + 1), top]);
        for r in 1..RINGS - 1 {
            triangles.push([ring(r, k), ring(r, k + 1), ring(r + 1, k + 1)]);
            triangles.push([ring(r, k), ring(r + 1, k + 1), ring(r + 1, k)]);
        }
    }
    let (vertices, count) = (positions.len() as u32, triangles.len() as u32);
    let part = Part {
        name: "probe".into(),
        group: 0,
        material: None,
        vertices: 0..vertices,
        triangles: 0..count,
        skinned: true,
        morph_targets: vec![],
    };
    let mesh = Mesh { positions, triangles, parts: vec![part], groups: vec![MeshGroup::default()], ..Default::default() };
    let tree = JointTree {
        positions: [-0.7, 0.0, 0.7].iter().map(|&y| Vector3::new(0.0, y, 0.0)).collect(),
        parents: vec![None, Some(0), Some(1)],
    };
    (mesh, skeleton_from_tree(&tree))
}

/// Point `i` of `n` spread evenly over the unit sphere (a Fibonacci lattice), with its normal.
fn sphere_point(i: usize, n: usize) -> [f32; POINT_WIDTH] {
    let z = 1.0 - (2 * i + 1) as f32 / n as f32;
    let r = (1.0 - z * z).max(0.0).sqrt();
    let angle = i as f32 * std::f32::consts::PI * (3.0 - 5f32.sqrt());
    let (x, y) = (r * angle.cos(), r * angle.sin());
    [x, y, z, x, y, z]
}

/// The fastest of the probed backends and a note that names it with every backend's time.
fn probe_choice(times: &[(&str, Option<Duration>)]) -> (usize, String) {
    let fastest = (0..times.len()).filter(|&i| times[i].1.is_some()).min_by_key(|&i| times[i].1);
    let best = fastest.unwrap_or(times.len().saturating_sub(1));
    let each: Vec<String> = times
        .iter()
        .map(|(name, t)| match t {
            Some(t) => format!("{name} {:.1} ms", t.as_secs_f64() * 1e3),
            None => format!("{name} failed"),
        })
        .collect();
    let name = times.get(best).map_or("CPU (ndarray)", |t| t.0);
    let how = match fastest {
        Some(_) => "the fastest in a probe of the models' work",
        None => "kept: no backend ran the probe",
    };
    (best, format!("{name}, {how}: {}", each.join(", ")))
}

/// Whether `choice` can run here: `Err` says why not (no driver, no adapter, or a build
/// without the feature), probed so that burn never panics on a thread of its own. Model
/// loading ([`load`]) and training (`rigsmith train --backend`) ask the same question.
pub fn check_backend(choice: BackendChoice) -> Result<(), String> {
    match choice {
        BackendChoice::Cpu | BackendChoice::Auto => Ok(()),
        BackendChoice::Cuda => cuda_ready(),
        BackendChoice::Wgpu => wgpu_ready(),
    }
}

/// True when a one-element tensor makes the round trip to `device` and back without a panic
/// (burn's GPU backends panic when no adapter or driver answers).
#[cfg(any(feature = "wgpu", feature = "cuda", test))]
fn answers<B: burn::tensor::backend::Backend>(device: &B::Device) -> bool {
    use burn::tensor::Tensor;
    let device = std::panic::AssertUnwindSafe(device.clone());
    std::panic::catch_unwind(move || Tensor::<B, 1>::from_floats([1.0], &*device).into_data().to_vec::<f32>().ok() == Some(vec![1.0]))
        .unwrap_or(false)
}

#[cfg(any(not(feature = "wgpu"), not(feature = "cuda")))]
fn missing_feature(feature: &str) -> String {
    format!("built without the `{feature}` feature (rebuild with `cargo build --features {feature}`)")
}

#[cfg(feature = "wgpu")]
fn wgpu_ready() -> Result<(), String> {
    answers::<burn::backend::Wgpu>(&Default::default()).then_some(()).ok_or_else(|| "no GPU adapter answered".into())
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_ready() -> Result<(), String> {
    Err(missing_feature("wgpu"))
}

#[cfg(feature = "wgpu")]
fn wgpu(dir: &Path) -> Result<Result<Loaded, String>, ModelError> {
    Ok(match wgpu_ready() {
        Ok(()) => Ok(Loaded::Wgpu(Box::new(ModelPair::load(dir, Default::default())?))),
        Err(why) => Err(why),
    })
}

#[cfg(not(feature = "wgpu"))]
fn wgpu(_: &Path) -> Result<Result<Loaded, String>, ModelError> {
    Ok(Err(missing_feature("wgpu")))
}

/// burn-cuda loads libcuda at run time and, without it, panics on a thread of its own: look
/// for the library first.
#[cfg(feature = "cuda")]
fn cuda_ready() -> Result<(), String> {
    if !cuda_library_present() {
        return Err("no libcuda.so.1 (NVIDIA driver) found".into());
    }
    answers::<burn::backend::Cuda>(&Default::default()).then_some(()).ok_or_else(|| "the CUDA device did not answer".into())
}

#[cfg(not(feature = "cuda"))]
fn cuda_ready() -> Result<(), String> {
    Err(missing_feature("cuda"))
}

#[cfg(feature = "cuda")]
fn cuda(dir: &Path) -> Result<Result<Loaded, String>, ModelError> {
    Ok(match cuda_ready() {
        Ok(()) => Ok(Loaded::Cuda(Box::new(ModelPair::load(dir, Default::default())?))),
        Err(why) => Err(why),
    })
}

#[cfg(not(feature = "cuda"))]
fn cuda(_: &Path) -> Result<Result<Loaded, String>, ModelError> {
    Ok(Err(missing_feature("cuda")))
}

/// libcuda.so.1 in the loader's usual places or on LD_LIBRARY_PATH.
#[cfg(feature = "cuda")]
fn cuda_library_present() -> bool {
    let mut dirs: Vec<std::path::PathBuf> =
        ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/cuda/lib64", "/usr/local/nvidia/lib64", "/usr/lib/wsl/lib"]
            .iter()
            .map(Into::into)
            .collect();
    if let Some(paths) = std::env::var_os("LD_LIBRARY_PATH") {
        dirs.extend(std::env::split_paths(&paths));
    }
    dirs.iter().any(|d| d.join("libcuda.so.1").exists())
}

impl std::str::FromStr for BackendChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "wgpu" => Ok(Self::Wgpu),
            "cuda" => Ok(Self::Cuda),
            _ => Err(format!("unknown backend '{s}': use auto, cpu, wgpu or cuda")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_backend_answers_and_is_chosen_when_asked() {
        assert!(answers::<CpuBackend>(&Default::default()));
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let (loaded, note) = load(&dir, BackendChoice::Cpu).expect("the shipped models load");
        assert!(matches!(loaded, Loaded::Cpu(_)));
        assert_eq!(note, "CPU (ndarray)");
    }

    #[test]
    fn the_probe_times_the_cpu_and_the_fastest_backend_is_kept() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let pair = ModelPair::<CpuBackend>::load(&dir, Default::default()).expect("the shipped models load");
        let cpu = probe(&pair).expect("the CPU runs the probe");
        assert!(cpu > Duration::ZERO);
        let ms = Duration::from_millis;
        let (best, note) = probe_choice(&[("GPU (wgpu)", Some(ms(80))), ("CPU (ndarray)", Some(ms(20)))]);
        assert_eq!(best, 1);
        assert!(note.starts_with("CPU (ndarray), the fastest") && note.contains("GPU (wgpu) 80.0 ms, CPU (ndarray) 20.0 ms"), "{note}");
        let (best, note) = probe_choice(&[("GPU (wgpu)", None), ("CPU (ndarray)", None)]);
        assert_eq!(best, 1);
        assert!(note.starts_with("CPU (ndarray), kept: no backend ran the probe"), "{note}");
        let (best, note) = probe_choice(&[("CUDA (burn-cuda)", Some(ms(3))), ("GPU (wgpu)", None), ("CPU (ndarray)", Some(ms(20)))]);
        assert_eq!(best, 0);
        assert!(note.contains("GPU (wgpu) failed"), "{note}");
    }

    #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
    #[test]
    fn without_gpu_features_auto_falls_back_to_the_cpu_and_says_why() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let (loaded, note) = load(&dir, BackendChoice::Auto).expect("the shipped models load");
        assert!(matches!(loaded, Loaded::Cpu(_)));
        assert!(note.contains("built without the `cuda` feature") && note.contains("built without the `wgpu` feature"), "{note}");
    }
}

/// With `--features wgpu` and a Vulkan/Metal/DX12 adapter (Mesa's lavapipe counts):
/// `cargo test -p rig_model --features wgpu backend -- --nocapture`.
#[cfg(all(test, feature = "wgpu"))]
mod wgpu_tests {
    use super::*;
    use crate::rigging::{rig_learned, LearnedModels, LearnedOptions};

    #[test]
    fn wgpu_rigs_like_the_cpu() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let gpu = LearnedModels::load_on(&root.join("models"), BackendChoice::Wgpu).expect("models load");
        if !gpu.backend_note.starts_with("GPU") {
            eprintln!("skipped: {}", gpu.backend_note);
            return;
        }
        let cpu = LearnedModels::load_on(&root.join("models"), BackendChoice::Cpu).expect("models load");
        let sample = rig_io::load(&root.join("assets/samples/khronos_fox/Fox.glb")).expect("the bundled fox").rig;
        let options = LearnedOptions { keep_skeleton: true, ..Default::default() };
        let (mut a, mut b) = (sample.clone(), sample);
        let t = std::time::Instant::now();
        rig_learned(&mut a, &gpu, &options, rig_core::Task::silent()).expect("rigs on the GPU");
        eprintln!("wgpu: {:.2} s ({})", t.elapsed().as_secs_f32(), gpu.backend_note);
        rig_learned(&mut b, &cpu, &options, rig_core::Task::silent()).expect("rigs on the CPU");
        let worst = (0..a.weights.vertex_count())
            .flat_map(|v| a.weights.row(v).0.iter().chain(b.weights.row(v).0).map(move |&k| (v, k)))
            .map(|(v, k)| (a.weights.weight(v, k) - b.weights.weight(v, k)).abs())
            .fold(0.0, f32::max);
        eprintln!("largest weight difference GPU vs CPU: {worst}");
        assert!(worst < 0.05, "GPU and CPU skins differ by {worst}");
        assert_eq!(a.unweighted_skinned_vertices(), 0);
    }
}
