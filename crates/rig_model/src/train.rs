//! Training the skin tokenizer: Adam, warm-up then cosine learning rate, a per-vertex
//! cross-entropy loss, a CSV of losses, a checkpoint after every epoch and resume from it
//! (the run folder is [`crate::run::RunDir`]).

use std::fs;

use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, log_softmax};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Int;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::data::{asset_batch_from, Asset, AssetBatch, CANDIDATE_SLOTS};
use crate::features::FEATURES;
use crate::run::append_loss;
pub use crate::run::{read_losses, EpochLoss, RunDir};
use crate::store::config_to_json;
use crate::tokenizer::{SkinTokenizer, SkinTokenizerConfig};
use crate::ModelError;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainOptions {
    pub epochs: usize,
    /// Vertices per step where the decoded skin is compared with the artist's.
    pub queries: usize,
    pub learning_rate: f64,
    pub warmup_steps: usize,
    pub seed: u64,
    /// Weight of the presence head's binary cross-entropy (models with the head).
    #[serde(default = "default_presence_weight")]
    pub presence_weight: f32,
    /// Weight of the L1 distance to the artist's weights next to the cross-entropy
    /// ([`LossWeights::l1`]; 0: the cross-entropy alone, as the shipped weights were trained).
    #[serde(default)]
    pub l1_weight: f32,
    /// Weight of the hinge that keeps the artist's influences at `support_margin` of their
    /// vertex or more ([`LossWeights::support`]; 0: off).
    #[serde(default)]
    pub support_weight: f32,
    #[serde(default = "default_support_margin")]
    pub support_margin: f32,
}

fn default_support_margin() -> f32 {
    0.06
}

impl TrainOptions {
    /// The terms next to the cross-entropy in every step's loss (and the validation loss).
    pub fn loss_weights(&self) -> LossWeights {
        LossWeights {
            presence: self.presence_weight,
            l1: self.l1_weight,
            support: self.support_weight,
            support_margin: self.support_margin,
            ..LossWeights::NONE
        }
    }
}

fn default_presence_weight() -> f32 {
    1.0
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 60,
            queries: 1024,
            learning_rate: 2e-3,
            warmup_steps: 50,
            seed: 0,
            presence_weight: default_presence_weight(),
            l1_weight: 0.0,
            support_weight: 0.0,
            support_margin: default_support_margin(),
        }
    }
}

/// Trains (or resumes, when `dir` holds a checkpoint) and returns the trained model.
/// A new run starts from `start` (a trained tokenizer of the same config, to fine-tune) or,
/// without one, from random weights. `on_epoch` sees each epoch's losses (for progress output).
#[allow(clippy::too_many_arguments)]
pub fn train<B: AutodiffBackend>(
    config: &SkinTokenizerConfig,
    start: Option<SkinTokenizer<B>>,
    options: &TrainOptions,
    train_set: &[Asset],
    validation: &[Asset],
    dir: &RunDir,
    device: &B::Device,
    mut on_epoch: impl FnMut(EpochLoss),
) -> Result<SkinTokenizer<B>, ModelError> {
    if start.as_ref().is_some_and(|m| m.encodes_prior() != config.encodes_prior) {
        return Err(ModelError::Config("the starting model and the config disagree on what the encoder reads (encodes_prior)".into()));
    }
    fs::create_dir_all(&dir.0)?;
    let config_json: serde_json::Value = serde_json::from_str(&config_to_json(config))?;
    let (mut model, mut optim, first_epoch, mut step) = dir.resume(
        &config_json,
        start.unwrap_or_else(|| config.init::<B>(device)),
        AdamConfig::new().init::<B, SkinTokenizer<B>>(),
        device,
    )?;
    if train_set.iter().all(|a| a.bones().is_empty()) {
        return Err(ModelError::NoData("no training asset has a deforming joint".into()));
    }
    let train_encoded = encoded_views(config, train_set);
    let val_encoded = encoded_views(config, validation);
    let steps_per_epoch = train_set.len();
    let total_steps = steps_per_epoch * options.epochs;
    for epoch in first_epoch..options.epochs {
        let mut order: Vec<usize> = (0..train_set.len()).filter(|&a| !train_set[a].bones().is_empty()).collect();
        order.shuffle(&mut StdRng::seed_from_u64(options.seed ^ epoch as u64));
        let mut sum = 0.0;
        let mut lr = 0.0;
        for (i, &a) in order.iter().enumerate() {
            lr = learning_rate(options, step, total_steps);
            let seed = options.seed.wrapping_add((epoch * steps_per_epoch + i) as u64);
            let b = asset_batch_from(train_encoded.get(a).unwrap_or(&train_set[a]), &train_set[a], config.points, options.queries, seed);
            let loss = loss::<B>(&model, &b, options.loss_weights(), device);
            sum += loss.clone().into_scalar().elem::<f32>();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
            step += 1;
        }
        let validation_loss = evaluate(&model.valid(), validation, &val_encoded, config.points, options, device);
        let line = EpochLoss { epoch: epoch + 1, train: sum / order.len().max(1) as f32, validation: validation_loss, learning_rate: lr };
        dir.save_epoch(epoch + 1, step, validation_loss, serde_json::to_value(options)?, &config_json, &model, &optim)?;
        append_loss(&dir.losses(), &line)?;
        on_epoch(line);
    }
    Ok(model)
}

/// What the encoder reads for each asset: for a skin predictor the prior's weights; for a
/// tokenizer the assets themselves (an empty list).
fn encoded_views(config: &SkinTokenizerConfig, assets: &[Asset]) -> Vec<Asset> {
    if config.encodes_prior {
        assets.iter().map(Asset::prior_view).collect()
    } else {
        Vec::new()
    }
}

/// Linear warm-up, then cosine decay to a tenth.
pub(crate) fn learning_rate(o: &TrainOptions, step: usize, total: usize) -> f64 {
    if step < o.warmup_steps {
        return o.learning_rate * (step + 1) as f64 / o.warmup_steps as f64;
    }
    let t = (step - o.warmup_steps) as f64 / (total.saturating_sub(o.warmup_steps)).max(1) as f64;
    o.learning_rate * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos()))
}

/// Cross-entropy between the artist's weights at each query vertex and the decoder's softmax
/// over the bones competing there (the skin is normalised per vertex, so this is what the L1
/// metric sees), for the codes the encoder gives each bone; plus the terms `w` weighs (with
/// the presence head, its binary cross-entropy of "the artist's weight is non-zero").
pub fn loss<B: Backend>(model: &SkinTokenizer<B>, b: &AssetBatch, w: LossWeights, device: &B::Device) -> Tensor<B, 1> {
    let nb = b.bones.len();
    let enc = Tensor::<B, 3>::from_data(TensorData::new(b.encoder.clone(), [nb, b.points, FEATURES + 2]), device);
    code_loss(model, model.encode(enc), b, w, device)
}

/// Weights of the terms next to the cross-entropy in [`code_loss`].
#[derive(Debug, Clone, Copy)]
pub struct LossWeights {
    /// The presence head's binary cross-entropy (models with the head).
    pub presence: f32,
    /// The L1 distance between the decoded and the artist's weights at each vertex (the
    /// metric itself: unlike the cross-entropy it keeps pushing small wrong weights to zero).
    pub l1: f32,
    /// Hinge on the artist's influences: each one decoded under `margin` of its vertex costs
    /// `support` x the shortfall (so small real influences survive a pruning threshold).
    pub support: f32,
    pub support_margin: f32,
    /// Hinge on the bones the artist did not use at a vertex: each one decoded over
    /// `spurious_margin` of the vertex costs `spurious` x the excess (so wrong weights fall
    /// clear under a pruning threshold instead of straddling it).
    pub spurious: f32,
    pub spurious_margin: f32,
}

impl LossWeights {
    /// The cross-entropy alone.
    pub const NONE: LossWeights =
        LossWeights { presence: 0.0, l1: 0.0, support: 0.0, support_margin: 0.0, spurious: 0.0, spurious_margin: 0.0 };
}

/// [`loss`] for given bone codes `[bones, code_width]` (in `b.bones` order): the decoder's
/// cross-entropy at the batch's query vertices, plus the terms `w` weighs.
pub fn code_loss<B: Backend>(
    model: &SkinTokenizer<B>,
    codes: Tensor<B, 2>,
    b: &AssetBatch,
    w: LossWeights,
    device: &B::Device,
) -> Tensor<B, 1> {
    let (q, s) = (b.queries, CANDIDATE_SLOTS);
    let slots = Tensor::<B, 1, Int>::from_data(TensorData::new(b.slot_bone.clone(), [q * s]), device);
    let feats = Tensor::<B, 2>::from_data(TensorData::new(b.decoder.clone(), [q * s, FEATURES]), device);
    let (logits, presence) = model.decode_heads(feats, codes.select(0, slots));
    let mask = Tensor::<B, 2>::from_data(TensorData::new(b.mask.clone(), [q, s]), device);
    let target = Tensor::<B, 2>::from_data(TensorData::new(b.target.clone(), [q, s]), device);
    let logp = log_softmax(logits.reshape([q, s]) + mask.clone().sub_scalar(1.0).mul_scalar(1e4), 1);
    let mut total = (target.clone() * logp.clone()).sum_dim(1).neg().mean();
    let decoded = logp.exp();
    if w.l1 > 0.0 {
        total = total + (decoded.clone() - target.clone()).abs().sum_dim(1).mean().mul_scalar(w.l1);
    }
    let used = target.clone().greater_elem(0.0).float();
    if w.support > 0.0 {
        let short = decoded.clone().neg().add_scalar(w.support_margin).clamp_min(0.0) * used.clone();
        total = total + short.sum_dim(1).mean().mul_scalar(w.support);
    }
    if w.spurious > 0.0 {
        // Real slots the artist left at zero, on vertices that have an artist bone in the slots.
        let weighted = target.clone().sum_dim(1).greater_elem(0.0).float();
        let unused = used.clone().neg().add_scalar(1.0) * mask.clone() * weighted;
        let excess = decoded.sub_scalar(w.spurious_margin).clamp_min(0.0) * unused;
        total = total + excess.sum_dim(1).mean().mul_scalar(w.spurious);
    }
    match presence {
        None => total,
        Some(p) => total + presence_loss(p.reshape([q, s]), used, mask).mul_scalar(w.presence),
    }
}

/// Mean binary cross-entropy, over the real slots (`mask` 1), between the presence logits and
/// whether the artist's weight there is non-zero (`present`, 1 or 0).
fn presence_loss<B: Backend>(logits: Tensor<B, 2>, present: Tensor<B, 2>, mask: Tensor<B, 2>) -> Tensor<B, 1> {
    let absent = present.clone().neg().add_scalar(1.0);
    let bce = (present * log_sigmoid(logits.clone()) + absent * log_sigmoid(logits.neg())).neg();
    (bce * mask.clone()).sum() / mask.sum().clamp_min(1.0)
}

/// Mean loss over the validation assets (fixed samples, no gradients).
fn evaluate<B: Backend>(
    model: &SkinTokenizer<B>,
    assets: &[Asset],
    encoded: &[Asset],
    points: usize,
    o: &TrainOptions,
    device: &B::Device,
) -> f32 {
    let losses: Vec<f32> = (0..assets.len())
        .filter(|&a| !assets[a].bones().is_empty())
        .enumerate()
        .map(|(i, a)| {
            let b = asset_batch_from(encoded.get(a).unwrap_or(&assets[a]), &assets[a], points, o.queries, 7919 + i as u64);
            loss(model, &b, o.loss_weights(), device).into_scalar().elem::<f32>()
        })
        .collect();
    if losses.is_empty() {
        f32::NAN
    } else {
        losses.iter().sum::<f32>() / losses.len() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rate_warms_up_then_decays_to_a_tenth() {
        let o = TrainOptions { learning_rate: 1.0, warmup_steps: 10, ..Default::default() };
        assert!((learning_rate(&o, 0, 110) - 0.1).abs() < 1e-9);
        assert!((learning_rate(&o, 10, 110) - 1.0).abs() < 1e-9);
        assert!((learning_rate(&o, 110, 110) - 0.1).abs() < 1e-9);
        assert!(learning_rate(&o, 60, 110) < 1.0 && learning_rate(&o, 60, 110) > 0.1);
    }
}
