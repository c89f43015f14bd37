//! Rig health: the problems the editor lists (and selects from), each one a rigger would act on
//! because it shows when the character is posed.
//!
//! The rules, with distances as shares of the mesh's bounding-box diagonal:
//! - Unweighted vertices: vertices of skinned parts with no influence stay put in every pose.
//! - Unnormalised weights: a vertex whose weights do not sum to one (within 1 %) shrinks
//!   towards, or swells away from, the model origin when posed.
//! - Over the influence limit: the exporter keeps only the largest influences.
//! - Joint outside the mesh: a joint that moves vertices, below another joint that does, bound
//!   outside the mesh's volume and 5 % or more from every vertex it moves: the flesh it moves
//!   swings around a pivot in the air. Joints that move nothing (IK and pole targets, roots,
//!   ends) and the top of the weighted hierarchy (whose rotation carries the whole character
//!   rigidly) are not judged.
//! - Stray weights: a patch of a joint's weight, separate from its main region, with a real
//!   share of the joint (30 % or more), 10 % or more from the joint's bones and from any vertex
//!   carrying as much of it, whose other weight is on a joint 10 % or more away: a vertex or a
//!   piece half on a far joint. Pieces that follow one joint rigidly (hair cards, eyes,
//!   buttons) are normal.
//! - Mirrored weights: a left or right joint whose weights lie on its twin's side.
//! - Bone without weight: a deforming joint that moves nothing although its bone (5 % or
//!   longer) runs through flesh that nothing below it moves.

mod bones;
mod mirror;
mod stray;
mod surface;

use nalgebra::Vector3;

use crate::autoskin::voxel::VoxelGrid;
use crate::rig::Rig;
use surface::Surface;

/// Voxels along the longest side for the inside test (coarse: a joint well outside is what
/// matters).
const INSIDE_RESOLUTION: usize = 64;
/// A joint outside the mesh is reported when it is also at least this share of the mesh
/// diagonal from every vertex it moves: a pivot just outside the skin (the tip of a hair bun)
/// moves its flesh almost as one inside would.
const OUTSIDE_BY: f32 = 0.05;
/// Weight sums further than this from one are reported.
const SUM_TOLERANCE: f32 = 0.01;

/// One problem found.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Vertices of skinned parts with no weight (they would not move).
    Unweighted { vertices: Vec<usize> },
    /// Vertices whose weights do not sum to one.
    Unnormalised { vertices: Vec<usize> },
    /// A joint that moves vertices, bound outside the mesh's volume.
    JointOutside { joint: usize },
    /// Vertices with more influences than the limit (the exporter keeps only the largest).
    OverLimit { limit: usize, vertices: Vec<usize> },
    /// Vertices with a real share of `joint` that lie far from the rest of its weight.
    StrayWeights { joint: usize, vertices: Vec<usize> },
    /// A left or right joint whose weights lie on the side of its twin.
    MirroredWeights { joint: usize, twin: usize },
    /// A deforming joint that moves nothing although flesh along its bone to `child` follows
    /// nothing below it.
    BoneWithoutWeight { joint: usize, child: usize },
}

impl Finding {
    /// A one-line description.
    pub fn describe(&self, rig: &Rig) -> String {
        let name = |j: usize| rig.skeleton.joints.get(j).map_or("?", |x| x.name.as_str()).to_string();
        match self {
            Finding::Unweighted { vertices } => format!("{} unweighted vertices", vertices.len()),
            Finding::Unnormalised { vertices } => format!("{} vertices have weights that do not sum to 1", vertices.len()),
            Finding::JointOutside { joint } => format!("joint '{}' is outside the mesh", name(*joint)),
            Finding::OverLimit { limit, vertices } => format!("{} vertices have more than {limit} influences", vertices.len()),
            Finding::StrayWeights { joint, vertices } => {
                format!("joint '{}' pulls {} vertices far from the rest of its weights", name(*joint), vertices.len())
            }
            Finding::MirroredWeights { joint, twin } => {
                format!("joint '{}' moves vertices on the side of '{}' (left and right swapped?)", name(*joint), name(*twin))
            }
            Finding::BoneWithoutWeight { joint, child } => {
                format!("joint '{}' moves no vertex: the mesh along its bone to '{}' will not bend with it", name(*joint), name(*child))
            }
        }
    }

    /// What a rigger does about it, in one sentence (the editor shows it on hover).
    pub fn advice(&self) -> &'static str {
        match self {
            Finding::Unweighted { .. } => "Paint these vertices onto the joints around them, or re-skin.",
            Finding::Unnormalised { .. } => "Normalise the weights of these vertices so each sums to 1.",
            Finding::JointOutside { .. } => "Move the joint inside the part it bends, where the pivot should be.",
            Finding::OverLimit { .. } => "Prune the smallest influences, or export with a higher limit.",
            Finding::StrayWeights { .. } => "Remove this joint's weight from these vertices, or smooth it into their neighbours'.",
            Finding::MirroredWeights { .. } => "Mirror the weights from the correct side, or swap the two joints' weights.",
            Finding::BoneWithoutWeight { .. } => "Give the joint the flesh along its bone, or re-skin.",
        }
    }

    /// A short name for the kind of problem, the same for every finding of that kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::Unweighted { .. } => "unweighted",
            Finding::Unnormalised { .. } => "unnormalised",
            Finding::JointOutside { .. } => "joint outside",
            Finding::OverLimit { .. } => "over limit",
            Finding::StrayWeights { .. } => "stray weights",
            Finding::MirroredWeights { .. } => "mirrored weights",
            Finding::BoneWithoutWeight { .. } => "bone without weight",
        }
    }

    /// The joint to select for this finding, if it is about one.
    pub fn joint(&self) -> Option<usize> {
        match self {
            Finding::JointOutside { joint }
            | Finding::StrayWeights { joint, .. }
            | Finding::MirroredWeights { joint, .. }
            | Finding::BoneWithoutWeight { joint, .. } => Some(*joint),
            _ => None,
        }
    }

    /// The vertices to highlight for this finding.
    pub fn vertices(&self) -> &[usize] {
        match self {
            Finding::Unweighted { vertices }
            | Finding::Unnormalised { vertices }
            | Finding::OverLimit { vertices, .. }
            | Finding::StrayWeights { vertices, .. } => vertices,
            _ => &[],
        }
    }
}

/// Every finding on `rig`, with `limit` influences per vertex allowed.
pub fn check(rig: &Rig, limit: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    let unweighted = unweighted_vertices(rig);
    if !unweighted.is_empty() {
        out.push(Finding::Unweighted { vertices: unweighted });
    }
    let unnormalised = unnormalised_vertices(rig);
    if !unnormalised.is_empty() {
        out.push(Finding::Unnormalised { vertices: unnormalised });
    }
    out.extend(joints_outside(rig).into_iter().map(|joint| Finding::JointOutside { joint }));
    let over: Vec<usize> = (0..rig.weights.vertex_count()).filter(|&v| rig.weights.row(v).0.len() > limit).collect();
    if !over.is_empty() {
        out.push(Finding::OverLimit { limit, vertices: over });
    }
    if let Some(s) = Surface::new(rig) {
        out.extend(stray::stray_weights(&s).into_iter().map(|(joint, vertices)| Finding::StrayWeights { joint, vertices }));
        out.extend(mirror::wrong_side(&s).into_iter().map(|(joint, twin)| Finding::MirroredWeights { joint, twin }));
        out.extend(bones::bones_without_weight(&s).into_iter().map(|(joint, child)| Finding::BoneWithoutWeight { joint, child }));
    }
    out
}

fn unweighted_vertices(rig: &Rig) -> Vec<usize> {
    if rig.skeleton.is_empty() {
        return Vec::new();
    }
    rig.mesh
        .parts
        .iter()
        .filter(|p| p.skinned)
        .flat_map(|p| p.vertices.start as usize..p.vertices.end as usize)
        .filter(|&v| v >= rig.weights.vertex_count() || rig.weights.row(v).0.is_empty())
        .collect()
}

/// Vertices with weights whose sum is further than [`SUM_TOLERANCE`] from one.
fn unnormalised_vertices(rig: &Rig) -> Vec<usize> {
    (0..rig.weights.vertex_count())
        .filter(|&v| {
            let (joints, weights) = rig.weights.row(v);
            !joints.is_empty() && (weights.iter().sum::<f32>() - 1.0).abs() > SUM_TOLERANCE
        })
        .collect()
}

/// Joints that move vertices, below another joint that does, whose bind position falls in no
/// solid voxel (nor next to one) and lies away from the vertices they move. Joints that move nothing (helpers, IK and pole targets) and
/// the top of the weighted hierarchy are not judged: where they sit deforms nothing.
pub fn joints_outside(rig: &Rig) -> Vec<usize> {
    if rig.mesh.triangles.is_empty() {
        return Vec::new();
    }
    let Some(s) = Surface::new(rig) else { return Vec::new() };
    let judged: Vec<usize> =
        (0..rig.skeleton.len()).filter(|&j| rig.skeleton.joints[j].deform && s.weighted[j] > 0 && s.has_weighted_ancestor(j)).collect();
    if judged.is_empty() {
        return Vec::new();
    }
    let grid = VoxelGrid::from_mesh(&rig.mesh.positions, &rig.mesh.triangles, INSIDE_RESOLUTION);
    judged.into_iter().filter(|&j| !solid_near(&grid, &s.joints[j]) && away_from_its_flesh(&s, j)).collect()
}

/// True when every vertex `joint` moves is at least [`OUTSIDE_BY`] of the diagonal from it.
fn away_from_its_flesh(s: &Surface, joint: usize) -> bool {
    let p = s.joints[joint];
    s.influences[joint].iter().all(|&(v, _)| (s.position(v as usize) - p).norm() >= OUTSIDE_BY * s.diag)
}

/// True when `p` is in a solid voxel or next to one.
fn solid_near(grid: &VoxelGrid, p: &Vector3<f32>) -> bool {
    if !grid.contains(p) {
        return false;
    }
    let c = grid.cell_of(p);
    (0..27).any(|k| {
        let d = [k % 3, (k / 3) % 3, k / 9];
        let n: Option<Vec<usize>> = (0..3).map(|a| (c[a] + d[a]).checked_sub(1).filter(|&x| x < grid.dims[a])).collect();
        n.is_some_and(|n| grid.solid[grid.index([n[0], n[1], n[2]])])
    })
}
