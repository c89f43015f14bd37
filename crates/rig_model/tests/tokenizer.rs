//! The skin tokenizer on real files: the shipped weights load and round-trip a bundled
//! character into a valid skin that agrees with the artist's better than the geometric prior;
//! a few training steps lower the loss.

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use rig_core::metrics::skin_scores;
use rig_core::{SkinWeights, Task};
use rig_model::data::{asset_batch, Asset};
use rig_model::features::SkinPrior;
use rig_model::skin::{decode, encode, encode_refined, predict, DecodeOptions, RefineEncoding};
use rig_model::tokenizer::SkinTokenizerConfig;
use rig_model::train::{loss, train, LossWeights, RunDir, TrainOptions};
use rig_model::{fsq, store, CpuBackend, CpuTrainBackend};

/// The cross-entropy and (models with the head) the presence head's at weight 1.
const PRESENCE_ONLY: LossWeights = LossWeights { presence: 1.0, ..LossWeights::NONE };

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn asset(rel: &str, prior: SkinPrior) -> Asset {
    let mut rig = rig_io::load(&repo().join(rel)).expect("bundled sample loads").rig;
    rig.mark_unweighted_joints_non_deforming();
    Asset::new(&rig, prior, Task::silent()).expect("sample is skinned")
}

#[test]
fn shipped_tokenizer_round_trips_the_fox_better_than_the_prior() {
    let device = Default::default();
    let (model, config) = store::load_tokenizer::<CpuBackend>(&repo().join("models"), &device).expect("models/ holds the skin tokenizer");
    let fox = asset("assets/samples/khronos_fox/Fox.glb", config.prior);
    let tokens = encode(&model, &fox, &device);
    assert_eq!(tokens, encode(&model, &fox, &device), "encoding is deterministic");
    let codebook = fsq::codebook_size(&config.levels) as u32;
    for j in fox.bones() {
        let t = tokens[j].as_ref().expect("every deforming bone gets tokens");
        assert_eq!(t.len(), config.tokens);
        assert!(t.iter().all(|&id| id < codebook));
    }
    let weights = decode(&model, &fox.field, &tokens, &DecodeOptions::default(), &device);
    weights.validate(fox.field.vertex_count(), fox.field.joint_count()).expect("decoded skin is valid");
    assert!(
        weights.iter().all(|(j, w)| !j.is_empty() && (w.iter().sum::<f32>() - 1.0).abs() < 1e-3),
        "every vertex weighted, rows sum to 1"
    );
    let truth = SkinWeights::from_rows(fox.truth.clone());
    let joints: Vec<Option<u32>> = (0..fox.field.joint_count() as u32).map(Some).collect();
    let vertices: Vec<usize> = (0..fox.field.vertex_count()).collect();
    let ours = skin_scores(&weights, &truth, &joints, &vertices);
    let prior = skin_scores(&SkinWeights::from_rows(fox.field.prior_rows().to_vec()), &truth, &joints, &vertices);
    eprintln!("Fox: tokens {ours:?}, prior {prior:?}");
    assert!(ours.l1 < prior.l1, "4 tokens per bone should bring the skin closer to the artist's than the prior ({ours:?} vs {prior:?})");
}

/// Mean L1 against the artist's weights of the skin decoded from `tokens`.
fn round_trip_l1<B: burn::tensor::backend::Backend>(
    model: &rig_model::tokenizer::SkinTokenizer<B>,
    a: &Asset,
    tokens: &[Option<Vec<u32>>],
    device: &B::Device,
) -> f32 {
    let weights = decode(model, &a.field, tokens, &DecodeOptions::default(), device);
    let truth = SkinWeights::from_rows(a.truth.clone());
    let joints: Vec<Option<u32>> = (0..a.field.joint_count() as u32).map(Some).collect();
    let vertices: Vec<usize> = (0..a.field.vertex_count()).collect();
    skin_scores(&weights, &truth, &joints, &vertices).l1
}

#[test]
fn refined_encoding_reproduces_the_fox_closer_than_the_encoder_alone() {
    let device = Default::default();
    let (model, config) =
        store::load_tokenizer::<CpuTrainBackend>(&repo().join("models"), &device).expect("models/ holds the skin tokenizer");
    let fox = asset("assets/samples/khronos_fox/Fox.glb", config.prior);
    let plain = encode(&model, &fox, &device);
    let none = RefineEncoding { steps: 0, ..Default::default() };
    assert_eq!(encode_refined(&model, &fox, &none, &device), plain, "no steps: the encoder's own tokens");
    let refine = RefineEncoding { steps: 30, queries: 512, ..Default::default() };
    let refined = encode_refined(&model, &fox, &refine, &device);
    assert_ne!(refined, plain);
    assert_eq!(encode_refined(&model, &fox, &refine, &device), refined, "refined tokens are the same on every run");
    let (before, after) = (round_trip_l1(&model, &fox, &plain, &device), round_trip_l1(&model, &fox, &refined, &device));
    eprintln!("Fox round trip L1: encoder {before:.3}, refined {after:.3}");
    assert!(after < before - 0.03, "30 refinement steps should bring the fox's skin closer to the artist's ({before} -> {after})");
}

#[test]
fn training_steps_lower_the_loss_on_a_real_character() {
    let device = Default::default();
    let assets = [asset("assets/samples/quaternius_monster_flying_armabee/Armabee.glb", SkinPrior::Heat)];
    let config = SkinTokenizerConfig::new().with_decoder_width(32).with_encoder_width(16);
    let mut model = config.init::<CpuTrainBackend>(&device);
    let mut optim = AdamConfig::new().init();
    let fixed = asset_batch(&assets[0], 64, 256, 1);
    let before = loss(&model.valid(), &fixed, PRESENCE_ONLY, &device).into_scalar();
    for step in 0..40 {
        let b = asset_batch(&assets[0], 64, 256, 100 + step);
        let l = loss(&model, &b, PRESENCE_ONLY, &device);
        let grads = GradientsParams::from_grads(l.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }
    let after = loss(&model.valid(), &fixed, PRESENCE_ONLY, &device).into_scalar();
    assert!(after < 0.8 * before, "loss {before} -> {after}");
}

/// After a few steps with the presence head, dropping the bones it calls absent must raise
/// precision on the character's own skin (dropping at random would not) and keep most of
/// the recall (seen: precision 0.50 -> 0.92, recall 0.94 -> 0.75).
#[test]
fn the_presence_head_learns_which_bones_touch_a_vertex() {
    let device = Default::default();
    let armabee = asset("assets/samples/quaternius_monster_flying_armabee/Armabee.glb", SkinPrior::Heat);
    let config = SkinTokenizerConfig::new().with_decoder_width(32).with_encoder_width(16).with_points(64).with_presence(true);
    let mut model = config.init::<CpuTrainBackend>(&device);
    let mut optim = AdamConfig::new().init();
    for step in 0..60 {
        let b = asset_batch(&armabee, 64, 512, 100 + step);
        let l = loss(&model, &b, PRESENCE_ONLY, &device);
        let grads = GradientsParams::from_grads(l.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }
    let model = model.valid();
    assert!(model.has_presence());
    let tokens = encode(&model, &armabee, &device);
    let truth = SkinWeights::from_rows(armabee.truth.clone());
    let joints: Vec<Option<u32>> = (0..armabee.field.joint_count() as u32).map(Some).collect();
    let vertices: Vec<usize> = (0..armabee.field.vertex_count()).collect();
    let scores = |min_presence: f32| {
        let o = DecodeOptions { limit: rig_core::InfluenceLimit { max_influences: 4, min_weight: 0.0 }, min_presence };
        skin_scores(&decode(&model, &armabee.field, &tokens, &o, &device), &truth, &joints, &vertices)
    };
    let (all, filtered) = (scores(0.0), scores(0.5));
    eprintln!("Armabee: every competing bone {all:?}; present ones {filtered:?}");
    assert!(filtered.precision > all.precision + 0.2, "{all:?} -> {filtered:?}");
    assert!(filtered.recall > 0.7 * all.recall, "{all:?} -> {filtered:?}");
}

#[test]
fn training_resumes_from_its_checkpoint() {
    let device = Default::default();
    let dir = std::env::temp_dir().join(format!("rigsmith-train-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let assets = [asset("assets/samples/quaternius_monster_flying_armabee/Armabee.glb", SkinPrior::Heat)];
    let config = SkinTokenizerConfig::new().with_decoder_width(16).with_encoder_width(8).with_points(32);
    let first = TrainOptions { epochs: 1, queries: 64, ..Default::default() };
    train::<CpuTrainBackend>(&config, None, &first, &assets, &assets, &RunDir(dir.clone()), &device, |_| {}).expect("first epoch trains");
    let mut ran = Vec::new();
    let second = TrainOptions { epochs: 2, ..first };
    train::<CpuTrainBackend>(&config, None, &second, &assets, &assets, &RunDir(dir.clone()), &device, |l| ran.push(l)).expect("resumes");
    let ran: Vec<usize> = ran.iter().map(|l| l.epoch).collect();
    assert_eq!(ran, vec![2], "only the missing epoch runs after a resume");
    let csv = std::fs::read_to_string(dir.join("losses.csv")).expect("loss log");
    assert_eq!(csv.lines().count(), 3, "header and one line per epoch:\n{csv}");
    assert!(dir.join("epoch-2").is_dir() && !dir.join("epoch-1").exists(), "only the last epoch's checkpoint is kept");
    let lowest = rig_model::run::read_losses(&dir.join("losses.csv")).iter().map(|l| l.validation).fold(f32::MAX, f32::min);
    let (best, best_loss) = RunDir(dir.clone()).best_epoch().expect("the best epoch is recorded");
    assert!((best_loss - lowest).abs() < 1e-4 && (1..=2).contains(&best), "best epoch {best} ({best_loss}), lowest {lowest}");
    assert!(dir.join("best/model.mpk").is_file(), "its weights are kept");
    let wider = config.clone().with_decoder_width(32);
    let third = TrainOptions { epochs: 3, ..first };
    let err = train::<CpuTrainBackend>(&wider, None, &third, &assets, &[], &RunDir(dir.clone()), &device, |_| {})
        .expect_err("a changed config is refused");
    assert!(err.to_string().contains("cannot resume"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fine_tuning_starts_from_the_given_tokenizer_and_scores_the_extra_terms() {
    let device = Default::default();
    let dir = std::env::temp_dir().join(format!("rigsmith-train-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (start, config) = store::load_tokenizer::<CpuTrainBackend>(&repo().join("models"), &device).expect("the shipped tokenizer");
    let armabee = [asset("assets/samples/quaternius_monster_flying_armabee/Armabee.glb", config.prior)];
    // A step size of 0 leaves the weights as they start, so the epoch's validation loss is the
    // starting tokenizer's own, with the L1 and hinge terms in it.
    let o = TrainOptions {
        epochs: 1,
        queries: 256,
        learning_rate: 0.0,
        presence_weight: 0.3,
        l1_weight: 20.0,
        support_weight: 30.0,
        support_margin: 0.06,
        ..Default::default()
    };
    let mut seen = Vec::new();
    let tuned = train::<CpuTrainBackend>(&config, Some(start.clone()), &o, &armabee, &armabee, &RunDir(dir.clone()), &device, |l| {
        seen.push(l.validation)
    })
    .expect("fine-tunes");
    let batch = asset_batch(&armabee[0], config.points, o.queries, 7919);
    let own = |w| loss(&start.valid(), &batch, w, &device).into_scalar();
    let (with_terms, plain) =
        (own(o.loss_weights()), own(TrainOptions { l1_weight: 0.0, support_weight: 0.0, ..o.clone() }.loss_weights()));
    eprintln!("validation {seen:?}; the start's loss {with_terms} with the terms, {plain} without");
    assert!((seen[0] - with_terms).abs() < 1e-4, "the run starts from the given weights: {seen:?} vs {with_terms}");
    assert!(with_terms > plain, "the L1 and hinge terms add to the loss");
    let tokens = encode(&tuned.valid(), &armabee[0], &device);
    assert_eq!(tokens, encode(&start.valid(), &armabee[0], &device), "no step taken, the same tokens");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A skin predictor reads the bone heat prior, not the artist (`predict` is given the shape
/// only): trained a few epochs on a character from the shipped tokenizer, it must skin that
/// character closer to the artist than the prior it reads.
#[test]
fn a_skin_predictor_learns_the_artist_from_the_prior_alone() {
    let device = Default::default();
    let dir = std::env::temp_dir().join(format!("rigsmith-train-predictor-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let models = repo().join("models");
    let config = store::load_tokenizer_config(&models).expect("the shipped tokenizer").with_encodes_prior(true);
    let start = store::load_tokenizer_weights::<CpuTrainBackend>(&models, &config, &device).expect("its weights");
    let armabee = [asset("assets/samples/quaternius_monster_flying_armabee/Armabee.glb", config.prior)];
    let o = TrainOptions { epochs: 30, queries: 512, learning_rate: 1e-3, warmup_steps: 5, presence_weight: 0.3, ..Default::default() };
    let model = train::<CpuTrainBackend>(&config, Some(start), &o, &armabee, &armabee, &RunDir(dir.clone()), &device, |_| {})
        .expect("trains")
        .valid();
    assert!(model.encodes_prior());
    let a = &armabee[0];
    let options = DecodeOptions { limit: rig_core::InfluenceLimit { max_influences: 4, min_weight: 0.02 }, min_presence: 0.3 };
    let predicted = predict(&model, a.field.clone(), &options, Task::silent(), &device).expect("not cancelled");
    predicted.validate(a.field.vertex_count(), a.field.joint_count()).expect("a valid skin");
    assert!(predicted.iter().all(|(j, _)| !j.is_empty()), "every vertex weighted");
    let truth = SkinWeights::from_rows(a.truth.clone());
    let joints: Vec<Option<u32>> = (0..a.field.joint_count() as u32).map(Some).collect();
    let vertices: Vec<usize> = (0..a.field.vertex_count()).collect();
    let ours = skin_scores(&predicted, &truth, &joints, &vertices);
    let prior = skin_scores(&SkinWeights::from_rows(a.field.prior_rows().to_vec()), &truth, &joints, &vertices);
    eprintln!("Armabee: predictor {ours:?}, prior {prior:?}");
    assert!(ours.l1 < prior.l1 - 0.01, "{ours:?} vs prior {prior:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
