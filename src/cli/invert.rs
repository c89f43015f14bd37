//! `rigsmith invert`: the controls of an existing rig that reproduce target meshes, written
//! as one clip.

use std::path::PathBuf;

use anyhow::{bail, Context};
use rig_core::invert::{InvertOptions, Method, Translations};
use rig_core::Task;
use rig_io::sequence::SequenceOptions;
use rig_pipeline::invert::{load_targets, run_invert, Matching};

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum MethodArg {
    /// Joints where the rig has a skin, morph weights where it has morph targets.
    Auto,
    /// Joint rotations (and translations) only.
    Lbs,
    /// Morph target weights only.
    Blendshapes,
    /// A rig known only by samples (--samples): a network learns the rig from them, then each
    /// target's controls descend the mesh error through it (EA's differentiable rig function).
    Learned,
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
    #[arg(long, required_unless_present = "samples")]
    rig: Option<PathBuf>,
    /// With --method learned: a JSON file of the rig's samples, {"control_names": [...],
    /// "controls": [[c, ...], ...] in [0, 1], "meshes": [[[x, y, z], ...], ...]}.
    #[arg(long)]
    samples: Option<PathBuf>,
    /// With --method learned: training epochs of the rig approximation (default 300).
    #[arg(long)]
    epochs: Option<usize>,
    /// With --method learned: hidden layer widths of the rig approximation (default 256,256).
    #[arg(long, value_delimiter = ',')]
    widths: Option<Vec<usize>>,
    /// The target meshes: a folder of OBJ frames (sorted by name), a .glb/.gltf/.fbx whose clip
    /// is baked to one frame per key, or one mesh (an .obj, or a file without animation) as a
    /// single frame. Each frame has the rig's vertices in its order (or see --match nearest).
    #[arg(long)]
    targets: PathBuf,
    /// The rig to write (.glb, .gltf or .fbx) with one clip, a key per target frame; with
    /// --method learned, a .json of each frame's controls.
    #[arg(long)]
    output: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    method: MethodArg,
    /// Solve only these joints (comma-separated names); the rest keep their rest pose.
    #[arg(long, value_delimiter = ',')]
    joints: Option<Vec<String>>,
    #[arg(long, value_enum, default_value = "roots")]
    translations: TranslationsArg,
    /// Also solve every solved joint's scale along its own axes (for clips that scale joints).
    #[arg(long)]
    scales: bool,
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
    let learned = a.method == MethodArg::Learned;
    if learned != a.samples.is_some() {
        bail!("--method learned and --samples FILE go together: the learned method learns a rig known only by its samples");
    }
    if learned && a.rig.is_some() {
        bail!("--rig and --samples both given: a rig file is solved exactly (--method auto), a samples file by --method learned");
    }
    if learned && a.output.as_ref().is_some_and(|o| o.extension().is_none_or(|e| e != "json")) {
        bail!("with --method learned the output is each frame's controls: give --output FILE.json");
    }
    if learned {
        let rig_only = [
            ("--joints", a.joints.is_some()),
            ("--translations all", a.translations == TranslationsArg::All),
            ("--scales", a.scales),
            ("--smooth", a.smooth > 0.0),
            ("--robust", a.robust.is_some()),
            ("--sparsity", a.sparsity > 0.0),
            ("--match nearest", a.matching == MatchArg::Nearest),
        ];
        if let Some((name, _)) = rig_only.iter().find(|(_, given)| *given) {
            bail!("{name} solves a rig file's controls; --method learned has only --epochs and --widths");
        }
    } else if a.epochs.is_some() || a.widths.is_some() {
        bail!("--epochs and --widths train the learned method: give them with --method learned --samples FILE");
    }
    if a.epochs == Some(0) || a.widths.as_ref().is_some_and(|w| w.is_empty() || w.contains(&0)) {
        bail!("--epochs and --widths need values of 1 or more");
    }
    if a.scales && a.method == MethodArg::Blendshapes {
        bail!("--scales solves joint scales; --method blendshapes solves only morph weights");
    }
    if a.clip.is_some() && a.targets.is_dir() {
        bail!("--clip picks a clip of a targets file; {} is a folder of OBJ frames", a.targets.display());
    }
    Ok(())
}

pub fn run(a: Args) -> anyhow::Result<()> {
    check(&a)?;
    let seq_options = SequenceOptions { clip: a.clip.clone(), fps: a.fps };
    if let Some(samples) = &a.samples {
        let targets = load_targets(&a.targets, &seq_options)?;
        return run_learned(&a, samples, &targets);
    }
    let rig_path = a.rig.clone().unwrap_or_default();
    let loaded = rig_io::load(&rig_path).with_context(|| format!("{}", rig_path.display()))?;
    let rig = loaded.rig;
    let targets = load_targets(&a.targets, &seq_options)?;
    let options = InvertOptions {
        method: match a.method {
            MethodArg::Auto => Method::Auto,
            MethodArg::Lbs => Method::Lbs,
            MethodArg::Blendshapes => Method::Blendshapes,
            MethodArg::Learned => bail!("--method learned takes --samples, not --rig"),
        },
        joints: a.joints.clone(),
        translations: if a.translations == TranslationsArg::All { Translations::All } else { Translations::Roots },
        scales: a.scales,
        smooth: a.smooth,
        robust: a.robust,
        sparsity: a.sparsity,
        iterations: a.iterations,
    };
    let matching = if a.matching == MatchArg::Nearest { Matching::Nearest } else { Matching::Exact };
    let frames = targets.sequence.frames.len();
    eprintln!("{}: {} vertices; targets {}: {} frames", rig_path.display(), rig.mesh.positions.len(), a.targets.display(), frames);
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
        "solved {} joint rotations, {} translations, {} scales{} in {:.2} s ({:.0} frames/s); mean error {:.3e} of the diagonal",
        inv.rotated.len(),
        inv.translated.len(),
        inv.scaled.len(),
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
            "rig": rig_path.display().to_string(),
            "targets": a.targets.display().to_string(),
            "clip": targets.clip_name,
            "frames": frames,
            "vertices": rig.mesh.positions.len(),
            "rotated": names(&inv.rotated),
            "translated": names(&inv.translated),
            "scaled": names(&inv.scaled),
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

/// `--method learned`: the rig learned from its samples, each target's controls found through it.
fn run_learned(a: &Args, samples: &std::path::Path, targets: &rig_io::sequence::LoadedSequence) -> anyhow::Result<()> {
    use rig_pipeline::invert_learned::{invert_samples, read_samples, SampledSetup};
    let rig = read_samples(samples)?;
    let frames = &targets.sequence.frames;
    eprintln!(
        "{}: {} samples of {} controls, {} vertices; targets {}: {} frames",
        samples.display(),
        rig.controls.len(),
        rig.control_names.len(),
        rig.meshes[0].len(),
        a.targets.display(),
        frames.len()
    );
    let defaults = SampledSetup::default();
    let setup = SampledSetup {
        widths: a.widths.clone().unwrap_or(defaults.widths),
        schedule: rig_model::rig_inverse::Schedule { max_epochs: a.epochs.unwrap_or(defaults.schedule.max_epochs), ..defaults.schedule },
        ..SampledSetup::default()
    };
    let bar = crate::cli::files::progress_bar(1000);
    let report = |stage: &str, f: f32| {
        bar.set_message(stage.to_string());
        bar.set_position((f * 1000.0).round() as u64);
    };
    let out = invert_samples(&rig, frames, &setup, &Task::reporting(&report))?;
    bar.finish_and_clear();
    for (f, e) in out.frame_errors.iter().enumerate() {
        eprintln!("frame {f:4} ({:.3} s): mean {e:.3e} of the diagonal through the approximation", targets.sequence.times[f]);
    }
    let mean = out.frame_errors.iter().sum::<f64>() / out.frame_errors.len().max(1) as f64;
    eprintln!(
        "approximation: {} epochs, held-out samples {:.3e} of the diagonal; controls of {} frames in {:.1} s, mean {mean:.3e} of the diagonal through the approximation",
        out.epochs,
        out.validation_error,
        frames.len(),
        out.seconds
    );
    let json = serde_json::json!({
        "samples": samples.display().to_string(),
        "targets": a.targets.display().to_string(),
        "control_names": out.control_names,
        "times": targets.sequence.times,
        "controls": out.controls,
        "frame_error": out.frame_errors,
        "mean_error": mean,
        "validation_error": out.validation_error,
        "epochs": out.epochs,
        "seconds": out.seconds,
    });
    if let Some(path) = &a.output {
        rig_io::write_atomic(path, json.to_string().as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    if a.json {
        println!("{json}");
    }
    Ok(())
}
