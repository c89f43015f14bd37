//! Small non-negative least squares on normal equations: minimise `w'Gw/2 - h'w` subject to
//! `w >= 0`, for the handful of candidate bones of one vertex.

use nalgebra::{DMatrix, DVector};

/// Lawson and Hanson's active-set method on the normal equations `G` (symmetric positive
/// semi-definite) and `h`. Returns the minimiser; exact up to round-off after at most a few
/// passes per variable.
pub fn nnls(g: &DMatrix<f64>, h: &DVector<f64>) -> DVector<f64> {
    let n = h.len();
    let mut w = DVector::zeros(n);
    let mut passive = vec![false; n];
    for _ in 0..3 * n + 3 {
        let gradient = h - g * &w;
        let entering =
            (0..n).filter(|&k| !passive[k] && gradient[k] > 1e-12 * (1.0 + h.amax())).max_by(|&a, &b| gradient[a].total_cmp(&gradient[b]));
        let Some(k) = entering else { break };
        passive[k] = true;
        loop {
            let z = solve_passive(g, h, &passive);
            if (0..n).all(|k| !passive[k] || z[k] > 0.0) {
                w = z;
                break;
            }
            // Step back toward the last feasible point until a variable reaches zero.
            let alpha = (0..n).filter(|&k| passive[k] && z[k] <= 0.0).map(|k| w[k] / (w[k] - z[k])).fold(f64::INFINITY, f64::min);
            w += (z - &w) * alpha;
            for k in 0..n {
                if passive[k] && w[k] <= 1e-14 {
                    passive[k] = false;
                    w[k] = 0.0;
                }
            }
        }
    }
    w
}

/// The unconstrained minimiser over the passive variables (the others held at zero).
fn solve_passive(g: &DMatrix<f64>, h: &DVector<f64>, passive: &[bool]) -> DVector<f64> {
    let idx: Vec<usize> = (0..h.len()).filter(|&k| passive[k]).collect();
    let sub = DMatrix::from_fn(idx.len(), idx.len(), |r, c| g[(idx[r], idx[c])]);
    let rhs = DVector::from_fn(idx.len(), |r, _| h[idx[r]]);
    let ridge = 1e-12 * (1.0 + sub.diagonal().amax());
    let sub = sub + DMatrix::identity(idx.len(), idx.len()) * ridge;
    let x =
        sub.clone().cholesky().map(|c| c.solve(&rhs)).unwrap_or_else(|| sub.lu().solve(&rhs).unwrap_or_else(|| DVector::zeros(idx.len())));
    let mut out = DVector::zeros(h.len());
    for (r, &k) in idx.iter().enumerate() {
        out[k] = x[r];
    }
    out
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
            let z = solve_passive(g, h, &passive);
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
