//! The influence limit: the one rule every skinning path (geometric binders, learned decoding,
//! procedural creatures, exporters) uses to cut a vertex's influences down.

use crate::weights::SkinWeights;

/// How many influences a vertex keeps and how small one may be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InfluenceLimit {
    /// Influences kept per vertex, at least 1.
    pub max_influences: usize,
    /// Influences under this fraction of the kept influences' total are dropped, in `[0, 1)`.
    pub min_weight: f32,
}

/// Why an [`InfluenceLimit`] was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LimitError {
    #[error("the influence limit must keep at least 1 influence per vertex (4 or 8 are usual), not {0}")]
    NoInfluences(usize),
    #[error("the minimum weight is a fraction of a vertex's total in [0, 1), not {0}")]
    MinWeight(f32),
}

impl InfluenceLimit {
    /// At most `max_influences` per vertex, none dropped for being small.
    pub fn max(max_influences: usize) -> Result<InfluenceLimit, LimitError> {
        InfluenceLimit::new(max_influences, 0.0)
    }

    /// Checks both numbers: at least one influence, a minimum weight in `[0, 1)`.
    pub fn new(max_influences: usize, min_weight: f32) -> Result<InfluenceLimit, LimitError> {
        if max_influences == 0 {
            return Err(LimitError::NoInfluences(max_influences));
        }
        if !(min_weight.is_finite() && (0.0..1.0).contains(&min_weight)) {
            return Err(LimitError::MinWeight(min_weight));
        }
        Ok(InfluenceLimit { max_influences, min_weight })
    }

    /// Limits one row of `(joint, weight)` pairs. The rule, in order:
    /// 1. pairs whose weight is not finite or not above zero are dropped;
    /// 2. the rest are sorted by weight, largest first; equal weights by joint index, lowest
    ///    first (so the result does not depend on the row's order);
    /// 3. the first `max_influences` are kept;
    /// 4. of those, pairs under `min_weight` times their total are dropped (the largest always
    ///    stays, so a weighted vertex never ends up unweighted);
    /// 5. the kept weights are scaled to sum to 1.
    ///
    /// A row with no positive finite weight comes back empty. Repeated joints are not merged
    /// here ([`SkinWeights::from_rows`] merges them).
    pub fn limit_row(&self, mut row: Vec<(u32, f32)>) -> Vec<(u32, f32)> {
        row.retain(|&(_, w)| w.is_finite() && w > 0.0);
        row.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        row.truncate(self.max_influences.max(1));
        let total: f32 = row.iter().map(|e| e.1).sum();
        if !(total.is_finite() && total > 0.0) {
            row.clear();
            return row;
        }
        let floor = self.min_weight * total;
        let mut k = 0;
        row.retain(|e| {
            k += 1;
            k == 1 || e.1 >= floor
        });
        let kept: f32 = row.iter().map(|e| e.1).sum();
        row.iter_mut().for_each(|e| e.1 /= kept);
        row
    }
}

impl SkinWeights {
    /// Every row through [`InfluenceLimit::limit_row`].
    pub fn limit(&mut self, limit: &InfluenceLimit) {
        let rows: Vec<Vec<(u32, f32)>> = (0..self.vertex_count()).map(|v| limit.limit_row(self.row_pairs(v))).collect();
        *self = SkinWeights::from_rows(rows);
    }

    /// Keeps the `max` largest influences per vertex and renormalises the kept ones
    /// ([`InfluenceLimit`] with no minimum weight).
    pub fn prune(&mut self, max: usize) {
        self.limit(&InfluenceLimit { max_influences: max.max(1), min_weight: 0.0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(max: usize, min: f32) -> InfluenceLimit {
        InfluenceLimit::new(max, min).expect("valid limit")
    }

    /// The rule written out the slow way: every pair considered on its own.
    fn naive(row: &[(u32, f32)], l: &InfluenceLimit) -> Vec<(u32, f32)> {
        let mut valid: Vec<(u32, f32)> = row.iter().copied().filter(|p| p.1.is_finite() && p.1 > 0.0).collect();
        let mut kept = Vec::new();
        while kept.len() < l.max_influences && !valid.is_empty() {
            let best =
                (0..valid.len()).max_by(|&a, &b| valid[a].1.partial_cmp(&valid[b].1).unwrap().then(valid[b].0.cmp(&valid[a].0))).unwrap();
            kept.push(valid.remove(best));
        }
        let total: f32 = kept.iter().map(|p| p.1).sum();
        let kept: Vec<(u32, f32)> =
            kept.iter().enumerate().filter(|(i, p)| *i == 0 || p.1 >= l.min_weight * total).map(|(_, p)| *p).collect();
        let sum: f32 = kept.iter().map(|p| p.1).sum();
        kept.into_iter().map(|(j, w)| (j, w / sum)).collect()
    }

    #[test]
    fn ties_go_to_the_lower_joint_whatever_the_order() {
        let l = limit(2, 0.0);
        let a = l.limit_row(vec![(7, 0.25), (3, 0.25), (5, 0.25), (1, 0.25)]);
        let b = l.limit_row(vec![(1, 0.25), (5, 0.25), (3, 0.25), (7, 0.25)]);
        assert_eq!(a, vec![(1, 0.5), (3, 0.5)]);
        assert_eq!(a, b);
    }

    #[test]
    fn nan_infinite_negative_and_zero_weights_are_dropped() {
        let l = limit(4, 0.0);
        let row = l.limit_row(vec![(0, f32::NAN), (1, 0.5), (2, -0.2), (3, f32::INFINITY), (4, 0.0), (5, 1.5)]);
        assert_eq!(row, vec![(5, 0.75), (1, 0.25)]);
        assert!(l.limit_row(vec![(0, f32::NAN), (1, 0.0)]).is_empty(), "nothing usable: unweighted, not NaN");
    }

    #[test]
    fn tiny_weights_fall_under_the_minimum_of_the_kept_total() {
        // Kept after truncation to 3: 0.6, 0.3, 0.02 (total 0.92); 0.02 < 0.05 * 0.92.
        let row = limit(3, 0.05).limit_row(vec![(0, 0.6), (1, 0.3), (2, 0.02), (3, 0.01)]);
        assert_eq!(row.iter().map(|p| p.0).collect::<Vec<_>>(), vec![0, 1]);
        assert!((row[0].1 - 2.0 / 3.0).abs() < 1e-6 && (row[1].1 - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn the_largest_influence_always_stays() {
        let row = limit(4, 0.9).limit_row(vec![(2, 0.4), (6, 0.35), (1, 0.25)]);
        assert_eq!(row, vec![(2, 1.0)]);
        assert_eq!(limit(1, 0.0).limit_row(vec![(4, 1e-30)]), vec![(4, 1.0)]);
    }

    #[test]
    fn limit_matches_the_naive_rule_on_random_rows() {
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        };
        for case in 0..2000 {
            let len = (next() % 10) as usize;
            let row: Vec<(u32, f32)> = (0..len)
                .map(|i| {
                    let w = match next() % 9 {
                        0 => f32::NAN,
                        1 => 0.0,
                        2 => 0.125, // ties
                        3 => 1e-7,
                        _ => (next() % 1000) as f32 / 1000.0,
                    };
                    (i as u32 * 3 % 11, w)
                })
                .collect();
            let l = limit(1 + case % 6, [0.0, 0.01, 0.1, 0.3][case % 4]);
            let (fast, slow) = (l.limit_row(row.clone()), naive(&row, &l));
            assert_eq!(fast.len(), slow.len(), "row {row:?}");
            for (a, b) in fast.iter().zip(&slow) {
                assert!(a.0 == b.0 && (a.1 - b.1).abs() < 1e-6, "row {row:?}: {fast:?} vs {slow:?}");
            }
            if !fast.is_empty() {
                assert!((fast.iter().map(|p| p.1).sum::<f32>() - 1.0).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn a_limit_that_keeps_nothing_or_a_bad_minimum_is_refused() {
        assert_eq!(InfluenceLimit::new(0, 0.0), Err(LimitError::NoInfluences(0)));
        assert!(InfluenceLimit::new(4, f32::NAN).is_err());
        assert!(InfluenceLimit::new(4, 1.0).is_err());
        assert!(InfluenceLimit::new(4, -0.1).is_err());
    }

    #[test]
    fn skin_weights_limit_applies_the_rule_to_every_row() {
        let mut w = SkinWeights::from_rows(vec![vec![(0, 0.1), (1, 0.4), (2, 0.3), (3, 0.2)], vec![], vec![(5, 2.0)]]);
        w.prune(2);
        assert_eq!(w.row(0).0, &[1, 2]);
        assert!((w.row(0).1[0] - 4.0 / 7.0).abs() < 1e-6);
        assert!(w.row(1).0.is_empty());
        assert_eq!(w.row_pairs(2), vec![(5, 1.0)]);
    }
}
