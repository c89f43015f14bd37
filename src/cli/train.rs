//! `rigsmith train`: train the skin tokenizer on rigged characters and ship it into models/.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use burn::module::AutodiffModule;
use rig_core::Task;
use rig_model::backend::{check_backend, BackendChoice};
use rig_model::data::Asset;
use rig_model::features::SkinPrior;
use rig_model::gen_data::{check_code_width, gen_asset, GenAsset};
use rig_model::gen_train::{best_generator, train_generator, GenTrainOptions};
use rig_model::generator::{RigGenerator, RigGeneratorConfig};
use rig_model::refine::{refine, validation_rewards, RefineEpoch, RefineOptions};
use rig_model::tokenizer::{SkinTokenizer, SkinTokenizerConfig};
use rig_model::train::{read_losses, train, EpochLoss, RunDir, TrainOptions};
use rig_model::{plot, store, CpuBackend, CpuTrainBackend};

use super::learned::{self, Copies};
use super::rig::Skin;

#[derive(Clone, Copy, clap::ValueEnum)]
enum What {
    /// The FSQ skin tokenizer (4 tokens per bone).
    Tokenizer,
    /// The autoregressive skeleton + skin generator (needs the tokenizer in the models folder).
    Generator,
    /// Rig from motion's learned initialiser: clips of the rigged files (and procedural
    /// creatures) baked to frames; --epochs counts hundreds of steps.
    MotionInit,
    /// The learned method's joint pruner (which joints of the geometric template an artist
    /// keeps); --epochs, --lr and --seed apply.
    JointPruner,
}

/// Where `train` runs its steps (`--backend`).
#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum TrainOn {
    /// ndarray on the CPU's cores.
    Cpu,
    /// burn-cuda on an NVIDIA GPU (build with `--features cuda`).
    Cuda,
    /// wgpu on any GPU (build with `--features wgpu`).
    Wgpu,
}

/// Runs `$body` with the type `$B` bound to the autodiff backend `$on` names (`run` has already
/// refused, through `check_backend`, a backend this build lacks).
macro_rules! on_backend {
    ($on:expr, $B:ident => $body:expr) => {
        match $on {
            TrainOn::Cpu => {
                type $B = CpuTrainBackend;
                $body
            }
            #[cfg(feature = "cuda")]
            TrainOn::Cuda => {
                type $B = rig_model::CudaTrainBackend;
                $body
            }
            #[cfg(feature = "wgpu")]
            TrainOn::Wgpu => {
                type $B = rig_model::WgpuTrainBackend;
                $body
            }
            #[allow(unreachable_patterns)]
            other => bail!("--backend {} is not in this build", on_name(other)),
        }
    };
}

fn on_name(on: TrainOn) -> &'static str {
    match on {
        TrainOn::Cpu => "cpu",
        TrainOn::Cuda => "cuda",
        TrainOn::Wgpu => "wgpu",
    }
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(value_enum)]
    what: What,
    /// Rigged files or folders to learn from (repeatable).
    #[arg(long, required = true)]
    data: Vec<PathBuf>,
    /// Every n-th asset (sorted by path) is held out for the validation loss.
    #[arg(long, default_value_t = 8)]
    validation_every: usize,
    /// Run folder: checkpoint, optimizer state, losses.csv, losses.png. An existing run resumes.
    #[arg(long, default_value = "target/runs/tokenizer")]
    run: PathBuf,
    /// Where the trained weights and config are written at the end.
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, default_value_t = TrainOptions::default().epochs)]
    epochs: usize,
    /// Vertices per step (one character per step) where the decoded skin meets the artist's.
    #[arg(long, default_value_t = TrainOptions::default().queries)]
    queries: usize,
    /// Vertices sampled per bone for the encoder (kept in the model's config).
    #[arg(long, default_value_t = SkinTokenizerConfig::new().points)]
    points: usize,
    #[arg(long, default_value_t = TrainOptions::default().learning_rate)]
    lr: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Tokenizer: the geometric binder whose weights its features include (kept in its config).
    #[arg(long, value_enum, default_value_t = Skin::Heat)]
    prior: Skin,
    /// This many extra copies of each training character, each in a random pose of its own
    /// skeleton (up to 20 degrees per joint) and stretched by up to 15 % per axis.
    #[arg(long, default_value_t = 0)]
    augment: usize,
    /// Up to this many extra copies of each training character with its surface simplified to
    /// 1/2, 1/4, ... of its triangles (vertices and weights kept; fewer copies of coarse meshes).
    #[arg(long, default_value_t = 0)]
    decimate: usize,
    /// This many procedural creatures join the training set (`rigsmith creatures` writes them
    /// to look at; seeds 0..N), never the validation set. The generator learns only their
    /// skeletons; the tokenizer their weights.
    #[arg(long, default_value_t = 0)]
    creatures: usize,
    /// Width of the decoder's layers (tokenizer).
    #[arg(long, default_value_t = SkinTokenizerConfig::new().decoder_width)]
    decoder_width: usize,
    /// Tokenizer: give the decoder a presence head (does the bone influence the vertex at all),
    /// trained with this weight on its binary cross-entropy; 0: no head.
    #[arg(long, default_value_t = 0.0)]
    presence_weight: f32,
    /// Tokenizer: weight of the L1 distance between the decoded and the artist's weights next
    /// to the cross-entropy (0: the cross-entropy alone).
    #[arg(long, default_value_t = 0.0)]
    l1_weight: f32,
    /// Tokenizer: weight of a hinge that costs each artist influence decoded under
    /// --support-margin of its vertex (0: off).
    #[arg(long, default_value_t = 0.0)]
    support_weight: f32,
    #[arg(long, default_value_t = 0.06)]
    support_margin: f32,
    /// Tokenizer: start a new run from the tokenizer in this models folder (fine-tuning)
    /// instead of random weights; its sizes are kept (--decoder-width, --encoder-width and
    /// --points are not read), its prior and presence head must match the flags.
    #[arg(long)]
    init: Option<PathBuf>,
    /// Tokenizer: train a skin predictor instead: the encoder reads the geometric prior's
    /// weights (not the artist's) and learns the codes that decode to the artist's; written as
    /// skin_predictor.* (with --init, starting from that folder's tokenizer).
    #[arg(long)]
    encode_prior: bool,
    /// Width of the encoder's point-wise layers (tokenizer).
    #[arg(long, default_value_t = SkinTokenizerConfig::new().encoder_width)]
    encoder_width: usize,
    /// Generator: sequences per step.
    #[arg(long, default_value_t = GenTrainOptions::default().batch)]
    batch: usize,
    /// Generator: passes over the training set per epoch, each freshly augmented.
    #[arg(long, default_value_t = GenTrainOptions::default().repeats)]
    repeats: usize,
    /// Generator: instead of supervised training, refine the generator already in the models
    /// folder for this many epochs with rewards (bones inside the volume, surface covered),
    /// GRPO-style; the teacher-forced loss on the artist's rig stays in with weight --anchor.
    #[arg(long, default_value_t = 0)]
    refine: usize,
    /// Refinement: skeletons sampled per shape.
    #[arg(long, default_value_t = RefineOptions::default().group)]
    group: usize,
    /// Refinement: weight of the supervised loss on the artist's rig.
    #[arg(long, default_value_t = RefineOptions::default().anchor)]
    anchor: f32,
    /// Refinement: weight of the mean surface-to-bone distance against the share of bone
    /// samples inside (the reward is inside - weight x distance).
    #[arg(long, default_value_t = RefineOptions::default().coverage_weight)]
    coverage_weight: f32,
    /// Generator: no mirroring or scaling of the examples.
    #[arg(long)]
    no_augment: bool,
    /// Generator: width of the transformer.
    #[arg(long, default_value_t = RigGeneratorConfig::new().d_model)]
    d_model: usize,
    /// Generator: transformer layers.
    #[arg(long, default_value_t = RigGeneratorConfig::new().layers)]
    layers: usize,
    /// Where the training steps run (the data is prepared on the CPU either way; `--refine`
    /// runs on the CPU).
    #[arg(long, value_enum, default_value_t = TrainOn::Cpu)]
    backend: TrainOn,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if let What::MotionInit = a.what {
        return super::train_motion::run(&a.data, a.out.as_deref(), a.epochs, a.lr);
    }
    if let What::JointPruner = a.what {
        let options = rig_model::joint_pruner::PrunerTraining { epochs: a.epochs, learning_rate: a.lr, seed: a.seed, ..Default::default() };
        return super::train_pruner::run(&a.data, a.out.as_deref(), a.validation_every, &options);
    }
    let t = Instant::now();
    let on = match a.backend {
        TrainOn::Cpu => BackendChoice::Cpu,
        TrainOn::Cuda => BackendChoice::Cuda,
        TrainOn::Wgpu => BackendChoice::Wgpu,
    };
    if let Err(why) = check_backend(on) {
        bail!("cannot train on --backend {}: {why}; train with --backend cpu", on_name(a.backend));
    }
    learned::check_non_negative(&[
        ("--presence-weight", a.presence_weight),
        ("--l1-weight", a.l1_weight),
        ("--support-weight", a.support_weight),
        ("--support-margin", a.support_margin),
    ])?;
    // Settings are checked before the data is loaded (minutes).
    let config = match a.what {
        What::Tokenizer => Some(tokenizer_config(&a)?),
        What::Generator if a.init.is_some() || a.l1_weight > 0.0 || a.support_weight > 0.0 || a.encode_prior => {
            bail!("--init, --l1-weight, --support-weight and --encode-prior are for `train tokenizer`")
        }
        What::Generator | What::MotionInit | What::JointPruner => None,
    };
    let files = learned::rigged_files(&a.data);
    if files.is_empty() {
        bail!("no .glb/.gltf/.vrm/.obj file under {:?}", a.data);
    }
    eprintln!("building shape fields for {} files", files.len());
    let every = a.validation_every.max(2);
    let (mut train_files, mut val_files) = (Vec::new(), Vec::new());
    for (i, f) in files.into_iter().enumerate() {
        if i % every == every - 1 {
            val_files.push(f);
        } else {
            train_files.push(f);
        }
    }
    if matches!(a.what, What::Generator) {
        return train_generator_files(&a, &train_files, &val_files, t);
    }
    let prior: SkinPrior = a.prior.into();
    let mut train_set: Vec<_> =
        learned::load_each(&train_files, |p| Ok(learned::load_augmented(p, prior, a.copies())?)).into_iter().flat_map(|(_, a)| a).collect();
    train_set.extend(learned::creatures(a.creatures, |rig| Ok(Asset::new(rig, prior, Task::silent())?)));
    let validation: Vec<_> = learned::load_assets(&val_files, prior).into_iter().map(|(_, a)| a).collect();
    let bones: usize = train_set.iter().map(|a| a.bones().len()).sum();
    eprintln!(
        "{} training assets ({bones} bones), {} validation assets, prepared in {:.0} s",
        train_set.len(),
        validation.len(),
        t.elapsed().as_secs_f64()
    );
    let config = config.context("a tokenizer config")?;
    let options = TrainOptions {
        epochs: a.epochs,
        queries: a.queries.max(8),
        learning_rate: a.lr,
        seed: a.seed,
        presence_weight: a.presence_weight,
        l1_weight: a.l1_weight,
        support_weight: a.support_weight,
        support_margin: a.support_margin,
        ..Default::default()
    };
    let dir = RunDir(a.run.clone());
    let started = Instant::now();
    let out = rig_model::store::models_dir(a.out.as_deref());
    on_backend!(a.backend, B => {
        let start = match &a.init {
            Some(init) => Some(store::load_tokenizer_weights::<B>(init, &config, &Default::default())?),
            None => None,
        };
        let model = train::<B>(&config, start, &options, &train_set, &validation, &dir, &Default::default(), |l| report_epoch(&dir, &l, "", started))?;
        store::save_tokenizer(&model, &config, &out).with_context(|| format!("{}", out.display()))?;
    });
    if let Err(e) = plot::plot_losses(&read_losses(&dir.losses()), &a.run.join("losses.png")) {
        eprintln!("warning: {e}");
    }
    eprintln!("trained in {:.0} s; weights in {}", t.elapsed().as_secs_f64(), out.display());
    Ok(())
}

/// The tokenizer's config from the flags, or with `--init DIR`, the config of the tokenizer
/// there (its sizes are kept; a different prior or presence head is refused, as is a run folder
/// that already holds a checkpoint, which would resume instead of starting from DIR).
fn tokenizer_config(a: &Args) -> anyhow::Result<SkinTokenizerConfig> {
    let prior: SkinPrior = a.prior.into();
    let Some(init) = &a.init else {
        return Ok(SkinTokenizerConfig::new()
            .with_decoder_width(a.decoder_width.max(2))
            .with_encoder_width(a.encoder_width.max(1))
            .with_points(a.points.max(8))
            .with_prior(prior)
            .with_presence(a.presence_weight > 0.0)
            .with_encodes_prior(a.encode_prior));
    };
    let config = store::load_tokenizer_config(init).with_context(|| format!("--init {}", init.display()))?;
    if config.prior != prior {
        bail!("--init {} was trained with --prior {:?}; pass the same --prior", init.display(), config.prior);
    }
    if config.presence != (a.presence_weight > 0.0) {
        bail!(
            "--init {} {} a presence head: {}",
            init.display(),
            if config.presence { "has" } else { "has no" },
            if config.presence { "pass --presence-weight W > 0 (the shipped run used 0.3)" } else { "leave out --presence-weight" }
        );
    }
    if RunDir(a.run.clone()).has_checkpoint() {
        bail!("{} holds a checkpoint, which would resume instead of starting from --init; use a new --run folder", a.run.display());
    }
    Ok(config.with_encodes_prior(a.encode_prior))
}

impl Args {
    fn copies(&self) -> Copies {
        Copies { posed: self.augment, decimated: self.decimate }
    }
}

/// Trains the generator on the files (the tokenizer in the models folder encodes the artist's
/// skins and the geometric prior) and ships it beside the tokenizer.
fn train_generator_files(a: &Args, train_files: &[PathBuf], val_files: &[PathBuf], t: Instant) -> anyhow::Result<()> {
    let models = rig_model::store::models_dir(a.out.as_deref());
    let (tokenizer, _) = store::load_tokenizer::<CpuBackend>(&models, &Default::default())
        .context("the generator writes the tokenizer's tokens: train the tokenizer first (rigsmith train tokenizer)")?;
    let config = RigGeneratorConfig::new().with_d_model(a.d_model).with_layers(a.layers.max(1)).with_levels(tokenizer.levels().to_vec());
    check_code_width(&config, &tokenizer).map_err(anyhow::Error::msg)?;
    let load = |files: &[PathBuf], copies: Copies| -> Vec<GenAsset> {
        let assets = |path: &Path| -> anyhow::Result<Vec<GenAsset>> {
            learned::training_rigs(path, copies)?.iter().map(|rig| gen_asset(rig, &tokenizer).map_err(anyhow::Error::msg)).collect()
        };
        learned::load_each(files, assets).into_iter().flat_map(|(_, g)| g).collect()
    };
    let (mut train_set, validation) = (load(train_files, a.copies()), load(val_files, Copies::default()));
    // Creatures teach the generator skeletons only: their weights are a formula, not an artist's
    // style (with their skin tokens as targets too the test-set skin L1 went 0.378 -> 0.414).
    train_set
        .extend(learned::creatures(a.creatures, |rig| gen_asset(rig, &tokenizer).map(GenAsset::skeleton_only).map_err(anyhow::Error::msg)));
    let joints: usize = train_set.iter().map(GenAsset::joint_count).sum();
    eprintln!(
        "{} training assets ({joints} joints), {} validation assets, prepared in {:.0} s",
        train_set.len(),
        validation.len(),
        t.elapsed().as_secs_f64()
    );
    if a.refine > 0 {
        return refine_generator(a, &models, &tokenizer, &train_set, &validation, t);
    }
    let options = GenTrainOptions {
        epochs: a.epochs,
        batch: a.batch.max(1),
        learning_rate: a.lr,
        seed: a.seed,
        augment: !a.no_augment,
        repeats: a.repeats.max(1),
        ..Default::default()
    };
    let dir = RunDir(a.run.clone());
    let started = Instant::now();
    let report = |l: EpochLoss, parts: rig_model::gen_train::LossParts| {
        report_epoch(&dir, &l, &format!(" (skeleton {:.3}, skin {:.3})", parts.skeleton, parts.skin), started)
    };
    on_backend!(a.backend, B => {
        let last = train_generator::<B>(&config, &options, &train_set, &validation, &dir, &Default::default(), report)?;
        match best_generator::<CpuBackend>(&config, &dir, &Default::default()) {
            Some((best, epoch, loss)) => {
                eprintln!("shipping epoch {epoch}, the lowest validation loss ({loss:.4})");
                store::save_generator(&best, &config, &models)
            }
            None => store::save_generator(&last.valid(), &config, &models),
        }
        .with_context(|| format!("{}", models.display()))?;
    });
    eprintln!("trained in {:.0} s; weights in {}", t.elapsed().as_secs_f64(), models.display());
    Ok(())
}

/// Reward refinement of the shipped generator (`--refine N`); writes `refine.csv` in the run
/// folder and the refined weights over the models folder's generator after each epoch.
fn refine_generator(
    a: &Args,
    models: &Path,
    tokenizer: &SkinTokenizer<CpuBackend>,
    train_set: &[GenAsset],
    validation: &[GenAsset],
    t: Instant,
) -> anyhow::Result<()> {
    let device = Default::default();
    if train_set.is_empty() {
        bail!("no training asset to refine on: --data names no rigged file that could be read");
    }
    // Its own config: --d-model and --layers do not apply to a trained model.
    let (model, config) = store::load_generator::<CpuTrainBackend>(models, &device)
        .context("--refine starts from a trained generator: train one first (rigsmith train generator)")?;
    let config = &config;
    // The training sequences hold this tokenizer's codes: the generator must have been trained on them.
    check_code_width(config, tokenizer).map_err(anyhow::Error::msg)?;
    let options = RefineOptions {
        epochs: a.refine,
        group: a.group.max(2),
        learning_rate: a.lr,
        anchor: a.anchor,
        coverage_weight: a.coverage_weight,
        seed: a.seed,
    };
    std::fs::create_dir_all(&a.run).with_context(|| format!("{}", a.run.display()))?;
    let csv = a.run.join("refine.csv");
    std::fs::write(
        &csv,
        "epoch,train_reward,train_inside,train_distance,validation_reward,validation_inside,validation_distance,artist_reward\n",
    )?;
    let (before, artist) = validation_rewards(&model.valid(), config, validation, &options, &device);
    eprintln!(
        "before: validation reward {:.3} (inside {:.3}, distance {:.3}); the artists' skeletons {:.3}",
        before.total, before.inside, before.distance, artist.total
    );
    let mut saved: anyhow::Result<()> = Ok(());
    refine(model, config, &options, train_set, validation, &device, |e: RefineEpoch, m: &RigGenerator<CpuTrainBackend>| {
        let (tr, va) = (e.train, e.validation);
        eprintln!(
            "epoch {:>3}: train reward {:.3} (inside {:.3}, distance {:.3})  validation {:.3} (inside {:.3}, distance {:.3})  ({:.0} s)",
            e.epoch,
            tr.total,
            tr.inside,
            tr.distance,
            va.total,
            va.inside,
            va.distance,
            t.elapsed().as_secs_f64()
        );
        let line = format!(
            "{},{},{},{},{},{},{},{}\n",
            e.epoch, tr.total, tr.inside, tr.distance, va.total, va.inside, va.distance, e.validation_artist.total
        );
        let write =
            std::fs::OpenOptions::new().append(true).open(&csv).and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
        saved = write.map_err(anyhow::Error::from).and_then(|_| Ok(store::save_generator(&m.valid(), config, models)?));
    });
    saved.with_context(|| format!("{}", models.display()))?;
    eprintln!("refined in {:.0} s; weights in {}", t.elapsed().as_secs_f64(), models.display());
    Ok(())
}

/// Prints an epoch's line and redraws `losses.png` from the run's loss log (read back, so a
/// resumed run plots exactly the epochs of its checkpoint).
fn report_epoch(dir: &RunDir, l: &EpochLoss, detail: &str, started: Instant) {
    eprintln!(
        "epoch {:>3}: train {:.4}  validation {:.4}{detail}  lr {:.2e}  ({:.0} s)",
        l.epoch,
        l.train,
        l.validation,
        l.learning_rate,
        started.elapsed().as_secs_f64()
    );
    if let Err(e) = plot::plot_losses(&read_losses(&dir.losses()), &dir.0.join("losses.png")) {
        eprintln!("warning: {e}");
    }
}
