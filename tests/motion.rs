//! `rigsmith rig-from-motion` end to end: a real character's clip baked to frames, the rig it
//! recovers written as GLB and FBX and read back, and the inputs it must refuse.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use rig_io::sequence::{load_sequence, SequenceOptions};
use rig_pipeline::motion::playback_rmse_percent;

fn rigsmith(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rigsmith")).args(args).current_dir(common::repo()).output().expect("runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rigsmith-motion-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn fox() -> PathBuf {
    common::samples().join("khronos_fox/Fox.glb")
}

#[test]
fn the_fox_run_comes_back_as_a_rig_whose_glb_and_fbx_play_the_frames() {
    let dir = scratch("fox");
    let seq = load_sequence(&fox(), &SequenceOptions { clip: Some("Run".into()), fps: 24.0 }).expect("bakes").sequence;
    for ext in ["glb", "fbx"] {
        let out = dir.join(format!("fox_run.{ext}"));
        let o = rigsmith(&[
            "rig-from-motion",
            "--input",
            fox().to_str().expect("test setup"),
            "--clip",
            "Run",
            "--bones",
            "12",
            "--output",
            out.to_str().expect("test setup"),
            "--json",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        let (free, skeleton) =
            (v["free_rmse_percent"].as_f64().expect("test setup"), v["skeleton_rmse_percent"].as_f64().expect("test setup"));
        // Dem Bones leaves 0.83 % (10 bones) on this clip; the skeleton stays near the free bones.
        assert!(free < 0.6 && skeleton < 1.5 * free, "free {free} %, skeleton {skeleton} %");
        assert_eq!(v["frames"], seq.frames.len());
        let back = rig_io::load(&out).expect("reads back").rig;
        assert_eq!(back.clips.len(), 1);
        let played = playback_rmse_percent(&back, &seq);
        assert!((played - skeleton).abs() < 1e-3, "{ext}: the file plays at {played} %, the solver measured {skeleton} %");
        let roots = back.skeleton.joints.iter().filter(|j| j.parent.is_none() && j.in_skin).count();
        assert_eq!(roots, 1, "{ext}: one root joint");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn obj_frames_written_for_another_tool_read_back_as_the_same_sequence() {
    let dir = scratch("frames");
    let frames = dir.join("frames");
    let o = rigsmith(&[
        "rig-from-motion",
        "--input",
        fox().to_str().expect("test setup"),
        "--clip",
        "Walk",
        "--bones",
        "4",
        "--frames-out",
        frames.to_str().expect("test setup"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let baked = load_sequence(&fox(), &SequenceOptions { clip: Some("Walk".into()), fps: 24.0 }).expect("test setup").sequence;
    let read = load_sequence(&frames, &SequenceOptions::default()).expect("reads the folder").sequence;
    assert_eq!(read.frames.len(), baked.frames.len());
    let worst = read
        .frames
        .iter()
        .flatten()
        .zip(baked.frames.iter().flatten())
        .map(|(a, b)| (0..3).map(|k| (a[k] - b[k]).abs()).fold(0.0, f32::max))
        .fold(0.0, f32::max);
    assert!(worst < 1e-4 * baked.diagonal() as f32, "{worst}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn error_line(o: &std::process::Output) -> String {
    assert!(!o.status.success(), "should fail: {}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{err}");
    err
}

fn write_frames(dir: &Path, counts: &[usize]) {
    std::fs::create_dir_all(dir).expect("test setup");
    for (i, &n) in counts.iter().enumerate() {
        let mut text: String = (0..n).map(|k| format!("v {} {} 0\n", k, i * k)).collect();
        (3..=n).for_each(|k| text.push_str(&format!("f 1 2 {k}\n")));
        std::fs::write(dir.join(format!("f{i:03}.obj")), text).expect("test setup");
    }
}

#[test]
fn unusable_sequences_and_settings_are_refused_with_one_line_each() {
    let dir = scratch("bad");
    let still = common::samples().join("rignet/RiggedFigure.obj");
    let e = error_line(&rigsmith(&["rig-from-motion", "--input", still.to_str().expect("test setup"), "--output", "x.glb"]));
    assert!(e.contains("no animation"), "{e}");
    let e =
        error_line(&rigsmith(&["rig-from-motion", "--input", fox().to_str().expect("test setup"), "--bones", "0", "--output", "x.glb"]));
    assert!(e.contains("--bones 0"), "{e}");
    let e =
        error_line(&rigsmith(&["rig-from-motion", "--input", fox().to_str().expect("test setup"), "--clip", "Swim", "--output", "x.glb"]));
    assert!(e.contains("no clip") && e.contains("Survey"), "{e}");
    let lone = dir.join("lone");
    write_frames(&lone, &[4]);
    let e = error_line(&rigsmith(&["rig-from-motion", "--input", lone.to_str().expect("test setup"), "--output", "x.glb"]));
    assert!(e.contains("at least 2"), "{e}");
    let mixed = dir.join("mixed");
    write_frames(&mixed, &[4, 5]);
    let e = error_line(&rigsmith(&["rig-from-motion", "--input", mixed.to_str().expect("test setup"), "--output", "x.glb"]));
    assert!(e.contains("same mesh"), "{e}");
    let few = dir.join("few");
    write_frames(&few, &[4, 4, 4]);
    let e = error_line(&rigsmith(&["rig-from-motion", "--input", few.to_str().expect("test setup"), "--bones", "9", "--output", "x.glb"]));
    assert!(e.contains("at most 4 bones"), "{e}");
    assert!(!common::repo().join("x.glb").exists(), "nothing written on failure");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_command_line_and_the_editors_worker_recover_the_same_rig() {
    use rig_core::motion::{MotionOptions, SsdrOptions};
    use rig_pipeline::{RigRequest, Worker, WorkerEvent};
    let dir = scratch("same");
    let (cli, worker_out) = (dir.join("cli.glb"), dir.join("worker.glb"));
    let o = rigsmith(&[
        "rig-from-motion",
        "--input",
        fox().to_str().expect("path"),
        "--clip",
        "2",
        "--bones",
        "8",
        "--output",
        cli.to_str().expect("path"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut rig = rig_io::load(&fox()).expect("loads").rig;
    let mut worker = Worker::spawn();
    let options = MotionOptions { ssdr: SsdrOptions { bones: 8, ..Default::default() }, ..Default::default() };
    worker.submit(1, std::sync::Arc::new(rig.clone()), RigRequest::motion(2, options)).expect("queued");
    let output = match worker.wait(|_, _| {}) {
        Some(WorkerEvent::Done { result: Ok(done), .. }) => done.output,
        other => panic!("the worker did not finish: {other:?}"),
    };
    assert!(output.motion.as_ref().is_some_and(|m| m.frames > 2), "a motion report");
    let report = output.motion.as_deref().cloned().expect("a motion report");
    rig_pipeline::apply(&mut rig, output);
    the_error_overlay_agrees_with_the_report(&rig, &report);
    rig_io::save(&rig, &worker_out, &rig_io::ExportOptions::default()).expect("writes");
    let (a, b) = (std::fs::read(&cli).expect("cli output"), std::fs::read(&worker_out).expect("worker output"));
    assert!(a == b, "the command line wrote {} bytes, the worker {} bytes, not the same", a.len(), b.len());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The editor's error overlay (per-vertex distance at the frame nearest the playback time)
/// summed over the input's frames gives the report's error.
fn the_error_overlay_agrees_with_the_report(rig: &rig_core::Rig, report: &rig_pipeline::motion::MotionReport) {
    use rig_pipeline::motion::{nearest_frame, vertex_errors_percent};
    let input = &report.input;
    assert_eq!(input.rest.len(), rig.mesh.vertex_count(), "the overlay compares vertex for vertex");
    let mut squares = 0.0f64;
    let mut count = 0usize;
    for (f, &time) in input.times.iter().enumerate() {
        assert_eq!(nearest_frame(&input.times, time + 1e-4), f, "frame {f} is found by its time");
        let posed = rig_core::motion::bake::posed_positions(rig, &rig.clips[0], time);
        let errors = vertex_errors_percent(&posed, &input.frames[f], input.diagonal());
        squares += errors.iter().map(|&e| (e as f64).powi(2)).sum::<f64>();
        count += errors.len();
    }
    let overlay = (squares / count as f64).sqrt();
    let reported = report.rmse_percent();
    assert!((overlay - reported).abs() <= 0.02 * reported + 1e-4, "overlay {overlay} % against the report's {reported} %");
}

#[test]
fn cancel_stops_rig_from_motion_on_the_worker() {
    use rig_core::motion::{MotionOptions, SsdrOptions};
    use rig_pipeline::{RigRequest, Worker, WorkerEvent};
    use std::time::{Duration, Instant};
    let mut rig = rig_core::creature::creature(3, &Default::default());
    rig.clips = vec![rig_core::creature::motion::random_motion(&rig.skeleton, 3, 80, 24.0)];
    let mut worker = Worker::spawn();
    let options = MotionOptions { ssdr: SsdrOptions { bones: 30, iterations: 500, ..Default::default() }, ..Default::default() };
    worker.submit(1, std::sync::Arc::new(rig), RigRequest::motion(0, options)).expect("queued");
    let started = Instant::now();
    let mut pressed: Option<Instant> = None;
    while started.elapsed() < Duration::from_secs(120) {
        for event in worker.poll() {
            match event {
                WorkerEvent::Progress { stage, .. } if pressed.is_none() && stage.starts_with("iteration 2 ") => {
                    worker.cancel();
                    pressed = Some(Instant::now());
                }
                WorkerEvent::Cancelled { .. } => {
                    let after = pressed.expect("cancelled only once asked").elapsed();
                    assert!(after < Duration::from_secs(2), "stopped {after:?} after Cancel");
                    return;
                }
                WorkerEvent::Done { result, .. } => panic!("finished instead of stopping: {:?}", result.map(|d| d.seconds)),
                WorkerEvent::Progress { .. } => {}
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("no Cancelled event");
}

#[test]
fn the_shipped_learned_initialiser_loads_and_seeds_a_good_rig() {
    let loaded = load_sequence(&fox(), &SequenceOptions { clip: Some("Run".into()), fps: 24.0 }).expect("bakes");
    let embeddings = rig_pipeline::motion::learned_embeddings(&loaded.sequence, None).expect("the shipped weights load");
    assert_eq!(embeddings.len(), loaded.sequence.rest.len());
    assert!(embeddings.iter().all(|e| e.len() == 16 && (e.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-3), "unit embeddings");
    let o = rigsmith(&[
        "rig-from-motion",
        "--input",
        fox().to_str().expect("path"),
        "--clip",
        "Run",
        "--bones",
        "12",
        "--init",
        "learned",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let free = v["free_rmse_percent"].as_f64().expect("a figure");
    // Dem Bones leaves 0.83 % at 10 bones on this clip.
    assert!(free < 0.8, "learned start: {free} %");
}

/// A strip of 11 x 2 vertices whose right half a morph target folds up about x = 5, animated
/// 0 -> 1 -> 0.5: a morph-animated file as three.js stores its animals.
fn folding_strip() -> rig_core::Rig {
    use rig_core::{Clip, Interpolation, MaterialLibrary, Mesh, MeshGroup, MorphTarget, MorphWeightsChannel, Part};
    let positions: Vec<[f32; 3]> = (0..22).map(|i| [(i % 11) as f32, 0.0, (i / 11) as f32]).collect();
    let fold = |p: &[f32; 3]| if p[0] > 5.0 { [-(p[0] - 5.0), p[0] - 5.0, 0.0] } else { [0.0; 3] };
    let deltas = positions.iter().map(fold).collect();
    let triangles: Vec<[u32; 3]> = (0..10u32).flat_map(|i| [[i, i + 1, i + 12], [i, i + 12, i + 11]]).collect();
    let part = Part {
        name: "strip".into(),
        group: 0,
        material: None,
        vertices: 0..22,
        triangles: 0..triangles.len() as u32,
        skinned: false,
        morph_targets: vec![MorphTarget { position_deltas: deltas, normal_deltas: vec![] }],
    };
    let group = MeshGroup { name: "strip".into(), morph_target_names: vec!["fold".into()], morph_default_weights: vec![0.0] };
    let mesh = Mesh { positions, triangles, parts: vec![part], groups: vec![group], ..Default::default() };
    let mut rig = rig_core::Rig::unrigged("strip", mesh, MaterialLibrary::default());
    let times: Vec<f32> = (0..9).map(|k| k as f32 * 0.25).collect();
    let values = times.iter().map(|t| if *t <= 1.0 { *t } else { 1.0 - 0.5 * (t - 1.0) }).collect();
    let channel = MorphWeightsChannel { group: 0, times, values, interpolation: Interpolation::Linear };
    rig.clips.push(Clip { name: "fold".into(), channels: vec![], morph_channels: vec![channel] });
    rig
}

#[test]
fn a_morph_target_animation_becomes_a_skinned_rig_that_plays_it() {
    let dir = scratch("morph");
    let (input, output) = (dir.join("strip.glb"), dir.join("strip_rigged.glb"));
    rig_io::save(&folding_strip(), &input, &rig_io::ExportOptions::default()).expect("writes the morph file");
    let o = rigsmith(&[
        "rig-from-motion",
        "--input",
        input.to_str().expect("path"),
        "--bones",
        "2",
        "--output",
        output.to_str().expect("path"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let written = v["written_rmse_percent"].as_f64().expect("a figure");
    // A linear morph of a fold shortens the strip half way (no rigid bones do that exactly):
    // 0.99 % of the diagonal measured.
    assert!(written < 2.0, "the rig plays the morph animation at {written} % of the diagonal");
    let back = rig_io::load(&output).expect("reads").rig;
    assert_eq!(back.skeleton.joints.iter().filter(|j| j.deform).count(), 2);
    assert_eq!(back.clips.len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
