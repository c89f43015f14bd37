//! `rigsmith rig --shard I/N` and `rigsmith merge-manifests`: four shards over a folder write
//! the same files as one run, and the merged manifest lists the same inputs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn rigsmith(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rigsmith")).args(args).current_dir(common::repo()).output().expect("runs")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rigsmith-batch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn rig(out: &Path, shard: Option<&str>) {
    let out_s = out.to_string_lossy();
    let mut args = vec!["rig", "--input", "assets/samples", "--output", &out_s];
    if let Some(s) = shard {
        args.extend(["--shard", s]);
    }
    let o = rigsmith(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn inputs(manifest: &Path) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(manifest).expect("manifest")).expect("json");
    let mut out: Vec<String> =
        v["entries"].as_array().expect("entries").iter().map(|e| e["input"].as_str().expect("input").to_string()).collect();
    out.sort();
    out
}

#[test]
fn four_shards_write_what_one_run_writes() {
    let (one, four) = (temp("one"), temp("four"));
    rig(&one, None);
    for i in 0..4 {
        rig(&four, Some(&format!("{i}/4")));
    }
    // Before the last shard's manifest exists the merge says which is missing.
    std::fs::rename(four.join("manifest-3-of-4.json"), four.join("held")).expect("move");
    let missing = rigsmith(&["merge-manifests", &four.to_string_lossy()]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("3/4"), "{}", String::from_utf8_lossy(&missing.stderr));
    std::fs::rename(four.join("held"), four.join("manifest-3-of-4.json")).expect("move back");
    let merged = rigsmith(&["merge-manifests", &four.to_string_lossy()]);
    assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));

    let files = rig_io::files_under(&one, &["glb"]);
    assert_eq!(files.len(), 7, "{files:?}");
    for f in &files {
        let other = four.join(f.strip_prefix(&one).expect("inside"));
        assert_eq!(std::fs::read(f).expect("one"), std::fs::read(&other).expect("four"), "{} differs", other.display());
    }
    assert_eq!(inputs(&one.join("manifest.json")), inputs(&four.join("manifest.json")));
    for d in [one, four] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn a_shard_out_of_range_is_refused() {
    let o = rigsmith(&["rig", "--input", "assets/samples", "--output", "/tmp/never", "--shard", "4/4"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("0 <= I < N"), "{err}");
}
