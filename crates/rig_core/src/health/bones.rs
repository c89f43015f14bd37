//! Bones without weight: a deforming joint that moves no vertex although its bone runs through
//! flesh that nothing below it moves (a forearm whose weights went to the upper arm). Bending
//! the joint then swings its children away and leaves that flesh behind, so the mesh tears at
//! the child.
//!
//! Joints that move nothing are common and harmless elsewhere: IK and pole targets, roots,
//! end joints, short pivots between weighted parents and children, and joints whose flesh
//! follows their children anyway. Those are left alone.

use super::surface::{segment_distance, Surface};

/// Bones shorter than this share of the mesh diagonal bend too little flesh to matter (the
/// Dino's unweighted shoulders, 0.043, and the Cow's Tail5, 0.036, are such short pivots).
const LONG_BONE: f32 = 0.05;
/// The bone's flesh must be at least this share of the vertices (and at least
/// [`MIN_VERTICES`]); RobotExpressive's Abdomen runs past only a few dozen of its 7214.
const MIN_TERRITORY: f32 = 0.005;
const MIN_VERTICES: usize = 4;
/// The joint's descendants must move less than this share of its flesh for it to stay behind.
const FOLLOWS: f32 = 0.1;

/// A bone: a deforming joint and one of its deforming children.
type Bone = (usize, usize);

/// Pairs `(joint, child)`: a joint that moves nothing, and the child at the end of its
/// longest bone.
pub(super) fn bones_without_weight(s: &Surface) -> Vec<(usize, usize)> {
    let below = weighted_below(s);
    let candidates: Vec<(usize, usize)> = (0..s.rig.skeleton.len()).filter(|&j| below[j]).filter_map(|j| candidate(s, j)).collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    let owner = nearest_bones(s);
    candidates.into_iter().filter(|&(j, _)| flesh_stays_behind(s, j, &owner)).collect()
}

/// For each joint, whether some joint below it moves vertices.
fn weighted_below(s: &Surface) -> Vec<bool> {
    let joints = &s.rig.skeleton.joints;
    let mut below = vec![false; joints.len()];
    // Parents come before their children, so a backward pass sees every child first.
    for k in (0..joints.len()).rev() {
        if let Some(p) = joints[k].parent {
            below[p] |= below[k] || s.weighted[k] > 0;
        }
    }
    below
}

/// A deforming joint that moves nothing, below a joint that does, with a long bone: with the
/// child at the end of that bone.
fn candidate(s: &Surface, j: usize) -> Option<(usize, usize)> {
    let skeleton = &s.rig.skeleton;
    if !skeleton.joints[j].deform || s.weighted[j] > 0 || !s.has_weighted_ancestor(j) {
        return None;
    }
    let length = |c: &usize| (s.joints[*c] - s.joints[j]).norm();
    let child = s.children[j].iter().copied().filter(|&c| skeleton.joints[c].deform).max_by(|a, b| length(a).total_cmp(&length(b)))?;
    (length(&child) >= LONG_BONE * s.diag).then_some((j, child))
}

/// The bone whose flesh each vertex is: the nearest bone, when the vertex lies alongside it
/// (between its two ends) rather than beyond an end. `None` also for a skeleton with no bones.
fn nearest_bones(s: &Surface) -> Vec<Option<Bone>> {
    let skeleton = &s.rig.skeleton;
    let bones: Vec<Bone> = (0..skeleton.len())
        .filter(|&j| skeleton.joints[j].deform)
        .flat_map(|j| s.children[j].iter().filter(|&&c| skeleton.joints[c].deform).map(move |&c| (j, c)))
        .collect();
    (0..s.vertex_count())
        .map(|v| {
            let p = s.position(v);
            let distance = |b: &&Bone| segment_distance(&p, &s.joints[b.0], &s.joints[b.1]);
            let nearest = bones.iter().min_by(|a, b| distance(a).total_cmp(&distance(b)))?;
            let (a, b) = (&s.joints[nearest.0], &s.joints[nearest.1]);
            let along = (p - a).dot(&(b - a)) / (b - a).norm_squared();
            (along > 0.0 && along < 1.0).then_some(*nearest)
        })
        .collect()
}

/// True when `j`'s bones own enough flesh and `j`'s descendants move almost none of it.
fn flesh_stays_behind(s: &Surface, j: usize, owner: &[Option<Bone>]) -> bool {
    let skeleton = &s.rig.skeleton;
    let flesh: Vec<usize> = (0..owner.len()).filter(|&v| owner[v].is_some_and(|b| b.0 == j)).collect();
    let enough = (MIN_TERRITORY * s.vertex_count() as f32).max(MIN_VERTICES as f32);
    if (flesh.len() as f32) < enough {
        return false;
    }
    let (mut below, mut total) = (0.0f32, 0.0f32);
    for &v in &flesh {
        let (joints, weights) = s.rig.weights.row(v);
        for (&k, &w) in joints.iter().zip(weights) {
            total += w;
            if skeleton.is_descendant(k as usize, j) {
                below += w;
            }
        }
    }
    total > 0.0 && below < FOLLOWS * total
}
