#define_import_path rigsmith::lbs

// Linear blend skinning with up to 8 influences per vertex, shared by the editor's material
// (rig_material.wgsl) and the read-back test (crates/rig_app/tests/gpu_skinning.rs).
// The CPU reference is crates/rig_core/src/lbs.rs: v' = sum_i w_i * skin_from_mesh[j_i] * v.

// One matrix per joint: model_from_joint (current pose) * joint_from_mesh (inverse bind).
@group(#{MATERIAL_BIND_GROUP}) @binding(100) var<storage, read> skin_from_mesh: array<mat4x4<f32>>;

// The blended matrix of a vertex; a vertex without weight keeps its place (identity).
fn blend(joints_a: vec4<u32>, joints_b: vec4<u32>, weights_a: vec4<f32>, weights_b: vec4<f32>) -> mat4x4<f32> {
    let total = dot(weights_a, vec4(1.0)) + dot(weights_b, vec4(1.0));
    if total <= 0.0 {
        return mat4x4<f32>(vec4(1.0, 0.0, 0.0, 0.0), vec4(0.0, 1.0, 0.0, 0.0), vec4(0.0, 0.0, 1.0, 0.0), vec4(0.0, 0.0, 0.0, 1.0));
    }
    var m = weights_a.x * skin_from_mesh[joints_a.x];
    m += weights_a.y * skin_from_mesh[joints_a.y];
    m += weights_a.z * skin_from_mesh[joints_a.z];
    m += weights_a.w * skin_from_mesh[joints_a.w];
    m += weights_b.x * skin_from_mesh[joints_b.x];
    m += weights_b.y * skin_from_mesh[joints_b.y];
    m += weights_b.z * skin_from_mesh[joints_b.z];
    m += weights_b.w * skin_from_mesh[joints_b.w];
    return m;
}

// Normals go through the cofactor of the blended linear part (the inverse transpose up to a
// positive factor when the determinant is positive), then are renormalised.
fn skin_normal(m: mat4x4<f32>, n: vec3<f32>) -> vec3<f32> {
    let c0 = m[0].xyz;
    let c1 = m[1].xyz;
    let c2 = m[2].xyz;
    let cofactor = mat3x3<f32>(cross(c1, c2), cross(c2, c0), cross(c0, c1));
    let sign = select(-1.0, 1.0, dot(c0, cross(c1, c2)) >= 0.0);
    let out = sign * (cofactor * n);
    let len = length(out);
    return select(n, out / len, len > 1e-12);
}
