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

#[test]
fn rig_use_skeleton_then_eval() {
    let dir = std::env::temp_dir().join(format!("rigsmith-rig-{}", std::process::id()));
    let out = dir.join("fox.glb");
    let r = rigsmith(&["rig", "--input", "assets/samples/khronos_fox/Fox.glb", "--output", out.to_str().expect("utf8"), "--use-skeleton"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let rig = rig_io::load(&out).expect("output loads").rig;
    assert_eq!(rig.unweighted_skinned_vertices(), 0);
    assert_eq!(rig.clips.len(), 3, "the file's clips are kept");
    let e = rigsmith(&["eval", "--pred", out.to_str().expect("utf8"), "--truth", "assets/samples/khronos_fox/Fox.glb", "--json"]);
    assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
    let v: serde_json::Value = serde_json::from_slice(&e.stdout).expect("json");
    let p = v["mean"]["rigsmith"]["precision"].as_f64().expect("precision");
    assert!(p > 0.5, "{v}");
    assert_eq!(v["mean"]["rigsmith"]["cd_j2j"].as_f64(), Some(0.0), "same skeleton");
}

#[test]
fn rig_use_skeleton_without_a_skeleton_says_what_to_do() {
    let r = rigsmith(&["rig", "--input", "assets/samples/rignet/RiggedFigure.obj", "--output", "/tmp/x.glb", "--use-skeleton"]);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--use-skeleton"));
}

#[test]
fn rig_a_bare_obj_generates_skeleton_and_skin() {
    let out = std::env::temp_dir().join(format!("rigsmith-gen-{}.glb", std::process::id()));
    let r = rigsmith(&["rig", "--input", "assets/samples/rignet/RiggedFigure.obj", "--output", out.to_str().expect("utf8")]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let rig = rig_io::load(&out).expect("output loads").rig;
    assert!(rig.skeleton.len() >= 5, "{} joints", rig.skeleton.len());
    assert_eq!(rig.unweighted_skinned_vertices(), 0);
    let truth = rig_io::load(&common::samples().join("rignet/RiggedFigure_rig.txt")).expect("truth").rig;
    let bounds = truth.mesh.bounds().expect("bounds");
    let cd = rig_core::metrics::skeleton_scores(&rig.skeleton, &truth.skeleton, &bounds);
    assert!(cd.cd_j2j < 8.0, "CD-J2J {}", cd.cd_j2j);
}

#[test]
fn train_generator_refine_writes_rewards_and_weights() {
    let dir = std::env::temp_dir().join(format!("rigsmith-refine-{}", std::process::id()));
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    for f in ["skin_tokenizer.json", "skin_tokenizer.mpk", "rig_generator.json", "rig_generator.mpk"] {
        std::fs::copy(common::repo().join("models").join(f), models.join(f)).unwrap();
    }
    let shipped = std::fs::read(models.join("rig_generator.mpk")).unwrap();
    let run = dir.join("run");
    let (run_s, models_s) = (run.to_string_lossy().into_owned(), models.to_string_lossy().into_owned());
    let out = rigsmith(&[
        "train",
        "generator",
        "--data",
        "assets/samples/khronos_fox/Fox.glb",
        "--data",
        "assets/samples/kenney_mini_character/player.glb",
        "--validation-every",
        "2",
        "--refine",
        "1",
        "--group",
        "2",
        "--lr",
        "1e-3",
        "--run",
        &run_s,
        "--out",
        &models_s,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let csv = std::fs::read_to_string(run.join("refine.csv")).expect("refine.csv");
    assert_eq!(csv.lines().count(), 2, "header and one epoch: {csv}");
    assert!(csv.lines().nth(1).unwrap().split(',').skip(1).all(|x| x.parse::<f32>().is_ok_and(f32::is_finite)), "{csv}");
    assert_ne!(std::fs::read(models.join("rig_generator.mpk")).unwrap(), shipped, "refined weights written");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn train_tokenizer_with_a_presence_head_then_tokenize_with_it() {
    let dir = std::env::temp_dir().join(format!("rigsmith-presence-{}", std::process::id()));
    let (run, models) = (dir.join("run"), dir.join("models"));
    let (run_s, models_s) = (run.to_string_lossy().into_owned(), models.to_string_lossy().into_owned());
    let fox = "assets/samples/khronos_fox/Fox.glb";
    let common_args = ["train", "tokenizer", "--data", fox, "--data", "assets/samples/kenney_mini_character/player.glb"];
    let mut args: Vec<&str> = common_args.to_vec();
    args.extend(["--validation-every", "2", "--epochs", "1", "--presence-weight", "0.3", "--points", "32", "--queries", "64"]);
    args.extend(["--decoder-width", "16", "--encoder-width", "8", "--run", &run_s, "--out", &models_s]);
    let out = rigsmith(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let config = std::fs::read_to_string(models.join("skin_tokenizer.json")).expect("config written");
    assert!(config.contains("\"presence\": true") && config.contains("\"encoder_width\": 8"), "{config}");
    let out = rigsmith(&["tokenize", "--input", fox, "--model", &models_s, "--min-presence", "0.7"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("mean of 1"), "{text}{}", String::from_utf8_lossy(&out.stderr));
    if !cfg!(feature = "cuda") {
        let mut args: Vec<&str> = common_args.to_vec();
        args.extend(["--backend", "cuda", "--run", &run_s]);
        let out = rigsmith(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("--features cuda"), "{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn tokenize_refines_the_tokens_and_scores_each_threshold() {
    let fox = "assets/samples/khronos_fox/Fox.glb";
    let args = ["tokenize", "--input", fox, "--min-weight", "0.1", "0.05", "--json", "--refine-steps"];
    let run = |steps: &str| {
        let out = rigsmith(&[&args[..], &[steps]].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let by = v[0]["by_min_weight"].as_array().expect("one score per threshold").clone();
        assert_eq!(by.len(), 2);
        assert_eq!(by[0]["tokens"], v[0]["tokens"], "the first threshold is the table's");
        let l1 = |i: usize| by[i]["tokens"]["l1"].as_f64().expect("l1");
        assert!((0.0..2.0).contains(&l1(0)) && (0.0..2.0).contains(&l1(1)));
        let recall = |i: usize| by[i]["tokens"]["recall"].as_f64().expect("recall");
        assert!(recall(1) >= recall(0), "a lower threshold keeps more influences");
        let reach = &v[0]["reachable"];
        let share = |i: usize| reach["over_min_weight"][i]["share"].as_f64().expect("share");
        let in_slots = reach["in_slots"].as_f64().expect("in_slots");
        assert!(share(0) <= share(1) && share(1) <= in_slots && in_slots <= 1.0 && share(0) > 0.5, "{reach}");
        assert!(recall(1) <= in_slots + 1e-6, "no recall beyond the bones that compete at each vertex");
        l1(0)
    };
    let (plain, refined) = (run("0"), run("20"));
    assert!(refined < plain, "20 refinement steps should bring the fox's skin closer to the artist's ({plain} -> {refined})");
}

#[test]
fn learned_skin_keeps_more_influences_at_a_lower_presence_threshold() {
    let dir = std::env::temp_dir().join(format!("rigsmith-presence-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let fox = "assets/samples/khronos_fox/Fox.glb";
    let recall = |presence: &str| {
        let out = dir.join(format!("fox-{presence}.glb"));
        let o = out.to_str().expect("utf8");
        let args = [
            "rig",
            "--input",
            fox,
            "--output",
            o,
            "--use-skeleton",
            "--method",
            "learned",
            "--min-weight",
            "0",
            "--min-presence",
            presence,
        ];
        let r = rigsmith(&args);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let e = rigsmith(&["eval", "--pred", o, "--truth", fox, "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&e.stdout).expect("json");
        v["mean"]["rigsmith"]["recall"].as_f64().expect("recall")
    };
    let (strict, loose) = (recall("0.9"), recall("0.05"));
    assert!(loose > strict, "bones the presence head doubts come back at a lower threshold ({strict} -> {loose})");
    let unused = dir.join("never.glb");
    let r = rigsmith(&["rig", "--input", fox, "--output", unused.to_str().expect("utf8"), "--method", "learned", "--min-presence", "1.5"]);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--min-presence"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A file whose animation moves a node that is not a joint (an empty beside the rig): Rigsmith
/// cannot keep that channel, so writing the rig is refused until --force, which says what is
/// left out.
#[test]
fn writing_what_would_drop_an_animation_channel_needs_force() {
    let dir = std::env::temp_dir().join(format!("rigsmith-losses-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let base = std::fs::read_to_string(common::repo().join("tests/bad_input/valid_base.gltf")).expect("base file");
    let mut doc: serde_json::Value = serde_json::from_str(&base).expect("json");
    // An empty node in the scene, and key times 0 and 1 and two translations for it.
    let marker = doc["nodes"].as_array().map_or(0, Vec::len);
    doc["nodes"].as_array_mut().expect("nodes").push(serde_json::json!({"name": "marker"}));
    doc["scenes"][0]["nodes"].as_array_mut().expect("scene").push(serde_json::json!(marker));
    let floats = [0.0f32, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0];
    std::fs::write(dir.join("anim.bin"), floats.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>()).expect("bin");
    let accessors = doc["accessors"].as_array().map_or(0, Vec::len);
    let views = doc["bufferViews"].as_array().map_or(0, Vec::len);
    doc["buffers"].as_array_mut().expect("buffers").push(serde_json::json!({"byteLength": 32, "uri": "anim.bin"}));
    let buffer = doc["buffers"].as_array().map_or(0, Vec::len) - 1;
    doc["bufferViews"].as_array_mut().expect("views").extend([
        serde_json::json!({"buffer": buffer, "byteOffset": 0, "byteLength": 8}),
        serde_json::json!({"buffer": buffer, "byteOffset": 8, "byteLength": 24}),
    ]);
    doc["accessors"].as_array_mut().expect("accessors").extend([
        serde_json::json!({"bufferView": views, "componentType": 5126, "count": 2, "type": "SCALAR", "min": [0.0], "max": [1.0]}),
        serde_json::json!({"bufferView": views + 1, "componentType": 5126, "count": 2, "type": "VEC3"}),
    ]);
    doc["animations"] = serde_json::json!([{
        "name": "slide",
        "samplers": [{"input": accessors, "output": accessors + 1}],
        "channels": [{"sampler": 0, "target": {"node": marker, "path": "translation"}}]
    }]);
    let input = dir.join("anim.gltf");
    std::fs::write(&input, serde_json::to_string(&doc).expect("json")).expect("gltf");
    let (input, out) = (input.to_str().expect("utf8"), dir.join("out.glb"));
    let out_s = out.to_str().expect("utf8");

    let refused = rigsmith(&["convert", input, out_s]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(err.contains("neither joints nor meshes") && err.contains("--force"), "{err}");
    assert!(!out.exists(), "nothing is written when refused");
    let rigged = rigsmith(&["rig", "--input", input, "--output", out_s, "--use-skeleton"]);
    assert_eq!(rigged.status.code(), Some(1), "{}", String::from_utf8_lossy(&rigged.stderr));
    assert!(!out.exists(), "nothing is written when refused");

    let forced = rigsmith(&["convert", input, out_s, "--force"]);
    let err = String::from_utf8_lossy(&forced.stderr);
    assert!(forced.status.success(), "{err}");
    assert!(err.contains("leaves out") && err.contains("neither joints nor meshes"), "{err}");
    assert!(rig_io::load(&out).is_ok());
}

#[test]
fn train_joint_pruner_writes_a_pruner_that_rig_learned_uses() {
    let dir = std::env::temp_dir().join(format!("rigsmith-pruner-{}", std::process::id()));
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    let shipped = common::repo().join("models");
    for entry in std::fs::read_dir(&shipped).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_file() && !name.starts_with("joint_pruner") {
            std::fs::copy(entry.path(), models.join(&name)).unwrap();
        }
    }
    let models_s = models.to_string_lossy().into_owned();
    let data = ["assets/samples/khronos_fox/Fox.glb", "assets/samples/kenney_mini_character/player.glb"];
    let out = rigsmith(&["train", "joint-pruner", "--data", data[0], "--data", data[1], "--epochs", "3", "--out", &models_s]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(models.join("joint_pruner.mpk").exists() && models.join("joint_pruner.json").exists());
    let rigged = dir.join("fox.glb");
    let r = rigsmith(&["rig", "--input", data[0], "--output", rigged.to_str().unwrap(), "--method", "learned", "--model", &models_s]);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{stderr}");
    assert!(stderr.contains("pruned by the joint pruner"), "{stderr}");
    let rig = rig_io::load(&rigged).expect("output loads").rig;
    assert_eq!(rig.skeleton.roots().count(), 1);
    assert_eq!(rig.unweighted_skinned_vertices(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
