//! Smooth skinning decomposition with rigid bones (Le and Deng 2012): from a mesh sequence,
//! bones with one rigid transform per frame and per-vertex weights (non-negative, summing to
//! one, at most K per vertex) whose linear blend skinning reproduces every frame.
//!
//! Bones start as clusters of vertices that move together (k-means on trajectories). Then
//! per-frame bone transforms (a weighted Procrustes fit per bone against what the other bones
//! leave unexplained) and per-vertex weights (non-negative least squares over the bones that
//! explain the vertex best) alternate until the error stops improving.

use nalgebra::{Matrix3, Vector3};
use rayon::prelude::*;
use thiserror::Error;

use super::weight_fit::fit_weights;
use super::{weld, MeshSequence, SequenceError};
use crate::task::{Cancelled, Task};

type V3 = Vector3<f64>;

/// A bone's rigid transform at one frame: rest-pose point `p` goes to `rotation * p + translation`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoneTransform {
    pub rotation: Matrix3<f64>,
    pub translation: V3,
}

impl BoneTransform {
    pub const IDENTITY: BoneTransform =
        BoneTransform { rotation: Matrix3::new(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0), translation: Vector3::new(0.0, 0.0, 0.0) };

    pub fn apply(&self, p: &V3) -> V3 {
        self.rotation * p + self.translation
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SsdrOptions {
    pub bones: usize,
    /// At most this many bones per vertex.
    pub max_influences: usize,
    /// Most alternations of transform and weight updates.
    pub iterations: usize,
    /// Picks the first cluster seed; the rest follow from it.
    pub seed: u64,
    /// Pull of each vertex's weights toward its neighbours' (0: none; 1e-6 smooths a little at
    /// some cost in error, see docs/motion.md).
    pub smoothness: f64,
}

impl Default for SsdrOptions {
    fn default() -> Self {
        SsdrOptions { bones: 20, max_influences: 4, iterations: 30, seed: 0, smoothness: 0.0 }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SsdrResult {
    /// Per input vertex: (bone, weight) pairs, largest first, summing to one.
    pub weights: Vec<Vec<(u32, f32)>>,
    /// `transforms[t][b]`: bone `b` at frame `t`.
    pub transforms: Vec<Vec<BoneTransform>>,
    /// Root mean square vertex error over all frames, in % of the first frame's diagonal.
    pub rmse_percent: f64,
    /// The error after each iteration, in % of the diagonal.
    pub history: Vec<f64>,
}

#[derive(Debug, Error, PartialEq)]
pub enum SsdrError {
    #[error(transparent)]
    Sequence(#[from] SequenceError),
    #[error("cancelled")]
    Cancelled,
}

impl From<Cancelled> for SsdrError {
    fn from(_: Cancelled) -> Self {
        SsdrError::Cancelled
    }
}

/// The welded sequence the solver works on.
pub(super) struct Problem {
    pub rest: Vec<V3>,
    /// `frames[t][i]`.
    pub frames: Vec<Vec<V3>>,
    /// Input vertices per welded vertex (the error counts each input vertex).
    pub multiplicity: Vec<f64>,
    /// Each input vertex's welded vertex.
    pub map: Vec<usize>,
    /// The first frame's bounding-box diagonal.
    pub diagonal: f64,
    /// Welded vertices sharing a triangle with each welded vertex (empty without triangles).
    pub neighbours: Vec<Vec<usize>>,
}

/// Per welded vertex: (bone, weight) pairs.
pub(super) type Rows = Vec<Vec<(usize, f64)>>;

/// The solver's state at the end: welded weights and per-frame bone transforms.
pub(super) struct Solution {
    pub problem: Problem,
    pub weights: Rows,
    pub transforms: Vec<Vec<BoneTransform>>,
    pub history: Vec<f64>,
}

/// Passes of per-bone transform fits after each weight update (each fits every bone against
/// the others' latest transforms). More passes per update cost more than they gain: on the
/// Dem Bones sample sequence one pass reached the same error in fewer iterations than five.
const TRANSFORM_SWEEPS: usize = 1;

/// Every this many iterations (and in the first three) each vertex's candidate bones are
/// all bones ranked by how well each alone explains it; in between, the bones of the vertex
/// and of its neighbours on the surface.
const FULL_SCAN_EVERY: usize = 5;

/// Frames whose positions make the trajectories the first clusters are drawn from.
const KMEANS_FRAMES: usize = 24;

/// Weight of the rest position (in diagonals) beside a learned embedding (unit length).
const EMBEDDING_PLACE: f64 = 0.5;

/// How far past the least-squares weights each weight update goes (1 = plain alternation).
const RELAXATION: f64 = 1.8;

/// Decomposes `seq` into bones, weights and per-frame transforms.
pub fn decompose(seq: &MeshSequence, options: &SsdrOptions, task: &Task) -> Result<SsdrResult, SsdrError> {
    let solution = solve(seq, options, None, task)?;
    let rmse_percent = solution.rmse_percent();
    let weights = solution.input_weights();
    Ok(SsdrResult { weights, transforms: solution.transforms, rmse_percent, history: solution.history })
}

impl Solution {
    /// Root mean square error over all input vertices and frames, in % of the diagonal.
    pub fn rmse_percent(&self) -> f64 {
        100.0 * rmse(&self.problem, &self.weights, &self.transforms) / self.problem.diagonal
    }

    /// The weights per input vertex, largest first.
    pub fn input_weights(&self) -> Vec<Vec<(u32, f32)>> {
        self.problem.map.iter().map(|&w| self.weights[w].iter().map(|&(b, x)| (b as u32, x as f32)).collect()).collect()
    }
}

/// Checks the input, welds it and runs the alternation.
/// `embeddings` (one per input vertex) seed the first clusters in place of the trajectories.
pub(super) fn solve(
    seq: &MeshSequence,
    options: &SsdrOptions,
    embeddings: Option<&[Vec<f32>]>,
    task: &Task,
) -> Result<Solution, SsdrError> {
    seq.validate()?;
    if options.bones == 0 || options.max_influences == 0 {
        return Err(SequenceError::Empty.into());
    }
    let diagonal = seq.diagonal();
    let (map, welded) = weld(&seq.rest, (diagonal * 1e-6) as f32);
    if welded < options.bones {
        return Err(SequenceError::TooFewVertices { vertices: welded, bones: options.bones }.into());
    }
    let problem = welded_problem(seq, map, welded, diagonal);
    task.stage("clustering vertex trajectories", 0.0)?;
    if embeddings.is_some_and(|e| e.len() != seq.rest.len()) {
        return Err(SequenceError::VertexCount { frame: 0, found: embeddings.map_or(0, <[_]>::len), expected: seq.rest.len() }.into());
    }
    let labels = initial_clusters(&problem, options.bones, options.seed as usize, embeddings);
    let mut weights: Rows = labels.iter().map(|&b| vec![(b, 1.0)]).collect();
    let mut transforms = fit_transforms(&problem, &weights, options.bones, None);
    let mut history = Vec::new();
    for iteration in 0..options.iterations {
        let last = history.last().map_or(String::new(), |e: &f64| format!(": RMSE {e:.4} % of the diagonal"));
        task.stage(
            &format!("iteration {} of at most {}{last}", iteration + 1, options.iterations),
            iteration as f32 / options.iterations as f32,
        )?;
        let scan = iteration < 3 || iteration % FULL_SCAN_EVERY == 0;
        let fitted = fit_weights(&problem, &transforms, &weights, options.max_influences, scan, options.smoothness);
        // Over-relaxed weights once the clusters have settled (the alternation creeps along the
        // blend bands); the plain least-squares weights when that made the error grow.
        let beta = if iteration < 2 { 1.0 } else { RELAXATION };
        let relaxed = over_relax(&weights, &fitted, beta, options.max_influences);
        let step = |w: Rows| {
            let mut t = transforms.clone();
            for _ in 0..TRANSFORM_SWEEPS {
                t = fit_transforms(&problem, &w, options.bones, Some(&t));
            }
            let e = 100.0 * rmse(&problem, &w, &t) / diagonal;
            (w, t, e)
        };
        let mut next = step(relaxed);
        if history.last().is_some_and(|&last| next.2 > last) {
            next = step(fitted);
        }
        let (w, t, error) = next;
        (weights, transforms) = (w, t);
        // Only a scan over all bones can say that nothing is left to gain.
        let settled = scan && history.last().is_some_and(|&last: &f64| last - error <= 1e-4 * last);
        history.push(error);
        if settled {
            break;
        }
    }
    Ok(Solution { problem, weights, transforms, history })
}

fn welded_problem(seq: &MeshSequence, map: Vec<usize>, welded: usize, diagonal: f64) -> Problem {
    let v3 = |p: &[f32; 3]| V3::new(p[0] as f64, p[1] as f64, p[2] as f64);
    let mut first = vec![usize::MAX; welded];
    let mut multiplicity = vec![0.0; welded];
    for (i, &w) in map.iter().enumerate() {
        if first[w] == usize::MAX {
            first[w] = i;
        }
        multiplicity[w] += 1.0;
    }
    Problem {
        rest: first.iter().map(|&i| v3(&seq.rest[i])).collect(),
        frames: seq.frames.iter().map(|f| first.iter().map(|&i| v3(&f[i])).collect()).collect(),
        neighbours: neighbours(&seq.triangles, &map, welded),
        multiplicity,
        map,
        diagonal,
    }
}

fn neighbours(triangles: &[[u32; 3]], map: &[usize], welded: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); welded];
    for t in triangles {
        let w = t.map(|i| map.get(i as usize).copied().unwrap_or(usize::MAX));
        for a in 0..3 {
            for b in 0..3 {
                if a != b && w[a] < welded && w[b] < welded && w[a] != w[b] {
                    out[w[a]].push(w[b]);
                }
            }
        }
    }
    for list in &mut out {
        list.sort_unstable();
        list.dedup();
    }
    out
}

/// Clusters of vertices that move together: k-means on the stacked positions over all frames,
/// seeded by farthest points. (Moving each vertex on to the cluster whose rigid fit explains it
/// best, tried too, left slivers of blended vertices at the joints as clusters of their own:
/// on a three-bone tube it ended five times further from the truth.)
fn initial_clusters(p: &Problem, bones: usize, seed: usize, embeddings: Option<&[Vec<f32>]>) -> Vec<usize> {
    let n = p.rest.len();
    let features: Vec<Vec<f64>> = match embeddings {
        // A learned embedding per input vertex (the welded vertex takes its first vertex's),
        // with the rest position, so that far-apart parts that move alike stay apart.
        Some(e) => {
            let mut first = vec![usize::MAX; n];
            p.map.iter().enumerate().rev().for_each(|(i, &w)| first[w] = i);
            (0..n)
                .map(|w| {
                    let r = p.rest[w] / p.diagonal * EMBEDDING_PLACE;
                    e[first[w]].iter().map(|&x| x as f64).chain([r.x, r.y, r.z]).collect()
                })
                .collect()
        }
        None => {
            // Trajectories over at most KMEANS_FRAMES frames spread over the sequence.
            let step = p.frames.len().div_ceil(KMEANS_FRAMES).max(1);
            (0..n).map(|i| p.frames.iter().step_by(step).flat_map(|f| f[i].iter().copied()).collect()).collect()
        }
    };
    let dist2 = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>();
    let mut centres = vec![features[seed % n].clone()];
    let mut nearest: Vec<f64> = features.iter().map(|f| dist2(f, &centres[0])).collect();
    while centres.len() < bones {
        let far = (0..n).max_by(|&a, &b| nearest[a].total_cmp(&nearest[b])).unwrap_or(0);
        centres.push(features[far].clone());
        for i in 0..n {
            nearest[i] = nearest[i].min(dist2(&features[i], &features[far]));
        }
    }
    let mut labels = vec![0; n];
    for _ in 0..10 {
        labels = features
            .par_iter()
            .map(|f| (0..centres.len()).min_by(|&a, &b| dist2(f, &centres[a]).total_cmp(&dist2(f, &centres[b]))).unwrap_or(0))
            .collect();
        for (c, centre) in centres.iter_mut().enumerate() {
            let members: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
            if !members.is_empty() {
                *centre = (0..centre.len()).map(|k| members.iter().map(|&i| features[i][k]).sum::<f64>() / members.len() as f64).collect();
            }
        }
    }
    labels
}

/// Per frame, every bone's rigid transform fitted in turn against what the other bones leave
/// unexplained (weighted Procrustes). `previous` seeds the bones' current transforms; without
/// it every bone starts at identity.
fn fit_transforms(p: &Problem, weights: &Rows, bones: usize, previous: Option<&Vec<Vec<BoneTransform>>>) -> Vec<Vec<BoneTransform>> {
    let mut members: Vec<Vec<(usize, f64)>> = vec![Vec::new(); bones];
    for (i, row) in weights.iter().enumerate() {
        for &(b, w) in row {
            members[b].push((i, w));
        }
    }
    (0..p.frames.len())
        .into_par_iter()
        .map(|t| {
            let mut current = previous.map_or_else(|| vec![BoneTransform::IDENTITY; bones], |prev| prev[t].clone());
            let mut recon: Vec<V3> = weights.iter().enumerate().map(|(i, row)| blend(&current, row, &p.rest[i])).collect();
            for (b, list) in members.iter().enumerate() {
                if list.is_empty() {
                    continue;
                }
                let fitted = procrustes(&p.rest, &p.frames[t], &recon, list, &current[b]);
                for &(i, w) in list {
                    recon[i] += (fitted.apply(&p.rest[i]) - current[b].apply(&p.rest[i])) * w;
                }
                current[b] = fitted;
            }
            current
        })
        .collect()
}

/// The rigid transform of one bone minimising sum_i |w_i T p_i - q_i|^2, with q_i the target less
/// the other bones' share (Le and Deng's closed form).
fn procrustes(rest: &[V3], target: &[V3], recon: &[V3], list: &[(usize, f64)], old: &BoneTransform) -> BoneTransform {
    // One pass: with p_bar = sum w^2 p / W2 and q_bar = sum w q / W2, the covariance
    // sum w (p - p_bar)(q - w q_bar)' is sum w p q' - W2 p_bar q_bar'.
    let (mut w2, mut sp, mut sq, mut spq) = (0.0, V3::zeros(), V3::zeros(), Matrix3::zeros());
    for &(i, w) in list {
        let p = rest[i];
        let q = target[i] - recon[i] + old.apply(&p) * w;
        w2 += w * w;
        sp += p * (w * w);
        sq += q * w;
        spq += (p * w) * q.transpose();
    }
    let (p_bar, q_bar) = (sp / w2, sq / w2);
    let rotation = rotation_from_covariance(&(spq - p_bar * q_bar.transpose() * w2));
    BoneTransform { rotation, translation: q_bar - rotation * p_bar }
}

/// The rotation R maximising trace(R H) for H = sum p q^T (Kabsch), a proper rotation.
pub(super) fn rotation_from_covariance(h: &Matrix3<f64>) -> Matrix3<f64> {
    let svd = h.svd(true, true);
    let (Some(u), Some(v_t)) = (svd.u, svd.v_t) else { return Matrix3::identity() };
    let v = v_t.transpose();
    let d = (v * u.transpose()).determinant().signum();
    v * Matrix3::from_diagonal(&Vector3::new(1.0, 1.0, if d == 0.0 { 1.0 } else { d })) * u.transpose()
}

pub(super) fn blend(transforms: &[BoneTransform], row: &[(usize, f64)], p: &V3) -> V3 {
    row.iter().map(|&(b, w)| transforms[b].apply(p) * w).sum()
}

/// Each vertex's weights moved `beta` times the step from `old` to `new` (clipped at zero, the
/// largest `k` kept, summing to one).
fn over_relax(old: &Rows, new: &Rows, beta: f64, k: usize) -> Rows {
    let get = |r: &[(usize, f64)], b: usize| r.iter().find(|e| e.0 == b).map_or(0.0, |e| e.1);
    old.iter()
        .zip(new)
        .map(|(o, n)| {
            let mut bones: Vec<usize> = o.iter().chain(n).map(|e| e.0).collect();
            bones.sort_unstable();
            bones.dedup();
            let mut row: Vec<(usize, f64)> =
                bones.iter().map(|&b| (b, (get(o, b) + beta * (get(n, b) - get(o, b))).max(0.0))).filter(|e| e.1 > 1e-6).collect();
            row.sort_by(|a, b| b.1.total_cmp(&a.1));
            row.truncate(k);
            let sum: f64 = row.iter().map(|e| e.1).sum();
            if sum <= 0.0 {
                return n.clone();
            }
            row.iter().map(|&(b, w)| (b, w / sum)).collect()
        })
        .collect()
}

pub(super) fn rmse(p: &Problem, weights: &Rows, transforms: &[Vec<BoneTransform>]) -> f64 {
    // Per-frame sums in parallel, added in frame order: the same figure on any thread count.
    let per_frame: Vec<f64> = p
        .frames
        .par_iter()
        .zip(transforms)
        .map(|(f, t)| (0..p.rest.len()).map(|i| p.multiplicity[i] * (blend(t, &weights[i], &p.rest[i]) - f[i]).norm_squared()).sum::<f64>())
        .collect();
    let count = p.multiplicity.iter().sum::<f64>() * p.frames.len() as f64;
    (per_frame.iter().sum::<f64>() / count.max(1.0)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Rotation3;
    use tests_support::bent_tube;

    #[test]
    fn a_sequence_skinned_from_a_known_rig_is_recovered() {
        let (seq, _) = bent_tube(3, 24);
        let options = SsdrOptions { bones: 3, max_influences: 4, iterations: 30, seed: 0, ..Default::default() };
        let result = decompose(&seq, &options, &Task::silent()).expect("decomposes");
        assert!(result.rmse_percent < 0.01, "RMSE {:.5} % of the diagonal; history {:?}", result.rmse_percent, result.history);
        for row in &result.weights {
            let sum: f32 = row.iter().map(|e| e.1).sum();
            assert!((sum - 1.0).abs() < 1e-5 && row.len() <= 4 && row.iter().all(|e| e.1 >= 0.0), "{row:?}");
        }
    }

    #[test]
    fn rigid_pieces_are_found_exactly_with_one_bone_each() {
        // Three separate boxes, each moving rigidly on its own.
        let corners: Vec<V3> = (0..8).map(|c| V3::new((c & 1) as f64, ((c >> 1) & 1) as f64, ((c >> 2) & 1) as f64)).collect();
        let rest: Vec<V3> = (0..3).flat_map(|b| corners.iter().map(move |c| c + V3::new(3.0 * b as f64, 0.0, 0.0))).collect();
        let frames: Vec<Vec<[f32; 3]>> = (0..10)
            .map(|f| {
                rest.iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let b = (i / 8) as f64;
                        let r = Rotation3::from_euler_angles(0.1 * f as f64 * (b + 1.0), 0.2 * b, -0.05 * f as f64);
                        let v = r * p + V3::new(0.0, f as f64 * b, 0.0);
                        [v.x as f32, v.y as f32, v.z as f32]
                    })
                    .collect()
            })
            .collect();
        let seq = MeshSequence::from_frames(frames, (0..10).map(|t| t as f32).collect(), vec![]);
        let result =
            decompose(&seq, &SsdrOptions { bones: 3, max_influences: 2, iterations: 10, seed: 5, ..Default::default() }, &Task::silent())
                .expect("decomposes");
        assert!(result.rmse_percent < 1e-4, "RMSE {} %", result.rmse_percent);
        for piece in result.weights.chunks(8) {
            let bone = piece[0][0].0;
            assert!(piece.iter().all(|row| row.len() == 1 && row[0].0 == bone && (row[0].1 - 1.0).abs() < 1e-6), "{piece:?}");
        }
    }

    #[test]
    fn more_bones_than_vertices_is_refused() {
        let (seq, _) = bent_tube(2, 3);
        let options = SsdrOptions { bones: 10_000, ..Default::default() };
        assert!(matches!(decompose(&seq, &options, &Task::silent()), Err(SsdrError::Sequence(SequenceError::TooFewVertices { .. }))));
    }
}
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;
    use nalgebra::{Rotation3, Unit};
    /// A tube along Y (rings of 12 vertices), bent by a chain of `bones` segments whose weights
    /// blend smoothly across each joint, over `frames` poses: linear blend skinning of a known rig.
    pub fn bent_tube(bones: usize, frames: usize) -> (MeshSequence, Vec<Vec<(usize, f64)>>) {
        let rings = 8 * bones;
        let mut rest = Vec::new();
        let mut truth = Vec::new();
        for r in 0..=rings {
            let y = r as f64 / rings as f64 * bones as f64;
            for k in 0..12 {
                let a = k as f64 / 12.0 * std::f64::consts::TAU;
                rest.push(V3::new(0.3 * a.cos(), y, 0.3 * a.sin()));
                let seg = (y.floor() as usize).min(bones - 1);
                let frac = y - seg as f64;
                let mut row = vec![(seg, 1.0)];
                if frac > 0.7 && seg + 1 < bones {
                    let t = (frac - 0.7) / 0.6;
                    row = vec![(seg, 1.0 - t), (seg + 1, t)];
                } else if frac < 0.3 && seg > 0 {
                    let t = (0.3 - frac) / 0.6;
                    row = vec![(seg, 1.0 - t), (seg - 1, t)];
                }
                truth.push(row);
            }
        }
        let mut all = Vec::new();
        for f in 0..frames {
            // Each joint bends about a tilted axis by an angle that changes with the frame.
            let mut world = vec![BoneTransform::IDENTITY; bones];
            for b in 0..bones {
                let angle = 0.6 * ((f as f64 * 0.7 + b as f64 * 1.3).sin());
                let axis = Unit::new_normalize(V3::new(1.0, 0.2 * b as f64, 0.5));
                let local = Rotation3::from_axis_angle(&axis, angle).into_inner();
                let joint = V3::new(0.0, b as f64, 0.0);
                // The root also slides along X; the other joints follow it.
                let parent = if b == 0 {
                    BoneTransform { translation: V3::new(0.1 * f as f64, 0.0, 0.0), ..BoneTransform::IDENTITY }
                } else {
                    world[b - 1]
                };
                let rotation = parent.rotation * local;
                world[b] = BoneTransform { rotation, translation: parent.apply(&joint) - rotation * joint };
            }
            let posed: Vec<[f32; 3]> =
                rest.iter().zip(&truth).map(|(p, row)| blend(&world, row, p)).map(|v| [v.x as f32, v.y as f32, v.z as f32]).collect();
            all.push(posed);
        }
        let rest32: Vec<[f32; 3]> = rest.iter().map(|v| [v.x as f32, v.y as f32, v.z as f32]).collect();
        let seq = MeshSequence { rest: rest32, times: (0..frames).map(|t| t as f32 / 24.0).collect(), frames: all, triangles: vec![] };
        (seq, truth)
    }
}
