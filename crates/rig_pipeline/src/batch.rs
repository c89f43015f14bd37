//! Batch jobs split across machines: a deterministic shard of a folder or list of inputs, a
//! manifest per shard (input, output, figures, error), and the merge that joins the shards'
//! manifests into one and says which shard or file is missing or failed.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// `I/N`: shard `index` (from 0) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Reads `I/N` (0 <= I < N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || {
            format!("--shard {text:?}: expected I/N with 0 <= I < N, e.g. 0/4 (Slurm's $SLURM_ARRAY_TASK_ID, Kubernetes' $JOB_COMPLETION_INDEX)")
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (i.trim().parse::<usize>().map_err(|_| bad())?, n.trim().parse::<usize>().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The inputs this shard takes: every `count`-th of the sorted list from `index` (sizes
    /// alternate over the sorted names, so shards take similar shares of large files).
    pub fn take<T: Clone>(&self, sorted: &[T]) -> Vec<T> {
        sorted.iter().skip(self.index).step_by(self.count).cloned().collect()
    }

    /// The manifest file this shard writes in the output folder.
    pub fn manifest_name(&self) -> String {
        if *self == Shard::WHOLE {
            "manifest.json".into()
        } else {
            format!("manifest-{}-of-{}.json", self.index, self.count)
        }
    }
}

/// The inputs of a folder (recursively) or of a list file (one path per line, relative to the
/// list's folder; `#` starts a comment), each with its output key (path without extension).
pub fn batch_inputs(input: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    if input.is_dir() {
        let files = crate::files::inputs_in(input);
        return Ok(files.iter().map(|f| (f.clone(), crate::files::key(input, f))).collect());
    }
    let text = std::fs::read_to_string(input).map_err(|e| format!("cannot read the list {}: {e}", input.display()))?;
    let base = input.parent().unwrap_or(Path::new("."));
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let path = Path::new(line);
        let key = if path.is_absolute() { path.file_stem().map(PathBuf::from).unwrap_or_default() } else { path.with_extension("") };
        let key = key.to_string_lossy().replace('\\', "/");
        if key.is_empty() || key.split('/').any(|c| c == "..") {
            return Err(format!("{} line {}: {line:?} names no file inside the list's folder", input.display(), n + 1));
        }
        out.push((base.join(path), key));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    if let Some(w) = out.windows(2).find(|w| w[0].1 == w[1].1) {
        return Err(format!("{}: two inputs would write {}.glb ({} and {})", input.display(), w[0].1, w[0].0.display(), w[1].0.display()));
    }
    Ok(out)
}

/// One input's line in a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub input: PathBuf,
    pub output: PathBuf,
    pub seconds: f64,
    /// Figures of the written rig (vertices, joints, ...), or why it failed.
    pub result: Result<Value, String>,
}

impl Entry {
    fn to_json(&self) -> Value {
        let mut v = json!({"input": self.input, "output": self.output, "seconds": self.seconds});
        match &self.result {
            Ok(figures) => v["figures"] = figures.clone(),
            Err(e) => v["error"] = Value::String(e.clone()),
        }
        v
    }
}

/// Writes a shard's manifest into `dir` (atomically) and returns its path.
pub fn write_manifest(dir: &Path, shard: Shard, total_inputs: usize, entries: &[Entry]) -> Result<PathBuf, String> {
    let path = dir.join(shard.manifest_name());
    let value = json!({
        "shard": {"index": shard.index, "count": shard.count},
        "inputs_in_all_shards": total_inputs,
        "failed": entries.iter().filter(|e| e.result.is_err()).count(),
        "entries": entries.iter().map(Entry::to_json).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    rig_io::write_atomic(&path, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// What joining the shards' manifests found.
#[derive(Debug, Clone)]
pub struct Merged {
    pub path: PathBuf,
    pub entries: usize,
    pub failed: Vec<String>,
}

/// Joins `dir`'s `manifest-I-of-N.json` files into `manifest.json`. Refused, naming them, when
/// a shard's manifest is missing, shards disagree on N, or an input appears twice.
pub fn merge_manifests(dir: &Path) -> Result<Merged, String> {
    let mut shards: Vec<(usize, usize, Value)> = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some((i, n)) = name.strip_prefix("manifest-").and_then(|r| r.strip_suffix(".json")).and_then(|r| r.split_once("-of-")) else {
            continue;
        };
        let (Ok(i), Ok(n)) = (i.parse::<usize>(), n.parse::<usize>()) else { continue };
        let text = std::fs::read_to_string(e.path()).map_err(|err| format!("{name}: {err}"))?;
        let value: Value = serde_json::from_str(&text).map_err(|err| format!("{name}: {err} (rerun that shard)"))?;
        shards.push((i, n, value));
    }
    let Some(&(_, count, _)) = shards.first() else {
        return Err(format!("{} holds no manifest-I-of-N.json (run rigsmith rig --shard I/N there first)", dir.display()));
    };
    if let Some((i, n, _)) = shards.iter().find(|s| s.1 != count) {
        return Err(format!("manifest-{i}-of-{n}.json was split {n} ways, the others {count} ways"));
    }
    let missing: Vec<String> = (0..count).filter(|i| !shards.iter().any(|s| s.0 == *i)).map(|i| format!("{i}/{count}")).collect();
    if !missing.is_empty() {
        return Err(format!("shards {} have not written their manifests (rerun them)", missing.join(", ")));
    }
    shards.sort_by_key(|s| s.0);
    let mut entries: Vec<Value> = shards.iter().flat_map(|s| s.2["entries"].as_array().cloned().unwrap_or_default()).collect();
    entries.sort_by(|a, b| a["input"].as_str().cmp(&b["input"].as_str()));
    if let Some(w) = entries.windows(2).find(|w| w[0]["input"] == w[1]["input"]) {
        return Err(format!("{} is in two shards' manifests", w[0]["input"]));
    }
    let expected = shards[0].2["inputs_in_all_shards"].as_u64().unwrap_or(0) as usize;
    if expected != entries.len() {
        return Err(format!(
            "the shards list {} inputs, their first run saw {expected} (did the folder change between shards?)",
            entries.len()
        ));
    }
    let failed: Vec<String> =
        entries.iter().filter(|e| e.get("error").is_some()).map(|e| format!("{}: {}", e["input"], e["error"])).collect();
    let merged = json!({"shards": count, "failed": failed.len(), "entries": entries});
    let path = dir.join("manifest.json");
    let text = serde_json::to_string_pretty(&merged).map_err(|e| e.to_string())?;
    rig_io::write_atomic(&path, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Merged { path, entries: entries.len(), failed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_input_once() {
        let inputs: Vec<usize> = (0..11).collect();
        let mut all: Vec<usize> = (0..4).flat_map(|i| Shard { index: i, count: 4 }.take(&inputs)).collect();
        all.sort();
        assert_eq!(all, inputs);
        assert_eq!(Shard::parse("3/4"), Ok(Shard { index: 3, count: 4 }));
        for bad in ["4/4", "1/0", "x/2", "2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
