//! Small non-negative least squares on normal equations: minimise `w'Gw/2 - h'w` subject to
//! `w >= 0`, for the handful of candidate bones of one vertex.

use nalgebra::{DMatrix, DVector};

/// Lawson and Hanson's active-set method on the normal equations `G` (symmetric positive
/// semi-definite) and `h`. Returns the minimiser; exact up to round-off after at most a few
/// passes per variable. Works on flat buffers (it runs once or twice per vertex and iteration).
pub fn nnls(g: &DMatrix<f64>, h: &DVector<f64>) -> DVector<f64> {
    let n = h.len();
    let mut work = Work::new(n);
    let mut w = vec![0.0; n];
    let mut passive = vec![false; n];
    let h_max = h.amax();
    for _ in 0..3 * n + 3 {
        let gradient = |k: usize, w: &[f64]| h[k] - (0..n).map(|j| g[(k, j)] * w[j]).sum::<f64>();
        let entering = (0..n)
            .filter(|&k| !passive[k])
            .map(|k| (k, gradient(k, &w)))
            .filter(|&(_, d)| d > 1e-12 * (1.0 + h_max))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let Some((k, _)) = entering else { break };
        passive[k] = true;
        loop {
            let z = work.solve_passive(g, h, &passive);
            if (0..n).all(|k| !passive[k] || z[k] > 0.0) {
                w.copy_from_slice(z);
                break;
            }
            // Step back toward the last feasible point until a variable reaches zero.
            let alpha = (0..n).filter(|&k| passive[k] && z[k] <= 0.0).map(|k| w[k] / (w[k] - z[k])).fold(f64::INFINITY, f64::min);
            for k in 0..n {
                w[k] += (z[k] - w[k]) * alpha;
            }
            for k in 0..n {
                if passive[k] && w[k] <= 1e-14 {
                    passive[k] = false;
                    w[k] = 0.0;
                }
            }
        }
    }
    DVector::from_vec(w)
}

/// Buffers of the passive-set solves.
struct Work {
    idx: Vec<usize>,
    chol: Vec<f64>,
    x: Vec<f64>,
    out: Vec<f64>,
}

impl Work {
    fn new(n: usize) -> Work {
        Work { idx: Vec::with_capacity(n), chol: vec![0.0; n * n], x: vec![0.0; n], out: vec![0.0; n] }
    }

    /// The unconstrained minimiser over the passive variables (the others held at zero), by a
    /// Cholesky factorisation with a small ridge (raised until the factorisation holds).
    fn solve_passive(&mut self, g: &DMatrix<f64>, h: &DVector<f64>, passive: &[bool]) -> &[f64] {
        self.idx.clear();
        self.idx.extend((0..h.len()).filter(|&k| passive[k]));
        let m = self.idx.len();
        let diag_max = self.idx.iter().map(|&k| g[(k, k)].abs()).fold(0.0, f64::max);
        let mut ridge = 1e-12 * (1.0 + diag_max);
        self.out.iter_mut().for_each(|v| *v = 0.0);
        for _ in 0..8 {
            if self.factor(g, ridge) {
                for r in 0..m {
                    self.x[r] = h[self.idx[r]];
                }
                self.substitute(m);
                for r in 0..m {
                    self.out[self.idx[r]] = self.x[r];
                }
                return &self.out;
            }
            ridge *= 1e3;
        }
        &self.out
    }

    /// Lower Cholesky factor of the passive block plus `ridge`; false when not positive definite.
    fn factor(&mut self, g: &DMatrix<f64>, ridge: f64) -> bool {
        let m = self.idx.len();
        let l = &mut self.chol;
        for r in 0..m {
            for c in 0..=r {
                let mut v = g[(self.idx[r], self.idx[c])] + if r == c { ridge } else { 0.0 };
                for k in 0..c {
                    v -= l[r * m + k] * l[c * m + k];
                }
                if r == c {
                    if v <= 0.0 || !v.is_finite() {
                        return false;
                    }
                    l[r * m + r] = v.sqrt();
                } else {
                    l[r * m + c] = v / l[c * m + c];
                }
            }
        }
        true
    }

    /// Solves `L L' x = x` in place.
    fn substitute(&mut self, m: usize) {
        let (l, x) = (&self.chol, &mut self.x);
        for r in 0..m {
            let s: f64 = (0..r).map(|k| l[r * m + k] * x[k]).sum();
            x[r] = (x[r] - s) / l[r * m + r];
        }
        for r in (0..m).rev() {
            let s: f64 = (r + 1..m).map(|k| l[k * m + r] * x[k]).sum();
            x[r] = (x[r] - s) / l[r * m + r];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: the best of every subset's unconstrained solution that is non-negative.
    fn naive(g: &DMatrix<f64>, h: &DVector<f64>) -> DVector<f64> {
        let n = h.len();
        let cost = |w: &DVector<f64>| 0.5 * w.dot(&(g * w)) - h.dot(w);
        let mut best = DVector::zeros(n);
        for mask in 1u32..(1 << n) {
            let passive: Vec<bool> = (0..n).map(|k| mask & (1 << k) != 0).collect();
            let z = DVector::from_column_slice(Work::new(n).solve_passive(g, h, &passive));
            if z.iter().all(|&x| x >= 0.0) && cost(&z) < cost(&best) {
                best = z;
            }
        }
        best
    }

    #[test]
    fn matches_a_brute_force_search_on_random_problems() {
        let mut state = 12345u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) as f64 / (1u64 << 31) as f64) - 0.5
        };
        for n in 1..=6 {
            for _ in 0..40 {
                let a = DMatrix::from_fn(n + 3, n, |_, _| next());
                let b = DVector::from_fn(n + 3, |_, _| next());
                let (g, h) = (a.transpose() * &a, a.transpose() * b);
                let (fast, slow) = (nnls(&g, &h), naive(&g, &h));
                assert!((&fast - &slow).amax() < 1e-8, "n {n}: {fast} vs {slow}");
            }
        }
    }
}
