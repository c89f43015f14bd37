//! Training data for the skin tokenizer: rigged characters turned into shape fields and the
//! artist's weights, and batches of bones sampled from them.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use rig_core::{Cancelled, Rig, Task};

use crate::features::{weight_in, ShapeField, SkinPrior, FEATURES};

/// One rigged character ready for sampling.
pub struct Asset {
    pub name: String,
    pub field: ShapeField,
    /// The artist's weights per vertex, normalised.
    pub truth: Vec<Vec<(u32, f32)>>,
    /// Per joint, the vertices where the artist's weight is non-zero.
    support: Vec<Vec<usize>>,
    /// Per joint, the vertices near enough to carry weight ([`ShapeField::candidates`]).
    candidates: Vec<Vec<usize>>,
}

/// Why a rig cannot be used for training or evaluation.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error("it has no skin (no joints, no weights, or no joint that carries weight)")]
    NoSkin,
    #[error("its skin weights are not finite numbers (NaN or infinity in the source file)")]
    BadWeights,
    #[error("cancelled")]
    Cancelled(#[from] Cancelled),
}

impl Asset {
    /// Builds the shape field (with the `prior` binder's weights) for the rig's own skeleton and
    /// keeps its weights as the truth.
    pub fn new(rig: &Rig, prior: SkinPrior, task: Task) -> Result<Asset, AssetError> {
        if rig.skeleton.is_empty() || rig.weights.iter().all(|(j, _)| j.is_empty()) {
            return Err(AssetError::NoSkin);
        }
        if rig.weights.iter().any(|(_, w)| w.iter().any(|x| !x.is_finite())) {
            return Err(AssetError::BadWeights);
        }
        let field = ShapeField::new(&rig.mesh, &rig.skeleton, prior, task)?;
        if field.deforming().next().is_none() {
            return Err(AssetError::NoSkin);
        }
        let truth: Vec<Vec<(u32, f32)>> = rig.weights.iter().map(|(j, w)| normalised_row(j, w)).collect();
        Ok(Asset::from_field(rig.name.clone(), field, truth))
    }

    /// An asset whose "truth" is any per-vertex skin over `field`'s skeleton (the generator
    /// encodes the geometric prior this way).
    pub fn from_field(name: String, field: ShapeField, truth: Vec<Vec<(u32, f32)>>) -> Asset {
        let mut support = vec![Vec::new(); field.joint_count()];
        for (v, row) in truth.iter().enumerate() {
            row.iter().for_each(|&(j, _)| support[j as usize].push(v));
        }
        let candidates =
            (0..field.joint_count()).map(|j| if field.deforming().any(|k| k == j) { field.candidates(j) } else { Vec::new() }).collect();
        Asset { name, field, truth, support, candidates }
    }

    /// The same shape with the geometric prior's weights as its "truth": what a skin
    /// predictor's encoder reads ([`crate::tokenizer::SkinTokenizerConfig::encodes_prior`]).
    pub fn prior_view(&self) -> Asset {
        Asset::from_prior(self.name.clone(), self.field.clone())
    }

    /// An asset over `field` whose "truth" is the geometric prior's weights.
    pub fn from_prior(name: String, field: ShapeField) -> Asset {
        let prior = field.prior_rows().to_vec();
        Asset::from_field(name, field, prior)
    }

    /// The artist's weight of joint `j` at vertex `v`.
    pub fn weight(&self, j: usize, v: usize) -> f32 {
        weight_in(&self.truth[v], j)
    }

    /// Joints to learn from: deforming joints (those with a distance field).
    pub fn bones(&self) -> Vec<usize> {
        self.field.deforming().collect()
    }

    /// `n` vertices for bone `j`: half where the artist weighted it, a quarter near it and a
    /// quarter anywhere (importance sampling of the active region, as the paper does).
    pub fn sample_vertices(&self, j: usize, n: usize, rng: &mut StdRng) -> Vec<usize> {
        let all = self.field.vertex_count();
        let pick =
            |pool: &[usize], rng: &mut StdRng| if pool.is_empty() { rng.gen_range(0..all) } else { pool[rng.gen_range(0..pool.len())] };
        (0..n)
            .map(|i| match i % 4 {
                0 | 1 => pick(&self.support[j], rng),
                2 => pick(&self.candidates[j], rng),
                _ => rng.gen_range(0..all),
            })
            .collect()
    }

    /// The encoder's input for bone `j` at `vertices`: features, weight, weight > 0.
    pub fn encoder_rows(&self, j: usize, vertices: &[usize], out: &mut Vec<f32>) {
        for &v in vertices {
            out.extend(self.field.features(j, v));
            let w = self.weight(j, v);
            out.push(w);
            out.push(if w > 0.0 { 1.0 } else { 0.0 });
        }
    }
}

fn normalised_row(joints: &[u32], weights: &[f32]) -> Vec<(u32, f32)> {
    let total: f32 = weights.iter().filter(|w| **w > 0.0).sum();
    joints.iter().zip(weights).filter(|(_, w)| **w > 0.0 && total > 0.0).map(|(&j, &w)| (j, w / total)).collect()
}

/// Bones competing at one vertex (see [`ShapeField::vertex_candidates`]).
pub const VERTEX_CANDIDATES: usize = 8;
/// Candidate slots per vertex row: the nearest bones plus up to four more the prior names.
pub const CANDIDATE_SLOTS: usize = VERTEX_CANDIDATES + 4;

/// One character's training step: every bone encoded from its own samples, and `queries`
/// vertices where the decoder's softmax over the competing bones is compared with the artist's
/// weights.
pub struct AssetBatch {
    /// Deforming joints, in encoder order.
    pub bones: Vec<usize>,
    pub points: usize,
    /// `[bones, points, FEATURES + 2]`.
    pub encoder: Vec<f32>,
    pub queries: usize,
    /// `[queries * CANDIDATE_SLOTS, FEATURES]` (zeros in empty slots).
    pub decoder: Vec<f32>,
    /// `[queries * CANDIDATE_SLOTS]`: index into `bones` of each slot (0 in empty slots).
    pub slot_bone: Vec<i64>,
    /// `[queries, CANDIDATE_SLOTS]`: 1 for a real slot, 0 for padding.
    pub mask: Vec<f32>,
    /// `[queries, CANDIDATE_SLOTS]`: the artist's weights over the slots, renormalised.
    pub target: Vec<f32>,
}

/// The bones the decoder scores at vertex `v`, in slot order: those competing there that `keep`
/// accepts, at most `CANDIDATE_SLOTS` (training, decoding and `rigsmith tokenize`'s recall
/// ceiling all take the slots from here).
pub fn slot_bones(field: &ShapeField, v: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut bones = field.vertex_candidates_where(v, VERTEX_CANDIDATES, keep);
    bones.truncate(CANDIDATE_SLOTS);
    bones
}

/// The decoder's rows at vertex `v`, shared by training and inference so the two cannot drift:
/// appends `CANDIDATE_SLOTS` feature rows to `features` (the [`slot_bones`], then zeros) and
/// returns those bones in slot order.
pub fn vertex_slots(field: &ShapeField, v: usize, keep: impl Fn(usize) -> bool, features: &mut Vec<f32>) -> Vec<usize> {
    let bones = slot_bones(field, v, keep);
    for slot in 0..CANDIDATE_SLOTS {
        match bones.get(slot) {
            Some(&j) => features.extend(field.features(j, v)),
            None => features.extend([0.0; FEATURES]),
        }
    }
    bones
}

/// Samples a step for `asset`; deterministic for a given `seed`.
pub fn asset_batch(asset: &Asset, points: usize, queries: usize, seed: u64) -> AssetBatch {
    asset_batch_from(asset, asset, points, queries, seed)
}

/// A step whose encoder samples come from `encoded` (the artist's weights, or for a skin
/// predictor [`Asset::prior_view`]) and whose decoded vertices are scored against `scored`'s
/// (the same shape's artist weights).
pub fn asset_batch_from(encoded: &Asset, scored: &Asset, points: usize, queries: usize, seed: u64) -> AssetBatch {
    let mut b = query_batch(scored, queries, seed);
    b.points = points;
    b.encoder = b
        .bones
        .par_iter()
        .flat_map_iter(|&j| {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(7_919).wrapping_add(j as u64));
            let mut rows = Vec::with_capacity(points * (FEATURES + 2));
            encoded.encoder_rows(j, &encoded.sample_vertices(j, points, &mut rng), &mut rows);
            rows
        })
        .collect();
    b
}

/// The decoder's half of [`asset_batch`]: `queries` random vertices scored against the
/// artist's weights, no encoder samples (for codes that come from elsewhere).
pub fn query_batch(asset: &Asset, queries: usize, seed: u64) -> AssetBatch {
    let bones = asset.bones();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let n = asset.field.vertex_count();
    let vertices: Vec<usize> = (0..queries).map(|_| rng.gen_range(0..n)).collect();
    let slot_of: std::collections::HashMap<usize, i64> = bones.iter().enumerate().map(|(i, &j)| (j, i as i64)).collect();
    let mut b = AssetBatch {
        bones,
        points: 0,
        encoder: Vec::new(),
        queries,
        decoder: Vec::new(),
        slot_bone: Vec::new(),
        mask: Vec::new(),
        target: Vec::new(),
    };
    for v in vertices {
        let cands = vertex_slots(&asset.field, v, |_| true, &mut b.decoder);
        let weights: Vec<f32> = cands.iter().map(|&j| asset.weight(j, v)).collect();
        let total: f32 = weights.iter().sum();
        for slot in 0..CANDIDATE_SLOTS {
            let real = slot < cands.len();
            b.slot_bone.push(if real { slot_of[&cands[slot]] } else { 0 });
            b.mask.push(if real { 1.0 } else { 0.0 });
            // A vertex whose artist bones are all outside the slots adds no gradient.
            b.target.push(if real && total > 0.0 { weights[slot] / total } else { 0.0 });
        }
    }
    b
}
