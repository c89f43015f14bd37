//! Bones and joints drawn over the mesh (gizmos with a depth bias so they show through it).

use bevy::prelude::*;
use rig_core::Skeleton;

use crate::document::Document;

pub struct SkeletonViewPlugin;

impl Plugin for SkeletonViewPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, draw_on_top).add_systems(Update, draw_skeleton);
    }
}

/// Joint positions at bind time, where the mesh as stored puts them.
pub fn joint_positions(skeleton: &Skeleton) -> Vec<Vec3> {
    skeleton.model_from_joints_bind().iter().map(|m| Vec3::new(m[(0, 3)], m[(1, 3)], m[(2, 3)])).collect()
}

fn draw_on_top(mut store: ResMut<GizmoConfigStore>) {
    let (config, _) = store.config_mut::<DefaultGizmoConfigGroup>();
    config.depth_bias = -1.0;
    config.line.width = 2.5;
}

fn draw_skeleton(doc: Res<Document>, mut gizmos: Gizmos) {
    let Some(rig) = doc.rig.as_ref() else { return };
    let positions = joint_positions(&rig.skeleton);
    // The mesh size is in the document's stats: no pass over the vertices every frame.
    let radius = Vec3::from(doc.stats.size).length().max(1e-3) * 0.006;
    let bone = Color::srgb(0.95, 0.75, 0.2);
    let selected = Color::srgb(0.2, 0.8, 1.0);
    for (j, joint) in rig.skeleton.joints.iter().enumerate() {
        let color = if doc.selected_joint == Some(j) { selected } else { bone };
        if let Some(p) = joint.parent {
            gizmos.line(positions[p], positions[j], color);
        }
        gizmos.sphere(Isometry3d::from_translation(positions[j]), radius, color);
    }
}
