//! Clips of one skeleton played on another: a generated skeleton standing in the same mesh
//! ([`retarget`]), or another character with its own proportions, rest pose, joint axes and
//! facing ([`retarget_between`]). Joints are paired by name where the two skeletons share one,
//! else by the role their names give (see [`roles`]); spine links pair along the chain. Each
//! paired joint turns as its source joint turns away from its bind orientation, a joint without
//! a partner follows its parent, and the hips also move as the source's hips do, scaled by the
//! ratio of the two skeletons' hip heights. Between characters, each paired bone is first
//! turned from the target's rest direction onto the source's (rest-pose correction: an A-pose
//! target plays a T-pose clip with its arms where the clip puts them).

mod frames;
mod paths;
mod roles;

use nalgebra::{Matrix3, UnitQuaternion, Vector3};

use crate::animation::Clip;
use crate::skeleton::Skeleton;
use crate::Mat4;
use frames::Frames;
pub use paths::{copy_by_name, effector_path_error, PathError};
pub use roles::{find_role, roles, Digit, Role, Side};

/// Clips retargeted onto another skeleton, and which joints drive which.
#[derive(Debug, Clone)]
pub struct Retargeted {
    pub clips: Vec<Clip>,
    /// `(target joint, source joint)` pairs.
    pub pairs: Vec<(usize, usize)>,
}

/// Fewest paired joints for a retarget: hips, and upper arm, forearm, thigh and shin per side.
const REQUIRED: [(Role, Side); 9] = [
    (Role::Hips, Side::Centre),
    (Role::UpperArm, Side::Left),
    (Role::UpperArm, Side::Right),
    (Role::ForeArm, Side::Left),
    (Role::ForeArm, Side::Right),
    (Role::Thigh, Side::Left),
    (Role::Thigh, Side::Right),
    (Role::Shin, Side::Left),
    (Role::Shin, Side::Right),
];

/// Plays `clips` (animating `source`) on `target`, a skeleton resting at its bind pose up to
/// one placement of the whole (as generated, possibly under an armature node). Both bind the
/// same mesh; `up` is the mesh-space up (for the hip heights). Refused, saying which, when the names leave the hips or a limb without a partner.
pub fn retarget(source: &Skeleton, clips: &[Clip], target: &Skeleton, up: [f32; 3]) -> Result<Retargeted, String> {
    let pairs = pair(source, target)?;
    let (source, target) =
        (Character { skeleton: source, up, model_from_mesh: None }, Character { skeleton: target, up, model_from_mesh: None });
    let frames = Frames::same_mesh(source, target, &pairs);
    let clips = clips.iter().map(|clip| frames.clip(source.skeleton, clip, target.skeleton)).collect();
    Ok(Retargeted { clips, pairs })
}

/// A skeleton with the mesh-space direction its file shows as up ([`crate::Rig::up_direction`])
/// and where its file's scene puts the mesh ([`crate::Rig::display_from_mesh`]; `None`: where
/// the root joint's rest pose puts it).
#[derive(Debug, Clone, Copy)]
pub struct Character<'a> {
    pub skeleton: &'a Skeleton,
    pub up: [f32; 3],
    pub model_from_mesh: Option<Mat4>,
}

impl<'a> Character<'a> {
    pub fn of(rig: &'a crate::Rig) -> Character<'a> {
        Character { skeleton: &rig.skeleton, up: rig.up_direction(), model_from_mesh: Some(rig.display_from_mesh()) }
    }
}

/// Plays `clips` (animating `source`) on another character. The two face the same way once
/// their left-right axes (upper arms, else thighs) and ups agree; each paired bone is turned
/// from the target's rest direction onto the source's before the source's motion is applied.
/// Refused, saying which, when the names leave the hips or a limb without a partner or a
/// skeleton's left and right cannot be told apart.
pub fn retarget_between(source: Character, clips: &[Clip], target: Character) -> Result<Retargeted, String> {
    let pairs = pair(source.skeleton, target.skeleton)?;
    let frames = Frames::between(source, target, &pairs)?;
    let clips = clips.iter().map(|clip| frames.clip(source.skeleton, clip, target.skeleton)).collect();
    Ok(Retargeted { clips, pairs })
}

/// Target joints paired with source joints: by equal names, else by role and side; spine links
/// along the chain.
pub(crate) fn pair(source: &Skeleton, target: &Skeleton) -> Result<Vec<(usize, usize)>, String> {
    let (rs, rt) = (roles(source), roles(target));
    let missing = |roles: &[Option<(Role, Side)>]| -> Vec<String> {
        REQUIRED
            .iter()
            .filter(|&&want| find_role(roles, want).is_none())
            .map(|(role, side)| format!("{role:?}{}", if *side == Side::Centre { String::new() } else { format!(" {side:?}") }))
            .collect()
    };
    for (which, roles) in [("source", &rs), ("target", &rt)] {
        let absent = missing(roles);
        if !absent.is_empty() {
            return Err(format!(
                "the {which} skeleton has no joint named as {} (clips are retargeted between skeletons whose joint names say which are the hips, arms and legs)",
                absent.join(", ")
            ));
        }
    }
    let by_name: Vec<Option<usize>> = target.joints.iter().map(|j| source.find(&j.name)).collect();
    let mut pairs: Vec<(usize, usize)> = by_name.iter().enumerate().filter_map(|(t, s)| s.map(|s| (t, s))).collect();
    for (t, role) in rt.iter().enumerate().filter(|(t, _)| by_name[*t].is_none()) {
        match role {
            Some((Role::Spine, _)) | None => {}
            Some(want) => pairs.extend(find_role(&rs, *want).map(|s| (t, s))),
        }
    }
    let chain = |roles: &[Option<(Role, Side)>]| -> Vec<usize> {
        (0..roles.len()).filter(|&j| matches!(roles[j], Some((Role::Spine, _)))).collect()
    };
    let (cs, mut ct) = (chain(&rs), chain(&rt));
    ct.retain(|&t| by_name[t].is_none());
    if !cs.is_empty() {
        for (i, &t) in ct.iter().enumerate() {
            let s = if ct.len() == 1 { cs.len() - 1 } else { (i * (cs.len() - 1) + (ct.len() - 1) / 2) / (ct.len() - 1) };
            pairs.push((t, cs[s]));
        }
    }
    pairs.sort_unstable();
    Ok(pairs)
}

/// model_from_joint of target joint `p` with rotations `local` and rest translations and scales.
pub(crate) fn posed_model(target: &Skeleton, local: &[UnitQuaternion<f32>], p: usize) -> Mat4 {
    let locals: Vec<Mat4> =
        target.joints.iter().zip(local).map(|(j, q)| crate::transform::Trs { rotation: *q, ..j.rest_local }.to_matrix()).collect();
    target.model_from_joints(&locals).get(p).copied().unwrap_or_else(Mat4::identity)
}

pub(crate) fn quat(q: &[f32; 4]) -> UnitQuaternion<f32> {
    UnitQuaternion::from_quaternion(nalgebra::Quaternion::new(q[3], q[0], q[1], q[2]))
}

/// The rotation of a matrix's upper 3x3 with its scale divided out.
pub(crate) fn rotation(m: &Mat4) -> UnitQuaternion<f32> {
    let columns: Vec<Vector3<f32>> = m.fixed_view::<3, 3>(0, 0).column_iter().map(|c| c.normalize()).collect();
    UnitQuaternion::from_rotation_matrix(&crate::transform::nearest_rotation(&Matrix3::from_columns(&columns)))
}

pub(crate) fn point(m: &Mat4) -> Vector3<f32> {
    m.fixed_view::<3, 1>(0, 3).into_owned()
}

#[cfg(test)]
mod tests;
