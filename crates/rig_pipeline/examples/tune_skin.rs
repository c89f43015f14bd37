//! Sweeps the skin binder's options over the artists' rigs and prints mean precision, recall,
//! L1 and posed-vertex error per option set (the figures `rigsmith eval` prints for
//! `rigsmith rig --use-skeleton`, without writing files). Each asset's voxels and distance
//! fields are built once and reused across option sets.
//!
//! ```sh
//! cargo run --release -p rig_pipeline --example tune_skin -- DIR "falloff=12,min=0.1,smooth=2" "falloff=8,min=0.05"
//! ```
//! `TUNE_VERBOSE=1` prints each asset's figures; `TUNE_DIAG=1` splits the error by how our
//! dominant joint relates to the artist's (`TUNE_PIECES=FILE` appends one line per connected
//! piece: the artist's and our joints' shares); `TUNE_PR=1` counts the influences that cost
//! precision (by weight and by relation to the artist's dominant joint) and recall (by the
//! artist's weight).
//! `TUNE_SKELETON=1` scores generated skeletons instead (`TUNE_KIND=biped|generic`,
//! `TUNE_BUMP=F` for the side-branch pruning factor).
//! DIR holds one folder per asset (see docs/eval-use-skeleton.md for the list used).
//! A spec starting with `falloff` starts from the falloff binder's settings instead of the
//! default bone heat. Keys: falloff, min, smooth, rigid, adj (0/1), leaf, res, max, heat (0/1),
//! axis (0/1), region, floor, strength, vis.

use std::path::{Path, PathBuf};

use rig_core::autorig::skin_weights;
use rig_core::autoskin::{AutoSkinOptions, SkinBinder, SkinMethod};
use rig_core::metrics::{posed_vertex_error, skin_scores};
use rig_core::{Rig, Task};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((dir, specs)) = args.split_first() else {
        eprintln!("usage: tune_skin DIR [key=value,...]...");
        std::process::exit(2);
    };
    let mut assets = load_assets(Path::new(dir));
    let specs = if specs.is_empty() { vec![String::new()] } else { specs.to_vec() };
    let verbose = std::env::var_os("TUNE_VERBOSE").is_some();
    if std::env::var_os("TUNE_SKELETON").is_some() {
        return skeletons(&assets, verbose);
    }
    for spec in specs {
        let options = parse(&spec);
        let mut sums = [0f64; 4];
        for (name, truth, binder) in assets.iter_mut() {
            let s = score(truth, binder, &options);
            if verbose {
                println!("  {name:<50} {:.3} {:.3} {:.3} {:.3}", s[0], s[1], s[2], s[3]);
            }
            sums.iter_mut().zip(s).for_each(|(a, b)| *a += b as f64);
        }
        let n = assets.len().max(1) as f64;
        println!("{spec:<60} prec {:.3} recall {:.3} L1 {:.3} pose% {:.3}", sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n);
    }
}

fn deforming_of(truth: &Rig) -> rig_core::Skeleton {
    let mut deforming = truth.skeleton.clone();
    deforming.mark_uninfluential_non_deforming(&truth.weights.vertices_per_joint(truth.skeleton.len()));
    deforming
}

/// CD-J2J / J2B / B2B and joints inside for skeletons generated from the bare meshes.
fn skeletons(assets: &[Asset], verbose: bool) {
    let mut sums = [0f64; 4];
    for (name, truth, _) in assets {
        let t0 = std::time::Instant::now();
        let kind = match std::env::var("TUNE_KIND").as_deref() {
            Ok("biped") => rig_core::autoskel::SkeletonKind::Biped,
            Ok("quadruped") => rig_core::autoskel::SkeletonKind::Quadruped,
            Ok("generic") => rig_core::autoskel::SkeletonKind::Generic,
            _ => rig_core::autoskel::SkeletonKind::Auto,
        };
        let mut options = rig_core::autoskel::AutoSkeletonOptions { kind, up: Some(truth.up_direction()), ..Default::default() };
        if let Some(b) = std::env::var("TUNE_BUMP").ok().and_then(|v| v.parse().ok()) {
            options.bump_factor = b;
        }
        let pred = match rig_core::autorig::generate_skeleton(&truth.mesh, &options, Task::silent()) {
            Ok(s) => s,
            Err(e) => {
                println!("  {name:<50} {e}");
                continue;
            }
        };
        let deforming = deforming_of(truth);
        if let Some(dir) = std::env::var_os("TUNE_WRITE") {
            let pos = rig_core::autoskin::bones::bind_positions(&pred);
            let joints: Vec<serde_json::Value> = pred
                .joints
                .iter()
                .zip(&pos)
                .map(|(j, p)| serde_json::json!({"name": j.name, "parent": j.parent, "p": [p.x, p.y, p.z]}))
                .collect();
            let truth_pos = rig_core::autoskin::bones::bind_positions(&deforming);
            let tj: Vec<serde_json::Value> = deforming
                .joints
                .iter()
                .zip(&truth_pos)
                .map(|(j, p)| serde_json::json!({"name": j.name, "parent": j.parent, "deform": j.deform, "p": [p.x, p.y, p.z]}))
                .collect();
            let step = (truth.mesh.positions.len() / 3000).max(1);
            let verts: Vec<[f32; 3]> = truth.mesh.positions.iter().step_by(step).copied().collect();
            let doc = serde_json::json!({"pred": joints, "truth": tj, "verts": verts});
            let file = std::path::Path::new(&dir).join(format!("{}.json", name.replace('/', "__")));
            std::fs::write(file, doc.to_string()).expect("writable");
        }
        let secs = t0.elapsed().as_secs_f32();
        let Some(b) = truth.mesh.bounds() else { continue };
        let s = rig_core::metrics::skeleton_scores(&pred, &deforming, &b);
        let inside = rig_core::metrics::joints_inside(&pred, &truth.mesh.positions, &truth.mesh.triangles);
        let row = [s.cd_j2j, s.cd_j2b, s.cd_b2b, 100.0 * inside];
        if verbose {
            let names: Vec<&str> = pred.joints.iter().take(6).map(|j| j.name.as_str()).collect();
            println!(
                "  {name:<50} {:6.2} {:6.2} {:6.2} {:4.0}%  {} joints {secs:.2}s {names:?}",
                row[0],
                row[1],
                row[2],
                row[3],
                pred.len()
            );
        }
        sums.iter_mut().zip(row).for_each(|(a, b)| *a += b as f64);
    }
    let n = assets.len().max(1) as f64;
    println!("MEAN J2J {:.2} J2B {:.2} B2B {:.2} inside {:.1}%", sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n);
}

type Asset = (String, Rig, Option<SkinBinder>);

fn load_assets(dir: &Path) -> Vec<Asset> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable folder")
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("glb" | "gltf")))
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let rig = rig_io::load(&p).ok()?.rig;
            let name = format!("{}/{}", p.parent()?.file_name()?.to_string_lossy(), p.file_stem()?.to_string_lossy());
            Some((name, rig, None))
        })
        .collect()
}

fn parse(spec: &str) -> AutoSkinOptions {
    let mut o = if spec.starts_with("falloff,") || spec == "falloff" { AutoSkinOptions::falloff() } else { AutoSkinOptions::default() };
    for kv in spec.split(',').filter(|s| !s.is_empty() && *s != "falloff") {
        let (k, v) = kv.split_once('=').expect("key=value");
        let f: f32 = v.parse().expect("number");
        match k {
            "falloff" => o.falloff_power = f,
            "min" => o.limit.min_weight = f,
            "smooth" => o.smoothing_iterations = f as usize,
            "rigid" => o.rigid_piece_share = f,
            "adj" => o.adjacent_only = f != 0.0,
            "leaf" => o.leaf_fraction = f,
            "res" => o.resolution = Some(f as usize),
            "max" => o.limit.max_influences = (f as usize).max(1),
            "heat" => o.method = if f != 0.0 { SkinMethod::Heat } else { SkinMethod::Falloff },
            "axis" => o.axis_leaves = f != 0.0,
            "region" => o.heat_region = f,
            "floor" => o.heat_floor = f,
            "strength" => o.heat_strength = f,
            "vis" => o.heat_visible_ratio = f,
            _ => panic!("unknown key {k}"),
        }
    }
    o
}

/// Precision, recall, L1 and posed error (% of the diagonal) of our skin on the artist's skeleton.
fn score(truth: &Rig, binder: &mut Option<SkinBinder>, options: &AutoSkinOptions) -> [f32; 4] {
    let mut rig = truth.clone();
    rig.mark_unweighted_joints_non_deforming();
    let binder = binder.get_or_insert_with(|| SkinBinder::new(&rig.mesh, options, Task::silent()).expect("not cancelled"));
    let pred = skin_weights(binder, &rig.mesh, &rig.skeleton, options, Task::silent()).expect("not cancelled");
    let ids: Vec<Option<u32>> = (0..truth.skeleton.len() as u32).map(Some).collect();
    let vertices: Vec<usize> = (0..truth.mesh.vertex_count()).collect();
    let s = skin_scores(&pred, &truth.weights, &ids, &vertices);
    if std::env::var_os("TUNE_DIAG").is_some() {
        diagnose(truth, &pred);
    }
    if std::env::var_os("TUNE_PR").is_some() {
        pr_diag(truth, &pred);
    }
    let posed = posed_vertex_error(&truth.skeleton, &truth.mesh.positions, &truth.weights, &pred, 8, 7);
    [s.precision, s.recall, s.l1, 100.0 * posed]
}

/// Splits the L1 error by how our dominant joint relates to the artist's: the same joint,
/// parent or child, sibling, or unrelated.
fn diagnose(truth: &Rig, pred: &rig_core::SkinWeights) {
    let sk = &truth.skeleton;
    let dominant = |w: &rig_core::SkinWeights, v: usize| {
        let (j, wt) = w.row(v);
        j.iter().zip(wt).max_by(|a, b| a.1.total_cmp(b.1)).map(|(j, _)| *j as usize)
    };
    let mut confusion: std::collections::BTreeMap<(usize, usize), usize> = Default::default();
    let mut l1 = [0f64; 5];
    let mut count = [0usize; 5];
    for v in 0..truth.mesh.vertex_count() {
        let (Some(t), Some(p)) = (dominant(&truth.weights, v), dominant(pred, v)) else { continue };
        let class = relation(sk, t, p);
        if t != p {
            *confusion.entry((t, p)).or_default() += 1;
        }
        let mut diff = 0.0f32;
        let (tj, tw) = truth.weights.row(v);
        let (pj, pw) = pred.row(v);
        for (j, w) in tj.iter().zip(tw) {
            diff += (w - pj.iter().zip(pw).find(|e| e.0 == j).map_or(0.0, |e| *e.1)).abs();
        }
        for (j, w) in pj.iter().zip(pw) {
            if !tj.contains(j) {
                diff += w;
            }
        }
        l1[class] += diff as f64;
        count[class] += 1;
    }
    let n = truth.mesh.vertex_count().max(1) as f64;
    let influences = |w: &rig_core::SkinWeights| {
        let rows: Vec<usize> = (0..truth.mesh.vertex_count()).map(|v| w.row(v).1.iter().filter(|x| **x >= 1e-3).count()).collect();
        let single = rows.iter().filter(|&&c| c == 1).count() as f64 / n;
        (rows.iter().sum::<usize>() as f64 / n, single)
    };
    let (ti, ts) = influences(&truth.weights);
    let positive: usize = (0..truth.mesh.vertex_count()).map(|v| truth.weights.row(v).1.iter().filter(|x| **x > 0.0).count()).sum();
    let tiny: usize =
        (0..truth.mesh.vertex_count()).map(|v| truth.weights.row(v).1.iter().filter(|x| **x > 0.0 && **x < 0.05).count()).sum();
    println!("    truth influences > 0: {:.2}/vertex, of which under 0.05: {:.2}", positive as f64 / n, tiny as f64 / n);
    let (pi, ps) = influences(pred);
    println!("    influences/vertex truth {ti:.2} ({:.0}% single) ours {pi:.2} ({:.0}% single)", 100.0 * ts, 100.0 * ps);
    let comp = rig_core::autoskin::smooth::components(&rig_core::autoskin::smooth::SurfaceGraph::new(&truth.mesh));
    let pieces = comp.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let rigid_share = |w: &rig_core::SkinWeights| {
        let mut owner: Vec<Option<Option<u32>>> = vec![None; pieces];
        for v in 0..truth.mesh.vertex_count() {
            let (j, wt) = w.row(v);
            let single = (j.len() == 1 || wt.iter().filter(|x| **x >= 1e-3).count() == 1)
                .then(|| j[wt.iter().position(|x| *x >= 1e-3).unwrap_or(0)]);
            let o = &mut owner[comp[v] as usize];
            *o = match *o {
                None => Some(single),
                Some(prev) if prev == single => Some(prev),
                Some(_) => Some(None),
            };
        }
        let rigid = (0..truth.mesh.vertex_count()).filter(|&v| matches!(owner[comp[v] as usize], Some(Some(_)))).count();
        rigid as f64 / n
    };
    if let Some(path) = std::env::var_os("TUNE_PIECES") {
        dump_pieces(truth, pred, &comp, pieces, &path);
    }
    println!(
        "    {pieces} pieces; vertices in rigidly bound pieces: truth {:.0}% ours {:.0}%",
        100.0 * rigid_share(&truth.weights),
        100.0 * rigid_share(pred)
    );
    let names = ["same", "parent/child", "sibling", "grand", "other"];
    let parts: Vec<String> = (0..5).map(|c| format!("{} {:.0}% L1 {:.3}", names[c], 100.0 * count[c] as f64 / n, l1[c] / n)).collect();
    println!("    {}", parts.join(" | "));
    if std::env::var_os("TUNE_JOINTS").is_some() {
        let mut sums = vec![(0f32, 0f32); sk.len()];
        for v in 0..truth.mesh.vertex_count() {
            let (tj, tw) = truth.weights.row(v);
            tj.iter().zip(tw).for_each(|(j, w)| sums[*j as usize].0 += w);
            let (pj, pw) = pred.row(v);
            pj.iter().zip(pw).for_each(|(j, w)| sums[*j as usize].1 += w);
        }
        for (j, (t, p)) in sums.iter().enumerate() {
            let parent = sk.joints[j].parent.map_or("-", |q| sk.joints[q].name.as_str());
            let kids = sk.children(j).count();
            println!("      {:<24} parent {:<20} children {kids} truth {t:8.1} ours {p:8.1}", sk.joints[j].name, parent);
        }
    }
    if std::env::var_os("TUNE_CONFUSION").is_some() {
        let mut c: Vec<_> = confusion.into_iter().collect();
        c.sort_by_key(|e| std::cmp::Reverse(e.1));
        for ((t, p), k) in c.into_iter().take(8) {
            println!("      truth {} -> ours {}: {k} vertices", sk.joints[t].name, sk.joints[p].name);
        }
    }
}

/// Appends two lines per piece: a comment with the artist's and our joints' mean weights, then
/// vertices, size / mesh diagonal, our dominant joint's share, its bone length / piece size,
/// joints with weight (ours, the artist's).
fn dump_pieces(truth: &Rig, pred: &rig_core::SkinWeights, comp: &[u32], pieces: usize, path: &std::ffi::OsStr) {
    use std::io::Write;
    let diag = truth.mesh.bounds().map_or(1.0, |b| b.diagonal());
    let pos = rig_core::autoskin::bones::bind_positions(&truth.skeleton);
    let mut out = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("writable");
    for c in 0..pieces as u32 {
        let verts: Vec<usize> = (0..comp.len()).filter(|&v| comp[v] == c).collect();
        let pts: Vec<[f32; 3]> = verts.iter().map(|&v| truth.mesh.positions[v]).collect();
        let size = rig_core::mesh::Aabb::of_points(&pts).map_or(0.0, |b| b.diagonal());
        let mut totals: std::collections::HashMap<u32, f32> = Default::default();
        let mut truth_joints = std::collections::HashSet::new();
        for &v in &verts {
            let (j, w) = pred.row(v);
            j.iter().zip(w).for_each(|(j, w)| *totals.entry(*j).or_default() += w);
            let (tj, tw) = truth.weights.row(v);
            tj.iter().zip(tw).filter(|e| *e.1 >= 1e-3).for_each(|e| {
                truth_joints.insert(*e.0);
            });
        }
        let sum: f32 = totals.values().sum();
        let Some((&dom, &best)) = totals.iter().max_by(|a, b| a.1.total_cmp(b.1)) else { continue };
        let children: Vec<usize> = truth.skeleton.children(dom as usize).collect();
        let bone = children
            .iter()
            .map(|&k| (pos[k] - pos[dom as usize]).norm())
            .fold(0.0, f32::max)
            .max(truth.skeleton.joints[dom as usize].parent.map_or(0.0, |p| (pos[dom as usize] - pos[p]).norm()));
        let mut truth_totals: std::collections::HashMap<u32, f32> = Default::default();
        for &v in &verts {
            let (tj, tw) = truth.weights.row(v);
            tj.iter().zip(tw).for_each(|(j, w)| *truth_totals.entry(*j).or_default() += w);
        }
        // Each joint's mean weight over the piece, over 2 %, largest first.
        let desc = |m: &std::collections::HashMap<u32, f32>| {
            let mut e: Vec<(u32, f32)> = m.iter().map(|(a, b)| (*a, *b / verts.len() as f32)).filter(|e| e.1 > 0.02).collect();
            e.sort_by(|a, b| b.1.total_cmp(&a.1));
            e.iter().map(|(j, w)| format!("{}:{:.2}", truth.skeleton.joints[*j as usize].name, w)).collect::<Vec<_>>().join(" ")
        };
        let _ = writeln!(out, "# artist [{}] ours [{}]", desc(&truth_totals), desc(&totals));
        let _ = writeln!(
            out,
            "{}\t{}\t{:.4}\t{:.3}\t{:.3}\t{}\t{}",
            truth.mesh.parts.first().map_or("", |p| p.name.as_str()).replace('\t', " "),
            verts.len(),
            size / diag,
            best / sum,
            bone / size.max(1e-9),
            totals.len(),
            truth_joints.len()
        );
    }
}

/// 0 same joint, 1 parent or child, 2 sibling, 3 grandparent or grandchild, 4 further.
fn relation(sk: &rig_core::Skeleton, a: usize, b: usize) -> usize {
    let p = |j: usize| sk.joints[j].parent;
    if a == b {
        0
    } else if p(a) == Some(b) || p(b) == Some(a) {
        1
    } else if p(a).is_some() && p(a) == p(b) {
        2
    } else if p(a).and_then(p) == Some(b) || p(b).and_then(p) == Some(a) {
        3
    } else {
        4
    }
}

/// False positives by weight and by relation to the artist's dominant joint; false negatives by
/// the artist's weight.
fn pr_diag(truth: &Rig, pred: &rig_core::SkinWeights) {
    let sk = &truth.skeleton;
    let bucket = |w: f32| {
        if w < 0.05 {
            0
        } else if w < 0.15 {
            1
        } else if w < 0.3 {
            2
        } else {
            3
        }
    };
    let mut fp = [[0usize; 4]; 5];
    let mut fnb = [0usize; 4];
    let mut fn_rel = [0usize; 5];
    let (mut np, mut nt) = (0usize, 0usize);
    for v in 0..truth.mesh.vertex_count() {
        let (tj, tw) = truth.weights.row(v);
        let (pj, pw) = pred.row(v);
        let t: Vec<(u32, f32)> = tj.iter().zip(tw).filter(|e| *e.1 > 0.0).map(|(a, b)| (*a, *b)).collect();
        let p: Vec<(u32, f32)> = pj.iter().zip(pw).filter(|e| *e.1 >= 1e-3).map(|(a, b)| (*a, *b)).collect();
        np += p.len();
        nt += t.len();
        let Some(td) = t.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|e| e.0 as usize) else { continue };
        let pd = p.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|e| e.0 as usize);
        for &(j, w) in &p {
            if !t.iter().any(|e| e.0 == j) {
                fp[relation(sk, td, j as usize)][bucket(w)] += 1;
            }
        }
        for &(j, w) in &t {
            if !p.iter().any(|e| e.0 == j) {
                fnb[bucket(w)] += 1;
                fn_rel[pd.map_or(4, |d| relation(sk, d, j as usize))] += 1;
            }
        }
    }
    let names = ["same", "par/child", "sibling", "grand", "other"];
    let fps: usize = fp.iter().flatten().sum();
    let fns: usize = fnb.iter().sum();
    let line: Vec<String> = (0..5).map(|r| format!("{} {:?}", names[r], fp[r])).collect();
    println!("    pred {np} truth {nt} | FP {fps} ({:.3} of pred): {}", fps as f64 / np.max(1) as f64, line.join(" "));
    let line: Vec<String> = (0..5).map(|r| format!("{} {}", names[r], fn_rel[r])).collect();
    println!(
        "    FN {fns} ({:.3} of truth) by artist weight <.05/.15/.3/+ {:?}; vs our dominant: {}",
        fns as f64 / nt.max(1) as f64,
        fnb,
        line.join(" ")
    );
}
