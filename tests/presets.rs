//! Naming presets and VRM export: a generated biped written with each convention's names, and
//! as .vrm with VRM 1.0's humanoid bones.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn rigsmith(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rigsmith")).args(args).current_dir(common::repo()).output().expect("runs")
}

/// A T-posed box figure (legs, torso, arms, head; Y up, facing +Z) as an OBJ file.
fn figure(dir: &std::path::Path) -> PathBuf {
    let boxes: [([f32; 3], [f32; 3]); 6] = [
        ([0.1, 0.0, -0.1], [0.3, 0.9, 0.1]),
        ([-0.3, 0.0, -0.1], [-0.1, 0.9, 0.1]),
        ([-0.35, 0.85, -0.15], [0.35, 1.5, 0.15]),
        ([0.3, 1.3, -0.07], [1.1, 1.45, 0.07]),
        ([-1.1, 1.3, -0.07], [-0.3, 1.45, 0.07]),
        ([-0.15, 1.5, -0.12], [0.15, 1.8, 0.12]),
    ];
    // Outward quads of a box whose corner i is (x, y, z) = (i & 1, i >> 1 & 1, i >> 2 & 1).
    let quads = [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]];
    let mut text = String::new();
    for (b, (lo, hi)) in boxes.iter().enumerate() {
        for i in 0..8 {
            let c = |axis: usize, bit: usize| if (i >> bit) & 1 == 1 { hi[axis] } else { lo[axis] };
            text += &format!("v {} {} {}\n", c(0, 0), c(1, 1), c(2, 2));
        }
        for q in quads {
            let v = |k: usize| 8 * b + q[k] + 1;
            text += &format!("f {} {} {}\nf {} {} {}\n", v(0), v(1), v(2), v(0), v(2), v(3));
        }
    }
    let path = dir.join("figure.obj");
    std::fs::write(&path, text).expect("write");
    path
}

fn temp() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rigsmith-presets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp");
    dir
}

/// The JSON chunk of a GLB.
fn glb_json(path: &std::path::Path) -> serde_json::Value {
    let bytes = std::fs::read(path).expect("read");
    let len = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
    serde_json::from_slice(&bytes[20..20 + len]).expect("json")
}

#[test]
fn a_generated_biped_takes_each_conventions_names_and_vrm_bones() {
    let dir = temp();
    let obj = figure(&dir);
    let expect = [
        ("mixamo", "mixamorig:LeftForeArm", "mixamorig:Spine1"),
        ("unreal", "lowerarm_l", "spine_02"),
        ("unity", "LeftLowerArm", "Chest"),
        ("vrm", "leftLowerArm", "chest"),
    ];
    for (preset, forearm, spine) in expect {
        let out = dir.join(format!("{preset}.glb"));
        let o = rigsmith(&[
            "rig",
            "--input",
            &obj.to_string_lossy(),
            "--output",
            &out.to_string_lossy(),
            "--kind",
            "biped",
            "--preset",
            preset,
        ]);
        assert!(o.status.success(), "{preset}: {}", String::from_utf8_lossy(&o.stderr));
        let rig = rig_io::load(&out).expect("reads back").rig;
        assert!(
            rig.skeleton.find(forearm).is_some() && rig.skeleton.find(spine).is_some(),
            "{preset}: {:?}",
            rig.skeleton.joints.iter().map(|j| &j.name).collect::<Vec<_>>()
        );
        assert_eq!(rig_core::naming::recognise(&rig.skeleton).map(|p| p.label()), Some(preset), "{preset} recognised");
        if preset == "unreal" {
            // Unreal's skeletons hang from a `root` on the ground under the pelvis.
            let (root, pelvis) = (rig.skeleton.find("root").expect("a root"), rig.skeleton.find("pelvis").expect("pelvis"));
            assert_eq!(rig.skeleton.joints[pelvis].parent, Some(root));
            let rest = rig.skeleton.rest_positions();
            let lowest = rig.mesh.positions.iter().map(|p| p[1]).fold(f32::MAX, f32::min);
            assert!((rest[root][1] - lowest).abs() < 1e-4 && (rest[root][0] - rest[pelvis][0]).abs() < 1e-4, "{:?}", rest[root]);
        }
    }
    let vrm = dir.join("figure.vrm");
    let input = obj.to_string_lossy();
    let output = vrm.to_string_lossy();
    let o = rigsmith(&["rig", "--input", &input, "--output", &output, "--kind", "biped", "--preset", "vrm", "--author", "A. Artist"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json = glb_json(&vrm);
    assert_eq!(json["extensions"]["VRMC_vrm"]["meta"]["authors"], serde_json::json!(["A. Artist"]));
    assert!(json["extensionsUsed"].as_array().expect("used").iter().any(|e| e == "VRMC_vrm"));
    let bones = json["extensions"]["VRMC_vrm"]["humanoid"]["humanBones"].as_object().expect("humanBones");
    for required in rig_core::naming::VRM_REQUIRED {
        let node = bones.get(required).and_then(|b| b["node"].as_u64()).unwrap_or_else(|| panic!("no {required}"));
        assert_eq!(json["nodes"][node as usize]["name"], required, "the node VRM names {required}");
    }
    // A skeleton that is not a humanoid cannot be a VRM: refused, naming what is missing.
    let fox = dir.join("fox.vrm");
    let o = rigsmith(&["convert", "assets/samples/khronos_fox/Fox.glb", &fox.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot write VRM") && err.contains("leftLowerLeg"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_mitten_chain_on_request_takes_the_middle_fingers_names() {
    let dir = temp().join("mitten");
    std::fs::create_dir_all(&dir).expect("temp");
    let obj = figure(&dir);
    let out = dir.join("mixamo.glb");
    let (input, output) = (obj.to_string_lossy(), out.to_string_lossy());
    let middle = |args: &[&str]| {
        let o = rigsmith(&[&["rig", "--input", &input, "--output", &output, "--kind", "biped", "--preset", "mixamo"], args].concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let rig = rig_io::load(&out).expect("reads back").rig;
        rig.skeleton.joints.iter().filter(|j| j.name.contains("Middle")).map(|j| j.name.clone()).collect::<Vec<_>>()
    };
    // The box figure's hands show no fingers apart: none, unless a mitten chain is asked for.
    assert!(middle(&[]).is_empty());
    let chain = middle(&["--mitten"]);
    for side in ["Left", "Right"] {
        for k in 1..=3 {
            let name = format!("mixamorig:{side}HandMiddle{k}");
            assert!(chain.contains(&name), "no {name} in {chain:?}");
        }
    }
}
