//! `rigsmith retarget --clip SOURCE --rig TARGET --output OUT`: another file's clips on a rig.

use std::path::PathBuf;

use anyhow::{bail, Context};
use rig_core::retarget::PathError;
use rig_pipeline::retarget::{retarget_clips, RetargetMethod, RetargetReport, RetargetSettings};

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Method {
    /// Facing matched, each bone turned from the rig's rest pose onto the source's, hips'
    /// travel scaled by hip height.
    Corrected,
    /// The source's channels copied onto the paired joints as they are (for comparison).
    Copy,
}

#[derive(clap::Args)]
pub struct Args {
    /// The file whose clips are played (.glb, .gltf, .vrm, .fbx).
    #[arg(long)]
    clip: PathBuf,
    /// The rigged character that plays them.
    #[arg(long)]
    rig: PathBuf,
    /// The rig with the clips added (.glb, .gltf or .fbx).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Only the clip of this name (repeat for several; default: every clip).
    #[arg(long = "name")]
    names: Vec<String>,
    /// Drop the rig's own clips instead of keeping them beside the new ones.
    #[arg(long)]
    replace: bool,
    #[arg(long, value_enum, default_value = "corrected")]
    method: Method,
    /// Write the output even when it cannot hold everything the rig's file has.
    #[arg(long)]
    force: bool,
    /// Print the pairs and figures as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if a.output.is_none() && !a.json {
        bail!("nothing to do: give --output OUT.glb to write the rig with the clips, or --json to print the figures");
    }
    let source = rig_io::load(&a.clip).with_context(|| format!("{}", a.clip.display()))?;
    let target = rig_io::load(&a.rig).with_context(|| format!("{}", a.rig.display()))?;
    for w in target.warnings.iter().filter(|w| !w.starts_with(rig_io::NOT_KEPT)) {
        eprintln!("warning: {}: {w}", a.rig.display());
    }
    let method = match a.method {
        Method::Corrected => RetargetMethod::Corrected,
        Method::Copy => RetargetMethod::Copy,
    };
    let settings = RetargetSettings { clips: a.names.clone(), method };
    let (clips, report) = retarget_clips(&source.rig, &target.rig, &settings).map_err(|e| anyhow::anyhow!("{e}"))?;
    print_report(&report, a.json);
    let Some(output) = &a.output else { return Ok(()) };
    let kept_losses: Vec<String> = target.losses().into_iter().map(String::from).collect();
    let mut rig = target.rig;
    if a.replace {
        rig.clips.clear();
    }
    rig.clips.extend(clips);
    let losses: Vec<String> = kept_losses.into_iter().chain(rig_io::export_losses(&rig, output)).collect();
    super::files::check_losses(&a.rig, output, &losses, a.force)?;
    let warnings = rig_io::save(&rig, output, &rig_io::ExportOptions::default()).with_context(|| format!("{}", output.display()))?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    eprintln!("wrote {} ({} clips)", output.display(), rig.clips.len());
    Ok(())
}

fn print_report(r: &RetargetReport, json: bool) {
    if json {
        let pair = |e: &Option<PathError>| {
            e.as_ref().map(|e| serde_json::json!({"mean": e.mean, "max": e.max, "limb_mean": e.limb_mean, "limb_max": e.limb_max}))
        };
        let clips: Vec<serde_json::Value> = r
            .clips
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name, "written_as": c.written_as, "duration_secs": c.duration_secs,
                    "path_error_percent": pair(&c.error), "copy_path_error_percent": pair(&c.copy_error),
                })
            })
            .collect();
        let value = serde_json::json!({
            "pairs": r.pairs, "unpaired": r.unpaired, "effectors": r.effectors,
            "morph_channels_left_out": r.morph_channels_left_out, "clips": clips,
        });
        println!("{value:#}");
        return;
    }
    eprintln!("{} joints paired (target <- source)", r.pairs.len());
    if !r.unpaired.is_empty() {
        eprintln!("note: animated source joints that drive nothing: {}", r.unpaired.join(", "));
    }
    if r.morph_channels_left_out > 0 {
        eprintln!("note: {} morph-target channels left out (the rig's meshes are not the source's)", r.morph_channels_left_out);
    }
    eprintln!(
        "end-effector path error ({}), mean / max: % of height from the ground under the hips; % of limb length from the limb's root",
        r.effectors.join(", ")
    );
    let height = |e: &Option<PathError>| e.as_ref().map_or("-".to_string(), |e| format!("{:.2} / {:.2}", e.mean, e.max));
    let limb = |e: &Option<PathError>| e.as_ref().map_or("-".to_string(), |e| format!("{:.2} / {:.2}", e.limb_mean, e.limb_max));
    eprintln!("  {:<32} {:>15} {:>15} {:>15} {:>15}", "clip", "height: written", "plain copy", "limb: written", "plain copy");
    for c in &r.clips {
        eprintln!(
            "  {:<32} {:>15} {:>15} {:>15} {:>15}",
            c.written_as,
            height(&c.error),
            height(&c.copy_error),
            limb(&c.error),
            limb(&c.copy_error)
        );
    }
}
