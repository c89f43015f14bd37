//! OBJ and RigNet import on real files, and glTF features that need specific samples.

mod common;

#[test]
fn rignet_rig_and_plain_obj_describe_the_same_mesh() {
    let dir = common::samples().join("rignet");
    let rigged = rig_io::load(&dir.join("RiggedFigure_rig.txt")).expect("RigNet loads").rig;
    let plain = rig_io::load(&dir.join("RiggedFigure.obj")).expect("OBJ loads").rig;
    assert_eq!(rigged.mesh.triangle_count(), plain.mesh.triangle_count());
    let (a, b) = (rigged.mesh.bounds().expect("bounds"), plain.mesh.bounds().expect("bounds"));
    assert!((0..3).all(|k| (a.min[k] - b.min[k]).abs() < 1e-5 && (a.max[k] - b.max[k]).abs() < 1e-5));
    assert!(plain.skeleton.is_empty());
    assert_eq!(rigged.skeleton.len(), 19);
    assert_eq!(rigged.unweighted_skinned_vertices(), 0);
    let sums = rigged.weights.sums();
    assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5));
}

#[test]
fn rignet_joints_sit_inside_the_mesh_bounds() {
    let rig = rig_io::load(&common::samples().join("rignet/RiggedFigure_rig.txt")).expect("loads").rig;
    let b = rig.mesh.bounds().expect("bounds");
    let pad = 0.05 * b.diagonal();
    for (j, p) in rig.skeleton.joints.iter().zip(rig.skeleton.rest_positions()) {
        assert!((0..3).all(|k| p[k] >= b.min[k] - pad && p[k] <= b.max[k] + pad), "{} at {p:?}", j.name);
    }
}

#[test]
fn two_skins_become_one_skeleton() {
    let rig = rig_io::load(&common::samples().join("kenney_mini_character/player.glb")).expect("loads").rig;
    assert_eq!(rig.skeleton.joints.iter().filter(|j| j.deform).count(), 7);
    assert_eq!(rig.mesh.groups.len(), 2, "body and head meshes");
    assert_eq!(rig.unweighted_skinned_vertices(), 0);
}

#[test]
fn byte_stride_on_ibm_and_animation_accessors_is_read() {
    // threejs SimpleSkinning writes byteStride where the spec forbids it; the animation must still play.
    let rig = rig_io::load(&common::samples().join("threejs_simpleskinning/SimpleSkinning.gltf")).expect("loads").rig;
    assert_eq!(rig.clips.len(), 1);
    let clip = &rig.clips[0];
    assert!(clip.duration_secs() > 0.0);
    let mut pose = rig_core::Pose::rest(&rig.skeleton);
    clip.apply(clip.duration_secs() * 0.5, &mut pose);
    let moved = pose.local.iter().zip(&rig.skeleton.joints).any(|(p, j)| (p.rotation.angle_to(&j.rest_local.rotation)) > 1e-3);
    assert!(moved, "mid-clip pose differs from rest");
    assert!(rig.skeleton.joints.iter().all(|j| j.joint_from_mesh.iter().all(|v| v.is_finite())));
}

#[test]
fn animated_fox_deforms_with_its_walk_clip() {
    let rig = rig_io::load(&common::samples().join("khronos_fox/Fox.glb")).expect("loads").rig;
    let walk = rig.clips.iter().find(|c| c.name == "Walk").expect("Walk clip");
    let mut pose = rig_core::Pose::rest(&rig.skeleton);
    walk.apply(0.3, &mut pose);
    let posed = rig_core::lbs::skin_positions(&rig.mesh.positions, &rig.weights, &pose.skinning_matrices(&rig.skeleton));
    let diag = rig.mesh.bounds().expect("bounds").diagonal();
    let moved = posed
        .iter()
        .zip(&rig.mesh.positions)
        .map(|(a, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt())
        .fold(0.0, f32::max);
    assert!(moved > 0.01 * diag && moved < diag, "moved {moved} of diag {diag}");
}

/// A second UV set (Kenney's character has TEXCOORD_1) is kept, written to GLB and FBX, and
/// read back the same.
#[test]
fn a_second_uv_set_survives_glb_and_fbx() {
    let rig = rig_io::load(&common::samples().join("kenney_mini_character/player.glb")).expect("sample").rig;
    assert_eq!(rig.mesh.extra_uvs.len(), 1, "TEXCOORD_1 was not read");
    assert_eq!(rig.mesh.extra_uvs[0].len(), rig.mesh.vertex_count());
    let dir = std::env::temp_dir().join(format!("rigsmith-uvsets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for ext in ["glb", "fbx"] {
        let out = dir.join(format!("player.{ext}"));
        rig_io::save(&rig, &out, &rig_io::ExportOptions::default()).expect("export");
        let back = rig_io::load(&out).expect("read back").rig;
        assert_eq!(back.mesh.extra_uvs.len(), 1, "{ext}: the second UV set was not written");
        let (a, b) = (&rig.mesh.extra_uvs[0], &back.mesh.extra_uvs[0]);
        assert_eq!(a.len(), b.len(), "{ext}");
        let worst = a.iter().zip(b).map(|(p, q)| (p[0] - q[0]).abs().max((p[1] - q[1]).abs())).fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "{ext}: UV set 1 differs by {worst}");
    }
}
