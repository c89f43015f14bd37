//! `rigsmith tokenize`: round-trip each character's skin through the skin tokenizer (4 tokens
//! per bone) and score the reconstruction against the artist's weights, next to the geometric
//! prior the decoder starts from.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use rayon::prelude::*;
use rig_core::metrics::{skin_scores, SkinScores};
use rig_core::{InfluenceLimit, SkinWeights};
use rig_model::data::{slot_bones, Asset};
use rig_model::skin::{decode, encode_refined, DecodeOptions, RefineEncoding};
use rig_model::tokenizer::SkinTokenizer;
use rig_model::train::LossWeights;
use rig_model::{store, CpuTrainBackend};
use serde_json::json;

use super::learned;

/// The pruning thresholds chosen on the 9 validation files for refined tokens of the shipped
/// tokenizer (which has a presence head): drop bones it gives under 20 % presence, then
/// influences under 1 % of the vertex.
const REFINED_MIN_WEIGHT: f32 = 0.01;
const REFINED_MIN_PRESENCE: f32 = 0.2;

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
    #[arg(long, default_value_t = DecodeOptions::default().limit.max_influences)]
    max_influences: usize,
    /// Influences under this share of a vertex's total are dropped (1 %: chosen for refined
    /// tokens on the validation files). Several values
    /// (`--min-weight 0.04 0.1`) decode the same tokens at each; the table's rows use the
    /// first, and a mean line follows for each of the others.
    #[arg(long, num_args = 1.., default_values_t = [REFINED_MIN_WEIGHT])]
    min_weight: Vec<f32>,
    /// Tokenizers with a presence head: bones it gives a lower probability of influencing a
    /// vertex are dropped there (20 %: chosen for refined tokens on the validation files; for
    /// `--refine-steps 0`, 70 % with `--min-weight 0` did best there, models/README.md).
    #[arg(long, default_value_t = REFINED_MIN_PRESENCE)]
    min_presence: f32,
    /// Refine each bone's tokens by this many gradient steps on the reconstruction (0: the
    /// encoder network's tokens as they are: 50x faster, further from the artist's weights).
    #[arg(long, default_value_t = RefineEncoding::default().steps)]
    refine_steps: usize,
    /// Vertices scored per refinement step.
    #[arg(long, default_value_t = RefineEncoding::default().queries)]
    refine_queries: usize,
    /// Step size of that refinement at its first step...
    #[arg(long, default_value_t = RefineEncoding::default().learning_rate)]
    refine_rate: f32,
    /// ...falling along a cosine to this at its last (default: --refine-rate, constant).
    #[arg(long)]
    refine_final_rate: Option<f32>,
    /// Weight of the L1 distance to the artist's weights in that refinement.
    #[arg(long, default_value_t = RefineEncoding::default().loss.l1)]
    refine_l1: f32,
    /// Weight of the hinge that keeps each of the artist's influences at `--refine-margin` of its
    /// vertex or more in that refinement.
    #[arg(long, default_value_t = RefineEncoding::default().loss.support)]
    refine_support: f32,
    #[arg(long, default_value_t = RefineEncoding::default().loss.support_margin)]
    refine_margin: f32,
    /// Weight of the hinge that keeps each bone the artist did not use at a vertex under
    /// `--refine-spurious-margin` of it in that refinement (0: off).
    #[arg(long, default_value_t = RefineEncoding::default().loss.spurious)]
    refine_spurious: f32,
    #[arg(long, default_value_t = RefineEncoding::default().loss.spurious_margin)]
    refine_spurious_margin: f32,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

struct Row {
    name: String,
    /// One per `--min-weight`, in the order given.
    tokens: Vec<SkinScores>,
    prior: SkinScores,
    unweighted: usize,
    /// Share of the artist's influences whose bone competes at their vertex (the decoder can
    /// give back no other), and of those the share at or over each `--min-weight`.
    reachable: Reachable,
    seconds: f64,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    learned::check_thresholds(&a.min_weight, a.min_presence)?;
    InfluenceLimit::max(a.max_influences).map_err(|e| anyhow::anyhow!("--max-influences: {e}"))?;
    learned::check_non_negative(&[
        ("--refine-rate", a.refine_rate),
        ("--refine-final-rate", a.refine_final_rate.unwrap_or(0.0)),
        ("--refine-l1", a.refine_l1),
        ("--refine-support", a.refine_support),
        ("--refine-margin", a.refine_margin),
        ("--refine-spurious", a.refine_spurious),
        ("--refine-spurious-margin", a.refine_spurious_margin),
    ])?;
    if a.refine_steps > 0 && a.refine_queries == 0 {
        bail!("--refine-queries must be 1 or more (the vertices each refinement step scores)");
    }
    let dir = rig_model::store::models_dir(a.model.as_deref());
    let device = Default::default();
    let (model, _) = store::load_tokenizer::<CpuTrainBackend>(&dir, &device)
        .with_context(|| format!("loading the skin tokenizer from {}", dir.display()))?;
    let files: Vec<PathBuf> = learned::rigged_files(&a.input)
        .into_iter()
        .filter(|p| !a.exclude.iter().any(|x| p.to_string_lossy().contains(x.as_str())))
        .collect();
    if files.is_empty() {
        bail!("no rigged file under {:?}", a.input);
    }
    let options: Vec<DecodeOptions> = a
        .min_weight
        .iter()
        .map(|&min_weight| DecodeOptions {
            limit: InfluenceLimit { max_influences: a.max_influences, min_weight },
            min_presence: a.min_presence,
        })
        .collect();
    let refine = RefineEncoding {
        steps: a.refine_steps,
        learning_rate: a.refine_rate,
        final_rate: a.refine_final_rate.unwrap_or(a.refine_rate),
        queries: a.refine_queries,
        loss: LossWeights {
            l1: a.refine_l1,
            support: a.refine_support,
            support_margin: a.refine_margin,
            spurious: a.refine_spurious,
            spurious_margin: a.refine_spurious_margin,
            ..RefineEncoding::default().loss
        },
    };
    // Files in parallel: refinement's gradient steps run on one thread each.
    let bar = super::files::progress_bar(files.len());
    let rows: Vec<Row> = files
        .par_iter()
        .filter_map(|path| {
            let row = match learned::load_asset(path, model.prior()) {
                Ok(asset) => Some(round_trip(&model, &asset, &options, &refine, &device)),
                Err(e) => {
                    bar.suspend(|| eprintln!("skipped {}: {e}", path.display()));
                    None
                }
            };
            bar.set_message(learned::display_name(path));
            bar.inc(1);
            row
        })
        .collect();
    bar.finish_and_clear();
    if rows.is_empty() {
        bail!("none of the files could be used");
    }
    if a.json {
        let list: Vec<_> = rows.iter().map(|r| json!({"asset": r.name, "tokens": scores(&r.tokens[0]), "by_min_weight": by_min_weight(&a.min_weight, &r.tokens), "prior": scores(&r.prior), "unweighted": r.unweighted, "reachable": r.reachable.json(&a.min_weight), "seconds": r.seconds})).collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        print_table(&rows, &a.min_weight);
    }
    Ok(())
}

fn round_trip<B: burn::tensor::backend::AutodiffBackend>(
    model: &SkinTokenizer<B>,
    asset: &Asset,
    options: &[DecodeOptions],
    refine: &RefineEncoding,
    device: &B::Device,
) -> Row {
    let t = Instant::now();
    let tokens = encode_refined(model, asset, refine, device);
    let decoded: Vec<SkinWeights> = options.iter().map(|o| decode(model, &asset.field, &tokens, o, device)).collect();
    let seconds = t.elapsed().as_secs_f64();
    let truth = SkinWeights::from_rows(asset.truth.clone());
    let prior = SkinWeights::from_rows(asset.field.prior_rows().to_vec());
    let joints: Vec<Option<u32>> = (0..asset.field.joint_count() as u32).map(Some).collect();
    let vertices: Vec<usize> = (0..asset.field.vertex_count()).collect();
    let unweighted = decoded.iter().map(|w| w.iter().filter(|(j, _)| j.is_empty()).count()).max().unwrap_or(0);
    Row {
        name: asset.name.clone(),
        tokens: decoded.iter().map(|w| skin_scores(w, &truth, &joints, &vertices)).collect(),
        prior: skin_scores(&prior, &truth, &joints, &vertices),
        unweighted,
        reachable: Reachable::of(asset, &options.iter().map(|o| o.limit.min_weight).collect::<Vec<_>>()),
        seconds,
    }
}

fn scores(s: &SkinScores) -> serde_json::Value {
    json!({"precision": s.precision, "recall": s.recall, "l1": s.l1})
}

/// What recall the decoder could reach at best on one character.
#[derive(Debug, Clone)]
struct Reachable {
    /// Share of the artist's influences whose bone is among the vertex's competing bones.
    in_slots: f32,
    /// Per threshold, the share that is also at or over it.
    over: Vec<f32>,
}

impl Reachable {
    fn of(asset: &Asset, thresholds: &[f32]) -> Reachable {
        let (mut all, mut in_slots, mut over) = (0usize, 0usize, vec![0usize; thresholds.len()]);
        for (v, row) in asset.truth.iter().enumerate() {
            let bones = slot_bones(&asset.field, v, |_| true);
            for &(j, w) in row {
                all += 1;
                if bones.contains(&(j as usize)) {
                    in_slots += 1;
                    thresholds.iter().zip(&mut over).filter(|(t, _)| w >= **t).for_each(|(_, n)| *n += 1);
                }
            }
        }
        let share = |n: usize| n as f32 / all.max(1) as f32;
        Reachable { in_slots: share(in_slots), over: over.into_iter().map(share).collect() }
    }

    fn json(&self, thresholds: &[f32]) -> serde_json::Value {
        let over: Vec<_> = thresholds.iter().zip(&self.over).map(|(t, s)| json!({"min_weight": t, "share": s})).collect();
        json!({"in_slots": self.in_slots, "over_min_weight": over})
    }
}

fn by_min_weight(min_weight: &[f32], tokens: &[SkinScores]) -> Vec<serde_json::Value> {
    min_weight.iter().zip(tokens).map(|(w, s)| json!({"min_weight": w, "tokens": scores(s)})).collect()
}

fn print_table(rows: &[Row], min_weight: &[f32]) {
    println!("{:<40} {:>22}   {:>22} {:>10} {:>7}", "asset", "tokens: prec rec L1", "prior: prec rec L1", "unweighted", "s");
    let cell = |s: &SkinScores| format!("{:.3} {:.3} {:.3}", s.precision, s.recall, s.l1);
    for r in rows {
        println!("{:<40} {:>22}   {:>22} {:>10} {:>7.2}", r.name, cell(&r.tokens[0]), cell(&r.prior), r.unweighted, r.seconds);
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
        cell(&mean(&|r| r.tokens[0])),
        cell(&mean(&|r| r.prior)),
        rows.iter().map(|r| r.unweighted).sum::<usize>()
    );
    for (i, w) in min_weight.iter().enumerate().skip(1) {
        println!("{:<40} {:>22}", format!("mean of {}, min weight {w}", rows.len()), cell(&mean(&|r| r.tokens[i])));
    }
    let reach = |f: &dyn Fn(&Reachable) -> f32| rows.iter().map(|r| f(&r.reachable)).sum::<f32>() / n;
    let over: Vec<String> =
        min_weight.iter().enumerate().map(|(i, w)| format!("{:.3} at {w}", reach(&|r: &Reachable| r.over[i]))).collect();
    println!(
        "highest recall the decoder can reach (mean of {}): {:.3} (the artist's bone competes at the vertex); also over the threshold: {}",
        rows.len(),
        reach(&|r| r.in_slots),
        over.join(", ")
    );
}
