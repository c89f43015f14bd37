//! Rig from motion as a job: a loaded mesh sequence in, an ordinary rig (skeleton, weights,
//! one clip keyed at the input's frame times) out, with the errors measured on the way. The
//! command line and the editor both run it through [`run_rig_from_motion`].

use std::time::Instant;

use rig_core::motion::{rest_mesh, rig_from_motion, to_rig, MeshSequence, MotionOptions, MotionResult, SsdrError};
use rig_core::{Rig, Task};
use rig_io::sequence::LoadedSequence;

/// A finished rig from motion.
#[derive(Debug, Clone)]
pub struct MotionOutput {
    pub rig: Rig,
    pub result: MotionResult,
    /// Vertices and frames of the input.
    pub vertices: usize,
    pub frames: usize,
    pub seconds: f32,
}

impl MotionOutput {
    /// The error of the rig the output carries: the skeleton's when one was built.
    pub fn rmse_percent(&self) -> f64 {
        self.result.hierarchy_rmse_percent.unwrap_or(self.result.free_rmse_percent)
    }
}

/// Solves `loaded` and builds the rig: the source's parts, UVs and materials when the sequence
/// keeps its vertices, the bare rest pose otherwise.
pub fn run_rig_from_motion(loaded: &LoadedSequence, options: &MotionOptions, task: &Task) -> Result<MotionOutput, SsdrError> {
    let started = Instant::now();
    let seq = &loaded.sequence;
    let result = rig_from_motion(seq, options, task)?;
    let mesh = rest_mesh(seq, Some(&loaded.source.mesh));
    let rig = to_rig(&loaded.source.name, seq, &result, mesh, loaded.source.materials.clone(), &loaded.clip_name);
    Ok(MotionOutput { rig, result, vertices: seq.rest.len(), frames: seq.frames.len(), seconds: started.elapsed().as_secs_f32() })
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
/// side) with the file's joints posed at the clip's first key, where the recovered rig rests.
/// `None` for a sequence without a source skeleton.
pub fn joint_scores(loaded: &LoadedSequence, recovered: &Rig) -> Option<rig_core::metrics::SkeletonScores> {
    let source = &loaded.source;
    let clip = source.clips.get(loaded.clip?)?;
    if source.skeleton.is_empty() {
        return None;
    }
    let start = loaded.sequence.times.first().copied().unwrap_or(0.0);
    let mut pose = rig_core::Pose::rest(&source.skeleton);
    clip.apply(start, &mut pose);
    let mut truth = source.skeleton.clone();
    for (joint, model_from_joint) in truth.joints.iter_mut().zip(pose.model_from_joints(&source.skeleton)) {
        joint.joint_from_mesh = model_from_joint.try_inverse().unwrap_or_else(rig_core::Mat4::identity);
    }
    let bounds = rig_core::mesh::Aabb::of_points(&loaded.sequence.rest)?;
    Some(rig_core::metrics::skeleton_scores(&recovered.skeleton, &truth, &bounds))
}
