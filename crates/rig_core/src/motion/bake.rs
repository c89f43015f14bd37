//! A rig's clip baked to vertex positions: one frame per key time, morph targets and linear
//! blend skinning applied, in the space the file's scene shows the mesh. This is how mesh
//! sequences with a known rig (to test and train rig from motion) are made from characters.

use thiserror::Error;

use super::MeshSequence;
use crate::animation::Clip;
use crate::pose::Pose;
use crate::Rig;

#[derive(Debug, Error, PartialEq)]
pub enum BakeError {
    #[error("{0} has no animation to bake into frames: give a file with a skinned or morph-target clip, or a folder of OBJ frames")]
    NoClips(String),
    #[error("clip '{clip}' has {keys} key time(s): a sequence needs at least 2 frames")]
    TooFewKeys { clip: String, keys: usize },
    #[error("the file places its mesh with a transform that has no inverse: rig from motion cannot bring the frames back to the mesh")]
    Placement,
}

/// Every key time of `rig.clips[clip]` as a frame (the first is the rest pose).
pub fn bake_clip(rig: &Rig, clip: usize) -> Result<MeshSequence, BakeError> {
    let Some(c) = rig.clips.get(clip) else { return Err(BakeError::NoClips(rig.name.clone())) };
    let times = c.key_times();
    if times.len() < 2 {
        return Err(BakeError::TooFewKeys { clip: c.name.clone(), keys: times.len() });
    }
    let frames: Vec<Vec<[f32; 3]>> = times.iter().map(|&t| posed_positions(rig, c, t)).collect();
    Ok(MeshSequence::from_frames(frames, times, rig.mesh.triangles.clone()))
}

/// The clip's frames brought back into the rig's mesh space, with the stored mesh (its bind
/// pose, morph targets at their default weights) as the rest pose: a skeleton recovered from
/// it binds the mesh as it is stored, and goes under the file's placement like a generated one.
pub fn bake_clip_in_mesh_space(rig: &Rig, clip: usize) -> Result<MeshSequence, BakeError> {
    let mut seq = bake_clip(rig, clip)?;
    to_mesh_space(rig, &mut seq.frames)?;
    seq.rest = morphed_positions(rig, &Clip::default(), 0.0);
    Ok(seq)
}

/// Frames where the rig's scene shows its mesh (as [`posed_positions`] gives them) brought into
/// the space the mesh is stored in.
pub fn to_mesh_space(rig: &Rig, frames: &mut [Vec<[f32; 3]>]) -> Result<(), BakeError> {
    let mesh_from_display = rig.display_from_mesh().try_inverse().ok_or(BakeError::Placement)?;
    for p in frames.iter_mut().flatten() {
        let q = mesh_from_display.transform_point(&nalgebra::Point3::from(*p));
        *p = [q.x, q.y, q.z];
    }
    Ok(())
}

/// The rig's vertices at `time_secs` of `clip`: morph weights, then skinning; vertices that
/// follow no joint are placed where the scene shows the mesh.
pub fn posed_positions(rig: &Rig, clip: &Clip, time_secs: f32) -> Vec<[f32; 3]> {
    let mut pose = Pose::rest(&rig.skeleton);
    clip.apply(time_secs, &mut pose);
    posed_with(rig, &pose, &morph_weights_at(rig, clip, time_secs))
}

/// The rig's vertices in `pose` with `morph_weights` (one list per mesh group, as
/// [`morph_weights_at`] gives): what a clip keyed with them plays.
pub fn posed_with(rig: &Rig, pose: &Pose, morph_weights: &[Vec<f32>]) -> Vec<[f32; 3]> {
    let positions = morphed_with(rig, morph_weights);
    let display = rig.display_from_mesh();
    let mut out = if rig.skeleton.is_empty() {
        positions.clone()
    } else {
        crate::lbs::skin_positions(&positions, &rig.weights, &pose.skinning_matrices(&rig.skeleton))
    };
    for (i, o) in out.iter_mut().enumerate() {
        if i >= rig.weights.vertex_count() || rig.weights.row(i).0.is_empty() {
            let p = display.transform_point(&nalgebra::Point3::from(positions[i]));
            *o = [p.x, p.y, p.z];
        }
    }
    out
}

/// The rig's vertices in its bind pose, where the scene shows them (`None` without a skeleton).
pub fn bind_pose(rig: &Rig) -> Option<Vec<[f32; 3]>> {
    if rig.skeleton.is_empty() {
        return None;
    }
    let still = Clip::default();
    let mut positions = posed_positions(rig, &still, 0.0);
    let skinning = Pose::bind(&rig.skeleton).skinning_matrices(&rig.skeleton);
    let skinned = crate::lbs::skin_positions(&rig.mesh.positions, &rig.weights, &skinning);
    for (i, p) in positions.iter_mut().enumerate() {
        if i < rig.weights.vertex_count() && !rig.weights.row(i).0.is_empty() {
            *p = skinned[i];
        }
    }
    Some(positions)
}

/// Each mesh group's morph weights at `time_secs` of `clip` (the group's default weights
/// where the clip does not animate it).
pub fn morph_weights_at(rig: &Rig, clip: &Clip, time_secs: f32) -> Vec<Vec<f32>> {
    let mut targets = vec![0usize; rig.mesh.groups.len()];
    for part in &rig.mesh.parts {
        if let Some(t) = targets.get_mut(part.group) {
            *t = (*t).max(part.morph_targets.len());
        }
    }
    rig.mesh
        .groups
        .iter()
        .enumerate()
        .map(|(g, group)| match clip.morph_channels.iter().find(|c| c.group == g) {
            Some(channel) => channel.sample(time_secs, targets[g]),
            None => {
                let mut w = group.morph_default_weights.clone();
                w.resize(targets[g], 0.0);
                w
            }
        })
        .collect()
}

/// Mesh positions with `morph_weights` (one list per mesh group) applied.
pub fn morphed_with(rig: &Rig, morph_weights: &[Vec<f32>]) -> Vec<[f32; 3]> {
    let mut positions = rig.mesh.positions.clone();
    for part in &rig.mesh.parts {
        let Some(weights) = morph_weights.get(part.group) else { continue };
        for (target, &w) in part.morph_targets.iter().zip(weights) {
            if w == 0.0 {
                continue;
            }
            for (k, d) in target.position_deltas.iter().enumerate() {
                if let Some(p) = positions.get_mut(part.vertices.start as usize + k) {
                    (0..3).for_each(|a| p[a] += w * d[a]);
                }
            }
        }
    }
    positions
}

/// Mesh positions with the clip's morph weights (or each mesh's default weights) applied.
fn morphed_positions(rig: &Rig, clip: &Clip, time_secs: f32) -> Vec<[f32; 3]> {
    morphed_with(rig, &morph_weights_at(rig, clip, time_secs))
}
