//! egui panels, one per file: the menu bar, the joint hierarchy, the mesh statistics. The
//! space they leave is the 3D viewport (`camera::FreeViewport`).

mod hierarchy;
mod menu;
mod stats;

use bevy::prelude::*;
use bevy::window::FileDragAndDrop;
use bevy_egui::{egui, EguiContexts, EguiPrimaryContextPass};

use crate::camera::FreeViewport;
use crate::document::{Document, OpenFile};

pub struct UiPlugin;

impl Plugin for UiPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(EguiPrimaryContextPass, panels).add_systems(Update, (open_dropped_files, open_shortcut));
    }
}

fn panels(
    mut contexts: EguiContexts,
    mut doc: ResMut<Document>,
    mut free: ResMut<FreeViewport>,
    mut open: MessageWriter<OpenFile>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let mut root = egui::Ui::new(
        ctx.clone(),
        "rigsmith_root".into(),
        egui::UiBuilder::new().layer_id(egui::LayerId::background()).max_rect(ctx.viewport_rect()),
    );
    egui::Panel::top("menu").show(&mut root, |ui| menu::show(ui, &mut doc, &mut open));
    egui::Panel::left("hierarchy").resizable(true).default_size(240.0).show(&mut root, |ui| hierarchy::show(ui, &mut doc));
    egui::Panel::right("stats").resizable(true).default_size(240.0).show(&mut root, |ui| stats::show(ui, &doc));
    let rect = root.available_rect_before_wrap();
    free.min = Vec2::new(rect.min.x, rect.min.y);
    free.max = Vec2::new(rect.max.x, rect.max.y);
    Ok(())
}

fn open_dropped_files(mut dropped: MessageReader<FileDragAndDrop>, mut open: MessageWriter<OpenFile>) {
    for event in dropped.read() {
        if let FileDragAndDrop::DroppedFile { path_buf, .. } = event {
            open.write(OpenFile(path_buf.clone()));
        }
    }
}

fn open_shortcut(keys: Res<ButtonInput<KeyCode>>, mut open: MessageWriter<OpenFile>) {
    let ctrl = keys.pressed(KeyCode::ControlLeft) || keys.pressed(KeyCode::ControlRight);
    if ctrl && keys.just_pressed(KeyCode::KeyO) {
        if let Some(path) = menu::pick_file() {
            open.write(OpenFile(path));
        }
    }
}
