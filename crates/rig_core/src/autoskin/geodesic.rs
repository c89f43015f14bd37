//! Shortest paths through the solid voxels (26-neighbourhood), by Dial's bucket queue with
//! integer step costs 10 / 14 / 17 (1, sqrt 2, sqrt 3 times ten).

use super::voxel::VoxelGrid;

/// Sentinel for "not reached" and "no neighbour".
pub const UNREACHED: u32 = u32::MAX;
const COSTS: [u32; 4] = [0, 10, 14, 17];

/// Solid voxels numbered densely, with their solid neighbours precomputed.
pub struct SolidGraph {
    /// Grid cell index -> solid id, or `UNREACHED`.
    pub id_of_cell: Vec<u32>,
    pub cell_of_id: Vec<u32>,
    /// Per solid voxel: 26 neighbour ids (or `UNREACHED`) and the cost class of each slot.
    neighbors: Vec<[u32; 26]>,
    slot_cost: [u32; 26],
}

impl SolidGraph {
    pub fn new(grid: &VoxelGrid) -> SolidGraph {
        let mut id_of_cell = vec![UNREACHED; grid.solid.len()];
        let mut cell_of_id = Vec::new();
        for (i, _) in grid.solid.iter().enumerate().filter(|(_, s)| **s) {
            id_of_cell[i] = cell_of_id.len() as u32;
            cell_of_id.push(i as u32);
        }
        let mut offsets = Vec::new();
        let mut slot_cost = [0; 26];
        for dz in -1i64..=1 {
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let class = (dx != 0) as usize + (dy != 0) as usize + (dz != 0) as usize;
                    if class > 0 {
                        slot_cost[offsets.len()] = COSTS[class];
                        offsets.push([dx, dy, dz]);
                    }
                }
            }
        }
        let neighbors = cell_of_id
            .iter()
            .map(|&cell| {
                let c = grid.coords(cell as usize);
                let mut n = [UNREACHED; 26];
                for (s, o) in offsets.iter().enumerate() {
                    let q = [c[0] as i64 + o[0], c[1] as i64 + o[1], c[2] as i64 + o[2]];
                    if (0..3).all(|k| q[k] >= 0 && (q[k] as usize) < grid.dims[k]) {
                        n[s] = id_of_cell[grid.index([q[0] as usize, q[1] as usize, q[2] as usize])];
                    }
                }
                n
            })
            .collect();
        SolidGraph { id_of_cell, cell_of_id, neighbors, slot_cost }
    }

    /// Calls `f` with each solid neighbour of solid voxel `v`.
    pub fn for_each_neighbor(&self, v: u32, mut f: impl FnMut(u32)) {
        self.neighbors[v as usize].iter().filter(|&&n| n != UNREACHED).for_each(|&n| f(n));
    }

    pub fn len(&self) -> usize {
        self.cell_of_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cell_of_id.is_empty()
    }

    /// Distances (in tenths of a voxel) from the seed voxels to every solid voxel.
    pub fn distances(&self, seeds: &[u32]) -> Vec<u32> {
        let mut dist = vec![UNREACHED; self.len()];
        let ring = 18;
        let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); ring];
        for &s in seeds {
            dist[s as usize] = 0;
            buckets[0].push(s);
        }
        let mut pending = seeds.len();
        let mut d = 0u32;
        while pending > 0 {
            let b = (d as usize) % ring;
            while let Some(v) = buckets[b].pop() {
                pending -= 1;
                if dist[v as usize] != d {
                    continue;
                }
                for (s, &n) in self.neighbors[v as usize].iter().enumerate() {
                    if n == UNREACHED {
                        continue;
                    }
                    let nd = d + self.slot_cost[s];
                    if nd < dist[n as usize] {
                        dist[n as usize] = nd;
                        buckets[(nd as usize) % ring].push(n);
                        pending += 1;
                    }
                }
            }
            d += 1;
        }
        dist
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Vector3;

    fn slab(dims: [usize; 3]) -> VoxelGrid {
        VoxelGrid { origin: Vector3::zeros(), size: 1.0, dims, solid: vec![true; dims[0] * dims[1] * dims[2]] }
    }

    /// Reference: Bellman-Ford style relaxation until nothing changes.
    fn naive(g: &SolidGraph, seeds: &[u32]) -> Vec<u32> {
        let mut d = vec![UNREACHED; g.len()];
        seeds.iter().for_each(|&s| d[s as usize] = 0);
        loop {
            let mut changed = false;
            for v in 0..g.len() {
                if d[v] == UNREACHED {
                    continue;
                }
                for (s, &n) in g.neighbors[v].iter().enumerate() {
                    if n != UNREACHED && d[v] + g.slot_cost[s] < d[n as usize] {
                        d[n as usize] = d[v] + g.slot_cost[s];
                        changed = true;
                    }
                }
            }
            if !changed {
                return d;
            }
        }
    }

    #[test]
    fn dial_matches_relaxation_on_a_grid_with_walls() {
        let mut grid = slab([12, 9, 5]);
        for y in 0..8 {
            for z in 0..5 {
                let i = grid.index([6, y, z]);
                grid.solid[i] = false;
            }
        }
        let g = SolidGraph::new(&grid);
        let seeds = [g.id_of_cell[grid.index([1, 1, 2])], g.id_of_cell[grid.index([10, 7, 0])]];
        assert_eq!(g.distances(&seeds), naive(&g, &seeds));
    }

    #[test]
    fn walls_make_paths_go_around() {
        let mut grid = slab([9, 9, 1]);
        for y in 0..8 {
            let i = grid.index([4, y, 0]);
            grid.solid[i] = false;
        }
        let g = SolidGraph::new(&grid);
        let d = g.distances(&[g.id_of_cell[grid.index([2, 0, 0])]]);
        let across = d[g.id_of_cell[grid.index([6, 0, 0])] as usize];
        assert!(across >= 10 * 14, "around the wall, not through it: {across}");
    }
}
