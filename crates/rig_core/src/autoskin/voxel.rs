//! Solid voxelisation: rasterise the surface, flood the outside from the grid border, and call
//! everything the flood did not reach solid. Holes smaller than the closing radius are sealed
//! by dilating the surface before the flood, so open and multi-part meshes still get interiors.

use nalgebra::Vector3;

/// A regular grid over the mesh bounds with a solid / empty flag per cell.
#[derive(Debug, Clone)]
pub struct VoxelGrid {
    pub origin: Vector3<f32>,
    /// Edge length of one voxel.
    pub size: f32,
    pub dims: [usize; 3],
    pub solid: Vec<bool>,
}

impl VoxelGrid {
    pub fn index(&self, c: [usize; 3]) -> usize {
        (c[2] * self.dims[1] + c[1]) * self.dims[0] + c[0]
    }

    pub fn coords(&self, i: usize) -> [usize; 3] {
        let x = i % self.dims[0];
        let y = (i / self.dims[0]) % self.dims[1];
        [x, y, i / (self.dims[0] * self.dims[1])]
    }

    /// The cell containing `p`, clamped to the grid.
    pub fn cell_of(&self, p: &Vector3<f32>) -> [usize; 3] {
        let mut c = [0; 3];
        for k in 0..3 {
            let f = ((p[k] - self.origin[k]) / self.size).floor();
            c[k] = (f.max(0.0) as usize).min(self.dims[k] - 1);
        }
        c
    }

    /// True when `p` lies within the grid's bounds.
    pub fn contains(&self, p: &Vector3<f32>) -> bool {
        (0..3).all(|k| p[k] >= self.origin[k] && p[k] < self.origin[k] + self.dims[k] as f32 * self.size)
    }

    pub fn center(&self, c: [usize; 3]) -> Vector3<f32> {
        self.origin + Vector3::new(c[0] as f32 + 0.5, c[1] as f32 + 0.5, c[2] as f32 + 0.5) * self.size
    }

    pub fn solid_count(&self) -> usize {
        self.solid.iter().filter(|s| **s).count()
    }

    /// Centres of the solid cells, in cell order.
    pub fn solid_centres(&self) -> Vec<Vector3<f32>> {
        (0..self.solid.len()).filter(|&i| self.solid[i]).map(|i| self.center(self.coords(i))).collect()
    }

    /// Builds the grid with `resolution` cells along the longest side of the bounds.
    pub fn from_mesh(positions: &[[f32; 3]], triangles: &[[u32; 3]], resolution: usize) -> VoxelGrid {
        let mut grid = empty_grid(positions, resolution);
        let mut surface = vec![false; grid.solid.len()];
        for t in triangles {
            let [a, b, c] = t.map(|i| Vector3::from(positions[i as usize]));
            rasterize_triangle(&grid, &a, &b, &c, &mut surface);
        }
        for p in positions {
            surface[grid.index(grid.cell_of(&Vector3::from(*p)))] = true;
        }
        let sealed = dilate(&grid, &surface);
        let outside = flood_outside(&grid, &sealed);
        // Solid: the surface itself plus everything the outside flood could not reach.
        grid.solid = (0..surface.len()).map(|i| surface[i] || !outside[i]).collect();
        grid
    }
}

fn empty_grid(positions: &[[f32; 3]], resolution: usize) -> VoxelGrid {
    let mut lo = Vector3::repeat(f32::MAX);
    let mut hi = Vector3::repeat(f32::MIN);
    for p in positions {
        lo = lo.inf(&Vector3::from(*p));
        hi = hi.sup(&Vector3::from(*p));
    }
    let extent = (hi - lo).max().max(1e-6);
    let size = extent / resolution.max(2) as f32;
    // Two cells of margin on every side, so the outside flood can go around the mesh.
    let origin = lo - Vector3::repeat(2.0 * size);
    let dims = [0, 1, 2].map(|k| (((hi[k] - lo[k]) / size).ceil() as usize + 4).max(5));
    VoxelGrid { origin, size, dims, solid: vec![false; dims[0] * dims[1] * dims[2]] }
}

/// Marks every cell touched by dense samples of the triangle (spacing under half a cell).
fn rasterize_triangle(grid: &VoxelGrid, a: &Vector3<f32>, b: &Vector3<f32>, c: &Vector3<f32>, surface: &mut [bool]) {
    let longest = (b - a).norm().max((c - b).norm()).max((a - c).norm());
    let n = ((longest / (0.5 * grid.size)).ceil() as usize).clamp(1, 4096);
    for i in 0..=n {
        for j in 0..=(n - i) {
            let (u, v) = (i as f32 / n as f32, j as f32 / n as f32);
            let p = a + (b - a) * u + (c - a) * v;
            surface[grid.index(grid.cell_of(&p))] = true;
        }
    }
}

/// One-cell dilation (6-neighbourhood) that seals pinholes before the outside flood.
fn dilate(grid: &VoxelGrid, surface: &[bool]) -> Vec<bool> {
    let mut out = surface.to_vec();
    for (i, _) in surface.iter().enumerate().filter(|(_, s)| **s) {
        let c = grid.coords(i);
        for_each_face_neighbor(grid, c, |n| out[n] = true);
    }
    out
}

fn for_each_face_neighbor(grid: &VoxelGrid, c: [usize; 3], mut f: impl FnMut(usize)) {
    for k in 0..3 {
        if c[k] > 0 {
            let mut d = c;
            d[k] -= 1;
            f(grid.index(d));
        }
        if c[k] + 1 < grid.dims[k] {
            let mut d = c;
            d[k] += 1;
            f(grid.index(d));
        }
    }
}

/// Cells reachable from the grid border without crossing `blocked`, then grown back by one
/// cell so the dilation does not thicken the solid.
fn flood_outside(grid: &VoxelGrid, blocked: &[bool]) -> Vec<bool> {
    let mut outside = vec![false; blocked.len()];
    let mut stack = Vec::new();
    for i in 0..blocked.len() {
        let c = grid.coords(i);
        let border = (0..3).any(|k| c[k] == 0 || c[k] + 1 == grid.dims[k]);
        if border && !blocked[i] {
            outside[i] = true;
            stack.push(i);
        }
    }
    while let Some(i) = stack.pop() {
        for_each_face_neighbor(grid, grid.coords(i), |n| {
            if !blocked[n] && !outside[n] {
                outside[n] = true;
                stack.push(n);
            }
        });
    }
    let mut grown = outside.clone();
    for (i, _) in outside.iter().enumerate().filter(|(_, o)| **o) {
        for_each_face_neighbor(grid, grid.coords(i), |n| grown[n] = true);
    }
    grown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_shapes::boxes;

    #[test]
    fn a_closed_box_is_filled() {
        let (p, t) = boxes(&[([0.0; 3], [1.0, 2.0, 1.0])]);
        let g = VoxelGrid::from_mesh(&p, &t, 20);
        let centre = g.cell_of(&Vector3::new(0.5, 1.0, 0.5));
        assert!(g.solid[g.index(centre)], "the inside is solid");
        let outside = g.cell_of(&Vector3::new(-0.05, -0.05, -0.05));
        assert!(!g.solid[g.index(outside)], "the margin is empty");
        let expected = (1.0 * 2.0 * 1.0) / g.size.powi(3);
        let got = g.solid_count() as f32;
        assert!(got > 0.9 * expected && got < 1.6 * expected, "{got} vs {expected}");
    }

    #[test]
    fn separate_boxes_stay_separate() {
        let (p, t) = boxes(&[([0.0; 3], [1.0, 1.0, 1.0]), ([2.0, 0.0, 0.0], [3.0, 1.0, 1.0])]);
        let g = VoxelGrid::from_mesh(&p, &t, 30);
        assert!(!g.solid[g.index(g.cell_of(&Vector3::new(1.5, 0.5, 0.5)))], "the gap is empty");
        assert!(g.solid[g.index(g.cell_of(&Vector3::new(2.5, 0.5, 0.5)))]);
    }
}
