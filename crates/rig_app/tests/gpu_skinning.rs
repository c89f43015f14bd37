//! GPU linear blend skinning against the CPU reference: `shaders/lbs.wgsl` (the function the
//! editor's material skins with) runs in a compute pass over a random rig with 8 influences per
//! vertex, packed by the editor's own `scene::influences`; the deformed positions are read back
//! and compared with `rig_core::lbs::skin_positions`. Goal: within 1e-4 of the bounding-box
//! diagonal.
//!
//! Needs a Vulkan adapter (Mesa's lavapipe is enough). Without one the test prints why and
//! passes, unless RIGSMITH_REQUIRE_GPU=1 (CI sets it) makes that a failure.

use nalgebra::{UnitQuaternion, Vector3};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rig_core::{Joint, Mat4, Pose, Skeleton, SkinWeights, Trs};
use wgpu::util::DeviceExt;

const VERTICES: usize = 20_000;
const JOINTS: usize = 48;

fn random_rig(rng: &mut StdRng) -> (Skeleton, SkinWeights, Vec<[f32; 3]>) {
    let mut joints = Vec::new();
    for j in 0..JOINTS {
        let parent = (j > 0).then(|| rng.gen_range(0..j));
        let t = Vector3::new(rng.gen_range(-0.3..0.3), rng.gen_range(0.0..0.4), rng.gen_range(-0.3..0.3));
        joints.push(Joint {
            name: format!("j{j}"),
            parent,
            rest_local: Trs { translation: t, ..Trs::IDENTITY },
            joint_from_mesh: Mat4::identity(),
            deform: true,
            in_skin: true,
        });
    }
    let mut skeleton = Skeleton { joints, ..Default::default() };
    skeleton.bind_to_rest();
    let positions: Vec<[f32; 3]> =
        (0..VERTICES).map(|_| [rng.gen_range(-1.0..1.0), rng.gen_range(0.0..2.0), rng.gen_range(-1.0..1.0)]).collect();
    let rows: Vec<Vec<(u32, f32)>> = (0..VERTICES)
        .map(|_| {
            let mut picked: Vec<u32> = Vec::new();
            while picked.len() < 8 {
                let j = rng.gen_range(0..JOINTS as u32);
                if !picked.contains(&j) {
                    picked.push(j);
                }
            }
            let w: Vec<f32> = (0..8).map(|_| rng.gen_range(0.01..1.0)).collect();
            let total: f32 = w.iter().sum();
            picked.into_iter().zip(w).map(|(j, w)| (j, w / total)).collect()
        })
        .collect();
    (skeleton, SkinWeights::from_rows(rows), positions)
}

fn random_pose(skeleton: &Skeleton, rng: &mut StdRng) -> Vec<Mat4> {
    let mut pose = Pose::rest(skeleton);
    for local in &mut pose.local {
        local.rotation = UnitQuaternion::from_euler_angles(rng.gen_range(-0.8..0.8), rng.gen_range(-0.8..0.8), rng.gen_range(-0.8..0.8))
            * local.rotation;
        local.translation += Vector3::new(rng.gen_range(-0.05..0.05), rng.gen_range(-0.05..0.05), rng.gen_range(-0.05..0.05));
    }
    pose.skinning_matrices(skeleton)
}

/// lbs.wgsl made standalone: its import path line dropped, the material group set to 0, and a
/// compute entry point that skins one vertex per invocation.
fn compute_source() -> String {
    let lbs = include_str!("../../../shaders/lbs.wgsl");
    let body: String = lbs.lines().filter(|l| !l.starts_with("#define_import_path")).collect::<Vec<_>>().join("\n");
    body.replace("#{MATERIAL_BIND_GROUP}", "0")
        + r#"
struct Influence { joints_a: vec4<u32>, joints_b: vec4<u32>, weights_a: vec4<f32>, weights_b: vec4<f32> };
@group(0) @binding(0) var<storage, read> positions: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> influences: array<Influence>;
@group(0) @binding(2) var<storage, read_write> skinned: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if i >= arrayLength(&positions) { return; }
    let f = influences[i];
    skinned[i] = blend(f.joints_a, f.joints_b, f.weights_a, f.weights_b) * vec4(positions[i].xyz, 1.0);
}
"#
}

fn f32_bytes(v: impl IntoIterator<Item = f32>) -> Vec<u8> {
    v.into_iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn gpu() -> Option<(wgpu::Device, wgpu::Queue, String)> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = bevy::tasks::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default())).ok()?;
    let name = format!("{} ({:?})", adapter.get_info().name, adapter.get_info().backend);
    let (device, queue) = bevy::tasks::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default())).ok()?;
    Some((device, queue, name))
}

#[test]
fn gpu_skinning_with_8_influences_matches_the_cpu_reference() {
    let Some((device, queue, adapter)) = gpu() else {
        assert!(std::env::var("RIGSMITH_REQUIRE_GPU").is_err(), "no GPU adapter (install mesa-vulkan-drivers for lavapipe)");
        eprintln!("skipped: no GPU adapter (install mesa-vulkan-drivers for lavapipe)");
        return;
    };
    let mut rng = StdRng::seed_from_u64(11);
    let (skeleton, weights, positions) = random_rig(&mut rng);
    let matrices = random_pose(&skeleton, &mut rng);
    let reference = rig_core::lbs::skin_positions(&positions, &weights, &matrices);

    let (ja, jb, wa, wb) = rig_app::scene::influences(&weights, 0..VERTICES);
    assert!(wb.iter().all(|w| w.iter().all(|&x| x > 0.0)), "every vertex uses all 8 influences");
    let mut influence_bytes = Vec::with_capacity(VERTICES * 64);
    for v in 0..VERTICES {
        influence_bytes.extend(ja[v].iter().chain(&jb[v]).flat_map(|j| j.to_le_bytes()));
        influence_bytes.extend(f32_bytes(wa[v].iter().chain(&wb[v]).copied()));
    }
    let position_bytes = f32_bytes(positions.iter().flat_map(|p| [p[0], p[1], p[2], 1.0]));
    let matrix_bytes = rig_app::rig_material::matrix_bytes(&matrices, matrices.len());

    let storage = |label: &str, contents: &[u8]| {
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some(label), contents, usage: wgpu::BufferUsages::STORAGE })
    };
    let (pos_buf, inf_buf, mat_buf) =
        (storage("positions", &position_bytes), storage("influences", &influence_bytes), storage("matrices", &matrix_bytes));
    let size = (VERTICES * 16) as u64;
    let out_buf = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("skinned"),
        size,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let read_buf = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("read"),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });

    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("lbs"),
        source: wgpu::ShaderSource::Wgsl(compute_source().into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("lbs"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry { binding: 0, resource: pos_buf.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 1, resource: inf_buf.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 2, resource: out_buf.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 100, resource: mat_buf.as_entire_binding() },
        ],
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(VERTICES.div_ceil(64) as u32, 1, 1);
    }
    encoder.copy_buffer_to_buffer(&out_buf, 0, &read_buf, 0, size);
    queue.submit([encoder.finish()]);
    read_buf.slice(..).map_async(wgpu::MapMode::Read, |r| r.expect("map the read-back buffer"));
    device.poll(wgpu::PollType::wait_indefinitely()).expect("the GPU finishes");
    let bytes = read_buf.slice(..).get_mapped_range().to_vec();
    let gpu: Vec<[f32; 3]> =
        bytes.chunks_exact(16).map(|c| std::array::from_fn(|k| f32::from_le_bytes(c[k * 4..k * 4 + 4].try_into().unwrap()))).collect();

    let diag = rig_core::mesh::Aabb::of_points(&reference).expect("vertices").diagonal();
    let worst = gpu.iter().zip(&reference).map(|(g, c)| (0..3).map(|k| (g[k] - c[k]).powi(2)).sum::<f32>().sqrt()).fold(0.0, f32::max);
    eprintln!("GPU skinning on {adapter}: {VERTICES} vertices x 8 influences, worst error {:.2e} of the diagonal", worst / diag);
    assert!(worst / diag <= 1e-4, "GPU and CPU skinning differ by {:.2e} of the diagonal", worst / diag);
}
