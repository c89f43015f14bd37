//! The joint hierarchy as a tree; clicking a joint selects it (shared with the viewport).

use bevy_egui::egui;
use rig_core::Skeleton;

use crate::document::Document;

pub fn show(ui: &mut egui::Ui, doc: &mut Document) {
    ui.heading("Skeleton");
    let Some(rig) = doc.rig.as_ref() else {
        ui.label("No rig open.");
        return;
    };
    let skeleton = rig.skeleton.clone();
    if skeleton.is_empty() {
        ui.label("No joints: generate a skeleton.");
        return;
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        for root in skeleton.roots().collect::<Vec<_>>() {
            joint_row(ui, &skeleton, root, &mut doc.selected_joint);
        }
    });
}

fn joint_row(ui: &mut egui::Ui, skeleton: &Skeleton, joint: usize, selected: &mut Option<usize>) {
    let name = &skeleton.joints[joint].name;
    let children: Vec<usize> = skeleton.children(joint).collect();
    let is_selected = *selected == Some(joint);
    if children.is_empty() {
        if ui.selectable_label(is_selected, name).clicked() {
            *selected = Some(joint);
        }
        return;
    }
    let id = ui.make_persistent_id(("joint", joint));
    egui::collapsing_header::CollapsingState::load_with_default_open(ui.ctx(), id, true)
        .show_header(ui, |ui| {
            if ui.selectable_label(is_selected, name).clicked() {
                *selected = Some(joint);
            }
        })
        .body(|ui| {
            for c in children {
                joint_row(ui, skeleton, c, selected);
            }
        });
}
