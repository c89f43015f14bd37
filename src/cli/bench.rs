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
        Stage::Import { file } => {
            let t = Instant::now();
            let imported = rig_io::load(&file).with_context(|| format!("{}", file.display()))?;
            report("import", t, &imported.rig);
            Ok(())
        }
        Stage::Skin { input, vertices, falloff } => skin(&input, &vertices, falloff),
        Stage::Cancel { file, after_ms } => cancel(&file, &after_ms),
        Stage::Motion { vertices, frames, bones, seed, frames_out } => motion(vertices, frames, bones, seed, frames_out.as_deref()),
        Stage::Learned { input, vertices, model, backend } => learned(&input, vertices, model.as_deref(), backend),
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
