//! The mesh material: Bevy's `StandardMaterial` extended with GPU linear blend skinning (up to
//! 8 influences per vertex) and the influence overlays. WGSL in `shaders/` at the repository
//! root: `lbs.wgsl` (skinning, shared with the read-back test) and `rig_material.wgsl`.
//!
//! Per vertex, four extra attributes carry the influences (`JOINTS_A/B`, `WEIGHTS_A/B`);
//! two storage buffers shared by every part carry the skinning matrices of the current pose
//! and the overlay settings, so a new pose or a new selection rewrites 64 bytes per joint and
//! touches no material.

use bevy::asset::uuid_handle;
use bevy::mesh::{MeshVertexAttribute, MeshVertexBufferLayoutRef, VertexFormat};
use bevy::pbr::{ExtendedMaterial, MaterialExtension, MaterialExtensionKey, MaterialExtensionPipeline, MaterialPlugin};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, RenderPipelineDescriptor, SpecializedMeshPipelineError};
use bevy::render::storage::ShaderBuffer;
use bevy::shader::{Shader, ShaderRef};

pub type RigMaterial = ExtendedMaterial<StandardMaterial, RigSkin>;

const LBS_SHADER: Handle<Shader> = uuid_handle!("5b0c3a56-2f0e-4c55-9a43-51d1b0a7e101");
const MATERIAL_SHADER: Handle<Shader> = uuid_handle!("5b0c3a56-2f0e-4c55-9a43-51d1b0a7e102");

/// Joint indices of influences 1-4 and 5-8.
pub const JOINTS_A: MeshVertexAttribute = MeshVertexAttribute::new("Rig_JointsA", 0x5249_4701, VertexFormat::Uint32x4);
pub const JOINTS_B: MeshVertexAttribute = MeshVertexAttribute::new("Rig_JointsB", 0x5249_4702, VertexFormat::Uint32x4);
/// Weights of influences 1-4 and 5-8 (zero where a vertex has fewer).
pub const WEIGHTS_A: MeshVertexAttribute = MeshVertexAttribute::new("Rig_WeightsA", 0x5249_4703, VertexFormat::Float32x4);
pub const WEIGHTS_B: MeshVertexAttribute = MeshVertexAttribute::new("Rig_WeightsB", 0x5249_4704, VertexFormat::Float32x4);

/// Rig from motion's error at the current frame, 0 (none) to 1 (1 % of the diagonal or more).
pub const MOTION_ERROR: MeshVertexAttribute = MeshVertexAttribute::new("Rig_MotionError", 0x5249_4705, VertexFormat::Float32);

/// The vertex's index within its part, where it reads its morph offsets.
pub const MORPH_INDEX: MeshVertexAttribute = MeshVertexAttribute::new("Rig_MorphIndex", 0x5249_4706, VertexFormat::Uint32);

/// The extension's bindings (see `shaders/lbs.wgsl` and `shaders/rig_material.wgsl`).
#[derive(Asset, AsBindGroup, Reflect, Debug, Clone)]
#[bind_group_data(RigSkinKey)]
pub struct RigSkin {
    /// `array<mat4x4<f32>>`: skin_from_mesh per joint.
    #[storage(100, read_only)]
    pub skinning: Handle<ShaderBuffer>,
    /// `RigView`: overlay mode, selected joint, joint count.
    #[storage(101, read_only)]
    pub view: Handle<ShaderBuffer>,
    /// `array<vec4<f32>>`: the part's morph offsets, target after target ([`morph_delta_bytes`]).
    #[storage(102, read_only)]
    pub morph_deltas: Handle<ShaderBuffer>,
    /// `array<f32>`: targets, vertices, then the weight of each target ([`morph_weight_bytes`]).
    #[storage(103, read_only)]
    pub morph_weights: Handle<ShaderBuffer>,
    /// Draw triangle edges only (needs the GPU's `POLYGON_MODE_LINE`, see [`WireframeSupport`]).
    pub wireframe: bool,
}

/// The pipeline variant a [`RigSkin`] needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RigSkinKey {
    pub wireframe: bool,
}

impl From<&RigSkin> for RigSkinKey {
    fn from(skin: &RigSkin) -> Self {
        RigSkinKey { wireframe: skin.wireframe }
    }
}

/// Whether the GPU can draw polygons as lines (read once the renderer exists).
#[derive(Resource, Debug, Clone, Copy, Default)]
pub struct WireframeSupport(pub bool);

impl MaterialExtension for RigSkin {
    fn vertex_shader() -> ShaderRef {
        ShaderRef::Handle(MATERIAL_SHADER)
    }

    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(MATERIAL_SHADER)
    }

    // The depth prepass and shadow maps would draw the undeformed mesh: the editor uses neither.
    fn enable_prepass() -> bool {
        false
    }

    fn enable_shadows() -> bool {
        false
    }

    fn specialize(
        _pipeline: &MaterialExtensionPipeline,
        descriptor: &mut RenderPipelineDescriptor,
        layout: &MeshVertexBufferLayoutRef,
        key: MaterialExtensionKey<Self>,
    ) -> Result<(), SpecializedMeshPipelineError> {
        if key.bind_group_data.wireframe {
            descriptor.primitive.polygon_mode = bevy::render::render_resource::PolygonMode::Line;
        }
        let vertex_layout = layout.0.get_layout(&[
            Mesh::ATTRIBUTE_POSITION.at_shader_location(0),
            Mesh::ATTRIBUTE_NORMAL.at_shader_location(1),
            Mesh::ATTRIBUTE_UV_0.at_shader_location(2),
            JOINTS_A.at_shader_location(8),
            JOINTS_B.at_shader_location(9),
            WEIGHTS_A.at_shader_location(10),
            WEIGHTS_B.at_shader_location(11),
            MOTION_ERROR.at_shader_location(12),
            MORPH_INDEX.at_shader_location(13),
        ])?;
        descriptor.vertex.buffers = vec![vertex_layout];
        // The overlay colour travels in the vertex colour slot.
        descriptor.vertex.shader_defs.push("VERTEX_COLORS".into());
        if let Some(fragment) = descriptor.fragment.as_mut() {
            fragment.shader_defs.push("VERTEX_COLORS".into());
        }
        Ok(())
    }
}

/// What the mesh shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overlay {
    /// The file's materials.
    #[default]
    Shaded,
    /// The selected joint's weights, blue (0) to red (1).
    Heat,
    /// Every joint in its own colour, blended by weight.
    Bones,
    /// Rig from motion: each vertex's distance from the input frame, blue (0) to red (1 % of
    /// the diagonal or more).
    Error,
}

impl Overlay {
    pub fn code(self) -> u32 {
        match self {
            Overlay::Shaded => 0,
            Overlay::Heat => 1,
            Overlay::Bones => 2,
            Overlay::Error => 3,
        }
    }
}

/// Display settings of the viewport.
#[derive(Resource, Debug, Clone)]
pub struct ViewSettings {
    pub overlay: Overlay,
    pub show_skeleton: bool,
    pub show_grid: bool,
    /// See-through mesh (alpha blended), to work on joints inside it.
    pub xray: bool,
    /// Triangle edges only (skinned and coloured like the shaded mesh).
    pub wireframe: bool,
    /// The input frame a solved clip reproduces, drawn see-through over the rig while it plays.
    pub show_ghost: bool,
}

impl Default for ViewSettings {
    fn default() -> Self {
        ViewSettings { overlay: Overlay::Shaded, show_skeleton: true, show_grid: true, xray: false, wireframe: false, show_ghost: true }
    }
}

/// The storage buffers every part's material shares.
#[derive(Resource, Debug, Clone)]
pub struct RigBuffers {
    pub skinning: Handle<ShaderBuffer>,
    pub view: Handle<ShaderBuffer>,
    /// Matrices the skinning buffer holds (a power of two at least the joint count).
    pub capacity: usize,
}

/// Bytes of `matrices` (column-major, as WGSL's `mat4x4<f32>`), padded with identities to
/// `capacity` matrices.
pub fn matrix_bytes(matrices: &[rig_core::Mat4], capacity: usize) -> Vec<u8> {
    let identity = rig_core::Mat4::identity();
    let mut out = Vec::with_capacity(capacity * 64);
    for k in 0..capacity.max(1) {
        let m = matrices.get(k).unwrap_or(&identity);
        m.as_slice().iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    }
    out
}

/// Bytes of the `RigView` struct.
pub fn view_bytes(overlay: Overlay, selected: Option<usize>, joints: usize) -> Vec<u8> {
    let words = [overlay.code(), selected.map_or(u32::MAX, |j| j as u32), joints as u32, 0];
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// Bytes of a part's morph offsets: each target's offsets (xyz, 0) for the part's `vertices`,
/// one target after another (one zero entry when there are none: a storage buffer is never empty).
pub fn morph_delta_bytes(targets: &[rig_core::mesh::MorphTarget], vertices: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 * (targets.len() * vertices).max(1));
    for t in targets {
        for v in 0..vertices {
            let d = t.position_deltas.get(v).copied().unwrap_or_default();
            [d[0], d[1], d[2], 0.0].iter().for_each(|x: &f32| out.extend_from_slice(&x.to_le_bytes()));
        }
    }
    if out.is_empty() {
        out.resize(16, 0);
    }
    out
}

/// Bytes of a part's morph weights: target count, vertex count, then `weights`.
pub fn morph_weight_bytes(weights: &[f32], vertices: usize) -> Vec<u8> {
    [weights.len() as f32, vertices as f32].iter().chain(weights).flat_map(|w| w.to_le_bytes()).collect()
}

/// Shaders and the material's render plugin (windowed app only).
pub struct RigMaterialPlugin;

impl Plugin for RigMaterialPlugin {
    fn build(&self, app: &mut App) {
        let mut shaders = app.world_mut().resource_mut::<Assets<Shader>>();
        let lbs = Shader::from_wgsl(include_str!("../../../shaders/lbs.wgsl"), "rigsmith/lbs.wgsl");
        let material = Shader::from_wgsl(include_str!("../../../shaders/rig_material.wgsl"), "rigsmith/rig_material.wgsl");
        let _ = shaders.insert(&LBS_SHADER, lbs);
        let _ = shaders.insert(&MATERIAL_SHADER, material);
        app.add_plugins(MaterialPlugin::<RigMaterial>::default()).init_resource::<WireframeSupport>();
    }

    fn finish(&self, app: &mut App) {
        let supported = app
            .get_sub_app(bevy::render::RenderApp)
            .and_then(|render| render.world().get_resource::<bevy::render::renderer::RenderDevice>())
            .is_some_and(|device| device.features().contains(bevy::render::settings::WgpuFeatures::POLYGON_MODE_LINE));
        app.insert_resource(WireframeSupport(supported));
    }
}
