//! How well a retargeted clip follows its source: the end effectors' paths (hands, feet, head)
//! of the two characters compared after the source is turned to face as the target does, two
//! ways: each relative to the ground under its hips and divided by the character's height (this
//! includes what differing proportions make unavoidable: a short-armed character cannot reach
//! where a long-armed one does), and each relative to its limb's root (upper arm, thigh, hips)
//! divided by the limb's length (the pose alone). And the baseline a retarget is judged
//! against: the source's channels copied onto the paired joints as they are.

use nalgebra::Vector3;

use super::frames::facing_alignment;
use super::{find_role, pair, roles, Character, Retargeted, Role, Side};
use crate::animation::{Channel, ChannelValues, Clip};
use crate::pose::Pose;
use crate::skeleton::Skeleton;

/// End-effector path error of a retargeted clip, in % of the characters' heights.
#[derive(Debug, Clone, PartialEq)]
pub struct PathError {
    /// Mean over effectors and samples, % of height.
    pub mean: f32,
    /// Largest over effectors and samples, % of height.
    pub max: f32,
    /// Mean over effectors and samples relative to the limb's root, % of the limb's length.
    pub limb_mean: f32,
    /// Largest of those.
    pub limb_max: f32,
    /// Effectors compared (both skeletons have them) and their names on the target.
    pub effectors: Vec<String>,
    /// Times sampled (30 per second over the source clip).
    pub samples: usize,
}

const EFFECTORS: [(Role, Side); 5] =
    [(Role::Hand, Side::Left), (Role::Hand, Side::Right), (Role::Foot, Side::Left), (Role::Foot, Side::Right), (Role::Head, Side::Centre)];

/// Compares `target_clip` on `target` with `source_clip` on `source` (see the module).
pub fn effector_path_error(source: Character, source_clip: &Clip, target: Character, target_clip: &Clip) -> Result<PathError, String> {
    let align = facing_alignment(source, target)?;
    let (rs, rt) = (roles(source.skeleton), roles(target.skeleton));
    // (source joint, target joint, role and side) of each effector both skeletons name.
    let named: Vec<(usize, usize, (Role, Side))> =
        EFFECTORS.iter().filter_map(|&e| Some((find_role(&rs, e)?, find_role(&rt, e)?, e))).collect();
    if named.is_empty() {
        return Err("no hand, foot or head is named in both skeletons".into());
    }
    let effectors: Vec<(usize, usize)> = named.iter().map(|&(s, t, _)| (s, t)).collect();
    let limbs: Vec<Option<(Limb, Limb)>> = named
        .iter()
        .map(|&(s, t, (role, side))| {
            let root = match role {
                Role::Hand => (Role::UpperArm, side),
                Role::Foot => (Role::Thigh, side),
                _ => (Role::Hips, Side::Centre),
            };
            let limb = |c: Character, roles: &[Option<(Role, Side)>], end: usize| Limb::new(c.skeleton, find_role(roles, root)?, end);
            limb(source, &rs, s).zip(limb(target, &rt, t))
        })
        .collect();
    let (fs, ft) = (Footing::new(source)?, Footing::new(target)?);
    let (start, end) = (source_clip.start_secs(), source_clip.duration_secs());
    let samples = ((end - start) * 30.0).ceil().max(1.0) as usize + 1;
    let (mut sum, mut max, mut limb_sum, mut limb_max, mut limb_n) = (0.0f32, 0.0f32, 0.0f32, 0.0f32, 0usize);
    for i in 0..samples {
        let t = start + (end - start) * i as f32 / (samples - 1) as f32;
        let (ps, pt) = (joint_positions(source.skeleton, source_clip, t), joint_positions(target.skeleton, target_clip, t));
        for (&(s, tj), limb) in effectors.iter().zip(&limbs) {
            let d = (ft.normalised(pt[tj]) - align * fs.normalised(ps[s])).norm() * 100.0;
            sum += d;
            max = max.max(d);
            if let Some((ls, lt)) = limb {
                let d = (lt.normalised(&pt) - align * ls.normalised(&ps)).norm() * 100.0;
                limb_sum += d;
                limb_max = limb_max.max(d);
                limb_n += 1;
            }
        }
    }
    Ok(PathError {
        mean: sum / (samples * effectors.len()) as f32,
        max,
        limb_mean: if limb_n > 0 { limb_sum / limb_n as f32 } else { f32::NAN },
        limb_max,
        effectors: effectors.iter().map(|&(_, t)| target.skeleton.joints[t].name.clone()).collect(),
        samples,
    })
}

/// An effector and the root of its limb, with the limb's length along the joints between them.
struct Limb {
    root: usize,
    end: usize,
    length: f32,
}

impl Limb {
    /// `None` when `root` is not above `end` or the limb has no length.
    fn new(skeleton: &Skeleton, root: usize, end: usize) -> Option<Limb> {
        if root == end || !skeleton.is_descendant(end, root) {
            return None;
        }
        let rest: Vec<Vector3<f32>> = skeleton.model_from_joints_rest().iter().map(super::point).collect();
        let (mut length, mut j) = (0.0, end);
        while j != root {
            let p = skeleton.joints[j].parent?;
            length += (rest[j] - rest[p]).norm();
            j = p;
        }
        (length > 1e-9).then_some(Limb { root, end, length })
    }

    fn normalised(&self, positions: &[Vector3<f32>]) -> Vector3<f32> {
        (positions[self.end] - positions[self.root]) / self.length
    }
}

/// Model-space joint positions of a skeleton posed by `clip` at `t`.
fn joint_positions(skeleton: &Skeleton, clip: &Clip, t: f32) -> Vec<Vector3<f32>> {
    let mut pose = Pose::rest(skeleton);
    clip.apply(t, &mut pose);
    pose.model_from_joints(skeleton).iter().map(super::point).collect()
}

/// A character's ground point under its hips at rest and its height (lowest to highest joint).
struct Footing {
    origin: Vector3<f32>,
    height: f32,
}

impl Footing {
    fn new(c: Character) -> Result<Footing, String> {
        let s = c.skeleton;
        let points: Vec<Vector3<f32>> = s.model_from_joints_rest().iter().map(super::point).collect();
        let up = super::frames::model_up(c);
        let along: Vec<f32> = points.iter().map(|p| p.dot(&up)).collect();
        let (low, high) = along.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &a| (l.min(a), h.max(a)));
        let hips = find_role(&roles(s), (Role::Hips, Side::Centre)).ok_or("the skeleton has no hips")?;
        let height = high - low;
        if height.is_nan() || height <= 1e-9 {
            return Err("the skeleton has no height".into());
        }
        Ok(Footing { origin: points[hips] - up * (along[hips] - low), height })
    }

    fn normalised(&self, p: Vector3<f32>) -> Vector3<f32> {
        (p - self.origin) / self.height
    }
}

/// The baseline: each paired joint's channels copied as they are (rotations of every pair,
/// translations of the hips), with no correction for rest pose, joint axes or proportions.
pub fn copy_by_name(source: &Skeleton, clips: &[Clip], target: &Skeleton) -> Result<Retargeted, String> {
    let pairs = pair(source, target)?;
    let hips = |s: &Skeleton| find_role(&roles(s), (Role::Hips, Side::Centre));
    let (th, sh) = (hips(target), hips(source));
    let copy = |clip: &Clip| Clip {
        name: clip.name.clone(),
        channels: pairs
            .iter()
            .flat_map(|&(t, s)| {
                clip.channels.iter().filter(move |c| c.joint == s).filter_map(move |c| {
                    let keep = match c.values {
                        ChannelValues::Rotation(_) => true,
                        ChannelValues::Translation(_) => Some(t) == th && Some(s) == sh,
                        ChannelValues::Scale(_) => false,
                    };
                    keep.then(|| Channel { joint: t, ..c.clone() })
                })
            })
            .collect(),
        morph_channels: Vec::new(),
    };
    Ok(Retargeted { clips: clips.iter().map(copy).collect(), pairs })
}
