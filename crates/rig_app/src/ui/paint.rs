//! The Paint panel: brush mode, radius and strength, and the lock on the selected joint.

use bevy_egui::egui;
use rig_core::paint::BrushMode;

use crate::document::Document;
use crate::paint::PaintSettings;

pub fn show(ui: &mut egui::Ui, doc: &Document, settings: &mut PaintSettings) {
    ui.heading("Paint weights");
    ui.checkbox(&mut settings.enabled, "Paint (left-drag on the mesh paints the selected joint)");
    ui.horizontal(|ui| {
        for (mode, name) in
            [(BrushMode::Add, "add"), (BrushMode::Subtract, "subtract"), (BrushMode::Smooth, "smooth"), (BrushMode::Normalize, "normalise")]
        {
            ui.radio_value(&mut settings.mode, mode, name);
        }
    });
    ui.add(egui::Slider::new(&mut settings.radius, 0.005..=0.3).text("radius (x diagonal)"));
    ui.add(egui::Slider::new(&mut settings.strength, 0.01..=1.0).text("strength"));
    let Some(name) = doc.selected_joint.and_then(|j| Some(doc.rig.as_ref()?.skeleton.joints.get(j)?.name.clone())) else {
        return;
    };
    let mut locked = settings.locked.contains(&name);
    if ui.checkbox(&mut locked, format!("lock {name}'s weights")).changed() {
        if locked {
            settings.locked.insert(name);
        } else {
            settings.locked.remove(&name);
        }
    }
    if !settings.locked.is_empty() {
        ui.small(format!("locked: {}", settings.locked.iter().cloned().collect::<Vec<_>>().join(", ")));
    }
}
