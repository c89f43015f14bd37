//! The learned initialiser of rig from motion (after RigMo: read the sequence once, give every
//! vertex a soft bone assignment): a point-wise network maps each vertex's motion (its
//! displacement over the sequence, how the surface around it stretches, where it rests) to an
//! embedding on the unit sphere, trained so that vertices of one bone of the true rig land
//! together and vertices of different bones apart. Clusters of embeddings then seed the smooth
//! skinning decomposition in place of clusters of raw trajectories.

use std::path::Path;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::activation::gelu;
use burn::tensor::backend::AutodiffBackend;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rig_core::motion::MeshSequence;

use crate::ModelError;

/// Frames sampled from a sequence (evenly, first and last included).
pub const FRAMES: usize = 16;
/// Numbers per vertex: rest position (3), displacement per sampled frame (3 each), stretch of
/// the surrounding edges per sampled frame (1 each).
pub const INPUTS: usize = 3 + 3 * FRAMES + FRAMES;

const STEM: &str = "motion_init";

#[derive(Config, Debug)]
pub struct MotionInitConfig {
    #[config(default = 128)]
    pub width: usize,
    #[config(default = 16)]
    pub embedding: usize,
}

impl MotionInitConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> MotionInit<B> {
        let lin = |i, o| LinearConfig::new(i, o).init(device);
        MotionInit {
            layers: [lin(INPUTS, self.width), lin(self.width, self.width), lin(self.width, self.width)],
            out: lin(self.width, self.embedding),
        }
    }
}

#[derive(Module, Debug)]
pub struct MotionInit<B: Backend> {
    layers: [Linear<B>; 3],
    out: Linear<B>,
}

impl<B: Backend> MotionInit<B> {
    /// `[N, INPUTS]` features to `[N, embedding]` unit vectors.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let mut h = x;
        for layer in &self.layers {
            h = gelu(layer.forward(h));
        }
        let e = self.out.forward(h);
        let norm = e.clone().powf_scalar(2.0).sum_dim(1).sqrt() + 1e-6;
        e / norm
    }
}

/// Each vertex's features (see [`INPUTS`]), scaled by the first frame's diagonal so that any
/// size of character reads the same.
pub fn vertex_features(seq: &MeshSequence) -> Vec<[f32; INPUTS]> {
    let n = seq.rest.len();
    let diag = seq.diagonal() as f32;
    let frame_of = |t: usize| -> &[[f32; 3]] { seq.frames.get(t).map_or(&seq.rest, |f| f.as_slice()) };
    let frames: Vec<usize> = (0..FRAMES).map(|k| k * seq.frames.len().saturating_sub(1) / (FRAMES - 1)).collect();
    let centre = |p: &[[f32; 3]]| -> [f32; 3] {
        let mut c = [0.0; 3];
        p.iter().for_each(|q| (0..3).for_each(|a| c[a] += q[a] / p.len().max(1) as f32));
        c
    };
    let rest_centre = centre(&seq.rest);
    // Mean displacement per sampled frame: the whole body's travel, taken out.
    let travel: Vec<[f32; 3]> = frames
        .iter()
        .map(|&t| {
            let c = centre(frame_of(t));
            [c[0] - rest_centre[0], c[1] - rest_centre[1], c[2] - rest_centre[2]]
        })
        .collect();
    let neighbours = neighbours(&seq.triangles, n);
    let len = |a: &[f32; 3], b: &[f32; 3]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
    (0..n)
        .map(|i| {
            let mut f = [0.0f32; INPUTS];
            (0..3).for_each(|a| f[a] = (seq.rest[i][a] - rest_centre[a]) / diag);
            for (k, &t) in frames.iter().enumerate() {
                for a in 0..3 {
                    f[3 + 3 * k + a] = (frame_of(t)[i][a] - seq.rest[i][a] - travel[k][a]) / diag * 4.0;
                }
                let stretch: f32 = neighbours[i]
                    .iter()
                    .map(|&j| {
                        let r = len(&seq.rest[i], &seq.rest[j]).max(1e-9);
                        (len(&frame_of(t)[i], &frame_of(t)[j]) - r).abs() / r
                    })
                    .sum::<f32>()
                    / neighbours[i].len().max(1) as f32;
                f[3 + 3 * FRAMES + k] = stretch.min(1.0) * 4.0;
            }
            f
        })
        .collect()
}

fn neighbours(triangles: &[[u32; 3]], n: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); n];
    for t in triangles {
        for a in 0..3 {
            for b in 0..3 {
                let (i, j) = (t[a] as usize, t[b] as usize);
                if i != j && i < n && j < n {
                    out[i].push(j);
                }
            }
        }
    }
    out.iter_mut().for_each(|l| {
        l.sort_unstable();
        l.dedup();
    });
    out
}

/// Embeddings of every vertex of `seq` (one row per vertex).
pub fn embed<B: Backend>(model: &MotionInit<B>, seq: &MeshSequence, device: &B::Device) -> Vec<Vec<f32>> {
    let features = vertex_features(seq);
    let n = features.len();
    let flat: Vec<f32> = features.iter().flatten().copied().collect();
    let x = Tensor::<B, 2>::from_data(TensorData::new(flat, [n, INPUTS]), device);
    let e = model.forward(x);
    let width = e.dims()[1];
    let values: Vec<f32> = e.into_data().to_vec().unwrap_or_default();
    values.chunks(width.max(1)).map(<[f32]>::to_vec).collect()
}

/// One training sequence: features and each vertex's bone in the true rig.
pub struct TrainingSequence {
    pub features: Vec<[f32; INPUTS]>,
    pub labels: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct MotionInitTraining {
    pub steps: usize,
    /// Anchor vertices per step (each with one vertex of its bone and one of another).
    pub anchors: usize,
    pub learning_rate: f64,
    /// Distance that vertices of different bones are pushed apart to, on the unit sphere.
    pub margin: f32,
    pub seed: u64,
}

impl Default for MotionInitTraining {
    fn default() -> Self {
        MotionInitTraining { steps: 3000, anchors: 512, learning_rate: 1e-3, margin: 1.0, seed: 0 }
    }
}

/// Trains the embedding with a contrastive loss on (anchor, same bone, other bone) triples;
/// `report(step, loss)` every 100 steps.
pub fn train<B: AutodiffBackend>(
    config: &MotionInitConfig,
    data: &[TrainingSequence],
    options: &MotionInitTraining,
    device: &B::Device,
    mut report: impl FnMut(usize, f32),
) -> Result<MotionInit<B>, ModelError> {
    let usable: Vec<&TrainingSequence> = data.iter().filter(|s| s.labels.iter().any(|&l| l != s.labels[0])).collect();
    if usable.is_empty() {
        return Err(ModelError::NoData("no training sequence with two bones or more".into()));
    }
    let mut model = config.init::<B>(device);
    let mut optim = AdamConfig::new().init::<B, MotionInit<B>>();
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut running = 0.0;
    for step in 0..options.steps {
        let seq = usable[rng.gen_range(0..usable.len())];
        let (a, p, n) = triples(seq, options.anchors, &mut rng);
        let rows = |idx: &[usize]| {
            let flat: Vec<f32> = idx.iter().flat_map(|&i| seq.features[i]).collect();
            Tensor::<B, 2>::from_data(TensorData::new(flat, [idx.len(), INPUTS]), device)
        };
        let (ea, ep, en) = (model.forward(rows(&a)), model.forward(rows(&p)), model.forward(rows(&n)));
        let pos = (ea.clone() - ep).powf_scalar(2.0).sum_dim(1);
        let neg = (ea - en).powf_scalar(2.0).sum_dim(1).add_scalar(1e-9).sqrt();
        let push = (neg.neg().add_scalar(options.margin)).clamp_min(0.0).powf_scalar(2.0);
        let loss = pos.mean() + push.mean();
        running += loss.clone().into_scalar().elem::<f32>();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(options.learning_rate, model, grads);
        if (step + 1) % 100 == 0 {
            report(step + 1, running / 100.0);
            running = 0.0;
        }
    }
    Ok(model)
}

/// The training loss on `data` (fixed triples from `seed`), without gradients.
pub fn validation_loss<B: Backend>(
    model: &MotionInit<B>,
    data: &[TrainingSequence],
    options: &MotionInitTraining,
    device: &B::Device,
) -> f32 {
    let mut rng = StdRng::seed_from_u64(options.seed ^ 0x5eed);
    let mut total = 0.0;
    let mut count = 0;
    for seq in data.iter().filter(|s| s.labels.iter().any(|&l| l != s.labels[0])) {
        let (a, p, n) = triples(seq, options.anchors, &mut rng);
        let rows = |idx: &[usize]| {
            let flat: Vec<f32> = idx.iter().flat_map(|&i| seq.features[i]).collect();
            Tensor::<B, 2>::from_data(TensorData::new(flat, [idx.len(), INPUTS]), device)
        };
        let (ea, ep, en) = (model.forward(rows(&a)), model.forward(rows(&p)), model.forward(rows(&n)));
        let pos = (ea.clone() - ep).powf_scalar(2.0).sum_dim(1);
        let neg = (ea - en).powf_scalar(2.0).sum_dim(1).add_scalar(1e-9).sqrt();
        let push = (neg.neg().add_scalar(options.margin)).clamp_min(0.0).powf_scalar(2.0);
        total += (pos.mean() + push.mean()).into_scalar().elem::<f32>();
        count += 1;
    }
    total / count.max(1) as f32
}

/// Anchors, a vertex of the same bone for each, and one of another bone.
fn triples(seq: &TrainingSequence, count: usize, rng: &mut StdRng) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let n = seq.labels.len();
    let mut by_label: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
    seq.labels.iter().enumerate().for_each(|(i, &l)| by_label.entry(l).or_default().push(i));
    let (mut a, mut p, mut q) = (Vec::new(), Vec::new(), Vec::new());
    while a.len() < count {
        let i = rng.gen_range(0..n);
        let same = &by_label[&seq.labels[i]];
        let j = same[rng.gen_range(0..same.len())];
        let k = (0..32).map(|_| rng.gen_range(0..n)).find(|&k| seq.labels[k] != seq.labels[i]);
        if let Some(k) = k {
            a.push(i);
            p.push(j);
            q.push(k);
        }
    }
    (a, p, q)
}

/// Writes `<dir>/motion_init.json` and `<dir>/motion_init.mpk`.
pub fn save<B: Backend>(model: &MotionInit<B>, config: &MotionInitConfig, dir: &Path) -> Result<(), ModelError> {
    crate::store::save_module(model, &serde_json::to_string_pretty(config)?, dir, STEM)
}

/// Loads the initialiser shipped in `dir`.
pub fn load<B: Backend>(dir: &Path, device: &B::Device) -> Result<MotionInit<B>, ModelError> {
    let path = dir.join(format!("{STEM}.json"));
    let text = std::fs::read_to_string(&path).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let config: MotionInitConfig = serde_json::from_str(&text)?;
    Ok(config.init::<B>(device).load_file(dir.join(STEM), &NamedMpkFileRecorder::<FullPrecisionSettings>::new(), device)?)
}
