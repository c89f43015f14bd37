//! Morph-target (blendshape) controls: the weights in [0, 1] whose shapes, skinned by the
//! frame's pose, bring the mesh nearest a target (bounded least squares, optional L1 sparsity).

use nalgebra::{DMatrix, DVector, Matrix3};
use rayon::prelude::*;

use crate::Rig;

/// Every morph target of the rig as one control: its mesh group, its index in the group, and
/// its deltas over the whole mesh.
#[derive(Debug, Clone, Default)]
pub struct MorphControls {
    pub controls: Vec<(usize, usize)>,
    /// Per control: `(vertex, delta)` over every part of its group.
    pub deltas: Vec<Vec<(u32, [f32; 3])>>,
    groups: usize,
    targets_per_group: Vec<usize>,
}

impl MorphControls {
    pub fn of(rig: &Rig) -> MorphControls {
        let groups = rig.mesh.groups.len();
        let mut targets_per_group = vec![0usize; groups];
        for part in &rig.mesh.parts {
            if let Some(t) = targets_per_group.get_mut(part.group) {
                *t = (*t).max(part.morph_targets.len());
            }
        }
        let controls: Vec<(usize, usize)> = (0..groups).flat_map(|g| (0..targets_per_group[g]).map(move |t| (g, t))).collect();
        let deltas = controls
            .iter()
            .map(|&(g, t)| {
                let mut out = Vec::new();
                for part in rig.mesh.parts.iter().filter(|p| p.group == g) {
                    let Some(target) = part.morph_targets.get(t) else { continue };
                    for (k, d) in target.position_deltas.iter().enumerate() {
                        if d.iter().any(|v| *v != 0.0) {
                            out.push((part.vertices.start + k as u32, *d));
                        }
                    }
                }
                out
            })
            .collect();
        MorphControls { controls, deltas, groups, targets_per_group }
    }

    pub fn len(&self) -> usize {
        self.controls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.controls.is_empty()
    }

    /// Control values as one weight list per mesh group (what clips and posing take).
    pub fn group_weights(&self, values: &[f64]) -> Vec<Vec<f32>> {
        let mut out: Vec<Vec<f32>> = (0..self.groups).map(|g| vec![0.0; self.targets_per_group[g]]).collect();
        for (&(g, t), &v) in self.controls.iter().zip(values) {
            out[g][t] = v as f32;
        }
        out
    }

    /// Control values from per-group weights (missing ones 0).
    pub fn values(&self, group_weights: &[Vec<f32>]) -> Vec<f64> {
        self.controls.iter().map(|&(g, t)| group_weights.get(g).and_then(|w| w.get(t)).copied().unwrap_or(0.0) as f64).collect()
    }

    /// Normal equations `A^T A` and `A^T r` where column `m` of `A` is control `m`'s deltas
    /// carried by each vertex's linear map (`linear[i]`: its blended skinning matrix, or the
    /// placement of a vertex that follows no joint), and `r` the residual to explain.
    pub fn normal_equations(&self, linear: &[Matrix3<f64>], residual: &[[f64; 3]]) -> (DMatrix<f64>, DVector<f64>) {
        let n = self.len();
        let vertices = linear.len();
        // Per vertex: the controls that move it, with their carried deltas.
        let mut touching: Vec<Vec<(usize, nalgebra::Vector3<f64>)>> = vec![Vec::new(); vertices];
        for (m, deltas) in self.deltas.iter().enumerate() {
            for &(v, d) in deltas {
                let v = v as usize;
                if v < vertices {
                    touching[v].push((m, linear[v] * nalgebra::Vector3::new(d[0] as f64, d[1] as f64, d[2] as f64)));
                }
            }
        }
        let (h, g) = touching
            .par_chunks(2048)
            .enumerate()
            .map(|(c, chunk)| {
                let mut h = DMatrix::<f64>::zeros(n, n);
                let mut g = DVector::<f64>::zeros(n);
                for (k, list) in chunk.iter().enumerate() {
                    let r = residual[c * 2048 + k];
                    let r = nalgebra::Vector3::new(r[0], r[1], r[2]);
                    for (a, (ma, da)) in list.iter().enumerate() {
                        g[*ma] += da.dot(&r);
                        for (mb, db) in &list[a..] {
                            let v = da.dot(db);
                            h[(*ma, *mb)] += v;
                            if ma != mb {
                                h[(*mb, *ma)] += v;
                            }
                        }
                    }
                }
                (h, g)
            })
            .reduce(|| (DMatrix::zeros(n, n), DVector::zeros(n)), |(h1, g1), (h2, g2)| (h1 + h2, g1 + g2));
        (h, g)
    }
}

/// Minimises `|A c - b|^2 / 2 + sparsity * sum(c)` over `0 <= c <= 1`, given `h = A^T A` and
/// `g = A^T b`, by cyclic coordinate descent from `start` (exact per coordinate, so the
/// objective never rises) until no value changes by more than `1e-10`.
pub fn bounded_least_squares(h: &DMatrix<f64>, g: &DVector<f64>, sparsity: f64, start: &[f64]) -> Vec<f64> {
    let n = g.len();
    let mut c: Vec<f64> = (0..n).map(|i| start.get(i).copied().unwrap_or(0.0).clamp(0.0, 1.0)).collect();
    // h c, kept up to date as coordinates change.
    let mut hc: Vec<f64> = (0..n).map(|i| (0..n).map(|k| h[(i, k)] * c[k]).sum()).collect();
    for _ in 0..20_000 {
        let mut largest = 0.0f64;
        for m in 0..n {
            let hmm = h[(m, m)];
            if hmm <= 1e-300 {
                continue;
            }
            let others = hc[m] - hmm * c[m];
            let value = ((g[m] - sparsity - others) / hmm).clamp(0.0, 1.0);
            let change = value - c[m];
            if change != 0.0 {
                for (k, hk) in hc.iter_mut().enumerate() {
                    *hk += h[(k, m)] * change;
                }
                c[m] = value;
                largest = largest.max(change.abs());
            }
        }
        if largest <= 1e-10 {
            break;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a brute-force search over a grid on two coupled controls, one pushed past its
    /// bound.
    #[test]
    fn bounded_least_squares_finds_the_constrained_minimum() {
        let a = DMatrix::from_row_slice(4, 2, &[1.0, 0.5, 0.2, 1.0, 0.0, 0.3, 0.7, 0.1]);
        let b = DVector::from_row_slice(&[1.5, 0.2, -0.4, 1.2]);
        let (h, g) = (a.transpose() * &a, a.transpose() * &b);
        let c = bounded_least_squares(&h, &g, 0.0, &[0.5, 0.5]);
        let f = |x: f64, y: f64| (&a * DVector::from_row_slice(&[x, y]) - &b).norm_squared();
        let mut best = (f64::MAX, 0.0, 0.0);
        for i in 0..=1000 {
            for k in 0..=1000 {
                let (x, y) = (i as f64 / 1000.0, k as f64 / 1000.0);
                if f(x, y) < best.0 {
                    best = (f(x, y), x, y);
                }
            }
        }
        assert!((c[0] - best.1).abs() < 2e-3 && (c[1] - best.2).abs() < 2e-3, "{c:?} vs {best:?}");
        assert!(f(c[0], c[1]) <= best.0 + 1e-12);
    }
}
