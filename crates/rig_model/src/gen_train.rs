//! Training the rig generator: teacher-forced cross-entropy over the skeleton tokens and the
//! skin tokens' FSQ digits, Adam with warm-up and cosine decay, checkpoints and resume through
//! [`RunDir`], augmented examples (mirror, anisotropic scale) every step.

use burn::grad_clipping::GradientClippingConfig;
use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Int;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::gen_data::{input_tensors, shape_tensors, step_rng, Example, GenAsset};
use crate::generator::{RigGenerator, RigGeneratorConfig};
use crate::run::{append_loss, EpochLoss, RunDir};
use crate::train::{learning_rate, TrainOptions};
use crate::ModelError;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenTrainOptions {
    pub epochs: usize,
    /// Sequences per step.
    pub batch: usize,
    pub learning_rate: f64,
    pub warmup_steps: usize,
    pub seed: u64,
    /// Mirror and scale each example at random.
    pub augment: bool,
    /// Passes over the training set per epoch (each with fresh augmentation).
    pub repeats: usize,
}

impl Default for GenTrainOptions {
    fn default() -> Self {
        GenTrainOptions { epochs: 30, batch: 4, learning_rate: 1e-3, warmup_steps: 100, seed: 0, augment: true, repeats: 4 }
    }
}

/// The two parts of the loss.
#[derive(Debug, Clone, Copy, Default)]
pub struct LossParts {
    pub skeleton: f32,
    pub skin: f32,
}

/// Trains (or resumes) the generator. `on_epoch` sees each epoch's losses.
pub fn train_generator<B: AutodiffBackend>(
    config: &RigGeneratorConfig,
    options: &GenTrainOptions,
    train_set: &[GenAsset],
    validation: &[GenAsset],
    dir: &RunDir,
    device: &B::Device,
    mut on_epoch: impl FnMut(EpochLoss, LossParts),
) -> Result<RigGenerator<B>, ModelError> {
    if train_set.is_empty() {
        return Err(ModelError::NoData("no training asset".into()));
    }
    let config_json = serde_json::to_value(config)?;
    let (mut model, mut optim, first_epoch, mut step) = dir.resume(
        &config_json,
        config.init::<B>(device),
        AdamConfig::new().with_grad_clipping(Some(GradientClippingConfig::Norm(1.0))).init::<B, RigGenerator<B>>(),
        device,
    )?;
    let batch = options.batch.max(1);
    let steps_per_epoch = (train_set.len() * options.repeats.max(1)).div_ceil(batch);
    let schedule = TrainOptions { learning_rate: options.learning_rate, warmup_steps: options.warmup_steps, ..Default::default() };
    let total = steps_per_epoch * options.epochs;
    for epoch in first_epoch..options.epochs {
        let mut order: Vec<usize> = (0..options.repeats.max(1)).flat_map(|_| 0..train_set.len()).collect();
        order.shuffle(&mut StdRng::seed_from_u64(options.seed ^ (epoch as u64 + 1)));
        let (mut sum, mut lr) = (0.0, 0.0);
        for chunk in order.chunks(batch) {
            lr = learning_rate(&schedule, step, total);
            let mut rng = step_rng(options.seed, step);
            let examples: Vec<Example> = chunk.iter().filter_map(|&a| train_set[a].example(config, options.augment, &mut rng)).collect();
            step += 1;
            if examples.is_empty() {
                continue;
            }
            let (loss, _) = generator_loss(&model, config, &examples, device);
            sum += loss.clone().into_scalar().elem::<f32>();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
        }
        let parts = evaluate(&model.valid(), config, validation, device);
        let line =
            EpochLoss { epoch: epoch + 1, train: sum / steps_per_epoch as f32, validation: parts.skeleton + parts.skin, learning_rate: lr };
        dir.save_epoch(epoch + 1, step, line.validation, serde_json::to_value(options)?, &config_json, &model, &optim)?;
        append_loss(&dir.losses(), &line)?;
        on_epoch(line, parts);
    }
    Ok(model)
}

/// The run's weights with the lowest validation loss (the generator overfits 67 characters
/// within a few epochs: these are the ones to ship), or `None` when the run has none.
pub fn best_generator<B: Backend>(config: &RigGeneratorConfig, dir: &RunDir, device: &B::Device) -> Option<(RigGenerator<B>, usize, f32)> {
    let (epoch, loss) = dir.best_epoch()?;
    let recorder = burn::record::NamedMpkFileRecorder::<burn::record::FullPrecisionSettings>::new();
    let model = config.init::<B>(device).load_file(dir.best_model(), &recorder, device).ok()?;
    Some((model, epoch, loss))
}

/// Mean cross-entropy of the next skeleton token plus mean cross-entropy per FSQ digit of the
/// next skin token, over the positions where each applies.
pub fn generator_loss<B: Backend>(
    model: &RigGenerator<B>,
    config: &RigGeneratorConfig,
    examples: &[Example],
    device: &B::Device,
) -> (Tensor<B, 1>, LossParts) {
    let (skel_logits, skin_logits) = teacher_forced_logits(model, config, examples, device);
    let [b, t, _] = skel_logits.dims();
    let nd = config.levels.len();
    let (mut skel_ids, mut skel_mask, mut skin_ids, mut skin_mask) = (vec![], vec![], vec![], vec![]);
    for e in examples {
        for i in 0..t {
            let s = e.skeleton_target.get(i).copied().flatten();
            skel_ids.push(s.map_or(0, |x| x as i64));
            skel_mask.push(if s.is_some() { 1.0f32 } else { 0.0 });
            let k = e.skin_target.get(i).cloned().flatten();
            match k {
                Some(d) => {
                    skin_ids.extend(d.iter().map(|&x| x as i64));
                    skin_mask.push(1.0f32);
                }
                None => {
                    skin_ids.extend(std::iter::repeat_n(0, nd));
                    skin_mask.push(0.0);
                }
            }
        }
    }
    let skel_count = skel_mask.iter().sum::<f32>().max(1.0);
    let skin_count = skin_mask.iter().sum::<f32>().max(1.0);
    let skel = masked_nll(skel_logits, skel_ids, skel_mask, device).sum() / skel_count;
    let digits = Tensor::<B, 3, Int>::from_data(TensorData::new(skin_ids, [b, t, nd]), device);
    let smask = Tensor::<B, 2>::from_data(TensorData::new(skin_mask, [b, t]), device);
    let mut skin = Tensor::<B, 1>::zeros([1], device);
    let mut offset = 0;
    for (i, &level) in config.levels.iter().enumerate() {
        let lp = log_softmax(skin_logits.clone().narrow(2, offset, level), 2);
        let nll = lp.gather(2, digits.clone().narrow(2, i, 1)).reshape([b, t]).neg();
        skin = skin + (nll * smask.clone()).sum() / skin_count;
        offset += level;
    }
    let skin = skin / nd as f32;
    let parts = LossParts { skeleton: skel.clone().into_scalar().elem(), skin: skin.clone().into_scalar().elem() };
    (skel + skin, parts)
}

/// The skeleton and skin logits at every row of the examples (their shapes encoded, their
/// sequences fed whole).
fn teacher_forced_logits<B: Backend>(
    model: &RigGenerator<B>,
    config: &RigGeneratorConfig,
    examples: &[Example],
    device: &B::Device,
) -> (Tensor<B, 3>, Tensor<B, 3>) {
    let rows: Vec<&[_]> = examples.iter().map(|e| e.rows.as_slice()).collect();
    let points: Vec<&[_]> = examples.iter().map(|e| e.points.as_slice()).collect();
    let input = input_tensors::<B>(&rows, config, device);
    let (pts, queries) = shape_tensors::<B>(&points, config.latents, device);
    model.forward(model.encode_shape(pts, queries), &input)
}

/// Negative log-likelihood `[B, T]` of the target skeleton tokens `ids` (`B x T`, row-major),
/// zero where `mask` is 0.
fn masked_nll<B: Backend>(skel_logits: Tensor<B, 3>, ids: Vec<i64>, mask: Vec<f32>, device: &B::Device) -> Tensor<B, 2> {
    let [b, t, _] = skel_logits.dims();
    let ids = Tensor::<B, 2, Int>::from_data(TensorData::new(ids, [b, t]), device);
    let mask = Tensor::<B, 2>::from_data(TensorData::new(mask, [b, t]), device);
    log_softmax(skel_logits, 2).gather(2, ids.reshape([b, t, 1])).reshape([b, t]).neg() * mask
}

/// Mean negative log-likelihood per skeleton token of each example's skeleton `[B]` (its skin
/// rows, if any, are not scored): what the reward refinement weighs by the advantages.
pub fn skeleton_nll<B: Backend>(
    model: &RigGenerator<B>,
    config: &RigGeneratorConfig,
    examples: &[Example],
    device: &B::Device,
) -> Tensor<B, 1> {
    let (skel_logits, _) = teacher_forced_logits(model, config, examples, device);
    let [b, t, _] = skel_logits.dims();
    let (mut ids, mut mask, mut counts) = (Vec::with_capacity(b * t), Vec::with_capacity(b * t), Vec::with_capacity(b));
    for e in examples {
        let target = |i: usize| e.skeleton_target.get(i).copied().flatten();
        ids.extend((0..t).map(|i| target(i).map_or(0, i64::from)));
        mask.extend((0..t).map(|i| if target(i).is_some() { 1.0f32 } else { 0.0 }));
        counts.push((0..t).filter(|&i| target(i).is_some()).count().max(1) as f32);
    }
    let counts = Tensor::<B, 1>::from_data(TensorData::new(counts, [b]), device);
    masked_nll(skel_logits, ids, mask, device).sum_dim(1).reshape([b]) / counts
}

/// Mean loss parts over the validation assets (no augmentation).
fn evaluate<B: Backend>(model: &RigGenerator<B>, config: &RigGeneratorConfig, assets: &[GenAsset], device: &B::Device) -> LossParts {
    let mut total = LossParts::default();
    let mut n = 0;
    for (i, a) in assets.iter().enumerate() {
        let mut rng = step_rng(7919, i);
        if let Some(e) = a.example(config, false, &mut rng) {
            let (_, p) = generator_loss(model, config, &[e], device);
            total.skeleton += p.skeleton;
            total.skin += p.skin;
            n += 1;
        }
    }
    if n == 0 {
        return LossParts { skeleton: f32::NAN, skin: f32::NAN };
    }
    LossParts { skeleton: total.skeleton / n as f32, skin: total.skin / n as f32 }
}
