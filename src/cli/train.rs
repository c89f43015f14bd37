//! `rigsmith train`: train the skin tokenizer on rigged characters and ship it into models/.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use rig_model::tokenizer::SkinTokenizerConfig;
use rig_model::train::{read_losses, train, EpochLoss, RunDir, TrainOptions};
use rig_model::{plot, store, CpuTrainBackend};

use super::learned;

#[derive(Clone, Copy, clap::ValueEnum)]
enum What {
    /// The FSQ skin tokenizer (4 tokens per bone).
    Tokenizer,
    /// The autoregressive skeleton + skin generator (not built yet).
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
    /// Width of the decoder's layers.
    #[arg(long, default_value_t = 128)]
    decoder_width: usize,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if matches!(a.what, What::Generator) {
        bail!("training the generator is not built yet (issue 5); `rigsmith train tokenizer` trains the skin tokenizer");
    }
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
    let train_set: Vec<_> = learned::load_assets(&train_files).into_iter().map(|(_, a)| a).collect();
    let validation: Vec<_> = learned::load_assets(&val_files).into_iter().map(|(_, a)| a).collect();
    let bones: usize = train_set.iter().map(|a| a.bones().len()).sum();
    eprintln!(
        "{} training assets ({bones} bones), {} validation assets, prepared in {:.0} s",
        train_set.len(),
        validation.len(),
        t.elapsed().as_secs_f64()
    );
    let config = SkinTokenizerConfig::new().with_decoder_width(a.decoder_width).with_points(a.points.max(8));
    let options = TrainOptions { epochs: a.epochs, queries: a.queries.max(8), learning_rate: a.lr, seed: a.seed, ..Default::default() };
    let dir = RunDir(a.run.clone());
    let mut losses: Vec<EpochLoss> = read_losses(&dir.losses());
    let device = Default::default();
    let started = Instant::now();
    let model = train::<CpuTrainBackend>(&config, &options, &train_set, &validation, &dir, &device, |l| {
        eprintln!(
            "epoch {:>3}: train {:.4}  validation {:.4}  lr {:.2e}  ({:.0} s)",
            l.epoch,
            l.train,
            l.validation,
            l.learning_rate,
            started.elapsed().as_secs_f64()
        );
        losses.push(l);
        if let Err(e) = plot::plot_losses(&losses, &a.run.join("losses.png")) {
            eprintln!("warning: {e}");
        }
    })?;
    if let Err(e) = plot::plot_losses(&read_losses(&dir.losses()), &a.run.join("losses.png")) {
        eprintln!("warning: {e}");
    }
    let out = learned::models_dir(a.out.as_deref());
    store::save_tokenizer(&model, &config, &out).with_context(|| format!("{}", out.display()))?;
    eprintln!("trained in {:.0} s; weights in {}", t.elapsed().as_secs_f64(), out.display());
    Ok(())
}
