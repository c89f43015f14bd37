//! Rigsmith's editor: a Bevy application with egui panels over a 3D viewport.
//!
//! Plugins, one concern each: [`document`] (the open rig and loading it), [`scene`] (the rig's
//! meshes as Bevy entities), [`camera`] (orbit, pan, zoom, frame), [`skeleton_view`] (bones and
//! joints drawn over the mesh), [`ui`] (one egui panel per file) and [`screenshot`] (capture a
//! frame and exit, for headless checks).

pub mod camera;
pub mod document;
pub mod scene;
pub mod screenshot;
pub mod skeleton_view;
pub mod ui;

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
}

/// The editor's logic without a window: usable under `MinimalPlugins` in tests.
pub struct EditorCorePlugin;

impl Plugin for EditorCorePlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins((document::DocumentPlugin, scene::ScenePlugin));
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
    .add_plugins((EditorCorePlugin, camera::CameraPlugin, skeleton_view::SkeletonViewPlugin, ui::UiPlugin));
    if let Some(path) = launch.screenshot {
        app.add_plugins(screenshot::ScreenshotPlugin { path, after_frames: launch.screenshot_after_frames.max(1) });
    }
    if let Some(file) = launch.file {
        app.world_mut().write_message(document::OpenFile(file));
    }
    app.run()
}
