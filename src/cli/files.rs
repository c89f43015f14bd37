//! Progress bars over files (finding and pairing them is the pipeline's), `--preset`.

/// A progress bar for `len` files: bar, count, elapsed time, current file.
pub fn progress_bar(len: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    let style = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}");
    bar.set_style(style.unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
    bar
}

/// Refuses to write `output` when it would lose data of `input` (`losses`: what the rig did
/// not keep from the file and what the output format cannot hold), unless `force`; with
/// `force`, says what is left out.
pub fn check_losses(input: &std::path::Path, output: &std::path::Path, losses: &[String], force: bool) -> anyhow::Result<()> {
    if losses.is_empty() {
        return Ok(());
    }
    let list: String = losses.iter().map(|l| format!("\n  - {}", l.strip_prefix(rig_io::NOT_KEPT).unwrap_or(l))).collect();
    if force {
        eprintln!("warning: {} leaves out, from {}:{list}", output.display(), input.display());
        return Ok(());
    }
    anyhow::bail!(
        "{} would leave out what Rigsmith cannot carry over from {}:{list}\nWrite it anyway with --force.",
        output.display(),
        input.display()
    )
}

/// `--preset`: the joint names a rig is written with.
#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum PresetArg {
    /// As generated (Unreal mannequin names without a root) or as the file has them.
    Generated,
    /// mixamorig:Hips, mixamorig:LeftArm, ...
    Mixamo,
    /// root, pelvis, spine_01, upperarm_l, ...
    Unreal,
    /// Unity Humanoid's Hips, LeftUpperArm, ...
    Unity,
    /// VRM 1.0's hips, leftUpperArm, ... (a .vrm output also carries the VRMC_vrm humanoid)
    Vrm,
}

impl From<PresetArg> for rig_core::naming::Preset {
    fn from(p: PresetArg) -> Self {
        use rig_core::naming::Preset;
        match p {
            PresetArg::Generated => Preset::Generated,
            PresetArg::Mixamo => Preset::Mixamo,
            PresetArg::Unreal => Preset::Unreal,
            PresetArg::Unity => Preset::Unity,
            PresetArg::Vrm => Preset::Vrm,
        }
    }
}

/// Renames `rig`'s joints for `preset` and says what it found, renamed and could not name
/// (Generated keeps the names and says nothing).
pub fn apply_preset(rig: &mut rig_core::Rig, preset: PresetArg, file: &std::path::Path) {
    if preset == PresetArg::Generated {
        return;
    }
    let preset = rig_core::naming::Preset::from(preset);
    let before = rig_core::naming::recognise(&rig.skeleton);
    let r = rig_core::naming::apply_to_rig(rig, preset);
    let was = before.map_or("no known convention".to_string(), |p| format!("{} names", p.label()));
    eprintln!("note: {}: {} joints renamed for {} (the skeleton had {was})", file.display(), r.renamed, preset.label());
    if !r.unmapped.is_empty() {
        eprintln!("note: {} has no name for these deforming joints (kept): {}", preset.label(), r.unmapped.join(", "));
    }
    if !r.missing.is_empty() {
        eprintln!("warning: no joint took {}'s {}", preset.label(), r.missing.join(", "));
    }
}

/// `--rest-pose`: the pose a biped is bound in.
#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum RestPoseArg {
    /// Bound as it is.
    Keep,
    /// Arms level and straight (Mixamo's and VRM's rest pose).
    T,
    /// Arms straight, 45 degrees down (Unreal's mannequin).
    A,
}

/// Re-poses the arms into `pose` and binds there, saying how the arms moved; an error when the
/// rig has no biped's arms or is not bound at rest.
pub fn apply_rest_pose(rig: &mut rig_core::Rig, pose: RestPoseArg, file: &std::path::Path) -> anyhow::Result<()> {
    use rig_core::repose::{bind_in_rest_pose, RestPose};
    let pose = match pose {
        RestPoseArg::Keep => return Ok(()),
        RestPoseArg::T => RestPose::T,
        RestPoseArg::A => RestPose::A,
    };
    let changes = bind_in_rest_pose(rig, pose).map_err(|e| anyhow::anyhow!("{}: --rest-pose: {e}", file.display()))?;
    let arms: Vec<String> = changes
        .iter()
        .map(|c| {
            format!(
                "{} arm {:.0} -> {:.0} degrees below level, elbow bent {:.0} -> {:.0}",
                c.side, c.before_degrees, c.after_degrees, c.elbow_before_degrees, c.elbow_after_degrees
            )
        })
        .collect();
    eprintln!("note: {}: bound in {} ({})", file.display(), pose.label(), arms.join("; "));
    Ok(())
}
