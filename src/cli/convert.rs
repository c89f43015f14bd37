//! `rigsmith convert IN OUT`

use std::path::PathBuf;

use anyhow::Context;
use rig_core::InfluenceLimit;

#[derive(clap::Args)]
pub struct Args {
    /// The file to read (.glb, .gltf, .vrm, .obj, or a RigNet NAME_rig.txt).
    input: PathBuf,
    /// The file to write (.glb or .gltf; a .gltf gets a .bin beside it).
    output: PathBuf,
    /// Keep at most this many influences per vertex (renormalised); default keeps all.
    #[arg(long)]
    max_influences: Option<usize>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let imported = rig_io::load(&a.input).with_context(|| format!("{}", a.input.display()))?;
    for w in &imported.warnings {
        eprintln!("warning: {w}");
    }
    let limit = a.max_influences.map(InfluenceLimit::max).transpose().map_err(|e| anyhow::anyhow!("--max-influences: {e}"))?;
    let options = rig_io::ExportOptions { limit };
    let warnings = rig_io::save(&imported.rig, &a.output, &options).with_context(|| format!("{}", a.output.display()))?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    eprintln!("wrote {}", a.output.display());
    Ok(())
}
