//! The rig generator on real files: cached decoding agrees with the full forward pass, decoded
//! skeletons always obey the grammar, the same seed gives the same rig, training lowers the
//! loss, and the shipped weights rig bundled characters into valid rigs.

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use rig_core::{health, Rig, Task};
use rig_model::decode::{generate_skeletons, obeys_grammar, SamplingOptions};
use rig_model::gen_data::{build_example, gen_asset, input_tensors, shape_tensors, step_rng, Example, GenAsset};
use rig_model::gen_train::{generator_loss, skeleton_nll};
use rig_model::generator::{KvCache, RigGenerator, RigGeneratorConfig};
use rig_model::refine::{advantages, refine, skeleton_reward, RefineOptions};
use rig_model::rigging::{rig_learned, LearnedModels, LearnedOptions};
use rig_model::{store, CpuBackend, CpuTrainBackend};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rig(rel: &str) -> Rig {
    let mut rig = rig_io::load(&repo().join(rel)).expect("bundled sample loads").rig;
    rig.mark_unweighted_joints_non_deforming();
    rig
}

fn small_config() -> RigGeneratorConfig {
    RigGeneratorConfig::new()
        .with_d_model(32)
        .with_layers(2)
        .with_heads(2)
        .with_ff_width(64)
        .with_latents(8)
        .with_points(128)
        .with_max_joints(12)
}

fn fox_asset() -> GenAsset {
    let device = Default::default();
    let (tokenizer, _) = store::load_tokenizer::<CpuBackend>(&repo().join("models"), &device).expect("models/ holds the tokenizer");
    gen_asset(&rig("assets/samples/khronos_fox/Fox.glb"), &tokenizer).expect("the fox is rigged")
}

/// A freshly initialised small generator, the fox's training sequence and its shape latents.
fn untrained_on_the_fox() -> (RigGeneratorConfig, RigGenerator<CpuBackend>, Example, Tensor<CpuBackend, 3>) {
    let config = small_config();
    let device = Default::default();
    let model: RigGenerator<CpuBackend> = config.init(&device);
    let example = fox_asset().example(&config, false, &mut step_rng(0, 0)).expect("the fox's skeleton is a tree");
    let (points, queries) = shape_tensors::<CpuBackend>(&[&example.points], config.latents, &device);
    let latents = model.encode_shape(points, queries);
    (config, model, example, latents)
}

#[test]
fn cached_decoding_matches_the_full_forward_pass() {
    let (config, model, example, latents) = untrained_on_the_fox();
    let device = Default::default();
    let (full, full_skin) = model.forward(latents.clone(), &input_tensors(&[&example.rows], &config, &device));
    let mut cache = KvCache::new(model.layers());
    let prefix = 5;
    let first = input_tensors::<CpuBackend>(&[&example.rows[..prefix]], &config, &device);
    let l = config.latents;
    let h = model.run(Tensor::cat(vec![latents, model.embed(&first)], 1), 0, Some(&mut cache));
    let mut hidden = vec![h.narrow(1, l, prefix)];
    for i in prefix..example.rows.len() {
        let x = model.embed(&input_tensors(&[&example.rows[i..i + 1]], &config, &device));
        hidden.push(model.run(x, l + i, Some(&mut cache)));
    }
    assert_eq!(cache.len(), l + example.rows.len());
    let (cached, cached_skin) = model.heads(Tensor::cat(hidden, 1));
    let diff = (full - cached).abs().max().into_scalar();
    let diff_skin = (full_skin - cached_skin).abs().max().into_scalar();
    assert!(diff < 1e-3 && diff_skin < 1e-3, "cached logits differ by {diff} / {diff_skin}");
}

#[test]
fn decoded_skeletons_obey_the_grammar_and_the_seed_fixes_them() {
    let (config, model, _, latents) = untrained_on_the_fox();
    let options = SamplingOptions { seed: 7, ..Default::default() };
    let a = generate_skeletons(&model, &config, latents.clone(), &options, 3, Task::silent()).expect("not cancelled");
    let b = generate_skeletons(&model, &config, latents.clone(), &options, 3, Task::silent()).expect("not cancelled");
    assert_eq!(a.len(), 3);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.tokens, y.tokens, "same seed, same skeleton");
        assert!(obeys_grammar(&x.tokens, config.max_joints), "{:?}", x.tokens);
        let n = x.skeleton.positions.len();
        assert!((1..=config.max_joints).contains(&n));
        assert!(x.skeleton.parents.iter().enumerate().all(|(i, p)| p.is_none_or(|p| p < i)) && x.skeleton.parents[0].is_none());
    }
    assert!(a.windows(2).any(|w| w[0].tokens != w[1].tokens), "different seeds differ");
    let beams = SamplingOptions { beams: 3, ..Default::default() };
    let found = generate_skeletons(&model, &config, latents, &beams, 3, Task::silent()).expect("not cancelled");
    assert!(!found.is_empty() && found.iter().all(|c| obeys_grammar(&c.tokens, config.max_joints)));
    assert!(found.windows(2).all(|w| w[0].score >= w[1].score), "beams come best first");
}

#[test]
fn training_steps_lower_the_loss() {
    let config = small_config().with_max_joints(96);
    let device = Default::default();
    let fox = fox_asset();
    let example = fox.example(&config, false, &mut step_rng(0, 0)).expect("example");
    let mut model: RigGenerator<CpuTrainBackend> = config.init(&device);
    let mut optim = AdamConfig::new().init::<CpuTrainBackend, RigGenerator<CpuTrainBackend>>();
    let before = generator_loss(&model.valid(), &config, std::slice::from_ref(&example), &device).1;
    for _ in 0..30 {
        let (loss, _) = generator_loss(&model, &config, std::slice::from_ref(&example), &device);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }
    let after = generator_loss(&model.valid(), &config, std::slice::from_ref(&example), &device).1;
    assert!(after.skeleton < 0.7 * before.skeleton, "skeleton loss {} -> {}", before.skeleton, after.skeleton);
    assert!(after.skin < 0.7 * before.skin, "skin loss {} -> {}", before.skin, after.skin);
}

#[test]
fn reward_refinement_raises_the_better_samples_likelihood() {
    let config = small_config();
    let device = Default::default();
    let fox = fox_asset();
    let example = fox.example(&config, false, &mut step_rng(0, 0)).expect("example");
    let mut model: RigGenerator<CpuTrainBackend> = config.init(&device);
    let (points, queries) = shape_tensors::<CpuBackend>(&[&example.points], config.latents, &device);
    let latents = model.valid().encode_shape(points, queries);
    let options = SamplingOptions { seed: 3, ..Default::default() };
    let group = generate_skeletons(&model.valid(), &config, latents, &options, 4, Task::silent()).expect("not cancelled");
    let rewards: Vec<f32> = group.iter().map(|c| skeleton_reward(&c.skeleton, &example.points, 5.0).total).collect();
    let adv = advantages(&rewards);
    assert!(adv.iter().any(|&a| a != 0.0), "the samples differ in reward: {rewards:?}");
    let samples: Vec<Example> = group.iter().map(|c| build_example(&config, example.points.clone(), &c.tokens, &[], &[])).collect();
    let nll = |m: &RigGenerator<CpuBackend>| -> Vec<f32> { skeleton_nll(m, &config, &samples, &device).into_data().to_vec().unwrap() };
    let before = nll(&model.valid());
    let mut optim = AdamConfig::new().init::<CpuTrainBackend, RigGenerator<CpuTrainBackend>>();
    for _ in 0..5 {
        let weights = Tensor::<CpuTrainBackend, 1>::from_data(TensorData::new(adv.clone(), [adv.len()]), &device);
        let loss = (skeleton_nll(&model, &config, &samples, &device) * weights).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
    }
    let after = nll(&model.valid());
    let best = (0..4).max_by(|&a, &b| rewards[a].total_cmp(&rewards[b])).unwrap();
    let worst = (0..4).min_by(|&a, &b| rewards[a].total_cmp(&rewards[b])).unwrap();
    assert!(
        after[best] - after[worst] < before[best] - before[worst] - 0.01,
        "best sample's NLL relative to the worst: {} -> {}",
        before[best] - before[worst],
        after[best] - after[worst]
    );
    // The whole loop runs and reports finite rewards once per epoch.
    let mut epochs = Vec::new();
    let o = RefineOptions { epochs: 1, group: 2, ..Default::default() };
    refine(model, &config, &o, std::slice::from_ref(&fox), std::slice::from_ref(&fox), &device, |e, _| epochs.push(e));
    assert_eq!(epochs.len(), 1);
    assert!(epochs[0].train.total.is_finite() && epochs[0].validation.total.is_finite());
    assert!(
        epochs[0].validation_artist.total > epochs[0].validation.total,
        "the artist's skeleton beats an untrained one: {:?}",
        epochs[0]
    );
}

/// A valid rig: one tree, every deforming joint inside the mesh, every skinned vertex weighted
/// with rows summing to 1.
fn assert_valid(rig: &Rig) {
    rig.validate().expect("valid rig");
    assert_eq!(rig.skeleton.roots().count(), 1, "one tree");
    assert!(health::joints_outside(rig).is_empty(), "joints outside: {:?}", health::joints_outside(rig));
    assert_eq!(rig.unweighted_skinned_vertices(), 0);
    assert!(rig.weights.iter().all(|(j, w)| j.is_empty() || (w.iter().sum::<f32>() - 1.0).abs() < 1e-3));
}

/// The shipped models without the joint pruner, so that the generator writes the skeleton.
fn generator_only_models() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rigsmith-generator-only-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp folder");
    for entry in std::fs::read_dir(repo().join("models")).expect("models/").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_file() && !name.starts_with("joint_pruner") {
            std::fs::copy(entry.path(), dir.join(&name)).expect("copy");
        }
    }
    dir
}

#[test]
fn shipped_models_rig_bundled_characters_into_valid_rigs_with_the_pruner_and_with_the_generator() {
    for (dir, pruned) in [(repo().join("models"), true), (generator_only_models(), false)] {
        let models = LearnedModels::load(&dir).expect("the folder holds the tokenizer and the generator");
        for file in ["assets/samples/khronos_fox/Fox.glb", "assets/samples/kenney_mini_character/player.glb"] {
            let source = rig(file);
            let options = LearnedOptions { sampling: SamplingOptions { seed: 3, ..Default::default() }, ..Default::default() };
            let mut a = source.clone();
            let report = rig_learned(&mut a, &models, &options, Task::silent()).expect("rigs");
            assert_eq!(report.template_joints.is_some(), pruned, "{file}: {report:?}");
            assert_valid(&a);
            let mut b = source.clone();
            rig_learned(&mut b, &models, &options, Task::silent()).expect("rigs");
            assert_eq!(a.skeleton, b.skeleton, "{file}: same seed, same skeleton");
            assert_eq!(a.weights, b.weights, "{file}: same seed, same skin");
            // Skin-only: the artist's skeleton stays, only the weights are new.
            let mut c = source.clone();
            let keep = LearnedOptions { keep_skeleton: true, ..options };
            rig_learned(&mut c, &models, &keep, Task::silent()).expect("skins");
            assert_eq!(c.skeleton, source.skeleton);
            assert_eq!(c.unweighted_skinned_vertices(), 0, "{file}");
        }
    }
}

#[test]
fn the_joint_pruner_lowers_the_expected_chamfer_on_real_characters() {
    use rig_model::joint_pruner::{config_for, train, PrunerSample, PrunerTraining};
    let mut samples: Vec<PrunerSample> = Vec::new();
    for file in [
        "assets/samples/khronos_fox/Fox.glb",
        "assets/samples/quaternius_monster_flying_armabee/Armabee.glb",
        "assets/samples/kenney_mini_character/player.glb",
    ] {
        let source = rig(file);
        let options = rig_core::autoskel::AutoSkeletonOptions { up: Some(source.up_direction()), ..Default::default() };
        let template = rig_core::autorig::generate_skeleton(&source.mesh, &options, Task::silent()).expect("a template fits");
        let sample = PrunerSample::new(&source.mesh, &template, &source.skeleton, source.up_direction());
        samples.push(sample.mirrored());
        samples.push(sample);
    }
    let config = config_for(&samples, 16);
    let options = PrunerTraining { epochs: 20, learning_rate: 3e-3, ..Default::default() };
    let mut losses = Vec::new();
    train::<CpuTrainBackend>(&config, &samples, &[], &options, &Default::default(), |_, loss, _| losses.push(loss)).expect("trains");
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    assert!(last < 0.95 * first, "expected CD-J2J {first} -> {last}");
}
