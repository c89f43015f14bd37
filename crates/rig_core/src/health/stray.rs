//! Stray weights: part of a joint's weight that sits far from the rest of it.
//!
//! A joint's weight normally covers one connected region and fades out at its edges. A vertex,
//! or a separate piece, that carries a real share of a joint while lying far from every other
//! vertex the joint moves as much, and whose other weight belongs to a joint far from this one,
//! is torn between two distant parts of the body whenever they move apart: a paw vertex half on
//! the tail, a helmet half on a foot. Such a patch is left alone when it follows the joint
//! rigidly (hair cards, eyes, buttons and weapons each on one joint), when it lies near the
//! joint's own bones, when a comparable share of the same joint lies close by (a piece that
//! sits on the surface it moves with), or when its weight is shared with a neighbouring joint
//! (a fin on two spine joints).

use super::surface::Surface;

/// A weight this large (about a third) is a deliberate part of a vertex's blend, not a fading
/// tail or a crotch vertex shared by the hips and both legs.
const MIN_SHARE: f32 = 0.3;
/// A patch whose every vertex has this much of the joint follows it rigidly.
const RIGID: f32 = 0.99;
/// Support closer than this share of the mesh diagonal keeps a patch with the joint's region,
/// and joints closer than this are neighbours. The bundled artists' rigs need more than 0.07
/// (Godot's lone left hand, whose metacarpals share the palm with the fingers); a head piece
/// half on a leg of the Kenney mini character lies 0.16 away.
const FAR: f32 = 0.1;

/// A connected patch of vertices that one joint moves.
struct Patch {
    vertices: Vec<usize>,
    /// The largest weight of the joint in the patch.
    peak: f32,
    /// Every vertex has at least [`RIGID`] of the joint.
    rigid: bool,
}

/// Joints with weight in patches far from the rest of their weight, with those patches'
/// vertices.
pub(super) fn stray_weights(s: &Surface) -> Vec<(usize, Vec<usize>)> {
    let mut patch_of = vec![usize::MAX; s.vertex_count()];
    let mut out = Vec::new();
    for (joint, influences) in s.influences.iter().enumerate() {
        if influences.is_empty() {
            continue;
        }
        let patches = patches(s, influences, &mut patch_of);
        let stray = unsupported(s, joint, influences, &patches, &patch_of);
        influences.iter().for_each(|&(v, _)| patch_of[v as usize] = usize::MAX);
        if !stray.is_empty() {
            out.push((joint, stray));
        }
    }
    out
}

/// The connected patches of a joint's influences; `patch_of` gets each vertex's patch.
fn patches(s: &Surface, influences: &[(u32, f32)], patch_of: &mut [usize]) -> Vec<Patch> {
    const PENDING: usize = usize::MAX - 1;
    let mut weight = std::collections::HashMap::with_capacity(influences.len());
    for &(v, w) in influences {
        weight.insert(v as usize, w);
        patch_of[v as usize] = PENDING;
    }
    let mut patches = Vec::new();
    for &(start, _) in influences {
        if patch_of[start as usize] != PENDING {
            continue;
        }
        let id = patches.len();
        patch_of[start as usize] = id;
        let mut patch = Patch { vertices: Vec::new(), peak: 0.0, rigid: true };
        let mut stack = vec![start as usize];
        while let Some(v) = stack.pop() {
            let w = weight[&v];
            patch.vertices.push(v);
            patch.peak = patch.peak.max(w);
            patch.rigid &= w >= RIGID;
            for &u in &s.neighbours[v] {
                if patch_of[u as usize] == PENDING {
                    patch_of[u as usize] = id;
                    stack.push(u as usize);
                }
            }
        }
        patches.push(patch);
    }
    patches
}

/// Vertices of the patches that are not the joint's main region, not rigid, not a fading tail
/// and not supported.
fn unsupported(s: &Surface, joint: usize, influences: &[(u32, f32)], patches: &[Patch], patch_of: &[usize]) -> Vec<usize> {
    let home = main_region(patches);
    let mut out = Vec::new();
    for (id, patch) in patches.iter().enumerate() {
        let judged = Some(id) != home && !patch.rigid && patch.peak >= MIN_SHARE;
        if judged && !supported(s, joint, influences, patch, |u| patch_of[u] == id) && split_with_far_joint(s, joint, patch) {
            out.extend_from_slice(&patch.vertices);
        }
    }
    out.sort_unstable();
    out
}

/// True when the joint holding most of the rest of the patch's weight has its bones further
/// than [`FAR`] from `joint`'s: the patch is torn between distant parts of the body, not
/// blended between neighbours (a fin shared by two spine joints).
fn split_with_far_joint(s: &Surface, joint: usize, patch: &Patch) -> bool {
    let mut others: Vec<(u32, f32)> = Vec::new();
    for &v in &patch.vertices {
        let (joints, weights) = s.rig.weights.row(v);
        for (&k, &w) in joints.iter().zip(weights).filter(|(&k, _)| k as usize != joint) {
            match others.iter_mut().find(|e| e.0 == k) {
                Some(e) => e.1 += w,
                None => others.push((k, w)),
            }
        }
    }
    let Some(&(other, _)) = others.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else { return false };
    s.bones_distance(joint, other as usize) > FAR * s.diag
}

/// The patch holding the joint's largest weight (the largest such patch on a tie).
fn main_region(patches: &[Patch]) -> Option<usize> {
    (0..patches.len()).max_by(|&a, &b| {
        let (pa, pb) = (&patches[a], &patches[b]);
        pa.peak.total_cmp(&pb.peak).then(pa.vertices.len().cmp(&pb.vertices.len()))
    })
}

/// True when `patch` lies within [`FAR`] of the joint's own bones, or of a vertex outside it
/// (`inside` says which are in) carrying at least half the patch's peak weight of the joint.
fn supported(s: &Surface, joint: usize, influences: &[(u32, f32)], patch: &Patch, inside: impl Fn(usize) -> bool) -> bool {
    let reach = FAR * s.diag;
    if patch.vertices.iter().any(|&v| s.bone_distance(joint, &s.position(v)) <= reach) {
        return true;
    }
    let mut support = influences.iter().filter(|&&(u, w)| w >= 0.5 * patch.peak && !inside(u as usize));
    support.any(|&(u, _)| {
        let p = s.position(u as usize);
        patch.vertices.iter().any(|&v| (s.position(v) - p).norm() <= reach)
    })
}
