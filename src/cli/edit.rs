//! `rigsmith edit [FILE]` (and `rigsmith` with no subcommand): the editor window.

use std::path::PathBuf;

#[derive(clap::Args, Default)]
pub struct Args {
    /// A mesh or rig to open (glTF, GLB, OBJ, FBX).
    file: Option<PathBuf>,
    /// Save a PNG of the window after --frames frames, then exit (for headless checks).
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// Frames to draw before the screenshot.
    #[arg(long, default_value_t = 60)]
    frames: u32,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if let Some(file) = &a.file {
        anyhow::ensure!(file.exists(), "{}: no such file", file.display());
    }
    let launch = rig_app::Launch { file: a.file, screenshot: a.screenshot, screenshot_after_frames: a.frames };
    match rig_app::run(launch) {
        bevy_exit if bevy_exit.is_success() => Ok(()),
        other => anyhow::bail!("the editor stopped with {other:?}"),
    }
}
