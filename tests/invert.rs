//! `rigsmith invert` end to end: a real character's clip baked to meshes and inverted onto its
//! own rig, the written GLB read back and played against the targets, and the inputs it refuses.

mod common;

use std::path::PathBuf;
use std::process::Command;

use rig_io::sequence::{load_sequence, SequenceOptions};

fn rigsmith(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rigsmith")).args(args).current_dir(common::repo()).output().expect("runs")
}

fn fox() -> PathBuf {
    common::samples().join("khronos_fox/Fox.glb")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rigsmith-invert-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

#[test]
fn the_fox_survey_clip_is_recovered_and_the_written_glb_plays_the_targets() {
    let dir = scratch("fox");
    let out = dir.join("fox_survey.glb");
    let fox = fox();
    let fox = fox.to_str().expect("test setup");
    let o =
        rigsmith(&["invert", "--rig", fox, "--targets", fox, "--clip", "Survey", "--output", out.to_str().expect("test setup"), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let mean = v["mean_error"].as_f64().expect("test setup");
    assert!(mean < 1e-5, "mean error {mean} of the diagonal");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("frame    0"), "per-frame errors printed: {stderr}");
    // The written file, read back and played at its keys, lands on the targets.
    let seq = load_sequence(&common::samples().join("khronos_fox/Fox.glb"), &SequenceOptions { clip: Some("Survey".into()), fps: 24.0 })
        .expect("bakes")
        .sequence;
    let back = rig_io::load(&out).expect("reads back").rig;
    assert_eq!(back.clips.len(), 1);
    let played = rig_core::motion::bake_clip(&back, 0).expect("bakes");
    assert_eq!(played.frames.len(), seq.frames.len());
    let diagonal = rig_core::invert::diagonal(&seq.frames[0]);
    let worst = played.frames.iter().zip(&seq.frames).map(|(a, b)| rig_core::invert::frame_error(a, b, diagonal).max).fold(0.0, f64::max);
    assert!(worst < 1e-4, "the file plays {worst} of the diagonal away from the targets");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_targets_and_joint_names_get_one_clear_line() {
    let dir = scratch("bad");
    let fox = fox();
    let fox = fox.to_str().expect("test setup");
    // A target with other vertices: an OBJ cube.
    let cube = dir.join("frames");
    std::fs::create_dir_all(&cube).expect("test setup");
    let obj = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 3 4\n";
    std::fs::write(cube.join("a.obj"), obj).expect("test setup");
    std::fs::write(cube.join("b.obj"), obj).expect("test setup");
    let cases: [(Vec<&str>, &str); 3] = [
        (vec!["invert", "--rig", fox, "--targets", cube.to_str().expect("test setup"), "--json"], "vertices where the rig has"),
        (
            vec!["invert", "--rig", fox, "--targets", fox, "--clip", "Survey", "--joints", "NoSuchBone", "--json"],
            "no joint named 'NoSuchBone'",
        ),
        (vec!["invert", "--rig", fox, "--targets", "/nope/x.glb", "--json"], "/nope/x.glb"),
    ];
    for (args, wanted) in cases {
        let o = rigsmith(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} must fail");
        assert!(err.contains(wanted), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
