//! The menu bar: File (open, sessions, export), Edit (undo, redo), View (overlays), the open
//! file's name, the status line and the last error.

use std::path::{Path, PathBuf};

use bevy::prelude::*;
use bevy_egui::egui;
use rig_core::InfluenceLimit;

use crate::document::{Document, OpenFile};
use crate::rig_material::{Overlay, ViewSettings};
use crate::session::Session;

/// The formats the editor opens, for the file dialog.
const EXTENSIONS: [&str; 5] = ["glb", "gltf", "obj", "fbx", "txt"];
/// Session files.
pub const SESSION_EXTENSION: &str = "rsession";

/// A native "open" dialog (blocks until the user picks or cancels).
pub fn pick_file() -> Option<PathBuf> {
    rfd::FileDialog::new().add_filter("Meshes and rigs", &EXTENSIONS).pick_file()
}

/// Writes the rig to `path` (.glb, .gltf or .fbx by extension) through the influence limit
/// (the one `rigsmith rig` applies), keeping the original materials and scale.
pub fn export(doc: &mut Document, path: &Path, limit: InfluenceLimit) -> bool {
    let Some(rig) = doc.rig.as_ref() else { return false };
    match rig_io::save(rig, path, &rig_io::ExportOptions { limit: Some(limit) }) {
        Ok(notes) => {
            doc.status = Some(format!(
                "Exported {}{}",
                path.display(),
                if notes.is_empty() { String::new() } else { format!(" ({} notes)", notes.len()) }
            ));
            doc.warnings.extend(notes);
            true
        }
        Err(e) => {
            doc.error = Some(format!("Export failed, nothing was written: {e}"));
            false
        }
    }
}

/// Saves the session (source path + edited rig) to `path`.
pub fn save_session(doc: &mut Document, path: &Path) -> bool {
    let (Some(rig), Some(source)) = (doc.rig.as_ref(), doc.path.as_ref()) else { return false };
    match Session::of(rig, source, doc.selected_joint).save(path) {
        Ok(()) => {
            doc.dirty = false;
            doc.status = Some(format!("Saved session {}", path.display()));
            true
        }
        Err(e) => {
            doc.error = Some(format!("Could not save the session: {e}"));
            false
        }
    }
}

/// Opens a session file: re-reads its source and applies its edits.
pub fn open_session(doc: &mut Document, path: &Path) -> bool {
    match Session::load(path).and_then(|s| Ok((s.restore()?, s))) {
        Ok((rig, session)) => {
            doc.set_rig(rig, Some(session.source.clone()));
            doc.selected_joint = session.selected_joint.filter(|&j| j < doc.stats.joints);
            doc.status = Some(format!("Opened session {}", path.display()));
            true
        }
        Err(e) => {
            doc.error = Some(format!("Could not open the session {}: {e}", path.display()));
            false
        }
    }
}

pub fn show(ui: &mut egui::Ui, doc: &mut Document, open: &mut MessageWriter<OpenFile>, view: &mut ViewSettings, limit: InfluenceLimit) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| file_menu(ui, doc, open, limit));
        ui.menu_button("Edit", |ui| {
            let undo = doc.history.undo_label().map_or("Undo".to_string(), |l| format!("Undo {l}  (Ctrl+Z)"));
            if ui.add_enabled(doc.history.undo_label().is_some(), egui::Button::new(undo)).clicked() {
                doc.undo();
                ui.close();
            }
            let redo = doc.history.redo_label().map_or("Redo".to_string(), |l| format!("Redo {l}  (Ctrl+Shift+Z)"));
            if ui.add_enabled(doc.history.redo_label().is_some(), egui::Button::new(redo)).clicked() {
                doc.redo();
                ui.close();
            }
        });
        ui.menu_button("View", |ui| {
            ui.radio_value(&mut view.overlay, Overlay::Shaded, "Shaded (1)");
            ui.radio_value(&mut view.overlay, Overlay::Heat, "Selected joint's weights (2)");
            ui.radio_value(&mut view.overlay, Overlay::Bones, "All joints' colours (3)");
            ui.checkbox(&mut view.show_skeleton, "Skeleton");
            ui.checkbox(&mut view.show_grid, "Grid and axes");
            ui.checkbox(&mut view.xray, "X-ray (see-through mesh)  (X)");
            ui.checkbox(&mut view.wireframe, "Wireframe (triangle edges)  (W)");
        });
        let title = doc
            .path
            .as_ref()
            .and_then(|p| p.file_name())
            .map_or("no file: drop one here or use File > Open".to_string(), |n| n.to_string_lossy().to_string());
        ui.label(if doc.dirty { format!("{title} *") } else { title });
        if let Some(status) = &doc.status {
            ui.weak(status);
        }
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

fn file_menu(ui: &mut egui::Ui, doc: &mut Document, open: &mut MessageWriter<OpenFile>, limit: InfluenceLimit) {
    if ui.button("Open...  (Ctrl+O)").clicked() {
        if let Some(path) = pick_file() {
            open.write(OpenFile(path));
        }
        ui.close();
    }
    if ui.button("Open session...").clicked() {
        if let Some(path) = rfd::FileDialog::new().add_filter("Rigsmith session", &[SESSION_EXTENSION]).pick_file() {
            open_session(doc, &path);
        }
        ui.close();
    }
    let has_source = doc.rig.is_some() && doc.path.is_some();
    if ui.add_enabled(has_source, egui::Button::new("Save session...  (Ctrl+S)")).clicked() {
        if let Some(path) = rfd::FileDialog::new().add_filter("Rigsmith session", &[SESSION_EXTENSION]).save_file() {
            save_session(doc, &path.with_extension(SESSION_EXTENSION));
        }
        ui.close();
    }
    if ui.add_enabled(doc.rig.is_some(), egui::Button::new("Export glTF / GLB / FBX...  (Ctrl+E)")).clicked() {
        export_dialog(doc, limit);
        ui.close();
    }
    ui.weak(limit_note(limit));
}

/// The influence limit an export applies, as the File menu shows it.
pub fn limit_note(limit: InfluenceLimit) -> String {
    format!(
        "Export keeps at most {} influences per vertex, each at least {:.0} % of its vertex (Generate panel: influences)",
        limit.max_influences,
        limit.min_weight * 100.0
    )
}

/// The export dialog: a native save dialog filtered to the formats Rigsmith writes.
pub fn export_dialog(doc: &mut Document, limit: InfluenceLimit) {
    let stem = doc.path.as_ref().and_then(|p| p.file_stem()).map_or("rig".to_string(), |s| format!("{}_rigged", s.to_string_lossy()));
    if let Some(path) = rfd::FileDialog::new()
        .add_filter("glTF binary", &["glb"])
        .add_filter("glTF", &["gltf"])
        .add_filter("FBX", &["fbx"])
        .set_file_name(format!("{stem}.glb"))
        .save_file()
    {
        export(doc, &path, limit);
    }
}
