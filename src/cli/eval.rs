//! `rigsmith eval`: the papers' metrics of predicted rigs against the artists' rigs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rig_core::metrics::{
    joints_inside, match_vertices, match_vertices_partial, posed_vertex_error, skeleton_scores, skin_scores, SkeletonScores, SkinScores,
};
use rig_core::{Rig, SkinWeights};
use serde_json::json;

use super::files;

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

/// Figures of one prediction against one truth.
#[derive(Default, Clone)]
struct Scores {
    skin: Option<SkinScores>,
    posed: Option<f32>,
    skeleton: Option<SkeletonScores>,
    /// Fraction of predicted deforming joints inside the mesh.
    inside: Option<f32>,
    unweighted: usize,
    note: String,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let pairs = pairs(&a.truth, &a.pred, &a.exclude)?;
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

fn pairs(truth: &Path, pred: &Path, exclude: &[String]) -> anyhow::Result<Vec<(String, PathBuf, PathBuf)>> {
    if !truth.is_dir() {
        return Ok(vec![(truth.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(), truth.into(), pred.into())]);
    }
    let mut truths = files::inputs_in(truth);
    truths.extend(
        std::fs::read_dir(truth).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with("_rig.txt")),
    );
    let mut out = Vec::new();
    for t in truths {
        let key = files::key(truth, &t);
        if exclude.iter().any(|x| t.to_string_lossy().contains(x.as_str())) {
            continue;
        }
        if let Some(p) = find_pred(pred, &key) {
            out.push((key, t, p));
        }
    }
    Ok(out)
}

fn find_pred(dir: &Path, key: &str) -> Option<PathBuf> {
    ["glb", "gltf", "weights.json"].iter().map(|e| dir.join(format!("{key}.{e}"))).find(|p| p.exists())
}

fn score_file(truth: &Rig, pred_path: &Path, poses: usize) -> Scores {
    let weights_only = pred_path.to_string_lossy().ends_with(".weights.json");
    let pred =
        if weights_only { weights_json(truth, pred_path) } else { rig_io::load(pred_path).map(|p| p.rig).map_err(|e| e.to_string()) };
    match pred {
        // A weights-only prediction reuses the truth skeleton: no skeleton figures for it.
        Ok(p) if weights_only => Scores { skeleton: None, ..score(truth, &p, poses) },
        Ok(p) => score(truth, &p, poses),
        Err(e) => Scores { note: format!("cannot read prediction: {e}"), ..Default::default() },
    }
}

/// A `NAME.weights.json` prediction (see scripts/blender_autoweights.py): weights by bone name
/// for vertices given by position. Becomes the truth rig with those weights.
fn weights_json(truth: &Rig, path: &Path) -> Result<Rig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let parse_err = || format!("{}: expected {{\"vertices\": [[x,y,z]...], \"weights\": [[[bone, w]...]...]}}", path.display());
    let positions: Vec<[f32; 3]> = doc["vertices"]
        .as_array()
        .ok_or_else(parse_err)?
        .iter()
        .map(|v| v.as_array().filter(|c| c.len() == 3).map(|c| std::array::from_fn(|k| c[k].as_f64().unwrap_or(f64::NAN) as f32)))
        .collect::<Option<_>>()
        .ok_or_else(parse_err)?;
    let rows: Vec<Vec<(String, f32)>> = doc["weights"]
        .as_array()
        .ok_or_else(parse_err)?
        .iter()
        .map(|r| r.as_array().map(|r| r.iter().filter_map(|e| Some((e[0].as_str()?.to_string(), e[1].as_f64()? as f32))).collect()))
        .collect::<Option<_>>()
        .ok_or_else(parse_err)?;
    let diag = truth.mesh.bounds().map_or(1.0, |b| b.diagonal());
    // Vertices the prediction lacks stay unweighted (and are counted as such).
    let map = match_vertices_partial(&truth.mesh.positions, &positions, 1e-4 * diag);
    if map.iter().all(Option::is_none) {
        return Err("no vertex position matches the truth mesh".into());
    }
    let row_of = |i: Option<usize>| {
        i.map(|i| rows[i].iter().filter_map(|(n, w)| truth.skeleton.find(n).map(|j| (j as u32, *w))).collect()).unwrap_or_default()
    };
    let rows = map.iter().map(|&i| row_of(i)).collect::<Vec<Vec<(u32, f32)>>>();
    let mut weights = SkinWeights::from_rows(rows);
    weights.normalize(1e-3);
    Ok(Rig { weights, ..truth.clone() })
}

fn score(truth: &Rig, pred: &Rig, poses: usize) -> Scores {
    let mut s = Scores { unweighted: pred.unweighted_skinned_vertices(), ..Default::default() };
    if let Some(b) = truth.mesh.bounds() {
        // The artist's deforming joints are those carrying weight (glTF lists helpers and end
        // markers in skins too); the prediction's are those it marks as deforming.
        let mut deforming = truth.skeleton.clone();
        deforming.mark_uninfluential_non_deforming(&truth.weights.vertices_per_joint(truth.skeleton.len()));
        s.skeleton = Some(skeleton_scores(&pred.skeleton, &deforming, &b));
        s.inside = Some(joints_inside(&pred.skeleton, &truth.mesh.positions, &truth.mesh.triangles));
    }
    let diag = truth.mesh.bounds().map_or(1.0, |b| b.diagonal());
    let Some(vertex_of_truth) = match_vertices(&truth.mesh.positions, &pred.mesh.positions, 1e-4 * diag) else {
        s.note = "meshes differ: skin not compared".into();
        return s;
    };
    let joint_of_truth: Vec<Option<u32>> = truth.skeleton.joints.iter().map(|j| pred.skeleton.find(&j.name).map(|i| i as u32)).collect();
    let deforming: Vec<&str> = pred.skeleton.joints.iter().filter(|j| j.deform).map(|j| j.name.as_str()).collect();
    let shared = deforming.iter().filter(|n| truth.skeleton.find(n).is_some()).count();
    if shared * 2 < deforming.len().max(1) {
        s.note = "different skeleton: skin not compared".into();
        return s;
    }
    s.skin = Some(skin_scores(&pred.weights, &truth.weights, &joint_of_truth, &vertex_of_truth));
    let on_truth = weights_on_truth(truth, pred, &vertex_of_truth);
    s.posed = Some(posed_vertex_error(&truth.skeleton, &truth.mesh.positions, &truth.weights, &on_truth, poses, 7));
    s
}

/// Predicted weights re-indexed to the truth's vertices and joints (matched by name).
fn weights_on_truth(truth: &Rig, pred: &Rig, vertex_of_truth: &[usize]) -> SkinWeights {
    let truth_joint: Vec<Option<u32>> = pred.skeleton.joints.iter().map(|j| truth.skeleton.find(&j.name).map(|i| i as u32)).collect();
    let rows = vertex_of_truth.iter().map(|&pv| {
        let (j, w) = pred.weights.row(pv);
        j.iter().zip(w).filter_map(|(j, w)| truth_joint[*j as usize].map(|t| (t, *w))).collect::<Vec<_>>()
    });
    let mut out = SkinWeights::from_rows(rows.collect::<Vec<_>>());
    out.normalize(1e-3);
    out
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

fn mean(rows: &[&Scores], f: impl Fn(&Scores) -> Option<f32>) -> Option<f32> {
    let v: Vec<f32> = rows.iter().filter_map(|s| f(s)).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f32>() / v.len() as f32)
}

fn mean_scores(rows: &[&Scores]) -> Scores {
    let skin = mean(rows, |s| s.skin.map(|x| x.precision)).map(|precision| SkinScores {
        precision,
        recall: mean(rows, |s| s.skin.map(|x| x.recall)).unwrap_or(0.0),
        l1: mean(rows, |s| s.skin.map(|x| x.l1)).unwrap_or(0.0),
    });
    let skeleton = mean(rows, |s| s.skeleton.map(|x| x.cd_j2j)).map(|cd_j2j| SkeletonScores {
        cd_j2j,
        cd_j2b: mean(rows, |s| s.skeleton.map(|x| x.cd_j2b)).unwrap_or(0.0),
        cd_b2b: mean(rows, |s| s.skeleton.map(|x| x.cd_b2b)).unwrap_or(0.0),
    });
    Scores {
        skin,
        skeleton,
        posed: mean(rows, |s| s.posed),
        inside: mean(rows, |s| s.inside),
        unweighted: rows.iter().map(|s| s.unweighted).sum(),
        note: String::new(),
    }
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
