//! The rig's mesh parts as Bevy entities (one mesh and material per part), rebuilt when a rig
//! is loaded.

use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use rig_core::Rig;

use crate::document::{Document, RigLoaded};

/// Marks entities that show the current rig's mesh.
#[derive(Component)]
pub struct RigPart {
    pub part: usize,
}

pub struct ScenePlugin;

impl Plugin for ScenePlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, rebuild_parts_on_load);
    }
}

/// The Bevy mesh of one part: its vertices (indices made part-local), normals, UVs.
pub fn part_mesh(rig: &Rig, part: usize) -> Mesh {
    let m = &rig.mesh;
    let p = &m.parts[part];
    let vs = p.vertices.start as usize..p.vertices.end as usize;
    let ts = p.triangles.start as usize..p.triangles.end as usize;
    let base = p.vertices.start;
    let indices: Vec<u32> = m.triangles[ts].iter().flat_map(|t| t.iter().map(move |&i| i.saturating_sub(base))).collect();
    let mut mesh = Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::default())
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, m.positions[vs.clone()].to_vec())
        .with_inserted_indices(Indices::U32(indices));
    if m.normals.len() == m.positions.len() {
        mesh.insert_attribute(Mesh::ATTRIBUTE_NORMAL, m.normals[vs.clone()].to_vec());
    } else {
        mesh.compute_normals();
    }
    if m.uvs.len() == m.positions.len() {
        mesh.insert_attribute(Mesh::ATTRIBUTE_UV_0, m.uvs[vs].to_vec());
    }
    mesh
}

/// The part's base colour (white when it has no material).
pub fn part_color(rig: &Rig, part: usize) -> Color {
    let c = rig.mesh.parts[part].material.and_then(|i| rig.materials.materials.get(i)).map_or([0.8, 0.8, 0.8, 1.0], |m| m.base_color);
    Color::LinearRgba(LinearRgba::new(c[0], c[1], c[2], c[3]))
}

fn rebuild_parts_on_load(
    mut loaded: MessageReader<RigLoaded>,
    doc: Res<Document>,
    old: Query<Entity, With<RigPart>>,
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    if loaded.read().count() == 0 {
        return;
    }
    old.iter().for_each(|e| commands.entity(e).despawn());
    let Some(rig) = doc.rig.as_ref() else { return };
    for part in 0..rig.mesh.parts.len() {
        let material = StandardMaterial {
            base_color: part_color(rig, part),
            perceptual_roughness: 0.7,
            double_sided: true,
            cull_mode: None,
            ..default()
        };
        commands.spawn((
            Mesh3d(meshes.add(part_mesh(rig, part))),
            MeshMaterial3d(materials.add(material)),
            Transform::IDENTITY,
            RigPart { part },
        ));
    }
}
