//! The rig's mesh parts as Bevy entities (one mesh and [`RigMaterial`] per part), rebuilt when
//! the rig is opened or its weights change; the shared skinning and overlay buffers are
//! rewritten every frame from the current pose and selection.

use bevy::asset::RenderAssetUsages;
use bevy::camera::visibility::NoFrustumCulling;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::storage::ShaderBuffer;
use rig_core::{Rig, SkinWeights};

use crate::document::Document;
use crate::playback::PosedJoints;
use crate::rig_material::{
    matrix_bytes, morph_delta_bytes, morph_weight_bytes, view_bytes, Overlay, RigBuffers, RigMaterial, RigSkin, ViewSettings, JOINTS_A,
    JOINTS_B, MORPH_INDEX, MOTION_ERROR, WEIGHTS_A, WEIGHTS_B,
};

/// Influences per vertex the GPU skins with.
pub const GPU_INFLUENCES: usize = 8;

/// Marks entities that show the current rig's mesh.
#[derive(Component)]
pub struct RigPart {
    pub part: usize,
}

/// A part's morph weights buffer (its offsets' buffer is written once, when the part is built).
#[derive(Component)]
pub struct PartMorphs {
    pub weights: Handle<ShaderBuffer>,
}

/// The weights revision the part entities were built for.
#[derive(Resource, Default)]
struct BuiltRevision(Option<u64>);

pub struct ScenePlugin;

impl Plugin for ScenePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<BuiltRevision>()
            .init_resource::<ViewSettings>()
            .init_resource::<MotionErrorNow>()
            .init_resource::<crate::textures::PartTextures>()
            .add_systems(
                Update,
                (
                    crate::textures::load_textures,
                    rebuild_parts,
                    write_buffers,
                    write_morph_weights,
                    write_motion_error,
                    place_parts,
                    apply_display_mode,
                )
                    .chain()
                    .after(crate::playback::PoseSet),
            );
    }
}

/// Per vertex: joints 1-4, joints 5-8, weights 1-4, weights 5-8.
pub type Influences = (Vec<[u32; 4]>, Vec<[u32; 4]>, Vec<[f32; 4]>, Vec<[f32; 4]>);

/// Up to 8 influences of each vertex in `range`: joint indices and weights in two groups of
/// four, the largest first, renormalised when more than 8 had to be dropped.
pub fn influences(weights: &SkinWeights, range: std::ops::Range<usize>) -> Influences {
    let n = range.len();
    let (mut ja, mut jb, mut wa, mut wb) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for v in range {
        let mut row = if v < weights.vertex_count() { weights.row_pairs(v) } else { Vec::new() };
        if row.len() > GPU_INFLUENCES {
            row.sort_by(|a, b| b.1.total_cmp(&a.1));
            row.truncate(GPU_INFLUENCES);
            let total: f32 = row.iter().map(|e| e.1).sum();
            row.iter_mut().for_each(|e| e.1 /= total.max(1e-12));
        }
        let mut j = [0u32; 8];
        let mut w = [0f32; 8];
        for (k, (joint, weight)) in row.into_iter().enumerate() {
            j[k] = joint;
            w[k] = weight;
        }
        ja.push([j[0], j[1], j[2], j[3]]);
        jb.push([j[4], j[5], j[6], j[7]]);
        wa.push([w[0], w[1], w[2], w[3]]);
        wb.push([w[4], w[5], w[6], w[7]]);
    }
    (ja, jb, wa, wb)
}

/// The Bevy mesh of one part: its vertices (indices made part-local), normals, UVs (zeros when
/// the file has none) and influences.
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
    let uvs = if m.uvs.len() == m.positions.len() { m.uvs[vs.clone()].to_vec() } else { vec![[0.0, 0.0]; vs.len()] };
    mesh.insert_attribute(Mesh::ATTRIBUTE_UV_0, uvs);
    let empty = SkinWeights::empty(0);
    let weights = if p.skinned { &rig.weights } else { &empty };
    let (ja, jb, wa, wb) = influences(weights, vs);
    mesh.insert_attribute(JOINTS_A, ja);
    mesh.insert_attribute(JOINTS_B, jb);
    mesh.insert_attribute(WEIGHTS_A, wa);
    mesh.insert_attribute(WEIGHTS_B, wb);
    mesh.insert_attribute(MOTION_ERROR, vec![0.0f32; p.vertices.len()]);
    mesh.insert_attribute(MORPH_INDEX, (0..p.vertices.len() as u32).collect::<Vec<u32>>());
    mesh
}

/// The weight of each of `part`'s morph targets: the face panel's where it sets one (by name),
/// else the file's default.
pub fn part_morph_weights(rig: &Rig, part: usize, set: &std::collections::BTreeMap<String, f32>) -> Vec<f32> {
    let p = &rig.mesh.parts[part];
    let group = rig.mesh.groups.get(p.group);
    (0..p.morph_targets.len())
        .map(|k| {
            let name = group.and_then(|g| g.morph_target_names.get(k));
            let default = group.and_then(|g| g.morph_default_weights.get(k)).copied().unwrap_or(0.0);
            name.and_then(|n| set.get(n)).copied().unwrap_or(default)
        })
        .collect()
}

/// The part's base colour (white when it has no material).
pub fn part_color(rig: &Rig, part: usize) -> Color {
    let c = rig.mesh.parts[part].material.and_then(|i| rig.materials.materials.get(i)).map_or([0.8, 0.8, 0.8, 1.0], |m| m.base_color);
    Color::LinearRgba(LinearRgba::new(c[0], c[1], c[2], c[3]))
}

/// Skinning-buffer capacity for `joints` joints: a power of two, so edits that add a joint
/// rarely need new buffers.
pub fn capacity_for(joints: usize) -> usize {
    joints.max(1).next_power_of_two()
}

#[allow(clippy::too_many_arguments)]
fn rebuild_parts(
    doc: Res<Document>,
    mut built: ResMut<BuiltRevision>,
    old: Query<Entity, With<RigPart>>,
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<RigMaterial>>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
    textures: Res<crate::textures::PartTextures>,
) {
    if built.0 == Some(doc.weights_revision) {
        return;
    }
    built.0 = Some(doc.weights_revision);
    old.iter().for_each(|e| commands.entity(e).despawn());
    let Some(rig) = doc.rig.as_ref() else { return };
    let capacity = capacity_for(rig.skeleton.len());
    let rig_buffers = RigBuffers {
        skinning: buffers.add(ShaderBuffer::new(&matrix_bytes(&[], capacity), RenderAssetUsages::default())),
        view: buffers.add(ShaderBuffer::new(&view_bytes(Default::default(), None, 0), RenderAssetUsages::default())),
        capacity,
    };
    for part in 0..rig.mesh.parts.len() {
        let base = StandardMaterial {
            base_color: part_color(rig, part),
            base_color_texture: textures.for_part(rig, part),
            perceptual_roughness: 0.7,
            double_sided: true,
            cull_mode: None,
            ..default()
        };
        let p = &rig.mesh.parts[part];
        let vertices = p.vertices.len();
        let morph_deltas = buffers.add(ShaderBuffer::new(&morph_delta_bytes(&p.morph_targets, vertices), RenderAssetUsages::default()));
        let weights = vec![0.0; p.morph_targets.len()];
        let morph_weights = buffers.add(ShaderBuffer::new(&morph_weight_bytes(&weights, vertices), RenderAssetUsages::default()));
        let extension = RigSkin {
            skinning: rig_buffers.skinning.clone(),
            view: rig_buffers.view.clone(),
            morph_deltas,
            morph_weights: morph_weights.clone(),
            wireframe: false,
        };
        commands.spawn((
            Mesh3d(meshes.add(part_mesh(rig, part))),
            MeshMaterial3d(materials.add(RigMaterial { base, extension })),
            Transform::IDENTITY,
            NoFrustumCulling,
            RigPart { part },
            PartMorphs { weights: morph_weights },
        ));
    }
    commands.insert_resource(rig_buffers);
}

/// Writes this frame's skinning matrices and overlay settings.
fn write_buffers(
    doc: Res<Document>,
    posed: Res<PosedJoints>,
    view: Res<ViewSettings>,
    rig_buffers: Option<Res<RigBuffers>>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
) {
    let (Some(rig), Some(rb)) = (doc.rig.as_ref(), rig_buffers) else { return };
    if posed.mesh_from_joint.len() != rig.skeleton.len() || capacity_for(rig.skeleton.len()) != rb.capacity {
        return;
    }
    write_if_changed(&mut buffers, &rb.skinning, matrix_bytes(&posed.skinning(rig), rb.capacity));
    write_if_changed(&mut buffers, &rb.view, view_bytes(view.overlay, doc.selected_joint, rig.skeleton.len()));
}

/// Writes each part's morph weights (the face panel's sliders or test motion).
fn write_morph_weights(
    doc: Res<Document>,
    pose: Res<crate::face::FacePose>,
    parts: Query<(&RigPart, &PartMorphs)>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
) {
    let Some(rig) = doc.rig.as_ref() else { return };
    for (part, morphs) in &parts {
        let Some(p) = rig.mesh.parts.get(part.part) else { continue };
        let weights = part_morph_weights(rig, part.part, &pose.weights);
        write_if_changed(&mut buffers, &morphs.weights, morph_weight_bytes(&weights, p.vertices.len()));
    }
}

/// The solved clip's error at the current frame (Rig from motion, Match targets), in % of the
/// diagonal: root mean square and largest (shown in the Generate panel while the error overlay
/// is on).
#[derive(Resource, Debug, Clone, Default)]
pub struct MotionErrorNow {
    pub percent: Option<(f32, f32)>,
    /// What the figures were computed for: the document's revision (skeleton, weights and clips
    /// as they were), the clip, the input frame and the input itself.
    computed_for: Option<(u64, usize, usize, usize)>,
}

/// With the error overlay on, writes each vertex's distance from the input frame nearest the
/// playback time into the parts' error attribute (the mesh skinned on the CPU by the clip at
/// that frame's time, with the matrices the GPU skins with).
fn write_motion_error(
    doc: Res<Document>,
    posed: Res<PosedJoints>,
    playback: Res<crate::playback::Playback>,
    view: Res<ViewSettings>,
    parts: Query<(&Mesh3d, &RigPart)>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut now: ResMut<MotionErrorNow>,
) {
    let (Some(rig), Some(solved)) = (doc.rig.as_ref(), doc.clip_input.as_ref()) else {
        now.percent = None;
        return;
    };
    let input = &solved.frames;
    let playing_the_recovered_clip = playback.motion == crate::playback::Motion::Clip(solved.clip) && solved.belongs_to(rig);
    let comparable = posed.mesh_from_joint.len() == rig.skeleton.len() && input.rest.len() == rig.mesh.vertex_count();
    if view.overlay != Overlay::Error || !playing_the_recovered_clip || !comparable {
        now.percent = None;
        return;
    }
    // The clip at the input frame's own time: between keys the playing pose is an
    // interpolation the input never had.
    let frame = rig_pipeline::motion::nearest_frame(&input.times, playback.time);
    let fresh = Some((doc.revision, solved.clip, frame, std::sync::Arc::as_ptr(input) as usize));
    if now.computed_for == fresh && now.percent.is_some() {
        return;
    }
    let skinned = clip_at_key(rig, solved.clip, input.times[frame]);
    let errors = rig_pipeline::motion::vertex_errors_percent(&skinned, &input.frames[frame], input.diagonal());
    let rms = (errors.iter().map(|e| e * e).sum::<f32>() / errors.len().max(1) as f32).sqrt();
    now.percent = Some((rms, errors.iter().copied().fold(0.0, f32::max)));
    for (mesh, part) in &parts {
        let Some(range) = rig.mesh.parts.get(part.part).map(|p| p.vertices.start as usize..p.vertices.end as usize) else { continue };
        if let Some(mut m) = meshes.get_mut(&mesh.0) {
            m.insert_attribute(MOTION_ERROR, errors[range].iter().map(|e| e.min(1.0)).collect::<Vec<f32>>());
        }
    }
    now.computed_for = fresh;
}

/// The stored mesh skinned by `clip` at `time`, in mesh space (as the viewport skins it).
fn clip_at_key(rig: &Rig, clip: usize, time: f32) -> Vec<[f32; 3]> {
    let mut pose = rig_core::Pose::rest(&rig.skeleton);
    rig.clips[clip].apply(time, &mut pose);
    let mesh_from_display = rig.display_from_mesh().try_inverse().unwrap_or_else(rig_core::Mat4::identity);
    let skinning: Vec<rig_core::Mat4> = pose.skinning_matrices(&rig.skeleton).iter().map(|m| mesh_from_display * m).collect();
    rig_core::lbs::skin_positions(&rig.mesh.positions, &rig.weights, &skinning)
}

/// Opacity of the mesh in X-ray mode.
pub const XRAY_ALPHA: f32 = 0.35;

/// Switches the parts' materials between opaque and see-through (X-ray) and between filled
/// and wireframe when the view changes (and after a rebuild, which makes fresh opaque, filled
/// materials). Wireframe falls back to filled, with a note, on a GPU that cannot draw lines.
fn apply_display_mode(
    view: Res<ViewSettings>,
    support: Option<Res<crate::rig_material::WireframeSupport>>,
    mut doc: ResMut<Document>,
    parts: Query<&MeshMaterial3d<RigMaterial>, With<RigPart>>,
    mut materials: ResMut<Assets<RigMaterial>>,
    mut noted: Local<bool>,
) {
    let (mode, alpha) = if view.xray { (AlphaMode::Blend, XRAY_ALPHA) } else { (AlphaMode::Opaque, 1.0) };
    let lines_ok = support.is_some_and(|s| s.0);
    let wireframe = view.wireframe && lines_ok;
    // Once each time wireframe is asked for on a GPU without lines.
    let unsupported = view.wireframe && !lines_ok;
    if unsupported && !*noted {
        doc.status = Some("Wireframe: this GPU cannot draw polygons as lines (POLYGON_MODE_LINE)".into());
    }
    *noted = unsupported;
    for handle in &parts {
        let needs = materials.get(&handle.0).is_some_and(|m| m.base.alpha_mode != mode || m.extension.wireframe != wireframe);
        if !needs {
            continue;
        }
        if let Some(mut m) = materials.get_mut(&handle.0) {
            m.base.alpha_mode = mode;
            m.base.base_color.set_alpha(alpha);
            m.extension.wireframe = wireframe;
        }
    }
}

/// Places the part entities with the display transform (see `playback::display_from_mesh`).
fn place_parts(posed: Res<PosedJoints>, mut parts: Query<&mut Transform, With<RigPart>>) {
    let placed = posed.display_transform();
    for mut t in &mut parts {
        if *t != placed {
            *t = placed;
        }
    }
}

/// Replaces a buffer's bytes only when they differ (an asset change costs an upload).
fn write_if_changed(buffers: &mut Assets<ShaderBuffer>, handle: &Handle<ShaderBuffer>, bytes: Vec<u8>) {
    if buffers.get(handle).is_some_and(|b| b.data.as_deref() != Some(bytes.as_slice())) {
        if let Some(mut b) = buffers.get_mut(handle) {
            b.data = Some(bytes);
        }
    }
}
