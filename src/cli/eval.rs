//! `rigsmith eval`: the papers' metrics of predicted rigs against the artists' rigs.

use std::path::PathBuf;

use anyhow::{bail, Context};
use rig_pipeline::eval::{find_pred, mean_scores, pairs, score_file, Scores};
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// Predicted rig file, or a folder whose layout mirrors --truth (as `rigsmith rig` writes it).
    #[arg(long)]
    pred: PathBuf,
    /// The artists' rig file or folder (glTF/GLB, or RigNet NAME_rig.txt files).
    #[arg(long)]
    truth: PathBuf,
    /// A second prediction folder (e.g. Blender's automatic weights) to print beside --pred.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Skip truth files whose path contains any of these (repeatable).
    #[arg(long)]
    exclude: Vec<String>,
    /// Random poses for the posed-vertex error.
    #[arg(long, default_value_t = 8)]
    poses: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    for (flag, path) in [("--pred", Some(&a.pred)), ("--truth", Some(&a.truth)), ("--baseline", a.baseline.as_ref())] {
        if let Some(p) = path.filter(|p| !p.exists()) {
            bail!("{flag} {}: no such file or folder", p.display());
        }
    }
    let pairs = pairs(&a.truth, &a.pred, &a.exclude);
    let mut rows = Vec::new();
    for (key, truth_path, pred_path) in &pairs {
        let truth = rig_io::load(truth_path).with_context(|| format!("{}", truth_path.display()))?.rig;
        if truth.weights.max_influences() == 0 {
            continue;
        }
        let ours = score_file(&truth, pred_path, a.poses);
        let base = a.baseline.as_ref().map(|b| {
            let path = if a.truth.is_dir() { find_pred(b, key) } else { Some(b.clone()) };
            path.map_or_else(|| Scores { note: "missing".into(), ..Default::default() }, |p| score_file(&truth, &p, a.poses))
        });
        rows.push((key.clone(), ours, base));
    }
    if rows.is_empty() {
        bail!("no rigged truth file was paired with a prediction");
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&to_json(&rows))?);
    } else {
        print_table(&rows, a.baseline.is_some(), a.poses);
    }
    Ok(())
}

fn fmt(v: Option<f32>, digits: usize) -> String {
    v.map_or("-".into(), |x| format!("{x:.digits$}"))
}

fn cells(s: &Scores) -> String {
    let k = s.skeleton;
    format!(
        "{:>6} {:>6} {:>6} {:>8} {:>6} {:>6} {:>6} {:>5} {:>5}",
        fmt(s.skin.map(|x| x.precision), 3),
        fmt(s.skin.map(|x| x.recall), 3),
        fmt(s.skin.map(|x| x.l1), 3),
        fmt(s.posed.map(|x| x * 100.0), 3),
        fmt(k.map(|x| x.cd_j2j), 2),
        fmt(k.map(|x| x.cd_j2b), 2),
        fmt(k.map(|x| x.cd_b2b), 2),
        fmt(s.inside.map(|x| x * 100.0), 0),
        s.unweighted
    )
}

type Row = (String, Scores, Option<Scores>);

fn print_table(rows: &[Row], baseline: bool, poses: usize) {
    let head = format!(
        "{:>6} {:>6} {:>6} {:>8} {:>6} {:>6} {:>6} {:>5} {:>5}",
        "prec", "recall", "L1", "pose%", "J2J", "J2B", "B2B", "in%", "unwt"
    );
    println!("{:<48} {:<10} {head}", "asset", "method");
    for (key, ours, base) in rows {
        println!("{key:<48} {:<10} {} {}", "rigsmith", cells(ours), ours.note);
        if let Some(b) = base.as_ref().filter(|_| baseline) {
            println!("{:<48} {:<10} {} {}", "", "baseline", cells(b), b.note);
        }
    }
    let ours: Vec<&Scores> = rows.iter().map(|r| &r.1).collect();
    println!("{:<48} {:<10} {}", format!("MEAN over {}", rows.len()), "rigsmith", cells(&mean_scores(&ours)));
    if baseline {
        let base: Vec<&Scores> = rows.iter().filter_map(|r| r.2.as_ref()).collect();
        println!("{:<48} {:<10} {}", "", "baseline", cells(&mean_scores(&base)));
    }
    println!("pose% = mean vertex error under {poses} random poses of the artist's skeleton (from bind), % of bbox diagonal; J2J/J2B/B2B x 10^-2; in% = predicted joints inside the mesh");
}

fn scores_json(s: &Scores) -> serde_json::Value {
    json!({
        "precision": s.skin.map(|x| x.precision), "recall": s.skin.map(|x| x.recall), "l1": s.skin.map(|x| x.l1),
        "posed_vertex_error_over_diag": s.posed,
        "cd_j2j": s.skeleton.map(|x| x.cd_j2j), "cd_j2b": s.skeleton.map(|x| x.cd_j2b), "cd_b2b": s.skeleton.map(|x| x.cd_b2b),
        "joints_inside_fraction": s.inside, "unweighted_vertices": s.unweighted, "note": s.note,
    })
}

fn to_json(rows: &[Row]) -> serde_json::Value {
    let ours: Vec<&Scores> = rows.iter().map(|r| &r.1).collect();
    let base: Vec<&Scores> = rows.iter().filter_map(|r| r.2.as_ref()).collect();
    json!({
        "assets": rows.iter().map(|(k, o, b)| json!({ "asset": k, "rigsmith": scores_json(o), "baseline": b.as_ref().map(scores_json) })).collect::<Vec<_>>(),
        "mean": { "rigsmith": scores_json(&mean_scores(&ours)), "baseline": (!base.is_empty()).then(|| scores_json(&mean_scores(&base))) },
    })
}
