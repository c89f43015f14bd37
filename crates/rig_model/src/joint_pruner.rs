//! The learned method's skeleton: the geometric template's joints (biped, quadruped or
//! generic), and a per-joint network that decides which of them an artist would keep. Each
//! joint is described by its template slot (its name without the side), where it sits in the
//! mesh's bounds, its bones to its parent and children, and how the surface lies around it at
//! three radii; the network gives the probability that the joint stays. It is trained on the
//! artists' rigs to minimise the expected joint-to-joint Chamfer distance between the template's
//! kept joints and the artist's, each joint kept independently with its probability (the
//! figure CD-J2J measures). The root always stays.

use std::path::Path;

use burn::module::{AutodiffModule, Module};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::activation::{gelu, sigmoid};
use burn::tensor::backend::AutodiffBackend;
use nalgebra::{UnitQuaternion, Vector3};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rig_core::autoskin::bones::bind_positions;
use rig_core::{Mesh, Skeleton};

use crate::ModelError;

const STEM: &str = "joint_pruner";
/// Radii (fractions of the mesh's longest side) at which the surface around a joint is read.
const RADII: [f32; 3] = [0.03, 0.06, 0.12];
/// Geometric numbers per joint: position (3) and its distance from the mirror plane (1), bone
/// to the parent (3), mean bone to the children (3), and per radius the offset to the centroid
/// of the vertices within it (3) and their share of the mesh (1).
pub const GEOMETRY: usize = 10 + 4 * RADII.len();
/// Slot name of template joints whose slot the model did not see often enough in training.
const OTHER: &str = "(other)";

#[derive(Config, Debug)]
pub struct JointPrunerConfig {
    /// Template slots the network tells apart (the rest share one input).
    pub slots: Vec<String>,
    /// Per-input mean and spread over the training joints (the network reads standard scores).
    pub mean: Vec<f32>,
    pub spread: Vec<f32>,
    #[config(default = 64)]
    pub width: usize,
}

impl JointPrunerConfig {
    pub fn inputs(&self) -> usize {
        self.slots.len() + 1 + GEOMETRY
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> JointPruner<B> {
        let lin = |i, o| LinearConfig::new(i, o).init(device);
        JointPruner { layers: [lin(self.inputs(), self.width), lin(self.width, self.width)], out: lin(self.width, 1) }
    }

    /// The network's input rows for `joints` (standard scores).
    fn rows(&self, joints: &[JointFeatures]) -> Vec<f32> {
        let mut out = Vec::with_capacity(joints.len() * self.inputs());
        for j in joints {
            let start = out.len();
            let slot = self.slots.iter().position(|s| *s == j.slot).unwrap_or(self.slots.len());
            out.extend((0..=self.slots.len()).map(|i| if i == slot { 1.0 } else { 0.0 }));
            out.extend_from_slice(&j.geometry);
            let row = &mut out[start..];
            row.iter_mut().zip(self.mean.iter().zip(&self.spread)).for_each(|(x, (m, s))| *x = (*x - m) / s);
        }
        out
    }
}

#[derive(Module, Debug)]
pub struct JointPruner<B: Backend> {
    layers: [Linear<B>; 2],
    out: Linear<B>,
}

impl<B: Backend> JointPruner<B> {
    /// `[J, inputs]` rows to `[J]` probabilities that each joint stays.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 1> {
        let mut h = x;
        for layer in &self.layers {
            h = gelu(layer.forward(h));
        }
        sigmoid(self.out.forward(h)).flatten::<1>(0, 1)
    }
}

/// One template joint as the network reads it.
#[derive(Debug, Clone)]
pub struct JointFeatures {
    pub slot: String,
    pub geometry: [f32; GEOMETRY],
}

/// A joint's template slot: its name in lower case with the side (`_l`, `_r`, `.l`, `.r`) as `_S`.
pub fn slot_of(name: &str) -> String {
    let lower = name.to_lowercase();
    match ["_l", "_r", ".l", ".r"].iter().find(|s| lower.ends_with(*s)) {
        Some(side) => format!("{}_S", &lower[..lower.len() - side.len()]),
        None => lower,
    }
}

/// Positions of `points` in the frame the network reads: up along +Y, centred on the mesh's
/// bounds and scaled so that its longest side is 1.
pub struct MeshFrame {
    rotation: UnitQuaternion<f32>,
    centre: Vector3<f32>,
    scale: f32,
}

impl MeshFrame {
    pub fn new(mesh: &Mesh, up: [f32; 3]) -> MeshFrame {
        // Antiparallel axes have no shortest rotation: a down-facing up turns half way about x.
        let half_turn = || match up[1] < 0.0 {
            true => UnitQuaternion::from_axis_angle(&Vector3::x_axis(), std::f32::consts::PI),
            false => UnitQuaternion::identity(),
        };
        let rotation = UnitQuaternion::rotation_between(&Vector3::from(up), &Vector3::y()).unwrap_or_else(half_turn);
        let turned: Vec<Vector3<f32>> = mesh.positions.iter().map(|p| rotation * Vector3::from(*p)).collect();
        let (lo, hi) = turned.iter().fold((Vector3::repeat(f32::MAX), Vector3::repeat(f32::MIN)), |(lo, hi), p| (lo.inf(p), hi.sup(p)));
        let side = (hi - lo).max();
        let scale = if side > 0.0 && side.is_finite() { 1.0 / side } else { 1.0 };
        MeshFrame { rotation, centre: (lo + hi) * 0.5, scale }
    }

    pub fn apply(&self, p: &Vector3<f32>) -> Vector3<f32> {
        (self.rotation * p - self.centre) * self.scale
    }
}

/// Each joint of `skeleton` (a template on `mesh`) as the network reads it, with `up` the
/// mesh's up direction.
pub fn joint_features(mesh: &Mesh, skeleton: &Skeleton, up: [f32; 3]) -> Vec<JointFeatures> {
    let frame = MeshFrame::new(mesh, up);
    let joints: Vec<Vector3<f32>> = bind_positions(skeleton).iter().map(|p| frame.apply(p)).collect();
    let vertices: Vec<Vector3<f32>> = mesh.positions.iter().map(|p| frame.apply(&Vector3::from(*p))).collect();
    (0..skeleton.len())
        .map(|j| {
            let p = joints[j];
            let mut g = [0f32; GEOMETRY];
            g[..3].copy_from_slice(p.as_slice());
            g[3] = p.x.abs();
            let to_parent = skeleton.joints[j].parent.map_or(Vector3::zeros(), |q| joints[q] - p);
            g[4..7].copy_from_slice(to_parent.as_slice());
            let children: Vec<usize> = skeleton.children(j).collect();
            let to_children = children.iter().map(|&c| joints[c] - p).sum::<Vector3<f32>>() / children.len().max(1) as f32;
            g[7..10].copy_from_slice(to_children.as_slice());
            for (k, r) in RADII.iter().enumerate() {
                let near: Vec<&Vector3<f32>> = vertices.iter().filter(|v| (*v - p).norm() < *r).collect();
                let at = 10 + 4 * k;
                if near.len() > 2 {
                    let centroid = near.iter().copied().sum::<Vector3<f32>>() / near.len() as f32;
                    g[at..at + 3].copy_from_slice(((centroid - p) / *r).as_slice());
                }
                g[at + 3] = 10.0 * near.len() as f32 / vertices.len().max(1) as f32;
            }
            JointFeatures { slot: slot_of(&skeleton.joints[j].name), geometry: g }
        })
        .collect()
}

/// One training character: its template's joints and the artist's joints, both in the
/// network's frame.
#[derive(Debug, Clone)]
pub struct PrunerSample {
    pub joints: Vec<JointFeatures>,
    pub positions: Vec<Vector3<f32>>,
    pub truth: Vec<Vector3<f32>>,
}

impl PrunerSample {
    /// `template` and `truth` on `mesh` (deforming joints of each).
    pub fn new(mesh: &Mesh, template: &Skeleton, truth: &Skeleton, up: [f32; 3]) -> PrunerSample {
        let frame = MeshFrame::new(mesh, up);
        let deforming = |s: &Skeleton| -> Vec<Vector3<f32>> {
            let pos = bind_positions(s);
            (0..s.len()).filter(|&j| s.joints[j].deform).map(|j| frame.apply(&pos[j])).collect()
        };
        let features = joint_features(mesh, template, up);
        let kept: Vec<usize> = (0..template.len()).filter(|&j| template.joints[j].deform).collect();
        PrunerSample {
            joints: kept.iter().map(|&j| features[j].clone()).collect(),
            positions: deforming(template),
            truth: deforming(truth),
        }
    }

    /// The same character mirrored left to right (x -> -x).
    pub fn mirrored(&self) -> PrunerSample {
        let flip = |p: &Vector3<f32>| Vector3::new(-p.x, p.y, p.z);
        let joints = self
            .joints
            .iter()
            .map(|j| {
                let mut g = j.geometry;
                for at in [0, 4, 7, 10, 14, 18] {
                    g[at] = -g[at];
                }
                JointFeatures { slot: j.slot.clone(), geometry: g }
            })
            .collect();
        PrunerSample { joints, positions: self.positions.iter().map(flip).collect(), truth: self.truth.iter().map(flip).collect() }
    }

    /// CD-J2J (x 100 of the longest side, as `rigsmith eval` prints it) of the joints `keep`
    /// marks against the artist's.
    pub fn chamfer(&self, keep: &[bool]) -> f32 {
        let kept: Vec<Vector3<f32>> = self.positions.iter().zip(keep).filter(|(_, &k)| k).map(|(p, _)| *p).collect();
        let mean_nearest = |from: &[Vector3<f32>], to: &[Vector3<f32>]| {
            from.iter().map(|p| to.iter().map(|q| (p - q).norm()).fold(f32::MAX, f32::min)).sum::<f32>() / from.len().max(1) as f32
        };
        if kept.is_empty() || self.truth.is_empty() {
            return 0.0;
        }
        50.0 * (mean_nearest(&kept, &self.truth) + mean_nearest(&self.truth, &kept))
    }
}

/// Slots seen at least three times in `samples`, and the mean and spread of every input.
pub fn config_for(samples: &[PrunerSample], width: usize) -> JointPrunerConfig {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    samples.iter().flat_map(|s| &s.joints).for_each(|j| *counts.entry(j.slot.as_str()).or_default() += 1);
    let slots: Vec<String> = counts.into_iter().filter(|&(s, c)| c >= 3 && s != OTHER).map(|(s, _)| s.to_string()).collect();
    let plain = JointPrunerConfig::new(slots.clone(), Vec::new(), Vec::new()).with_width(width);
    let inputs = plain.inputs();
    let unscaled = JointPrunerConfig { mean: vec![0.0; inputs], spread: vec![1.0; inputs], ..plain };
    let rows: Vec<f32> = samples.iter().flat_map(|s| unscaled.rows(&s.joints)).collect();
    let n = (rows.len() / inputs).max(1) as f32;
    let mean: Vec<f32> = (0..inputs).map(|i| rows.iter().skip(i).step_by(inputs).sum::<f32>() / n).collect();
    let spread: Vec<f32> =
        (0..inputs).map(|i| (rows.iter().skip(i).step_by(inputs).map(|x| (x - mean[i]).powi(2)).sum::<f32>() / n).sqrt() + 1e-3).collect();
    JointPrunerConfig { mean, spread, ..unscaled }
}

/// Probability that each joint of `joints` stays (the first, the root, always does).
pub fn keep_probabilities<B: Backend>(
    model: &JointPruner<B>,
    config: &JointPrunerConfig,
    joints: &[JointFeatures],
    device: &B::Device,
) -> Vec<f32> {
    if joints.is_empty() {
        return Vec::new();
    }
    let x = Tensor::<B, 2>::from_data(TensorData::new(config.rows(joints), [joints.len(), config.inputs()]), device);
    let mut p: Vec<f32> = model.forward(x).into_data().to_vec().unwrap_or_default();
    if let Some(root) = p.first_mut() {
        *root = 1.0;
    }
    p
}

/// Joints kept: probability over one half.
pub fn kept(probabilities: &[f32]) -> Vec<bool> {
    probabilities.iter().map(|&p| p > 0.5).collect()
}

#[derive(Debug, Clone)]
pub struct PrunerTraining {
    pub epochs: usize,
    pub learning_rate: f64,
    pub weight_decay: f32,
    pub seed: u64,
}

impl Default for PrunerTraining {
    fn default() -> Self {
        PrunerTraining { epochs: 60, learning_rate: 1e-3, weight_decay: 1e-3, seed: 0 }
    }
}

/// Expected CD-J2J of `sample` when each joint stays with probability `keep` (`[J]`): the kept
/// joints' mean distance to the artist's, plus each artist joint's expected distance to the
/// nearest kept joint (the nearest stays with its probability, else the next, ...).
fn expected_chamfer<B: Backend>(keep: Tensor<B, 1>, sample: &PrunerSample, device: &B::Device) -> Tensor<B, 1> {
    let (j, m) = (sample.positions.len(), sample.truth.len());
    let distance = |a: usize, t: usize| (sample.positions[a] - sample.truth[t]).norm();
    let nearest: Vec<f32> = (0..j).map(|a| (0..m).map(|t| distance(a, t)).fold(f32::MAX, f32::min)).collect();
    let nearest = Tensor::<B, 1>::from_data(TensorData::new(nearest, [j]), device);
    let to_truth = (keep.clone() * nearest).sum() / keep.clone().sum().clamp_min(1e-3);
    // For each artist joint, the template's joints by distance (rows: rank, columns: artist joint).
    let mut order = vec![0i64; j * m];
    let mut sorted = vec![0f32; j * m];
    for t in 0..m {
        let mut by: Vec<usize> = (0..j).collect();
        by.sort_by(|&a, &b| distance(a, t).total_cmp(&distance(b, t)));
        for (rank, &a) in by.iter().enumerate() {
            order[rank * m + t] = a as i64;
            sorted[rank * m + t] = distance(a, t);
        }
    }
    let order = Tensor::<B, 1, Int>::from_data(TensorData::new(order, [j * m]), device);
    let sorted = Tensor::<B, 2>::from_data(TensorData::new(sorted, [j, m]), device);
    let ranked = keep.select(0, order).reshape([j, m]);
    let log_gone = (ranked.clone().neg() + 1.0).clamp_min(1e-6).log();
    // Strictly lower triangle: the log-probability that every nearer joint is gone.
    let lower: Vec<f32> = (0..j * j).map(|i| if i % j < i / j { 1.0 } else { 0.0 }).collect();
    let lower = Tensor::<B, 2>::from_data(TensorData::new(lower, [j, j]), device);
    let nearer_gone = lower.matmul(log_gone.clone()).exp();
    let all_gone = log_gone.sum_dim(0).exp();
    let farthest = sorted.clone().slice([j - 1..j, 0..m]);
    let from_truth = ((ranked * nearer_gone * sorted).sum_dim(0) + all_gone * farthest).mean();
    (to_truth + from_truth) * 50.0
}

/// Trains the pruner on `data`, keeping the epoch with the lowest CD-J2J on `validation` (hard
/// decisions); `report(epoch, training loss, validation CD-J2J)` after each epoch.
pub fn train<B: AutodiffBackend>(
    config: &JointPrunerConfig,
    data: &[PrunerSample],
    validation: &[PrunerSample],
    options: &PrunerTraining,
    device: &B::Device,
    mut report: impl FnMut(usize, f32, f32),
) -> Result<JointPruner<B>, ModelError> {
    let usable: Vec<&PrunerSample> = data.iter().filter(|s| s.positions.len() > 1 && !s.truth.is_empty()).collect();
    if usable.is_empty() {
        return Err(ModelError::NoData("no training character with a template of two joints or more and an artist skeleton".into()));
    }
    B::seed(device, options.seed);
    let mut model = config.init::<B>(device);
    let mut optim = AdamWConfig::new().with_weight_decay(options.weight_decay).init::<B, JointPruner<B>>();
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut order: Vec<usize> = (0..usable.len()).collect();
    let mut best: Option<(f32, JointPruner<B>)> = None;
    for epoch in 1..=options.epochs.max(1) {
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for &i in &order {
            let sample = usable[i];
            let n = sample.joints.len();
            let x = Tensor::<B, 2>::from_data(TensorData::new(config.rows(&sample.joints), [n, config.inputs()]), device);
            // The root always stays.
            let root: Vec<f32> = (0..n).map(|j| if j == 0 { 1.0 } else { 0.0 }).collect();
            let root = Tensor::<B, 1>::from_data(TensorData::new(root, [n]), device);
            let keep = model.forward(x) * (root.clone().neg() + 1.0) + root;
            let loss = expected_chamfer(keep, sample, device);
            total += loss.clone().into_scalar().elem::<f32>();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(options.learning_rate, model, grads);
        }
        let valid = model.valid();
        let score = mean_chamfer(&valid, config, validation, device);
        report(epoch, total / usable.len() as f32, score);
        if validation.is_empty() || best.as_ref().is_none_or(|(b, _)| score < *b) {
            best = Some((score, model.clone()));
        }
    }
    Ok(best.map(|(_, m)| m).unwrap_or(model))
}

/// Mean CD-J2J of the kept joints over `samples`.
pub fn mean_chamfer<B: Backend>(model: &JointPruner<B>, config: &JointPrunerConfig, samples: &[PrunerSample], device: &B::Device) -> f32 {
    let scores: Vec<f32> = samples.iter().map(|s| s.chamfer(&kept(&keep_probabilities(model, config, &s.joints, device)))).collect();
    scores.iter().sum::<f32>() / scores.len().max(1) as f32
}

/// Writes `<dir>/joint_pruner.json` and `<dir>/joint_pruner.mpk`.
pub fn save<B: Backend>(model: &JointPruner<B>, config: &JointPrunerConfig, dir: &Path) -> Result<(), ModelError> {
    crate::store::save_module(model, &serde_json::to_string_pretty(config)?, dir, STEM)
}

/// The pruner shipped in `dir`, or `None` when the folder has none.
pub fn load<B: Backend>(dir: &Path, device: &B::Device) -> Result<Option<(JointPruner<B>, JointPrunerConfig)>, ModelError> {
    let path = dir.join(format!("{STEM}.json"));
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let config: JointPrunerConfig = serde_json::from_str(&text)?;
    if config.mean.len() != config.inputs() || config.spread.len() != config.inputs() {
        return Err(ModelError::Config(format!(
            "{}: {} inputs but {} means and {} spreads",
            path.display(),
            config.inputs(),
            config.mean.len(),
            config.spread.len()
        )));
    }
    let model = config.init::<B>(device).load_file(dir.join(STEM), &NamedMpkFileRecorder::<FullPrecisionSettings>::new(), device)?;
    Ok(Some((model, config)))
}

/// `skeleton` without the joints `keep` leaves out: their children hang from the nearest kept
/// ancestor; positions, names and which joints deform stay (the bones are oriented again).
pub fn without_joints(skeleton: &Skeleton, keep: &[bool]) -> Skeleton {
    let pos = bind_positions(skeleton);
    let mut new_index = vec![None; skeleton.len()];
    let mut tree = rig_core::autoskel::JointTree::default();
    let mut names = Vec::new();
    for j in 0..skeleton.len() {
        if !keep.get(j).copied().unwrap_or(true) && skeleton.joints[j].parent.is_some() {
            continue;
        }
        let mut parent = skeleton.joints[j].parent;
        while let Some(p) = parent.filter(|&p| new_index[p].is_none()) {
            parent = skeleton.joints[p].parent;
        }
        new_index[j] = Some(tree.positions.len());
        tree.positions.push(pos[j]);
        tree.parents.push(parent.and_then(|p| new_index[p]));
        names.push(skeleton.joints[j].name.clone());
    }
    let mut out = rig_core::autoskel::skeleton_with_names(&tree, &names);
    // End markers stay markers.
    for (old, new) in new_index.iter().enumerate().filter_map(|(o, n)| Some((o, (*n)?))) {
        out.joints[new].deform = skeleton.joints[old].deform;
        out.joints[new].in_skin = skeleton.joints[old].in_skin;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuBackend;
    use rig_core::metrics::SplitMix;

    fn points(rng: &mut SplitMix, n: usize) -> Vec<Vector3<f32>> {
        (0..n).map(|_| Vector3::new(rng.unit(), rng.unit(), rng.unit())).collect()
    }

    #[test]
    fn the_expected_chamfer_of_certain_decisions_is_the_chamfer_of_the_kept_joints() {
        let mut rng = SplitMix(7);
        let device = Default::default();
        for trial in 0..5 {
            let positions = points(&mut rng, 12);
            let truth = points(&mut rng, 9);
            let joints = positions.iter().map(|_| JointFeatures { slot: "x".into(), geometry: [0.0; GEOMETRY] }).collect();
            let sample = PrunerSample { joints, positions, truth };
            let keep: Vec<bool> = (0..12).map(|j| j == 0 || rng.unit() > 0.4).collect();
            let probabilities: Vec<f32> = keep.iter().map(|&k| if k { 1.0 } else { 0.0 }).collect();
            let soft = expected_chamfer::<CpuBackend>(Tensor::from_data(TensorData::new(probabilities, [12]), &device), &sample, &device);
            let soft = soft.into_scalar().elem::<f32>();
            let hard = sample.chamfer(&keep);
            assert!((soft - hard).abs() < 1e-3 * hard.max(1.0), "trial {trial}: expected {soft}, chamfer {hard}");
        }
    }

    #[test]
    fn a_left_out_joint_hands_its_children_to_the_nearest_kept_ancestor() {
        let tree = rig_core::autoskel::JointTree {
            positions: (0..4).map(|i| Vector3::new(0.0, i as f32, 0.0)).collect(),
            parents: vec![None, Some(0), Some(1), Some(2)],
        };
        let names: Vec<String> = ["root", "a", "b", "tip"].iter().map(|s| s.to_string()).collect();
        let mut skeleton = rig_core::autoskel::skeleton_with_names(&tree, &names);
        skeleton.joints[3].deform = false;
        let pruned = without_joints(&skeleton, &[true, false, true, true]);
        pruned.validate().expect("parents first");
        let names: Vec<&str> = pruned.joints.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names, ["root", "b", "tip"]);
        assert_eq!(pruned.joints.iter().map(|j| j.parent).collect::<Vec<_>>(), [None, Some(0), Some(1)]);
        let before = bind_positions(&skeleton);
        let after = bind_positions(&pruned);
        for (new, old) in [(0, 0), (1, 2), (2, 3)] {
            assert!((after[new] - before[old]).norm() < 1e-5, "joint {new} moved: {} -> {}", before[old], after[new]);
        }
        assert!(!pruned.joints[2].deform, "the end marker stays a marker");
        // The root stays even when asked to go.
        assert_eq!(without_joints(&skeleton, &[false, true, true, true]).len(), 4);
    }
}
