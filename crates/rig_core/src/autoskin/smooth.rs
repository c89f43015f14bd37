//! Laplacian smoothing of weight rows over the surface. Vertices at the same position (UV
//! seams, split normals) are welded first so that they keep identical weights.

use std::collections::HashMap;

use crate::mesh::Mesh;

type Row = Vec<(u32, f32)>;

/// The surface with coincident vertices welded: built once, used by smoothing and by the
/// search for separate pieces.
pub struct SurfaceGraph {
    /// Welded vertex id of each mesh vertex.
    weld: Vec<u32>,
    /// Neighbours of each welded vertex.
    adj: Vec<Vec<u32>>,
}

impl SurfaceGraph {
    pub fn new(mesh: &Mesh) -> SurfaceGraph {
        let (weld, n) = weld(mesh);
        let adj = adjacency(mesh, &weld, n);
        SurfaceGraph { weld, adj }
    }

    /// Welded vertex id of each mesh vertex.
    pub fn weld(&self) -> &[u32] {
        &self.weld
    }

    /// Number of welded vertices.
    pub fn welded_count(&self) -> usize {
        self.adj.len()
    }
}

/// Welded vertex id per vertex, and the number of welded vertices.
fn weld(mesh: &Mesh) -> (Vec<u32>, usize) {
    let mut ids: HashMap<[u32; 3], u32> = HashMap::with_capacity(mesh.vertex_count());
    let map = mesh
        .positions
        .iter()
        .map(|p| {
            let next = ids.len() as u32;
            *ids.entry(p.map(f32::to_bits)).or_insert(next)
        })
        .collect();
    (map, ids.len())
}

/// Neighbour lists of the welded surface graph.
fn adjacency(mesh: &Mesh, weld: &[u32], n: usize) -> Vec<Vec<u32>> {
    let mut adj: Vec<Vec<u32>> = vec![Vec::new(); n];
    for t in &mesh.triangles {
        let w = t.map(|i| weld[i as usize]);
        for (a, b) in [(w[0], w[1]), (w[1], w[2]), (w[2], w[0])] {
            if a != b {
                adj[a as usize].push(b);
                adj[b as usize].push(a);
            }
        }
    }
    for l in adj.iter_mut() {
        l.sort_unstable();
        l.dedup();
    }
    adj
}

fn add(acc: &mut Row, row: &Row, scale: f32) {
    for &(j, w) in row {
        match acc.iter_mut().find(|e| e.0 == j) {
            Some(e) => e.1 += w * scale,
            None => acc.push((j, w * scale)),
        }
    }
}

/// `iterations` passes of `w <- 0.5 w + 0.5 mean(neighbours)` on the welded graph.
pub fn smooth_rows(graph: &SurfaceGraph, rows: Vec<Row>, iterations: usize) -> Vec<Row> {
    let (weld, adj, n) = (&graph.weld, &graph.adj, graph.adj.len());
    let mut welded: Vec<Row> = vec![Vec::new(); n];
    for (v, row) in rows.into_iter().enumerate() {
        if welded[weld[v] as usize].is_empty() {
            welded[weld[v] as usize] = row;
        }
    }
    for _ in 0..iterations {
        welded = (0..n)
            .map(|v| {
                if adj[v].is_empty() {
                    return welded[v].clone();
                }
                let mut acc: Row = Vec::new();
                add(&mut acc, &welded[v], 0.5);
                let share = 0.5 / adj[v].len() as f32;
                adj[v].iter().for_each(|&u| add(&mut acc, &welded[u as usize], share));
                acc
            })
            .collect();
    }
    weld.iter().map(|&w| welded[w as usize].clone()).collect()
}

/// Welded connected components: a component id per vertex.
pub fn components(graph: &SurfaceGraph) -> Vec<u32> {
    let comp = connected_components(graph.adj.len(), |v| graph.adj[v].iter().map(|&u| u as usize));
    graph.weld.iter().map(|&w| comp[w as usize]).collect()
}

/// A component id per node of a graph of `n` nodes given by each node's neighbours.
pub(crate) fn connected_components<I: Iterator<Item = usize>>(n: usize, neighbours: impl Fn(usize) -> I) -> Vec<u32> {
    let mut comp = vec![u32::MAX; n];
    let mut next = 0;
    for start in 0..n {
        if comp[start] != u32::MAX {
            continue;
        }
        comp[start] = next;
        let mut stack = vec![start];
        while let Some(v) = stack.pop() {
            for u in neighbours(v) {
                if comp[u] == u32::MAX {
                    comp[u] = next;
                    stack.push(u);
                }
            }
        }
        next += 1;
    }
    comp
}

/// Per component (`comp`: a component id per vertex), each joint's summed weight over its vertices.
pub fn component_totals(comp: &[u32], rows: &[Row]) -> Vec<Row> {
    let count = comp.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut totals: Vec<Row> = vec![Vec::new(); count];
    for (&c, row) in comp.iter().zip(rows) {
        add(&mut totals[c as usize], row, 1.0);
    }
    totals
}

/// Binds a connected piece rigidly to one joint when that joint already holds at least
/// `share` of the piece's total weight (separate low-poly pieces: armour plates, hands, heads).
pub fn rigidify_components(graph: &SurfaceGraph, rows: &mut [Row], share: f32) {
    let comp = components(graph);
    let totals = component_totals(&comp, rows);
    let owner: Vec<Option<u32>> = totals
        .iter()
        .map(|t| {
            let sum: f32 = t.iter().map(|e| e.1).sum();
            let best = t.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
            (sum > 0.0 && best.1 >= share * sum).then_some(best.0)
        })
        .collect();
    for (v, row) in rows.iter_mut().enumerate() {
        if let Some(j) = owner[comp[v] as usize] {
            *row = vec![(j, 1.0)];
        }
    }
}
