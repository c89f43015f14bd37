//! `rigsmith bench`: import/export speed and peak memory on a large skinned mesh.
//!
//! `bench make --vertices N --out big.glb` subdivides a rig until it has N vertices;
//! `bench import big.glb` and `bench export big.glb` time one stage each and print the
//! process's peak resident memory. Run it in release: `cargo run --release -- bench ...`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use rig_core::Rig;
use rig_pipeline::bench::{cancel_latency, peak_rss_kib, subdivide_to, time_skin};
use rig_pipeline::{apply, run_rig, Caches, LearnedSettings, RigRequest, SkeletonSource};

use super::rig::BackendArg;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    stage: Stage,
}

#[derive(clap::Subcommand)]
enum Stage {
    /// Subdivide a rig (midpoint, 1 triangle -> 4) until it has at least N vertices; write GLB.
    Make {
        /// Source rig.
        #[arg(long, default_value = "assets/samples/khronos_fox/Fox.glb")]
        input: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        vertices: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Time a face rig (ARKit's 52 shapes) of a head: each stage and the whole, over several runs
    /// (the template and the file are read first, untimed).
    Face {
        #[arg(long)]
        input: PathBuf,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Without the learned refinement.
        #[arg(long)]
        no_learned: bool,
        /// The models folder (default: models/).
        #[arg(long)]
        models: Option<PathBuf>,
    },
    /// Time the editor's drawing without a window: its skinning and material shaders render the
    /// rig (the mesh subdivided to at least N vertices) into an offscreen image while the file's
    /// first clip (or the test motion) plays; prints the adapter and the frame times.
    Gpu {
        #[arg(long, default_value = "assets/samples/khronos_fox/Fox.glb")]
        input: PathBuf,
        /// Subdivide the mesh until it has at least this many vertices (0: as stored).
        #[arg(long, default_value_t = 0)]
        vertices: usize,
        /// Frames timed after the warm-up.
        #[arg(long, default_value_t = 300)]
        frames: usize,
        /// Image size in pixels, WIDTHxHEIGHT.
        #[arg(long, default_value = "1280x800")]
        size: String,
        /// Save the last frame as PNG here.
        #[arg(long)]
        image: Option<PathBuf>,
    },
    /// Time importing a file.
    Import { file: PathBuf },
    /// Import a file (untimed), then time exporting it as GLB to a temporary file.
    Export { file: PathBuf },
    /// Time skinning a rig's own skeleton (geodesic voxel binding) after subdividing the mesh
    /// to at least each of the given vertex counts.
    Skin {
        #[arg(long, default_value = "assets/samples/khronos_fox/Fox.glb")]
        input: PathBuf,
        #[arg(long, value_delimiter = ',', default_value = "5000,50000,200000")]
        vertices: Vec<usize>,
        /// Time the falloff binder instead of the default bone heat.
        #[arg(long)]
        falloff: bool,
    },
    /// Time the learned rigging (skeleton and skin, then skin only) after subdividing the mesh
    /// to at least N vertices; prints each stage's time and the peak memory.
    Learned {
        #[arg(long, default_value = "assets/samples/khronos_fox/Fox.glb")]
        input: PathBuf,
        #[arg(long, default_value_t = 50_000)]
        vertices: usize,
        /// The models folder (default: models/).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Where the models run (as `rig --backend`).
        #[arg(long, value_enum, default_value = "auto")]
        backend: BackendArg,
    },
    /// Time rig from motion on a procedural creature moved by random joint motion (its true
    /// rig made the frames): vertices, frames and bones as given; prints the solve time, the
    /// errors and the peak memory.
    Motion {
        #[arg(long, default_value_t = 5_000)]
        vertices: usize,
        #[arg(long, default_value_t = 100)]
        frames: usize,
        #[arg(long, default_value_t = 30)]
        bones: usize,
        #[arg(long, default_value_t = 3)]
        seed: u64,
        /// Also write the frames as OBJ into this folder (to time another solver on them).
        #[arg(long)]
        frames_out: Option<PathBuf>,
    },
    /// Time rig inversion: a file's clip (the mesh subdivided to at least N vertices) baked to
    /// meshes and solved back to joint rotations; prints frames per second after the first.
    Invert {
        #[arg(long, default_value = "assets/samples/khronos_fox/Fox.glb")]
        input: PathBuf,
        #[arg(long, default_value_t = 10_000)]
        vertices: usize,
        /// The clip's name or index.
        #[arg(long, default_value = "0")]
        clip: String,
    },
    /// Every clip of every rigged file in a folder's subfolders, baked and inverted: exact
    /// targets, targets with Gaussian noise, dual-quaternion targets; one table row per clip.
    /// EA's learned inversion of a black-box rig, side by side: the approximation's error, the
    /// inverse trained through it with a mesh loss, gradient descent through it, and the inverse
    /// trained on controls (each a mean vertex distance through the true rig).
    InvertLearned {
        /// cube: EA's toy (8 vertices, 6 controls); arm: a two-bone arm skinned with dual
        /// quaternions plus corrective shapes driven by its joint angles (288 vertices, 6 controls).
        #[arg(long, value_enum, default_value = "cube")]
        rig: BlackBox,
        /// Most training epochs of each network.
        #[arg(long, default_value_t = 1000)]
        epochs: usize,
        /// Random control samples (the last 10 % held out).
        #[arg(long, default_value_t = 1000)]
        samples: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Hidden layer widths of the approximation.
        #[arg(long, value_delimiter = ',', default_value = "1024,1024")]
        widths: Vec<usize>,
        /// Write the figures as JSON here too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    InvertSweep {
        dir: PathBuf,
        /// Noise standard deviation per coordinate, fraction of the diagonal.
        #[arg(long, default_value_t = 0.005)]
        noise: f32,
        /// Write the rows as JSON lines here too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Start a skeleton generation on the editor's worker thread, press Cancel after each of
    /// the given delays, and time how long the worker takes to stop.
    Cancel {
        file: PathBuf,
        #[arg(long, value_delimiter = ',', default_value = "100,300,600,1000")]
        after_ms: Vec<u64>,
    },
}

pub fn run(a: Args) -> anyhow::Result<()> {
    match a.stage {
        Stage::Make { input, vertices, out } => make(&input, vertices, &out),
        Stage::Face { input, runs, no_learned, models } => face(&input, runs, no_learned, models.as_deref()),
        Stage::Import { file } => {
            let t = Instant::now();
            let imported = rig_io::load(&file).with_context(|| format!("{}", file.display()))?;
            report("import", t, &imported.rig);
            Ok(())
        }
        Stage::Skin { input, vertices, falloff } => skin(&input, &vertices, falloff),
        Stage::Cancel { file, after_ms } => cancel(&file, &after_ms),
        Stage::Motion { vertices, frames, bones, seed, frames_out } => motion(vertices, frames, bones, seed, frames_out.as_deref()),
        Stage::Invert { input, vertices, clip } => invert(&input, vertices, &clip),
        Stage::InvertSweep { dir, noise, json } => invert_sweep(&dir, noise, json.as_deref()),
        Stage::InvertLearned { rig, epochs, samples, seed, widths, json } => {
            invert_learned(rig, epochs, samples, seed, widths, json.as_deref())
        }
        Stage::Learned { input, vertices, model, backend } => learned(&input, vertices, model.as_deref(), backend),
        Stage::Gpu { input, vertices, frames, size, image } => gpu(&input, vertices, frames, &size, image),
        Stage::Export { file } => {
            let rig = rig_io::load(&file).with_context(|| format!("{}", file.display()))?.rig;
            let out = std::env::temp_dir().join(format!("rigsmith-bench-{}.glb", std::process::id()));
            let t = Instant::now();
            rig_io::save(&rig, &out, &rig_io::ExportOptions::default())?;
            report("export", t, &rig);
            let _ = std::fs::remove_file(out);
            Ok(())
        }
    }
}

#[cfg(feature = "editor")]
fn gpu(input: &Path, vertices: usize, frames: usize, size: &str, image: Option<PathBuf>) -> anyhow::Result<()> {
    let (width, height) = size
        .split_once('x')
        .and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?)))
        .filter(|&(w, h)| w > 0 && h > 0 && w <= 8192 && h <= 8192)
        .with_context(|| format!("--size {size}: give WIDTHxHEIGHT in pixels, e.g. 1920x1080"))?;
    anyhow::ensure!(frames > 0, "--frames 0: time at least one frame");
    let mut rig = rig_io::load(input).with_context(|| format!("{}", input.display()))?.rig;
    subdivide_to(&mut rig, vertices).with_context(|| format!("{}", input.display()))?;
    let (v, t) = (rig.mesh.vertex_count(), rig.mesh.triangle_count());
    let settings = rig_app::gpu_bench::GpuBenchSettings { frames, width, height };
    let report = rig_app::gpu_bench::run(rig, &settings).map_err(anyhow::Error::msg)?;
    let median = report.quantile(0.5);
    println!("adapter: {}", report.adapter);
    println!(
        "gpu: {v} vertices, {t} triangles, {width}x{height}, {}; {frames} frames after {} warm-up: median {median:.2} ms ({:.1} fps), p95 {:.2} ms, worst {:.2} ms",
        report.motion,
        report.warmup_frames,
        1e3 / median,
        report.quantile(0.95),
        report.quantile(1.0)
    );
    if let Some(path) = image {
        report.last_frame.save_png(&path).map_err(anyhow::Error::msg)?;
        println!("last frame: {}", path.display());
    }
    Ok(())
}

#[cfg(not(feature = "editor"))]
fn gpu(_: &Path, _: usize, _: usize, _: &str, _: Option<PathBuf>) -> anyhow::Result<()> {
    anyhow::bail!("this rigsmith was built without the editor (`--no-default-features`); `bench gpu` draws with the editor's shaders: build with the default features")
}

fn report(stage: &str, t: Instant, rig: &Rig) {
    println!(
        "{stage}: {:.3} s for {} vertices, {} triangles, {} joints; peak resident memory {} MiB",
        t.elapsed().as_secs_f64(),
        rig.mesh.vertex_count(),
        rig.mesh.triangle_count(),
        rig.skeleton.len(),
        peak_rss_kib().map_or("?".into(), |k| (k / 1024).to_string())
    );
}

fn motion(vertices: usize, frames: usize, bones: usize, seed: u64, frames_out: Option<&Path>) -> anyhow::Result<()> {
    use rig_core::motion::{rig_from_motion, MotionOptions, SsdrOptions};
    let seq = rig_pipeline::bench::creature_sequence(vertices, frames, seed)?;
    if let Some(dir) = frames_out {
        rig_io::sequence::write_obj_frames(&seq, dir).with_context(|| format!("{}", dir.display()))?;
    }
    let options = MotionOptions { ssdr: SsdrOptions { bones, ..Default::default() }, ..Default::default() };
    let t = Instant::now();
    let result = rig_from_motion(&seq, &options, &rig_core::Task::silent())?;
    println!(
        "rig from motion: {:.3} s for {} vertices x {} frames x {} bones ({} iterations); free bones RMSE {:.4} %, skeleton RMSE {:.4} % of the diagonal; peak resident memory {} MiB",
        t.elapsed().as_secs_f64(),
        seq.rest.len(),
        seq.frames.len(),
        bones,
        result.history.len(),
        result.free_rmse_percent,
        result.hierarchy_rmse_percent.unwrap_or(f64::NAN),
        peak_rss_kib().map_or("?".into(), |k| (k / 1024).to_string())
    );
    Ok(())
}

fn invert(input: &Path, vertices: usize, clip: &str) -> anyhow::Result<()> {
    let mut rig = rig_io::load(input).with_context(|| format!("{}", input.display()))?.rig;
    subdivide_to(&mut rig, vertices).map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    let index = clip.parse::<usize>().ok().or_else(|| rig.clips.iter().position(|c| c.name == clip));
    let Some(index) = index.filter(|&i| i < rig.clips.len()) else {
        anyhow::bail!("{} has no clip '{clip}' ({} clips)", input.display(), rig.clips.len());
    };
    let seq = rig_core::motion::bake_clip(&rig, index)?;
    let options = rig_core::invert::InvertOptions::default();
    let t = Instant::now();
    let inv = rig_core::invert::invert(&rig, &seq.frames, &options, &rig_core::Task::silent())?;
    let total = t.elapsed().as_secs_f64();
    let after_first: f32 = inv.frame_seconds.iter().skip(1).sum();
    println!(
        "rig inversion: {} vertices, {} joints solved, {} frames of '{}': first frame {:.1} ms, then {:.0} frames/s ({:.2} ms a frame); {:.3} s in all; mean error {:.2e} of the diagonal; {} threads",
        rig.mesh.vertex_count(),
        inv.rotated.len(),
        seq.frames.len(),
        rig.clips[index].name,
        1000.0 * inv.frame_seconds.first().copied().unwrap_or(0.0),
        (seq.frames.len().saturating_sub(1)) as f32 / after_first.max(1e-9),
        1000.0 * after_first / (seq.frames.len().saturating_sub(1)).max(1) as f32,
        total,
        inv.mean_error(),
        rayon::current_num_threads()
    );
    Ok(())
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum BlackBox {
    Cube,
    Arm,
}

fn invert_learned(
    which: BlackBox,
    epochs: usize,
    samples: usize,
    seed: u64,
    widths: Vec<usize>,
    json: Option<&Path>,
) -> anyhow::Result<()> {
    use rig_core::invert::blackbox::{ControlRig, CorrectiveArm, CubeToy};
    use rig_pipeline::invert_learned::{run_learned, LearnedSetup};
    let rig: Box<dyn ControlRig> = match which {
        BlackBox::Cube => Box::new(CubeToy),
        BlackBox::Arm => Box::new(CorrectiveArm::default()),
    };
    let mut setup = LearnedSetup { samples, validation: samples / 10, approximation_widths: widths, seed, ..LearnedSetup::default() };
    setup.approximation.max_epochs = epochs;
    setup.inverse.max_epochs = epochs;
    let bar = crate::cli::files::progress_bar(1000);
    let say = |stage: &str, fraction: f32| {
        bar.set_position((fraction * 1000.0).round() as u64);
        bar.set_message(stage.to_string());
    };
    let r = run_learned(rig.as_ref(), &setup, &rig_core::Task::reporting(&say))?;
    bar.finish_and_clear();
    println!("{}: {} vertices, {} controls, {} samples ({} held out), {}-frame test animation; mean vertex distance through the true rig (mesh radius {:.4})", r.rig, r.vertices, r.controls, samples, setup.validation, setup.frames, r.mesh_radius);
    println!(
        "  approximation on the animation's controls  {:.4}  ({} epochs, {:.1} s)",
        r.approximation, r.approximation_epochs, r.approximation_seconds
    );
    println!("  inverse trained with mesh loss (EA)        {:.4}  ({:.1} s)", r.mesh_loss_inverse, r.mesh_loss_seconds);
    println!("  gradient descent through the approximation {:.4}  ({:.1} s)", r.direct, r.direct_seconds);
    println!("  inverse trained with control loss          {:.4}  ({:.1} s)", r.control_loss_inverse, r.control_loss_seconds);
    if let Some(path) = json {
        let value = serde_json::json!({
            "rig": r.rig, "vertices": r.vertices, "controls": r.controls, "samples": samples, "seed": seed,
            "approximation": r.approximation, "approximation_epochs": r.approximation_epochs, "approximation_seconds": r.approximation_seconds,
            "mesh_loss_inverse": r.mesh_loss_inverse, "mesh_loss_seconds": r.mesh_loss_seconds,
            "direct": r.direct, "direct_seconds": r.direct_seconds,
            "control_loss_inverse": r.control_loss_inverse, "control_loss_seconds": r.control_loss_seconds, "mesh_radius": r.mesh_radius,
        });
        std::fs::write(path, serde_json::to_string_pretty(&value)?).with_context(|| format!("{}", path.display()))?;
    }
    Ok(())
}

fn invert_sweep(dir: &Path, noise: f32, json: Option<&Path>) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
        let sub = entry?.path();
        if !sub.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&sub)? {
            let f = f?.path();
            let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            if ["glb", "gltf", "fbx", "vrm"].contains(&ext.as_str()) {
                files.push(f);
            }
        }
    }
    files.sort();
    let mut lines = Vec::new();
    println!("| file | clip | frames | joints | moves joints | exact mean (max) | angle mean / p95 deg | frames/s | noise | noisy fit (vs clean) | DQS: clip pose / fit |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for file in &files {
        let Ok(imported) = rig_io::load(file) else {
            eprintln!("{}: not readable, left out", file.display());
            continue;
        };
        let rig = imported.rig;
        if rig.clips.is_empty() || rig.skeleton.is_empty() {
            continue;
        }
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for clip in 0..rig.clips.len() {
            let row = match rig_pipeline::invert::sweep_clip(&rig, clip, noise, 7 + clip as u64) {
                Ok(r) => r,
                Err(e) => {
                    println!("| {name} | {} | | | | {e} | | | | | |", rig.clips[clip].name);
                    continue;
                }
            };
            let moves = match (row.translates_joints, row.scales_joints) {
                (true, true) => "translates, scales",
                (true, false) => "translates",
                (false, true) => "scales",
                _ => "",
            };
            println!(
                "| {name} | {} | {} | {} | {moves} | {:.1e} ({:.1e}) | {:.3} / {:.3} | {:.0} | {:.2e} | {:.2e} ({:.2e}) | {:.2e} / {:.2e} |",
                row.clip, row.frames, row.joints_solved, row.exact, row.exact_max, row.angle_mean_deg, row.angle_p95_deg,
                row.frames_per_second, row.noise, row.noisy_fit, row.noisy_fit_clean, row.dqs_true_pose, row.dqs_fit
            );
            lines.push(serde_json::json!({
                "file": name, "clip": row.clip, "frames": row.frames, "vertices": row.vertices, "joints": row.joints_solved,
                "translates_joints": row.translates_joints, "scales_joints": row.scales_joints, "exact": row.exact,
                "exact_max": row.exact_max, "angle_mean_deg": row.angle_mean_deg, "angle_p95_deg": row.angle_p95_deg,
                "frames_per_second": row.frames_per_second, "noise": row.noise, "noisy_fit": row.noisy_fit,
                "noisy_fit_clean": row.noisy_fit_clean, "dqs_true_pose": row.dqs_true_pose, "dqs_fit": row.dqs_fit,
            }));
        }
    }
    if let Some(path) = json {
        let text: String = lines
            .iter()
            .map(|l| {
                format!(
                    "{l}
"
                )
            })
            .collect();
        std::fs::write(path, text).with_context(|| format!("{}", path.display()))?;
    }
    Ok(())
}

fn face(input: &Path, runs: usize, no_learned: bool, models: Option<&Path>) -> anyhow::Result<()> {
    use rig_pipeline::face::{face_rig_with, load_refiner, load_template, template_path};
    let template = load_template(&template_path(models))?;
    let refiner = if no_learned { None } else { Some(load_refiner(models)?) };
    let mesh = rig_io::load(input).with_context(|| format!("{}", input.display()))?.rig.mesh;
    println!(
        "{}: {} vertices, {} triangles; {} threads",
        input.display(),
        mesh.vertex_count(),
        mesh.triangle_count(),
        rayon::current_num_threads()
    );
    let mut totals = Vec::new();
    for run in 0..runs.max(1) {
        let stages = std::sync::Mutex::new(Vec::<(String, Instant)>::new());
        let mark = |stage: &str, _: f32| {
            if let Ok(mut s) = stages.lock() {
                if s.last().is_none_or(|(last, _)| last != stage) {
                    s.push((stage.to_string(), Instant::now()));
                }
            }
        };
        let start = Instant::now();
        face_rig_with(&mesh, &template, refiner.as_ref(), &rig_core::Task::reporting(&mark))
            .with_context(|| format!("{}", input.display()))?;
        let end = Instant::now();
        totals.push(end.duration_since(start).as_secs_f64());
        let stages = stages.into_inner().unwrap_or_default();
        let mut line = format!("run {run}: {:.2} s", totals[run]);
        for (k, (name, at)) in stages.iter().enumerate() {
            let next = stages.get(k + 1).map_or(end, |s| s.1);
            line.push_str(&format!("; {name} {:.2}", next.duration_since(*at).as_secs_f64()));
        }
        println!("{line}");
    }
    totals.sort_by(f64::total_cmp);
    println!(
        "face rig: median {:.2} s over {} runs; peak resident memory {} MiB",
        totals[totals.len() / 2],
        totals.len(),
        peak_rss_kib().map_or("?".into(), |k| (k / 1024).to_string())
    );
    Ok(())
}

fn make(input: &Path, vertices: usize, out: &Path) -> anyhow::Result<()> {
    let mut rig = rig_io::load(input).with_context(|| format!("{}", input.display()))?.rig;
    rig.mesh.colors.clear();
    subdivide_to(&mut rig, vertices).with_context(|| format!("{}", input.display()))?;
    rig.clips.truncate(1);
    rig_io::save(&rig, out, &rig_io::ExportOptions::default())?;
    println!("wrote {} ({} vertices, {} triangles)", out.display(), rig.mesh.vertex_count(), rig.mesh.triangle_count());
    Ok(())
}

fn learned(input: &Path, vertices: usize, model: Option<&Path>, backend: BackendArg) -> anyhow::Result<()> {
    let mut base = rig_io::load(input).with_context(|| format!("{}", input.display()))?.rig;
    subdivide_to(&mut base, vertices).with_context(|| format!("{}", input.display()))?;
    let settings = LearnedSettings { models: model.map(Path::to_path_buf), backend: backend.into(), ..Default::default() };
    let mut caches = Caches::default();
    let t = Instant::now();
    let note = caches.models(model, settings.backend)?.backend_note.clone();
    println!("load models: {:.3} s, on {note}", t.elapsed().as_secs_f64());
    for skeleton in [SkeletonSource::Generate(Default::default()), SkeletonSource::Keep { weighted_only: true }] {
        let request = RigRequest::learned(skeleton, settings.clone());
        let stages = std::sync::Mutex::new(Vec::<(String, Instant)>::new());
        let note = |stage: &str, _: f32| {
            let mut s = stages.lock().unwrap_or_else(|e| e.into_inner());
            if s.last().is_none_or(|l| l.0 != stage) {
                s.push((stage.to_string(), Instant::now()));
            }
        };
        let t = Instant::now();
        let out = run_rig(&base, 0, &request, &mut caches, rig_core::Task::reporting(&note))?;
        let total = t.elapsed().as_secs_f64();
        let mut stages = stages.into_inner().unwrap_or_default();
        stages.push(("end".into(), Instant::now()));
        let split: Vec<String> =
            stages.windows(2).map(|w| format!("{} {:.2} s", w[0].0, w[1].1.duration_since(w[0].1).as_secs_f64())).collect();
        let joints = out.skeleton.len();
        let mut rig = base.clone();
        apply(&mut rig, out);
        println!(
            "learned {}: {total:.2} s for {} vertices, {joints} joints, {} threads ({}); {} unweighted",
            if request.generates_skeleton() { "skeleton + skin" } else { "skin only" },
            rig.mesh.vertex_count(),
            rayon::current_num_threads(),
            split.join(", "),
            rig.unweighted_skinned_vertices()
        );
    }
    println!("peak resident memory: {} MiB", peak_rss_kib().unwrap_or(0) / 1024);
    Ok(())
}

fn skin(input: &Path, sizes: &[usize], falloff: bool) -> anyhow::Result<()> {
    let base = rig_io::load(input).with_context(|| format!("{}", input.display()))?.rig;
    let options = match falloff {
        true => rig_core::autoskin::AutoSkinOptions::falloff(),
        false => rig_core::autoskin::AutoSkinOptions::default(),
    };
    for &n in sizes {
        let mut rig = base.clone();
        subdivide_to(&mut rig, n).with_context(|| format!("{}", input.display()))?;
        println!("(target {n} vertices) {}", time_skin(&rig, &options));
    }
    Ok(())
}

fn cancel(file: &Path, delays: &[u64]) -> anyhow::Result<()> {
    let rig = rig_io::load(file).with_context(|| format!("{}", file.display()))?.rig;
    let request = RigRequest::geometric(SkeletonSource::Generate(Default::default()), Default::default());
    let delays: Vec<Duration> = delays.iter().map(|&ms| Duration::from_millis(ms)).collect();
    let (full, runs) = cancel_latency(&rig, &request, &delays).map_err(anyhow::Error::msg)?;
    println!("cancel: {} vertices; a full generation takes {:.2} s on the worker", rig.mesh.vertex_count(), full.as_secs_f64());
    for r in runs {
        let outcome = if r.finished_first { "finished before the cancel took effect" } else { "cancelled" };
        println!(
            "  Cancel after {} ms: {outcome} {:.0} ms after the press",
            r.after.as_millis(),
            r.stopped_after_press.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}
