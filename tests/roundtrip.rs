//! Import, export, import again: the second import must equal the first.

mod common;

use std::path::Path;

use rig_io::ExportOptions;

fn round_trip(path: &Path, ext: &str) -> Result<(), String> {
    let first = rig_io::load(path).map_err(|e| format!("import: {e}"))?;
    let dir = std::env::temp_dir().join(format!("rigsmith-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let out = dir.join(format!("{}.{ext}", first.rig.name));
    rig_io::save(&first.rig, &out, &ExportOptions::default()).map_err(|e| format!("export: {e}"))?;
    let second = rig_io::load(&out).map_err(|e| format!("re-import: {e}"))?;
    common::compare(&first.rig, &second.rig)
}

#[test]
fn bundled_samples_round_trip_as_glb() {
    let files = common::gltf_files(&common::samples());
    assert!(files.len() >= 5, "bundled samples missing");
    for f in &files {
        round_trip(f, "glb").unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
}

#[test]
fn bundled_samples_round_trip_as_gltf_with_bin() {
    for f in common::gltf_files(&common::samples()) {
        round_trip(&f, "gltf").unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
}

#[test]
fn every_shared_asset_round_trips() {
    let Some(dir) = common::shared_assets() else { return };
    let files = common::gltf_files(&dir);
    let mut failures = Vec::new();
    for f in &files {
        if let Err(e) = round_trip(f, "glb") {
            failures.push(format!("{}: {e}", f.display()));
        }
    }
    eprintln!("{} shared glTF/GLB files round-tripped", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn limiting_to_four_influences_keeps_weights_normalised() {
    let path = common::samples().join("khronos_fox/Fox.glb");
    let rig = rig_io::load(&path).expect("sample loads").rig;
    let mut eight = rig.clone();
    // Spread every vertex over six joints, then export with a limit of four.
    let rows: Vec<Vec<(u32, f32)>> =
        (0..rig.mesh.vertex_count()).map(|v| (0..6).map(|k| (((v + k) % rig.skeleton.len()) as u32, 1.0 + k as f32)).collect()).collect();
    eight.weights = rig_core::SkinWeights::from_rows(rows);
    eight.weights.normalize(1e-3);
    let (glb, _) = rig_io::gltf_write::to_glb(
        &eight,
        &ExportOptions { limit: Some(rig_core::InfluenceLimit::max(4).expect("a valid limit")), ..Default::default() },
    )
    .expect("exports");
    let back = rig_io::gltf_read::load_bytes(&glb, None, "fox").expect("re-imports").rig;
    assert_eq!(back.weights.max_influences(), 4);
    assert!(back.weights.sums().iter().all(|s| (s - 1.0).abs() < 1e-5));
    let (all, _) = rig_io::gltf_write::to_glb(&eight, &ExportOptions::default()).expect("exports");
    let back = rig_io::gltf_read::load_bytes(&all, None, "fox").expect("re-imports").rig;
    assert_eq!(back.weights.max_influences(), 6, "JOINTS_1/WEIGHTS_1 carry influences 5 and 6");
}

/// Names of the nodes a glTF file lists as skin joints (what Blender and Maya make bones of).
fn skin_joint_names(path: &Path) -> std::collections::BTreeSet<String> {
    let bytes = std::fs::read(path).expect("reads");
    let c = rig_io::gltf_read::Container::parse(&bytes, path.parent()).expect("parses");
    // Unnamed nodes are read as `Node_N`, N the node's index in the source.
    let name = |n: u64| c.raw["nodes"][n as usize]["name"].as_str().filter(|s| !s.is_empty()).map_or(format!("Node_{n}"), str::to_string);
    let skins = c.raw["skins"].as_array().cloned().unwrap_or_default();
    skins.iter().flat_map(|s| s["joints"].as_array().cloned().unwrap_or_default()).filter_map(|j| j.as_u64()).map(name).collect()
}

#[test]
fn exports_make_bones_of_the_source_skin_joints_only() {
    let dir = std::env::temp_dir().join(format!("rigsmith-bones-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for f in common::gltf_files(&common::samples()) {
        let rig = rig_io::load(&f).expect("sample loads").rig;
        if rig.skeleton.is_empty() {
            continue;
        }
        let out = dir.join("out.glb");
        rig_io::save(&rig, &out, &ExportOptions::default()).expect("exports");
        assert_eq!(skin_joint_names(&out), skin_joint_names(&f), "{}: the nodes above the bones became bones", f.display());
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Each joint's name with its inverse bind matrix.
type NamedBinds = Vec<(String, [[f32; 4]; 4])>;

/// A GLB's first skin: whether it names a skeleton root, and its joints' bind matrices.
fn skin_layout(path: &Path) -> (bool, NamedBinds) {
    let bytes = std::fs::read(path).expect("reads");
    let doc = gltf::Gltf::from_slice(&bytes).expect("parses");
    let blob = doc.blob.clone();
    let skin = doc.skins().next().expect("has a skin");
    let ibms: Vec<[[f32; 4]; 4]> = skin.reader(|_| blob.as_deref()).read_inverse_bind_matrices().expect("has bind matrices").collect();
    let names = skin.joints().map(|j| j.name().map_or(format!("Node_{}", j.index()), str::to_string));
    (skin.skeleton().is_some(), names.zip(ibms).collect())
}

/// Blender binds a root bone at its inverse bind matrix when the skin names a skeleton root
/// and where its node rests otherwise, and takes both at the file's scale: a converted GLB
/// keeps the source's choice and its inverse bind matrices, so that it opens in the same bind
/// pose (the Quaternius fish and dinosaurs opened with every vertex elsewhere).
#[test]
fn a_converted_glb_keeps_the_source_skins_root_and_bind_matrices() {
    let dir = std::env::temp_dir().join(format!("rigsmith-skinroot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut checked = 0;
    for f in rig_io::files_under(&common::samples(), &["glb"]) {
        let rig = rig_io::load(&f).expect("sample loads").rig;
        if rig.skeleton.is_empty() {
            continue;
        }
        let out = dir.join("out.glb");
        rig_io::save(&rig, &out, &ExportOptions::default()).expect("exports");
        let (src_named, src) = skin_layout(&f);
        let (out_named, written) = skin_layout(&out);
        assert_eq!(out_named, src_named, "{}: the skin's skeleton root", f.display());
        for (name, m) in &src {
            let (_, w) = written.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{}: joint {name} written", f.display()));
            let scale = m.iter().flatten().fold(1e-6f32, |a, x| a.max(x.abs()));
            let dev = m.iter().flatten().zip(w.iter().flatten()).fold(0f32, |a, (x, y)| a.max((x - y).abs()));
            assert!(dev <= 1e-4 * scale, "{}: joint {name}'s inverse bind matrix moved by {dev}", f.display());
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} rigged GLB samples");
    let _ = std::fs::remove_dir_all(dir);
}
