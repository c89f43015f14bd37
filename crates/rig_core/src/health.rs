//! Rig health checks the editor lists (and selects from): unweighted vertices, joints outside
//! the mesh, vertices over the influence limit, joints whose weight spans pieces of the mesh
//! that are far apart.

use nalgebra::Vector3;

use crate::autoskin::smooth::{components, SurfaceGraph};
use crate::autoskin::voxel::VoxelGrid;
use crate::edit::bind_position;
use crate::rig::Rig;

/// Voxels along the longest side for the inside test (coarse: a joint well outside is what
/// matters).
const INSIDE_RESOLUTION: usize = 64;
/// Two pieces are far apart when the gap between their boxes exceeds this share of the
/// mesh's diagonal.
const FAR_APART: f32 = 0.05;

/// One problem found.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Vertices of skinned parts with no weight (they would not move).
    Unweighted { vertices: Vec<usize> },
    /// A deforming joint whose bind position is outside the mesh's volume.
    JointOutside { joint: usize },
    /// Vertices with more influences than the limit (the exporter keeps only the largest).
    OverLimit { limit: usize, vertices: Vec<usize> },
    /// A joint weighting pieces of the mesh that are far apart (a leg joint on the other leg,
    /// a cape joint on the legs).
    SpansPieces { joint: usize, pieces: usize },
}

impl Finding {
    /// A one-line description.
    pub fn describe(&self, rig: &Rig) -> String {
        let name = |j: usize| rig.skeleton.joints.get(j).map_or("?", |x| x.name.as_str()).to_string();
        match self {
            Finding::Unweighted { vertices } => format!("{} unweighted vertices", vertices.len()),
            Finding::JointOutside { joint } => format!("joint '{}' is outside the mesh", name(*joint)),
            Finding::OverLimit { limit, vertices } => format!("{} vertices have more than {limit} influences", vertices.len()),
            Finding::SpansPieces { joint, pieces } => format!("joint '{}' weights {pieces} pieces far apart", name(*joint)),
        }
    }

    /// The joint to select for this finding, if it is about one.
    pub fn joint(&self) -> Option<usize> {
        match self {
            Finding::JointOutside { joint } | Finding::SpansPieces { joint, .. } => Some(*joint),
            _ => None,
        }
    }

    /// The vertices to highlight for this finding.
    pub fn vertices(&self) -> &[usize] {
        match self {
            Finding::Unweighted { vertices } | Finding::OverLimit { vertices, .. } => vertices,
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
    out.extend(joints_outside(rig).into_iter().map(|joint| Finding::JointOutside { joint }));
    let over: Vec<usize> = (0..rig.weights.vertex_count()).filter(|&v| rig.weights.row(v).0.len() > limit).collect();
    if !over.is_empty() {
        out.push(Finding::OverLimit { limit, vertices: over });
    }
    out.extend(spanning_joints(rig).into_iter().map(|(joint, pieces)| Finding::SpansPieces { joint, pieces }));
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

/// Deforming joints whose bind position falls in no solid voxel (nor next to one).
pub fn joints_outside(rig: &Rig) -> Vec<usize> {
    if rig.mesh.triangles.is_empty() {
        return Vec::new();
    }
    let grid = VoxelGrid::from_mesh(&rig.mesh.positions, &rig.mesh.triangles, INSIDE_RESOLUTION);
    let solid_near = |p: &Vector3<f32>| {
        if !grid.contains(p) {
            return false;
        }
        let c = grid.cell_of(p);
        (0..27).any(|k| {
            let d = [k % 3, (k / 3) % 3, k / 9];
            let n: Option<Vec<usize>> = (0..3).map(|a| (c[a] + d[a]).checked_sub(1).filter(|&x| x < grid.dims[a])).collect();
            n.is_some_and(|n| grid.solid[grid.index([n[0], n[1], n[2]])])
        })
    };
    (0..rig.skeleton.len())
        .filter(|&j| rig.skeleton.joints[j].deform)
        .filter(|&j| !solid_near(&Vector3::from(bind_position(&rig.skeleton, j))))
        .collect()
}

/// Joints with weight on welded pieces whose boxes are far apart, with the number of pieces.
fn spanning_joints(rig: &Rig) -> Vec<(usize, usize)> {
    if rig.weights.vertex_count() != rig.mesh.vertex_count() || rig.mesh.positions.is_empty() {
        return Vec::new();
    }
    let comp = components(&SurfaceGraph::new(&rig.mesh));
    let count = comp.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut boxes = vec![([f32::MAX; 3], [f32::MIN; 3]); count];
    for (v, p) in rig.mesh.positions.iter().enumerate() {
        let b = &mut boxes[comp[v] as usize];
        (0..3).for_each(|k| {
            b.0[k] = b.0[k].min(p[k]);
            b.1[k] = b.1[k].max(p[k]);
        });
    }
    let (lo, hi) = boxes.iter().fold(([f32::MAX; 3], [f32::MIN; 3]), |(lo, hi), b| {
        (std::array::from_fn(|k| lo[k].min(b.0[k])), std::array::from_fn(|k| hi[k].max(b.1[k])))
    });
    let diag = (0..3).map(|k| (hi[k] - lo[k]).powi(2)).sum::<f32>().sqrt();
    let gap = |a: usize, b: usize| {
        let (x, y) = (&boxes[a], &boxes[b]);
        (0..3).map(|k| (x.0[k] - y.1[k]).max(y.0[k] - x.1[k]).max(0.0).powi(2)).sum::<f32>().sqrt()
    };
    let mut pieces_of: Vec<Vec<usize>> = vec![Vec::new(); rig.skeleton.len()];
    for v in 0..rig.weights.vertex_count() {
        let (joints, weights) = rig.weights.row(v);
        for (&j, &w) in joints.iter().zip(weights) {
            let list = &mut pieces_of[j as usize];
            if w >= 0.1 && !list.contains(&(comp[v] as usize)) {
                list.push(comp[v] as usize);
            }
        }
    }
    pieces_of
        .iter()
        .enumerate()
        .filter_map(|(j, pieces)| {
            let far = pieces.iter().any(|&a| pieces.iter().any(|&b| gap(a, b) > FAR_APART * diag));
            far.then_some((j, pieces.len()))
        })
        .collect()
}
