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

/// `mesh` with every triangle split into four at its edges' midpoints, `times` times over
/// (shared edges share their midpoint, so a closed mesh stays closed): vertices all over the
/// surface, as a real character has, instead of a box's eight corners. For one-part meshes of
/// positions and triangles only (as [`box_mesh`] makes).
pub fn subdivided(mut mesh: crate::mesh::Mesh, times: usize) -> crate::mesh::Mesh {
    for _ in 0..times {
        let mut midpoints = std::collections::HashMap::new();
        let mut triangles = Vec::with_capacity(4 * mesh.triangles.len());
        for t in std::mem::take(&mut mesh.triangles) {
            let mut mid = |a: u32, b: u32| {
                *midpoints.entry((a.min(b), a.max(b))).or_insert_with(|| {
                    let (p, q) = (mesh.positions[a as usize], mesh.positions[b as usize]);
                    mesh.positions.push([0, 1, 2].map(|k| 0.5 * (p[k] + q[k])));
                    mesh.positions.len() as u32 - 1
                })
            };
            let [ab, bc, ca] = [mid(t[0], t[1]), mid(t[1], t[2]), mid(t[2], t[0])];
            triangles.extend([[t[0], ab, ca], [ab, t[1], bc], [ca, bc, t[2]], [ab, bc, ca]]);
        }
        mesh.triangles = triangles;
    }
    let (n, t) = (mesh.positions.len() as u32, mesh.triangles.len() as u32);
    mesh.parts.iter_mut().for_each(|p| {
        p.vertices = 0..n;
        p.triangles = 0..t;
    });
    mesh
}
