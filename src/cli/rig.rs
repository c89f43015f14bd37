//! `rigsmith rig`: skeleton and skin for one file or a folder (mirrors the SkinTokens demo flags).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use rig_core::autoskel::{AutoSkeletonOptions, SkeletonKind};
use rig_core::autoskin::AutoSkinOptions;
use rig_core::{InfluenceLimit, Task};
use rig_model::decode::SamplingOptions;
use rig_model::features::SkinPrior;
use rig_model::skin::DecodeOptions;
use rig_pipeline::batch::{batch_inputs, write_manifest, Entry, Shard};
use rig_pipeline::{apply, run_rig, Caches, LearnedSettings, Method, PipelineError, RigRequest, SkeletonSource};

use super::files;

#[derive(Clone, Copy, clap::ValueEnum)]
enum Method_ {
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
    /// The inverse-distance falloff binder (sharper blends).
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
    /// A mesh file, a folder to rig every .glb/.gltf/.vrm/.obj in it, or a list (.txt: one
    /// path per line, relative to the list's folder).
    #[arg(long)]
    input: PathBuf,
    /// Output file (.glb, .gltf or .fbx), or a folder (NAME.glb there; for a folder input, its layout mirrored as .glb).
    #[arg(long)]
    output: PathBuf,
    /// Keep the file's skeleton and regenerate only the skin.
    #[arg(long)]
    use_skeleton: bool,
    /// Not needed (refused with an explanation): the input's mesh, materials and hierarchy are always kept.
    #[arg(long, hide = true)]
    transfer: bool,
    /// Not needed (refused with an explanation): every method ends with the weight clean-up.
    #[arg(long, hide = true)]
    postprocess: bool,
    #[arg(long, value_enum, default_value = "geometric")]
    method: Method_,
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
    /// Biped hands whose fingers are not apart in the mesh (mittens, fists, gloves) get one
    /// finger chain each, named as the middle finger, instead of none.
    #[arg(long)]
    mitten: bool,
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
    /// Learned: the folder holding skin_tokenizer.*, rig_generator.* and, optionally,
    /// skin_predictor.* (which then gives the skin) and joint_pruner.* (which then gives the
    /// skeleton from the geometric template: every candidate has the same skeleton, and the
    /// sampling options below steer only the skin tokens, written when there is no skin
    /// predictor); default: models/.
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
    /// Write the output even when it cannot hold everything the input has (what is left out
    /// is listed); without it such a file is refused.
    #[arg(long)]
    force: bool,
    /// With a generated skeleton: play the file's clips on it (joints paired by name: hips,
    /// spine, neck, head, arms, legs; refused when the names do not pair hips, arms and legs).
    #[arg(long)]
    keep_clips: bool,
    /// With a folder or list: rig only shard I of N (from 0: every N-th input from the I-th,
    /// sorted by name) and write OUTPUT/manifest-I-of-N.json; `rigsmith merge-manifests
    /// OUTPUT` joins the shards' manifests. For Slurm job arrays and Kubernetes Indexed Jobs.
    #[arg(long)]
    shard: Option<String>,
    /// Joint names of the written rig (a .vrm output also carries VRM's humanoid bones).
    #[arg(long, value_enum, default_value = "generated")]
    preset: files::PresetArg,
    /// Re-pose a biped's arms and bind there: t (level, Mixamo and VRM) or a (45 degrees
    /// down, Unreal); the mesh follows by the rig's own skinning and clips play unchanged.
    #[arg(long, value_enum, default_value = "keep")]
    rest_pose: files::RestPoseArg,
    /// A .vrm output's author, as VRM's meta names it (repeat for several).
    #[arg(long = "author", value_name = "NAME")]
    authors: Vec<String>,
}

/// What happens to what the input holds beyond the mesh, and the names it is written with.
#[derive(Clone, Copy)]
struct Keep<'a> {
    /// Write even when the output leaves something out.
    force: bool,
    /// Retarget the clips onto a generated skeleton.
    clips: bool,
    preset: files::PresetArg,
    rest_pose: files::RestPoseArg,
    /// A .vrm output's authors.
    authors: &'a [String],
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if a.transfer {
        bail!(
            "--transfer is not needed: Rigsmith always keeps the input's mesh, vertex order, materials, textures, scale and node hierarchy"
        );
    }
    if a.postprocess {
        bail!("--postprocess is not needed: every method ends with the weight clean-up (--max-influences and --min-weight set it)");
    }
    let request = request(&a)?;
    if a.keep_clips && a.use_skeleton {
        bail!("--keep-clips retargets clips onto a generated skeleton; with --use-skeleton the file's clips are kept as they are");
    }
    let keep = Keep { force: a.force, clips: a.keep_clips, preset: a.preset, rest_pose: a.rest_pose, authors: &a.authors };
    let mut caches = Caches::default();
    if let Method::Learned(s) = &request.method {
        let models = caches.models(s.models.as_deref(), s.backend)?;
        eprintln!("learned models on {}", models.backend_note);
    }
    let shard = a.shard.as_deref().map(Shard::parse).transpose().map_err(|e| anyhow::anyhow!("{e}"))?;
    let is_list = a.input.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt"));
    if a.input.is_dir() || is_list {
        return run_batch(&a.input, &a.output, shard.unwrap_or(Shard::WHOLE), (&request, &mut caches), keep);
    }
    if shard.is_some() {
        bail!("--shard splits a folder or a list of inputs; {} is one file", a.input.display());
    }
    // A file rigged into an existing folder lands there as NAME.glb.
    let output = match a.output.is_dir() {
        true => a.output.join(format!("{}.glb", a.input.file_stem().map_or("rig".into(), |s| s.to_string_lossy()))),
        false => a.output.clone(),
    };
    if a.candidates > 1 {
        return write_candidates(&a.input, &output, (a.candidates, keep), &request, &mut caches);
    }
    let t = Instant::now();
    rig_file(&a.input, &output, &request, &mut caches, true, keep)?;
    eprintln!("rigged {} in {:.2} s -> {}", a.input.display(), t.elapsed().as_secs_f64(), output.display());
    Ok(())
}

/// The request the flags describe, checked.
fn request(a: &Args) -> anyhow::Result<RigRequest> {
    let skin = match a.skin {
        Skin::Heat => AutoSkinOptions::default(),
        Skin::Falloff => AutoSkinOptions::falloff(),
    };
    let learned = matches!(a.method, Method_::Learned);
    let min_weight = a.min_weight.unwrap_or(RigRequest::default_min_weight(learned, skin.method));
    let limit = InfluenceLimit::new(a.max_influences, min_weight).map_err(|e| anyhow::anyhow!("--max-influences / --min-weight: {e}"))?;
    let skin = AutoSkinOptions {
        limit,
        resolution: a.resolution,
        falloff_power: a.falloff.unwrap_or(skin.falloff_power),
        smoothing_iterations: a.smooth.unwrap_or(skin.smoothing_iterations),
        leaf_fraction: a.leaf.unwrap_or(skin.leaf_fraction),
        rigid_piece_share: a.rigid_share.unwrap_or(skin.rigid_piece_share),
        adjacent_only: skin.adjacent_only && !a.any_joints,
        ..skin
    };
    let skeleton = if a.use_skeleton {
        SkeletonSource::Keep { weighted_only: a.deform == DeformJoints::Weighted }
    } else {
        let kind = match a.kind {
            Kind::Auto => SkeletonKind::Auto,
            Kind::Biped => SkeletonKind::Biped,
            Kind::Generic => SkeletonKind::Generic,
            Kind::Quadruped => SkeletonKind::Quadruped,
        };
        SkeletonSource::Generate(AutoSkeletonOptions {
            kind,
            spacing: a.joint_spacing,
            min_branch_joints: a.min_branch,
            bump_factor: a.bump_factor,
            mitten: a.mitten,
            resolution: a.skeleton_resolution.max(8),
            ..Default::default()
        })
    };
    if !(a.repetition_penalty.is_finite() && a.repetition_penalty > 0.0) {
        bail!("--repetition-penalty must be a positive number (1 turns it off), not {}", a.repetition_penalty);
    }
    super::learned::check_thresholds(a.min_weight.as_slice(), a.min_presence)?;
    if !(a.temperature.is_finite() && a.temperature >= 0.0 && a.top_p > 0.0 && a.top_p <= 1.0) {
        bail!("--temperature must be 0 or more and --top-p in (0, 1]");
    }
    if a.candidates > 1 && !learned {
        bail!("--candidates needs --method learned (the geometric method is deterministic)");
    }
    if a.candidates > 1 && a.use_skeleton {
        bail!("--candidates draws skeletons: leave out --use-skeleton");
    }
    let method = match a.method {
        Method_::Geometric => Method::Geometric,
        Method_::Learned => Method::Learned(LearnedSettings {
            models: a.model.clone(),
            backend: a.backend.into(),
            sampling: SamplingOptions {
                temperature: a.temperature,
                top_k: a.top_k,
                top_p: a.top_p,
                repetition_penalty: a.repetition_penalty,
                beams: a.beams.max(1),
                seed: a.seed,
                ..Default::default()
            },
            min_presence: a.min_presence,
            candidate: 0,
        }),
    };
    Ok(RigRequest { method, skeleton, skin, limit })
}

/// `--candidates N`: one output per skeleton candidate of the learned method, numbered.
fn write_candidates(
    input: &Path,
    output: &Path,
    (candidates, keep): (usize, Keep<'_>),
    request: &RigRequest,
    caches: &mut Caches,
) -> anyhow::Result<()> {
    let stem = output.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "rig".into());
    let ext = output.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_else(|| "glb".into());
    for n in 0..candidates {
        let out = output.with_file_name(format!("{stem}-{}.{ext}", n + 1));
        let mut request = request.clone();
        if let Method::Learned(s) = &mut request.method {
            s.candidate = n;
        }
        let t = Instant::now();
        rig_file(input, &out, &request, caches, false, keep)?;
        eprintln!("candidate {} in {:.2} s -> {}", n + 1, t.elapsed().as_secs_f64(), out.display());
    }
    Ok(())
}

fn run_batch(
    input: &Path,
    output: &Path,
    shard: Shard,
    (request, caches): (&RigRequest, &mut Caches),
    keep: Keep<'_>,
) -> anyhow::Result<()> {
    let all = batch_inputs(input).map_err(|e| anyhow::anyhow!("{e}"))?;
    if all.is_empty() {
        bail!("{} holds no .glb/.gltf/.vrm/.obj file", input.display());
    }
    if output.is_file() {
        bail!("--output {} is a file; a folder or list of inputs is rigged into a folder", output.display());
    }
    std::fs::create_dir_all(output).with_context(|| format!("{}", output.display()))?;
    let files = shard.take(&all);
    let bar = files::progress_bar(files.len());
    let mut entries = Vec::with_capacity(files.len());
    for (f, key) in &files {
        bar.set_message(f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        let out = output.join(format!("{key}.glb"));
        let t = Instant::now();
        let result = rig_file(f, &out, request, caches, false, keep).map_err(|e| format!("{e:#}"));
        if let Err(e) = &result {
            bar.suspend(|| eprintln!("error: {}: {e}", f.display()));
        }
        entries.push(Entry { input: f.clone(), output: out, seconds: t.elapsed().as_secs_f64(), result });
        bar.inc(1);
    }
    bar.finish_with_message("done");
    let manifest = write_manifest(output, shard, all.len(), &entries).map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("manifest: {}", manifest.display());
    let failed = entries.iter().filter(|e| e.result.is_err()).count();
    if failed > 0 {
        bail!("{failed} of {} files failed", files.len());
    }
    Ok(())
}

/// Rigs one file and writes it. Each file is its own mesh for the binder cache.
/// Returns the written rig's figures (for a batch's manifest).
fn rig_file(
    input: &Path,
    output: &Path,
    request: &RigRequest,
    caches: &mut Caches,
    show_progress: bool,
    keep: Keep<'_>,
) -> anyhow::Result<serde_json::Value> {
    static NEXT_MESH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let imported = rig_io::load(input).with_context(|| format!("{}", input.display()))?;
    let mut losses: Vec<String> =
        imported.losses().into_iter().map(String::from).chain(rig_io::export_losses(&imported.rig, output)).collect();
    if request.generates_skeleton() {
        // The file's clips animate its joints, which the generated skeleton replaces.
        losses.retain(|l| !l.contains("animation"));
    }
    super::files::check_losses(input, output, &losses, keep.force)?;
    let mut rig = imported.rig;
    let last = std::sync::Mutex::new(String::new());
    let report = |stage: &str, f: f32| {
        let line = format!("  {stage} ({:.0} %)", (f * 10.0).floor() * 10.0);
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        if show_progress && *last != line {
            eprintln!("{line}");
            *last = line;
        }
    };
    let mesh_key = NEXT_MESH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let output_rig = match run_rig(&rig, mesh_key, request, caches, Task::reporting(&report)) {
        Err(PipelineError::NoSkeleton) => {
            bail!("{} has no skeleton to keep (--use-skeleton needs a file with a skinned mesh)", input.display())
        }
        other => other.with_context(|| format!("{}", input.display()))?,
    };
    let replaced =
        (output_rig.generated_skeleton && !rig.skeleton.is_empty()).then(|| (rig.skeleton.clone(), std::mem::take(&mut rig.clips)));
    if let Some((skeleton, clips)) = &replaced {
        let clips_note = match (keep.clips, clips.len()) {
            (true, _) | (_, 0) => String::new(),
            (false, n) => format!(" and its {n} clips (--use-skeleton keeps them, --keep-clips retargets them)"),
        };
        eprintln!("note: {}: the generated skeleton replaces the file's {} joints{clips_note}", input.display(), skeleton.len());
    }
    if let Some(r) = &output_rig.learned {
        if r.left_out > 0 {
            eprintln!(
                "warning: {}: {} deforming joints are outside the skeleton's main tree; the learned method weights one tree only",
                input.display(),
                r.left_out
            );
        }
        if show_progress {
            match r.template_joints {
                Some(t) => eprintln!("  {} joints: the geometric template's {t}, pruned by the joint pruner", r.joints),
                None => {
                    let score = r.skeleton_score.map_or(String::new(), |s| format!(", mean token log-probability {s:.3}"));
                    eprintln!("  {} joints, {} moved into the volume{score}", r.joints, r.moved_inside);
                }
            }
            let skin = if r.skin_predicted { "the skin predictor (from bone heat)" } else { "the generator's skin tokens" };
            eprintln!("  skin from {skin}");
        }
    }
    let up = rig.up_direction();
    apply(&mut rig, output_rig);
    if let Some((skeleton, clips)) = replaced.filter(|(_, clips)| keep.clips && !clips.is_empty()) {
        let retargeted = rig_core::retarget::retarget(&skeleton, &clips, &rig.skeleton, up).map_err(|e| {
            let hint = if e.contains("target skeleton") { "; the generated skeleton is not a biped (--kind biped says why)" } else { "" };
            anyhow::anyhow!(
                "{}: --keep-clips: {}{hint}",
                input.display(),
                e.replace("target skeleton", "generated skeleton").replace("source skeleton", "file's skeleton")
            )
        })?;
        rig.clips = retargeted.clips;
        eprintln!(
            "note: {}: its {} clips are retargeted onto the generated skeleton ({} joints paired by name)",
            input.display(),
            rig.clips.len(),
            retargeted.pairs.len()
        );
    }
    files::apply_rest_pose(&mut rig, keep.rest_pose, input)?;
    files::apply_preset(&mut rig, keep.preset, input);
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    let export = rig_io::ExportOptions { limit: Some(request.limit), vrm_authors: keep.authors.to_vec(), ..Default::default() };
    let warnings = rig_io::save(&rig, output, &export).with_context(|| format!("{}", output.display()))?;
    for w in warnings {
        eprintln!("warning: {}: {w}", output.display());
    }
    Ok(serde_json::json!({
        "vertices": rig.mesh.positions.len(),
        "joints": rig.skeleton.len(),
        "deforming_joints": rig.skeleton.joints.iter().filter(|j| j.deform).count(),
        "clips": rig.clips.len(),
    }))
}
