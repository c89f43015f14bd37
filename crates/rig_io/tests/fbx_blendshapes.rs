//! Morph targets written as FBX blend shapes come back from the FBX reader with their names,
//! default weights and offsets per vertex.

use std::path::{Path, PathBuf};

use rig_core::face::ARKIT_52;
use rig_core::{MorphTarget, Rig};
use rig_io::ExportOptions;

fn fox() -> Rig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/samples/khronos_fox/Fox.glb");
    rig_io::load(&path).expect("the bundled fox loads").rig
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rigsmith-fbx-shapes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// Gives every part of `rig` the targets `make(k, vertex_count)` for each name, with the
/// default weights `weights`.
fn add_targets(rig: &mut Rig, names: &[&str], weights: &[f32], make: impl Fn(usize, usize) -> MorphTarget) {
    for group in &mut rig.mesh.groups {
        group.morph_target_names = names.iter().map(|n| n.to_string()).collect();
        group.morph_default_weights = weights.to_vec();
    }
    for part in &mut rig.mesh.parts {
        let n = part.vertices.len();
        part.morph_targets = (0..names.len()).map(|k| make(k, n)).collect();
    }
}

/// Writes `rig` as FBX and reads it back.
fn fbx_round_trip(rig: &Rig, file: &str) -> Rig {
    let path = scratch(file);
    let warnings = rig_io::save(rig, &path, &ExportOptions::default()).expect("writes FBX");
    assert!(warnings.iter().all(|w| !w.contains("morph")), "{warnings:?}");
    assert!(rig_io::export_losses(rig, &path).is_empty(), "morph targets are kept by FBX");
    let back = rig_io::load(&path).expect("reads its own FBX");
    assert!(back.losses().is_empty(), "{:?}", back.losses());
    back.rig
}

/// Each vertex's offset in `b` equals the one in `a` within 1e-5 of its length (plus 1e-7 of
/// the mesh diagonal); an offset of zero comes back exactly zero.
fn same_offsets(what: &str, a: &[[f32; 3]], b: &[[f32; 3]], diag: f32) {
    assert_eq!(a.len(), b.len(), "{what}: offset count");
    for (v, (p, q)) in a.iter().zip(b).enumerate() {
        let length = p.iter().map(|x| x * x).sum::<f32>().sqrt();
        let error = p.iter().zip(q).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt();
        if length == 0.0 {
            assert_eq!(q, &[0.0; 3], "{what}: vertex {v} should not move");
        } else {
            assert!(error <= 1e-5 * length + 1e-7 * diag, "{what}: vertex {v} offset {q:?}, expected {p:?}");
        }
    }
}

#[test]
fn named_morph_targets_survive_fbx_with_their_offsets() {
    let mut rig = fox();
    let diag = rig.mesh.bounds().expect("the fox has vertices").diagonal();
    let names = ["jawOpen", "eyeBlinkLeft", "mouthSmileRight"];
    add_targets(&mut rig, &names, &[0.0, 0.25, 0.0], |k, n| match k {
        // Every fifth vertex, by a different offset each.
        0 => MorphTarget {
            position_deltas: (0..n)
                .map(|i| if i % 5 == 0 { [0.001 * (i % 13) as f32 * diag, -0.02 * diag, 0.003 * (i % 7) as f32 * diag] } else { [0.0; 3] })
                .collect(),
            normal_deltas: vec![],
        },
        // The first tenth of the vertices, with normal offsets.
        1 => MorphTarget {
            position_deltas: (0..n).map(|i| if i < n / 10 { [0.0, 0.01 * diag, 0.0] } else { [0.0; 3] }).collect(),
            normal_deltas: (0..n).map(|i| if i < n / 10 { [0.1, -0.05, 0.0] } else { [0.0; 3] }).collect(),
        },
        // A target that moves nothing.
        _ => MorphTarget { position_deltas: vec![[0.0; 3]; n], normal_deltas: vec![] },
    });
    let back = fbx_round_trip(&rig, "fox_shapes.fbx");
    // FBX holds the skinned mesh in model space: offsets turn with it.
    let expected = rig_io::fbx::in_model_space(&rig);
    assert_eq!(back.mesh.vertex_count(), expected.mesh.vertex_count());
    assert_eq!(back.mesh.parts.len(), expected.mesh.parts.len());
    for (a, b) in expected.mesh.parts.iter().zip(&back.mesh.parts) {
        let group = &back.mesh.groups[b.group];
        assert_eq!(group.morph_target_names, names, "part {:?}", b.name);
        assert_eq!(group.morph_default_weights, [0.0, 0.25, 0.0], "part {:?}", b.name);
        assert_eq!(b.vertices, a.vertices, "vertex order is kept");
        same_offsets(
            "positions",
            &expected.mesh.positions[a.vertices.start as usize..a.vertices.end as usize],
            &back.mesh.positions[b.vertices.start as usize..b.vertices.end as usize],
            diag,
        );
        assert_eq!(b.morph_targets.len(), 3);
        for (k, (ta, tb)) in a.morph_targets.iter().zip(&b.morph_targets).enumerate() {
            same_offsets(names[k], &ta.position_deltas, &tb.position_deltas, diag);
            if ta.normal_deltas.iter().flatten().any(|&x| x != 0.0) {
                same_offsets(&format!("{} normals", names[k]), &ta.normal_deltas, &tb.normal_deltas, 1.0);
            } else {
                assert!(tb.normal_deltas.is_empty(), "{}: no normal offsets were written", names[k]);
            }
        }
    }
}

#[test]
fn a_face_rig_keeps_all_52_arkit_shape_names_in_order() {
    let mut rig = fox();
    let diag = rig.mesh.bounds().expect("the fox has vertices").diagonal();
    // Shape k moves vertex k (and every 97th after it) up by k thousandths of the diagonal.
    add_targets(&mut rig, &ARKIT_52, &[0.0; 52], |k, n| MorphTarget {
        position_deltas: (0..n).map(|i| if i % 97 == k { [0.0, 0.001 * (k + 1) as f32 * diag, 0.0] } else { [0.0; 3] }).collect(),
        normal_deltas: vec![],
    });
    let back = fbx_round_trip(&rig, "fox_arkit.fbx");
    let expected = rig_io::fbx::in_model_space(&rig);
    for (a, b) in expected.mesh.parts.iter().zip(&back.mesh.parts) {
        assert_eq!(back.mesh.groups[b.group].morph_target_names, ARKIT_52);
        for (k, (ta, tb)) in a.morph_targets.iter().zip(&b.morph_targets).enumerate() {
            same_offsets(ARKIT_52[k], &ta.position_deltas, &tb.position_deltas, diag);
        }
    }
}

#[test]
fn a_file_without_blend_shapes_reads_without_morph_targets() {
    let rig = fox();
    let back = fbx_round_trip(&rig, "fox_plain.fbx");
    assert!(back.mesh.parts.iter().all(|p| p.morph_targets.is_empty()));
    assert!(back.mesh.groups.iter().all(|g| g.morph_target_names.is_empty() && g.morph_default_weights.is_empty()));
}
