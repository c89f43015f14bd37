//! `rigsmith tokenize`: round-trip each character's skin through the skin tokenizer (4 tokens
//! per bone) and score the reconstruction against the artist's weights, next to the geometric
//! prior the decoder starts from.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use rig_core::metrics::{skin_scores, SkinScores};
use rig_core::SkinWeights;
use rig_model::data::Asset;
use rig_model::skin::{decode, encode, DecodeOptions};
use rig_model::tokenizer::SkinTokenizer;
use rig_model::{store, CpuBackend};
use serde_json::json;

use super::learned;

#[derive(clap::Args)]
pub struct Args {
    /// Rigged files or folders (repeatable).
    #[arg(long, required = true)]
    input: Vec<PathBuf>,
    /// Folder with skin_tokenizer.json and .mpk (default: the shipped models/).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Skip files whose path contains any of these (repeatable).
    #[arg(long)]
    exclude: Vec<String>,
    #[arg(long, default_value_t = DecodeOptions::default().max_influences)]
    max_influences: usize,
    #[arg(long, default_value_t = DecodeOptions::default().min_weight)]
    min_weight: f32,
    /// Tokenizers with a presence head: bones it gives a lower probability of influencing a
    /// vertex are dropped there.
    #[arg(long, default_value_t = DecodeOptions::default().min_presence)]
    min_presence: f32,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

struct Row {
    name: String,
    tokens: SkinScores,
    prior: SkinScores,
    unweighted: usize,
    seconds: f64,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let dir = rig_model::store::models_dir(a.model.as_deref());
    let device = Default::default();
    let (model, _) =
        store::load_tokenizer::<CpuBackend>(&dir, &device).with_context(|| format!("loading the skin tokenizer from {}", dir.display()))?;
    let files: Vec<PathBuf> = learned::rigged_files(&a.input)
        .into_iter()
        .filter(|p| !a.exclude.iter().any(|x| p.to_string_lossy().contains(x.as_str())))
        .collect();
    if files.is_empty() {
        bail!("no rigged file under {:?}", a.input);
    }
    let options = DecodeOptions { max_influences: a.max_influences.max(1), min_weight: a.min_weight, min_presence: a.min_presence };
    let mut rows = Vec::new();
    for path in &files {
        match learned::load_asset(path, model.prior()) {
            Ok(asset) => rows.push(round_trip(&model, &asset, &options, &device)),
            Err(e) => eprintln!("skipped {}: {e:#}", path.display()),
        }
    }
    if rows.is_empty() {
        bail!("none of the files could be used");
    }
    if a.json {
        let list: Vec<_> = rows.iter().map(|r| json!({"asset": r.name, "tokens": scores(&r.tokens), "prior": scores(&r.prior), "unweighted": r.unweighted, "seconds": r.seconds})).collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        print_table(&rows);
    }
    Ok(())
}

fn round_trip<B: burn::tensor::backend::Backend>(
    model: &SkinTokenizer<B>,
    asset: &Asset,
    options: &DecodeOptions,
    device: &B::Device,
) -> Row {
    let t = Instant::now();
    let tokens = encode(model, asset, device);
    let weights = decode(model, &asset.field, &tokens, options, device);
    let seconds = t.elapsed().as_secs_f64();
    let truth = SkinWeights::from_rows(asset.truth.clone());
    let prior = SkinWeights::from_rows(asset.field.prior_rows().to_vec());
    let joints: Vec<Option<u32>> = (0..asset.field.joint_count() as u32).map(Some).collect();
    let vertices: Vec<usize> = (0..asset.field.vertex_count()).collect();
    let unweighted = weights.iter().filter(|(j, _)| j.is_empty()).count();
    Row {
        name: asset.name.clone(),
        tokens: skin_scores(&weights, &truth, &joints, &vertices),
        prior: skin_scores(&prior, &truth, &joints, &vertices),
        unweighted,
        seconds,
    }
}

fn scores(s: &SkinScores) -> serde_json::Value {
    json!({"precision": s.precision, "recall": s.recall, "l1": s.l1})
}

fn print_table(rows: &[Row]) {
    println!("{:<40} {:>22}   {:>22} {:>10} {:>7}", "asset", "tokens: prec rec L1", "prior: prec rec L1", "unweighted", "s");
    let cell = |s: &SkinScores| format!("{:.3} {:.3} {:.3}", s.precision, s.recall, s.l1);
    for r in rows {
        println!("{:<40} {:>22}   {:>22} {:>10} {:>7.2}", r.name, cell(&r.tokens), cell(&r.prior), r.unweighted, r.seconds);
    }
    let n = rows.len() as f32;
    let mean = |f: &dyn Fn(&Row) -> SkinScores| SkinScores {
        precision: rows.iter().map(|r| f(r).precision).sum::<f32>() / n,
        recall: rows.iter().map(|r| f(r).recall).sum::<f32>() / n,
        l1: rows.iter().map(|r| f(r).l1).sum::<f32>() / n,
    };
    println!(
        "{:<40} {:>22}   {:>22} {:>10}",
        format!("mean of {}", rows.len()),
        cell(&mean(&|r| r.tokens)),
        cell(&mean(&|r| r.prior)),
        rows.iter().map(|r| r.unweighted).sum::<usize>()
    );
}
