//! Rig from motion as a job: a loaded mesh sequence in, an ordinary rig (skeleton, weights,
//! one clip keyed at the input's frame times) out, with the errors measured on the way. The
//! command line and the editor both run it through [`run_rig_from_motion`].

use std::time::Instant;

use rig_core::motion::{bake_clip_in_mesh_space, rest_mesh, rig_from_motion, to_rig, MeshSequence, MotionOptions, MotionResult};
use rig_core::{Clip, Rig, Task};
use rig_io::sequence::LoadedSequence;

use crate::rig::{PipelineError, RigOutput};

/// What rig from motion on a rig's clip adds to its [`RigOutput`].
#[derive(Debug, Clone)]
pub struct MotionReport {
    /// The recovered clip (joint indices of the output's skeleton).
    pub clip: Clip,
    pub free_rmse_percent: f64,
    pub skeleton_rmse_percent: Option<f64>,
    /// Child joints that translate as well as turn.
    pub translating_joints: usize,
    /// The free bones' error after each iteration.
    pub history: Vec<f64>,
    /// Bones the solver left without vertices (dropped).
    pub dropped_bones: usize,
    pub vertices: usize,
    pub frames: usize,
    /// The frames the rig was recovered from, in the rig's mesh space (the editor's error
    /// overlay compares the recovered clip with them).
    pub input: std::sync::Arc<MeshSequence>,
}

impl MotionReport {
    fn of(result: &MotionResult, clip: Clip, seq: &MeshSequence) -> MotionReport {
        let h = result.hierarchy.as_ref();
        MotionReport {
            clip,
            free_rmse_percent: result.free_rmse_percent,
            skeleton_rmse_percent: result.hierarchy_rmse_percent,
            translating_joints: h.map_or(0, |h| h.parent.iter().zip(&h.connected).filter(|(p, c)| p.is_some() && !**c).count()),
            history: result.history.clone(),
            dropped_bones: result.dropped_bones,
            vertices: seq.rest.len(),
            frames: seq.frames.len(),
            input: std::sync::Arc::new(seq.clone()),
        }
    }

    /// The error of the rig that is written: the skeleton's when one was built.
    pub fn rmse_percent(&self) -> f64 {
        self.skeleton_rmse_percent.unwrap_or(self.free_rmse_percent)
    }
}

/// Rig from motion on `rig`'s clip `clip`, as the editor and `rig-from-motion` on a file run it:
/// the frames are brought back into the mesh's space and the stored mesh is the rest pose, so
/// the result is a new skeleton, weights and one clip for the same mesh ([`crate::apply`] puts
/// the skeleton under the file's placement, as for a generated one).
pub fn run_on_clip(rig: &Rig, clip: usize, options: &MotionOptions, learned: bool, task: Task) -> Result<RigOutput, PipelineError> {
    task.stage("baking the clip to frames", 0.0)?;
    let seq = bake_clip_in_mesh_space(rig, clip)?;
    let result = solve(&seq, options, learned, &task)?;
    let name = rig.clips.get(clip).map_or("motion", |c| c.name.as_str());
    let recovered = to_rig(&rig.name, &seq, &result, rest_mesh(&seq, None), Default::default(), name);
    let report = MotionReport::of(&result, recovered.clips.into_iter().next().unwrap_or_default(), &seq);
    Ok(RigOutput {
        skeleton: recovered.skeleton,
        weights: recovered.weights,
        generated_skeleton: true,
        learned: None,
        motion: Some(Box::new(report)),
        matched: None,
        face: None,
    })
}

/// A finished rig from motion.
#[derive(Debug, Clone)]
pub struct MotionOutput {
    pub rig: Rig,
    pub report: MotionReport,
    pub seconds: f32,
}

/// Rig from motion on a loaded sequence: a file's clip through [`run_on_clip`] (the file's
/// mesh, materials and placement kept, its skeleton and clips replaced); an OBJ folder with its
/// first frame as the rest pose and mesh.
pub fn run_rig_from_motion(
    loaded: &LoadedSequence,
    options: &MotionOptions,
    learned: bool,
    task: &Task,
) -> Result<MotionOutput, PipelineError> {
    let started = Instant::now();
    if let Some(clip) = loaded.clip {
        let mut out = run_on_clip(&loaded.source, clip, options, learned, *task)?;
        let report = *out.motion.clone().ok_or(PipelineError::Cancelled)?;
        let mut rig = loaded.source.clone();
        out.learned = None;
        crate::rig::apply(&mut rig, out);
        return Ok(MotionOutput { rig, report, seconds: started.elapsed().as_secs_f32() });
    }
    let seq = &loaded.sequence;
    let result = solve(seq, options, learned, task)?;
    let mesh = rest_mesh(seq, Some(&loaded.source.mesh));
    let rig = to_rig(&loaded.source.name, seq, &result, mesh, loaded.source.materials.clone(), &loaded.clip_name);
    let report = MotionReport::of(&result, rig.clips.first().cloned().unwrap_or_default(), seq);
    Ok(MotionOutput { rig, report, seconds: started.elapsed().as_secs_f32() })
}

/// The solver, seeded by the learned initialiser (the shipped models folder) when `learned`.
fn solve(seq: &MeshSequence, options: &MotionOptions, learned: bool, task: &Task) -> Result<MotionResult, PipelineError> {
    if !learned {
        return Ok(rig_from_motion(seq, options, task)?);
    }
    seq.validate().map_err(|e| PipelineError::Motion(e.into()))?;
    task.stage("learned initialiser: embedding the vertices", 0.0)?;
    let embeddings = learned_embeddings(seq, None)?;
    Ok(rig_core::motion::rig_from_motion_seeded(seq, options, Some(&embeddings), task)?)
}

/// The learned initialiser's embedding of every vertex of `seq`, with the model in `models`
/// (default: the shipped folder).
pub fn learned_embeddings(seq: &MeshSequence, models: Option<&std::path::Path>) -> Result<Vec<Vec<f32>>, PipelineError> {
    let dir = rig_model::store::models_dir(models);
    let device = Default::default();
    let model =
        rig_model::motion_init::load::<rig_model::CpuBackend>(&dir, &device).map_err(|source| PipelineError::Models { dir, source })?;
    Ok(rig_model::motion_init::embed(&model, seq, &device))
}

/// Root mean square distance between `rig`'s clip played at the sequence's frame times and the
/// sequence, in % of its rest pose's diagonal (the figure that says the exported clip plays
/// what the solver measured).
pub fn playback_rmse_percent(rig: &Rig, seq: &MeshSequence) -> f64 {
    let Some(clip) = rig.clips.first() else { return f64::NAN };
    let mut total = 0.0;
    let mut count = 0usize;
    for (frame, &time) in seq.frames.iter().zip(&seq.times) {
        let posed = rig_core::motion::bake::posed_positions(rig, clip, time);
        total += posed.iter().zip(frame).map(|(a, b)| (0..3).map(|k| ((a[k] - b[k]) as f64).powi(2)).sum::<f64>()).sum::<f64>();
        count += frame.len();
    }
    100.0 * (total / count.max(1) as f64).sqrt() / seq.diagonal()
}

/// The recovered skeleton against the one that made the frames (a baked clip of a skinned
/// file): CD-J2J, CD-J2B and CD-B2B (`rigsmith eval`'s measures, x 100 of the mesh's longest
/// side), both skeletons posed by their clips at the first frame. `None` for a sequence without
/// a source skeleton.
pub fn joint_scores(loaded: &LoadedSequence, recovered: &Rig) -> Option<rig_core::metrics::SkeletonScores> {
    let source = &loaded.source;
    let start = loaded.sequence.times.first().copied().unwrap_or(0.0);
    let truth = posed_as_bound(source, source.clips.get(loaded.clip?)?, start)?;
    let pred = posed_as_bound(recovered, recovered.clips.first()?, start)?;
    let bounds = rig_core::mesh::Aabb::of_points(loaded.sequence.frames.first()?)?;
    Some(rig_core::metrics::skeleton_scores(&pred, &truth, &bounds))
}

/// `rig`'s skeleton with its bind pose moved to where `clip` puts the joints at `time`.
fn posed_as_bound(rig: &Rig, clip: &Clip, time: f32) -> Option<rig_core::Skeleton> {
    if rig.skeleton.is_empty() {
        return None;
    }
    let mut pose = rig_core::Pose::rest(&rig.skeleton);
    clip.apply(time, &mut pose);
    let mut skeleton = rig.skeleton.clone();
    for (joint, model_from_joint) in skeleton.joints.iter_mut().zip(pose.model_from_joints(&rig.skeleton)) {
        joint.joint_from_mesh = model_from_joint.try_inverse().unwrap_or_else(rig_core::Mat4::identity);
    }
    Some(skeleton)
}

/// How much the weights change across the surface: the mean over triangle edges of the L1
/// distance between the two ends' weights (0 for one rigid piece, 2 for a cut between bones).
pub fn weight_roughness(rig: &Rig) -> f64 {
    let mut total = 0.0;
    let mut edges = 0usize;
    for t in &rig.mesh.triangles {
        for (a, b) in [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])] {
            let (ra, rb) = (rig.weights.row_pairs(a as usize), rig.weights.row_pairs(b as usize));
            let get = |r: &[(u32, f32)], j: u32| r.iter().find(|e| e.0 == j).map_or(0.0, |e| e.1 as f64);
            let joints: std::collections::BTreeSet<u32> = ra.iter().chain(&rb).map(|e| e.0).collect();
            total += joints.iter().map(|&j| (get(&ra, j) - get(&rb, j)).abs()).sum::<f64>();
            edges += 1;
        }
    }
    total / edges.max(1) as f64
}

/// Most frames a training clip keeps (evenly spaced): the initialiser reads 16.
const TRAINING_FRAMES: usize = 32;

/// Training sequences for the learned initialiser: up to `clips_per_file` clips of every rigged
/// file under `dirs` and `creatures` procedural creatures moved at random, each baked into the
/// mesh's space (as [`run_on_clip`] bakes), every vertex labelled with the joint that carries
/// most of its weight in the true rig. Files that fail to load or have no clip are skipped.
pub fn training_sequences(
    files: &[std::path::PathBuf],
    clips_per_file: usize,
    creatures: usize,
    mut progress: impl FnMut(&str),
) -> Vec<rig_model::motion_init::TrainingSequence> {
    let mut out = Vec::new();
    let mut add = |rig: &Rig, clip: usize| {
        let Ok(mut seq) = rig_core::motion::bake_clip_in_mesh_space(&thinned(rig, clip), clip) else { return false };
        if seq.frames.len() < 3 {
            return false;
        }
        seq.times.truncate(seq.frames.len());
        let labels = (0..rig.mesh.vertex_count())
            .map(|v| {
                let (joints, weights) = rig.weights.row(v);
                joints.iter().zip(weights).max_by(|a, b| a.1.total_cmp(b.1)).map_or(usize::MAX, |(j, _)| *j as usize)
            })
            .collect();
        out.push(rig_model::motion_init::TrainingSequence { features: rig_model::motion_init::vertex_features(&seq), labels });
        true
    };
    for file in files {
        let Ok(imported) = rig_io::load(file) else { continue };
        let rig = imported.rig;
        if rig.skeleton.is_empty() {
            continue;
        }
        let kept = (0..rig.clips.len()).filter(|&c| add(&rig, c)).take(clips_per_file).count();
        progress(&format!("{}: {kept} clip(s)", file.display()));
    }
    for seed in 0..creatures as u64 {
        let mut rig = rig_core::creature::creature(1000 + seed, &Default::default());
        rig.clips = vec![rig_core::creature::motion::random_motion(&rig.skeleton, 1000 + seed, 40, 24.0)];
        add(&rig, 0);
        progress(&format!("creature {}", 1000 + seed));
    }
    out
}

/// `rig` with clip `clip` keeping at most [`TRAINING_FRAMES`] of its key times.
fn thinned(rig: &Rig, clip: usize) -> Rig {
    let mut rig = rig.clone();
    if let Some(c) = rig.clips.get_mut(clip) {
        let times = c.key_times();
        if times.len() > TRAINING_FRAMES {
            let keep: Vec<f32> = (0..TRAINING_FRAMES).map(|k| times[k * (times.len() - 1) / (TRAINING_FRAMES - 1)]).collect();
            *c = resample(c, &keep, &rig.skeleton);
        }
    }
    rig
}

/// The clip sampled at `times` (rotation, translation and scale of every animated joint).
fn resample(clip: &Clip, times: &[f32], skeleton: &rig_core::Skeleton) -> Clip {
    use rig_core::{Channel, ChannelValues, Interpolation, Pose};
    let animated: std::collections::BTreeSet<usize> = clip.channels.iter().map(|c| c.joint).collect();
    let mut poses = Vec::with_capacity(times.len());
    for &t in times {
        let mut pose = Pose::rest(skeleton);
        clip.apply(t, &mut pose);
        poses.push(pose);
    }
    let mut channels = Vec::new();
    for &j in &animated {
        let r = poses.iter().map(|p| {
            let q = p.local[j].rotation;
            [q.i, q.j, q.k, q.w]
        });
        channels.push(Channel {
            joint: j,
            times: times.to_vec(),
            values: ChannelValues::Rotation(r.collect()),
            interpolation: Interpolation::Linear,
        });
        let tr = poses.iter().map(|p| p.local[j].translation.into());
        channels.push(Channel {
            joint: j,
            times: times.to_vec(),
            values: ChannelValues::Translation(tr.collect()),
            interpolation: Interpolation::Linear,
        });
        let sc = poses.iter().map(|p| p.local[j].scale.into());
        channels.push(Channel {
            joint: j,
            times: times.to_vec(),
            values: ChannelValues::Scale(sc.collect()),
            interpolation: Interpolation::Linear,
        });
    }
    Clip { name: clip.name.clone(), channels, morph_channels: clip.morph_channels.clone() }
}

/// Each vertex's distance from `frame` at the same time, in % of the frame's diagonal, for
/// vertices `posed` by the recovered rig (both in the rig's mesh space).
pub fn vertex_errors_percent(posed: &[[f32; 3]], frame: &[[f32; 3]], diagonal: f64) -> Vec<f32> {
    let scale = 100.0 / diagonal.max(1e-12) as f32;
    posed.iter().zip(frame).map(|(a, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt() * scale).collect()
}

/// The index of the frame whose time is nearest `time`.
pub fn nearest_frame(times: &[f32], time: f32) -> usize {
    (0..times.len()).min_by(|&a, &b| (times[a] - time).abs().total_cmp(&(times[b] - time).abs())).unwrap_or(0)
}
