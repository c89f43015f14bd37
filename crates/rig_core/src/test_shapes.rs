//! Closed box meshes for unit tests.

/// Closed axis-aligned boxes `(lo, hi)`, outward-facing triangles, concatenated.
pub fn boxes(list: &[([f32; 3], [f32; 3])]) -> (Vec<[f32; 3]>, Vec<[u32; 3]>) {
    let quads = [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]];
    let (mut pos, mut tris) = (Vec::new(), Vec::new());
    for (lo, hi) in list {
        let first = pos.len() as u32;
        let p = |x: usize, y: usize, z: usize| [[lo[0], hi[0]][x], [lo[1], hi[1]][y], [lo[2], hi[2]][z]];
        pos.extend((0..8).map(|i| p(i & 1, (i >> 1) & 1, (i >> 2) & 1)));
        tris.extend(quads.iter().flat_map(|q| [[q[0], q[1], q[2]], [q[0], q[2], q[3]]]).map(|t: [u32; 3]| t.map(|i| i + first)));
    }
    (pos, tris)
}

/// One skinned part made of the boxes of [`boxes`].
pub fn box_mesh(list: &[([f32; 3], [f32; 3])]) -> crate::mesh::Mesh {
    use crate::mesh::{Mesh, MeshGroup, Part};
    let (positions, triangles) = boxes(list);
    let (n, t) = (positions.len() as u32, triangles.len() as u32);
    let part =
        Part { name: "boxes".into(), group: 0, material: None, vertices: 0..n, triangles: 0..t, skinned: true, morph_targets: vec![] };
    Mesh { positions, triangles, parts: vec![part], groups: vec![MeshGroup::default()], ..Default::default() }
}
