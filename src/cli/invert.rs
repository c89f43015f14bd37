//! `rigsmith invert`: the controls of an existing rig that reproduce target meshes, written
//! as one clip.

use std::path::PathBuf;

use anyhow::{bail, Context};
use rig_core::invert::{InvertOptions, Method, Translations};
use rig_core::Task;
use rig_io::sequence::{load_sequence, SequenceOptions};
use rig_pipeline::invert::{run_invert, Matching};

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum MethodArg {
    /// Joints where the rig has a skin, morph weights where it has morph targets.
    Auto,
    /// Joint rotations (and translations) only.
    Lbs,
    /// Morph target weights only.
    Blendshapes,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum TranslationsArg {
    /// Joints whose parent is not solved (the root, joints under helper nodes).
    Roots,
    /// Every solved joint (for clips that move joints other than the root).
    All,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum MatchArg {
    /// Vertex for vertex, in order.
    Exact,
    /// Each rig vertex takes the nearest target vertex of the first frame.
    Nearest,
}

#[derive(clap::Args)]
pub struct Args {
    /// The rig whose controls are solved (.glb, .gltf, .fbx, .vrm): a skin, morph targets or both.
    #[arg(long)]
    rig: PathBuf,
    /// The target meshes: a folder of OBJ frames (sorted by name), or a .glb/.gltf/.fbx whose
    /// clip is baked to one frame per key. Each frame has the rig's vertices in its order.
    #[arg(long)]
    targets: PathBuf,
    /// The rig to write (.glb, .gltf or .fbx) with one clip, a key per target frame.
    #[arg(long)]
    output: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    method: MethodArg,
    /// Solve only these joints (comma-separated names); the rest keep their rest pose.
    #[arg(long, value_delimiter = ',')]
    joints: Option<Vec<String>>,
    #[arg(long, value_enum, default_value = "roots")]
    translations: TranslationsArg,
    /// Pull of each frame towards the previous one (0: none; 1e-3 steadies noisy targets).
    #[arg(long, default_value_t = 0.0)]
    smooth: f64,
    /// Robust fit: vertices farther than this fraction of the diagonal from their target count
    /// linearly (e.g. 0.01), so a few wrong vertices do not bend the pose.
    #[arg(long)]
    robust: Option<f64>,
    /// Pull of morph weights towards 0 (0: none).
    #[arg(long, default_value_t = 0.0)]
    sparsity: f64,
    /// Most solver steps per frame.
    #[arg(long, default_value_t = 40)]
    iterations: usize,
    /// How target vertices pair with the rig's.
    #[arg(long = "match", value_enum, default_value = "exact")]
    matching: MatchArg,
    /// Which clip of a targets file to bake: its name or index (default: the first).
    #[arg(long)]
    clip: Option<String>,
    /// Frames per second of an OBJ folder.
    #[arg(long, default_value_t = 24.0)]
    fps: f32,
    /// Print the figures as JSON on stdout.
    #[arg(long)]
    json: bool,
}

fn check(a: &Args) -> anyhow::Result<()> {
    for (name, v) in [("--smooth", a.smooth), ("--sparsity", a.sparsity)] {
        if !v.is_finite() || v < 0.0 {
            bail!("{name} {v}: give a number of 0 or more");
        }
    }
    if a.robust.is_some_and(|r| !r.is_finite() || r <= 0.0) {
        bail!("--robust {}: give a fraction of the diagonal above 0 (e.g. 0.01)", a.robust.unwrap_or_default());
    }
    if a.iterations == 0 {
        bail!("--iterations 0 solves nothing: give at least 1");
    }
    if !a.fps.is_finite() || a.fps <= 0.0 {
        bail!("--fps {}: give a frame rate above 0", a.fps);
    }
    if a.output.is_none() && !a.json {
        bail!("nothing to do: give --output FILE (the rig with the solved clip) or --json (the figures)");
    }
    Ok(())
}

pub fn run(a: Args) -> anyhow::Result<()> {
    check(&a)?;
    let loaded = rig_io::load(&a.rig).with_context(|| format!("{}", a.rig.display()))?;
    let rig = loaded.rig;
    let seq_options = SequenceOptions { clip: a.clip.clone(), fps: a.fps };
    let targets = load_sequence(&a.targets, &seq_options).with_context(|| format!("{}", a.targets.display()))?;
    let options = InvertOptions {
        method: match a.method {
            MethodArg::Auto => Method::Auto,
            MethodArg::Lbs => Method::Lbs,
            MethodArg::Blendshapes => Method::Blendshapes,
        },
        joints: a.joints.clone(),
        translations: if a.translations == TranslationsArg::All { Translations::All } else { Translations::Roots },
        smooth: a.smooth,
        robust: a.robust,
        sparsity: a.sparsity,
        iterations: a.iterations,
    };
    let matching = if a.matching == MatchArg::Nearest { Matching::Nearest } else { Matching::Exact };
    let frames = targets.sequence.frames.len();
    eprintln!("{}: {} vertices; targets {}: {} frames", a.rig.display(), rig.mesh.positions.len(), a.targets.display(), frames);
    let bar = crate::cli::files::progress_bar(frames);
    let report = |_: &str, f: f32| bar.set_position((f * frames as f32).round() as u64);
    let out = run_invert(&rig, &targets.sequence, matching, &options, &targets.clip_name, &Task::reporting(&report))?;
    bar.finish_and_clear();
    if let Some(w) = &out.warning {
        eprintln!("warning: {w}");
    }
    let inv = &out.inversion;
    for (f, e) in inv.errors.iter().enumerate() {
        eprintln!(
            "frame {f:4} ({:.3} s): mean {:.3e}, max {:.3e} of the diagonal, {} steps",
            targets.sequence.times[f], e.mean, e.max, inv.iterations[f]
        );
    }
    let names = |js: &[usize]| js.iter().map(|&j| rig.skeleton.joints[j].name.clone()).collect::<Vec<_>>();
    eprintln!(
        "solved {} joint rotations, {} translations{} in {:.2} s ({:.0} frames/s); mean error {:.3e} of the diagonal",
        inv.rotated.len(),
        inv.translated.len(),
        if inv.morphs_solved { " and the morph weights" } else { "" },
        out.seconds,
        frames as f32 / out.seconds.max(1e-6),
        inv.mean_error()
    );
    if let Some(path) = &a.output {
        let warnings = rig_io::save(&out.rig, path, &rig_io::ExportOptions::default()).with_context(|| format!("{}", path.display()))?;
        warnings.iter().for_each(|w| eprintln!("warning: {w}"));
        eprintln!("wrote {}", path.display());
    }
    if a.json {
        let json = serde_json::json!({
            "rig": a.rig.display().to_string(),
            "targets": a.targets.display().to_string(),
            "clip": targets.clip_name,
            "frames": frames,
            "vertices": rig.mesh.positions.len(),
            "rotated": names(&inv.rotated),
            "translated": names(&inv.translated),
            "morphs_solved": inv.morphs_solved,
            "seconds": out.seconds,
            "mean_error": inv.mean_error(),
            "frame_mean_error": inv.errors.iter().map(|e| e.mean).collect::<Vec<_>>(),
            "frame_max_error": inv.errors.iter().map(|e| e.max).collect::<Vec<_>>(),
            "morph_weights": inv.morph_weights,
        });
        println!("{json}");
    }
    Ok(())
}
