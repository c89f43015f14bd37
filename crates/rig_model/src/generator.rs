//! The rig generator: a small decoder-only transformer (RMSNorm, rotary positions, SwiGLU,
//! causal self-attention with a key/value cache) that reads a shape and writes a skeleton
//! (see [`crate::sequence`]) followed by 4 skin tokens per joint.
//!
//! Shapes (B sequences, P surface points, L latents, T tokens, d = `d_model`):
//! - shape encoder: points `[B, P, 6]` (unit position and normal) and queries `[B, L, 6]`
//!   (farthest-point samples of the same points), each lifted with Fourier features; the
//!   queries cross-attend into the points, then one self-attention layer: latents `[B, L, d]`,
//!   prepended to the token sequence (3DShape2VecSet / perceiver style);
//! - token inputs ([`GenInput`]): per position the token (skeleton vocabulary, or
//!   [`SKIN_PAD`] at a skin token), the FSQ digits of a skin token (or each dimension's
//!   "none" index), the role of the *next* token (its axis, parent axis, free choice, skin)
//!   and, when the next token is a skin token, its joint's context (the geometric prior's code
//!   for that bone, its position and its parent's) and its slot 0..3;
//! - outputs per token position: skeleton logits `[B, T, 260]` and skin logits
//!   `[B, T, sum(levels)]` (one softmax per FSQ dimension: the codebook is factorised, so a
//!   64,000-entry codebook costs 39 outputs).

use burn::nn::attention::{MhaInput, MultiHeadAttention, MultiHeadAttentionConfig};
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig, RmsNorm, RmsNormConfig, SwiGlu, SwiGluConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::Int;

use crate::sequence::SKELETON_VOCAB;
use crate::shape::POINT_WIDTH;

/// Token id fed at skin-token positions (the skin token itself enters through its digits).
pub const SKIN_PAD: usize = SKELETON_VOCAB;
/// Roles of the next token: 0 free, 1-3 joint axes, 4-6 parent axes, 7 special/none, 8 skin.
pub const ROLES: usize = 9;
pub const ROLE_SKIN: usize = 8;
pub const ROLE_NONE: usize = 7;
/// Slot index meaning "the next token is not a skin token".
pub const NO_SLOT: usize = crate::sequence::SKIN_TOKENS;
/// Joint context besides the prior's code: the joint's and its parent's unit positions.
pub const CONTEXT_EXTRA: usize = 6;
/// Fourier frequencies per axis for point positions.
const FOURIER: usize = 6;
const POINT_FEATURES: usize = POINT_WIDTH + 3 * 2 * FOURIER;

#[derive(Config, Debug)]
pub struct RigGeneratorConfig {
    #[config(default = 128)]
    pub d_model: usize,
    #[config(default = 4)]
    pub layers: usize,
    #[config(default = 4)]
    pub heads: usize,
    /// Hidden width of the SwiGLU feed-forward layers.
    #[config(default = 256)]
    pub ff_width: usize,
    /// Shape latents prepended to the sequence.
    #[config(default = 32)]
    pub latents: usize,
    /// Surface points the shape encoder reads.
    #[config(default = 1024)]
    pub points: usize,
    /// FSQ levels of a skin token (the tokenizer's).
    #[config(default = "vec![8, 8, 8, 5, 5, 5]")]
    pub levels: Vec<usize>,
    /// Numbers in a bone's prior code (the tokenizer's tokens x dimensions).
    #[config(default = 24)]
    pub code_width: usize,
    /// Most joints a generated skeleton may have.
    #[config(default = 96)]
    pub max_joints: usize,
}

impl RigGeneratorConfig {
    /// Sizes the modules can be built with: rotary positions need an even head width.
    pub fn check(&self) -> Result<(), String> {
        if self.d_model == 0 || self.heads == 0 || !self.d_model.is_multiple_of(2 * self.heads) {
            return Err(format!("d_model ({}) must be a positive multiple of twice the heads ({})", self.d_model, self.heads));
        }
        if self.levels.iter().any(|&l| l < 2) || self.latents == 0 || self.points == 0 || self.layers == 0 || self.max_joints == 0 {
            return Err("FSQ levels must be at least 2, and latents, points, layers and max_joints positive".into());
        }
        Ok(())
    }

    pub fn context_width(&self) -> usize {
        self.code_width + CONTEXT_EXTRA
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> RigGenerator<B> {
        let d = self.d_model;
        let lin = |i, o| LinearConfig::new(i, o).init(device);
        let emb = |n, w| EmbeddingConfig::new(n, w).init(device);
        let norm = || RmsNormConfig::new(d).init(device);
        let mha = || MultiHeadAttentionConfig::new(d, self.heads).init(device);
        RigGenerator {
            point_in: lin(POINT_FEATURES, d),
            latent_emb: emb(self.latents, d),
            cross: mha(),
            cross_norm: [norm(), norm()],
            cross_ff: FeedForward::new(d, self.ff_width, device),
            enc_self: mha(),
            enc_norm: [norm(), norm()],
            enc_ff: FeedForward::new(d, self.ff_width, device),
            token_emb: emb(SKELETON_VOCAB + 1, d),
            role_emb: emb(ROLES, d),
            slot_emb: emb(NO_SLOT + 1, d),
            digit_emb: self.levels.iter().map(|&l| emb(l + 1, d)).collect(),
            context: lin(self.context_width(), d),
            blocks: (0..self.layers).map(|_| Block::new(d, self.heads, self.ff_width, device)).collect(),
            norm: norm(),
            skeleton_head: lin(d, SKELETON_VOCAB),
            skin_head: lin(d, self.levels.iter().sum()),
            levels: self.levels.clone(),
        }
    }
}

/// SwiGLU feed-forward: `down(silu(inner(x)) * outer(x))`.
#[derive(Module, Debug)]
pub struct FeedForward<B: Backend> {
    glu: SwiGlu<B>,
    down: Linear<B>,
}

impl<B: Backend> FeedForward<B> {
    fn new(d: usize, hidden: usize, device: &B::Device) -> Self {
        FeedForward { glu: SwiGluConfig::new(d, hidden).init(device), down: LinearConfig::new(hidden, d).init(device) }
    }
    fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        self.down.forward(self.glu.forward(x))
    }
}

/// Causal self-attention with rotary positions.
#[derive(Module, Debug)]
pub struct SelfAttention<B: Backend> {
    qkv: Linear<B>,
    out: Linear<B>,
    heads: usize,
}

/// Keys and values of the positions already processed, per layer: `[B, H, S, d / H]`.
#[derive(Debug, Clone)]
pub struct KvCache<B: Backend> {
    layers: Vec<Option<(Tensor<B, 4>, Tensor<B, 4>)>>,
}

impl<B: Backend> KvCache<B> {
    pub fn new(layers: usize) -> Self {
        KvCache { layers: vec![None; layers] }
    }

    /// Positions cached so far.
    pub fn len(&self) -> usize {
        self.layers.first().and_then(|l| l.as_ref()).map_or(0, |(k, _)| k.dims()[2])
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the sequences `rows` (in that order), for beam search.
    pub fn select(&mut self, rows: &[usize]) {
        let Some(device) = self.layers.iter().flatten().next().map(|(k, _)| k.device()) else { return };
        let idx = Tensor::<B, 1, Int>::from_data(TensorData::new(rows.iter().map(|&r| r as i64).collect(), [rows.len()]), &device);
        for (k, v) in self.layers.iter_mut().flatten() {
            *k = k.clone().select(0, idx.clone());
            *v = v.clone().select(0, idx.clone());
        }
    }
}

impl<B: Backend> SelfAttention<B> {
    fn new(d: usize, heads: usize, device: &B::Device) -> Self {
        SelfAttention { qkv: LinearConfig::new(d, 3 * d).init(device), out: LinearConfig::new(d, d).init(device), heads }
    }

    /// `x` `[B, T, d]` at positions `start..start + T`; with a cache, attends to the cached
    /// positions too and appends this call's keys and values.
    fn forward(&self, x: Tensor<B, 3>, start: usize, cache: Option<&mut Option<(Tensor<B, 4>, Tensor<B, 4>)>>) -> Tensor<B, 3> {
        let [b, t, d] = x.dims();
        let (h, dh) = (self.heads, d / self.heads);
        let split = |y: Tensor<B, 3>| y.reshape([b, t, h, dh]).swap_dims(1, 2);
        let qkv = self.qkv.forward(x);
        let q = rope(split(qkv.clone().narrow(2, 0, d)), start);
        let mut k = rope(split(qkv.clone().narrow(2, d, d)), start);
        let mut v = split(qkv.narrow(2, 2 * d, d));
        if let Some(slot) = cache {
            if let Some((pk, pv)) = slot.take() {
                k = Tensor::cat(vec![pk, k], 2);
                v = Tensor::cat(vec![pv, v], 2);
            }
            *slot = Some((k.clone(), v.clone()));
        }
        let s = k.dims()[2];
        let scores = q.matmul(k.swap_dims(2, 3)) / (dh as f64).sqrt();
        let mask = causal_mask::<B>(t, s, &scores.device());
        let attn = softmax(scores + mask.unsqueeze::<4>(), 3);
        self.out.forward(attn.matmul(v).swap_dims(1, 2).reshape([b, t, d]))
    }
}

/// Additive mask `[T, S]`: query `i` (the last `T` of `S` positions) sees keys `0..=S-T+i`.
fn causal_mask<B: Backend>(t: usize, s: usize, device: &B::Device) -> Tensor<B, 2> {
    let offset = s - t;
    let data: Vec<f32> = (0..t).flat_map(|i| (0..s).map(move |j| if j <= offset + i { 0.0 } else { -1e9 })).collect();
    Tensor::from_data(TensorData::new(data, [t, s]), device)
}

/// Rotary position encoding of `[B, H, T, dh]` at positions `start..start + T` (halves
/// rotated against each other).
fn rope<B: Backend>(x: Tensor<B, 4>, start: usize) -> Tensor<B, 4> {
    let [_, _, t, dh] = x.dims();
    let half = dh / 2;
    let (mut cos, mut sin) = (Vec::with_capacity(t * dh), Vec::with_capacity(t * dh));
    for p in start..start + t {
        for i in 0..dh {
            let freq = 10_000f32.powf(-((i % half) as f32) / half as f32);
            let a = p as f32 * freq;
            cos.push(a.cos());
            sin.push(if i < half { -a.sin() } else { a.sin() });
        }
    }
    let device = x.device();
    let cos = Tensor::<B, 2>::from_data(TensorData::new(cos, [t, dh]), &device).unsqueeze::<4>();
    let sin = Tensor::<B, 2>::from_data(TensorData::new(sin, [t, dh]), &device).unsqueeze::<4>();
    let swapped = Tensor::cat(vec![x.clone().narrow(3, half, half), x.clone().narrow(3, 0, half)], 3);
    x * cos + swapped * sin
}

#[derive(Module, Debug)]
pub struct Block<B: Backend> {
    norm: [RmsNorm<B>; 2],
    attn: SelfAttention<B>,
    ff: FeedForward<B>,
}

impl<B: Backend> Block<B> {
    fn new(d: usize, heads: usize, ff: usize, device: &B::Device) -> Self {
        Block {
            norm: [RmsNormConfig::new(d).init(device), RmsNormConfig::new(d).init(device)],
            attn: SelfAttention::new(d, heads, device),
            ff: FeedForward::new(d, ff, device),
        }
    }

    fn forward(&self, x: Tensor<B, 3>, start: usize, cache: Option<&mut Option<(Tensor<B, 4>, Tensor<B, 4>)>>) -> Tensor<B, 3> {
        let x = x.clone() + self.attn.forward(self.norm[0].forward(x), start, cache);
        x.clone() + self.ff.forward(self.norm[1].forward(x))
    }
}

/// Per-position inputs of the token part (see the module docs), all `[B, T]` except `digits`
/// (`[B, T, levels.len()]`) and `context` (`[B, T, context_width]`).
#[derive(Debug, Clone)]
pub struct GenInput<B: Backend> {
    pub tokens: Tensor<B, 2, Int>,
    pub digits: Tensor<B, 3, Int>,
    pub roles: Tensor<B, 2, Int>,
    pub slots: Tensor<B, 2, Int>,
    pub context: Tensor<B, 3>,
}

#[derive(Module, Debug)]
pub struct RigGenerator<B: Backend> {
    point_in: Linear<B>,
    latent_emb: Embedding<B>,
    cross: MultiHeadAttention<B>,
    cross_norm: [RmsNorm<B>; 2],
    cross_ff: FeedForward<B>,
    enc_self: MultiHeadAttention<B>,
    enc_norm: [RmsNorm<B>; 2],
    enc_ff: FeedForward<B>,
    token_emb: Embedding<B>,
    role_emb: Embedding<B>,
    slot_emb: Embedding<B>,
    digit_emb: Vec<Embedding<B>>,
    context: Linear<B>,
    blocks: Vec<Block<B>>,
    norm: RmsNorm<B>,
    skeleton_head: Linear<B>,
    skin_head: Linear<B>,
    levels: Vec<usize>,
}

impl<B: Backend> RigGenerator<B> {
    pub fn levels(&self) -> &[usize] {
        &self.levels
    }

    pub fn layers(&self) -> usize {
        self.blocks.len()
    }

    /// Shape latents `[B, L, d]` from points `[B, P, 6]` and queries `[B, L, 6]`.
    pub fn encode_shape(&self, points: Tensor<B, 3>, queries: Tensor<B, 3>) -> Tensor<B, 3> {
        let [b, l, _] = queries.dims();
        let device = points.device();
        let keys = self.point_in.forward(fourier(points));
        let ids = Tensor::<B, 1, Int>::arange(0..l as i64, &device).reshape([1, l]).expand([b, l]);
        let q = self.point_in.forward(fourier(queries)) + self.latent_emb.forward(ids);
        let attended = self.cross.forward(MhaInput::new(self.cross_norm[0].forward(q.clone()), keys.clone(), keys)).context;
        let x = q + attended;
        let x = x.clone() + self.cross_ff.forward(self.cross_norm[1].forward(x));
        let n = self.enc_norm[0].forward(x.clone());
        let x = x + self.enc_self.forward(MhaInput::new(n.clone(), n.clone(), n)).context;
        x.clone() + self.enc_ff.forward(self.enc_norm[1].forward(x))
    }

    /// Token embeddings `[B, T, d]`.
    pub fn embed(&self, input: &GenInput<B>) -> Tensor<B, 3> {
        let mut x = self.token_emb.forward(input.tokens.clone())
            + self.role_emb.forward(input.roles.clone())
            + self.slot_emb.forward(input.slots.clone())
            + self.context.forward(input.context.clone());
        let [b, t, _] = input.digits.dims();
        for (i, e) in self.digit_emb.iter().enumerate() {
            x = x + e.forward(input.digits.clone().narrow(2, i, 1).reshape([b, t]));
        }
        x
    }

    /// Runs the transformer over `x` `[B, T, d]` at positions `start..`, through `cache` when
    /// given; returns the normalised hidden states.
    pub fn run(&self, mut x: Tensor<B, 3>, start: usize, mut cache: Option<&mut KvCache<B>>) -> Tensor<B, 3> {
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward(x, start, cache.as_mut().map(|c| &mut c.layers[i]));
        }
        self.norm.forward(x)
    }

    /// Skeleton logits `[B, T, 260]` and skin logits `[B, T, sum(levels)]`.
    pub fn heads(&self, hidden: Tensor<B, 3>) -> (Tensor<B, 3>, Tensor<B, 3>) {
        (self.skeleton_head.forward(hidden.clone()), self.skin_head.forward(hidden))
    }

    /// Teacher-forced pass for training: latents then tokens, logits at the token positions.
    pub fn forward(&self, latents: Tensor<B, 3>, input: &GenInput<B>) -> (Tensor<B, 3>, Tensor<B, 3>) {
        let l = latents.dims()[1];
        let x = Tensor::cat(vec![latents, self.embed(input)], 1);
        let hidden = self.run(x, 0, None);
        let t = hidden.dims()[1] - l;
        self.heads(hidden.narrow(1, l, t))
    }
}

/// `[.., 6]` points to `[.., 6 + 36]`: position, normal and sin/cos of the position at
/// octave frequencies.
fn fourier<B: Backend>(p: Tensor<B, 3>) -> Tensor<B, 3> {
    let pos = p.clone().narrow(2, 0, 3);
    let mut parts = vec![p];
    for f in 0..FOURIER {
        let scaled = pos.clone() * (std::f32::consts::PI * (1 << f) as f32);
        parts.push(scaled.clone().sin());
        parts.push(scaled.cos());
    }
    Tensor::cat(parts, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuBackend;

    #[test]
    fn rope_keeps_norms_and_depends_on_relative_position() {
        let device = Default::default();
        let x = Tensor::<CpuBackend, 4>::random([1, 2, 3, 8], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
        let y = rope(x.clone(), 5);
        let norm = |t: Tensor<CpuBackend, 4>| t.powi_scalar(2).sum_dim(3).into_data().to_vec::<f32>().unwrap();
        for (a, b) in norm(x.clone()).iter().zip(norm(y)) {
            assert!((a - b).abs() < 1e-4);
        }
        // Scores depend on the distance between positions only.
        let k = Tensor::<CpuBackend, 4>::random([1, 2, 1, 8], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
        let q = x.narrow(2, 0, 1);
        let score = |s: usize| (rope(q.clone(), s) * rope(k.clone(), s + 3)).sum().into_scalar();
        assert!((score(0) - score(40)).abs() < 1e-3);
        assert!((score(0) - (rope(q.clone(), 0) * rope(k.clone(), 7)).sum().into_scalar()).abs() > 1e-4);
    }
}
