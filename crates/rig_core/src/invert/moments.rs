//! Second moments of a skinned mesh: everything the skeletal solver needs from the vertices,
//! gathered once per frame, so each Gauss-Newton iteration costs a sum over influence pairs
//! instead of a pass over the vertices.
//!
//! With `p_i = sum_j w_ij M_j v_i` (homogeneous `v_i`), every term of the normal equations
//! is a sum over vertices of products `w_ij w_ik v_i v_i^T` (the pair moments `Q_jk`) or
//! `w_ij t_i v_i^T` (the target moments `T_j`) sandwiched between skinning matrices.

use std::collections::HashMap;

use nalgebra::{Matrix3x4, Matrix4, Vector3, Vector4};
use rayon::prelude::*;

use crate::weights::SkinWeights;

/// `sum_i rho_i w_ij w_ik v_i v_i^T` for every pair of joints that share a vertex, both orders.
#[derive(Debug, Clone, Default)]
pub struct PairMoments {
    /// `(j, k, Q_jk)`; `Q_kj = Q_jk^T` is listed too, `Q_jj` once.
    pub pairs: Vec<(usize, usize, Matrix4<f64>)>,
}

/// `T_j = sum_i rho_i w_ij t_i v_i^T` per joint, and `sum_i rho_i |t_i|^2`.
#[derive(Debug, Clone)]
pub struct TargetMoments {
    pub per_joint: Vec<Matrix3x4<f64>>,
    pub squared: f64,
}

fn homogeneous(p: [f32; 3]) -> Vector4<f64> {
    Vector4::new(p[0] as f64, p[1] as f64, p[2] as f64, 1.0)
}

/// Vertices that follow at least one joint: the solver's vertices.
pub fn skinned_vertices(weights: &SkinWeights, count: usize) -> Vec<usize> {
    (0..count.min(weights.vertex_count())).filter(|&i| !weights.row(i).0.is_empty()).collect()
}

impl PairMoments {
    /// Moments of `positions` (the mesh the weights bind) over `vertices`, each weighted by
    /// `rho` (robust weights; `None` for all ones).
    pub fn gather(positions: &[[f32; 3]], weights: &SkinWeights, vertices: &[usize], rho: Option<&[f64]>) -> PairMoments {
        let merged = vertices
            .par_chunks(2048)
            .map(|chunk| {
                let mut map: HashMap<(usize, usize), Matrix4<f64>> = HashMap::new();
                for &i in chunk {
                    let v = homogeneous(positions[i]);
                    let outer = v * v.transpose() * rho.map_or(1.0, |r| r[i]);
                    let (joints, w) = weights.row(i);
                    for (a, (&ja, &wa)) in joints.iter().zip(w).enumerate() {
                        for (&jb, &wb) in joints[a..].iter().zip(&w[a..]) {
                            let key = (ja.min(jb) as usize, ja.max(jb) as usize);
                            *map.entry(key).or_insert_with(Matrix4::zeros) += outer * (wa as f64 * wb as f64);
                        }
                    }
                }
                map
            })
            .reduce(HashMap::new, |mut a, b| {
                for (k, m) in b {
                    *a.entry(k).or_insert_with(Matrix4::zeros) += m;
                }
                a
            });
        let mut keys: Vec<_> = merged.keys().copied().collect();
        keys.sort_unstable();
        let mut pairs = Vec::with_capacity(keys.len() * 2);
        for (j, k) in keys {
            let q = merged[&(j, k)];
            pairs.push((j, k, q));
            if j != k {
                pairs.push((k, j, q.transpose()));
            }
        }
        PairMoments { pairs }
    }
}

impl TargetMoments {
    pub fn gather(
        positions: &[[f32; 3]],
        target: &[[f32; 3]],
        weights: &SkinWeights,
        vertices: &[usize],
        joints: usize,
        rho: Option<&[f64]>,
    ) -> TargetMoments {
        let empty = || (vec![Matrix3x4::<f64>::zeros(); joints], 0.0f64);
        let (per_joint, squared) = vertices
            .par_chunks(4096)
            .map(|chunk| {
                let (mut m, mut sq) = empty();
                for &i in chunk {
                    let r = rho.map_or(1.0, |r| r[i]);
                    let t = Vector3::new(target[i][0] as f64, target[i][1] as f64, target[i][2] as f64);
                    sq += r * t.norm_squared();
                    let outer = t * homogeneous(positions[i]).transpose() * r;
                    let (js, w) = weights.row(i);
                    for (&j, &wt) in js.iter().zip(w) {
                        m[j as usize] += outer * wt as f64;
                    }
                }
                (m, sq)
            })
            .reduce(empty, |(mut a, sa), (b, sb)| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                (a, sa + sb)
            });
        TargetMoments { per_joint, squared }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_energy_from_moments_is_the_sum_over_vertices() {
        let positions = vec![[0.1, 0.2, 0.3], [1.0, -0.5, 0.2], [0.3, 0.9, -1.1]];
        let target = vec![[0.0, 0.1, 0.5], [1.2, -0.4, 0.0], [0.1, 1.0, -1.0]];
        let weights = SkinWeights::from_rows(vec![vec![(0u32, 0.7f32), (1, 0.3)], vec![(1, 1.0)], vec![(0, 0.2), (2, 0.8)]]);
        let m: Vec<Matrix3x4<f64>> =
            (0..3).map(|j| Matrix3x4::from_fn(|r, c| ((r * 4 + c + j * 7) as f64 * 0.37).sin() + if r == c { 1.0 } else { 0.0 })).collect();
        let vertices = skinned_vertices(&weights, 3);
        let q = PairMoments::gather(&positions, &weights, &vertices, None);
        let t = TargetMoments::gather(&positions, &target, &weights, &vertices, 3, None);
        let mut by_moments = t.squared;
        for (j, k, qjk) in &q.pairs {
            by_moments += (m[*j] * qjk * m[*k].transpose()).trace();
        }
        for (j, tj) in t.per_joint.iter().enumerate() {
            by_moments -= 2.0 * (m[j] * tj.transpose()).trace();
        }
        let mut direct = 0.0;
        for i in 0..3 {
            let (js, w) = weights.row(i);
            let p: Vector3<f64> = js.iter().zip(w).map(|(&j, &wt)| m[j as usize] * homogeneous(positions[i]) * wt as f64).sum();
            direct += (p - Vector3::new(target[i][0] as f64, target[i][1] as f64, target[i][2] as f64)).norm_squared();
        }
        assert!((by_moments - direct).abs() < 1e-9, "{by_moments} vs {direct}");
    }
}
