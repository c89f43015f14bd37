//! The generator's sequences: per-position input rows (shared by training and decoding, so the
//! two cannot drift), training examples from rigged characters with augmentation, and batches
//! as tensors.

use burn::prelude::*;
use burn::tensor::Int;
use nalgebra::Vector3;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rig_core::autoskin::bones::bind_positions;
use rig_core::{Rig, Task};

use crate::data::Asset;
use crate::features::ShapeField;
use crate::generator::{GenInput, RigGeneratorConfig, NO_SLOT, ROLE_NONE, ROLE_SKIN, SKIN_PAD};
use crate::sequence::{encode_skeleton, Frame, Grammar, BOS, CLASS, EOS, SKIN_TOKENS};
use crate::shape::{farthest_points, normalise_samples, surface_samples, POINT_WIDTH};
use crate::skin;
use crate::tokenizer::SkinTokenizer;
use crate::{fsq, CpuBackend};

/// Surface samples kept per training asset (each step draws the model's `points` from them).
const SAMPLE_POOL: usize = 4096;

/// One position of the token part.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Skeleton vocabulary id, or [`SKIN_PAD`] at a skin token.
    pub token: usize,
    /// FSQ digits of a skin token; each dimension's "none" index (its level) otherwise.
    pub digits: Vec<usize>,
    /// Role of the next token.
    pub role: usize,
    /// Slot of the next token when it is a skin token, else [`NO_SLOT`].
    pub slot: usize,
    /// Context of the next skin token's joint, zeros otherwise.
    pub context: Vec<f32>,
}

/// What the model knows of an emitted joint when writing its skin tokens.
#[derive(Debug, Clone)]
pub struct JointContext {
    /// The geometric prior's code for the bone (tokenizer values), zeros for a joint without.
    pub code: Vec<f32>,
    pub position: Vector3<f32>,
    pub parent: Vector3<f32>,
}

impl JointContext {
    fn values(&self) -> Vec<f32> {
        let mut v = self.code.clone();
        v.extend(self.position.iter().chain(self.parent.iter()));
        v
    }
}

/// The context of each joint in writing order `order` (indices into `unit` and `parents`; a
/// root's parent position is its own), with `code` giving a joint's prior code.
pub fn joint_contexts(
    order: &[usize],
    unit: &[Vector3<f32>],
    parents: &[Option<usize>],
    code: impl Fn(usize) -> Vec<f32>,
) -> Vec<JointContext> {
    order.iter().map(|&j| JointContext { code: code(j), position: unit[j], parent: parents[j].map_or(unit[j], |p| unit[p]) }).collect()
}

/// FSQ digits of a token id (first dimension most significant, as [`fsq::token_ids`]).
pub fn digits(id: u32, levels: &[usize]) -> Vec<usize> {
    let mut out = vec![0; levels.len()];
    let mut rest = id as usize;
    for (i, &l) in levels.iter().enumerate().rev() {
        out[i] = rest % l;
        rest /= l;
    }
    out
}

/// The token id of FSQ digits.
pub fn token_of(digits: &[usize], levels: &[usize]) -> u32 {
    digits.iter().zip(levels).fold(0u32, |id, (&d, &l)| id * l as u32 + d as u32)
}

/// Builds rows one token at a time.
#[derive(Debug, Clone)]
pub struct RowWriter {
    levels: Vec<usize>,
    context_width: usize,
    grammar: Grammar,
    pub rows: Vec<Row>,
}

impl RowWriter {
    pub fn new(config: &RigGeneratorConfig) -> Self {
        RowWriter {
            levels: config.levels.clone(),
            context_width: config.context_width(),
            grammar: Grammar::new(config.max_joints),
            rows: Vec::new(),
        }
    }

    fn none_digits(&self) -> Vec<usize> {
        self.levels.clone()
    }

    /// Appends a skeleton token (`BOS`, `CLASS`, then what the grammar allows). `first_skin`
    /// is the context of joint 0, needed when `t` is `EOS` (the skin tokens follow).
    pub fn push_skeleton(&mut self, t: u32, first_skin: Option<&JointContext>) {
        let (role, slot, context) = match t {
            BOS => (ROLE_NONE, NO_SLOT, None),
            CLASS => (self.grammar.next_role(), NO_SLOT, None),
            EOS => match first_skin {
                Some(c) => (ROLE_SKIN, 0, Some(c.values())),
                None => (ROLE_NONE, NO_SLOT, None),
            },
            t => {
                self.grammar.push(t);
                (self.grammar.next_role(), NO_SLOT, None)
            }
        };
        let context = context.unwrap_or_else(|| vec![0.0; self.context_width]);
        self.rows.push(Row { token: t as usize, digits: self.none_digits(), role, slot, context });
    }

    /// Appends a skin token; `next` is the next skin token's slot and joint (None at the end).
    pub fn push_skin(&mut self, id: u32, next: Option<(usize, &JointContext)>) {
        let (role, slot, context) = match next {
            Some((slot, c)) => (ROLE_SKIN, slot, c.values()),
            None => (ROLE_NONE, NO_SLOT, vec![0.0; self.context_width]),
        };
        self.rows.push(Row { token: SKIN_PAD, digits: digits(id, &self.levels), role, slot, context });
    }

    pub fn grammar(&self) -> &Grammar {
        &self.grammar
    }
}

/// The next skin token's (slot, joint) after the `k`-th skin token of a sequence with
/// `joints` joints.
pub fn next_skin_slot(k: usize, joints: usize) -> Option<(usize, usize)> {
    let n = k + 1;
    (n < joints * SKIN_TOKENS).then_some((n % SKIN_TOKENS, n / SKIN_TOKENS))
}

/// Rows `[B, T]` as model input (padded at the end with empty rows).
pub fn input_tensors<B: Backend>(batch: &[&[Row]], config: &RigGeneratorConfig, device: &B::Device) -> GenInput<B> {
    let t = batch.iter().map(|r| r.len()).max().unwrap_or(0).max(1);
    let (b, nd, cw) = (batch.len(), config.levels.len(), config.context_width());
    let (mut tokens, mut dig, mut roles, mut slots, mut ctx) = (vec![], vec![], vec![], vec![], vec![]);
    for rows in batch {
        for i in 0..t {
            match rows.get(i) {
                Some(r) => {
                    tokens.push(r.token as i64);
                    dig.extend(r.digits.iter().map(|&d| d as i64));
                    roles.push(r.role as i64);
                    slots.push(r.slot as i64);
                    ctx.extend_from_slice(&r.context);
                }
                None => {
                    tokens.push(EOS as i64);
                    dig.extend(config.levels.iter().map(|&l| l as i64));
                    roles.push(ROLE_NONE as i64);
                    slots.push(NO_SLOT as i64);
                    ctx.extend(std::iter::repeat_n(0.0, cw));
                }
            }
        }
    }
    GenInput {
        tokens: Tensor::<B, 2, Int>::from_data(TensorData::new(tokens, [b, t]), device),
        digits: Tensor::<B, 3, Int>::from_data(TensorData::new(dig, [b, t, nd]), device),
        roles: Tensor::<B, 2, Int>::from_data(TensorData::new(roles, [b, t]), device),
        slots: Tensor::<B, 2, Int>::from_data(TensorData::new(slots, [b, t]), device),
        context: Tensor::<B, 3>::from_data(TensorData::new(ctx, [b, t, cw]), device),
    }
}

/// Points and their farthest-point queries as `[B, P, 6]` and `[B, L, 6]` tensors.
pub fn shape_tensors<B: Backend>(batch: &[&[[f32; POINT_WIDTH]]], latents: usize, device: &B::Device) -> (Tensor<B, 3>, Tensor<B, 3>) {
    let p = batch.first().map_or(0, |s| s.len());
    let (mut points, mut queries): (Vec<f32>, Vec<f32>) = (Vec::new(), Vec::new());
    for s in batch {
        points.extend(s.iter().flatten());
        let q = farthest_points(s, latents);
        queries.extend((0..latents).flat_map(|i| q.get(i % q.len().max(1)).map_or([0.0; POINT_WIDTH], |&k| s[k])));
    }
    (
        Tensor::from_data(TensorData::new(points, [batch.len(), p, POINT_WIDTH]), device),
        Tensor::from_data(TensorData::new(queries, [batch.len(), latents, POINT_WIDTH]), device),
    )
}

/// The joints the generator learns from a rig: every deforming joint and its ancestors, in
/// the one tree with the most deforming joints. Returns the kept joints (parents first) and
/// their parents as indices into the kept list.
pub fn kept_joints(rig: &Rig) -> (Vec<usize>, Vec<Option<usize>>) {
    let s = &rig.skeleton;
    let mut keep = vec![false; s.len()];
    for j in (0..s.len()).filter(|&j| s.joints[j].deform) {
        let mut k = Some(j);
        while let Some(i) = k {
            keep[i] = true;
            k = s.joints[i].parent;
        }
    }
    let root_of = |mut j: usize| {
        while let Some(p) = s.joints[j].parent {
            j = p;
        }
        j
    };
    let mut count = vec![0usize; s.len()];
    (0..s.len()).filter(|&j| s.joints[j].deform).for_each(|j| count[root_of(j)] += 1);
    let main = (0..s.len()).max_by_key(|&r| (count[r], usize::MAX - r)).unwrap_or(0);
    let kept: Vec<usize> = (0..s.len()).filter(|&j| keep[j] && root_of(j) == main).collect();
    let parents = kept.iter().map(|&j| s.joints[j].parent.and_then(|p| kept.iter().position(|&k| k == p))).collect();
    (kept, parents)
}

/// A rigged character prepared for the generator (mesh space; normalised per example).
pub struct GenAsset {
    pub name: String,
    samples: Vec<[f32; POINT_WIDTH]>,
    joints: Vec<Vector3<f32>>,
    parents: Vec<Option<usize>>,
    /// The artist's skin tokens per kept joint (None for a joint without weight).
    skin: Vec<Option<Vec<u32>>>,
    /// The geometric prior's code per kept joint.
    codes: Vec<Vec<f32>>,
}

/// One training sequence.
pub struct Example {
    pub points: Vec<[f32; POINT_WIDTH]>,
    pub rows: Vec<Row>,
    /// Per row, the next skeleton token (None where the next is not one).
    pub skeleton_target: Vec<Option<u32>>,
    /// Per row, the next skin token's digits (None where the next is not a skin token, or its
    /// joint has no artist weight).
    pub skin_target: Vec<Option<Vec<usize>>>,
}

impl GenAsset {
    /// Encodes the artist's skin and the geometric prior with the tokenizer. `asset` is the
    /// tokenizer's view of the same rig (its shape field holds the prior).
    pub fn new(rig: &Rig, asset: &Asset, tokenizer: &SkinTokenizer<CpuBackend>) -> Option<GenAsset> {
        let (kept, parents) = kept_joints(rig);
        if kept.is_empty() {
            return None;
        }
        let device = Default::default();
        let artist = skin::encode(tokenizer, asset, &device);
        let codes = prior_codes(tokenizer, &prior_asset(asset.field.clone()), &Default::default());
        let positions = bind_positions(&rig.skeleton);
        // Mesh space: examples normalise after augmenting.
        let samples = surface_samples(&rig.mesh, &Frame::identity(), SAMPLE_POOL, 1);
        if samples.is_empty() {
            return None;
        }
        let width = tokenizer.code_width();
        Some(GenAsset {
            name: asset.name.clone(),
            samples,
            joints: kept.iter().map(|&j| positions[j]).collect(),
            parents,
            skin: kept.iter().map(|&j| artist[j].clone()).collect(),
            codes: kept.iter().map(|&j| codes[j].clone().unwrap_or_else(|| vec![0.0; width])).collect(),
        })
    }

    pub fn joint_count(&self) -> usize {
        self.joints.len()
    }

    /// The same asset teaching only its skeleton: no skin token of it is a target (the skin
    /// rows still follow the skeleton in its sequences, as tokens of id 0).
    pub fn skeleton_only(mut self) -> GenAsset {
        self.skin.iter_mut().for_each(|s| *s = None);
        self
    }

    /// A training sequence: with `augment`, the shape and skeleton are mirrored at random and
    /// scaled by 0.85-1.15 per axis before normalising (the skin tokens and prior codes do not
    /// change under a mirror, and barely under a mild scale).
    pub fn example(&self, config: &RigGeneratorConfig, augment: bool, rng: &mut StdRng) -> Option<Example> {
        let mut scale = Vector3::repeat(1.0f32);
        if augment {
            scale = Vector3::from_fn(|_, _| rng.gen_range(0.85..1.15));
            if rng.gen_bool(0.5) {
                scale.x = -scale.x;
            }
        }
        let warp = |p: &Vector3<f32>| p.component_mul(&scale);
        let mut points: Vec<[f32; POINT_WIDTH]> = self.samples.choose_multiple(rng, config.points).copied().collect();
        for s in &mut points {
            let p = warp(&Vector3::new(s[0], s[1], s[2]));
            let n = Vector3::new(s[3], s[4], s[5]).component_div(&scale).try_normalize(1e-12).unwrap_or_else(Vector3::y);
            *s = [p.x, p.y, p.z, n.x, n.y, n.z];
        }
        let (frame, points) = normalise_samples(points);
        let unit: Vec<Vector3<f32>> = self.joints.iter().map(|p| frame.to_unit(&warp(p))).collect();
        let seq = encode_skeleton(&unit, &self.parents)?;
        let contexts = joint_contexts(&seq.order, &unit, &self.parents, |j| self.codes[j].clone());
        let skin: Vec<Option<Vec<u32>>> = seq.order.iter().map(|&j| self.skin[j].clone()).collect();
        Some(build_example(config, points, &seq.tokens, &contexts, &skin))
    }
}

/// Rows and targets of a whole sequence (teacher forcing). With no `contexts` the sequence
/// ends at the skeleton's `EOS`.
pub fn build_example(
    config: &RigGeneratorConfig,
    points: Vec<[f32; POINT_WIDTH]>,
    skeleton: &[u32],
    contexts: &[JointContext],
    skin: &[Option<Vec<u32>>],
) -> Example {
    let mut w = RowWriter::new(config);
    let mut skeleton_target = Vec::new();
    let mut skin_target = Vec::new();
    for (i, &t) in skeleton.iter().enumerate() {
        w.push_skeleton(t, contexts.first());
        skeleton_target.push(skeleton.get(i + 1).copied());
        skin_target.push(if t == EOS { skin_digits(skin, 0, &config.levels) } else { None });
    }
    let total = contexts.len() * SKIN_TOKENS;
    for k in 0..total {
        let id = skin[k / SKIN_TOKENS].as_ref().map_or(0, |t| t[k % SKIN_TOKENS]);
        let next = next_skin_slot(k, contexts.len());
        w.push_skin(id, next.map(|(slot, j)| (slot, &contexts[j])));
        skeleton_target.push(None);
        skin_target.push(next.and_then(|_| skin_digits(skin, k + 1, &config.levels)));
    }
    Example { points, rows: w.rows, skeleton_target, skin_target }
}

fn skin_digits(skin: &[Option<Vec<u32>>], k: usize, levels: &[usize]) -> Option<Vec<usize>> {
    skin.get(k / SKIN_TOKENS)?.as_ref().map(|t| digits(t[k % SKIN_TOKENS], levels))
}

/// An asset whose truth is its shape field's geometric prior (what [`prior_codes`] encodes).
pub fn prior_asset(field: ShapeField) -> Asset {
    Asset::from_prior(String::new(), field)
}

/// The tokenizer's code of each joint's weights in `prior` (see [`prior_asset`]).
pub fn prior_codes<B: Backend>(tokenizer: &SkinTokenizer<B>, prior: &Asset, device: &B::Device) -> Vec<Option<Vec<f32>>> {
    skin::encode(tokenizer, prior, device).into_iter().map(|t| t.map(|ids| fsq::token_values(&ids, tokenizer.levels()))).collect()
}

/// Loads `rig` for generator training: its tokenizer asset and the generator's view of it.
pub fn gen_asset(rig: &Rig, tokenizer: &SkinTokenizer<CpuBackend>) -> Result<GenAsset, String> {
    let asset = Asset::new(rig, tokenizer.prior(), Task::silent()).map_err(|e| e.to_string())?;
    GenAsset::new(rig, &asset, tokenizer).ok_or_else(|| "no deforming joint".to_string())
}

/// Context width check: the prior code must be as wide as the config expects.
pub fn check_code_width<B: Backend>(config: &RigGeneratorConfig, tokenizer: &SkinTokenizer<B>) -> Result<(), String> {
    let width = tokenizer.code_width();
    if width != config.code_width || tokenizer.levels() != config.levels.as_slice() {
        return Err(format!(
            "the generator expects a tokenizer with levels {:?} and {} code numbers, the tokenizer has {:?} and {width}",
            config.levels,
            config.code_width,
            tokenizer.levels()
        ));
    }
    Ok(())
}

/// A deterministic generator for a step's example.
pub fn step_rng(seed: u64, step: usize) -> StdRng {
    StdRng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9).wrapping_add(step as u64))
}
