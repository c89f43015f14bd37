//! A walk cycle to test a rig's legs: legs are found from the skeleton's shape (any naming),
//! then each swings at the hip and bends at the knee about the body's left-right axis, legs of a
//! pair in opposite phase (a trot for four legs: diagonal legs together).

use nalgebra::{Rotation3, Unit, Vector3};

use crate::autoskin::bones::bind_positions;
use crate::lbs::rotate_subtree_in_model_space;
use crate::{Mat4, Rig, Skeleton};

/// Seconds per stride (both legs of a pair once forward).
pub const WALK_PERIOD: f32 = 1.2;
const HIP_SWING_DEG: f32 = 25.0;
const KNEE_BEND_DEG: f32 = 35.0;

/// One leg: the joint that swings it, the joint that bends it, its phase in the cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    pub hip: usize,
    pub knee: Option<usize>,
    pub foot: usize,
    /// The lowest point the foot carries (mesh space, bind pose).
    pub sole: [f32; 3],
    pub phase: f32,
}

/// The legs of a skeleton and the body's axes (mesh space, unit length).
#[derive(Debug, Clone, PartialEq)]
pub struct Gait {
    pub legs: Vec<Leg>,
    pub up: Vector3<f32>,
    /// Left-right: hip rotations turn about it.
    pub lateral: Vector3<f32>,
    /// Where the character faces (toes, or the side the body leans to).
    pub front: Vector3<f32>,
}

/// Finds the legs: chains that hang from the body down to the ground, whatever their names.
/// A joint reaches as low as the lowest vertex it dominates (so a leg whose only joint sits at
/// the hip, as in Kenney's characters, still counts). `None` with fewer than two legs (a snake,
/// a fish, a single strip).
pub fn find_gait(rig: &Rig) -> Option<Gait> {
    let skeleton = &rig.skeleton;
    let up = Vector3::from(rig.up_direction());
    let pos = bind_positions(skeleton);
    let h = |p: &Vector3<f32>| p.dot(&up);
    let lo = rig.mesh.positions.iter().map(|p| h(&Vector3::from(*p))).fold(f32::MAX, f32::min);
    let hi = rig.mesh.positions.iter().map(|p| h(&Vector3::from(*p))).fold(f32::MIN, f32::max);
    let height = hi - lo;
    if skeleton.len() < 3 || height.is_nan() || height <= 0.0 {
        return None;
    }
    let soles = lowest_dominated_points(rig, &up);
    let low = |j: usize| soles[j].is_some_and(|p| h(&p) < lo + 0.1 * height);
    // A foot: the first joint down its chain that reaches the ground (its toe is the same leg).
    let feet: Vec<usize> = (0..skeleton.len()).filter(|&j| low(j) && !skeleton.joints[j].parent.is_some_and(low)).collect();
    let mut legs = Vec::new();
    for &foot in &feet {
        let mut hip = foot;
        while let Some(p) = skeleton.joints[hip].parent {
            if feet.iter().any(|&f| f != foot && skeleton.is_descendant(f, p)) {
                break;
            }
            hip = p;
        }
        let sole = soles[foot].unwrap_or(pos[foot]);
        // A leg stands up from the ground, more down than along (a tail or a hand lying on it
        // does not), and nothing in it rises above its hip (a spine whose cape or prop reaches
        // the ground does).
        let rises = (0..skeleton.len())
            .any(|k| skeleton.joints[k].deform && skeleton.is_descendant(k, hip) && h(&pos[k]) > h(&pos[hip]) + 0.05 * height);
        let drop = h(&pos[hip]) - h(&sole);
        let along = {
            let d = sole - pos[hip];
            (d - up * d.dot(&up)).norm()
        };
        if drop > 0.15 * height && along < drop && !rises {
            legs.push(Leg { hip, knee: knee_of(skeleton, &pos, &up, hip, foot), foot, sole: sole.into(), phase: 0.0 });
        }
    }
    if legs.len() < 2 {
        return None;
    }
    let side = lateral_axis(skeleton, &pos, &up, &legs)?;
    let front = front_axis(skeleton, &pos, &up, &side, &legs);
    // Right-handed with the corrected front, so a positive turn swings a leg forward.
    let lateral = front.cross(&up);
    assign_phases(&pos, &lateral, &front, &mut legs);
    Some(Gait { legs, up, lateral, front })
}

/// Per joint, the lowest vertex (along `up`) where it holds most of the weight.
fn lowest_dominated_points(rig: &Rig, up: &Vector3<f32>) -> Vec<Option<Vector3<f32>>> {
    let mut out: Vec<Option<Vector3<f32>>> = vec![None; rig.skeleton.len()];
    for (v, (joints, weights)) in rig.weights.iter().enumerate() {
        let Some((&j, _)) = joints.iter().zip(weights).filter(|(_, w)| **w >= 0.5).max_by(|a, b| a.1.total_cmp(b.1)) else { continue };
        let p = Vector3::from(rig.mesh.positions[v]);
        let slot = &mut out[j as usize];
        if slot.is_none_or(|q| p.dot(up) < q.dot(up)) {
            *slot = Some(p);
        }
    }
    out
}

/// Poses `model_from_joint` (mesh space, starting from the bind pose) at `time` seconds.
pub fn pose_walk(skeleton: &Skeleton, gait: &Gait, model_from_joint: &mut [Mat4], time: f32) {
    let axis = Unit::new_normalize(gait.lateral);
    let w = std::f32::consts::TAU / WALK_PERIOD;
    for leg in &gait.legs {
        let t = w * time + leg.phase;
        let swing = HIP_SWING_DEG.to_radians() * t.sin();
        rotate_subtree_in_model_space(skeleton, model_from_joint, leg.hip, Rotation3::from_axis_angle(&axis, swing).matrix());
        if let Some(knee) = leg.knee {
            // The knee bends (foot backwards) while the leg swings forward.
            let bend = -KNEE_BEND_DEG.to_radians() * t.cos().max(0.0);
            rotate_subtree_in_model_space(skeleton, model_from_joint, knee, Rotation3::from_axis_angle(&axis, bend).matrix());
        }
    }
}

/// The chain joint between hip and foot nearest half-way down.
fn knee_of(skeleton: &Skeleton, pos: &[Vector3<f32>], up: &Vector3<f32>, hip: usize, foot: usize) -> Option<usize> {
    if foot == hip {
        return None;
    }
    let mid = 0.5 * (pos[hip].dot(up) + pos[foot].dot(up));
    let mut chain = Vec::new();
    let mut j = skeleton.joints[foot].parent;
    while let Some(k) = j.filter(|&k| k != hip) {
        chain.push(k);
        j = skeleton.joints[k].parent;
    }
    chain.into_iter().min_by(|&a, &b| (pos[a].dot(up) - mid).abs().total_cmp(&(pos[b].dot(up) - mid).abs()))
}

/// Left-right (either sign): from hips that hang off the same joint (a pelvis, a chest), else
/// from the two hips farthest apart; horizontal, unit length.
fn lateral_axis(skeleton: &Skeleton, pos: &[Vector3<f32>], up: &Vector3<f32>, legs: &[Leg]) -> Option<Vector3<f32>> {
    let flat = |v: Vector3<f32>| v - up * v.dot(up);
    let mut best: Option<(f32, Vector3<f32>)> = None;
    for (i, a) in legs.iter().enumerate() {
        for b in &legs[i + 1..] {
            let d = flat(pos[b.hip] - pos[a.hip]);
            let siblings = skeleton.joints[a.hip].parent == skeleton.joints[b.hip].parent;
            let score = d.norm() * if siblings { 10.0 } else { 1.0 };
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, d));
            }
        }
    }
    best.and_then(|(_, d)| d.try_normalize(1e-9))
}

/// Forward: where the toes point (each foot's lowest descendant), else the side of the legs
/// the rest of the body extends to (a quadruped's head end).
fn front_axis(skeleton: &Skeleton, pos: &[Vector3<f32>], up: &Vector3<f32>, lateral: &Vector3<f32>, legs: &[Leg]) -> Vector3<f32> {
    let front = up.cross(lateral);
    let toes: f32 = legs
        .iter()
        .map(|l| {
            let tip = (0..skeleton.len())
                .filter(|&k| skeleton.is_descendant(k, l.foot))
                .min_by(|&a, &b| pos[a].dot(up).total_cmp(&pos[b].dot(up)));
            tip.map_or(0.0, |t| (pos[t] - pos[l.foot]).dot(&front))
        })
        .sum();
    let leg_joints = |k: usize| legs.iter().any(|l| skeleton.is_descendant(k, l.hip));
    let centre = legs.iter().map(|l| pos[l.hip]).sum::<Vector3<f32>>() / legs.len() as f32;
    let body: f32 =
        (0..skeleton.len()).filter(|&k| skeleton.joints[k].deform && !leg_joints(k)).map(|k| (pos[k] - centre).dot(&front)).sum();
    let scale = pos.iter().map(|p| p.norm()).fold(0.0, f32::max).max(1e-6);
    let sign = if toes.abs() > 1e-3 * scale {
        toes.signum()
    } else if body < 0.0 {
        -1.0
    } else {
        1.0
    };
    front * sign
}

/// Legs of one side alternate; the two sides are half a cycle apart (a walk for two legs, a
/// trot for four: front-left with hind-right).
fn assign_phases(pos: &[Vector3<f32>], lateral: &Vector3<f32>, front: &Vector3<f32>, legs: &mut [Leg]) {
    let centre = legs.iter().map(|l| pos[l.hip]).sum::<Vector3<f32>>() / legs.len() as f32;
    let mut order: Vec<usize> = (0..legs.len()).collect();
    order.sort_by(|&a, &b| (pos[legs[b].hip] - centre).dot(front).total_cmp(&(pos[legs[a].hip] - centre).dot(front)));
    let mut count = [0usize; 2];
    for i in order {
        let side = usize::from((pos[legs[i].hip] - centre).dot(lateral) < 0.0);
        let k = count[side];
        count[side] += 1;
        let half = std::f32::consts::PI;
        legs[i].phase = if (side + k) % 2 == 0 { 0.0 } else { half };
    }
}
