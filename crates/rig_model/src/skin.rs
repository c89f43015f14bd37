//! Inference with the skin tokenizer: a rig's weights to tokens (4 per bone) and tokens back to
//! weights on every vertex.

use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rayon::prelude::*;
use rig_core::{Cancelled, InfluenceLimit, SkinWeights, Task};

use crate::data::{query_batch, slot_bones, Asset, CANDIDATE_SLOTS, VERTEX_CANDIDATES};
use crate::features::{ShapeField, FEATURES};
use crate::fsq;
use crate::tokenizer::SkinTokenizer;
use crate::train::{code_loss, LossWeights};

/// Decoder rows per forward pass (bounds memory on large meshes).
const CHUNK_ROWS: usize = 32_768;

/// How decoded per-bone weights become a skin.
#[derive(Debug, Clone, Copy)]
pub struct DecodeOptions {
    /// Influences kept per vertex and the smallest share one may have.
    pub limit: InfluenceLimit,
    /// With a presence head: bones whose presence probability is under this are dropped (the
    /// vertex's strongest bone is always kept).
    pub min_presence: f32,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { limit: InfluenceLimit { max_influences: 4, min_weight: 0.1 }, min_presence: 0.5 }
    }
}

/// Tokens of every bone of `asset` (from the artist's weights), `None` for non-deforming joints.
pub fn encode<B: Backend>(model: &SkinTokenizer<B>, asset: &Asset, device: &B::Device) -> Vec<Option<Vec<u32>>> {
    let bones = asset.bones();
    if bones.is_empty() {
        return vec![None; asset.field.joint_count()];
    }
    let codes = model.encode(encoder_input(model, asset, &bones, device));
    token_rows(codes, &bones, asset.field.joint_count(), model.levels())
}

/// The encoder's fixed samples of each bone in `bones` (seeded by the joint index).
fn encoder_input<B: Backend>(model: &SkinTokenizer<B>, asset: &Asset, bones: &[usize], device: &B::Device) -> Tensor<B, 3> {
    let points = model.points();
    let mut rows = Vec::with_capacity(bones.len() * points * (FEATURES + 2));
    for &j in bones {
        let mut rng = StdRng::seed_from_u64(j as u64);
        asset.encoder_rows(j, &asset.sample_vertices(j, points, &mut rng), &mut rows);
    }
    Tensor::<B, 3>::from_data(TensorData::new(rows, [bones.len(), points, FEATURES + 2]), device)
}

/// Token ids per joint from quantised codes `[bones, code_width]` in `bones` order.
fn token_rows<B: Backend>(codes: Tensor<B, 2>, bones: &[usize], joints: usize, levels: &[usize]) -> Vec<Option<Vec<u32>>> {
    let codes: Vec<f32> = codes.into_data().to_vec().unwrap_or_default();
    let width = codes.len() / bones.len().max(1);
    let mut out = vec![None; joints];
    for (i, &j) in bones.iter().enumerate() {
        out[j] = Some(fsq::token_ids(&codes[i * width..(i + 1) * width], levels));
    }
    out
}

/// How [`encode_refined`] searches for better tokens.
#[derive(Debug, Clone, Copy)]
pub struct RefineEncoding {
    /// Gradient steps on the latents (0: the encoder's tokens as they are).
    pub steps: usize,
    /// Vertices scored per step.
    pub queries: usize,
    /// Adam's step size on the latents (before FSQ's squashing) at the first step; it falls
    /// along a cosine to `final_rate` at the last.
    pub learning_rate: f32,
    pub final_rate: f32,
    /// The terms of [`code_loss`] next to the cross-entropy that the search lowers: by default
    /// the presence head's at weight 1, 20 x L1, 30 x the hinge under each artist influence at
    /// 6 %, and no hinge over unused bones.
    pub loss: LossWeights,
}

impl Default for RefineEncoding {
    fn default() -> Self {
        RefineEncoding {
            steps: 100,
            queries: 1024,
            learning_rate: 0.2,
            final_rate: 0.2,
            loss: LossWeights { presence: 1.0, l1: 20.0, support: 30.0, support_margin: 0.06, spurious: 0.0, spurious_margin: 0.02 },
        }
    }
}

/// Tokens of every bone of `asset`, found by analysis through synthesis: start from the
/// encoder's latents, then take `r.steps` Adam steps on them (all bones at once, the decoder
/// fixed, through FSQ's straight-through rounding) that lower [`code_loss`] against the
/// artist's weights at `r.queries` random vertices: the cross-entropy and the terms `r.loss`
/// weighs (L1, the hinges, and for a tokenizer with a presence head, its cross-entropy). The vertices are seeded by the step, so the tokens are the same
/// on every run. The decoder is the one [`encode`]'s tokens go through; only the search for
/// the tokens that reproduce the weights is better.
pub fn encode_refined<B: AutodiffBackend>(
    model: &SkinTokenizer<B>,
    asset: &Asset,
    r: &RefineEncoding,
    device: &B::Device,
) -> Vec<Option<Vec<u32>>> {
    let bones = asset.bones();
    if bones.is_empty() {
        return vec![None; asset.field.joint_count()];
    }
    let model = model.clone().no_grad();
    let levels = model.levels().to_vec();
    let mut latent = model.encode_latent(encoder_input(&model, asset, &bones, device)).inner();
    let mut adam = LatentAdam::new(latent.zeros_like());
    for step in 0..r.steps {
        let batch = query_batch(asset, r.queries, step as u64);
        let z = Tensor::<B, 2>::from_inner(latent.clone()).require_grad();
        let loss = code_loss(&model, fsq::quantize(z.clone(), &levels), &batch, r.loss, device);
        let grads = loss.backward();
        if let Some(g) = z.grad(&grads) {
            latent = adam.step(latent, g, r.rate_at(step));
        }
    }
    let codes = fsq::quantize(latent, &levels);
    token_rows(codes, &bones, asset.field.joint_count(), &levels)
}

impl RefineEncoding {
    /// The step size at `step`: cosine from `learning_rate` to `final_rate`.
    fn rate_at(&self, step: usize) -> f32 {
        let t = step as f32 / self.steps.saturating_sub(1).max(1) as f32;
        self.final_rate + (self.learning_rate - self.final_rate) * 0.5 * (1.0 + (std::f32::consts::PI * t).cos())
    }
}

/// Adam on one tensor (burn's optimisers step modules, not free tensors).
struct LatentAdam<B: Backend> {
    mean: Tensor<B, 2>,
    square: Tensor<B, 2>,
    t: i32,
}

impl<B: Backend> LatentAdam<B> {
    fn new(zeros: Tensor<B, 2>) -> Self {
        LatentAdam { mean: zeros.clone(), square: zeros, t: 0 }
    }

    fn step(&mut self, x: Tensor<B, 2>, grad: Tensor<B, 2>, lr: f32) -> Tensor<B, 2> {
        let (b1, b2) = (0.9f32, 0.999f32);
        self.t += 1;
        self.mean = self.mean.clone().mul_scalar(b1) + grad.clone().mul_scalar(1.0 - b1);
        self.square = self.square.clone().mul_scalar(b2) + grad.powi_scalar(2).mul_scalar(1.0 - b2);
        let m = self.mean.clone().div_scalar(1.0 - b1.powi(self.t));
        let v = self.square.clone().div_scalar(1.0 - b2.powi(self.t));
        x - m.div(v.sqrt().add_scalar(1e-8)).mul_scalar(lr)
    }
}

/// A skin predictor's weights for `field`'s skeleton: each bone's code read from the geometric
/// prior's weights, then decoded as [`decode`] does (the artist's weights are not needed).
/// Fails only when `task` is cancelled (checked between the encoder and the decoder).
pub fn predict<B: Backend>(
    model: &SkinTokenizer<B>,
    field: ShapeField,
    options: &DecodeOptions,
    task: Task,
    device: &B::Device,
) -> Result<SkinWeights, Cancelled> {
    let prior = Asset::from_prior(String::new(), field);
    let tokens = encode(model, &prior, device);
    task.stage("skin from tokens", 0.0)?;
    Ok(decode(model, &prior.field, &tokens, options, device))
}

/// Weights for every vertex of `field` from each bone's tokens: at each vertex a softmax over
/// the bones competing there (up to 8 nearest through the solid plus those the prior names, 12
/// at most). A vertex none of whose competing bones has tokens gets the geometric prior's row,
/// so no vertex is ever left unweighted.
pub fn decode<B: Backend>(
    model: &SkinTokenizer<B>,
    field: &ShapeField,
    tokens: &[Option<Vec<u32>>],
    options: &DecodeOptions,
    device: &B::Device,
) -> SkinWeights {
    let levels = model.levels();
    let codes: Vec<Option<Vec<f32>>> = tokens.iter().map(|t| t.as_ref().map(|t| fsq::token_values(t, levels))).collect();
    if codes.iter().all(Option::is_none) {
        return SkinWeights::from_rows(field.prior_rows().to_vec());
    }
    // A vertex with one competing bone takes it whole (a softmax over one slot is 1): only the
    // others go through the decoder.
    let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); field.vertex_count()];
    let mut shared = Vec::new();
    for (v, row) in rows.iter_mut().enumerate() {
        match field.vertex_candidates_where(v, VERTEX_CANDIDATES, |j| codes[j].is_some()).as_slice() {
            [j] => row.push((*j as u32, 1.0)),
            _ => shared.push(v),
        }
    }
    // Chunks in parallel: the CPU backend's matrix products run on one thread each.
    let decoded: Vec<Vec<Vec<(u32, f32)>>> = shared
        .par_chunks(CHUNK_ROWS / CANDIDATE_SLOTS)
        .map(|chunk| decode_vertices(model, field, &codes, chunk, options, device))
        .collect();
    for (&v, row) in shared.iter().zip(decoded.into_iter().flatten()) {
        rows[v] = row;
    }
    let rows = rows.into_iter().zip(field.prior_rows()).map(|(row, prior)| finish_row(row, prior, options));
    SkinWeights::from_rows(rows)
}

/// Softmax over each vertex's competing bones that have a code. The decoder scores one row
/// per (vertex, competing bone) on its own, so only real pairs are scored (no padding to
/// `CANDIDATE_SLOTS`) and the softmax runs per vertex over its own rows. With a presence head,
/// bones it deems absent (under `options.min_presence`) get weight 0, the strongest excepted.
fn decode_vertices<B: Backend>(
    model: &SkinTokenizer<B>,
    field: &ShapeField,
    codes: &[Option<Vec<f32>>],
    vertices: &[usize],
    options: &DecodeOptions,
    device: &B::Device,
) -> Vec<Vec<(u32, f32)>> {
    let width = codes.iter().flatten().next().map_or(0, |c| c.len());
    let mut slots = Vec::with_capacity(vertices.len());
    let (mut feats, mut code_rows) = (Vec::new(), Vec::new());
    for &v in vertices {
        let bones = slot_bones(field, v, |j| codes[j].is_some());
        for &j in &bones {
            feats.extend(field.features(j, v));
            code_rows.extend_from_slice(codes[j].as_deref().unwrap_or_default());
        }
        slots.push(bones);
    }
    let rows = feats.len() / FEATURES;
    if rows == 0 {
        return slots.into_iter().map(|_| Vec::new()).collect();
    }
    let f = Tensor::<B, 2>::from_data(TensorData::new(feats, [rows, FEATURES]), device);
    let c = Tensor::<B, 2>::from_data(TensorData::new(code_rows, [rows, width]), device);
    let (logits, presence) = model.decode_heads(f, c);
    let logits: Vec<f32> = logits.into_data().to_vec().unwrap_or_default();
    // A logit under this means a presence probability under `min_presence`.
    let min_logit = {
        let p = options.min_presence.clamp(1e-6, 1.0 - 1e-6);
        (p / (1.0 - p)).ln()
    };
    let absent: Vec<bool> = match presence {
        Some(p) => p.into_data().to_vec::<f32>().unwrap_or_default().iter().map(|&l| l < min_logit).collect(),
        None => vec![false; logits.len()],
    };
    let mut start = 0;
    slots
        .into_iter()
        .map(|bones| {
            let (own, gone) = (&logits[start..start + bones.len()], &absent[start..start + bones.len()]);
            start += bones.len();
            let top = own.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exp: Vec<f32> = own.iter().map(|l| (l - top).exp()).collect();
            let total: f32 = exp.iter().sum();
            let keep = |i: usize| !gone[i] || own[i] == top;
            bones.iter().zip(exp).enumerate().map(|(i, (&j, e))| (j as u32, if keep(i) { e / total } else { 0.0 })).collect()
        })
        .collect()
}

/// A vertex's decoded weights through the influence limit; `prior` when they are (nearly) all
/// zero.
fn finish_row(row: Vec<(u32, f32)>, prior: &[(u32, f32)], o: &DecodeOptions) -> Vec<(u32, f32)> {
    let total: f32 = row.iter().map(|e| e.1).sum();
    if total < 1e-3 {
        return prior.to_vec();
    }
    let row = o.limit.limit_row(row);
    if row.is_empty() {
        return prior.to_vec();
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::vertex_slots;
    use burn::tensor::activation::softmax;

    /// The decoder as it ran before rows were packed: every vertex padded to `CANDIDATE_SLOTS`
    /// rows, padding masked out of a softmax over the slots.
    fn decode_vertices_padded<B: Backend>(
        model: &SkinTokenizer<B>,
        field: &ShapeField,
        codes: &[Option<Vec<f32>>],
        vertices: &[usize],
        device: &B::Device,
    ) -> Vec<Vec<(u32, f32)>> {
        let width = codes.iter().flatten().next().map_or(0, |c| c.len());
        let rows = vertices.len() * CANDIDATE_SLOTS;
        let (mut feats, mut code_rows, mut mask) = (Vec::new(), Vec::new(), Vec::new());
        let mut slots = Vec::new();
        for &v in vertices {
            let bones = vertex_slots(field, v, |j| codes[j].is_some(), &mut feats);
            for slot in 0..CANDIDATE_SLOTS {
                match bones.get(slot).and_then(|&j| codes[j].as_deref()) {
                    Some(code) => {
                        code_rows.extend_from_slice(code);
                        mask.push(0.0f32);
                    }
                    None => {
                        code_rows.extend(std::iter::repeat_n(0.0, width));
                        mask.push(-1e4);
                    }
                }
            }
            slots.push(bones);
        }
        let f = Tensor::<B, 2>::from_data(TensorData::new(feats, [rows, FEATURES]), device);
        let c = Tensor::<B, 2>::from_data(TensorData::new(code_rows, [rows, width]), device);
        let m = Tensor::<B, 2>::from_data(TensorData::new(mask, [vertices.len(), CANDIDATE_SLOTS]), device);
        let logits = model.decode(f, c).reshape([vertices.len(), CANDIDATE_SLOTS]) + m;
        let probs: Vec<f32> = softmax(logits, 1).into_data().to_vec().unwrap_or_default();
        slots
            .iter()
            .enumerate()
            .map(|(i, bones)| bones.iter().enumerate().map(|(s, &j)| (j as u32, probs[i * CANDIDATE_SLOTS + s])).collect())
            .collect()
    }

    #[test]
    fn packed_decoding_matches_the_padded_reference_on_the_shipped_tokenizer() {
        type Cpu = crate::CpuBackend;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let device = burn::backend::ndarray::NdArrayDevice::Cpu;
        let pair = crate::rigging::ModelPair::<Cpu>::load(&root.join("models"), device).expect("the shipped models");
        let model = &pair.tokenizer;
        let mut rig = rig_io::load(&root.join("assets/samples/khronos_fox/Fox.glb")).expect("bundled fox").rig;
        rig.mark_unweighted_joints_non_deforming();
        let asset = Asset::new(&rig, model.prior(), rig_core::Task::silent()).expect("asset");
        let tokens = encode(model, &asset, &device);
        let codes: Vec<Option<Vec<f32>>> = tokens.iter().map(|t| t.as_ref().map(|t| fsq::token_values(t, model.levels()))).collect();
        let vertices: Vec<usize> = (0..asset.field.vertex_count()).step_by(3).collect();
        // The reference has no presence gate: keep every bone the presence head scores.
        let ungated = DecodeOptions { min_presence: 0.0, ..Default::default() };
        let packed = decode_vertices(model, &asset.field, &codes, &vertices, &ungated, &device);
        let padded = decode_vertices_padded(model, &asset.field, &codes, &vertices, &device);
        assert_eq!(packed.len(), padded.len());
        let mut shared = 0;
        for (a, b) in packed.iter().zip(&padded) {
            assert_eq!(a.iter().map(|e| e.0).collect::<Vec<_>>(), b.iter().map(|e| e.0).collect::<Vec<_>>(), "same bones");
            assert!(a.iter().zip(b).all(|(x, y)| (x.1 - y.1).abs() < 1e-5), "{a:?} vs {b:?}");
            shared += usize::from(a.len() > 1);
        }
        assert!(shared > vertices.len() / 4, "bones compete on many vertices ({shared})");
    }

    #[test]
    fn finish_row_normalises_prunes_and_falls_back() {
        let o = DecodeOptions { limit: InfluenceLimit { max_influences: 2, min_weight: 0.1 }, ..Default::default() };
        let row = finish_row(vec![(0, 0.6), (1, 0.3), (2, 0.05), (3, 0.25)], &[], &o);
        assert_eq!(row.iter().map(|e| e.0).collect::<Vec<_>>(), vec![0, 1]);
        assert!((row.iter().map(|e| e.1).sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(finish_row(vec![(0, 1e-5)], &[(7, 1.0)], &o), vec![(7, 1.0)]);
    }
}
