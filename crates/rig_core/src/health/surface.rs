//! What the weight checks share: the mesh's size, its welded edge graph, each joint's bind
//! position and each joint's influences.

use nalgebra::Vector3;

use crate::autoskin::smooth::SurfaceGraph;
use crate::edit::bind_position;
use crate::rig::Rig;

/// The rig seen by the checks that compare weights across the surface.
pub(super) struct Surface<'a> {
    pub rig: &'a Rig,
    /// Diagonal of the mesh's bounding box: distances are judged as shares of it.
    pub diag: f32,
    /// Each joint's bind position (mesh space, where the stored vertices are).
    pub joints: Vec<Vector3<f32>>,
    /// Neighbours of each vertex along triangle edges, with vertices at the same position
    /// (UV seams, split normals) linked so that a seam does not split a region.
    pub neighbours: Vec<Vec<u32>>,
    /// Each joint's children.
    pub children: Vec<Vec<usize>>,
    /// Each joint's influences as `(vertex, weight)`.
    pub influences: Vec<Vec<(u32, f32)>>,
    /// How many vertices each joint moves.
    pub weighted: Vec<usize>,
}

impl<'a> Surface<'a> {
    /// `None` when the rig has no mesh or its weight rows do not match its vertices.
    pub fn new(rig: &'a Rig) -> Option<Surface<'a>> {
        let n = rig.mesh.vertex_count();
        if n == 0 || rig.weights.vertex_count() != n || rig.skeleton.is_empty() {
            return None;
        }
        let diag = rig.mesh.bounds().map_or(0.0, |b| b.diagonal());
        if !(diag.is_finite() && diag > 0.0) {
            return None;
        }
        let joints = (0..rig.skeleton.len()).map(|j| Vector3::from(bind_position(&rig.skeleton, j))).collect();
        let neighbours = edge_graph(rig);
        let mut influences = vec![Vec::new(); rig.skeleton.len()];
        for v in 0..n {
            let (js, ws) = rig.weights.row(v);
            for (&j, &w) in js.iter().zip(ws) {
                if w > 0.0 {
                    influences[j as usize].push((v as u32, w));
                }
            }
        }
        let weighted = influences.iter().map(Vec::len).collect();
        let mut children = vec![Vec::new(); rig.skeleton.len()];
        for (j, joint) in rig.skeleton.joints.iter().enumerate() {
            if let Some(p) = joint.parent {
                children[p].push(j);
            }
        }
        Some(Surface { rig, diag, joints, neighbours, children, influences, weighted })
    }

    pub fn vertex_count(&self) -> usize {
        self.neighbours.len()
    }

    pub fn position(&self, v: usize) -> Vector3<f32> {
        Vector3::from(self.rig.mesh.positions[v])
    }

    /// Distance from `p` to `joint`'s bones (the segments to its children), or to the joint
    /// itself when it has no children.
    pub fn bone_distance(&self, joint: usize, p: &Vector3<f32>) -> f32 {
        let a = &self.joints[joint];
        let to_children = self.children[joint].iter().map(|&c| segment_distance(p, a, &self.joints[c]));
        to_children.fold(None, |best: Option<f32>, d| Some(best.map_or(d, |b| b.min(d)))).unwrap_or_else(|| (p - a).norm())
    }

    /// The smallest distance between the bones of `a` and those of `b` (sampled along them).
    pub fn bones_distance(&self, a: usize, b: usize) -> f32 {
        const SAMPLES: usize = 8;
        let points = |j: usize| {
            let start = self.joints[j];
            let ends: Vec<Vector3<f32>> = self.children[j].iter().map(|&c| self.joints[c]).collect();
            let ends = if ends.is_empty() { vec![start] } else { ends };
            ends.into_iter().flat_map(move |end| (0..=SAMPLES).map(move |i| start + (end - start) * (i as f32 / SAMPLES as f32)))
        };
        let from_a = points(a).map(|p| self.bone_distance(b, &p));
        let from_b = points(b).map(|p| self.bone_distance(a, &p));
        from_a.chain(from_b).fold(f32::MAX, f32::min)
    }

    /// True when some ancestor of `joint` moves vertices: the joint is not the top of the
    /// weighted hierarchy, whose rotation carries the whole character rigidly.
    pub fn has_weighted_ancestor(&self, joint: usize) -> bool {
        let joints = &self.rig.skeleton.joints;
        std::iter::successors(joints[joint].parent, |&p| joints[p].parent).any(|p| self.weighted[p] > 0)
    }
}

/// Vertex neighbours: triangle edges plus links between coincident vertices.
fn edge_graph(rig: &Rig) -> Vec<Vec<u32>> {
    let mut neighbours = vec![Vec::new(); rig.mesh.vertex_count()];
    for t in &rig.mesh.triangles {
        for (a, b) in [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])] {
            neighbours[a as usize].push(b);
            neighbours[b as usize].push(a);
        }
    }
    let graph = SurfaceGraph::new(&rig.mesh);
    let mut first_at = vec![u32::MAX; graph.welded_count()];
    for (v, &w) in graph.weld().iter().enumerate() {
        let first = &mut first_at[w as usize];
        if *first == u32::MAX {
            *first = v as u32;
        } else {
            neighbours[v].push(*first);
            neighbours[*first as usize].push(v as u32);
        }
    }
    neighbours
}

/// Distance from `p` to the segment `a`-`b`.
pub(super) fn segment_distance(p: &Vector3<f32>, a: &Vector3<f32>, b: &Vector3<f32>) -> f32 {
    let ab = b - a;
    let len2 = ab.norm_squared();
    let t = if len2 > 0.0 { ((p - a).dot(&ab) / len2).clamp(0.0, 1.0) } else { 0.0 };
    (p - (a + ab * t)).norm()
}
