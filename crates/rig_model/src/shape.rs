//! Surface samples for the generator's shape encoder: points drawn on the triangles in
//! proportion to their area, with face normals, in unit coordinates; and farthest-point
//! sampling for the encoder's queries.

use nalgebra::Vector3;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rig_core::Mesh;

use crate::sequence::Frame;

/// Numbers per surface sample: position and normal.
pub const POINT_WIDTH: usize = 6;

/// `n` points on `mesh`'s surface (area-weighted, deterministic for `seed`) as
/// `[x, y, z, nx, ny, nz]` in `frame`'s unit coordinates.
pub fn surface_samples(mesh: &Mesh, frame: &Frame, n: usize, seed: u64) -> Vec<[f32; POINT_WIDTH]> {
    let tri = |t: &[u32; 3]| t.map(|i| Vector3::from(mesh.positions[i as usize]));
    let mut cumulative = Vec::with_capacity(mesh.triangles.len());
    let mut total = 0.0f64;
    for t in &mesh.triangles {
        let [a, b, c] = tri(t);
        total += (b - a).cross(&(c - a)).norm() as f64;
        cumulative.push(total);
    }
    if total <= 0.0 {
        return Vec::new();
    }
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let r = rng.gen::<f64>() * total;
            let i = cumulative.partition_point(|&c| c < r).min(mesh.triangles.len() - 1);
            let [a, b, c] = tri(&mesh.triangles[i]);
            let (mut u, mut v) = (rng.gen::<f32>(), rng.gen::<f32>());
            if u + v > 1.0 {
                (u, v) = (1.0 - u, 1.0 - v);
            }
            let p = frame.to_unit(&(a + (b - a) * u + (c - a) * v));
            let normal = (b - a).cross(&(c - a)).try_normalize(1e-12).unwrap_or_else(Vector3::y);
            [p.x, p.y, p.z, normal.x, normal.y, normal.z]
        })
        .collect()
}

/// Normalises mesh-space samples into the unit box of their own positions (the rule training
/// and inference share: the frame comes from the samples, not from the mesh's vertices).
pub fn normalise_samples(mut samples: Vec<[f32; POINT_WIDTH]>) -> (Frame, Vec<[f32; POINT_WIDTH]>) {
    let positions: Vec<[f32; 3]> = samples.iter().map(|s| [s[0], s[1], s[2]]).collect();
    let frame = Frame::of_points(&positions);
    for s in &mut samples {
        let u = frame.to_unit(&Vector3::new(s[0], s[1], s[2]));
        s[..3].copy_from_slice(u.as_slice());
    }
    (frame, samples)
}

/// Indices of `k` points spread over `points` (farthest-point sampling from the first).
pub fn farthest_points(points: &[[f32; POINT_WIDTH]], k: usize) -> Vec<usize> {
    if points.is_empty() {
        return Vec::new();
    }
    let pos = |i: usize| Vector3::new(points[i][0], points[i][1], points[i][2]);
    let mut chosen = vec![0];
    let mut nearest: Vec<f32> = (0..points.len()).map(|i| (pos(i) - pos(0)).norm_squared()).collect();
    while chosen.len() < k.min(points.len()) {
        let next = (0..points.len()).max_by(|&a, &b| nearest[a].total_cmp(&nearest[b])).unwrap_or(0);
        chosen.push(next);
        let p = pos(next);
        nearest.iter_mut().enumerate().for_each(|(i, d)| *d = d.min((pos(i) - p).norm_squared()));
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_lie_on_the_surface_and_queries_spread() {
        // A unit square in the XY plane, two triangles.
        let mesh = Mesh {
            positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]],
            triangles: vec![[0, 1, 2], [0, 2, 3]],
            ..Default::default()
        };
        let frame = Frame::of_points(&mesh.positions);
        let s = surface_samples(&mesh, &frame, 500, 1);
        assert_eq!(s, surface_samples(&mesh, &frame, 500, 1), "deterministic");
        assert!(s.iter().all(|p| p[0].abs() <= 1.0 && p[1].abs() <= 1.0 && p[2] == 0.0 && p[5].abs() == 1.0));
        let left = s.iter().filter(|p| p[0] < 0.0).count();
        assert!((200..300).contains(&left), "area-weighted: {left} of 500 on the left half");
        let q = farthest_points(&s, 4);
        let spread = q.iter().flat_map(|&a| q.iter().map(move |&b| (a, b))).filter(|(a, b)| a < b);
        assert!(spread.clone().all(|(a, b)| (s[a][0] - s[b][0]).hypot(s[a][1] - s[b][1]) > 1.0), "corners apart");
    }
}
