//! The walk test motion finds the legs of real characters, whatever their joint names, and
//! moves the feet of a pair in opposite directions.

use std::path::Path;

use nalgebra::Point3;
use rig_core::walk::{find_gait, pose_walk, WALK_PERIOD};
use rig_core::Rig;

fn load(rel: &str) -> Rig {
    rig_io::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)).expect("bundled sample loads").rig
}

/// Each sole's displacement along the front axis a quarter cycle after `time` (the sole moves
/// with its foot joint's skinning matrix).
fn foot_travel(rig: &Rig, time: f32) -> Vec<f32> {
    let gait = find_gait(rig).expect("legs found");
    let at = |t: f32| {
        let mut model = rig.skeleton.model_from_joints_bind();
        pose_walk(&rig.skeleton, &gait, &mut model, t);
        gait.legs
            .iter()
            .map(|l| {
                let skin = model[l.foot] * rig.skeleton.joints[l.foot].joint_from_mesh;
                skin.transform_point(&Point3::from(l.sole)).coords.dot(&gait.front)
            })
            .collect::<Vec<f32>>()
    };
    at(time + WALK_PERIOD / 4.0).iter().zip(at(time)).map(|(b, a)| b - a).collect()
}

#[test]
fn a_biped_walks_with_alternating_legs() {
    let rig = load("assets/samples/kenney_mini_character/player.glb");
    let gait = find_gait(&rig).expect("Kenney's character has legs");
    assert_eq!(gait.legs.len(), 2, "{gait:?}");
    assert!((gait.legs[0].phase - gait.legs[1].phase).abs() > 3.0, "the two legs are half a cycle apart");
    assert!(gait.front.dot(&gait.up).abs() < 1e-4 && gait.lateral.dot(&gait.up).abs() < 1e-4);
    assert!(gait.front.z > 0.9, "glTF characters face +Z: {:?}", gait.front);
    for leg in &gait.legs {
        assert!(leg.knee.is_none_or(|k| k != leg.hip && rig.skeleton.is_descendant(k, leg.hip)), "a knee lies inside its leg: {leg:?}");
    }
    let travel = foot_travel(&rig, 0.0);
    assert!(travel[0] * travel[1] < 0.0, "one foot goes forward while the other goes back: {travel:?}");
    let leading = gait.legs.iter().position(|l| l.phase == 0.0).expect("a leg starts the cycle");
    assert!(travel[leading] > 0.0, "the leg that starts the cycle swings forward first: {travel:?}");
    // The hips stay put: the walk moves legs only (no joint above a hip turns).
    let mut model = rig.skeleton.model_from_joints_bind();
    let bind = model.clone();
    pose_walk(&rig.skeleton, &gait, &mut model, 0.3);
    let torso = rig.skeleton.find("torso").expect("Kenney's torso joint");
    assert!((model[torso] - bind[torso]).abs().max() < 1e-6, "the torso does not move");
}

#[test]
fn a_quadruped_trots_with_diagonal_legs_together() {
    let rig = load("assets/samples/khronos_fox/Fox.glb");
    let gait = find_gait(&rig).expect("the fox has legs");
    assert_eq!(gait.legs.len(), 4, "{gait:?}");
    let names: Vec<&str> = gait.legs.iter().map(|l| rig.skeleton.joints[l.hip].name.as_str()).collect();
    let in_phase = gait.legs.iter().filter(|l| l.phase == 0.0).count();
    assert_eq!(in_phase, 2, "two legs in each phase: {names:?}");
    let travel = foot_travel(&rig, 0.0);
    assert!(travel.iter().filter(|t| **t > 0.0).count() == 2, "two feet forward, two back: {travel:?} ({names:?})");
}

#[test]
fn a_legless_rig_has_no_gait() {
    let rig = load("assets/samples/khronos_riggedsimple/RiggedSimple.glb");
    assert!(find_gait(&rig).is_none());
}
