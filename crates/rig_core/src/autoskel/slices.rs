//! Cross-sections of the voxelised solid: the 2D connected pieces of one layer of voxels, and
//! following a piece from layer to layer (a leg from the ground up, an arm from the hand in).

use nalgebra::Vector3;

use crate::autoskin::voxel::VoxelGrid;

/// One connected piece of a layer.
#[derive(Debug, Clone)]
pub struct Piece {
    /// Grid coordinates of its voxels.
    pub cells: Vec<[usize; 3]>,
    /// Centroid in mesh space.
    pub centroid: Vector3<f32>,
}

impl Piece {
    /// The piece made of `cells`, with their centroid.
    pub fn new(grid: &VoxelGrid, cells: Vec<[usize; 3]>) -> Piece {
        let centroid = cells.iter().map(|c| grid.center(*c)).sum::<Vector3<f32>>() / cells.len().max(1) as f32;
        Piece { cells, centroid }
    }

    /// Smallest and largest mesh-space coordinate of its voxel centres along `axis`.
    pub fn range(&self, grid: &VoxelGrid, axis: usize) -> (f32, f32) {
        self.cells.iter().map(|c| grid.center(*c)[axis]).fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)))
    }

    /// Whether the piece reaches both sides of the plane `axis = at` (touching it counts).
    pub fn crosses(&self, grid: &VoxelGrid, axis: usize, at: f32) -> bool {
        let (lo, hi) = self.range(grid, axis);
        (lo - at) * (hi - at) <= 0.0
    }
}

/// The layer `index` across `axis`: its pieces (8-connected) and a piece label per cell.
pub struct Layer {
    /// The two in-layer axes, in increasing order.
    plane: [usize; 2],
    width: usize,
    labels: Vec<u32>,
    pub pieces: Vec<Piece>,
}

const EMPTY: u32 = u32::MAX;

impl Layer {
    pub fn new(grid: &VoxelGrid, axis: usize, index: usize) -> Layer {
        let plane = match axis {
            0 => [1, 2],
            1 => [0, 2],
            _ => [0, 1],
        };
        let (w, h) = (grid.dims[plane[0]], grid.dims[plane[1]]);
        let cell = |a: usize, b: usize| {
            let mut c = [0; 3];
            c[axis] = index;
            c[plane[0]] = a;
            c[plane[1]] = b;
            c
        };
        let mut labels = vec![EMPTY; w * h];
        let mut pieces = Vec::new();
        for start in 0..w * h {
            if labels[start] != EMPTY || !grid.solid[grid.index(cell(start / h, start % h))] {
                continue;
            }
            let id = pieces.len() as u32;
            labels[start] = id;
            let mut stack = vec![start];
            let mut cells = Vec::new();
            while let Some(i) = stack.pop() {
                let (a, b) = (i / h, i % h);
                cells.push(cell(a, b));
                for da in -1i64..=1 {
                    for db in -1i64..=1 {
                        let (na, nb) = (a as i64 + da, b as i64 + db);
                        if na < 0 || nb < 0 || na as usize >= w || nb as usize >= h {
                            continue;
                        }
                        let j = na as usize * h + nb as usize;
                        if labels[j] == EMPTY && grid.solid[grid.index(cell(na as usize, nb as usize))] {
                            labels[j] = id;
                            stack.push(j);
                        }
                    }
                }
            }
            pieces.push(Piece::new(grid, cells));
        }
        Layer { plane, width: h, labels, pieces }
    }

    /// Centroid (mesh space) of this layer's voxels whose centres satisfy `keep`, if any do.
    pub fn centroid_where(&self, grid: &VoxelGrid, keep: impl Fn(&Vector3<f32>) -> bool) -> Option<Vector3<f32>> {
        let (mut sum, mut n) = (Vector3::zeros(), 0usize);
        for p in self.pieces.iter().flat_map(|piece| &piece.cells).map(|c| grid.center(*c)).filter(|p| keep(p)) {
            sum += p;
            n += 1;
        }
        (n > 0).then(|| sum / n as f32)
    }

    /// The piece of this layer that shares the most in-layer positions with `previous` (a
    /// piece of the neighbouring layer), if any.
    pub fn follow(&self, previous: &Piece) -> Option<usize> {
        let mut votes = vec![0usize; self.pieces.len()];
        for c in &previous.cells {
            let label = self.labels[c[self.plane[0]] * self.width + c[self.plane[1]]];
            if label != EMPTY {
                votes[label as usize] += 1;
            }
        }
        (0..votes.len()).filter(|&i| votes[i] > 0).max_by_key(|&i| votes[i])
    }
}
