//! Non-rigid registration: the placed template's skin pulled onto the input surface by
//! closest points whose normals agree, the pulls smoothed over the template's surface (stiff
//! at first, looser each round); the other parts follow the skin, the eyeballs rigidly.

use nalgebra::Vector3;
use rayon::prelude::*;

use super::align::Similarity;
use super::nearest::TriangleGrid;
use super::template::{Class, FaceTemplate, ICT_MOUTH_SOCKET, ICT_SKIN};
use crate::task::{Cancelled, Task};

/// Smoothing passes and the farthest pull (share of the placed template's diagonal) per round.
const SCHEDULE: [(usize, f32); 10] =
    [(120, 0.08), (80, 0.06), (60, 0.05), (40, 0.04), (30, 0.03), (20, 0.025), (14, 0.02), (10, 0.02), (8, 0.015), (6, 0.015)];

/// The template's vertices registered onto the input surface (in the input's frame).
pub fn register(template: &FaceTemplate, s: &Similarity, input: &TriangleGrid, task: &Task) -> Result<Vec<Vector3<f32>>, Cancelled> {
    let n = template.positions.len();
    let mut x: Vec<Vector3<f32>> = template.positions.iter().map(|p| s.apply(p)).collect();
    let skin_tris: Vec<[u32; 3]> =
        template.triangles.iter().copied().filter(|t| t.iter().all(|&i| ICT_SKIN.contains(&(i as usize)))).collect();
    let neighbours = adjacency(ICT_SKIN.end, &skin_tris);
    let reach = s.scale * template.diagonal();
    for (round, &(passes, far)) in SCHEDULE.iter().enumerate() {
        task.stage("fitting the template", 0.5 + 0.35 * round as f32 / SCHEDULE.len() as f32)?;
        let normals = vertex_normals(&x[..ICT_SKIN.end], &skin_tris);
        let pulls: Vec<(Vector3<f32>, f32)> = (0..ICT_SKIN.end)
            .into_par_iter()
            .map(|i| {
                if ICT_MOUTH_SOCKET.contains(&i) {
                    return (Vector3::zeros(), 0.0);
                }
                let agree = |t: usize| input.normals[t].dot(&normals[i]) > 0.5;
                match input.closest_within(&x[i], far * reach, agree) {
                    Some(h) => (h.point - x[i], 1.0),
                    None => (Vector3::zeros(), 0.0),
                }
            })
            .collect();
        let moves = smooth(&pulls, &neighbours, passes);
        for (p, m) in x.iter_mut().zip(&moves) {
            *p += m;
        }
    }
    follow_skin(template, s, &mut x);
    debug_assert_eq!(x.len(), n);
    Ok(x)
}

/// Pulls spread over the surface: weighted pulls and their weights averaged with the
/// neighbours' `passes` times, then divided (vertices with no pull of their own borrow).
fn smooth(pulls: &[(Vector3<f32>, f32)], neighbours: &[Vec<u32>], passes: usize) -> Vec<Vector3<f32>> {
    let mut num: Vec<Vector3<f32>> = pulls.iter().map(|(d, w)| d * *w).collect();
    let mut den: Vec<f32> = pulls.iter().map(|(_, w)| *w).collect();
    for _ in 0..passes {
        let (n2, d2): (Vec<Vector3<f32>>, Vec<f32>) = (0..num.len())
            .into_par_iter()
            .map(|i| {
                let k = neighbours[i].len() as f32;
                let (sn, sd) = neighbours[i].iter().fold((Vector3::zeros(), 0.0), |(a, b), &j| (a + num[j as usize], b + den[j as usize]));
                if k == 0.0 {
                    (num[i], den[i])
                } else {
                    (0.5 * num[i] + 0.5 * sn / k, 0.5 * den[i] + 0.5 * sd / k)
                }
            })
            .unzip();
        num = n2;
        den = d2;
    }
    num.iter().zip(&den).map(|(n, d)| if *d > 1e-6 { n / *d } else { Vector3::zeros() }).collect()
}

/// Every non-skin vertex moves as the skin point nearest to it on the template did; each
/// eyeball moves as one piece (by its vertices' mean move).
fn follow_skin(template: &FaceTemplate, s: &Similarity, x: &mut [Vector3<f32>]) {
    let skin = TriangleGrid::new(&template.positions, &template.triangles, |t| {
        template.triangles[t].iter().all(|&i| ICT_SKIN.contains(&(i as usize)))
    });
    let moved: Vec<Vector3<f32>> = (0..ICT_SKIN.end).map(|i| x[i] - s.apply(&template.positions[i])).collect();
    let n = template.positions.len();
    let follow: Vec<Vector3<f32>> = (ICT_SKIN.end..n)
        .into_par_iter()
        .map(|i| match skin.closest(&template.positions[i], |_| true) {
            Some(h) => (0..3).map(|k| moved[template.triangles[h.triangle][k] as usize] * h.bary[k]).sum(),
            None => Vector3::zeros(),
        })
        .collect();
    for eye in [Class::EyeLeft, Class::EyeRight] {
        let idx: Vec<usize> = (ICT_SKIN.end..n).filter(|&i| template.class[i] == eye).collect();
        let mean = idx.iter().map(|&i| follow[i - ICT_SKIN.end]).sum::<Vector3<f32>>() / idx.len().max(1) as f32;
        idx.iter().for_each(|&i| x[i] = s.apply(&template.positions[i]) + mean);
    }
    for i in ICT_SKIN.end..n {
        if !matches!(template.class[i], Class::EyeLeft | Class::EyeRight) {
            x[i] = s.apply(&template.positions[i]) + follow[i - ICT_SKIN.end];
        }
    }
}

/// Each vertex's neighbours along triangle edges.
pub fn adjacency(n: usize, triangles: &[[u32; 3]]) -> Vec<Vec<u32>> {
    let mut out = vec![Vec::new(); n];
    for t in triangles {
        for k in 0..3 {
            let (a, b) = (t[k], t[(k + 1) % 3]);
            if (a as usize) < n && (b as usize) < n {
                out[a as usize].push(b);
                out[b as usize].push(a);
            }
        }
    }
    for v in &mut out {
        v.sort_unstable();
        v.dedup();
    }
    out
}

/// Area-weighted vertex normals of `triangles` over `positions`.
pub fn vertex_normals(positions: &[Vector3<f32>], triangles: &[[u32; 3]]) -> Vec<Vector3<f32>> {
    let mut out = vec![Vector3::zeros(); positions.len()];
    for t in triangles {
        let [a, b, c] = t.map(|i| positions[i as usize]);
        let n = (b - a).cross(&(c - a));
        t.iter().for_each(|&i| out[i as usize] += n);
    }
    out.iter().map(|n| n.try_normalize(1e-20).unwrap_or_else(Vector3::zeros)).collect()
}
