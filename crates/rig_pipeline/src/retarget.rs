//! Clips from another character's file played on a rig (`rigsmith retarget`, the editor's
//! File > Retarget clips): joints paired by name through the naming conventions, facing
//! matched, rest pose corrected, hips' travel scaled; each clip scored by its end effectors'
//! paths against the source's, next to a plain copy of the channels.

use rig_core::retarget::{self, Character, PathError};
use rig_core::{Clip, Rig};

/// How the clips are carried over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetargetMethod {
    /// Facing matched, rest pose corrected, hips scaled.
    #[default]
    Corrected,
    /// The source's channels copied onto the paired joints as they are (the baseline).
    Copy,
}

#[derive(Debug, Clone, Default)]
pub struct RetargetSettings {
    /// Clip names to carry over (all when empty).
    pub clips: Vec<String>,
    pub method: RetargetMethod,
}

/// One carried clip and how closely the target's hands, feet and head follow the source's.
#[derive(Debug, Clone)]
pub struct ClipScore {
    pub name: String,
    /// The name it has on the target (a suffix when the target has a clip of that name).
    pub written_as: String,
    pub duration_secs: f32,
    /// End-effector path error of the written clip.
    pub error: Option<PathError>,
    /// The same for a plain copy of the channels.
    pub copy_error: Option<PathError>,
}

#[derive(Debug, Clone)]
pub struct RetargetReport {
    /// (target joint, source joint) names.
    pub pairs: Vec<(String, String)>,
    /// Source joints the clips animate that drive nothing on the target.
    pub unpaired: Vec<String>,
    pub clips: Vec<ClipScore>,
    /// Effectors the error compares (target names).
    pub effectors: Vec<String>,
    /// Morph-target channels left out (the target's meshes are not the source's).
    pub morph_channels_left_out: usize,
}

/// Clips of `source` retargeted onto `target`, named so they do not clash with the target's.
pub fn retarget_clips(source: &Rig, target: &Rig, settings: &RetargetSettings) -> Result<(Vec<Clip>, RetargetReport), String> {
    if source.clips.is_empty() {
        return Err("the source file has no clips".into());
    }
    if target.skeleton.is_empty() {
        return Err("the target has no skeleton (rig it first: rigsmith rig, or Generate in the editor)".into());
    }
    let chosen: Vec<Clip> = choose(&source.clips, &settings.clips)?;
    let (cs, ct) = (Character::of(source), Character::of(target));
    let fail = |e: String| e.replace("source skeleton", "source file's skeleton").replace("target skeleton", "target's skeleton");
    let corrected = retarget::retarget_between(cs, &chosen, ct).map_err(fail)?;
    let copied = retarget::copy_by_name(&source.skeleton, &chosen, &target.skeleton).map_err(fail)?;
    let written = match settings.method {
        RetargetMethod::Corrected => &corrected,
        RetargetMethod::Copy => &copied,
    };
    let mut taken: Vec<String> = target.clips.iter().map(|c| c.name.clone()).collect();
    let mut clips = Vec::with_capacity(chosen.len());
    let mut scores = Vec::with_capacity(chosen.len());
    let mut effectors = Vec::new();
    for (i, clip) in chosen.iter().enumerate() {
        let score = |c: &Clip| -> Option<PathError> { retarget::effector_path_error(cs, clip, ct, c).ok() };
        let copy = score(&copied.clips[i]);
        let ours = match settings.method {
            RetargetMethod::Corrected => score(&corrected.clips[i]),
            RetargetMethod::Copy => copy.clone(),
        };
        if let Some(e) = &ours {
            effectors.clone_from(&e.effectors);
        }
        let mut out = written.clips[i].clone();
        out.name = unique_name(&clip.name, &taken);
        taken.push(out.name.clone());
        scores.push(ClipScore {
            name: clip.name.clone(),
            written_as: out.name.clone(),
            duration_secs: clip.duration_secs() - clip.start_secs(),
            error: ours,
            copy_error: copy,
        });
        clips.push(out);
    }
    let driving: Vec<usize> = written.pairs.iter().map(|&(_, s)| s).collect();
    let mut unpaired: Vec<String> = chosen
        .iter()
        .flat_map(|c| c.channels.iter().map(|ch| ch.joint))
        .filter(|j| !driving.contains(j) && source.skeleton.joints.get(*j).is_some_and(|joint| joint.deform))
        .map(|j| source.skeleton.joints[j].name.clone())
        .collect();
    unpaired.sort();
    unpaired.dedup();
    let name = |s: &rig_core::Skeleton, j: usize| s.joints[j].name.clone();
    let report = RetargetReport {
        pairs: written.pairs.iter().map(|&(t, s)| (name(&target.skeleton, t), name(&source.skeleton, s))).collect(),
        unpaired,
        clips: scores,
        effectors,
        morph_channels_left_out: chosen.iter().map(|c| c.morph_channels.len()).sum(),
    };
    Ok((clips, report))
}

/// The clips named in `names` (all when empty); an unknown name is refused with the list.
fn choose(clips: &[Clip], names: &[String]) -> Result<Vec<Clip>, String> {
    if names.is_empty() {
        return Ok(clips.to_vec());
    }
    names
        .iter()
        .map(|n| {
            clips.iter().find(|c| &c.name == n).cloned().ok_or_else(|| {
                let have: Vec<&str> = clips.iter().map(|c| c.name.as_str()).collect();
                format!("the source file has no clip named {n:?} (it has {})", have.join(", "))
            })
        })
        .collect()
}

/// `name`, or `name 2`, `name 3`, ... when taken.
fn unique_name(name: &str, taken: &[String]) -> String {
    let free = |n: &str| !taken.iter().any(|t| t == n);
    if free(name) {
        return name.to_string();
    }
    (2..).map(|i| format!("{name} {i}")).find(|n| free(n)).unwrap_or_else(|| name.to_string())
}
