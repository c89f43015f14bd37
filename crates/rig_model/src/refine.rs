//! Reward refinement of the generator's skeletons (GRPO-style, after the TokenRig paper): for
//! each training shape a group of skeletons is sampled with the inference settings, each is
//! scored by rewards that need no artist rig (bones inside the volume, the surface covered by
//! bones), and the likelihood of each sample is raised or lowered by how far its reward is above
//! or below its group's mean (in group standard deviations). The teacher-forced loss on the
//! artist's rig stays in the objective with a weight, which keeps the model near its supervised
//! start (in place of the paper's KL term to a frozen reference).

use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use nalgebra::Vector3;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rig_core::metrics::{distance_to_segment, sample_bones};
use rig_core::Task;

use crate::decode::{generate_skeletons, SamplingOptions};
use crate::gen_data::{build_example, shape_tensors, step_rng, Example, GenAsset};
use crate::gen_train::{generator_loss, skeleton_nll};
use crate::generator::{RigGenerator, RigGeneratorConfig};
use crate::sequence::{decode_skeleton, DecodedSkeleton, BOS};
use crate::shape::POINT_WIDTH;

/// Bone samples are this far apart (unit box, [-1, 1]).
const BONE_STEP: f32 = 0.02;

#[derive(Debug, Clone)]
pub struct RefineOptions {
    pub epochs: usize,
    /// Skeletons sampled per shape.
    pub group: usize,
    pub learning_rate: f64,
    /// Weight of the teacher-forced loss on the artist's rig.
    pub anchor: f32,
    /// Weight of the mean surface-to-bone distance in the reward.
    pub coverage_weight: f32,
    pub seed: u64,
}

impl Default for RefineOptions {
    fn default() -> Self {
        RefineOptions { epochs: 2, group: 4, learning_rate: 1e-4, anchor: 1.0, coverage_weight: 5.0, seed: 0 }
    }
}

/// What a skeleton earns on a shape.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reward {
    /// Share of the bone samples inside the surface (0..1).
    pub inside: f32,
    /// Mean distance from a surface sample to the nearest bone (unit box).
    pub distance: f32,
    /// `inside - coverage_weight x distance`.
    pub total: f32,
}

/// One epoch of refinement, for the log.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefineEpoch {
    pub epoch: usize,
    /// Mean reward of the sampled skeletons on the training shapes.
    pub train: Reward,
    /// Mean reward of one sampled skeleton (seed 0) per validation shape.
    pub validation: Reward,
    /// The artists' skeletons on the validation shapes, for scale.
    pub validation_artist: Reward,
}

/// Scores a skeleton (unit coordinates) against the shape's surface samples (unit position and
/// normal): a bone sample is inside when it lies behind its nearest surface sample's normal.
pub fn skeleton_reward(skeleton: &DecodedSkeleton, points: &[[f32; POINT_WIDTH]], coverage_weight: f32) -> Reward {
    let segments = bone_segments(skeleton);
    if segments.is_empty() || points.is_empty() {
        return Reward { inside: 0.0, distance: 2.0, total: -2.0 * coverage_weight };
    }
    let surface: Vec<(Vector3<f32>, Vector3<f32>)> =
        points.iter().map(|s| (Vector3::new(s[0], s[1], s[2]), Vector3::new(s[3], s[4], s[5]))).collect();
    let samples = sample_bones(&segments, BONE_STEP);
    let inside = samples
        .iter()
        .filter(|p| {
            let nearest = surface.iter().min_by(|a, b| (a.0 - **p).norm_squared().total_cmp(&(b.0 - **p).norm_squared()));
            nearest.is_some_and(|(s, n)| (*p - s).dot(n) < 0.0)
        })
        .count() as f32
        / samples.len() as f32;
    let distance = surface.iter().map(|(s, _)| segments.iter().map(|b| distance_to_segment(s, b)).fold(f32::MAX, f32::min)).sum::<f32>()
        / surface.len() as f32;
    Reward { inside, distance, total: inside - coverage_weight * distance }
}

/// Each joint with a parent gives the bone from the parent; a lone joint is a bone of length 0.
fn bone_segments(skeleton: &DecodedSkeleton) -> Vec<(Vector3<f32>, Vector3<f32>)> {
    let p = &skeleton.positions;
    let mut out: Vec<_> = skeleton.parents.iter().enumerate().filter_map(|(j, parent)| parent.map(|q| (p[q], p[j]))).collect();
    if out.is_empty() {
        out.extend(p.iter().map(|&x| (x, x)));
    }
    out
}

/// Group-relative advantages: rewards minus their mean, over their standard deviation; all 0
/// when the group's rewards are equal.
pub fn advantages(rewards: &[f32]) -> Vec<f32> {
    let n = rewards.len().max(1) as f32;
    let mean = rewards.iter().sum::<f32>() / n;
    let std = (rewards.iter().map(|r| (r - mean).powi(2)).sum::<f32>() / n).sqrt();
    rewards.iter().map(|r| if std > 1e-6 { (r - mean) / std } else { 0.0 }).collect()
}

/// Refines `model` on the training shapes; `on_epoch` sees each epoch's rewards and the model
/// after it.
pub fn refine<B: AutodiffBackend>(
    mut model: RigGenerator<B>,
    config: &RigGeneratorConfig,
    options: &RefineOptions,
    train_set: &[GenAsset],
    validation: &[GenAsset],
    device: &B::Device,
    mut on_epoch: impl FnMut(RefineEpoch, &RigGenerator<B>),
) -> RigGenerator<B> {
    let mut optim = AdamConfig::new().init::<B, RigGenerator<B>>();
    let sampling = SamplingOptions::default();
    let mut step = 0usize;
    let validation_artist = artist_reward(config, validation, options);
    for epoch in 0..options.epochs {
        let mut order: Vec<usize> = (0..train_set.len()).collect();
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(options.seed ^ (epoch as u64 + 1)));
        let mut sum = Reward::default();
        for &a in &order {
            let mut rng = step_rng(options.seed, step);
            step += 1;
            let Some(artist) = train_set[a].example(config, false, &mut rng) else { continue };
            let policy = model.valid();
            let (pts, queries) = shape_tensors(&[artist.points.as_slice()], config.latents, device);
            let latents = policy.encode_shape(pts, queries);
            let o = SamplingOptions { seed: options.seed.wrapping_mul(1_000_003).wrapping_add(step as u64), ..sampling.clone() };
            let Ok(group) = generate_skeletons(&policy, config, latents, &o, options.group.max(2), Task::silent()) else { continue };
            let rewards: Vec<Reward> =
                group.iter().map(|c| skeleton_reward(&c.skeleton, &artist.points, options.coverage_weight)).collect();
            add(&mut sum, &mean_reward(&rewards));
            let adv = advantages(&rewards.iter().map(|r| r.total).collect::<Vec<_>>());
            let samples: Vec<_> = group.iter().map(|c| build_example(config, artist.points.clone(), &c.tokens, &[], &[])).collect();
            let nll = skeleton_nll(&model, config, &samples, device);
            let weights = Tensor::<B, 1>::from_data(TensorData::new(adv, [samples.len()]), device);
            let (anchor, _) = generator_loss(&model, config, &[artist], device);
            let loss = (nll * weights).mean() + anchor * options.anchor;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(options.learning_rate, model, grads);
        }
        let n = train_set.len().max(1) as f32;
        let train = Reward { inside: sum.inside / n, distance: sum.distance / n, total: sum.total / n };
        let validation = generated_reward(&model.valid(), config, validation, options, device);
        on_epoch(RefineEpoch { epoch: epoch + 1, train, validation, validation_artist }, &model);
    }
    model
}

/// The skeleton a teacher-forced example writes (its unit coordinates, as tokens).
fn artist_skeleton(e: &Example) -> DecodedSkeleton {
    let tokens: Vec<u32> = std::iter::once(BOS).chain(e.skeleton_target.iter().map_while(|t| *t)).collect();
    decode_skeleton(&tokens).unwrap_or_default()
}

fn add(sum: &mut Reward, r: &Reward) {
    sum.inside += r.inside;
    sum.distance += r.distance;
    sum.total += r.total;
}

fn mean_reward(rewards: &[Reward]) -> Reward {
    let mut sum = Reward::default();
    rewards.iter().for_each(|r| add(&mut sum, r));
    let n = rewards.len().max(1) as f32;
    Reward { inside: sum.inside / n, distance: sum.distance / n, total: sum.total / n }
}

/// Mean reward of one sampled skeleton (seed 0, the inference default) per validation shape,
/// and of the artists' skeletons on the same shapes.
pub fn validation_rewards<B: Backend>(
    model: &RigGenerator<B>,
    config: &RigGeneratorConfig,
    assets: &[GenAsset],
    options: &RefineOptions,
    device: &B::Device,
) -> (Reward, Reward) {
    (generated_reward(model, config, assets, options, device), artist_reward(config, assets, options))
}

/// The validation example of each asset (fixed seeds: the same shapes every epoch).
fn validation_examples<'a>(config: &'a RigGeneratorConfig, assets: &'a [GenAsset]) -> impl Iterator<Item = Example> + 'a {
    assets.iter().enumerate().filter_map(|(i, a)| a.example(config, false, &mut step_rng(7919, i)))
}

/// Mean reward of one sampled skeleton (seed 0) per validation shape.
fn generated_reward<B: Backend>(
    model: &RigGenerator<B>,
    config: &RigGeneratorConfig,
    assets: &[GenAsset],
    options: &RefineOptions,
    device: &B::Device,
) -> Reward {
    let rewards: Vec<Reward> = validation_examples(config, assets)
        .filter_map(|e| {
            let (pts, queries) = shape_tensors(&[e.points.as_slice()], config.latents, device);
            let latents = model.encode_shape(pts, queries);
            let mut c = generate_skeletons(model, config, latents, &SamplingOptions::default(), 1, Task::silent()).ok()?;
            Some(skeleton_reward(&c.remove(0).skeleton, &e.points, options.coverage_weight))
        })
        .collect();
    mean_reward(&rewards)
}

/// Mean reward of the artists' skeletons on the validation shapes (it never changes during a
/// run: computed once).
fn artist_reward(config: &RigGeneratorConfig, assets: &[GenAsset], options: &RefineOptions) -> Reward {
    let rewards: Vec<Reward> =
        validation_examples(config, assets).map(|e| skeleton_reward(&artist_skeleton(&e), &e.points, options.coverage_weight)).collect();
    mean_reward(&rewards)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Surface samples of a box `[-h, h]^3` (6 faces, outward normals).
    fn box_points(h: f32) -> Vec<[f32; POINT_WIDTH]> {
        let mut out = Vec::new();
        for axis in 0..3 {
            for sign in [-1.0f32, 1.0] {
                for u in 0..10 {
                    for v in 0..10 {
                        let (a, b) = (-h + 2.0 * h * (u as f32 + 0.5) / 10.0, -h + 2.0 * h * (v as f32 + 0.5) / 10.0);
                        let mut p = [0.0; POINT_WIDTH];
                        p[axis] = sign * h;
                        p[(axis + 1) % 3] = a;
                        p[(axis + 2) % 3] = b;
                        p[3 + axis] = sign;
                        out.push(p);
                    }
                }
            }
        }
        out
    }

    fn chain(points: &[[f32; 3]]) -> DecodedSkeleton {
        DecodedSkeleton {
            positions: points.iter().map(|p| Vector3::from(*p)).collect(),
            parents: (0..points.len()).map(|j| j.checked_sub(1)).collect(),
        }
    }

    #[test]
    fn bones_inside_score_higher_than_bones_outside() {
        let points = box_points(0.5);
        let inside = skeleton_reward(&chain(&[[0.0, -0.4, 0.0], [0.0, 0.4, 0.0]]), &points, 5.0);
        let outside = skeleton_reward(&chain(&[[0.0, -0.4, 0.9], [0.0, 0.4, 0.9]]), &points, 5.0);
        assert_eq!(inside.inside, 1.0);
        assert_eq!(outside.inside, 0.0);
        assert!(inside.total > outside.total);
    }

    #[test]
    fn a_skeleton_reaching_the_corners_covers_more() {
        let points = box_points(0.5);
        let short = skeleton_reward(&chain(&[[0.0, -0.1, 0.0], [0.0, 0.1, 0.0]]), &points, 5.0);
        let star = DecodedSkeleton {
            positions: [[0.0, 0.0, 0.0], [0.4, 0.4, 0.4], [-0.4, -0.4, -0.4], [0.4, -0.4, 0.4], [-0.4, 0.4, -0.4]]
                .iter()
                .map(|p| Vector3::from(*p))
                .collect(),
            parents: vec![None, Some(0), Some(0), Some(0), Some(0)],
        };
        let star = skeleton_reward(&star, &points, 5.0);
        assert!(star.distance < short.distance, "{star:?} {short:?}");
        assert!(star.total > short.total);
    }

    #[test]
    fn advantages_are_centred_and_scaled_per_group() {
        let a = advantages(&[1.0, 2.0, 3.0, 4.0]);
        assert!(a.iter().sum::<f32>().abs() < 1e-5);
        assert!(a[3] > a[2] && a[2] > a[1] && a[1] > a[0]);
        assert!((a.iter().map(|x| x * x).sum::<f32>() / 4.0 - 1.0).abs() < 1e-4);
        assert_eq!(advantages(&[2.0, 2.0]), vec![0.0, 0.0]);
    }
}
