//! Per-vertex weights for fixed bone transforms: non-negative least squares over a vertex's
//! candidate bones, summing to one, at most `k` of them.
//!
//! The normal equations of vertex `p` need, for every pair of bones `r, s`, the sum over frames
//! of `(R_r p + t_r) . (R_s p + t_s)`; that is `p' M_rs p + p . (a_rs + a_sr) + c_rs` with
//! `M_rs = sum R_r' R_s`, `a_rs = sum R_r' t_s` and `c_rs = sum t_r . t_s`, summed once per
//! pair of bones instead of once per vertex.

use nalgebra::{DMatrix, DVector, Matrix3, Vector3};
use rayon::prelude::*;

use super::nnls::nnls;
use super::ssdr::{BoneTransform, Problem, Rows};

type V3 = Vector3<f64>;

/// Per pair of bones, the frame sums above (`r * bones + s`).
struct PairSums {
    bones: usize,
    m: Vec<Matrix3<f64>>,
    a: Vec<V3>,
    c: Vec<f64>,
}

impl PairSums {
    fn new(transforms: &[Vec<BoneTransform>]) -> PairSums {
        let bones = transforms.first().map_or(0, Vec::len);
        let mut sums =
            PairSums { bones, m: vec![Matrix3::zeros(); bones * bones], a: vec![V3::zeros(); bones * bones], c: vec![0.0; bones * bones] };
        for frame in transforms {
            for r in 0..bones {
                let rt = frame[r].rotation.transpose();
                for s in 0..bones {
                    let k = r * bones + s;
                    sums.m[k] += rt * frame[s].rotation;
                    sums.a[k] += rt * frame[s].translation;
                    sums.c[k] += frame[r].translation.dot(&frame[s].translation);
                }
            }
        }
        sums
    }

    /// Sum over frames of `(T_r p) . (T_s p)`.
    fn gram(&self, p: &V3, r: usize, s: usize) -> f64 {
        let (rs, sr) = (r * self.bones + s, s * self.bones + r);
        p.dot(&(self.m[rs] * p)) + p.dot(&(self.a[rs] + self.a[sr])) + self.c[rs]
    }
}

/// Each vertex's weights: non-negative least squares over its candidate bones, summing to
/// one, at most `k`. With `scan`, the candidates are the `2k` bones that alone explain the
/// vertex best and its current ones; without, its current bones and its neighbours' (all
/// bones for a vertex without neighbours).
/// `smoothness` weighs the pull toward the neighbours' weights, relative to frames x
/// diagonal^2 (at 1e-6 a weight differing by 0.1 from each of six neighbours costs what a
/// residual of 0.02 % of the diagonal in every frame costs).
pub(super) fn fit_weights(p: &Problem, transforms: &[Vec<BoneTransform>], current: &Rows, k: usize, scan: bool, smoothness: f64) -> Rows {
    let sums = PairSums::new(transforms);
    let bones = sums.bones;
    let lambda = smoothness * transforms.len() as f64 * p.diagonal * p.diagonal;
    (0..p.rest.len())
        .into_par_iter()
        .map(|i| {
            let rest = &p.rest[i];
            let local = !scan && !p.neighbours[i].is_empty();
            let mut candidates: Vec<usize> = if local {
                let near = p.neighbours[i].iter().flat_map(|&j| current[j].iter().map(|e| e.0));
                current[i].iter().map(|e| e.0).chain(near).collect()
            } else {
                (0..bones).collect()
            };
            candidates.sort_unstable();
            candidates.dedup();
            // h[c] = sum over frames of (T_c p) . target, for each candidate.
            let mut h = vec![0.0; candidates.len()];
            let mut target_sq = 0.0;
            for (frame, t) in p.frames.iter().zip(transforms) {
                let q = frame[i];
                target_sq += q.norm_squared();
                for (hc, &b) in h.iter_mut().zip(&candidates) {
                    *hc += t[b].apply(rest).dot(&q);
                }
            }
            if !local {
                let errors: Vec<f64> = (0..bones).map(|b| sums.gram(rest, b, b) - 2.0 * h[b] + target_sq).collect();
                let mut order: Vec<usize> = (0..bones).collect();
                order.sort_by(|&a, &b| errors[a].total_cmp(&errors[b]));
                order.truncate(2 * k);
                let extra: Vec<usize> = current[i].iter().map(|e| e.0).filter(|b| !order.contains(b)).collect();
                order.extend(extra);
                h = order.iter().map(|&b| h[b]).collect();
                candidates = order;
            }
            let smooth = Smooth { lambda, degree: p.neighbours[i].len() as f64, neighbours: &p.neighbours[i], current };
            let w = solve(&sums, rest, &h, &candidates, &smooth);
            let mut row: Vec<(usize, f64)> = candidates.iter().copied().zip(w.iter().copied()).filter(|e| e.1 > 1e-6).collect();
            row.sort_by(|a, b| b.1.total_cmp(&a.1));
            if row.len() > k {
                let kept: Vec<usize> = row.iter().take(k).map(|e| candidates.iter().position(|&c| c == e.0).unwrap_or(0)).collect();
                let kept_bones: Vec<usize> = kept.iter().map(|&c| candidates[c]).collect();
                let kept_h: Vec<f64> = kept.iter().map(|&c| h[c]).collect();
                let w = solve(&sums, rest, &kept_h, &kept_bones, &smooth);
                row = kept_bones.into_iter().zip(w.iter().copied()).filter(|e| e.1 > 1e-6).collect();
                row.sort_by(|a, b| b.1.total_cmp(&a.1));
            }
            let sum: f64 = row.iter().map(|e| e.1).sum();
            if sum <= 0.0 {
                let fallback = current[i].first().map_or(candidates[0], |e| e.0);
                return vec![(fallback, 1.0)];
            }
            row.iter().map(|&(b, w)| (b, w / sum)).collect()
        })
        .collect()
}

/// The neighbours' current weights that pull a vertex's weights toward theirs.
struct Smooth<'a> {
    lambda: f64,
    degree: f64,
    neighbours: &'a [usize],
    current: &'a Rows,
}

impl Smooth<'_> {
    /// Sum over the neighbours of their weight on bone `b`.
    fn neighbour_sum(&self, b: usize) -> f64 {
        self.neighbours.iter().map(|&j| self.current[j].iter().find(|e| e.0 == b).map_or(0.0, |e| e.1)).sum()
    }
}

/// Non-negative weights over `bones` for the vertex at `rest`, with a stiff penalty holding
/// their sum at one.
fn solve(sums: &PairSums, rest: &V3, h: &[f64], bones: &[usize], smooth: &Smooth) -> DVector<f64> {
    let c = bones.len();
    let mut g: DMatrix<f64> = DMatrix::zeros(c, c);
    for r in 0..c {
        for s in r..c {
            let x = sums.gram(rest, bones[r], bones[s]);
            g[(r, s)] = x;
            g[(s, r)] = x;
        }
    }
    let mut h = DVector::from_column_slice(h);
    // Smoothness: lambda * sum over neighbours |w - w_neighbour|^2.
    if smooth.lambda > 0.0 {
        for (r, &b) in bones.iter().enumerate() {
            g[(r, r)] += smooth.lambda * smooth.degree;
            h[r] += smooth.lambda * smooth.neighbour_sum(b);
        }
    }
    let stiffness = 1e3 * g.diagonal().amax().max(1e-12);
    g.add_scalar_mut(stiffness);
    h.add_scalar_mut(stiffness);
    nnls(&g, &h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Rotation3;

    #[test]
    fn the_frame_sums_give_the_gram_a_frame_by_frame_sum_gives() {
        let frames: Vec<Vec<BoneTransform>> = (0..7)
            .map(|t| {
                (0..3)
                    .map(|b| BoneTransform {
                        rotation: Rotation3::from_euler_angles(0.3 * t as f64, 0.1 * b as f64, -0.2 * (t * b) as f64).into_inner(),
                        translation: V3::new(t as f64, b as f64 * 0.5, -0.25 * t as f64),
                    })
                    .collect()
            })
            .collect();
        let sums = PairSums::new(&frames);
        let p = V3::new(0.4, -1.2, 2.0);
        for r in 0..3 {
            for s in 0..3 {
                let naive: f64 = frames.iter().map(|f| f[r].apply(&p).dot(&f[s].apply(&p))).sum();
                assert!((sums.gram(&p, r, s) - naive).abs() < 1e-9 * naive.abs().max(1.0), "{r} {s}");
            }
        }
    }
}
