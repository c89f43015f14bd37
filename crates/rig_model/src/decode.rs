//! Decoding with the generator: grammar-constrained skeleton generation (sampling with
//! temperature, top-k, top-p and a repetition penalty, or beam search) through a key/value
//! cache, and skin tokens for a given skeleton (the skin-only mode).

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rig_core::{Cancelled, Task};

use crate::gen_data::{input_tensors, next_skin_slot, token_of, JointContext, Row, RowWriter};
use crate::generator::{KvCache, RigGenerator, RigGeneratorConfig};
use crate::sequence::{decode_skeleton, parse, DecodedSkeleton, BOS, CLASS, EOS, SKELETON_VOCAB, SKIN_TOKENS};

/// How tokens are drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingOptions {
    /// 0 picks the most likely token.
    pub temperature: f32,
    /// Only the `top_k` most likely tokens are drawn from (0: all).
    pub top_k: usize,
    /// Only the most likely tokens whose probabilities add up to `top_p` are drawn from.
    pub top_p: f32,
    /// Logits of skeleton tokens already written are divided by this (1: off).
    pub repetition_penalty: f32,
    /// Beams for the skeleton (1: sampling; more: beam search, most likely first).
    pub beams: usize,
    pub seed: u64,
    /// Temperature of the skin tokens (0: the most likely digit of each FSQ dimension).
    pub skin_temperature: f32,
}

impl Default for SamplingOptions {
    fn default() -> Self {
        SamplingOptions { temperature: 1.0, top_k: 5, top_p: 0.95, repetition_penalty: 1.0, beams: 1, seed: 0, skin_temperature: 0.0 }
    }
}

/// A generated skeleton: its tokens (`BOS CLASS ... EOS`) and mean log-probability per token.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub tokens: Vec<u32>,
    pub score: f32,
    pub skeleton: DecodedSkeleton,
}

/// Runs the prefix (latents, then `rows`) through a fresh cache; returns the cache and the
/// last position's hidden state `[B, 1, d]`.
fn prefill<B: Backend>(
    model: &RigGenerator<B>,
    config: &RigGeneratorConfig,
    latents: Tensor<B, 3>,
    rows: &[Row],
) -> (KvCache<B>, Tensor<B, 3>) {
    let device = latents.device();
    let mut cache = KvCache::new(model.layers());
    let x = Tensor::cat(vec![latents, model.embed(&input_tensors(&[rows], config, &device))], 1);
    let h = model.run(x, 0, Some(&mut cache));
    let t = h.dims()[1];
    (cache, h.narrow(1, t - 1, 1))
}

/// The last row a writer added, as a one-row sequence.
fn newest(writer: &RowWriter) -> &[Row] {
    &writer.rows[writer.rows.len() - 1..]
}

/// Runs one new row per sequence through the cache at the position after the cached ones;
/// returns its hidden state `[B, 1, d]`.
fn advance<B: Backend>(
    model: &RigGenerator<B>,
    config: &RigGeneratorConfig,
    rows: &[&[Row]],
    cache: &mut KvCache<B>,
    device: &B::Device,
) -> Tensor<B, 3> {
    let start = cache.len();
    model.run(model.embed(&input_tensors(rows, config, device)), start, Some(cache))
}

/// `candidates` skeletons for the shape: sampled with seeds `seed, seed + 1, ...`, or the best
/// finished beams of one beam search. Every candidate obeys the grammar (a tree of at most
/// `max_joints` joints).
pub fn generate_skeletons<B: Backend>(
    model: &RigGenerator<B>,
    config: &RigGeneratorConfig,
    latents: Tensor<B, 3>,
    options: &SamplingOptions,
    candidates: usize,
    task: Task,
) -> Result<Vec<Candidate>, Cancelled> {
    if options.beams > 1 {
        let mut found = beam_search(model, config, latents, options, task)?;
        found.truncate(candidates.max(1));
        return Ok(found);
    }
    (0..candidates.max(1) as u64)
        .map(|c| sample_skeleton(model, config, latents.clone(), options, options.seed.wrapping_add(c), task))
        .collect()
}

fn start_writer(config: &RigGeneratorConfig) -> RowWriter {
    let mut w = RowWriter::new(config);
    w.push_skeleton(BOS, None);
    w.push_skeleton(CLASS, None);
    w
}

/// Skeleton logits of one position `[B, 1, V]` as rows of floats.
fn skeleton_logits<B: Backend>(model: &RigGenerator<B>, hidden: Tensor<B, 3>) -> Vec<Vec<f32>> {
    let b = hidden.dims()[0];
    let (logits, _) = model.heads(hidden);
    let flat: Vec<f32> = logits.into_data().to_vec().unwrap_or_default();
    flat.chunks(SKELETON_VOCAB).take(b).map(<[f32]>::to_vec).collect()
}

fn sample_skeleton<B: Backend>(
    model: &RigGenerator<B>,
    config: &RigGeneratorConfig,
    latents: Tensor<B, 3>,
    o: &SamplingOptions,
    seed: u64,
    task: Task,
) -> Result<Candidate, Cancelled> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut writer = start_writer(config);
    let device = latents.device();
    let (mut cache, mut hidden) = prefill(model, config, latents, &writer.rows);
    let mut tokens = vec![BOS, CLASS];
    let mut log_p = 0.0;
    loop {
        task.check()?;
        let mut logits = skeleton_logits(model, hidden).remove(0);
        penalise(&mut logits, &tokens[2..], o.repetition_penalty);
        let probs = masked_probs(&logits, |t| writer.grammar().allows(t as u32), o.temperature.max(1e-4));
        let mut t = choose(&probs, o, &mut rng) as u32;
        if !writer.grammar().allows(t) || tokens.len() >= longest(config) {
            // Only when the logits are not numbers: end the skeleton, or write a bin.
            t = if writer.grammar().allows(EOS) { EOS } else { 0 };
        }
        log_p += probs[t as usize].max(1e-12).ln();
        tokens.push(t);
        if t == EOS {
            break;
        }
        writer.push_skeleton(t, None);
        hidden = advance(model, config, &[newest(&writer)], &mut cache, &device);
        report_joints(task, &writer, config)?;
    }
    finish(tokens, log_p)
}

/// Writes up to `steps` skeleton tokens, each the most likely one the grammar allows other
/// than the end, and returns how many it wrote (fewer only where the grammar allows nothing
/// else): the same kernels, one token at a time, as a real skeleton (the backend probe of
/// [`crate::backend`]).
pub(crate) fn greedy_steps<B: Backend>(model: &RigGenerator<B>, config: &RigGeneratorConfig, latents: Tensor<B, 3>, steps: usize) -> usize {
    let mut writer = start_writer(config);
    let device = latents.device();
    let (mut cache, mut hidden) = prefill(model, config, latents, &writer.rows);
    for written in 0..steps {
        let logits = skeleton_logits(model, hidden).remove(0);
        let best = (0..logits.len() as u32)
            .filter(|&t| t != EOS && writer.grammar().allows(t))
            .max_by(|&a, &b| logits[a as usize].total_cmp(&logits[b as usize]));
        match best {
            Some(t) => writer.push_skeleton(t, None),
            None => return written,
        }
        hidden = advance(model, config, &[newest(&writer)], &mut cache, &device);
    }
    steps
}

/// A finished skeleton, scored by its mean log-probability per token.
fn finish(tokens: Vec<u32>, log_p: f32) -> Result<Candidate, Cancelled> {
    let score = log_p / tokens.len() as f32;
    // The grammar produced the tokens, so they always decode.
    let skeleton = decode_skeleton(&tokens).unwrap_or_default();
    Ok(Candidate { tokens, score, skeleton })
}

/// Skeleton progress: joints written so far out of the most the grammar allows.
fn report_joints(task: Task, writer: &RowWriter, config: &RigGeneratorConfig) -> Result<(), Cancelled> {
    task.stage("skeleton tokens", (writer.grammar().joints() as f32 / config.max_joints as f32).min(1.0))
}

/// One hypothesis of the beam search.
#[derive(Clone)]
struct Beam {
    writer: RowWriter,
    tokens: Vec<u32>,
    log_p: f32,
}

fn beam_search<B: Backend>(
    model: &RigGenerator<B>,
    config: &RigGeneratorConfig,
    latents: Tensor<B, 3>,
    o: &SamplingOptions,
    task: Task,
) -> Result<Vec<Candidate>, Cancelled> {
    let device = latents.device();
    let writer = start_writer(config);
    let (mut cache, mut hidden) = prefill(model, config, latents, &writer.rows);
    let mut beams = vec![Beam { writer, tokens: vec![BOS, CLASS], log_p: 0.0 }];
    let mut finished: Vec<Candidate> = Vec::new();
    let longest = longest(config);
    while !beams.is_empty() && finished.len() < o.beams && beams[0].tokens.len() < longest {
        task.check()?;
        let logits = skeleton_logits(model, hidden);
        let mut options: Vec<(f32, usize, u32)> = Vec::new();
        for (b, beam) in beams.iter().enumerate() {
            let mut row = logits[b].clone();
            penalise(&mut row, &beam.tokens[2..], o.repetition_penalty);
            let probs = masked_probs(&row, |t| beam.writer.grammar().allows(t as u32), 1.0);
            let mut best: Vec<usize> = (0..probs.len()).filter(|&t| probs[t] > 0.0).collect();
            best.sort_by(|&a, &c| probs[c].total_cmp(&probs[a]));
            best.truncate(o.beams);
            options.extend(best.into_iter().map(|t| (beam.log_p + probs[t].ln(), b, t as u32)));
        }
        options.sort_by(|a, c| c.0.total_cmp(&a.0));
        let mut next = Vec::new();
        let mut parents = Vec::new();
        for (log_p, b, t) in options {
            if next.len() + finished.len() >= o.beams {
                break;
            }
            let mut beam = beams[b].clone();
            beam.tokens.push(t);
            beam.log_p = log_p;
            if t == EOS {
                finished.push(finish(beam.tokens, log_p)?);
                continue;
            }
            beam.writer.push_skeleton(t, None);
            next.push(beam);
            parents.push(b);
        }
        if next.is_empty() {
            break;
        }
        cache.select(&parents);
        let rows: Vec<&[Row]> = next.iter().map(|b| newest(&b.writer)).collect();
        hidden = advance(model, config, &rows, &mut cache, &device);
        beams = next;
        report_joints(task, &beams[0].writer, config)?;
    }
    // Beams cut off by the length limit end where they are, when they end on a whole joint.
    for beam in beams {
        if beam.writer.grammar().allows(EOS) && finished.len() < o.beams {
            let mut tokens = beam.tokens;
            tokens.push(EOS);
            finished.push(finish(tokens, beam.log_p)?);
        }
    }
    finished.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(finished)
}

/// The longest skeleton sequence the grammar allows (every joint a branch).
fn longest(config: &RigGeneratorConfig) -> usize {
    2 + config.max_joints * 7 + 1
}

/// Skin tokens (4 per joint, in the skeleton's joint order) for the skeleton written as
/// `skeleton` tokens (`BOS CLASS ... EOS`), with each joint's context.
pub fn generate_skin<B: Backend>(
    model: &RigGenerator<B>,
    config: &RigGeneratorConfig,
    latents: Tensor<B, 3>,
    skeleton: &[u32],
    contexts: &[JointContext],
    o: &SamplingOptions,
    task: Task,
) -> Result<Vec<[u32; SKIN_TOKENS]>, Cancelled> {
    if contexts.is_empty() {
        return Ok(Vec::new());
    }
    let mut writer = RowWriter::new(config);
    for &t in skeleton {
        writer.push_skeleton(t, contexts.first());
    }
    let device = latents.device();
    let (mut cache, mut hidden) = prefill(model, config, latents, &writer.rows);
    let mut rng = StdRng::seed_from_u64(o.seed ^ 0x5c1a);
    let total = contexts.len() * SKIN_TOKENS;
    let mut ids = Vec::with_capacity(total);
    for k in 0..total {
        task.check()?;
        let (_, skin) = model.heads(hidden);
        let logits: Vec<f32> = skin.into_data().to_vec().unwrap_or_default();
        let mut digits = Vec::with_capacity(config.levels.len());
        let mut offset = 0;
        for &level in &config.levels {
            let probs = masked_probs(&logits[offset..offset + level], |_| true, o.skin_temperature.max(1e-4));
            digits.push(if o.skin_temperature <= 0.0 { argmax(&probs) } else { draw(&probs, &mut rng) });
            offset += level;
        }
        let id = token_of(&digits, &config.levels);
        ids.push(id);
        if k + 1 == total {
            break;
        }
        let next = next_skin_slot(k, contexts.len());
        writer.push_skin(id, next.map(|(slot, j)| (slot, &contexts[j])));
        hidden = advance(model, config, &[newest(&writer)], &mut cache, &device);
        if k % SKIN_TOKENS == SKIN_TOKENS - 1 {
            task.stage("skin tokens", (k + 1) as f32 / total as f32)?;
        }
    }
    Ok(ids.chunks(SKIN_TOKENS).map(|c| [c[0], c[1], c[2], c[3]]).collect())
}

/// CTRL-style repetition penalty on tokens already written (ignored unless positive).
fn penalise(logits: &mut [f32], written: &[u32], penalty: f32) {
    if penalty == 1.0 || !(penalty.is_finite() && penalty > 0.0) {
        return;
    }
    let mut seen = vec![false; logits.len()];
    written.iter().filter(|&&t| (t as usize) < logits.len()).for_each(|&t| seen[t as usize] = true);
    for (l, s) in logits.iter_mut().zip(seen) {
        if s {
            *l = if *l > 0.0 { *l / penalty } else { *l * penalty };
        }
    }
}

/// Softmax of `logits / temperature` over the allowed tokens (0 elsewhere).
fn masked_probs(logits: &[f32], allowed: impl Fn(usize) -> bool, temperature: f32) -> Vec<f32> {
    let max = (0..logits.len()).filter(|&t| allowed(t)).map(|t| logits[t]).fold(f32::MIN, f32::max);
    let mut p: Vec<f32> = (0..logits.len()).map(|t| if allowed(t) { ((logits[t] - max) / temperature).exp() } else { 0.0 }).collect();
    let total: f32 = p.iter().sum();
    if total > 0.0 && total.is_finite() {
        p.iter_mut().for_each(|x| *x /= total);
        return p;
    }
    // Logits that are not numbers: every allowed token alike.
    let count = (0..logits.len()).filter(|&t| allowed(t)).count();
    (0..logits.len()).map(|t| if allowed(t) { 1.0 / count as f32 } else { 0.0 }).collect()
}

fn argmax(p: &[f32]) -> usize {
    (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(0)
}

/// Draws from `probs` after top-k and top-p filtering; the most likely token at temperature 0.
fn choose(probs: &[f32], o: &SamplingOptions, rng: &mut StdRng) -> usize {
    if o.temperature <= 0.0 {
        return argmax(probs);
    }
    let mut order: Vec<usize> = (0..probs.len()).filter(|&t| probs[t] > 0.0).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    if o.top_k > 0 {
        order.truncate(o.top_k);
    }
    let mut mass = 0.0;
    let mut kept = Vec::new();
    for t in order {
        kept.push(t);
        mass += probs[t];
        if mass >= o.top_p {
            break;
        }
    }
    let mut filtered = vec![0.0; probs.len()];
    kept.iter().for_each(|&t| filtered[t] = probs[t]);
    draw(&filtered, rng)
}

fn draw(p: &[f32], rng: &mut StdRng) -> usize {
    let total: f32 = p.iter().sum();
    let mut r = rng.gen::<f32>() * total;
    for (t, &x) in p.iter().enumerate() {
        if x > 0.0 && r < x {
            return t;
        }
        r -= x;
    }
    argmax(p)
}

/// The grammar an unconstrained decoder would break: for tests and diagnostics.
pub fn obeys_grammar(tokens: &[u32], max_joints: usize) -> bool {
    parse(tokens, max_joints).is_ok_and(|g| g.is_done())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_and_top_p_keep_the_likely_tokens() {
        let probs = vec![0.5, 0.3, 0.15, 0.05];
        let o = SamplingOptions { top_k: 2, top_p: 1.0, ..Default::default() };
        let mut rng = StdRng::seed_from_u64(3);
        let drawn: Vec<usize> = (0..200).map(|_| choose(&probs, &o, &mut rng)).collect();
        assert!(drawn.iter().all(|&t| t < 2) && drawn.contains(&1));
        let o = SamplingOptions { top_k: 0, top_p: 0.5, ..Default::default() };
        assert!((0..50).all(|_| choose(&probs, &o, &mut rng) == 0), "top-p 0.5 keeps only the first");
        let p = masked_probs(&[1.0, 5.0, 2.0], |t| t != 1, 1.0);
        assert_eq!(p[1], 0.0);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6 && p[2] > p[0]);
    }

    #[test]
    fn repetition_penalty_lowers_written_tokens() {
        let mut l = vec![2.0, -1.0, 2.0];
        penalise(&mut l, &[0, 1], 2.0);
        assert_eq!(l, vec![1.0, -2.0, 2.0]);
        penalise(&mut l, &[0, 1], 0.0);
        assert_eq!(l, vec![1.0, -2.0, 2.0], "a penalty of 0 is ignored, not a division by zero");
    }

    #[test]
    fn logits_that_are_not_numbers_still_give_an_allowed_token() {
        let p = masked_probs(&[5.0, f32::NAN, 1.0, 2.0], |t| t >= 1, 1.0);
        assert!(p[0] == 0.0 && p[1..].iter().all(|&x| (x - 1.0 / 3.0).abs() < 1e-6), "{p:?}");
        let mut rng = StdRng::seed_from_u64(1);
        assert!((0..20).all(|_| choose(&p, &SamplingOptions::default(), &mut rng) >= 1));
    }
}
