// The editor's mesh material: Bevy's StandardMaterial lighting, with the mesh deformed on the
// GPU by linear blend skinning (8 influences, rigsmith::lbs) and an influence overlay:
//   mode 0  shaded: the file's material
//   mode 1  heat map of the selected joint's weight (blue 0 -> red 1)
//   mode 2  every joint in its own colour, blended by weight
//   mode 3  rig from motion's error at this frame (blue 0 -> red 1 % of the diagonal)
// Vertices with no weight show magenta in modes 1 and 2.
// Morph targets (blend shapes) are added before skinning: each part's offsets, target after
// target, and its weights (morph_weights[0] targets, [1] vertices, then one weight per target).

#import bevy_pbr::{
    mesh_functions,
    forward_io::{VertexOutput, FragmentOutput},
    view_transformations::position_world_to_clip,
    pbr_fragment::pbr_input_from_standard_material,
    pbr_functions::{alpha_discard, apply_pbr_lighting, main_pass_post_lighting_processing},
}
#import rigsmith::lbs::{blend, skin_normal}

struct RigView {
    mode: u32,
    selected: u32,
    joint_count: u32,
    _pad: u32,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(101) var<storage, read> rig_view: RigView;
@group(#{MATERIAL_BIND_GROUP}) @binding(102) var<storage, read> morph_deltas: array<vec4<f32>>;
@group(#{MATERIAL_BIND_GROUP}) @binding(103) var<storage, read> morph_weights: array<f32>;

// The rest position with the weighted morph offsets of part-local vertex `index` added.
fn morphed(position: vec3<f32>, index: u32) -> vec3<f32> {
    let targets = u32(morph_weights[0]);
    let vertices = u32(morph_weights[1]);
    var p = position;
    for (var k = 0u; k < targets; k++) {
        let w = morph_weights[2u + k];
        if w != 0.0 {
            p += w * morph_deltas[k * vertices + index].xyz;
        }
    }
    return p;
}

struct Vertex {
    @builtin(instance_index) instance_index: u32,
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) uv: vec2<f32>,
    @location(8) joints_a: vec4<u32>,
    @location(9) joints_b: vec4<u32>,
    @location(10) weights_a: vec4<f32>,
    @location(11) weights_b: vec4<f32>,
    @location(12) motion_error: f32,
    @location(13) morph_index: u32,
};

// Blue -> cyan -> green -> yellow -> red ("jet").
fn heat(w: f32) -> vec3<f32> {
    let t = 4.0 * clamp(w, 0.0, 1.0);
    return clamp(vec3(1.5) - abs(vec3(t) - vec3(3.0, 2.0, 1.0)), vec3(0.0), vec3(1.0));
}

// A distinct colour per joint (golden-ratio hue steps).
fn joint_colour(j: u32) -> vec3<f32> {
    let h = fract(f32(j) * 0.618034);
    let k = vec3(0.0, 2.0 / 3.0, 1.0 / 3.0);
    return clamp(abs(fract(vec3(h) + k) * 6.0 - 3.0) - 1.0, vec3(0.0), vec3(1.0)) * 0.8 + 0.15;
}

fn weight_of(j: u32, v: Vertex) -> f32 {
    var w = 0.0;
    w += select(0.0, v.weights_a.x, v.joints_a.x == j);
    w += select(0.0, v.weights_a.y, v.joints_a.y == j);
    w += select(0.0, v.weights_a.z, v.joints_a.z == j);
    w += select(0.0, v.weights_a.w, v.joints_a.w == j);
    w += select(0.0, v.weights_b.x, v.joints_b.x == j);
    w += select(0.0, v.weights_b.y, v.joints_b.y == j);
    w += select(0.0, v.weights_b.z, v.joints_b.z == j);
    w += select(0.0, v.weights_b.w, v.joints_b.w == j);
    return w;
}

fn overlay(v: Vertex) -> vec4<f32> {
    let total = dot(v.weights_a, vec4(1.0)) + dot(v.weights_b, vec4(1.0));
    if rig_view.mode == 0u {
        return vec4(1.0);
    }
    if rig_view.mode == 3u {
        return vec4(heat(v.motion_error), 1.0);
    }
    if total <= 0.0 {
        return vec4(1.0, 0.0, 1.0, 1.0);
    }
    if rig_view.mode == 1u {
        return vec4(heat(weight_of(rig_view.selected, v)), 1.0);
    }
    var c = v.weights_a.x * joint_colour(v.joints_a.x) + v.weights_a.y * joint_colour(v.joints_a.y)
        + v.weights_a.z * joint_colour(v.joints_a.z) + v.weights_a.w * joint_colour(v.joints_a.w)
        + v.weights_b.x * joint_colour(v.joints_b.x) + v.weights_b.y * joint_colour(v.joints_b.y)
        + v.weights_b.z * joint_colour(v.joints_b.z) + v.weights_b.w * joint_colour(v.joints_b.w);
    return vec4(c / total, 1.0);
}

@vertex
fn vertex(v: Vertex) -> VertexOutput {
    var out: VertexOutput;
    let skin = blend(v.joints_a, v.joints_b, v.weights_a, v.weights_b);
    let world_from_local = mesh_functions::get_world_from_local(v.instance_index);
    let world_from_mesh = world_from_local * skin;
    out.world_position = world_from_mesh * vec4(morphed(v.position, v.morph_index), 1.0);
    out.position = position_world_to_clip(out.world_position.xyz);
    out.world_normal = skin_normal(world_from_mesh, v.normal);
#ifdef VERTEX_UVS_A
    out.uv = v.uv;
#endif
#ifdef VERTEX_COLORS
    out.color = overlay(v);
#endif
#ifdef VERTEX_OUTPUT_INSTANCE_INDEX
    out.instance_index = v.instance_index;
#endif
    return out;
}

@fragment
fn fragment(in: VertexOutput, @builtin(front_facing) is_front: bool) -> FragmentOutput {
    var pbr_input = pbr_input_from_standard_material(in, is_front);
#ifdef VERTEX_COLORS
    if rig_view.mode != 0u {
        // The overlay replaces the file's colours and textures.
        pbr_input.material.base_color = vec4(in.color.rgb, pbr_input.material.base_color.a);
        pbr_input.material.metallic = 0.0;
        pbr_input.material.perceptual_roughness = 0.9;
    }
#endif
    pbr_input.material.base_color = alpha_discard(pbr_input.material, pbr_input.material.base_color);
    var out: FragmentOutput;
    out.color = apply_pbr_lighting(pbr_input);
#ifdef VERTEX_COLORS
    if rig_view.mode != 0u {
        // Half unlit, so the overlay's colours read the same on lit and shaded sides.
        out.color = vec4(mix(out.color.rgb, in.color.rgb, 0.5), out.color.a);
    }
#endif
    out.color = main_pass_post_lighting_processing(pbr_input, out.color);
    return out;
}
