//! `rigsmith bench`: import/export speed and peak memory on a large skinned mesh.
//!
//! `bench make --vertices N --out big.glb` subdivides a rig until it has N vertices;
//! `bench import big.glb` and `bench export big.glb` time one stage each and print the
//! process's peak resident memory. Run it in release: `cargo run --release -- bench ...`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use rig_core::{Mesh, MeshGroup, Part, Rig, SkinWeights};

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

/// VmHWM of this process (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Subdivides `rig` until it has at least `vertices` vertices.
fn subdivide_to(rig: &mut Rig, vertices: usize) -> anyhow::Result<()> {
    if rig.mesh.triangles.is_empty() {
        anyhow::bail!("the mesh has no triangles to subdivide");
    }
    while rig.mesh.vertex_count() < vertices {
        let (mesh, weights) = subdivide(&rig.mesh, &rig.weights);
        rig.mesh = mesh;
        rig.weights = weights;
    }
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
    use rig_model::rigging::{rig_learned, LearnedModels, LearnedOptions};
    let mut base = rig_io::load(input).with_context(|| format!("{}", input.display()))?.rig;
    subdivide_to(&mut base, vertices).with_context(|| format!("{}", input.display()))?;
    base.mark_unweighted_joints_non_deforming();
    let t = Instant::now();
    let models = LearnedModels::load_on(&rig_model::store::models_dir(model), backend.into())?;
    println!("load models: {:.3} s, on {}", t.elapsed().as_secs_f64(), models.backend_note);
    for keep_skeleton in [false, true] {
        let mut rig = base.clone();
        let stages = std::sync::Mutex::new(Vec::<(String, Instant)>::new());
        let note = |stage: &str, _: f32| {
            let mut s = stages.lock().unwrap_or_else(|e| e.into_inner());
            if s.last().is_none_or(|l| l.0 != stage) {
                s.push((stage.to_string(), Instant::now()));
            }
        };
        let options = LearnedOptions { keep_skeleton, ..Default::default() };
        let t = Instant::now();
        let r = rig_learned(&mut rig, &models, &options, rig_core::Task::reporting(&note))?;
        let total = t.elapsed().as_secs_f64();
        let mut stages = stages.into_inner().unwrap_or_default();
        stages.push(("end".into(), Instant::now()));
        let split: Vec<String> =
            stages.windows(2).map(|w| format!("{} {:.2} s", w[0].0, w[1].1.duration_since(w[0].1).as_secs_f64())).collect();
        println!(
            "learned {}: {total:.2} s for {} vertices, {} joints, {} threads ({}); {} unweighted",
            if keep_skeleton { "skin only" } else { "skeleton + skin" },
            rig.mesh.vertex_count(),
            r.joints,
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
        println!("(target {n} vertices) {}", rig_core::autoskin::timing::time_skin(&rig, &options));
    }
    Ok(())
}

fn cancel(file: &Path, delays: &[u64]) -> anyhow::Result<()> {
    use rig_app::worker::{JobKind, Worker, WorkerEvent};
    let rig = rig_io::load(file).with_context(|| format!("{}", file.display()))?.rig;
    let mesh = std::sync::Arc::new(rig.mesh.clone());
    let skeleton_options = rig_core::autoskel::AutoSkeletonOptions::default();
    let mut worker = Worker::spawn();
    let wait_for_end = |worker: &Worker| -> anyhow::Result<&'static str> {
        loop {
            for event in worker.poll() {
                match event {
                    WorkerEvent::Cancelled { .. } => return Ok("cancelled"),
                    WorkerEvent::Done { .. } => return Ok("finished before the cancel took effect"),
                    WorkerEvent::Progress { .. } => {}
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    };
    // A full run first, for its length (and, with a new mesh id each time, no cache reuse).
    let t = Instant::now();
    worker
        .submit(0, mesh.clone(), rig.skeleton.clone(), JobKind::Generate(skeleton_options.clone()), Default::default())
        .map_err(anyhow::Error::msg)?;
    wait_for_end(&worker)?;
    worker.running = None;
    println!("cancel: {} vertices; a full generation takes {:.2} s on the worker", rig.mesh.vertex_count(), t.elapsed().as_secs_f64());
    for (i, &ms) in delays.iter().enumerate() {
        worker
            .submit(i as u64 + 1, mesh.clone(), rig.skeleton.clone(), JobKind::Generate(skeleton_options.clone()), Default::default())
            .map_err(anyhow::Error::msg)?;
        std::thread::sleep(std::time::Duration::from_millis(ms));
        let pressed = Instant::now();
        worker.cancel();
        let outcome = wait_for_end(&worker)?;
        worker.running = None;
        println!("  Cancel after {ms} ms: {outcome} {:.0} ms after the press", pressed.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(())
}

fn average<const N: usize>(v: &[[f32; N]], a: usize, b: usize) -> [f32; N] {
    std::array::from_fn(|k| 0.5 * (v[a][k] + v[b][k]))
}

/// Midpoint subdivision into one part; weights, normals and UVs are averaged.
fn subdivide(m: &Mesh, w: &SkinWeights) -> (Mesh, SkinWeights) {
    let mut out = Mesh { positions: m.positions.clone(), normals: m.normals.clone(), uvs: m.uvs.clone(), ..Default::default() };
    let mut rows: Vec<Vec<(u32, f32)>> = (0..m.vertex_count()).map(|v| w.row_pairs(v)).collect();
    let mut mid: HashMap<(u32, u32), u32> = HashMap::new();
    let mut midpoint = |a: u32, b: u32, out: &mut Mesh, rows: &mut Vec<Vec<(u32, f32)>>| -> u32 {
        *mid.entry((a.min(b), a.max(b))).or_insert_with(|| {
            let (ai, bi) = (a as usize, b as usize);
            out.positions.push(average(&m.positions, ai, bi));
            if !m.normals.is_empty() {
                out.normals.push(average(&m.normals, ai, bi));
            }
            if !m.uvs.is_empty() {
                out.uvs.push(average(&m.uvs, ai, bi));
            }
            let mut r = w.row_pairs(ai);
            r.extend(w.row_pairs(bi));
            r.iter_mut().for_each(|e| e.1 *= 0.5);
            rows.push(r);
            out.positions.len() as u32 - 1
        })
    };
    for t in &m.triangles {
        let ab = midpoint(t[0], t[1], &mut out, &mut rows);
        let bc = midpoint(t[1], t[2], &mut out, &mut rows);
        let ca = midpoint(t[2], t[0], &mut out, &mut rows);
        out.triangles.extend([[t[0], ab, ca], [ab, t[1], bc], [ca, bc, t[2]], [ab, bc, ca]]);
    }
    out.parts = vec![Part {
        name: "subdivided".into(),
        group: 0,
        material: m.parts.first().and_then(|p| p.material),
        vertices: 0..out.positions.len() as u32,
        triangles: 0..out.triangles.len() as u32,
        skinned: true,
        morph_targets: vec![],
    }];
    out.groups = vec![MeshGroup { name: "subdivided".into(), ..Default::default() }];
    let mut weights = SkinWeights::from_rows(rows);
    weights.prune(8);
    (out, weights)
}
