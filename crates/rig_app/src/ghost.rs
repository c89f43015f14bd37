//! The target ghost: while a solved clip plays (Match targets, Rig from motion), the input
//! frame nearest the playback time is drawn as a see-through mesh over the rig, so the fit can
//! be judged by eye next to the error overlay.

use std::sync::Arc;

use bevy::asset::RenderAssetUsages;
use bevy::camera::visibility::NoFrustumCulling;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use rig_core::motion::MeshSequence;

use crate::document::Document;
use crate::playback::{Motion, Playback, PosedJoints};
use crate::rig_material::ViewSettings;

/// Marks the ghost's entity.
#[derive(Component)]
pub struct Ghost;

/// The ghost's colour: light blue, a third opaque.
const GHOST_COLOR: Color = Color::srgba(0.35, 0.75, 1.0, 0.35);

pub struct GhostPlugin;

impl Plugin for GhostPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, update_ghost.after(crate::playback::PoseSet));
    }
}

/// The input frame to draw now, or `None` when no solved clip is playing or the ghost is off.
fn frame_now<'a>(doc: &'a Document, playback: &Playback, view: &ViewSettings) -> Option<(&'a Arc<MeshSequence>, usize)> {
    let (rig, input) = (doc.rig.as_ref()?, doc.clip_input.as_ref()?);
    let playing = playback.motion == Motion::Clip(input.clip) && input.belongs_to(rig);
    if !view.show_ghost || !playing {
        return None;
    }
    Some((&input.frames, rig_pipeline::motion::nearest_frame(&input.frames.times, playback.time)))
}

/// The frame's vertices (a vertex the targets left undefined stays at the rig's rest position).
fn positions(seq: &MeshSequence, frame: usize) -> Vec<[f32; 3]> {
    seq.frames[frame].iter().zip(&seq.rest).map(|(p, r)| if p.iter().all(|c| c.is_finite()) { *p } else { *r }).collect()
}

fn ghost_mesh(seq: &MeshSequence, frame: usize) -> Mesh {
    let indices: Vec<u32> = seq.triangles.iter().flatten().copied().collect();
    let mut mesh = Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::default())
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions(seq, frame))
        .with_inserted_indices(Indices::U32(indices));
    mesh.compute_normals();
    mesh
}

/// Spawns, updates or removes the ghost. It is rebuilt only when the frame or the input changes.
#[allow(clippy::too_many_arguments)]
fn update_ghost(
    doc: Res<Document>,
    playback: Res<Playback>,
    view: Res<ViewSettings>,
    posed: Res<PosedJoints>,
    mut ghosts: Query<(Entity, &Mesh3d, &mut Transform), With<Ghost>>,
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut shown: Local<Option<(usize, usize)>>,
) {
    let Some((seq, frame)) = frame_now(&doc, &playback, &view) else {
        ghosts.iter().for_each(|(e, _, _)| commands.entity(e).despawn());
        *shown = None;
        return;
    };
    let key = (Arc::as_ptr(seq) as usize, frame);
    let placed = posed.display_transform();
    match ghosts.single_mut() {
        Ok((_, mesh, mut transform)) => {
            if *shown != Some(key) {
                if let Some(mut m) = meshes.get_mut(&mesh.0) {
                    *m = ghost_mesh(seq, frame);
                }
            }
            if *transform != placed {
                *transform = placed;
            }
        }
        Err(_) => {
            ghosts.iter().for_each(|(e, _, _)| commands.entity(e).despawn());
            let material = StandardMaterial {
                base_color: GHOST_COLOR,
                alpha_mode: AlphaMode::Blend,
                double_sided: true,
                cull_mode: None,
                depth_bias: 1.0,
                ..default()
            };
            commands.spawn((
                Mesh3d(meshes.add(ghost_mesh(seq, frame))),
                MeshMaterial3d(materials.add(material)),
                placed,
                NoFrustumCulling,
                Ghost,
            ));
        }
    }
    *shown = Some(key);
}
