//! `rigsmith convert IN OUT`

use std::path::PathBuf;

use anyhow::Context;
use rig_core::InfluenceLimit;

#[derive(clap::Args)]
pub struct Args {
    /// The file to read (.glb, .gltf, .vrm, .fbx, .obj, or a RigNet NAME_rig.txt).
    input: PathBuf,
    /// The file to write (.glb, .gltf or .fbx; a .gltf gets a .bin beside it).
    output: PathBuf,
    /// Keep at most this many influences per vertex (renormalised); default keeps all.
    #[arg(long)]
    max_influences: Option<usize>,
    /// Write the output even when it cannot hold everything the input has (what is left out
    /// is listed); without it such a conversion is refused.
    #[arg(long)]
    force: bool,
    /// Rename the joints for this convention (the file's own is recognised and said).
    #[arg(long, value_enum)]
    preset: Option<super::files::PresetArg>,
    /// Re-pose a biped's arms and bind there: t (level, Mixamo and VRM) or a (45 degrees
    /// down, Unreal); the mesh follows by the rig's own skinning and clips play unchanged.
    #[arg(long, value_enum, default_value = "keep")]
    rest_pose: super::files::RestPoseArg,
    /// A .vrm output's author, as VRM's meta names it (repeat for several).
    #[arg(long = "author", value_name = "NAME")]
    authors: Vec<String>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let imported = rig_io::load(&a.input).with_context(|| format!("{}", a.input.display()))?;
    for w in imported.warnings.iter().filter(|w| !w.starts_with(rig_io::NOT_KEPT)) {
        eprintln!("warning: {w}");
    }
    let losses: Vec<String> =
        imported.losses().into_iter().map(String::from).chain(rig_io::export_losses(&imported.rig, &a.output)).collect();
    super::files::check_losses(&a.input, &a.output, &losses, a.force)?;
    let limit = a.max_influences.map(InfluenceLimit::max).transpose().map_err(|e| anyhow::anyhow!("--max-influences: {e}"))?;
    let options = rig_io::ExportOptions { limit, vrm_authors: a.authors.clone(), ..Default::default() };
    let mut rig = imported.rig;
    super::files::apply_rest_pose(&mut rig, a.rest_pose, &a.input)?;
    if let Some(preset) = a.preset {
        super::files::apply_preset(&mut rig, preset, &a.input);
    }
    let warnings = rig_io::save(&rig, &a.output, &options).with_context(|| format!("{}", a.output.display()))?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    eprintln!("wrote {}", a.output.display());
    Ok(())
}
