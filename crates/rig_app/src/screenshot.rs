//! Capture the window after a number of frames, save it as PNG and exit (headless checks).

use std::path::PathBuf;

use bevy::prelude::*;
use bevy::render::view::screenshot::{save_to_disk, Screenshot, ScreenshotCaptured};

pub struct ScreenshotPlugin {
    pub path: PathBuf,
    pub after_frames: u32,
}

#[derive(Resource)]
struct Plan {
    path: PathBuf,
    after_frames: u32,
    frame: u32,
}

impl Plugin for ScreenshotPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Plan { path: self.path.clone(), after_frames: self.after_frames, frame: 0 })
            .add_systems(Update, capture_when_due);
    }
}

fn capture_when_due(mut plan: ResMut<Plan>, mut commands: Commands) {
    plan.frame += 1;
    if plan.frame != plan.after_frames {
        return;
    }
    commands.spawn(Screenshot::primary_window()).observe(save_to_disk(plan.path.clone())).observe(
        |_: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| {
            exit.write(AppExit::Success);
        },
    );
}
