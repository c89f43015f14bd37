//! The `rigsmith` binary: exit codes, one-line errors, help.

mod common;

use std::process::Command;

fn rigsmith(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rigsmith")).args(args).current_dir(common::repo()).output().expect("runs")
}

#[test]
fn inspect_prints_statistics() {
    let out = rigsmith(&["inspect", "assets/samples/khronos_fox/Fox.glb"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("vertices      1728"), "{text}");
    assert!(text.contains("Survey") && text.contains("Walk") && text.contains("Run"), "{text}");
}

#[test]
fn inspect_json_is_parseable() {
    let out = rigsmith(&["inspect", "--json", "assets/samples/kenney_mini_character/player.glb"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["deform_joints"], 7);
    assert_eq!(v["clips"].as_array().map(Vec::len), Some(32));
}

#[test]
fn bad_file_fails_with_one_line() {
    let out = rigsmith(&["inspect", "tests/bad_input/truncated.glb"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
}

#[test]
fn convert_writes_a_loadable_file() {
    let out_path = std::env::temp_dir().join(format!("rigsmith-cli-{}.glb", std::process::id()));
    let out = rigsmith(&["convert", "assets/samples/rignet/RiggedFigure_rig.txt", out_path.to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rig = rig_io::load(&out_path).expect("output loads").rig;
    assert_eq!(rig.skeleton.len(), 19);
    assert_eq!(rig.unweighted_skinned_vertices(), 0);
}

#[test]
fn help_exists_for_every_command() {
    for cmd in ["inspect", "convert", "pose", "bench"] {
        let out = rigsmith(&[cmd, "--help"]);
        assert!(out.status.success(), "{cmd} --help");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"), "{cmd}");
    }
}
