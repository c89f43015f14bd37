//! Scoring predicted rigs against the artists' rigs: pairing files of two folders, reading a
//! prediction (a rig file, or a `NAME.weights.json` of weights by bone name), and the papers'
//! figures (skeleton Chamfer distances, skin precision/recall/L1, posed-vertex error).

use std::path::{Path, PathBuf};

use rig_core::metrics::{
    joints_inside, match_vertices, match_vertices_partial, posed_vertex_error, skeleton_scores, skin_scores, SkeletonScores, SkinScores,
};
use rig_core::{Rig, SkinWeights};

use crate::files;

/// Figures of one prediction against one truth.
#[derive(Debug, Default, Clone)]
pub struct Scores {
    pub skin: Option<SkinScores>,
    pub posed: Option<f32>,
    pub skeleton: Option<SkeletonScores>,
    /// Fraction of predicted deforming joints inside the mesh.
    pub inside: Option<f32>,
    pub unweighted: usize,
    pub note: String,
}

/// (key, truth, prediction) for every truth file that has a prediction: one pair when `truth` is a
/// file, else the files under `truth` paired by relative path without extension.
pub fn pairs(truth: &Path, pred: &Path, exclude: &[String]) -> Vec<(String, PathBuf, PathBuf)> {
    if !truth.is_dir() {
        return vec![(truth.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(), truth.into(), pred.into())];
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
    out
}

/// The prediction for `key` in `dir`: KEY.glb, KEY.gltf or KEY.weights.json.
pub fn find_pred(dir: &Path, key: &str) -> Option<PathBuf> {
    ["glb", "gltf", "weights.json"].iter().map(|e| dir.join(format!("{key}.{e}"))).find(|p| p.exists())
}

/// Scores the prediction at `pred_path` against `truth` (a read error becomes the note).
pub fn score_file(truth: &Rig, pred_path: &Path, poses: usize) -> Scores {
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
    // Vertices the prediction lacks stay unweighted (and are counted as such). Positions are
    // the mesh as stored, or as the file's scene shows it (where another program puts it).
    let display = truth.display_from_mesh();
    let shown: Vec<[f32; 3]> =
        truth.mesh.positions.iter().map(|p| display.transform_point(&nalgebra::Point3::from(*p)).coords.into()).collect();
    let stored = match_vertices_partial(&truth.mesh.positions, &positions, 1e-4 * diag);
    let as_shown = match_vertices_partial(&shown, &positions, 1e-4 * diag);
    let matched = |m: &[Option<usize>]| m.iter().filter(|i| i.is_some()).count();
    let map = if matched(&as_shown) > matched(&stored) { as_shown } else { stored };
    if map.iter().all(Option::is_none) {
        return Err("no vertex position matches the truth mesh, as stored or as its scene shows it".into());
    }
    let row_of = |i: Option<usize>| {
        i.map(|i| rows[i].iter().filter_map(|(n, w)| truth.skeleton.find(n).map(|j| (j as u32, *w))).collect()).unwrap_or_default()
    };
    let rows = map.iter().map(|&i| row_of(i)).collect::<Vec<Vec<(u32, f32)>>>();
    let mut weights = SkinWeights::from_rows(rows);
    weights.normalize(1e-3);
    Ok(Rig { weights, ..truth.clone() })
}

/// The figures of `pred` against `truth`, `poses` random poses for the posed error.
pub fn score(truth: &Rig, pred: &Rig, poses: usize) -> Scores {
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

fn mean(rows: &[&Scores], f: impl Fn(&Scores) -> Option<f32>) -> Option<f32> {
    let v: Vec<f32> = rows.iter().filter_map(|s| f(s)).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f32>() / v.len() as f32)
}

/// The mean of each figure over the rows that have it; unweighted vertices summed.
pub fn mean_scores(rows: &[&Scores]) -> Scores {
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
