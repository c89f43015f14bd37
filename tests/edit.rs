//! Skeleton edits on a real rig (the Fox sample): every edit keeps the rig valid, keeps the
//! other joints where they were, keeps the bind pose reproducing the stored mesh, and survives
//! a GLB round trip.

use rig_core::edit::{self, bind_position};
use rig_core::{Pose, Rig};

fn fox() -> Rig {
    rig_io::load(std::path::Path::new("assets/samples/khronos_fox/Fox.glb")).expect("bundled sample").rig
}

/// Largest distance between the stored mesh and the mesh skinned in the bind pose.
fn bind_pose_error(rig: &Rig) -> f32 {
    let m = Pose::bind(&rig.skeleton).skinning_matrices(&rig.skeleton);
    let posed = rig_core::lbs::skin_positions(&rig.mesh.positions, &rig.weights, &m);
    posed.iter().zip(&rig.mesh.positions).map(|(a, b)| (0..3).map(|k| (a[k] - b[k]).abs()).fold(0.0, f32::max)).fold(0.0, f32::max)
}

fn joint_named(rig: &Rig, name: &str) -> usize {
    rig.skeleton.find(name).unwrap_or_else(|| panic!("no joint {name}"))
}

fn positions_by_name(rig: &Rig) -> Vec<(String, [f32; 3])> {
    (0..rig.skeleton.len()).map(|j| (rig.skeleton.joints[j].name.clone(), bind_position(&rig.skeleton, j))).collect()
}

fn close(a: [f32; 3], b: [f32; 3], tol: f32) -> bool {
    (0..3).all(|k| (a[k] - b[k]).abs() <= tol)
}

#[test]
fn moving_a_joint_moves_only_it_and_survives_export() {
    let mut rig = fox();
    let before = positions_by_name(&rig);
    let elbow = (1..rig.skeleton.len()).find(|&j| rig.skeleton.joints[j].deform && rig.skeleton.children(j).count() > 0).unwrap();
    let p = bind_position(&rig.skeleton, elbow);
    let target = [p[0] + 3.0, p[1] - 2.0, p[2] + 1.0];
    edit::move_joint(&mut rig, elbow, target).unwrap();
    rig.validate().unwrap();
    assert!(close(bind_position(&rig.skeleton, elbow), target, 1e-3));
    for (j, (name, pos)) in before.iter().enumerate().filter(|(j, _)| *j != elbow) {
        assert!(close(bind_position(&rig.skeleton, j), *pos, 1e-3), "{name} moved");
    }
    assert!(bind_pose_error(&rig) < 1e-3, "bind pose no longer reproduces the mesh: {}", bind_pose_error(&rig));
    // Rest = bind for the moved joint: its rest model position is the target.
    let rest = rig.skeleton.rest_positions();
    assert!(close(rest[elbow], target, 1e-2), "rest {:?} vs {:?}", rest[elbow], target);

    let dir = std::env::temp_dir().join(format!("rigsmith-edit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("moved.glb");
    rig_io::save(&rig, &out, &rig_io::ExportOptions::default()).unwrap();
    let back = rig_io::load(&out).unwrap().rig;
    let name = &rig.skeleton.joints[elbow].name;
    assert!(close(bind_position(&back.skeleton, joint_named(&back, name)), target, 1e-3));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn delete_split_reparent_and_add_keep_the_rig_valid() {
    let mut rig = fox();
    let n = rig.skeleton.len();
    let victim = (1..n).find(|&j| rig.skeleton.children(j).count() > 0 && rig.weights.vertices_per_joint(n)[j] > 0).unwrap();
    let victim_name = rig.skeleton.joints[victim].name.clone();
    let parent_name = rig.skeleton.joints[rig.skeleton.joints[victim].parent.unwrap()].name.clone();
    let child_names: Vec<String> = rig.skeleton.children(victim).map(|c| rig.skeleton.joints[c].name.clone()).collect();
    let before = positions_by_name(&rig);
    edit::delete_joint(&mut rig, victim).unwrap();
    rig.validate().unwrap();
    assert_eq!(rig.skeleton.len(), n - 1);
    assert!(rig.skeleton.find(&victim_name).is_none());
    for c in &child_names {
        let parent = rig.skeleton.joints[joint_named(&rig, c)].parent.unwrap();
        assert_eq!(rig.skeleton.joints[parent].name, parent_name);
    }
    for (name, pos) in before.iter().filter(|(name, _)| *name != victim_name) {
        assert!(close(bind_position(&rig.skeleton, joint_named(&rig, name)), *pos, 1e-3), "{name} moved");
    }
    assert!(rig.weights.sums().iter().all(|s| *s == 0.0 || (s - 1.0).abs() < 1e-4));
    assert!(bind_pose_error(&rig) < 1e-3);

    let leaf =
        (0..rig.skeleton.len()).rev().find(|&j| rig.skeleton.children(j).count() == 0 && rig.skeleton.joints[j].parent.is_some()).unwrap();
    let leaf_name = rig.skeleton.joints[leaf].name.clone();
    let mid = edit::split_bone(&mut rig, leaf).unwrap();
    rig.validate().unwrap();
    let leaf = joint_named(&rig, &leaf_name);
    assert_eq!(rig.skeleton.joints[leaf].parent, Some(mid));

    // Re-parenting a root-level joint under a later joint re-orders the joints.
    let root = rig.skeleton.roots().next().unwrap();
    let late = rig.skeleton.len() - 1;
    assert_eq!(edit::reparent(&mut rig, root, late), Err(edit::EditError::Cycle));
    let first_child = rig.skeleton.children(root).next().unwrap();
    let first_child_name = rig.skeleton.joints[first_child].name.clone();
    let other = (0..rig.skeleton.len()).rev().find(|&j| !rig.skeleton.is_descendant(j, first_child)).unwrap();
    let other_name = rig.skeleton.joints[other].name.clone();
    let before = positions_by_name(&rig);
    edit::reparent(&mut rig, first_child, other).unwrap();
    rig.validate().unwrap();
    let fc = joint_named(&rig, &first_child_name);
    assert_eq!(rig.skeleton.joints[rig.skeleton.joints[fc].parent.unwrap()].name, other_name);
    for (name, pos) in &before {
        assert!(close(bind_position(&rig.skeleton, joint_named(&rig, name)), *pos, 1e-3), "{name} moved");
    }
    assert!(bind_pose_error(&rig) < 1e-3);

    let added = edit::add_child(&mut rig, fc, [1.0, 2.0, 3.0], "tip").unwrap();
    rig.validate().unwrap();
    assert!(close(bind_position(&rig.skeleton, added), [1.0, 2.0, 3.0], 1e-3));
    assert_eq!(edit::rename(&mut rig, added, "  "), Err(edit::EditError::EmptyName));
    edit::rename(&mut rig, added, "tail_tip").unwrap();
    assert_eq!(rig.skeleton.joints[added].name, "tail_tip");
}
