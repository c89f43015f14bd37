//! Decimation augmentation: the character's surface simplified by edge collapses
//! (meshoptimizer), each kept vertex keeping its position and the artist's weights, so the
//! weights stay the exact truth for the coarser shape. Teaches the models that the vertex
//! density of a mesh is not part of its rig.

use std::collections::HashMap;

use meshopt::{simplify_decoder, simplify_sloppy_decoder, SimplifyOptions};
use rig_core::{Mesh, MeshGroup, Part, Rig, SkinWeights};

/// How far the simplified surface may stray from the original, as a share of the mesh's extent
/// (meshoptimizer's relative error): coarse enough to reach the target on dense meshes, fine
/// enough that thin parts (fingers, ears) survive.
const MAX_ERROR: f32 = 0.02;

/// The error bound of the sloppy fallback, which ignores the topology (it clusters vertices):
/// many game meshes (flat-shaded, non-manifold, in many pieces) cannot lose a triangle to edge
/// collapses within any bound.
const MAX_SLOPPY_ERROR: f32 = 0.03;

/// A copy must lose at least this share of its triangles to count as a new shape.
const MIN_REDUCTION: f32 = 0.15;

/// A copy of `rig` whose surface keeps about `keep` (0..1) of its triangles, or `None` when
/// the mesh cannot lose at least 15 % of them within the error bounds (already coarse).
/// Vertices that share a position (seams between UV islands or materials) are welded first so
/// that seams do not stop the collapses; where edge collapses stop short of the target, the
/// sloppy simplifier (vertex clustering) is tried. The copy is one part without UVs, colours or
/// morph targets.
pub fn decimated_copy(rig: &Rig, keep: f32) -> Option<Rig> {
    let welded = weld_by_position(&rig.mesh);
    let indices: Vec<u32> =
        rig.mesh.triangles.iter().map(|t| t.map(|v| welded[v as usize])).filter(|t| three_corners(t)).flatten().collect();
    let target = ((indices.len() as f32 * keep.clamp(0.0, 1.0)) as usize / 3) * 3;
    let mut kept = simplify_decoder(&indices, &rig.mesh.positions, target, MAX_ERROR, SimplifyOptions::None, None);
    if kept.len() > target + target / 4 {
        let rough = simplify_sloppy_decoder(&indices, &rig.mesh.positions, target, MAX_SLOPPY_ERROR, None);
        if rough.len() < kept.len() {
            kept = rough;
        }
    }
    kept = kept.chunks_exact(3).filter(|t| three_corners(t)).flatten().copied().collect();
    if kept.len() < 12 || kept.len() as f32 > indices.len() as f32 * (1.0 - MIN_REDUCTION) {
        return None;
    }
    Some(compacted(rig, &kept))
}

/// A triangle whose corners are three different vertices.
fn three_corners(t: &[u32]) -> bool {
    t[0] != t[1] && t[1] != t[2] && t[0] != t[2]
}

/// For each vertex, the first vertex with bit-identical position.
fn weld_by_position(mesh: &Mesh) -> Vec<u32> {
    let mut first: HashMap<[u32; 3], u32> = HashMap::with_capacity(mesh.positions.len());
    mesh.positions.iter().enumerate().map(|(i, p)| *first.entry(p.map(f32::to_bits)).or_insert(i as u32)).collect()
}

/// The rig restricted to the vertices `indices` uses, renumbered in first-use order.
fn compacted(rig: &Rig, indices: &[u32]) -> Rig {
    let mut new_from_old: HashMap<u32, u32> = HashMap::new();
    let mut old_of_new: Vec<u32> = Vec::new();
    let triangles: Vec<[u32; 3]> = indices
        .chunks_exact(3)
        .map(|t| {
            [0, 1, 2].map(|k| {
                *new_from_old.entry(t[k]).or_insert_with(|| {
                    old_of_new.push(t[k]);
                    old_of_new.len() as u32 - 1
                })
            })
        })
        .collect();
    let vertices = old_of_new.len() as u32;
    let mesh = Mesh {
        positions: old_of_new.iter().map(|&v| rig.mesh.positions[v as usize]).collect(),
        parts: vec![Part {
            name: "decimated".into(),
            group: 0,
            material: None,
            vertices: 0..vertices,
            triangles: 0..triangles.len() as u32,
            skinned: true,
            morph_targets: Vec::new(),
        }],
        groups: vec![MeshGroup { name: rig.name.clone(), ..Default::default() }],
        triangles,
        ..Default::default()
    };
    let mut out = rig.clone();
    out.weights = SkinWeights::from_rows(old_of_new.iter().map(|&v| rig.weights.row_pairs(v as usize)));
    out.mesh = mesh;
    out.clips.clear();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rigs::fox;

    #[test]
    fn a_decimated_copy_keeps_positions_and_weights_of_its_vertices() {
        let rig = fox();
        let copy = decimated_copy(&rig, 0.5).expect("the fox can lose half its triangles");
        copy.validate().expect("a valid rig");
        let (before, after) = (rig.mesh.triangle_count() as f32, copy.mesh.triangle_count() as f32);
        assert!(after < 0.85 * before && after > 0.3 * before, "{before} -> {after} triangles");
        assert_eq!(copy.mesh.degenerate_triangle_count(), 0);
        assert_eq!(copy.unweighted_skinned_vertices(), 0);
        // Every kept vertex is an original vertex with the original's weights (first of its
        // position, the one the weld keeps).
        for (v, p) in copy.mesh.positions.iter().enumerate() {
            let old = rig.mesh.positions.iter().position(|q| q == p).expect("a kept vertex is an original one");
            assert_eq!(copy.weights.row_pairs(v), rig.weights.row_pairs(old), "vertex {v}");
        }
        // Still the same fox: its bounds barely move.
        let (a, b) = (rig.mesh.bounds().unwrap(), copy.mesh.bounds().unwrap());
        let moved = (0..3).map(|k| (a.min[k] - b.min[k]).abs().max((a.max[k] - b.max[k]).abs())).fold(0.0, f32::max);
        assert!(moved < 0.05 * a.diagonal(), "bounds moved by {moved}");
    }

    #[test]
    fn a_flat_shaded_mesh_gets_coarser_too() {
        // Every triangle its own three vertices, as in flat-shaded game characters: edge
        // collapses alone would keep all of them; welding and the sloppy fallback do not.
        let mut rig = fox();
        let mut mesh = rig.mesh.clone();
        mesh.positions = rig.mesh.triangles.iter().flat_map(|t| t.map(|v| rig.mesh.positions[v as usize])).collect();
        mesh.triangles = (0..rig.mesh.triangles.len() as u32).map(|t| [3 * t, 3 * t + 1, 3 * t + 2]).collect();
        mesh.normals.clear();
        mesh.uvs.clear();
        mesh.parts.truncate(1);
        mesh.parts[0].vertices = 0..mesh.positions.len() as u32;
        mesh.parts[0].triangles = 0..mesh.triangles.len() as u32;
        rig.weights = SkinWeights::from_rows(rig.mesh.triangles.iter().flat_map(|t| t.map(|v| rig.weights.row_pairs(v as usize))));
        rig.mesh = mesh;
        let copy = decimated_copy(&rig, 0.5).expect("a coarser copy");
        assert!(copy.mesh.triangle_count() < rig.mesh.triangle_count() * 85 / 100);
        assert!(copy.mesh.vertex_count() < rig.mesh.vertex_count() / 3, "welded: {}", copy.mesh.vertex_count());
        assert_eq!(copy.unweighted_skinned_vertices(), 0);
    }

    #[test]
    fn a_mesh_that_cannot_get_coarser_gives_no_copy() {
        let rig = fox();
        assert!(decimated_copy(&rig, 1.0).is_none(), "keeping every triangle is no new shape");
    }
}
