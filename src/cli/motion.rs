//! `rigsmith rig-from-motion`: a skeleton, skin weights and a clip recovered from a mesh sequence.

use std::path::PathBuf;

use anyhow::{bail, Context};
use rig_core::motion::{MotionOptions, SsdrOptions};
use rig_core::Task;
use rig_io::sequence::{load_sequence, write_obj_frames, SequenceOptions};
use rig_pipeline::motion::{joint_scores, playback_rmse_percent, run_rig_from_motion, weight_roughness};

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Init {
    /// Clusters of vertex trajectories.
    Trajectories,
    /// Clusters of the learned initialiser's vertex embeddings (models/motion_init).
    Learned,
}

#[derive(clap::Args)]
pub struct Args {
    /// The sequence: a folder of OBJ frames of one mesh (sorted by name), or a .glb/.gltf/.fbx
    /// whose clip (morph-target or skinned) is baked to one frame per key.
    #[arg(long)]
    input: PathBuf,
    /// The rig to write (.glb, .gltf or .fbx): skeleton, weights and one clip whose key i is input frame i.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Bones to recover.
    #[arg(long, default_value_t = 20)]
    bones: usize,
    /// Influences per vertex.
    #[arg(long, default_value_t = 4)]
    max_influences: usize,
    /// Most alternations of bone transforms and weights (it stops earlier once the error settles).
    #[arg(long, default_value_t = 30)]
    iterations: usize,
    /// on: a joint tree whose children turn about their joints; off: free bones, each a root.
    #[arg(long, value_enum, default_value = "on")]
    hierarchy: OnOff,
    /// Pull of each vertex's weights toward its neighbours' on the surface (0: none; 1e-6
    /// smooths a little at some cost in error).
    #[arg(long, default_value_t = 0.0)]
    smoothness: f64,
    /// How the first bones are drawn.
    #[arg(long, value_enum, default_value = "trajectories")]
    init: Init,
    /// Seed of the first cluster.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Which clip of a file to bake: its name or index (default: the first).
    #[arg(long)]
    clip: Option<String>,
    /// Frames per second of an OBJ folder.
    #[arg(long, default_value_t = 24.0)]
    fps: f32,
    /// Also write the input frames as OBJ files into this folder (to run another tool on the
    /// same frames; a skinned file's bind pose goes to bind/frame_0000.obj there); alone,
    /// without --output or --json, only the frames are written.
    #[arg(long)]
    frames_out: Option<PathBuf>,
    /// Print the figures as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    check(&a)?;
    let options = SequenceOptions { clip: a.clip.clone(), fps: a.fps };
    let loaded = load_sequence(&a.input, &options).with_context(|| format!("{}", a.input.display()))?;
    for w in loaded.warnings.iter().filter(|w| !w.starts_with(rig_io::NOT_KEPT)) {
        eprintln!("warning: {w}");
    }
    if let Some(dir) = &a.frames_out {
        write_obj_frames(&loaded.sequence, dir).with_context(|| format!("{}", dir.display()))?;
        eprintln!("wrote {} frames to {}", loaded.sequence.frames.len(), dir.display());
        if let Some(bind) = rig_core::motion::bake::bind_pose(&loaded.source) {
            let bind_dir = dir.join("bind");
            let seq = rig_core::motion::MeshSequence::from_frames(vec![bind], vec![0.0], loaded.sequence.triangles.clone());
            write_obj_frames(&seq, &bind_dir).with_context(|| format!("{}", bind_dir.display()))?;
            eprintln!("wrote the file's bind pose to {}", bind_dir.join("frame_0000.obj").display());
        }
        if a.output.is_none() && !a.json {
            return Ok(());
        }
    }
    let motion = MotionOptions {
        ssdr: SsdrOptions {
            bones: a.bones,
            max_influences: a.max_influences,
            iterations: a.iterations,
            seed: a.seed,
            smoothness: a.smoothness,
        },
        hierarchy: a.hierarchy == OnOff::On,
        ..Default::default()
    };
    let seq = &loaded.sequence;
    eprintln!("{}: {} vertices, {} frames, clip {:?}", a.input.display(), seq.rest.len(), seq.frames.len(), loaded.clip_name);
    let report = |stage: &str, _: f32| eprintln!("  {stage}");
    let out = run_rig_from_motion(&loaded, &motion, a.init == Init::Learned, &Task::reporting(&report))?;
    let r = &out.report;
    eprintln!("free bones RMSE {:.4} % of the diagonal ({} iterations)", r.free_rmse_percent, r.history.len());
    if let Some(e) = r.skeleton_rmse_percent {
        let children = out.rig.skeleton.joints.iter().filter(|j| j.parent.is_some() && j.deform).count();
        eprintln!("skeleton RMSE   {e:.4} % of the diagonal ({} of {children} child joints also translate)", r.translating_joints);
    }
    if r.dropped_bones > 0 {
        eprintln!("note: {} of {} bones moved no vertex and were dropped", r.dropped_bones, a.bones);
    }
    eprintln!("solved in {:.2} s", out.seconds);
    let joints = joint_scores(&loaded, &out.rig);
    if let Some(j) = joints {
        eprintln!(
            "joints against the file's, posed at the first frame: CD-J2J {:.2}, CD-J2B {:.2}, CD-B2B {:.2}",
            j.cd_j2j, j.cd_j2b, j.cd_b2b
        );
    }
    let mut written_rmse = None;
    if let Some(path) = &a.output {
        let warnings = rig_io::save(&out.rig, path, &rig_io::ExportOptions::default()).with_context(|| format!("{}", path.display()))?;
        warnings.iter().for_each(|w| eprintln!("warning: {w}"));
        let back = rig_io::load(path).with_context(|| format!("reading back {}", path.display()))?;
        let e = playback_rmse_percent(&back.rig, seq);
        eprintln!("wrote {}: its clip plays the input back at {e:.4} % of the diagonal", path.display());
        written_rmse = Some(e);
    }
    if a.json {
        let json = serde_json::json!({
            "input": a.input.display().to_string(),
            "clip": loaded.clip_name,
            "vertices": r.vertices,
            "frames": r.frames,
            "bones": out.rig.skeleton.joints.iter().filter(|j| j.deform).count(),
            "max_influences": a.max_influences,
            "iterations": r.history.len(),
            "free_rmse_percent": r.free_rmse_percent,
            "skeleton_rmse_percent": r.skeleton_rmse_percent,
            "translating_joints": r.translating_joints,
            "written_rmse_percent": written_rmse,
            "history": r.history,
            "weight_roughness": weight_roughness(&out.rig),
            "cd_j2j": joints.map(|j| j.cd_j2j),
            "cd_j2b": joints.map(|j| j.cd_j2b),
            "cd_b2b": joints.map(|j| j.cd_b2b),
            "seconds": out.seconds,
        });
        println!("{json}");
    }
    Ok(())
}

fn check(a: &Args) -> anyhow::Result<()> {
    if a.bones == 0 {
        bail!("--bones 0 makes no rig: ask for at least 1 bone");
    }
    if a.max_influences == 0 {
        bail!("--max-influences 0 binds no vertex: ask for at least 1 (4 is usual)");
    }
    if !(a.smoothness.is_finite() && a.smoothness >= 0.0) {
        bail!("--smoothness {} makes no sense: give 0 or a small positive number such as 1e-6", a.smoothness);
    }
    if a.iterations == 0 {
        bail!("--iterations 0 would write the first guess unsolved: ask for at least 1 (30 is usual)");
    }
    if a.output.is_none() && !a.json && a.frames_out.is_none() {
        bail!("nothing to do: give --output FILE (and/or --json to print the figures)");
    }
    Ok(())
}
