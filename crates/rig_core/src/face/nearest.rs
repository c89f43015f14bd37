//! Closest points on a triangle mesh: triangles bucketed in a uniform grid, searched in
//! growing shells of cells around the query until no nearer triangle can remain.

use nalgebra::Vector3;

/// A point on a triangle: the triangle, its barycentric weights and the point itself.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub triangle: usize,
    pub bary: [f32; 3],
    pub point: Vector3<f32>,
    pub distance: f32,
}

/// Triangles of a mesh in a uniform grid, with their unit normals.
pub struct TriangleGrid {
    corners: Vec<[Vector3<f32>; 3]>,
    pub normals: Vec<Vector3<f32>>,
    origin: Vector3<f32>,
    cell: f32,
    dims: [usize; 3],
    cells: Vec<Vec<u32>>,
}

impl TriangleGrid {
    /// The triangles `which` keeps (indices into `triangles`); a query answers with those indices.
    pub fn new(positions: &[Vector3<f32>], triangles: &[[u32; 3]], which: impl Fn(usize) -> bool) -> TriangleGrid {
        let kept: Vec<usize> = (0..triangles.len()).filter(|&t| which(t)).collect();
        let corners: Vec<[Vector3<f32>; 3]> = (0..triangles.len()).map(|t| triangles[t].map(|i| positions[i as usize])).collect();
        let normals =
            corners.iter().map(|c| (c[1] - c[0]).cross(&(c[2] - c[0])).try_normalize(1e-20).unwrap_or_else(Vector3::zeros)).collect();
        let (mut lo, mut hi) = (Vector3::repeat(f32::MAX), Vector3::repeat(f32::MIN));
        for c in kept.iter().flat_map(|&t| corners[t].iter()) {
            lo = lo.inf(c);
            hi = hi.sup(c);
        }
        if kept.is_empty() {
            (lo, hi) = (Vector3::zeros(), Vector3::zeros());
        }
        let extent = (hi - lo).max().max(1e-6);
        // About two triangles per cell along the longest side for a few thousand triangles.
        let cell = extent / ((kept.len() as f32).cbrt() * 2.0).clamp(1.0, 256.0);
        let dims = [0, 1, 2].map(|a| (((hi[a] - lo[a]) / cell) as usize + 1).min(512));
        let mut grid = TriangleGrid { corners, normals, origin: lo, cell, dims, cells: vec![Vec::new(); dims[0] * dims[1] * dims[2]] };
        for &t in &kept {
            let c = grid.corners[t];
            let (a, b) = (grid.coords(&c[0].inf(&c[1]).inf(&c[2])), grid.coords(&c[0].sup(&c[1]).sup(&c[2])));
            for x in a[0]..=b[0] {
                for y in a[1]..=b[1] {
                    for z in a[2]..=b[2] {
                        let i = grid.index([x, y, z]);
                        grid.cells[i].push(t as u32);
                    }
                }
            }
        }
        grid
    }

    fn coords(&self, p: &Vector3<f32>) -> [usize; 3] {
        [0, 1, 2].map(|a| (((p[a] - self.origin[a]) / self.cell).max(0.0) as usize).min(self.dims[a] - 1))
    }

    fn index(&self, c: [usize; 3]) -> usize {
        (c[2] * self.dims[1] + c[1]) * self.dims[0] + c[0]
    }

    /// The closest point to `p` on a triangle `accept` keeps, `None` when there is none.
    pub fn closest(&self, p: &Vector3<f32>, accept: impl Fn(usize) -> bool) -> Option<Hit> {
        self.closest_within(p, f32::INFINITY, accept)
    }

    /// [`Self::closest`] among points nearer than `within` (the search stops there).
    pub fn closest_within(&self, p: &Vector3<f32>, within: f32, accept: impl Fn(usize) -> bool) -> Option<Hit> {
        let home = self.coords(p);
        let mut best: Option<Hit> = None;
        let max_ring = self.dims.iter().copied().max().unwrap_or(1);
        for ring in 0..=max_ring {
            let nearest_possible = self.shell_distance(p, home, ring);
            if nearest_possible > within || best.is_some_and(|b| b.distance <= nearest_possible) {
                break;
            }
            self.for_shell(home, ring, |cell, coords| {
                if best.is_some_and(|b| b.distance <= self.cell_distance(p, coords)) {
                    return;
                }
                for &t in &self.cells[cell] {
                    let t = t as usize;
                    if !accept(t) {
                        continue;
                    }
                    let (q, bary) = closest_on_triangle(p, &self.corners[t]);
                    let d = (q - p).norm();
                    if best.is_none_or(|b| d < b.distance) {
                        best = Some(Hit { triangle: t, bary, point: q, distance: d });
                    }
                }
            });
        }
        best.filter(|b| b.distance < within)
    }

    /// A lower bound on the distance from `p` to the cells `ring` steps from `home`: they lie
    /// outside the cube of cells `ring - 1` steps around it, so for a query inside that cube
    /// its distance to the cube's faces; `ring - 1` cells for a query outside the grid.
    fn shell_distance(&self, p: &Vector3<f32>, home: [usize; 3], ring: usize) -> f32 {
        if ring == 0 {
            return 0.0;
        }
        let steps = ring as f32 - 1.0;
        let mut bound = f32::INFINITY;
        for a in 0..3 {
            let lo = self.origin[a] + (home[a] as f32 - steps) * self.cell;
            let hi = self.origin[a] + (home[a] as f32 + 1.0 + steps) * self.cell;
            if p[a] < lo || p[a] > hi {
                return steps * self.cell;
            }
            bound = bound.min(p[a] - lo).min(hi - p[a]);
        }
        bound.max(steps * self.cell)
    }

    /// The distance from `p` to the cell at `coords` (0 inside it).
    fn cell_distance(&self, p: &Vector3<f32>, coords: [usize; 3]) -> f32 {
        let mut squared = 0.0;
        for a in 0..3 {
            let lo = self.origin[a] + coords[a] as f32 * self.cell;
            let gap = (lo - p[a]).max(p[a] - lo - self.cell).max(0.0);
            squared += gap * gap;
        }
        squared.sqrt()
    }

    /// Calls `f` with each cell (index and coordinates) on the surface of the cube `ring` cells
    /// around `home`.
    fn for_shell(&self, home: [usize; 3], ring: usize, mut f: impl FnMut(usize, [usize; 3])) {
        let r = ring as i64;
        let lo = |a: usize| home[a] as i64 - r;
        let hi = |a: usize| home[a] as i64 + r;
        for z in lo(2).max(0)..=hi(2).min(self.dims[2] as i64 - 1) {
            for y in lo(1).max(0)..=hi(1).min(self.dims[1] as i64 - 1) {
                let edge = z == lo(2) || z == hi(2) || y == lo(1) || y == hi(1);
                let step = if edge || r == 0 { 1 } else { (2 * r) as usize };
                let mut x = lo(0);
                while x <= hi(0) {
                    if x >= 0 && x < self.dims[0] as i64 {
                        let c = [x as usize, y as usize, z as usize];
                        f(self.index(c), c);
                    }
                    x += step as i64;
                }
            }
        }
    }
}

/// The closest point to `p` on the triangle `c`, with its barycentric weights (Ericson's
/// region tests).
pub fn closest_on_triangle(p: &Vector3<f32>, c: &[Vector3<f32>; 3]) -> (Vector3<f32>, [f32; 3]) {
    let (a, b, cc) = (c[0], c[1], c[2]);
    let (ab, ac, ap) = (b - a, cc - a, p - a);
    let (d1, d2) = (ab.dot(&ap), ac.dot(&ap));
    if d1 <= 0.0 && d2 <= 0.0 {
        return (a, [1.0, 0.0, 0.0]);
    }
    let bp = p - b;
    let (d3, d4) = (ab.dot(&bp), ac.dot(&bp));
    if d3 >= 0.0 && d4 <= d3 {
        return (b, [0.0, 1.0, 0.0]);
    }
    let vc = d1 * d4 - d3 * d2;
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        let v = d1 / (d1 - d3);
        return (a + ab * v, [1.0 - v, v, 0.0]);
    }
    let cp = p - cc;
    let (d5, d6) = (ab.dot(&cp), ac.dot(&cp));
    if d6 >= 0.0 && d5 <= d6 {
        return (cc, [0.0, 0.0, 1.0]);
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        let w = d2 / (d2 - d6);
        return (a + ac * w, [1.0 - w, 0.0, w]);
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
        let w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
        return (b + (cc - b) * w, [0.0, 1.0 - w, w]);
    }
    let denom = 1.0 / (va + vb + vc);
    let (v, w) = (vb * denom, vc * denom);
    (a + ab * v + ac * w, [1.0 - v - w, v, w])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_grid_finds_what_a_search_of_every_triangle_finds() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let positions: Vec<Vector3<f32>> =
            (0..300).map(|_| Vector3::new(rng.gen(), rng.gen::<f32>() * 2.0, rng.gen::<f32>() * 0.5)).collect();
        let triangles: Vec<[u32; 3]> = (0..200).map(|_| [0, 1, 2].map(|_| rng.gen_range(0..300u32))).collect();
        let grid = TriangleGrid::new(&positions, &triangles, |t| t % 3 != 0);
        for _ in 0..200 {
            let p = Vector3::new(rng.gen::<f32>() * 3.0 - 1.0, rng.gen::<f32>() * 3.0 - 0.5, rng.gen::<f32>() * 2.0 - 0.7);
            let hit = grid.closest(&p, |t| t % 2 == 0).expect("a hit");
            let naive = (0..triangles.len())
                .filter(|t| t % 3 != 0 && t % 2 == 0)
                .map(|t| (closest_on_triangle(&p, &triangles[t].map(|i| positions[i as usize])).0 - p).norm())
                .fold(f32::MAX, f32::min);
            assert!((hit.distance - naive).abs() < 1e-5, "{} vs {naive}", hit.distance);
            let c = triangles[hit.triangle].map(|i| positions[i as usize]);
            let q = c[0] * hit.bary[0] + c[1] * hit.bary[1] + c[2] * hit.bary[2];
            assert!((q - hit.point).norm() < 1e-4);
        }
    }
}
