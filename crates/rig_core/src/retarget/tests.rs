//! Retargeting between two built skeletons whose answer is known: the target is the source
//! scaled, turned to face another way, resting in an A-pose and with every joint's axes along
//! its bone (as Blender and Mixamo write them), under other names.

use nalgebra::{Point3, UnitQuaternion, Vector3};

use super::*;
use crate::animation::{Channel, ChannelValues, Interpolation};
use crate::pose::Pose;
use crate::skeleton::Joint;
use crate::transform::Trs;

/// (source name, target name, parent, position in the source's T-pose).
const BODY: [(&str, &str, Option<usize>, [f32; 3]); 16] = [
    ("mixamorig:Hips", "pelvis", None, [0.0, 1.0, 0.0]),
    ("mixamorig:Spine", "spine_01", Some(0), [0.0, 1.2, 0.0]),
    ("mixamorig:Neck", "neck_01", Some(1), [0.0, 1.5, 0.0]),
    ("mixamorig:Head", "head", Some(2), [0.0, 1.65, 0.0]),
    ("mixamorig:LeftArm", "upperarm_l", Some(1), [0.2, 1.45, 0.0]),
    ("mixamorig:LeftForeArm", "lowerarm_l", Some(4), [0.5, 1.45, 0.0]),
    ("mixamorig:LeftHand", "hand_l", Some(5), [0.75, 1.45, 0.0]),
    ("mixamorig:RightArm", "upperarm_r", Some(1), [-0.2, 1.45, 0.0]),
    ("mixamorig:RightForeArm", "lowerarm_r", Some(7), [-0.5, 1.45, 0.0]),
    ("mixamorig:RightHand", "hand_r", Some(8), [-0.75, 1.45, 0.0]),
    ("mixamorig:LeftUpLeg", "thigh_l", Some(0), [0.1, 0.95, 0.0]),
    ("mixamorig:LeftLeg", "calf_l", Some(10), [0.1, 0.5, 0.02]),
    ("mixamorig:LeftFoot", "foot_l", Some(11), [0.1, 0.05, 0.0]),
    ("mixamorig:RightUpLeg", "thigh_r", Some(0), [-0.1, 0.95, 0.0]),
    ("mixamorig:RightLeg", "calf_r", Some(13), [-0.1, 0.5, 0.02]),
    ("mixamorig:RightFoot", "foot_r", Some(14), [-0.1, 0.05, 0.0]),
];

/// A skeleton resting (and bound) with joints at `positions` oriented as `orientations`.
fn skeleton(names: &[&str], positions: &[Vector3<f32>], orientations: &[UnitQuaternion<f32>]) -> Skeleton {
    let world = |j: usize| Trs { translation: positions[j], rotation: orientations[j], scale: Vector3::repeat(1.0) }.to_matrix();
    let joints = BODY
        .iter()
        .enumerate()
        .map(|(j, &(_, _, parent, _))| {
            let parent_from_model = parent.map_or(Mat4::identity(), |p| world(p).try_inverse().expect("invertible"));
            Joint {
                name: names[j].to_string(),
                parent,
                rest_local: Trs::from_matrix(&(parent_from_model * world(j))).expect("rigid"),
                joint_from_mesh: world(j).try_inverse().expect("invertible"),
                deform: true,
                in_skin: true,
            }
        })
        .collect();
    Skeleton { joints, source_skin: None }
}

fn source() -> Skeleton {
    let names: Vec<&str> = BODY.iter().map(|b| b.0).collect();
    let positions: Vec<Vector3<f32>> = BODY.iter().map(|b| Vector3::from(b.3)).collect();
    skeleton(&names, &positions, &vec![UnitQuaternion::identity(); BODY.len()])
}

/// The source 1.5 times larger, facing +X instead of +Z, arms 40 degrees down, axes along bones.
fn target() -> Skeleton {
    let names: Vec<&str> = BODY.iter().map(|b| b.1).collect();
    let face = UnitQuaternion::from_axis_angle(&Vector3::y_axis(), std::f32::consts::FRAC_PI_2);
    let arm_down = |side: f32| UnitQuaternion::from_axis_angle(&Vector3::z_axis(), -side * 40f32.to_radians());
    let positions: Vec<Vector3<f32>> = BODY
        .iter()
        .enumerate()
        .map(|(j, b)| {
            let p = Vector3::from(b.3);
            let (side, shoulder) = match j {
                5 | 6 => (1.0, Vector3::from(BODY[4].3)),
                8 | 9 => (-1.0, Vector3::from(BODY[7].3)),
                _ => (0.0, p),
            };
            let posed = if side == 0.0 { p } else { shoulder + arm_down(side) * (p - shoulder) };
            face * (posed * 1.5)
        })
        .collect();
    let along_bone: Vec<UnitQuaternion<f32>> = (0..BODY.len())
        .map(|j| {
            let child = BODY.iter().position(|b| b.2 == Some(j));
            let dir = child.map_or(Vector3::y(), |c| positions[c] - positions[j]);
            UnitQuaternion::rotation_between(&Vector3::y(), &dir).unwrap_or_else(UnitQuaternion::identity)
        })
        .collect();
    skeleton(&names, &positions, &along_bone)
}

fn rotation_channel(joint: usize, axis: Vector3<f32>, degrees: [f32; 3]) -> Channel {
    let keys = degrees
        .iter()
        .map(|d| {
            let q = UnitQuaternion::from_axis_angle(&nalgebra::Unit::new_normalize(axis), d.to_radians());
            [q.i, q.j, q.k, q.w]
        })
        .collect();
    Channel { joint, times: vec![0.0, 0.5, 1.0], values: ChannelValues::Rotation(keys), interpolation: Interpolation::Linear }
}

/// Arms raised and bent, a leg swung, the hips swaying and walking forward.
fn clip() -> Clip {
    let hips = Channel {
        joint: 0,
        times: vec![0.0, 0.5, 1.0],
        values: ChannelValues::Translation(vec![[0.0, 1.0, 0.0], [0.0, 0.95, 0.25], [0.0, 1.0, 0.5]]),
        interpolation: Interpolation::Linear,
    };
    let channels = vec![
        hips,
        rotation_channel(0, Vector3::y(), [0.0, 10.0, -5.0]),
        rotation_channel(4, Vector3::z(), [0.0, 30.0, 60.0]),
        rotation_channel(5, Vector3::y(), [0.0, 45.0, 20.0]),
        rotation_channel(7, Vector3::x(), [0.0, -30.0, -50.0]),
        rotation_channel(13, Vector3::x(), [0.0, 30.0, -20.0]),
        rotation_channel(14, Vector3::x(), [0.0, 40.0, 10.0]),
    ];
    Clip { name: "test".into(), channels, morph_channels: Vec::new() }
}

#[test]
fn a_clip_moves_another_characters_hands_feet_and_head_along_the_same_paths() {
    let (s, t) = (source(), target());
    let up = [0.0, 1.0, 0.0];
    let (cs, ct) = (Character { skeleton: &s, up, model_from_mesh: None }, Character { skeleton: &t, up, model_from_mesh: None });
    let clip = clip();
    let corrected = retarget_between(cs, std::slice::from_ref(&clip), ct).expect("pairs");
    assert_eq!(corrected.pairs.len(), BODY.len(), "every joint pairs through its role");
    let error = effector_path_error(cs, &clip, ct, &corrected.clips[0]).expect("scored");
    assert_eq!(error.effectors.len(), 5);
    let copied = copy_by_name(&s, std::slice::from_ref(&clip), &t).expect("pairs");
    let copy_error = effector_path_error(cs, &clip, ct, &copied.clips[0]).expect("scored");
    eprintln!("corrected {:.4} % (max {:.4}), copied {:.2} % (max {:.2})", error.mean, error.max, copy_error.mean, copy_error.max);
    assert!(error.max < 0.05, "corrected retarget strays {} % of height", error.max);
    assert!(copy_error.mean > 5.0, "the plain copy should miss: {} %", copy_error.mean);
}

#[test]
fn at_the_clips_start_an_a_pose_target_takes_the_sources_t_pose() {
    let (s, t) = (source(), target());
    let up = [0.0, 1.0, 0.0];
    let still = Clip { name: "still".into(), channels: vec![rotation_channel(4, Vector3::z(), [0.0; 3])], morph_channels: Vec::new() };
    let out = retarget_between(
        Character { skeleton: &s, up, model_from_mesh: None },
        &[still],
        Character { skeleton: &t, up, model_from_mesh: None },
    )
    .expect("pairs");
    let mut pose = Pose::rest(&t);
    out.clips[0].apply(0.0, &mut pose);
    let p: Vec<Point3<f32>> = pose.model_from_joints(&t).iter().map(|m| Point3::from(point(m))).collect();
    let arm = (p[6] - p[4]).normalize();
    // T-pose arm, turned to face +X: along -Z (the character's left).
    assert!((arm - Vector3::new(0.0, 0.0, -1.0)).norm() < 1e-3, "left arm points {arm:?}");
}

#[test]
fn a_character_retargeted_onto_itself_keeps_its_clip() {
    let s = source();
    let c = Character { skeleton: &s, up: [0.0, 1.0, 0.0], model_from_mesh: None };
    let clip = clip();
    let out = retarget_between(c, std::slice::from_ref(&clip), c).expect("pairs");
    let error = effector_path_error(c, &clip, c, &out.clips[0]).expect("scored");
    assert!(error.max < 1e-3, "{error:?}");
}
