//! Sparse per-vertex skin weights with any number of influences per vertex.

use crate::error::RigError;

/// Skin weights in compressed rows: vertex `v` has influences `offsets[v]..offsets[v + 1]`
/// of `joints` and `weights`.
#[derive(Debug, Clone, PartialEq)]
pub struct SkinWeights {
    offsets: Vec<u32>,
    joints: Vec<u32>,
    weights: Vec<f32>,
}

impl Default for SkinWeights {
    fn default() -> Self {
        Self { offsets: vec![0], joints: Vec::new(), weights: Vec::new() }
    }
}

/// Counts from [`SkinWeights::normalize`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NormalizeReport {
    /// Vertices whose weights summed to something further than `tolerance` from 1.
    pub renormalized: usize,
    /// Largest |sum - 1| seen among vertices that have weights.
    pub max_error: f32,
    /// Vertices with no influence at all.
    pub unweighted: usize,
}

impl SkinWeights {
    /// Builds rows from per-vertex `(joint, weight)` lists. Zero weights are dropped and
    /// repeated joints in one row are merged.
    pub fn from_rows<I, R>(rows: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: IntoIterator<Item = (u32, f32)>,
    {
        let mut out = SkinWeights::default();
        let mut row: Vec<(u32, f32)> = Vec::new();
        for r in rows {
            row.clear();
            for (j, w) in r {
                if w == 0.0 {
                    continue;
                }
                match row.iter_mut().find(|(k, _)| *k == j) {
                    Some(entry) => entry.1 += w,
                    None => row.push((j, w)),
                }
            }
            out.push_row(&row);
        }
        out
    }

    /// `count` vertices with no influences.
    pub fn empty(count: usize) -> Self {
        Self { offsets: vec![0; count + 1], joints: Vec::new(), weights: Vec::new() }
    }

    fn push_row(&mut self, row: &[(u32, f32)]) {
        for &(j, w) in row {
            self.joints.push(j);
            self.weights.push(w);
        }
        self.offsets.push(self.joints.len() as u32);
    }

    pub fn vertex_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The influences of one vertex as `(joints, weights)`.
    pub fn row(&self, vertex: usize) -> (&[u32], &[f32]) {
        let r = self.offsets[vertex] as usize..self.offsets[vertex + 1] as usize;
        (&self.joints[r.clone()], &self.weights[r])
    }

    /// The influences of one vertex as owned `(joint, weight)` pairs.
    pub fn row_pairs(&self, vertex: usize) -> Vec<(u32, f32)> {
        let (j, w) = self.row(vertex);
        j.iter().copied().zip(w.iter().copied()).collect()
    }

    /// How many vertices each of `joint_count` joints influences.
    pub fn vertices_per_joint(&self, joint_count: usize) -> Vec<usize> {
        let mut counts = vec![0; joint_count];
        self.joints.iter().for_each(|&j| counts[j as usize] += 1);
        counts
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u32], &[f32])> + '_ {
        (0..self.vertex_count()).map(|v| self.row(v))
    }

    /// Largest number of influences on any vertex.
    pub fn max_influences(&self) -> usize {
        self.offsets.windows(2).map(|w| (w[1] - w[0]) as usize).max().unwrap_or(0)
    }

    /// Histogram: `result[k]` vertices have exactly `k` influences.
    pub fn influence_histogram(&self) -> Vec<usize> {
        let mut h = vec![0; self.max_influences() + 1];
        for w in self.offsets.windows(2) {
            h[(w[1] - w[0]) as usize] += 1;
        }
        h
    }

    /// Sum of weights per vertex.
    pub fn sums(&self) -> Vec<f32> {
        self.iter().map(|(_, w)| w.iter().sum()).collect()
    }

    /// Dense weight of `joint` on `vertex` (0 when absent).
    pub fn weight(&self, vertex: usize, joint: u32) -> f32 {
        let (j, w) = self.row(vertex);
        j.iter().zip(w).filter(|(k, _)| **k == joint).map(|(_, w)| *w).sum()
    }

    /// Scales each row to sum to one. Rows summing to zero stay empty.
    pub fn normalize(&mut self, tolerance: f32) -> NormalizeReport {
        let mut report = NormalizeReport::default();
        for v in 0..self.vertex_count() {
            let r = self.offsets[v] as usize..self.offsets[v + 1] as usize;
            let sum: f32 = self.weights[r.clone()].iter().sum();
            if r.is_empty() || sum <= 0.0 {
                report.unweighted += 1;
                continue;
            }
            let err = (sum - 1.0).abs();
            report.max_error = report.max_error.max(err);
            if err > tolerance {
                report.renormalized += 1;
            }
            self.weights[r].iter_mut().for_each(|w| *w /= sum);
        }
        report
    }

    /// Rewrites joint indices through `map` (`map[old] = new`).
    pub fn remap_joints(&mut self, map: &[u32]) {
        self.joints.iter_mut().for_each(|j| *j = map[*j as usize]);
    }

    /// Appends another set of rows (for merging meshes).
    pub fn append(&mut self, other: &SkinWeights) {
        let base = self.joints.len() as u32;
        self.joints.extend_from_slice(&other.joints);
        self.weights.extend_from_slice(&other.weights);
        self.offsets.extend(other.offsets[1..].iter().map(|o| o + base));
    }

    /// Checks row count, joint indices and weight values.
    pub fn validate(&self, vertex_count: usize, joint_count: usize) -> Result<(), RigError> {
        if self.vertex_count() != vertex_count {
            return Err(RigError::WeightCountMismatch { weights: self.vertex_count(), vertices: vertex_count });
        }
        for v in 0..self.vertex_count() {
            let (j, w) = self.row(v);
            if let Some(&joint) = j.iter().find(|&&j| j as usize >= joint_count) {
                return Err(RigError::JointIndexOutOfRange { vertex: v, joint, joint_count });
            }
            if let Some(&weight) = w.iter().find(|w| !w.is_finite() || **w < 0.0) {
                return Err(RigError::BadWeight { vertex: v, weight });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_reports_and_fixes_sums() {
        let mut w = SkinWeights::from_rows(vec![vec![(0, 0.5), (1, 0.75)], vec![(2, 1.0)], vec![]]);
        let r = w.normalize(1e-3);
        assert_eq!(r.renormalized, 1);
        assert_eq!(r.unweighted, 1);
        assert!((r.max_error - 0.25).abs() < 1e-6);
        assert!((w.weight(0, 1) - 0.6).abs() < 1e-6);
        assert_eq!(w.sums()[2], 0.0);
    }

    #[test]
    fn duplicate_joints_merge_and_zeros_drop() {
        let w = SkinWeights::from_rows(vec![vec![(3, 0.25), (3, 0.25), (1, 0.0), (2, 0.5)]]);
        assert_eq!(w.row(0).0, &[3, 2]);
        assert_eq!(w.weight(0, 3), 0.5);
        assert_eq!(w.influence_histogram(), vec![0, 0, 1]);
    }

    #[test]
    fn validate_catches_out_of_range_joint() {
        let w = SkinWeights::from_rows(vec![vec![(5, 1.0)]]);
        assert!(matches!(w.validate(1, 3), Err(RigError::JointIndexOutOfRange { joint: 5, .. })));
        assert!(w.validate(1, 6).is_ok());
    }
}
