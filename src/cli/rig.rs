//! `rigsmith rig`: skeleton and skin for one file or a folder (mirrors the SkinTokens demo flags).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use rig_core::autorig::{rig_in_place, SkeletonSource};
use rig_core::autoskel::{AutoSkeletonOptions, SkeletonKind};
use rig_core::autoskin::AutoSkinOptions;
use rig_core::Task;

use rig_model::decode::SamplingOptions;
use rig_model::features::SkinPrior;
use rig_model::rigging::{rig_learned, LearnedModels, LearnedOptions};
use rig_model::skin::DecodeOptions;

use super::files;

#[derive(Clone, Copy, clap::ValueEnum)]
enum Method {
    Geometric,
    Learned,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Kind {
    Auto,
    Biped,
    Quadruped,
    Generic,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub(super) enum BackendArg {
    Auto,
    Cpu,
    Wgpu,
    Cuda,
}

impl From<BackendArg> for rig_model::backend::BackendChoice {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Auto => Self::Auto,
            BackendArg::Cpu => Self::Cpu,
            BackendArg::Wgpu => Self::Wgpu,
            BackendArg::Cuda => Self::Cuda,
        }
    }
}

/// `--skin` here, `train tokenizer --prior` there: which geometric binder.
#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub(super) enum Skin {
    /// Bone heat (the geometric default).
    Heat,
    /// The inverse-distance falloff binder (the default before session 9).
    Falloff,
}

impl From<Skin> for SkinPrior {
    fn from(s: Skin) -> SkinPrior {
        match s {
            Skin::Heat => SkinPrior::Heat,
            Skin::Falloff => SkinPrior::Falloff,
        }
    }
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum DeformJoints {
    Weighted,
    All,
}

#[derive(clap::Args)]
pub struct Args {
    /// A mesh file, or a folder to rig every .glb/.gltf/.vrm/.obj in it.
    #[arg(long)]
    input: PathBuf,
    /// Output file (.glb/.gltf), or a folder (mirrors the input folder, writing .glb).
    #[arg(long)]
    output: PathBuf,
    /// Keep the file's skeleton and regenerate only the skin.
    #[arg(long)]
    use_skeleton: bool,
    /// Keep the original mesh, materials, textures and scale (always on: Rigsmith never remeshes).
    #[arg(long, default_value_t = true)]
    transfer: bool,
    /// Clean the result up (prune tiny weights, smooth); on by default in the geometric method.
    #[arg(long)]
    postprocess: bool,
    #[arg(long, value_enum, default_value = "geometric")]
    method: Method,
    /// Skeleton when generating one: auto (the biped template when the shape has two legs and
    /// two arms, else the quadruped one when it stands on four legs, else generic), biped or
    /// quadruped (fail with the reason when the template does not fit), generic (a chain along
    /// every limb).
    #[arg(long, value_enum, default_value = "auto")]
    kind: Kind,
    /// Seed for anything random (the geometric method is deterministic).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Influences per vertex (4 or 8 are usual).
    #[arg(long, default_value_t = 4)]
    max_influences: usize,
    /// Geometric skin: heat (bone heat spread over the surface from the nearest bones, with
    /// the nearest found through the voxelised solid; broad, smooth blends) or falloff
    /// (inverse distance through the solid, smoothed; sharper, the older binder).
    #[arg(long, value_enum, default_value = "heat")]
    skin: Skin,
    /// Voxels along the longest side (default: chosen from the mesh size).
    #[arg(long)]
    resolution: Option<usize>,
    /// Advanced: exponent of the distance falloff (larger is sharper; --skin falloff).
    #[arg(long)]
    falloff: Option<f32>,
    /// Advanced: influences under this fraction of a vertex's total are dropped (both methods;
    /// defaults: bone heat 0.03, falloff 0.1, learned 0.1).
    #[arg(long)]
    min_weight: Option<f32>,
    /// Advanced, learned method with a tokenizer that has a presence head: bones it gives a
    /// lower probability of influencing a vertex are dropped there.
    #[arg(long, default_value_t = DecodeOptions::default().min_presence)]
    min_presence: f32,
    /// Advanced: bind a separate piece of the mesh rigidly to one joint when that joint holds this
    /// share of its weight (1 disables).
    #[arg(long)]
    rigid_share: Option<f32>,
    /// Joint spacing along limbs of a generated skeleton, as a fraction of the mesh's longest side.
    #[arg(long, default_value_t = rig_core::autoskel::AutoSkeletonOptions::default().spacing)]
    joint_spacing: f32,
    /// Advanced: side branches of a generated skeleton with fewer joints are pruned.
    #[arg(long, default_value_t = rig_core::autoskel::AutoSkeletonOptions::default().min_branch_joints)]
    min_branch: usize,
    /// Advanced: allow influences of joints far apart in the hierarchy (--skin falloff keeps
    /// only neighbouring joints unless this is given; heat never prunes by hierarchy).
    #[arg(long)]
    any_joints: bool,
    /// Advanced: prune side branches shorter than this many body radii at their fork.
    #[arg(long, default_value_t = rig_core::autoskel::AutoSkeletonOptions::default().bump_factor)]
    bump_factor: f32,
    /// Advanced: voxels along the longest side when generating a skeleton.
    #[arg(long, default_value_t = rig_core::autoskel::AutoSkeletonOptions::default().resolution)]
    skeleton_resolution: usize,
    /// Advanced: surface smoothing passes.
    #[arg(long)]
    smooth: Option<usize>,
    /// With --use-skeleton: which joints receive weight. `weighted` keeps the file's choice
    /// (joints that carry no weight in the input, such as IK targets, props slots and end
    /// markers, stay non-deforming, like Blender's per-bone Deform flag); `all` weights every joint.
    #[arg(long, value_enum, default_value = "weighted")]
    deform: DeformJoints,
    /// Advanced: length of a leaf joint's bone stub, as a fraction of its parent bone.
    #[arg(long)]
    leaf: Option<f32>,
    /// Learned: where the models run: auto (CUDA with the `cuda` build feature and a driver,
    /// else wgpu with the `wgpu` feature and a GPU, else the CPU; says which and why), cpu,
    /// wgpu, cuda (an unavailable GPU falls back to the CPU with a note).
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
    /// Learned: the folder holding skin_tokenizer.* and rig_generator.* (default: models/).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Learned: sampling temperature of the skeleton tokens (0: most likely token).
    #[arg(long, default_value_t = SamplingOptions::default().temperature)]
    temperature: f32,
    /// Learned: draw only from the k most likely tokens (0: all).
    #[arg(long, default_value_t = SamplingOptions::default().top_k)]
    top_k: usize,
    /// Learned: draw only from the most likely tokens holding this probability.
    #[arg(long, default_value_t = SamplingOptions::default().top_p)]
    top_p: f32,
    /// Learned: divide the logits of skeleton tokens already written by this (1: off).
    #[arg(long, default_value_t = SamplingOptions::default().repetition_penalty)]
    repetition_penalty: f32,
    /// Learned: beam search over the skeleton with this many beams (1: sampling).
    #[arg(long, default_value_t = SamplingOptions::default().beams)]
    beams: usize,
    /// Learned: write this many candidate rigs for one input file (NAME-1.glb, NAME-2.glb, ...:
    /// seeds seed, seed + 1, ... or the best beams in order).
    #[arg(long, default_value_t = 1)]
    candidates: usize,
}

/// How each file is rigged.
enum Rigger<'a> {
    Geometric { options: AutoSkinOptions, deform: DeformJoints, generate: Option<AutoSkeletonOptions> },
    Learned { models: &'a LearnedModels, options: LearnedOptions },
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let kind = match a.kind {
        Kind::Auto => SkeletonKind::Auto,
        Kind::Biped => SkeletonKind::Biped,
        Kind::Generic => SkeletonKind::Generic,
        Kind::Quadruped => SkeletonKind::Quadruped,
    };
    let _ = (a.transfer, a.postprocess);
    let skel = (!a.use_skeleton).then(|| rig_core::autoskel::AutoSkeletonOptions {
        kind,
        spacing: a.joint_spacing,
        min_branch_joints: a.min_branch,
        bump_factor: a.bump_factor,
        resolution: a.skeleton_resolution.max(8),
        ..Default::default()
    });
    let d = match a.skin {
        Skin::Heat => AutoSkinOptions::default(),
        Skin::Falloff => AutoSkinOptions::falloff(),
    };
    let options = AutoSkinOptions {
        max_influences: a.max_influences.max(1),
        resolution: a.resolution,
        falloff_power: a.falloff.unwrap_or(d.falloff_power),
        min_weight: a.min_weight.unwrap_or(d.min_weight),
        smoothing_iterations: a.smooth.unwrap_or(d.smoothing_iterations),
        leaf_fraction: a.leaf.unwrap_or(d.leaf_fraction),
        rigid_piece_share: a.rigid_share.unwrap_or(d.rigid_piece_share),
        adjacent_only: d.adjacent_only && !a.any_joints,
        ..d
    };
    if !(a.repetition_penalty.is_finite() && a.repetition_penalty > 0.0) {
        bail!("--repetition-penalty must be a positive number (1 turns it off), not {}", a.repetition_penalty);
    }
    super::learned::check_thresholds(a.min_weight.as_slice(), a.min_presence)?;
    if !(a.temperature.is_finite() && a.temperature >= 0.0 && a.top_p > 0.0 && a.top_p <= 1.0) {
        bail!("--temperature must be 0 or more and --top-p in (0, 1]");
    }
    let models;
    let rigger = match a.method {
        Method::Geometric => Rigger::Geometric { options, deform: a.deform, generate: skel },
        Method::Learned => {
            let dir = rig_model::store::models_dir(a.model.as_deref());
            models = LearnedModels::load_on(&dir, a.backend.into())
                .with_context(|| format!("loading the learned models from {} (--model DIR, or --method geometric)", dir.display()))?;
            eprintln!("learned models on {}", models.backend_note);
            let sampling = SamplingOptions {
                temperature: a.temperature,
                top_k: a.top_k,
                top_p: a.top_p,
                repetition_penalty: a.repetition_penalty,
                beams: a.beams.max(1),
                seed: a.seed,
                ..Default::default()
            };
            let decode = DecodeOptions {
                max_influences: a.max_influences.max(1),
                min_weight: a.min_weight.unwrap_or(DecodeOptions::default().min_weight),
                min_presence: a.min_presence,
            };
            let options = LearnedOptions {
                sampling,
                decode,
                keep_skeleton: a.use_skeleton,
                all_joints_deform: a.deform == DeformJoints::All,
                candidate: 0,
            };
            Rigger::Learned { models: &models, options }
        }
    };
    if a.input.is_dir() {
        return run_folder(&a.input, &a.output, &rigger);
    }
    if a.candidates > 1 {
        return write_candidates(&a, &rigger);
    }
    let t = Instant::now();
    rig_file(&a.input, &a.output, &rigger, true)?;
    eprintln!("rigged {} in {:.2} s -> {}", a.input.display(), t.elapsed().as_secs_f64(), a.output.display());
    Ok(())
}

/// `--candidates N`: one output per skeleton candidate of the learned method, numbered.
fn write_candidates(a: &Args, rigger: &Rigger) -> anyhow::Result<()> {
    let Rigger::Learned { models, options } = rigger else {
        bail!("--candidates needs --method learned (the geometric method is deterministic)");
    };
    if a.use_skeleton {
        bail!("--candidates draws skeletons: leave out --use-skeleton");
    }
    let stem = a.output.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "rig".into());
    let ext = a.output.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_else(|| "glb".into());
    for n in 0..a.candidates {
        let out = a.output.with_file_name(format!("{stem}-{}.{ext}", n + 1));
        let options = LearnedOptions { candidate: n, ..options.clone() };
        let t = Instant::now();
        rig_file(&a.input, &out, &Rigger::Learned { models, options }, false)?;
        eprintln!("candidate {} in {:.2} s -> {}", n + 1, t.elapsed().as_secs_f64(), out.display());
    }
    Ok(())
}

fn run_folder(input: &Path, output: &Path, rigger: &Rigger) -> anyhow::Result<()> {
    let files = files::inputs_in(input);
    if files.is_empty() {
        bail!("{} holds no .glb/.gltf/.vrm/.obj file", input.display());
    }
    let bar = files::progress_bar(files.len());
    let mut failed = 0;
    for f in &files {
        bar.set_message(f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        let out = output.join(format!("{}.glb", files::key(input, f)));
        if let Err(e) = rig_file(f, &out, rigger, false) {
            bar.suspend(|| eprintln!("error: {}: {e:#}", f.display()));
            failed += 1;
        }
        bar.inc(1);
    }
    bar.finish_with_message("done");
    if failed > 0 {
        bail!("{failed} of {} files failed", files.len());
    }
    Ok(())
}

/// Rigs one file and writes it.
fn rig_file(input: &Path, output: &Path, rigger: &Rigger, show_progress: bool) -> anyhow::Result<()> {
    let mut rig = rig_io::load(input).with_context(|| format!("{}", input.display()))?.rig;
    let last = std::sync::Mutex::new(String::new());
    let report = |stage: &str, f: f32| {
        let line = format!("  {stage} ({:.0} %)", (f * 10.0).floor() * 10.0);
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        if show_progress && *last != line {
            eprintln!("{line}");
            *last = line;
        }
    };
    let task = Task::reporting(&report);
    let max_influences = match rigger {
        Rigger::Geometric { options, deform, generate } => {
            let source = match generate {
                Some(o) => SkeletonSource::Generate(o.clone()),
                None => SkeletonSource::Keep { weighted_only: *deform == DeformJoints::Weighted },
            };
            match rig_in_place(&mut rig, &source, options, task) {
                Err(rig_core::autorig::AutoRigError::NoSkeleton) => {
                    bail!("{} has no skeleton to keep (--use-skeleton needs a rigged file)", input.display())
                }
                other => other.with_context(|| format!("{}", input.display()))?,
            }
            options.max_influences
        }
        Rigger::Learned { models, options } => {
            let r = rig_learned(&mut rig, models, options, task).with_context(|| format!("{}", input.display()))?;
            if r.left_out > 0 {
                eprintln!(
                    "warning: {}: {} deforming joints are outside the skeleton's main tree; the learned method weights one tree only",
                    input.display(),
                    r.left_out
                );
            }
            if show_progress {
                let score = r.skeleton_score.map_or(String::new(), |s| format!(", mean token log-probability {s:.3}"));
                eprintln!("  {} joints, {} moved into the volume{score}", r.joints, r.moved_inside);
            }
            options.decode.max_influences
        }
    };
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    let export = rig_io::ExportOptions { max_influences: Some(max_influences) };
    rig_io::save(&rig, output, &export).with_context(|| format!("{}", output.display()))?;
    Ok(())
}
