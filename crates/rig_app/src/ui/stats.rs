//! Mesh statistics and import warnings of the open file.

use bevy_egui::egui;

use crate::document::Document;

pub fn show(ui: &mut egui::Ui, doc: &Document) {
    ui.heading("Mesh");
    if doc.rig.is_none() {
        ui.label("Open a glTF, GLB, OBJ or FBX file.");
        return;
    }
    let s = &doc.stats;
    let rows = [
        ("vertices", s.vertices.to_string()),
        ("triangles", s.triangles.to_string()),
        ("parts", s.parts.to_string()),
        ("joints", s.joints.to_string()),
        ("size", format!("{:.3} x {:.3} x {:.3}", s.size[0], s.size[1], s.size[2])),
    ];
    egui::Grid::new("stats").num_columns(2).show(ui, |ui| {
        for (name, value) in rows {
            ui.label(name);
            ui.label(value);
            ui.end_row();
        }
    });
    if let Some(j) = doc.selected_joint.and_then(|j| doc.rig.as_ref()?.skeleton.joints.get(j)) {
        ui.separator();
        ui.label(format!("selected: {}", j.name));
    }
    if !doc.warnings.is_empty() {
        ui.separator();
        ui.label(format!("{} import warnings", doc.warnings.len()));
        for w in doc.warnings.iter().take(8) {
            ui.small(w);
        }
    }
}
