//! A skeleton under the free bones: a joint tree from the bones' shared vertices (a maximum
//! spanning tree rooted at the steadiest bone), joint centres where a parent and its child
//! turn about one point, and per-frame transforms re-solved as rotations about those joints
//! (Le and Deng 2014 add the same constraint to their decomposition). A child that never turns
//! about one point of its parent (a separate piece, a prop) keeps a free translation.

use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;

use super::ssdr::{blend, rmse, rotation_from_covariance, BoneTransform, Problem, Rows};
use super::weight_fit::fit_weights;

type V3 = Vector3<f64>;

/// The bones as a joint tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Hierarchy {
    /// Each bone's parent bone.
    pub parent: Vec<Option<usize>>,
    /// Each bone's joint in the rest pose: the point it turns about (the root's: the centre of
    /// its vertices).
    pub joint: Vec<V3>,
    /// True when the bone turns about its joint on the parent (no translation of its own).
    pub connected: Vec<bool>,
    /// Bones, parents first.
    pub order: Vec<usize>,
    /// How far apart parent and child put each joint over the free frames (root mean square).
    pub gap: Vec<f64>,
}

/// A joint whose parent and child put it further apart than this share of the diagonal (root
/// mean square over frames) is not a pivot (separate pieces): the child keeps a translation.
const PIVOT_TOLERANCE: f64 = 0.005;

/// Sweeps of per-bone fits per frame (parents first) per round of the hierarchical solve (one
/// did as well as four on the dev sequences, in less time).
const SWEEPS: usize = 1;

impl Hierarchy {
    /// Joint tree, joint centres and connectivity from a free-bone solution.
    pub(super) fn build(p: &Problem, weights: &Rows, transforms: &[Vec<BoneTransform>]) -> Hierarchy {
        let bones = transforms.first().map_or(0, Vec::len);
        let (mass, centre, shared, boundary) = bone_statistics(p, weights, bones);
        let root = steadiest_bone(transforms, &mass);
        let parent = spanning_tree(root, &shared, &centre);
        let order = parents_first(root, &parent);
        let mut joint = centre.clone();
        let mut connected = vec![false; bones];
        let mut gap = vec![0.0; bones];
        for &b in &order {
            let Some(q) = parent[b] else { continue };
            let guess = boundary[b * bones + q].unwrap_or_else(|| (centre[b] + centre[q]) * 0.5);
            let (x, residual) = pivot(transforms, q, b, guess);
            gap[b] = residual;
            connected[b] = residual <= PIVOT_TOLERANCE * p.diagonal;
            // No common pivot: the joint sits where the two bones' vertices meet.
            joint[b] = if connected[b] { x } else { guess };
        }
        Hierarchy { parent, joint, connected, order, gap }
    }

    /// Lets the `count` connected joints with the widest gaps translate; false when none is left.
    pub(super) fn release_widest(&mut self, count: usize) -> bool {
        let mut joints: Vec<usize> = (0..self.parent.len()).filter(|&b| self.parent[b].is_some() && self.connected[b]).collect();
        joints.sort_by(|&a, &b| self.gap[b].total_cmp(&self.gap[a]));
        joints.iter().take(count).for_each(|&b| self.connected[b] = false);
        !joints.is_empty()
    }

    /// Descendants of each bone (itself first, parents before children).
    fn subtrees(&self) -> Vec<Vec<usize>> {
        let n = self.parent.len();
        let mut out = vec![Vec::new(); n];
        for &b in &self.order {
            let mut a = Some(b);
            while let Some(x) = a {
                out[x].push(b);
                a = self.parent[x];
            }
        }
        out
    }

    /// `transforms` with every connected bone's translation set so its joint stays on its parent.
    fn constrain(&self, frame: &mut [BoneTransform]) {
        for &b in &self.order {
            if let (Some(q), true) = (self.parent[b], self.connected[b]) {
                let o = frame[q].apply(&self.joint[b]);
                frame[b].translation = o - frame[b].rotation * self.joint[b];
            }
        }
    }
}

/// Per bone: weight mass and weighted centre; per pair of bones: shared weight and the centre
/// of their shared vertices (`a * bones + b`).
#[allow(clippy::type_complexity)]
fn bone_statistics(p: &Problem, weights: &Rows, bones: usize) -> (Vec<f64>, Vec<V3>, Vec<f64>, Vec<Option<V3>>) {
    let mut mass = vec![0.0; bones];
    let mut sum = vec![V3::zeros(); bones];
    let mut shared = vec![0.0; bones * bones];
    let mut shared_sum = vec![V3::zeros(); bones * bones];
    for (i, row) in weights.iter().enumerate() {
        let m = p.multiplicity[i];
        for &(a, wa) in row {
            mass[a] += m * wa;
            sum[a] += p.rest[i] * (m * wa);
            for &(b, wb) in row {
                if a != b {
                    shared[a * bones + b] += m * wa * wb;
                    shared_sum[a * bones + b] += p.rest[i] * (m * wa * wb);
                }
            }
        }
    }
    let centre = sum.iter().zip(&mass).map(|(s, &m)| if m > 0.0 { s / m } else { V3::zeros() }).collect();
    let boundary = shared_sum.iter().zip(&shared).map(|(s, &m)| (m > 1e-9).then(|| s / m)).collect();
    (mass, centre, shared, boundary)
}

/// Among the heavier half of the bones, the one whose rotation changes least over the frames.
fn steadiest_bone(transforms: &[Vec<BoneTransform>], mass: &[f64]) -> usize {
    let mut sorted = mass.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let cut = sorted.get(sorted.len().saturating_sub(1) / 2).copied().unwrap_or(0.0);
    let frames = transforms.len().max(1) as f64;
    let spread = |b: usize| {
        let mean: Matrix3<f64> = transforms.iter().map(|t| t[b].rotation).sum::<Matrix3<f64>>() / frames;
        transforms.iter().map(|t| (t[b].rotation - mean).norm_squared()).sum::<f64>()
    };
    (0..mass.len()).filter(|&b| mass[b] >= cut && mass[b] > 0.0).min_by(|&a, &b| spread(a).total_cmp(&spread(b))).unwrap_or(0)
}

/// Prim's maximum spanning tree over shared weight from `root`; bones sharing no vertex are
/// joined by the distance between their centres (after every sharing pair).
fn spanning_tree(root: usize, shared: &[f64], centre: &[V3]) -> Vec<Option<usize>> {
    let n = centre.len();
    let score = |a: usize, b: usize| {
        let s = shared[a * n + b] + shared[b * n + a];
        if s > 0.0 {
            s
        } else {
            -(centre[a] - centre[b]).norm() - 1.0
        }
    };
    let mut parent = vec![None; n];
    let mut inside = vec![false; n];
    inside[root] = true;
    let mut best: Vec<(f64, usize)> = (0..n).map(|b| (score(root, b), root)).collect();
    for _ in 1..n {
        let Some(next) = (0..n).filter(|&b| !inside[b]).max_by(|&a, &b| best[a].0.total_cmp(&best[b].0)) else { break };
        inside[next] = true;
        parent[next] = Some(best[next].1);
        for b in 0..n {
            if !inside[b] && score(next, b) > best[b].0 {
                best[b] = (score(next, b), next);
            }
        }
    }
    parent
}

fn parents_first(root: usize, parent: &[Option<usize>]) -> Vec<usize> {
    let mut order = vec![root];
    let mut k = 0;
    while k < order.len() {
        let b = order[k];
        order.extend((0..parent.len()).filter(|&c| parent[c] == Some(b)));
        k += 1;
    }
    order
}

/// The rest-pose point that parent `q` and child `b` move together best over all frames (least
/// squares, held near `guess` along directions the motion leaves open), and the root mean
/// square distance between where the two bones put it.
fn pivot(transforms: &[Vec<BoneTransform>], q: usize, b: usize, guess: V3) -> (V3, f64) {
    let mut a = Matrix3::zeros();
    let mut rhs = V3::zeros();
    for t in transforms {
        let d = t[q].rotation - t[b].rotation;
        a += d.transpose() * d;
        rhs += d.transpose() * (t[b].translation - t[q].translation);
    }
    // Least squares on the directions the motion pins down; the guess along the others (an
    // axis the pair always turns about, or no turn at all).
    let eigen = a.symmetric_eigen();
    let largest = eigen.eigenvalues.amax();
    let mut x = guess;
    for k in 0..3 {
        let (value, axis) = (eigen.eigenvalues[k], eigen.eigenvectors.column(k));
        if value > 1e-4 * largest && value > 1e-12 {
            x += axis * ((axis.dot(&rhs) - value * axis.dot(&guess)) / value);
        }
    }
    let gap: f64 = transforms.iter().map(|t| (t[q].apply(&x) - t[b].apply(&x)).norm_squared()).sum();
    (x, (gap / transforms.len().max(1) as f64).sqrt())
}

/// Alternates weights and hierarchical transforms from the free solution: returns the
/// transforms (as world transforms of each bone, obeying the joints) and weights, and the error
/// after each round in % of the diagonal.
pub(super) fn solve(
    p: &Problem,
    h: &Hierarchy,
    weights: &Rows,
    free: &[Vec<BoneTransform>],
    k: usize,
    smoothness: f64,
    rounds: usize,
) -> (Rows, Vec<Vec<BoneTransform>>, Vec<f64>) {
    let mut weights = weights.clone();
    let mut transforms: Vec<Vec<BoneTransform>> = free.to_vec();
    transforms.iter_mut().for_each(|f| h.constrain(f));
    transforms = fit(p, h, &weights, &transforms);
    let mut history = vec![100.0 * rmse(p, &weights, &transforms) / p.diagonal];
    for _ in 0..rounds {
        let w = fit_weights(p, &transforms, &weights, k, false, smoothness);
        let t = fit(p, h, &w, &transforms);
        let e = 100.0 * rmse(p, &w, &t) / p.diagonal;
        let last = *history.last().unwrap_or(&f64::MAX);
        if e >= last {
            break;
        }
        (weights, transforms) = (w, t);
        history.push(e);
        if last - e <= 1e-3 * last {
            break;
        }
    }
    (weights, transforms, history)
}

/// Per frame, sweeps over the bones parents first: a root or unconnected bone gets a weighted
/// Procrustes fit, a connected one the rotation about its joint that fits best; its
/// descendants' joints follow.
fn fit(p: &Problem, h: &Hierarchy, weights: &Rows, start: &[Vec<BoneTransform>]) -> Vec<Vec<BoneTransform>> {
    let bones = h.parent.len();
    let mut members: Vec<Vec<(usize, f64)>> = vec![Vec::new(); bones];
    for (i, row) in weights.iter().enumerate() {
        for &(b, w) in row {
            members[b].push((i, w));
        }
    }
    let subtrees = h.subtrees();
    (0..p.frames.len())
        .into_par_iter()
        .map(|t| {
            let target = &p.frames[t];
            let mut current = start[t].clone();
            let mut recon: Vec<V3> = weights.iter().enumerate().map(|(i, row)| blend(&current, row, &p.rest[i])).collect();
            for _ in 0..SWEEPS {
                for &b in &h.order {
                    if members[b].is_empty() && subtrees[b].len() == 1 {
                        continue;
                    }
                    let old: Vec<BoneTransform> = subtrees[b].iter().map(|&d| current[d]).collect();
                    let pivot = h.parent[b].filter(|_| h.connected[b]).map(|q| (h.joint[b], current[q].apply(&h.joint[b])));
                    if !members[b].is_empty() {
                        current[b] = fit_bone(&p.rest, target, &recon, &members[b], &current[b], pivot);
                    }
                    for &d in &subtrees[b][1..] {
                        if let (Some(q), true) = (h.parent[d], h.connected[d]) {
                            let o = current[q].apply(&h.joint[d]);
                            current[d].translation = o - current[d].rotation * h.joint[d];
                        }
                    }
                    for (&d, before) in subtrees[b].iter().zip(&old) {
                        for &(i, w) in &members[d] {
                            recon[i] += (current[d].apply(&p.rest[i]) - before.apply(&p.rest[i])) * w;
                        }
                    }
                }
            }
            current
        })
        .collect()
}

/// One bone's transform against what the other bones leave unexplained: free (weighted
/// Procrustes) or, with a pivot `(joint, where it must go)`, the rotation about the joint.
fn fit_bone(
    rest: &[V3],
    target: &[V3],
    recon: &[V3],
    list: &[(usize, f64)],
    old: &BoneTransform,
    pivot: Option<(V3, V3)>,
) -> BoneTransform {
    let q = |i: usize, w: f64| target[i] - recon[i] + old.apply(&rest[i]) * w;
    let w2: f64 = list.iter().map(|&(_, w)| w * w).sum();
    let (p_bar, q_bar) = match pivot {
        Some((joint, image)) => (joint, image),
        None => (list.iter().map(|&(i, w)| rest[i] * (w * w)).sum::<V3>() / w2, list.iter().map(|&(i, w)| q(i, w) * w).sum::<V3>() / w2),
    };
    let h: Matrix3<f64> = list.iter().map(|&(i, w)| ((rest[i] - p_bar) * w) * (q(i, w) - q_bar * w).transpose()).sum();
    let rotation = rotation_from_covariance(&h);
    BoneTransform { rotation, translation: q_bar - rotation * p_bar }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pivot_of_two_bones_turning_about_one_point_is_found() {
        use nalgebra::{Rotation3, Unit};
        let joint = V3::new(0.3, 1.0, -0.2);
        let frames: Vec<Vec<BoneTransform>> = (0..6)
            .map(|f| {
                let parent = BoneTransform {
                    rotation: Rotation3::from_euler_angles(0.1 * f as f64, 0.0, 0.05).into_inner(),
                    translation: V3::new(f as f64, 0.0, 0.0),
                };
                let axis = Unit::new_normalize(V3::new(0.2, 0.5, 1.0 + f as f64 * 0.1));
                let local = Rotation3::from_axis_angle(&axis, 0.4 * f as f64).into_inner();
                let rotation = parent.rotation * local;
                let child = BoneTransform { rotation, translation: parent.apply(&joint) - rotation * joint };
                vec![parent, child]
            })
            .collect();
        let (x, residual) = pivot(&frames, 0, 1, V3::zeros());
        assert!((x - joint).norm() < 1e-3, "{x:?}");
        assert!(residual < 1e-3, "{residual}");
    }
}
