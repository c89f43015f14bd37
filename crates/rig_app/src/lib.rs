//! Rigsmith's editor: a Bevy application with egui panels over a 3D viewport.
//!
//! Plugins, one concern each: [`document`] (the open rig, undo, loading), [`worker`] (the
//! generation thread), [`playback`] (the pose on screen), [`scene`] and [`rig_material`] (the
//! mesh, skinned on the GPU, with influence overlays), [`camera`], [`picking`] (select and drag
//! joints), [`gizmo`] (move and rotate handles on the selected joint), [`ghost`] (the target a solved clip reproduces), [`skeleton_view`], [`face`] (face rigs: the job, shape weights, test motion), [`ui`] (one egui panel per file), [`autosave`] / [`session`]
//! (recovery and session files), [`script`] and [`screenshot`] (scripted and headless runs).

pub mod autosave;
pub mod camera;
pub mod document;
pub mod face;
pub mod ghost;
pub mod gizmo;
pub mod gpu_bench;
pub mod history;
pub mod paint;
pub mod picking;
pub mod playback;
pub mod rig_material;
pub mod scene;
pub mod screenshot;
pub mod script;
pub mod session;
pub mod session_clips;
pub mod skeleton_view;
pub mod startup;
pub mod textures;
pub mod ui;
pub mod worker;

use std::path::PathBuf;

use bevy::prelude::*;
use bevy::window::WindowResolution;

/// What to do at start-up.
#[derive(Debug, Default, Clone)]
pub struct Launch {
    /// A file to open.
    pub file: Option<PathBuf>,
    /// Save a screenshot of the window here after `screenshot_after_frames` frames, then exit.
    pub screenshot: Option<PathBuf>,
    pub screenshot_after_frames: u32,
    /// Scripted steps (see [`script`]).
    pub steps: Vec<String>,
    /// Write each frame's duration here.
    pub frame_log: Option<PathBuf>,
}

/// The editor's logic without a window: usable under `MinimalPlugins` in tests (with the
/// `Mesh`, `Image`, `RigMaterial` and `ShaderBuffer` asset types registered).
pub struct EditorCorePlugin;

impl Plugin for EditorCorePlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins((document::DocumentPlugin, playback::PlaybackPlugin, scene::ScenePlugin, face::FacePlugin));
    }
}

/// Opens the editor window and runs until it is closed.
pub fn run(launch: Launch) -> AppExit {
    let mut app = App::new();
    app.add_plugins(DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window { title: "Rigsmith".into(), resolution: WindowResolution::new(1280, 800), ..default() }),
        ..default()
    }))
    .add_plugins(bevy_egui::EguiPlugin::default())
    .add_plugins(rig_material::RigMaterialPlugin)
    .add_plugins((
        EditorCorePlugin,
        autosave::AutosavePlugin,
        camera::CameraPlugin,
        picking::PickingPlugin,
        gizmo::GizmoPlugin,
        ghost::GhostPlugin,
        paint::PaintPlugin,
        skeleton_view::SkeletonViewPlugin,
        ui::UiPlugin,
    ));
    if !launch.steps.is_empty() || launch.frame_log.is_some() {
        app.add_plugins(script::ScriptPlugin { steps: launch.steps.clone(), frame_log: launch.frame_log.clone() });
    }
    if let Some(path) = launch.screenshot {
        app.add_plugins(screenshot::ScreenshotPlugin { path, after_frames: launch.screenshot_after_frames.max(1) });
    }
    if let Some(file) = launch.file {
        app.world_mut().write_message(document::OpenFile(file));
    }
    let exit = app.run();
    // A normal close leaves no recovery file behind.
    autosave::remove_recovery_file();
    exit
}
