//! Bones and joints drawn over the mesh (gizmos with a depth bias so they show through it) in
//! the pose on screen, the hovered joint's name, highlighted vertices, a ground grid and axes.

use bevy::prelude::*;
use bevy_egui::{egui, EguiContexts, EguiPrimaryContextPass};

use crate::document::Document;
use crate::picking::JointDrag;
use crate::playback::PosedJoints;
use crate::rig_material::ViewSettings;

pub struct SkeletonViewPlugin;

impl Plugin for SkeletonViewPlugin {
    fn build(&self, app: &mut App) {
        app.init_gizmo_group::<GroundGizmos>()
            .add_systems(Startup, draw_on_top)
            .add_systems(Update, (draw_skeleton, draw_grid).after(crate::playback::PoseSet))
            .add_systems(EguiPrimaryContextPass, hovered_name);
    }
}

/// Bone colour, and the selected joint's.
pub const BONE: Color = Color::srgb(0.95, 0.75, 0.2);
pub const SELECTED: Color = Color::srgb(0.2, 0.8, 1.0);

/// The ground grid and axes: depth-tested, unlike the skeleton.
#[derive(Default, Reflect, GizmoConfigGroup)]
pub struct GroundGizmos;

fn draw_on_top(mut store: ResMut<GizmoConfigStore>) {
    let (config, _) = store.config_mut::<DefaultGizmoConfigGroup>();
    config.depth_bias = -1.0;
    config.line.width = 2.5;
}

fn draw_skeleton(doc: Res<Document>, posed: Res<PosedJoints>, view: Res<ViewSettings>, drag: Res<JointDrag>, mut gizmos: Gizmos) {
    let Some(rig) = doc.rig.as_ref() else { return };
    // The mesh size is in the document's stats: no pass over the vertices every frame.
    let radius = doc.stats.diagonal().max(1e-3) * 0.006;
    for p in &doc.highlight {
        gizmos.sphere(Isometry3d::from_translation(posed.to_display(Vec3::from(*p))), radius * 0.4, Color::srgb(1.0, 0.0, 1.0));
    }
    if !view.show_skeleton {
        return;
    }
    let positions = posed.positions();
    if positions.len() != rig.skeleton.len() {
        return;
    }
    for (j, joint) in rig.skeleton.joints.iter().enumerate() {
        let color = if doc.selected_joint == Some(j) { SELECTED } else { BONE };
        if let Some(p) = joint.parent {
            gizmos.line(positions[p], positions[j], color);
        }
        let r = if drag.hovered == Some(j) { radius * 1.6 } else { radius };
        gizmos.sphere(Isometry3d::from_translation(positions[j]), r, color);
    }
}

/// A ground grid under the mesh and the world axes at the origin.
fn draw_grid(doc: Res<Document>, view: Res<ViewSettings>, posed: Res<PosedJoints>, mut gizmos: Gizmos<GroundGizmos>) {
    let Some(bounds) = doc.stats.bounds.filter(|_| view.show_grid && doc.rig.is_some()) else { return };
    let (lo, hi) = posed.display_box(&bounds);
    // In display units: the display transform may scale (an armature in centimetres).
    let size = (hi - lo).max_element().max(1e-3);
    let spacing = 10f32.powf((size / 4.0).log10().floor());
    let cells = ((size * 2.0 / spacing).ceil() as u32).clamp(2, 200);
    let centre = Vec3::new(0.5 * (lo[0] + hi[0]), lo[1], 0.5 * (lo[2] + hi[2]));
    let snapped = (centre / spacing).round() * spacing;
    gizmos.grid(
        Isometry3d::new(Vec3::new(snapped.x, lo[1], snapped.z), Quat::from_rotation_x(std::f32::consts::FRAC_PI_2)),
        UVec2::splat(cells),
        Vec2::splat(spacing),
        Color::srgba(0.6, 0.6, 0.6, 0.25),
    );
    gizmos.axes(Transform::IDENTITY, size * 0.15);
}

fn hovered_name(mut contexts: EguiContexts, doc: Res<Document>, drag: Res<JointDrag>, windows: Query<&Window>) -> Result {
    let (Some(j), Ok(window)) = (drag.hovered, windows.single()) else { return Ok(()) };
    let Some(name) = doc.rig.as_ref().and_then(|r| r.skeleton.joints.get(j)).map(|x| x.name.clone()) else { return Ok(()) };
    let Some(cursor) = window.cursor_position() else { return Ok(()) };
    let ctx = contexts.ctx_mut()?;
    egui::Area::new("joint_name".into()).fixed_pos(egui::pos2(cursor.x + 14.0, cursor.y + 6.0)).interactable(false).show(ctx, |ui| {
        egui::Frame::popup(ui.style()).show(ui, |ui| ui.add(egui::Label::new(name).extend()));
    });
    Ok(())
}
