//! The menu bar: File (open, sessions, export), Edit (undo, redo), View (overlays), the open
//! file's name, the status line and the last error.

use std::path::Path;

use bevy::prelude::*;
use bevy_egui::egui;
use rig_core::InfluenceLimit;

use super::dialogs::{Dialogs, Purpose};
use crate::document::{Document, OpenFile};
use crate::rig_material::{Overlay, ViewSettings};
use crate::session::Session;

/// Session files.
pub const SESSION_EXTENSION: &str = "rsession";

/// Opens the dialog for `purpose` and acts on the path when the desktop's dialog answers at
/// once (the in-window browser answers later, through [`act_on_path`] from the panels).
pub fn ask(purpose: Purpose, dialogs: &mut Dialogs, doc: &mut Document, open: &mut MessageWriter<OpenFile>, limit: InfluenceLimit) {
    if let Some(path) = dialogs.request(purpose, &suggested_name(purpose, doc)) {
        act_on_path(purpose, &path, doc, open, limit);
    }
}

/// The file name a save dialog starts with: the open file's name with `_rigged.glb` for an
/// export, with the session extension for a session.
pub fn suggested_name(purpose: Purpose, doc: &Document) -> String {
    match purpose {
        Purpose::Export => {
            doc.path.as_ref().and_then(|p| p.file_stem()).map_or("rig.glb".to_string(), |s| format!("{}_rigged.glb", s.to_string_lossy()))
        }
        Purpose::SaveSession => {
            doc.path.as_ref().and_then(|p| p.file_stem()).map_or("rig".to_string(), |s| s.to_string_lossy().into_owned())
                + "."
                + SESSION_EXTENSION
        }
        Purpose::OpenRig | Purpose::OpenSession | Purpose::OpenTargets | Purpose::OpenTargetFolder | Purpose::RetargetFrom => String::new(),
    }
}

/// Does what a dialog was opened for with the path the user picked.
pub fn act_on_path(purpose: Purpose, path: &Path, doc: &mut Document, open: &mut MessageWriter<OpenFile>, limit: InfluenceLimit) {
    match purpose {
        Purpose::OpenRig => {
            open.write(OpenFile(path.to_path_buf()));
        }
        Purpose::OpenSession => {
            open_session(doc, path);
        }
        Purpose::SaveSession => {
            save_session(doc, &path.with_extension(SESSION_EXTENSION));
        }
        Purpose::Export => {
            export(doc, path, limit);
        }
        Purpose::OpenTargets | Purpose::OpenTargetFolder => {
            doc.status = Some(format!("Targets: {} (Match targets solves them on the open rig)", path.display()));
            doc.targets = Some(path.to_path_buf());
        }
        Purpose::RetargetFrom => {
            retarget_from(doc, path);
        }
    }
}

/// File > Retarget clips: another character's clips played on the open rig, added to its
/// clips as one undo step (as `rigsmith retarget` writes them). Returns the first new clip.
pub fn retarget_from(doc: &mut Document, path: &Path) -> Option<usize> {
    use rig_pipeline::retarget::{retarget_clips, RetargetSettings};
    let source = match rig_io::load(path) {
        Ok(imported) => imported.rig,
        Err(e) => {
            doc.error = Some(format!("Retarget clips: cannot read {}: {e}", path.display()));
            return None;
        }
    };
    let first = doc.rig.as_ref()?.clips.len();
    let report = doc.edit("Retarget clips", |rig| -> Result<_, String> {
        let (clips, report) = retarget_clips(&source, rig, &RetargetSettings::default())?;
        rig.clips.extend(clips);
        Ok(report)
    })?;
    let errors: Vec<f32> = report.clips.iter().filter_map(|c| c.error.as_ref().map(|e| e.limb_mean)).collect();
    let mean = errors.iter().sum::<f32>() / errors.len().max(1) as f32;
    doc.status = Some(format!(
        "Retargeted {} clips from {} ({} joints paired; hands, feet and head {mean:.1} % of limb length from the source's pose on average)",
        report.clips.len(),
        path.display(),
        report.pairs.len()
    ));
    if !report.unpaired.is_empty() {
        doc.warnings.push(format!("Retarget clips: these animated joints of the source drive nothing: {}", report.unpaired.join(", ")));
    }
    Some(first)
}

/// Re-poses the arms into `pose` and binds there, one undo step; says how the arms moved or why
/// it cannot.
pub fn bind_in(doc: &mut Document, pose: rig_core::repose::RestPose) -> bool {
    let label = format!("Bind in {}", pose.label());
    let Some(changes) = doc.edit_mesh(&label, |rig| rig_core::repose::bind_in_rest_pose(rig, pose)) else { return false };
    let arms: Vec<String> =
        changes.iter().map(|c| format!("{} arm {:.0} -> {:.0} degrees below level", c.side, c.before_degrees, c.after_degrees)).collect();
    doc.status = Some(format!("Bound in {} ({})", pose.label(), arms.join(", ")));
    true
}

/// Writes the rig to `path` (.glb, .gltf or .fbx by extension) through the influence limit
/// (the one `rigsmith rig` applies), keeping the original materials and scale.
pub fn export(doc: &mut Document, path: &Path, limit: InfluenceLimit) -> bool {
    let Some(rig) = doc.rig.as_ref() else { return false };
    let mut renamed = None;
    let rig = match doc.export_names {
        rig_core::naming::Preset::Generated => std::borrow::Cow::Borrowed(rig),
        preset => {
            let mut copy = rig.clone();
            renamed = Some(rig_core::naming::apply_to_rig(&mut copy, preset));
            std::borrow::Cow::Owned(copy)
        }
    };
    match rig_io::save(&rig, path, &rig_io::ExportOptions { limit: Some(limit), ..Default::default() }) {
        Ok(mut notes) => {
            if let Some(r) = renamed.filter(|r| !r.unmapped.is_empty() || !r.missing.is_empty()) {
                let preset = doc.export_names.label();
                notes.push(format!(
                    "{preset} names: kept {} (no {preset} name); none took {}",
                    r.unmapped.join(", "),
                    r.missing.join(", ")
                ));
            }
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
    match Session::of(rig, source, doc.selected_joint).with_geometry(rig, doc.mesh_edited).save(path) {
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
            doc.mesh_edited = session.geometry.is_some();
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

pub fn show(
    ui: &mut egui::Ui,
    doc: &mut Document,
    dialogs: &mut Dialogs,
    open: &mut MessageWriter<OpenFile>,
    view: &mut ViewSettings,
    limit: InfluenceLimit,
) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| file_menu(ui, doc, dialogs, open, limit));
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
            ui.separator();
            let rigged = doc.rig.as_ref().is_some_and(|r| !r.skeleton.is_empty());
            for pose in [rig_core::repose::RestPose::T, rig_core::repose::RestPose::A] {
                let hint = "Arms straight, level (T) or 45 degrees down (A); the mesh follows by the skin and the rig is bound there";
                if ui.add_enabled(rigged, egui::Button::new(format!("Bind in {}", pose.label()))).on_hover_text(hint).clicked() {
                    bind_in(doc, pose);
                    ui.close();
                }
            }
        });
        ui.menu_button("View", |ui| {
            ui.radio_value(&mut view.overlay, Overlay::Shaded, "Shaded (1)");
            ui.radio_value(&mut view.overlay, Overlay::Heat, "Selected joint's weights (2)");
            ui.radio_value(&mut view.overlay, Overlay::Bones, "All joints' colours (3)");
            ui.add_enabled_ui(doc.clip_input.is_some(), |ui| {
                ui.radio_value(&mut view.overlay, Overlay::Error, "Error against the input at this frame (4)")
                    .on_disabled_hover_text("after Rig from motion or Match targets: each vertex's distance from the input frame");
            });
            ui.checkbox(&mut view.show_skeleton, "Skeleton");
            ui.checkbox(&mut view.show_grid, "Grid and axes");
            ui.checkbox(&mut view.xray, "X-ray (see-through mesh)  (X)");
            ui.checkbox(&mut view.wireframe, "Wireframe (triangle edges)  (W)");
            ui.checkbox(&mut view.show_ghost, "Target ghost (the input a solved clip plays)  (G)");
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

fn file_menu(ui: &mut egui::Ui, doc: &mut Document, dialogs: &mut Dialogs, open: &mut MessageWriter<OpenFile>, limit: InfluenceLimit) {
    let mut clicked = None;
    if ui.button("Open...  (Ctrl+O)").clicked() {
        clicked = Some(Purpose::OpenRig);
    }
    if ui.button("Open session...").clicked() {
        clicked = Some(Purpose::OpenSession);
    }
    let has_source = doc.rig.is_some() && doc.path.is_some();
    if ui.add_enabled(has_source, egui::Button::new("Save session...  (Ctrl+S)")).clicked() {
        clicked = Some(Purpose::SaveSession);
    }
    if ui.add_enabled(doc.rig.is_some(), egui::Button::new("Export glTF / GLB / FBX...  (Ctrl+E)")).clicked() {
        clicked = Some(Purpose::Export);
    }
    ui.horizontal(|ui| {
        ui.label("Joint names on export:");
        egui::ComboBox::from_id_salt("export_names").selected_text(doc.export_names.label()).show_ui(ui, |ui| {
            for p in rig_core::naming::Preset::ALL {
                ui.selectable_value(&mut doc.export_names, p, p.label());
            }
        });
    });
    let rigged = doc.rig.as_ref().is_some_and(|r| !r.skeleton.is_empty());
    let retarget = egui::Button::new("Retarget clips from file...");
    if ui.add_enabled(rigged, retarget).on_hover_text("Another character's clips played on this rig (joints paired by name)").clicked() {
        clicked = Some(Purpose::RetargetFrom);
    }
    ui.weak(limit_note(limit));
    if let Some(reason) = dialogs.builtin_reason() {
        ui.weak(format!("File dialogs: Rigsmith's file browser ({reason})"));
    }
    if let Some(purpose) = clicked {
        ui.close();
        ask(purpose, dialogs, doc, open, limit);
    }
}

/// The influence limit an export applies, as the File menu shows it.
pub fn limit_note(limit: InfluenceLimit) -> String {
    format!(
        "Export keeps at most {} influences per vertex, each at least {:.0} % of its vertex (Generate panel: influences)",
        limit.max_influences,
        limit.min_weight * 100.0
    )
}
