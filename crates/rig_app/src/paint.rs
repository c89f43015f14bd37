//! Weight painting in the viewport: with Paint on, dragging over the mesh with the left button
//! applies the brush (`rig_core::paint`) to the selected joint at the point under the cursor,
//! every frame; one stroke is one undo step. Painting works in the bind pose, where the stored
//! mesh is.

use std::collections::BTreeSet;

use bevy::prelude::*;
use bevy_egui::input::egui_wants_any_pointer_input;
use rig_core::paint::{self, Brush, BrushMode};

use crate::document::Document;
use crate::picking::{cursor_ray, first_hit, mesh_ray, JointDrag};
use crate::playback::{Motion, Playback, PosedJoints};
use crate::rig_material::{Overlay, ViewSettings};

/// The Paint panel's settings.
#[derive(Resource, Debug, Clone)]
pub struct PaintSettings {
    pub enabled: bool,
    pub mode: BrushMode,
    /// Brush radius as a share of the mesh's diagonal.
    pub radius: f32,
    pub strength: f32,
    /// Locked joints, by name (names survive edits that renumber joints).
    pub locked: BTreeSet<String>,
}

impl Default for PaintSettings {
    fn default() -> Self {
        PaintSettings { enabled: false, mode: BrushMode::Add, radius: 0.05, strength: 0.3, locked: BTreeSet::new() }
    }
}

/// One dab on the open rig: `label` names the undo step, `merge` joins it to the stroke's.
pub fn dab_at(doc: &mut Document, settings: &PaintSettings, centre: [f32; 3], merge: bool, neighbours: &[Vec<u32>]) -> Option<usize> {
    let j = doc.selected_joint?;
    let rig = doc.rig.as_ref()?;
    let name = rig.skeleton.joints.get(j)?.name.clone();
    let locked: Vec<bool> = rig.skeleton.joints.iter().map(|x| settings.locked.contains(&x.name)).collect();
    let diag = doc.stats.diagonal().max(1e-6);
    let brush = Brush { mode: settings.mode, radius: settings.radius * diag, strength: settings.strength };
    let label = format!("Paint {name}");
    doc.edit_merging(&label, merge, |rig| {
        let mesh = &rig.mesh;
        paint::dab(&mut rig.weights, mesh, neighbours, j as u32, &name, centre, &brush, &locked)
    })
}

pub struct PaintPlugin;

impl Plugin for PaintPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<PaintSettings>().add_systems(
            Update,
            paint_stroke.run_if(not(egui_wants_any_pointer_input)).after(crate::playback::PoseSet).before(crate::camera::OrbitSet),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn paint_stroke(
    windows: Query<&Window>,
    cameras: Query<(&Camera, &GlobalTransform), With<crate::camera::OrbitCamera>>,
    buttons: Res<ButtonInput<MouseButton>>,
    settings: Res<PaintSettings>,
    playback: Res<Playback>,
    posed: Res<PosedJoints>,
    mut view: ResMut<ViewSettings>,
    mut doc: ResMut<Document>,
    mut drag: ResMut<JointDrag>,
    mut stroke: Local<(bool, u64, Vec<Vec<u32>>)>,
) {
    drag.painting = settings.enabled && buttons.pressed(MouseButton::Left);
    if !drag.painting {
        stroke.0 = false;
        return;
    }
    if playback.motion != Motion::Bind || !playback.pose_offsets.is_empty() {
        doc.status = Some("Paint in the bind pose: choose 'bind pose' on the timeline and reset the pose".into());
        return;
    }
    if doc.selected_joint.is_none() {
        doc.status = Some("Select the joint to paint first".into());
        return;
    }
    view.overlay = Overlay::Heat;
    let (Ok(window), Ok((camera, at))) = (windows.single(), cameras.single()) else { return };
    let Some(ray) = cursor_ray(window, camera, at) else { return };
    let Some(rig) = doc.rig.as_ref() else { return };
    if stroke.1 != doc.mesh_id || stroke.2.len() != rig.mesh.vertex_count() {
        *stroke = (stroke.0, doc.mesh_id, paint::neighbours(&rig.mesh));
    }
    let (origin, dir) = mesh_ray(&posed, ray);
    let Some(hit) = first_hit(&rig.mesh.positions, &rig.mesh.triangles, origin, dir) else { return };
    let merge = stroke.0;
    if dab_at(&mut doc, &settings, hit, merge, &stroke.2).is_some() {
        stroke.0 = true;
    }
}
