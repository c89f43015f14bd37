//! Rig health on real rigs: silent on artists' rigs, and each kind of deliberate damage to a
//! bundled sample found, on the joint or vertices that were damaged.
//!
//! The false-alarm measurement over the artists' rigs in `../shared/assets` prints its table
//! with `cargo test --test health -- --nocapture artists`; it skips (and says why) where those
//! assets are absent. The damaged rigs use only `assets/samples`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rig_core::edit::{self, bind_position};
use rig_core::health::{self, Finding};
use rig_core::{Rig, SkinWeights};

/// The influence limit the editor checks by default.
const LIMIT: usize = 4;

/// Folders of `../shared/assets` that hold data sets rather than characters' rigs: training
/// sets, a face scan, mesh sequences and format samples.
const NOT_CHARACTERS: [&str; 5] = ["train", "face", "seq_dembones", "dembones_bone_all", "rignet_format_samples"];

fn load(path: &Path) -> Rig {
    rig_io::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).rig
}

fn sample(relative: &str) -> Rig {
    load(&common::samples().join(relative))
}

fn fox() -> Rig {
    sample("khronos_fox/Fox.glb")
}

fn joint(rig: &Rig, name: &str) -> usize {
    rig.skeleton.find(name).unwrap_or_else(|| panic!("no joint {name}"))
}

fn rows(rig: &Rig) -> Vec<Vec<(u32, f32)>> {
    (0..rig.weights.vertex_count()).map(|v| rig.weights.row_pairs(v)).collect()
}

fn set_rows(rig: &mut Rig, rows: Vec<Vec<(u32, f32)>>) {
    rig.weights = SkinWeights::from_rows(rows);
    rig.validate().expect("the damaged rig is still a valid rig");
}

/// The vertex with the most weight on `joint`.
fn heaviest_vertex(rig: &Rig, joint: usize) -> usize {
    (0..rig.weights.vertex_count())
        .max_by(|&a, &b| rig.weights.weight(a, joint as u32).total_cmp(&rig.weights.weight(b, joint as u32)))
        .unwrap_or(0)
}

fn described(rig: &Rig, findings: &[Finding]) -> String {
    findings.iter().map(|f| format!("\n  {}", f.describe(rig))).collect()
}

/// The findings on `rig`, after checking that one of them satisfies `expected`.
fn expect_finding(rig: &Rig, what: &str, expected: impl Fn(&Finding) -> bool) -> Vec<Finding> {
    let findings = health::check(rig, LIMIT);
    assert!(findings.iter().any(expected), "{what} was not found; findings:{}", described(rig, &findings));
    findings
}

// ---- the bundled samples are healthy --------------------------------------------------------

#[test]
fn bundled_samples_have_no_findings() {
    for path in rig_io::files_under(&common::samples(), &["glb", "gltf"]) {
        let rig = load(&path);
        let findings = health::check(&rig, LIMIT);
        assert!(findings.is_empty(), "{}:{}", path.display(), described(&rig, &findings));
    }
}

// ---- damaged rigs: each kind is found --------------------------------------------------------

#[test]
fn a_vertex_half_on_a_far_joint_is_found() {
    let mut rig = fox();
    let (hand, tail) = (joint(&rig, "b_LeftHand_011"), joint(&rig, "b_Tail03_014"));
    let v = heaviest_vertex(&rig, hand);
    let mut r = rows(&rig);
    r[v] = vec![(hand as u32, 0.5), (tail as u32, 0.5)];
    set_rows(&mut rig, r);
    let findings = expect_finding(
        &rig,
        "a paw vertex half on the tail tip",
        |f| matches!(f, Finding::StrayWeights { joint, vertices } if *joint == tail && vertices.contains(&v)),
    );
    let stray = findings.iter().find(|f| f.joint() == Some(tail)).map(|f| f.vertices().to_vec()).unwrap_or_default();
    assert_eq!(stray, vec![v], "only the damaged vertex is highlighted");
}

#[test]
fn a_piece_half_on_a_far_joint_is_found() {
    // The mini character is built of separate pieces, each following one joint.
    let mut rig = sample("kenney_mini_character/player.glb");
    let (head, leg) = (joint(&rig, "head"), joint(&rig, "leg-left"));
    let piece = largest_piece_on(&rig, head);
    assert!(piece.len() > 20, "the head has a piece of its own");
    let mut r = rows(&rig);
    for &v in &piece {
        r[v] = vec![(head as u32, 0.5), (leg as u32, 0.5)];
    }
    set_rows(&mut rig, r);
    expect_finding(
        &rig,
        "a head piece half on a leg",
        |f| matches!(f, Finding::StrayWeights { joint, vertices } if *joint == leg && piece.iter().all(|v| vertices.contains(v))),
    );
}

/// The vertices of the largest connected piece weighted only to `joint`.
fn largest_piece_on(rig: &Rig, joint: usize) -> Vec<usize> {
    let graph = rig_core::autoskin::smooth::SurfaceGraph::new(&rig.mesh);
    let piece_of = rig_core::autoskin::smooth::components(&graph);
    let mut pieces: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (v, &p) in piece_of.iter().enumerate() {
        pieces.entry(p).or_default().push(v);
    }
    let only_on = |v: &usize| rig.weights.row(*v).0 == [joint as u32];
    pieces.into_values().filter(|vs| vs.iter().all(only_on)).max_by_key(Vec::len).unwrap_or_default()
}

#[test]
fn a_joint_moved_outside_the_mesh_is_found() {
    let mut rig = fox();
    let forearm = joint(&rig, "b_LeftForeArm_010");
    let diag = rig.mesh.bounds().map(|b| b.diagonal()).unwrap_or(1.0);
    let mut p = bind_position(&rig.skeleton, forearm);
    p[0] += 0.25 * diag;
    edit::move_joint(&mut rig, forearm, p).expect("the joint exists");
    expect_finding(&rig, "the left elbow moved out to the side", |f| *f == Finding::JointOutside { joint: forearm });
}

#[test]
fn unnormalised_weights_are_found() {
    let mut rig = fox();
    let damaged: Vec<usize> = (0..rig.mesh.vertex_count()).step_by(97).collect();
    let mut r = rows(&rig);
    for &v in &damaged {
        r[v].iter_mut().for_each(|e| e.1 *= 0.8);
    }
    set_rows(&mut rig, r);
    expect_finding(&rig, "weights summing to 0.8", |f| *f == Finding::Unnormalised { vertices: damaged.clone() });
}

#[test]
fn zero_weights_are_found() {
    let mut rig = fox();
    let damaged: Vec<usize> = (0..rig.mesh.vertex_count()).step_by(131).collect();
    let mut r = rows(&rig);
    damaged.iter().for_each(|&v| r[v].clear());
    set_rows(&mut rig, r);
    expect_finding(&rig, "vertices with no weight", |f| *f == Finding::Unweighted { vertices: damaged.clone() });
}

#[test]
fn a_deforming_joint_left_without_weight_is_found() {
    // The forearm's weights go to the upper arm: bending the elbow swings the paw away and
    // leaves the forearm with the upper arm.
    let mut rig = fox();
    let (upper, forearm, hand) = (joint(&rig, "b_LeftUpperArm_09"), joint(&rig, "b_LeftForeArm_010"), joint(&rig, "b_LeftHand_011"));
    let mut r = rows(&rig);
    for row in &mut r {
        row.iter_mut().filter(|e| e.0 == forearm as u32).for_each(|e| e.0 = upper as u32);
    }
    set_rows(&mut rig, r);
    expect_finding(&rig, "an elbow that moves nothing", |f| *f == Finding::BoneWithoutWeight { joint: forearm, child: hand });
}

#[test]
fn left_and_right_weights_swapped_are_found() {
    let mut rig = fox();
    // The Fox's twins differ in their trailing numbers: b_LeftUpperArm_09, b_RightUpperArm_06.
    let unnumbered = |name: &str| name.trim_end_matches(|c: char| c.is_ascii_digit()).to_string();
    let twin: Vec<u32> = (0..rig.skeleton.len())
        .map(|j| {
            let name = unnumbered(&rig.skeleton.joints[j].name);
            let other = if name.contains("Left") { name.replace("Left", "Right") } else { name.replace("Right", "Left") };
            (0..rig.skeleton.len()).find(|&k| unnumbered(&rig.skeleton.joints[k].name) == other).unwrap_or(j) as u32
        })
        .collect();
    let r = rows(&rig).into_iter().map(|row| row.into_iter().map(|(j, w)| (twin[j as usize], w)).collect()).collect();
    set_rows(&mut rig, r);
    for name in ["b_LeftUpperArm_09", "b_RightForeArm_07", "b_LeftLeg02_016"] {
        let j = joint(&rig, name);
        expect_finding(
            &rig,
            &format!("{name} weighting the other side"),
            |f| matches!(f, Finding::MirroredWeights { joint, .. } if *joint == j),
        );
    }
}

#[test]
fn too_many_influences_are_found() {
    let mut rig = fox();
    let mut r = rows(&rig);
    r[0] = (0..6).map(|j| (j + 3, 1.0 / 6.0)).collect();
    set_rows(&mut rig, r);
    expect_finding(&rig, "a vertex with 6 influences", |f| *f == Finding::OverLimit { limit: LIMIT, vertices: vec![0] });
}

#[test]
fn findings_select_the_joint_and_describe_it_by_name() {
    let rig = fox();
    let tail = joint(&rig, "b_Tail03_014");
    let finding = Finding::StrayWeights { joint: tail, vertices: vec![1, 2] };
    assert_eq!(finding.joint(), Some(tail));
    assert_eq!(finding.vertices(), &[1, 2]);
    assert!(finding.describe(&rig).contains("'b_Tail03_014'"), "{}", finding.describe(&rig));
}

// ---- artists' rigs: no false alarms ---------------------------------------------------------

/// The characters directly in each folder of the shared assets, data sets left out.
fn artists_rigs(dir: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> =
        std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    folders.retain(|f| f.file_name().and_then(|n| n.to_str()).is_some_and(|n| !NOT_CHARACTERS.contains(&n)));
    folders.sort();
    let is_rig_file = |p: &PathBuf| {
        p.extension().and_then(|x| x.to_str()).is_some_and(|x| ["glb", "gltf", "fbx"].contains(&x.to_ascii_lowercase().as_str()))
    };
    folders
        .iter()
        .flat_map(|f| {
            let mut files: Vec<PathBuf> =
                std::fs::read_dir(f).into_iter().flatten().flatten().map(|e| e.path()).filter(is_rig_file).collect();
            files.sort();
            files
        })
        .collect()
}

/// Findings per kind on every artist's rig: the table is printed, and every count must be zero
/// (a finding here is a false alarm unless the problem can be shown in a pose).
#[test]
fn artists_rigs_have_no_findings() {
    let Some(dir) = common::shared_assets() else { return };
    let files = artists_rigs(&dir);
    assert!(!files.is_empty(), "no characters found under {}", dir.display());
    let mut alarms = Vec::new();
    println!("{:<60} {:>6} {:>6}  findings", "rig", "joints", "verts");
    for path in &files {
        let name = path.strip_prefix(&dir).unwrap_or(path).display().to_string();
        let rig = load(path);
        if rig.skeleton.is_empty() {
            println!("{name:<60} (no skeleton: not a rig)");
            continue;
        }
        let findings = health::check(&rig, LIMIT);
        let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
        findings.iter().for_each(|f| *per_kind.entry(f.kind()).or_default() += 1);
        let counts: Vec<String> = per_kind.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        let shown = if counts.is_empty() { "none".to_string() } else { counts.join(", ") };
        println!("{name:<60} {:>6} {:>6}  {shown}", rig.skeleton.len(), rig.mesh.vertex_count());
        alarms.extend(findings.iter().map(|f| format!("{name}: {}", f.describe(&rig))));
    }
    println!("{} rigs, {} findings", files.len(), alarms.len());
    assert!(alarms.is_empty(), "findings on artists' rigs:\n{}", alarms.join("\n"));
}
