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
    /// A scripted step, run in order once the file is open (repeatable): generate, reskin,
    /// rig-from-motion CLIP BONES, targets PATH, match-targets [nearest] [all] [scales] [smooth W] [clip NAME],
    /// select NAME (or #INDEX), overlay shaded|heat|bones|error, skeleton on|off, grid on|off, xray on|off,
    /// wireframe on|off, ghost on|off, gizmo move|rotate, pose NAME RX RY RZ, move NAME X Y Z, nudge NAME DX DY DZ,
    /// motion bind|flex|walk|clip:N, time SECONDS, play, wait FRAMES, sleep MS, undo, redo, rest-pose t|a (bind in a T- or A-pose), retarget FILE (its
    /// clips onto the rig; the first plays), export FILE,
    /// save-session FILE, recover, screenshot PNG, quit; `cancel-after MS` presses Cancel
    /// on the running job after MS milliseconds (it does not wait for the job).
    #[arg(long = "do", value_name = "STEP")]
    steps: Vec<String>,
    /// Write each frame's duration (ms) and whether a job was running to this file.
    #[arg(long)]
    frame_log: Option<PathBuf>,
}

impl Args {
    /// The editor on `file`, nothing scripted.
    pub fn with_file(file: Option<PathBuf>) -> Args {
        Args { file, ..Args::default() }
    }
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if let Some(file) = &a.file {
        anyhow::ensure!(file.exists(), "{}: no such file", file.display());
    }
    rig_app::startup::check_display().map_err(anyhow::Error::msg)?;
    rig_app::startup::exit_cleanly_on_startup_failures();
    let launch = rig_app::Launch {
        file: a.file,
        screenshot: a.screenshot,
        screenshot_after_frames: a.frames,
        steps: a.steps,
        frame_log: a.frame_log,
    };
    match rig_app::run(launch) {
        bevy_exit if bevy_exit.is_success() => Ok(()),
        other => anyhow::bail!("the editor stopped with {other:?} (a scripted step failed, or the window could not run)"),
    }
}
