//! `rigsmith merge-manifests DIR`: joins the manifests the shards of `rigsmith rig --shard` wrote.

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The output folder the shards wrote into (holding manifest-I-of-N.json).
    dir: PathBuf,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let merged = rig_pipeline::batch::merge_manifests(&a.dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("{} inputs -> {}", merged.entries, merged.path.display());
    if !merged.failed.is_empty() {
        anyhow::bail!("{} inputs failed:\n  {}", merged.failed.len(), merged.failed.join("\n  "));
    }
    Ok(())
}
