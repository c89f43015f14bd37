//! `rigsmith train`: train the skin tokenizer on rigged characters and ship it into models/.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use burn::module::AutodiffModule;
use rig_core::Task;
use rig_model::data::Asset;
use rig_model::features::SkinPrior;
use rig_model::gen_data::{check_code_width, gen_asset, GenAsset};
use rig_model::gen_train::{best_generator, train_generator, GenTrainOptions};
use rig_model::generator::RigGeneratorConfig;
use rig_model::tokenizer::SkinTokenizerConfig;
use rig_model::train::{read_losses, train, EpochLoss, RunDir, TrainOptions};
use rig_model::{plot, store, CpuBackend, CpuTrainBackend};

use super::learned;
use super::rig::Skin;

#[derive(Clone, Copy, clap::ValueEnum)]
enum What {
    /// The FSQ skin tokenizer (4 tokens per bone).
    Tokenizer,
    /// The autoregressive skeleton + skin generator (needs the tokenizer in the models folder).
    Generator,
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
    /// Tokenizer: this many extra copies of each training character, each in a random pose of
    /// its own skeleton (up to 20 degrees per joint) and stretched by up to 15 % per axis.
    #[arg(long, default_value_t = 0)]
    augment: usize,
    /// This many procedural creatures join the training set (`rigsmith creatures` writes them
    /// to look at; seeds 0..N), never the validation set.
    #[arg(long, default_value_t = 0)]
    creatures: usize,
    /// Width of the decoder's layers (tokenizer).
    #[arg(long, default_value_t = 128)]
    decoder_width: usize,
    /// Generator: sequences per step.
    #[arg(long, default_value_t = GenTrainOptions::default().batch)]
    batch: usize,
    /// Generator: passes over the training set per epoch, each freshly augmented.
    #[arg(long, default_value_t = GenTrainOptions::default().repeats)]
    repeats: usize,
    /// Generator: no mirroring or scaling of the examples.
    #[arg(long)]
    no_augment: bool,
    /// Generator: width of the transformer.
    #[arg(long, default_value_t = RigGeneratorConfig::new().d_model)]
    d_model: usize,
    /// Generator: transformer layers.
    #[arg(long, default_value_t = RigGeneratorConfig::new().layers)]
    layers: usize,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let t = Instant::now();
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
        learned::load_each(&train_files, |p| learned::load_augmented(p, prior, a.augment)).into_iter().flat_map(|(_, a)| a).collect();
    train_set.extend(learned::creatures(a.creatures, |rig| Ok(Asset::new(rig, prior, Task::silent())?)));
    let validation: Vec<_> = learned::load_assets(&val_files, prior).into_iter().map(|(_, a)| a).collect();
    let bones: usize = train_set.iter().map(|a| a.bones().len()).sum();
    eprintln!(
        "{} training assets ({bones} bones), {} validation assets, prepared in {:.0} s",
        train_set.len(),
        validation.len(),
        t.elapsed().as_secs_f64()
    );
    let config = SkinTokenizerConfig::new().with_decoder_width(a.decoder_width).with_points(a.points.max(8)).with_prior(prior);
    let options = TrainOptions { epochs: a.epochs, queries: a.queries.max(8), learning_rate: a.lr, seed: a.seed, ..Default::default() };
    let dir = RunDir(a.run.clone());
    let device = Default::default();
    let started = Instant::now();
    let model =
        train::<CpuTrainBackend>(&config, &options, &train_set, &validation, &dir, &device, |l| report_epoch(&dir, &l, "", started))?;
    if let Err(e) = plot::plot_losses(&read_losses(&dir.losses()), &a.run.join("losses.png")) {
        eprintln!("warning: {e}");
    }
    let out = rig_model::store::models_dir(a.out.as_deref());
    store::save_tokenizer(&model, &config, &out).with_context(|| format!("{}", out.display()))?;
    eprintln!("trained in {:.0} s; weights in {}", t.elapsed().as_secs_f64(), out.display());
    Ok(())
}

/// Trains the generator on the files (the tokenizer in the models folder encodes the artist's
/// skins and the geometric prior) and ships it beside the tokenizer.
fn train_generator_files(a: &Args, train_files: &[PathBuf], val_files: &[PathBuf], t: Instant) -> anyhow::Result<()> {
    let models = rig_model::store::models_dir(a.out.as_deref());
    let (tokenizer, _) = store::load_tokenizer::<CpuBackend>(&models, &Default::default())
        .context("the generator writes the tokenizer's tokens: train the tokenizer first (rigsmith train tokenizer)")?;
    let config = RigGeneratorConfig::new().with_d_model(a.d_model).with_layers(a.layers.max(1)).with_levels(tokenizer.levels().to_vec());
    check_code_width(&config, &tokenizer).map_err(anyhow::Error::msg)?;
    let load = |files: &[PathBuf]| -> Vec<GenAsset> {
        learned::load_each(files, |path| gen_asset(&learned::load_rig(path)?, &tokenizer).map_err(anyhow::Error::msg))
            .into_iter()
            .map(|(_, g)| g)
            .collect()
    };
    let (mut train_set, validation) = (load(train_files), load(val_files));
    train_set.extend(learned::creatures(a.creatures, |rig| gen_asset(rig, &tokenizer).map_err(anyhow::Error::msg)));
    let joints: usize = train_set.iter().map(GenAsset::joint_count).sum();
    eprintln!(
        "{} training assets ({joints} joints), {} validation assets, prepared in {:.0} s",
        train_set.len(),
        validation.len(),
        t.elapsed().as_secs_f64()
    );
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
    let model = train_generator::<CpuTrainBackend>(&config, &options, &train_set, &validation, &dir, &Default::default(), |l, parts| {
        report_epoch(&dir, &l, &format!(" (skeleton {:.3}, skin {:.3})", parts.skeleton, parts.skin), started)
    })?;
    let model = match best_generator::<CpuBackend>(&config, &dir, &Default::default()) {
        Some((best, epoch, loss)) => {
            eprintln!("shipping epoch {epoch}, the lowest validation loss ({loss:.4})");
            best
        }
        None => model.valid(),
    };
    store::save_generator(&model, &config, &models).with_context(|| format!("{}", models.display()))?;
    eprintln!("trained in {:.0} s; weights in {}", t.elapsed().as_secs_f64(), models.display());
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
