//! One pipeline under every front end: `rigsmith rig` and the editor's worker, given the same
//! request, write the same file byte for byte.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use rig_pipeline::{RigRequest, Worker, WorkerEvent};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rigsmith-pipeline-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `rigsmith rig` with `args` on `input`, written to `out`.
fn cli_rig(input: &Path, out: &Path, args: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_rigsmith"))
        .arg("rig")
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(out)
        .args(args)
        .status()
        .expect("runs rigsmith");
    assert!(status.success(), "rigsmith rig {args:?} failed");
}

/// `request` on `input` through the worker thread, written as the editor exports.
fn worker_rig(input: &Path, out: &Path, request: RigRequest) {
    let mut rig = rig_io::load(input).expect("loads").rig;
    let mut worker = Worker::spawn();
    worker.submit(7, Arc::new(rig.clone()), request.clone()).expect("queued");
    let output = match worker.wait(|_, _| {}) {
        Some(WorkerEvent::Done { result: Ok(done), .. }) => done.output,
        other => panic!("the worker did not finish: {other:?}"),
    };
    rig_pipeline::apply(&mut rig, output);
    rig_io::save(&rig, out, &rig_io::ExportOptions { limit: Some(request.limit), ..Default::default() }).expect("writes");
}

#[cfg(feature = "editor")]
#[test]
fn the_command_line_and_the_editors_worker_write_the_same_rig() {
    use rig_app::ui::generate::GenerateSettings;
    let dir = temp_dir("same");
    let settings = GenerateSettings::default();
    for (name, sample, args, generate) in [
        ("generate", "khronos_fox/Fox.glb", &[][..], true),
        ("reskin", "kenney_mini_character/player.glb", &["--use-skeleton", "--deform", "all"][..], false),
    ] {
        let input = common::samples().join(sample);
        let (cli, worker) = (dir.join(format!("{name}-cli.glb")), dir.join(format!("{name}-worker.glb")));
        cli_rig(&input, &cli, args);
        worker_rig(&input, &worker, settings.request(generate));
        let (a, b) = (std::fs::read(&cli).expect("cli output"), std::fs::read(&worker).expect("worker output"));
        assert!(a == b, "{name}: the command line wrote {} bytes, the worker {} bytes, not the same", a.len(), b.len());
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_command_line_and_the_worker_write_the_same_rig_for_the_same_request() {
    use rig_core::autoskin::AutoSkinOptions;
    use rig_core::InfluenceLimit;
    use rig_pipeline::SkeletonSource;
    let dir = temp_dir("request");
    let input = common::samples().join("khronos_fox/Fox.glb");
    let (cli, worker) = (dir.join("cli.glb"), dir.join("worker.glb"));
    cli_rig(&input, &cli, &["--skin", "falloff", "--max-influences", "3", "--min-weight", "0.05"]);
    let skin = AutoSkinOptions { limit: InfluenceLimit::new(3, 0.05).expect("valid"), ..AutoSkinOptions::falloff() };
    worker_rig(&input, &worker, RigRequest::geometric(SkeletonSource::Generate(Default::default()), skin));
    assert!(std::fs::read(&cli).expect("cli output") == std::fs::read(&worker).expect("worker output"), "different files");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_request_with_a_tighter_limit_writes_fewer_influences() {
    let dir = temp_dir("limit");
    let input = common::samples().join("khronos_fox/Fox.glb");
    let out = dir.join("two.glb");
    cli_rig(&input, &out, &["--max-influences", "2", "--min-weight", "0.2"]);
    let rig = rig_io::load(&out).expect("reads").rig;
    assert!(rig.weights.max_influences() <= 2);
    for (_, w) in rig.weights.iter().filter(|(j, _)| j.len() > 1) {
        let total: f32 = w.iter().sum();
        assert!(w.iter().all(|&x| x >= 0.2 * total - 1e-6), "an influence under 20 % survived: {w:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Blender writes a baseline's vertices where the file's scene shows the mesh; under an armature
/// that turns it (three.js' SimpleSkinning) they are matched through the display transform.
#[test]
fn weights_given_where_the_scene_shows_the_mesh_are_matched() {
    let truth = rig_io::load(&common::samples().join("threejs_simpleskinning/SimpleSkinning.gltf")).expect("sample").rig;
    let display = truth.display_from_mesh();
    assert!((display - rig_core::Mat4::identity()).abs().max() > 0.1, "the sample's armature turns its mesh");
    let vertices: Vec<[f32; 3]> =
        truth.mesh.positions.iter().map(|p| display.transform_point(&nalgebra::Point3::from(*p)).coords.into()).collect();
    let weights: Vec<Vec<(String, f32)>> = (0..truth.mesh.vertex_count())
        .map(|v| {
            let (joints, ws) = truth.weights.row(v);
            joints.iter().zip(ws).map(|(&j, &w)| (truth.skeleton.joints[j as usize].name.clone(), w)).collect()
        })
        .collect();
    let path = temp_dir("shown").join("SimpleSkinning.weights.json");
    std::fs::write(&path, serde_json::json!({"vertices": vertices, "weights": weights}).to_string()).expect("write");
    let scores = rig_pipeline::eval::score_file(&truth, &path, 2);
    assert!(scores.note.is_empty(), "{}", scores.note);
    let skin = scores.skin.expect("skin compared");
    assert!(skin.precision > 0.999 && skin.recall > 0.999 && skin.l1 < 1e-3, "{skin:?}");
}

/// A generated skeleton keeps the placement the file's scene gave the mesh (three.js'
/// SimpleSkinning turns its mesh with its armature): the editor and other programs show the
/// rigged character where they showed the input, before and after writing it.
#[test]
fn a_generated_skeleton_shows_the_mesh_where_the_file_did() {
    use rig_pipeline::{apply, run_rig, Caches, SkeletonSource};
    let input = rig_io::load(&common::samples().join("threejs_simpleskinning/SimpleSkinning.gltf")).expect("sample").rig;
    let shown = input.display_from_mesh();
    assert!((shown - rig_core::Mat4::identity()).abs().max() > 0.1, "the sample's armature turns its mesh");
    let mut rig = input.clone();
    let request = RigRequest::geometric(SkeletonSource::Generate(Default::default()), Default::default());
    apply(&mut rig, run_rig(&input, 1, &request, &mut Caches::default(), rig_core::Task::silent()).expect("rigged"));
    rig.validate().expect("a valid rig");
    assert!((rig.display_from_mesh() - shown).abs().max() < 1e-4, "shown at {} instead of {shown}", rig.display_from_mesh());
    let out = temp_dir("placed").join("generated.glb");
    rig_io::save(&rig, &out, &rig_io::ExportOptions::default()).expect("export");
    let back = rig_io::load(&out).expect("read back").rig;
    let at = |r: &rig_core::Rig| -> Vec<nalgebra::Point3<f32>> {
        let m = r.display_from_mesh();
        r.mesh.positions.iter().map(|p| m.transform_point(&nalgebra::Point3::from(*p))).collect()
    };
    let worst = at(&input).iter().zip(at(&back)).map(|(p, q)| (p - q).norm()).fold(0.0f32, f32::max);
    assert!(worst < 1e-4 * input.mesh.bounds().map_or(1.0, |b| b.diagonal()), "moved by {worst}");
}
