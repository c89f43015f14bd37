//! The menu bar: File > Open (a native dialog), the open file's name.

use std::path::PathBuf;

use bevy::prelude::*;
use bevy_egui::egui;

use crate::document::{Document, OpenFile};

/// The formats the editor opens, for the file dialog.
const EXTENSIONS: [&str; 5] = ["glb", "gltf", "obj", "fbx", "txt"];

/// A native "open" dialog (blocks until the user picks or cancels).
pub fn pick_file() -> Option<PathBuf> {
    rfd::FileDialog::new().add_filter("Meshes and rigs", &EXTENSIONS).pick_file()
}

pub fn show(ui: &mut egui::Ui, doc: &mut Document, open: &mut MessageWriter<OpenFile>) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui.button("Open...  (Ctrl+O)").clicked() {
                if let Some(path) = pick_file() {
                    open.write(OpenFile(path));
                }
                ui.close();
            }
        });
        let title = doc
            .path
            .as_ref()
            .and_then(|p| p.file_name())
            .map_or("no file: drop one here or use File > Open".to_string(), |n| n.to_string_lossy().to_string());
        ui.label(title);
    });
    if let Some(error) = doc.error.clone() {
        ui.horizontal(|ui| {
            ui.colored_label(egui::Color32::from_rgb(230, 90, 80), error);
            if ui.small_button("dismiss").clicked() {
                doc.error = None;
            }
        });
    }
}
