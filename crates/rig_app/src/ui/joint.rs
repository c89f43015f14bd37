//! The joint inspector: position (typed or dragged numbers), name, and the edits on the
//! selected joint: add a child, split its bone, re-parent, delete, mirror left to right.

use bevy_egui::egui;
use rig_core::edit;

use crate::document::Document;
use crate::gizmo::GizmoMode;

/// Text being typed into the name field, kept between frames.
#[derive(Default)]
pub struct JointForm {
    joint: Option<usize>,
    name: String,
    reparent_to: Option<usize>,
}

pub fn show(ui: &mut egui::Ui, doc: &mut Document, form: &mut JointForm, gizmo: &mut GizmoMode) {
    ui.heading("Joint");
    ui.horizontal(|ui| {
        ui.label("gizmo");
        ui.radio_value(gizmo, GizmoMode::Move, "move (T)").on_hover_text("Arrows: drag one to slide the joint along that axis (bind pose)");
        ui.radio_value(gizmo, GizmoMode::Rotate, "rotate (E)")
            .on_hover_text("Rings: drag one to turn the joint about that axis (pose mode; reset pose on the timeline)");
    });
    let Some(j) = doc.selected_joint else {
        ui.label("Select a joint in the tree or the viewport.");
        mirror_button(ui, doc);
        return;
    };
    let Some(skeleton) = doc.rig.as_ref().map(|r| r.skeleton.clone()) else { return };
    if form.joint != Some(j) {
        *form = JointForm { joint: Some(j), name: skeleton.joints[j].name.clone(), reparent_to: skeleton.joints[j].parent };
    }
    let name = skeleton.joints[j].name.clone();
    let own_parent = skeleton.joints[j].parent;
    let mut p = edit::bind_position(&skeleton, j);
    let diag = doc.stats.diagonal().max(1e-3);
    ui.horizontal(|ui| {
        ui.label("name");
        let r = ui.text_edit_singleline(&mut form.name);
        if r.lost_focus() && form.name != name {
            doc.edit_skeleton(&format!("Rename {name}"), false, |rig| edit::rename(rig, j, &form.name));
        }
    });
    ui.horizontal(|ui| {
        let mut changed = false;
        let mut dragging = false;
        for (k, axis) in ["x", "y", "z"].iter().enumerate() {
            ui.label(*axis);
            let r = ui.add(egui::DragValue::new(&mut p[k]).speed(diag * 0.002).max_decimals(4));
            changed |= r.changed();
            dragging |= r.dragged() && !r.drag_started();
        }
        if changed {
            doc.edit_skeleton(&format!("Move {name}"), dragging, |rig| edit::move_joint(rig, j, p));
        }
    });
    ui.horizontal(|ui| {
        if ui.button("Add child").clicked() {
            let parent = own_parent.map(|q| edit::bind_position(&skeleton, q));
            let offset = parent.map_or([0.0, diag * 0.05, 0.0], |q| std::array::from_fn(|k| (p[k] - q[k]) * 0.5));
            let at = std::array::from_fn(|k| p[k] + offset[k]);
            let child_name = edit::unique_name(&skeleton, &format!("{name}_child"));
            if let Some(c) = doc.edit_skeleton(&format!("Add child of {name}"), false, |rig| edit::add_child(rig, j, at, &child_name)) {
                doc.selected_joint = Some(c);
            }
        }
        if ui.button("Split bone").clicked() {
            if let Some(m) = doc.edit_skeleton(&format!("Split {name}"), false, |rig| edit::split_bone(rig, j)) {
                doc.selected_joint = Some(m);
            }
        }
        if ui.button("Delete").clicked() && doc.edit_skeleton(&format!("Delete {name}"), false, |rig| edit::delete_joint(rig, j)).is_some()
        {
            doc.selected_joint = own_parent.map(|q| if q > j { q - 1 } else { q });
        }
    });
    reparent_row(ui, doc, form, j);
    mirror_button(ui, doc);
}

fn reparent_row(ui: &mut egui::Ui, doc: &mut Document, form: &mut JointForm, j: usize) {
    let Some(rig) = doc.rig.as_ref() else { return };
    let names: Vec<String> = rig.skeleton.joints.iter().map(|x| x.name.clone()).collect();
    let allowed: Vec<usize> = (0..names.len()).filter(|&k| !rig.skeleton.is_descendant(k, j)).collect();
    let current = rig.skeleton.joints[j].parent;
    ui.horizontal(|ui| {
        ui.label("parent");
        let shown = form.reparent_to.map_or("(none)".to_string(), |p| names[p].clone());
        egui::ComboBox::from_id_salt("reparent").selected_text(shown).show_ui(ui, |ui| {
            for &k in &allowed {
                ui.selectable_value(&mut form.reparent_to, Some(k), &names[k]);
            }
        });
        if form.reparent_to != current {
            if let Some(p) = form.reparent_to {
                reparent(doc, j, p);
                form.joint = None;
            }
        }
    });
}

/// Makes `parent` the parent of `joint` (one undo step) and keeps `joint` selected (the
/// skeleton is re-ordered parents first, so indices change).
pub(super) fn reparent(doc: &mut Document, joint: usize, parent: usize) {
    let Some(rig) = doc.rig.as_ref() else { return };
    let (name, parent_name) = (rig.skeleton.joints[joint].name.clone(), rig.skeleton.joints[parent].name.clone());
    if doc.edit_skeleton(&format!("Re-parent {name}"), false, |rig| edit::reparent(rig, joint, parent)).is_some() {
        doc.selected_joint = doc.rig.as_ref().and_then(|r| r.skeleton.find(&name));
        doc.status = Some(format!("{name} is now a child of {parent_name}"));
    }
}

fn mirror_button(ui: &mut egui::Ui, doc: &mut Document) {
    if ui
        .button("Mirror left to right")
        .on_hover_text("Right-side joints (_r, .R, Right) take the mirror image of their left twin across x = 0")
        .clicked()
    {
        let moved = doc.edit_skeleton("Mirror left to right", false, |rig| Ok::<usize, String>(edit::mirror_left_to_right(rig, 0.0)));
        if let Some(n) = moved {
            doc.status = Some(format!("Mirrored {n} joints"));
        }
    }
}
