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

#[test]
fn the_command_line_and_the_editors_worker_solve_the_same_clip() {
    use rig_pipeline::invert::{MatchSettings, Matching};
    use rig_pipeline::{RigRequest, Worker, WorkerEvent};
    let dir = scratch("same");
    let (cli, worker_out) = (dir.join("cli.glb"), dir.join("worker.glb"));
    let fox = fox();
    let fox_arg = fox.to_str().expect("test setup");
    let o = rigsmith(&["invert", "--rig", fox_arg, "--targets", fox_arg, "--clip", "Walk", "--output", cli.to_str().expect("test setup")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut rig = rig_io::load(&fox).expect("loads").rig;
    let clips_before = rig.clips.len();
    let settings = MatchSettings {
        targets: fox.clone(),
        sequence: SequenceOptions { clip: Some("Walk".into()), ..Default::default() },
        matching: Matching::Exact,
        options: Default::default(),
    };
    let mut worker = Worker::spawn();
    worker.submit(1, std::sync::Arc::new(rig.clone()), RigRequest::match_targets(settings.clone())).expect("queued");
    let output = match worker.wait(|_, _| {}) {
        Some(WorkerEvent::Done { result: Ok(done), .. }) => done.output,
        other => panic!("the worker did not finish: {other:?}"),
    };
    let report = output.matched.as_deref().cloned().expect("a match report");
    assert!(report.mean_error < 1e-5, "mean error {} of the diagonal", report.mean_error);
    assert_eq!(report.input.rest.len(), rig.mesh.vertex_count(), "the overlay's input is vertex for vertex");
    rig_pipeline::apply(&mut rig, output);
    assert_eq!(rig.clips.len(), clips_before + 1, "the solved clip comes after the rig's own");
    // The input frames, in mesh space, are where the solved clip puts the skinned mesh.
    let last = rig.clips.len() - 1;
    let display = rig.display_from_mesh();
    for (f, &t) in report.input.times.iter().enumerate() {
        let posed = rig_core::motion::bake::posed_positions(&rig, &rig.clips[last], t);
        let worst = posed
            .iter()
            .zip(&report.input.frames[f])
            .map(|(p, q)| {
                let q = display.transform_point(&nalgebra::Point3::from(*q));
                ((p[0] - q.x).powi(2) + (p[1] - q.y).powi(2) + (p[2] - q.z).powi(2)).sqrt()
            })
            .fold(0.0, f32::max);
        assert!(worst < 1e-3 * report.input.diagonal() as f32, "frame {f}: {worst} from the input");
    }
    // The command line writes the rig with the solved clip alone: the same file.
    rig.clips = vec![rig.clips[last].clone()];
    rig_io::save(&rig, &worker_out, &rig_io::ExportOptions::default()).expect("writes");
    let (a, b) = (std::fs::read(&cli).expect("cli output"), std::fs::read(&worker_out).expect("worker output"));
    assert!(a == b, "the command line wrote {} bytes, the worker {} bytes, not the same", a.len(), b.len());
    // A missing targets file fails the job with one line naming it.
    let missing = MatchSettings { targets: dir.join("nope.glb"), ..settings };
    worker.submit(1, std::sync::Arc::new(rig), RigRequest::match_targets(missing)).expect("queued");
    match worker.wait(|_, _| {}) {
        Some(WorkerEvent::Done { result: Err(e), .. }) => assert!(e.contains("nope.glb") && !e.contains('\n'), "{e}"),
        other => panic!("a missing targets file must fail the job: {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A rig known only by samples: EA's cube toy sampled into a JSON file, a straight animation of
/// it written as OBJ frames; `invert --method learned` finds controls whose true meshes land far
/// nearer the targets than the neutral controls (bounds with room for the networks' unseeded
/// initialisation).
#[test]
fn a_rig_known_by_samples_is_inverted_through_its_learned_approximation() {
    use rig_core::invert::blackbox::{mean_vertex_distance, straight_animation, ControlRig, CubeToy, SampledRig};
    let dir = scratch("samples");
    let samples = SampledRig::sample(&CubeToy, 300, 5);
    let json = serde_json::json!({ "name": samples.name, "control_names": samples.control_names, "controls": samples.controls, "meshes": samples.meshes });
    let samples_path = dir.join("cube_samples.json");
    std::fs::write(&samples_path, json.to_string()).expect("write samples");
    let animation = straight_animation(6, 12, 9);
    let truth: Vec<Vec<[f32; 3]>> = animation.iter().map(|c| CubeToy.evaluate(c)).collect();
    let frames = dir.join("frames");
    std::fs::create_dir_all(&frames).expect("frames folder");
    for (f, mesh) in truth.iter().enumerate() {
        let mut obj: String = mesh.iter().map(|p| format!("v {} {} {}\n", p[0], p[1], p[2])).collect();
        obj.push_str("f 1 2 3\nf 4 5 6\nf 7 8 1\n");
        std::fs::write(frames.join(format!("frame_{f:03}.obj")), obj).expect("write frame");
    }
    let out = dir.join("controls.json");
    let o = rigsmith(&[
        "invert",
        "--method",
        "learned",
        "--samples",
        samples_path.to_str().expect("test setup"),
        "--targets",
        frames.to_str().expect("test setup"),
        "--epochs",
        "150",
        "--widths",
        "64,64",
        "--output",
        out.to_str().expect("test setup"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).expect("controls written")).expect("json");
    let controls: Vec<Vec<f32>> = serde_json::from_value(v["controls"].clone()).expect("controls per frame");
    assert_eq!(controls.len(), truth.len());
    let reached: Vec<Vec<[f32; 3]>> = controls.iter().map(|c| CubeToy.evaluate(c)).collect();
    let standing = mean_vertex_distance(&vec![CubeToy.evaluate(&CubeToy.neutral()); truth.len()], &truth);
    let found = mean_vertex_distance(&reached, &truth);
    assert!(found < 0.5 * standing, "the found controls' meshes are {found} from the targets, the neutral's {standing}");
    // A samples file with a rig, or without the method, is refused with one line.
    let e = rigsmith(&["invert", "--samples", samples_path.to_str().expect("test setup"), "--targets", "x", "--json"]);
    assert!(!e.status.success() && String::from_utf8_lossy(&e.stderr).contains("--method learned and --samples"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// One posed mesh without animation (a scan, a sculpted pose) is a single target: the Fox's Run
/// clip at one key written as a static GLB comes back as that pose.
#[test]
fn one_posed_mesh_without_animation_is_a_single_target() {
    let dir = scratch("statue");
    let fox = fox();
    let rig = rig_io::load(&fox).expect("loads").rig;
    let run = rig.clips.iter().position(|c| c.name == "Run").expect("the Fox runs");
    let time = rig.clips[run].key_times()[10];
    let mut statue = rig_core::Rig {
        name: "statue".into(),
        mesh: rig.mesh.clone(),
        weights: rig_core::SkinWeights::empty(rig.mesh.positions.len()),
        materials: rig.materials.clone(),
        ..Default::default()
    };
    statue.mesh.positions = rig_core::motion::bake::posed_positions(&rig, &rig.clips[run], time);
    statue.mesh.normals.clear();
    statue.mesh.parts.iter_mut().for_each(|p| p.skinned = false);
    let path = dir.join("statue.glb");
    rig_io::save(&statue, &path, &rig_io::ExportOptions::default()).expect("writes the statue");
    let fox_arg = fox.to_str().expect("test setup");
    let o = rigsmith(&["invert", "--rig", fox_arg, "--targets", path.to_str().expect("test setup"), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["frames"].as_u64(), Some(1));
    let mean = v["mean_error"].as_f64().expect("test setup");
    assert!(mean < 1e-5, "mean error {mean} of the diagonal");
    let e = rigsmith(&["invert", "--rig", fox_arg, "--targets", path.to_str().expect("test setup"), "--clip", "Run", "--json"]);
    assert!(!e.status.success() && String::from_utf8_lossy(&e.stderr).contains("without animation"));
    let _ = std::fs::remove_dir_all(&dir);
}
