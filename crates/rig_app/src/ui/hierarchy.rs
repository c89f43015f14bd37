//! The joint hierarchy as a tree; clicking a joint selects it (shared with the viewport), and
//! dragging a joint onto another makes that one its parent (one undo step; a drop onto the
//! joint's own subtree is refused, the target is outlined only where the drop is allowed).

use bevy_egui::egui;
use rig_core::Skeleton;

use crate::document::Document;

/// The drag-and-drop payload: the joint being dragged.
struct DraggedJoint(usize);

/// What the tree asks for this frame.
#[derive(Default)]
struct TreeEvents {
    select: Option<usize>,
    /// (joint, new parent)
    reparent: Option<(usize, usize)>,
}

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
    ui.weak("Click a joint to select it; drag it onto another to re-parent it.");
    let mut events = TreeEvents::default();
    egui::ScrollArea::vertical().show(ui, |ui| {
        for root in skeleton.roots().collect::<Vec<_>>() {
            joint_row(ui, &skeleton, root, doc.selected_joint, &mut events);
        }
    });
    if let Some(j) = events.select {
        doc.selected_joint = Some(j);
    }
    if let Some((joint, parent)) = events.reparent {
        super::joint::reparent(doc, joint, parent);
    }
}

/// Whether `joint` may become a child of `parent`: not onto itself, its subtree or its parent.
fn can_drop(skeleton: &Skeleton, joint: usize, parent: usize) -> bool {
    !skeleton.is_descendant(parent, joint) && skeleton.joints[joint].parent != Some(parent)
}

fn joint_row(ui: &mut egui::Ui, skeleton: &Skeleton, joint: usize, selected: Option<usize>, events: &mut TreeEvents) {
    let children: Vec<usize> = skeleton.children(joint).collect();
    if children.is_empty() {
        joint_label(ui, skeleton, joint, selected, events);
        return;
    }
    let id = ui.make_persistent_id(("joint", joint));
    egui::collapsing_header::CollapsingState::load_with_default_open(ui.ctx(), id, true)
        .show_header(ui, |ui| joint_label(ui, skeleton, joint, selected, events))
        .body(|ui| {
            for c in children {
                joint_row(ui, skeleton, c, selected, events);
            }
        });
}

/// A joint's name: a selectable label that a click selects, and that a drag (once the pointer
/// has moved past egui's click threshold) carries onto another joint to re-parent it.
fn joint_label(ui: &mut egui::Ui, skeleton: &Skeleton, joint: usize, selected: Option<usize>, events: &mut TreeEvents) {
    let name = &skeleton.joints[joint].name;
    let response = ui.selectable_label(selected == Some(joint), name).interact(egui::Sense::click_and_drag());
    if response.clicked() {
        events.select = Some(joint);
    }
    response.dnd_set_drag_payload(DraggedJoint(joint));
    let droppable = |d: &DraggedJoint| can_drop(skeleton, d.0, joint);
    if response.dnd_hover_payload::<DraggedJoint>().is_some_and(|d| droppable(&d)) {
        let stroke = egui::Stroke::new(1.5, ui.visuals().selection.stroke.color);
        ui.painter().rect_stroke(response.rect, 2.0, stroke, egui::StrokeKind::Outside);
    }
    if let Some(d) = response.dnd_release_payload::<DraggedJoint>().filter(|d| droppable(d)) {
        events.reparent = Some((d.0, joint));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rig_core::skeleton::Joint;
    use rig_core::transform::Trs;
    use rig_core::Mat4;

    #[test]
    fn a_joint_drops_only_outside_its_own_subtree() {
        let joint = |name: &str, parent| Joint {
            name: name.into(),
            parent,
            rest_local: Trs::default(),
            joint_from_mesh: Mat4::identity(),
            deform: true,
            in_skin: true,
        };
        // root -> spine -> head, root -> leg
        let s = Skeleton {
            joints: vec![joint("root", None), joint("spine", Some(0)), joint("head", Some(1)), joint("leg", Some(0))],
            ..Default::default()
        };
        assert!(can_drop(&s, 2, 3), "head under leg");
        assert!(can_drop(&s, 3, 1), "leg under spine");
        assert!(!can_drop(&s, 1, 2), "spine under its own child");
        assert!(!can_drop(&s, 1, 1), "onto itself");
        assert!(!can_drop(&s, 2, 1), "already its parent");
        assert!(!can_drop(&s, 0, 3), "root under a descendant");
    }
}
