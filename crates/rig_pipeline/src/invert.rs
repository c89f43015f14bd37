//! Rig inversion as a job: target meshes matched to the rig's vertices, the controls solved
//! frame by frame, the rig returned with one clip that plays them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use rig_core::invert::{invert, to_clip, Inversion, InvertOptions};
use rig_core::motion::MeshSequence;
use rig_core::{Pose, Rig, Task};
use rig_io::sequence::LoadedSequence;

use crate::rig::RigOutput;
use crate::PipelineError;

/// How target vertices are paired with the rig's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Matching {
    /// Vertex for vertex, in order (the counts must agree).
    #[default]
    Exact,
    /// Each rig vertex takes the target vertex nearest it, found once on the first frame
    /// against the rig in its rest pose.
    Nearest,
}

#[derive(Debug, Clone)]
pub struct InvertOutput {
    /// The rig with one clip, a key per target frame.
    pub rig: Rig,
    pub inversion: Inversion,
    pub seconds: f32,
    /// Said when the targets were matched by nearest point.
    pub warning: Option<String>,
}

/// The targets as frames of the rig's vertices.
pub fn match_targets(rig: &Rig, seq: &MeshSequence, matching: Matching) -> (Vec<Vec<[f32; 3]>>, Option<String>) {
    if matching == Matching::Exact || seq.frames.is_empty() {
        return (seq.frames.clone(), None);
    }
    let defaults = rig_core::motion::bake::morph_weights_at(rig, &rig_core::Clip::default(), 0.0);
    let rest = rig_core::motion::bake::posed_with(rig, &Pose::rest(&rig.skeleton), &defaults);
    let first = &seq.frames[0];
    let nearest: Vec<usize> = rest
        .par_iter()
        .map(|p| {
            let d = |q: &[f32; 3]| (0..3).map(|k| (p[k] - q[k]).powi(2)).sum::<f32>();
            (0..first.len()).min_by(|&a, &b| d(&first[a]).total_cmp(&d(&first[b]))).unwrap_or(0)
        })
        .collect();
    let mean = rest.iter().zip(&nearest).map(|(p, &n)| (0..3).map(|k| (p[k] - first[n][k]).powi(2)).sum::<f32>().sqrt()).sum::<f32>()
        / rest.len().max(1) as f32;
    let diagonal = rig_core::invert::diagonal(&rest) as f32;
    let frames = seq.frames.iter().map(|f| nearest.iter().map(|&n| f.get(n).copied().unwrap_or([f32::NAN; 3])).collect()).collect();
    let warning = format!(
        "targets matched by nearest point: {} target vertices onto the rig's {}, first frame {:.3} % of the diagonal from the rest pose on average; the fit is only as good as that pairing",
        first.len(),
        rest.len(),
        100.0 * mean / diagonal.max(1e-12)
    );
    (frames, Some(warning))
}

/// Solves `seq` on `rig` and returns the rig with the solved clip as its only clip.
pub fn run_invert(
    rig: &Rig,
    seq: &MeshSequence,
    matching: Matching,
    options: &InvertOptions,
    clip_name: &str,
    task: &Task,
) -> Result<InvertOutput, PipelineError> {
    let started = Instant::now();
    let (frames, warning) = match_targets(rig, seq, matching);
    let inversion = invert(rig, &frames, options, task)?;
    let mut out = rig.clone();
    out.clips = vec![to_clip(rig, &inversion, &seq.times, clip_name)];
    Ok(InvertOutput { rig: out, inversion, seconds: started.elapsed().as_secs_f32(), warning })
}

/// Match targets as the editor runs it: a sequence file and how to solve it on the open rig.
#[derive(Debug, Clone)]
pub struct MatchSettings {
    /// A folder of OBJ frames, a .glb/.gltf/.fbx whose clip is baked to one frame per key, or
    /// one mesh (see [`load_targets`]).
    pub targets: PathBuf,
    pub sequence: rig_io::sequence::SequenceOptions,
    pub matching: Matching,
    pub options: InvertOptions,
}

/// What Match targets adds to its [`RigOutput`]: the solved clip (appended to the rig's clips
/// by [`crate::apply`]) and how close each frame came.
#[derive(Debug, Clone)]
pub struct MatchReport {
    pub clip: rig_core::Clip,
    /// Per frame: mean and largest vertex distance, fractions of the diagonal.
    pub frame_errors: Vec<(f64, f64)>,
    pub mean_error: f64,
    pub rotated: usize,
    pub translated: usize,
    pub morphs_solved: bool,
    pub warning: Option<String>,
    /// The targets as frames of the rig's vertices in its mesh space (the error overlay and the
    /// ghost compare the solved clip with them).
    pub input: Arc<MeshSequence>,
}

/// Reads inversion targets: a folder of OBJ frames, a file's clip baked to one frame per key (a
/// one-key clip is its one pose), or one mesh (an .obj, or a file without animation: a scan, a
/// sculpted pose) as a single frame where its scene shows it.
pub fn load_targets(path: &std::path::Path, options: &rig_io::sequence::SequenceOptions) -> Result<LoadedSequence, PipelineError> {
    let err = |source| PipelineError::Targets { path: path.to_path_buf(), source };
    if path.is_dir() {
        return match rig_io::sequence::obj_frames(path).map_err(err)?.as_slice() {
            [] => Err(err(rig_io::IoError::Invalid(format!("{} holds no .obj frame: give OBJ frames of the rig's mesh", path.display())))),
            [one] => load_targets(one, options),
            _ => rig_io::sequence::load_sequence(path, options).map_err(err),
        };
    }
    let imported = rig_io::load(path).map_err(err)?;
    let is_obj = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("obj"));
    let mut clip = None;
    if !is_obj && !imported.rig.clips.is_empty() {
        let index = rig_io::sequence::pick_clip(&imported.rig, options.clip.as_deref()).map_err(err)?;
        if imported.rig.clips[index].key_times().len() >= 2 {
            return rig_io::sequence::bake_loaded(imported, path, options).map_err(err);
        }
        clip = Some(index);
    } else if let Some(wanted) = &options.clip {
        return Err(err(rig_io::IoError::Invalid(format!("no clip {wanted:?}: the file is one mesh without animation"))));
    }
    let rig = imported.rig;
    let name = clip
        .map_or_else(|| path.file_stem().map_or("target".to_string(), |s| s.to_string_lossy().into_owned()), |c| rig.clips[c].name.clone());
    Ok(LoadedSequence { sequence: single_frame(&rig, clip), source: rig, clip_name: name, clip, warnings: imported.warnings })
}

/// One target: the pose of a one-key clip, or the mesh as its scene shows it.
fn single_frame(rig: &Rig, clip: Option<usize>) -> MeshSequence {
    let still = rig_core::Clip::default();
    let c = clip.and_then(|c| rig.clips.get(c)).unwrap_or(&still);
    let time = c.key_times().first().copied().unwrap_or(0.0);
    let frame = rig_core::motion::bake::posed_positions(rig, c, time);
    MeshSequence::from_frames(vec![frame], vec![time], rig.mesh.triangles.clone())
}

/// A clip's frames to invert: one per key, or the one pose of a one-key clip.
fn clip_frames(rig: &Rig, clip: usize) -> Result<MeshSequence, PipelineError> {
    match rig.clips.get(clip) {
        Some(c) if c.key_times().len() == 1 => Ok(single_frame(rig, Some(clip))),
        _ => Ok(rig_core::motion::bake_clip(rig, clip)?),
    }
}

/// Reads `settings.targets`, solves them on `rig` as [`run_invert`] does and returns the rig's
/// skeleton and weights unchanged with the solved clip in the report (the editor's job).
pub fn run_match(rig: &Rig, settings: &MatchSettings, task: &Task) -> Result<RigOutput, PipelineError> {
    task.stage("reading the targets", 0.0)?;
    let loaded = load_targets(&settings.targets, &settings.sequence)?;
    let (frames, matched) = match_targets(rig, &loaded.sequence, settings.matching);
    let notes: Vec<String> = loaded.warnings.iter().cloned().chain(matched).collect();
    let warning = (!notes.is_empty()).then(|| notes.join("; "));
    let inv = invert(rig, &frames, &settings.options, task)?;
    let clip = to_clip(rig, &inv, &loaded.sequence.times, &loaded.clip_name);
    let input = in_mesh_space(rig, frames, loaded.sequence.times.clone())?;
    let report = MatchReport {
        clip,
        frame_errors: inv.errors.iter().map(|e| (e.mean, e.max)).collect(),
        mean_error: inv.mean_error(),
        rotated: inv.rotated.len(),
        translated: inv.translated.len(),
        morphs_solved: inv.morphs_solved,
        warning,
        input: Arc::new(input),
    };
    Ok(RigOutput {
        skeleton: rig.skeleton.clone(),
        weights: rig.weights.clone(),
        generated_skeleton: false,
        learned: None,
        motion: None,
        matched: Some(Box::new(report)),
        face: None,
    })
}

/// Frames where the scene shows the mesh, brought into the rig's mesh space (where the editor
/// skins), with the stored mesh as rest pose.
fn in_mesh_space(rig: &Rig, mut frames: Vec<Vec<[f32; 3]>>, times: Vec<f32>) -> Result<MeshSequence, PipelineError> {
    rig_core::motion::bake::to_mesh_space(rig, &mut frames)?;
    let mut seq = MeshSequence::from_frames(frames, times, rig.mesh.triangles.clone());
    seq.rest = rig.mesh.positions.clone();
    Ok(seq)
}

/// One clip of a rigged file baked and inverted three ways (exact targets, targets with
/// Gaussian noise, targets deformed by dual-quaternion skinning).
#[derive(Debug, Clone)]
pub struct ClipSweep {
    pub clip: String,
    pub frames: usize,
    pub vertices: usize,
    pub joints_solved: usize,
    /// The clip moves joints other than the roots (solved with every joint translating).
    pub translates_joints: bool,
    /// The clip scales joints that move vertices (solved with every joint scaling).
    pub scales_joints: bool,
    /// Mean vertex distance over frames, fraction of the diagonal.
    pub exact: f64,
    pub exact_max: f64,
    /// Angle between solved and true model-space joint rotations, degrees (mean, 95th percentile).
    pub angle_mean_deg: f64,
    pub angle_p95_deg: f64,
    /// Frames per second after the first frame.
    pub frames_per_second: f64,
    /// Mean length of the added noise vectors, fraction of the diagonal.
    pub noise: f64,
    pub noisy_fit: f64,
    /// The noisy fit against the clean targets.
    pub noisy_fit_clean: f64,
    /// The clip's own pose, skinned linearly, against the dual-quaternion targets.
    pub dqs_true_pose: f64,
    pub dqs_fit: f64,
}

/// The clip's poses at its key times and the targets they make.
fn truth(rig: &Rig, clip: usize, times: &[f32]) -> Vec<(Pose, Vec<Vec<f32>>)> {
    let c = &rig.clips[clip];
    times
        .iter()
        .map(|&t| {
            let mut pose = Pose::rest(&rig.skeleton);
            c.apply(t, &mut pose);
            (pose, rig_core::motion::bake::morph_weights_at(rig, c, t))
        })
        .collect()
}

fn dqs_frame(rig: &Rig, pose: &Pose, morph: &[Vec<f32>]) -> Vec<[f32; 3]> {
    let lbs = rig_core::motion::bake::posed_with(rig, pose, morph);
    let rest = rig_core::motion::bake::morphed_with(rig, morph);
    let dqs = rig_core::invert::dqs::dqs_positions(&rest, &rig.weights, &pose.skinning_matrices(&rig.skeleton));
    (0..lbs.len()).map(|i| if i < rig.weights.vertex_count() && !rig.weights.row(i).0.is_empty() { dqs[i] } else { lbs[i] }).collect()
}

fn clip_moves(rig: &Rig, clip: usize, diagonal: f32) -> (bool, bool) {
    let skeleton = &rig.skeleton;
    let moves = rig.weights.vertices_per_joint(skeleton.len());
    let influential = |j: usize| (0..skeleton.len()).any(|k| moves[k] > 0 && skeleton.is_descendant(k, j));
    let root_like = |j: usize| skeleton.joints[j].parent.is_none_or(|p| moves[p] == 0);
    let (mut translates, mut scales) = (false, false);
    for c in &rig.clips[clip].channels {
        let rest = &skeleton.joints[c.joint].rest_local;
        match &c.values {
            rig_core::ChannelValues::Translation(v) if moves[c.joint] > 0 && !root_like(c.joint) => {
                translates |= v.iter().any(|t| (0..3).any(|k| (t[k] - rest.translation[k]).abs() > 1e-5 * diagonal));
            }
            rig_core::ChannelValues::Scale(v) if influential(c.joint) => {
                scales |= v.iter().any(|s| (0..3).any(|k| (s[k] - rest.scale[k]).abs() > 1e-4));
            }
            _ => {}
        }
    }
    (translates, scales)
}

fn rotation_of(m: &rig_core::Mat4) -> nalgebra::UnitQuaternion<f32> {
    rig_core::Trs::from_matrix(m).map_or_else(nalgebra::UnitQuaternion::identity, |t| t.rotation)
}

fn angle_errors(rig: &Rig, inversion: &Inversion, truths: &[(Pose, Vec<Vec<f32>>)]) -> (f64, f64) {
    let mut angles: Vec<f64> = Vec::new();
    for (solved, (true_pose, _)) in inversion.poses.iter().zip(truths) {
        let (a, b) = (solved.model_from_joints(&rig.skeleton), true_pose.model_from_joints(&rig.skeleton));
        for &j in &inversion.rotated {
            angles.push(rotation_of(&a[j]).angle_to(&rotation_of(&b[j])).to_degrees() as f64);
        }
    }
    if angles.is_empty() {
        return (0.0, 0.0);
    }
    let mean = angles.iter().sum::<f64>() / angles.len() as f64;
    angles.sort_by(f64::total_cmp);
    (mean, angles[((angles.len() - 1) as f64 * 0.95).round() as usize])
}

fn mean_against(rig: &Rig, inversion: &Inversion, frames: &[Vec<[f32; 3]>]) -> f64 {
    let errors: Vec<f64> = inversion
        .poses
        .iter()
        .enumerate()
        .map(|(f, pose)| {
            let morph = inversion
                .morph_weights
                .get(f)
                .cloned()
                .unwrap_or_else(|| rig_core::motion::bake::morph_weights_at(rig, &rig_core::Clip::default(), 0.0));
            rig_core::invert::frame_error(&rig_core::motion::bake::posed_with(rig, pose, &morph), &frames[f], inversion.diagonal).mean
        })
        .collect();
    errors.iter().sum::<f64>() / errors.len().max(1) as f64
}

/// Bakes `rig.clips[clip]` and inverts it exactly, with noise of `noise` (standard deviation
/// per coordinate, fraction of the diagonal, seeded) and as dual-quaternion targets.
pub fn sweep_clip(rig: &Rig, clip: usize, noise: f32, seed: u64) -> Result<ClipSweep, PipelineError> {
    let seq = clip_frames(rig, clip)?;
    let diagonal = rig_core::invert::diagonal(&seq.frames[0]);
    let (translates, scales) = clip_moves(rig, clip, diagonal as f32);
    let options = InvertOptions {
        translations: if translates { rig_core::invert::Translations::All } else { rig_core::invert::Translations::Roots },
        scales,
        ..Default::default()
    };
    let truths = truth(rig, clip, &seq.times);
    let exact = invert(rig, &seq.frames, &options, &Task::silent())?;
    let (angle_mean_deg, angle_p95_deg) = angle_errors(rig, &exact, &truths);
    let after_first: f32 = exact.frame_seconds.iter().skip(1).sum();
    let mut rng = rig_core::metrics::SplitMix(seed);
    let sigma = noise * diagonal as f32;
    let noisy: Vec<Vec<[f32; 3]>> = seq
        .frames
        .iter()
        .map(|f| f.iter().map(|p| [p[0] + sigma * rng.gaussian(), p[1] + sigma * rng.gaussian(), p[2] + sigma * rng.gaussian()]).collect())
        .collect();
    let noise_level = seq.frames.iter().zip(&noisy).map(|(a, b)| rig_core::invert::frame_error(a, b, diagonal).mean).sum::<f64>()
        / seq.frames.len() as f64;
    let noisy_fit = invert(rig, &noisy, &options, &Task::silent())?;
    let dqs: Vec<Vec<[f32; 3]>> = truths.iter().map(|(p, m)| dqs_frame(rig, p, m)).collect();
    let dqs_true_pose =
        seq.frames.iter().zip(&dqs).map(|(a, b)| rig_core::invert::frame_error(a, b, diagonal).mean).sum::<f64>() / dqs.len() as f64;
    let dqs_fit = invert(rig, &dqs, &options, &Task::silent())?;
    Ok(ClipSweep {
        clip: rig.clips[clip].name.clone(),
        frames: seq.frames.len(),
        vertices: seq.rest.len(),
        joints_solved: exact.rotated.len(),
        translates_joints: translates,
        scales_joints: scales,
        exact: exact.mean_error(),
        exact_max: exact.errors.iter().map(|e| e.max).fold(0.0, f64::max),
        angle_mean_deg,
        angle_p95_deg,
        frames_per_second: if seq.frames.len() > 1 { (seq.frames.len() - 1) as f64 / after_first.max(1e-9) as f64 } else { f64::NAN },
        noise: noise_level,
        noisy_fit: noisy_fit.mean_error(),
        noisy_fit_clean: mean_against(rig, &noisy_fit, &seq.frames),
        dqs_true_pose,
        dqs_fit: dqs_fit.mean_error(),
    })
}
