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
    egui::Grid::new("stats").num_columns(2).show(ui, |ui| {
        ui.label("vertices");
        ui.label(s.vertices.to_string());
        ui.end_row();
        ui.label("triangles");
        ui.label(s.triangles.to_string());
        ui.end_row();
        ui.label("parts");
        ui.label(s.parts.to_string());
        ui.end_row();
        ui.label("joints");
        ui.label(s.joints.to_string());
        ui.end_row();
        ui.label("size");
        ui.label(format!("{:.3} x {:.3} x {:.3}", s.size[0], s.size[1], s.size[2]));
        ui.end_row();
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
