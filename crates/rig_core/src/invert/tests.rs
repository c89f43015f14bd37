use super::*;
use crate::creature::{creature, motion::random_motion, CreatureOptions};
use crate::motion::bake::posed_positions;

fn creature_with_motion(seed: u64, frames: usize) -> (Rig, Vec<Vec<[f32; 3]>>, Vec<f32>) {
    let mut rig = creature(seed, &CreatureOptions::default());
    let clip = random_motion(&rig.skeleton, seed, frames, 24.0);
    let times = clip.key_times();
    let targets = times.iter().map(|&t| posed_positions(&rig, &clip, t)).collect();
    rig.clips = vec![clip];
    (rig, targets, times)
}

#[test]
fn exact_skinned_targets_are_reproduced_and_their_joint_angles_recovered() {
    let (rig, targets, times) = creature_with_motion(7, 12);
    let inv = invert(&rig, &targets, &InvertOptions::default(), &Task::silent()).expect("solves");
    assert!(inv.mean_error() < 1e-6, "mean error {} of the diagonal", inv.mean_error());
    // Joint angles against the clip, for joints that carry weights.
    let mut worst = 0.0f32;
    for (f, &t) in times.iter().enumerate() {
        let mut truth = Pose::rest(&rig.skeleton);
        rig.clips[0].apply(t, &mut truth);
        for &j in &inv.rotated {
            worst = worst.max(truth.local[j].rotation.angle_to(&inv.poses[f].local[j].rotation));
        }
    }
    assert!(worst < 1e-3, "largest joint-angle error {worst} rad");
    // The clip written from the solve plays the targets.
    let clip = to_clip(&rig, &inv, &times, "solved");
    for (f, &t) in times.iter().enumerate() {
        let e = frame_error(&posed_positions(&rig, &clip, t), &targets[f], inv.diagonal);
        assert!(e.max < 1e-5, "frame {f}: {e:?}");
    }
}

#[test]
fn noisy_targets_come_within_the_noise() {
    let (rig, mut targets, _) = creature_with_motion(3, 6);
    let clean = targets.clone();
    let sigma = 0.005 * diagonal(&targets[0]) as f32;
    let mut rng = crate::metrics::SplitMix(11);
    for frame in &mut targets {
        for p in frame.iter_mut() {
            for v in p.iter_mut() {
                *v += sigma * rng.gaussian();
            }
        }
    }
    let inv = invert(&rig, &targets, &InvertOptions::default(), &Task::silent()).expect("solves");
    let noise: f64 = clean.iter().zip(&targets).map(|(c, t)| frame_error(c, t, inv.diagonal).mean).sum::<f64>() / clean.len() as f64;
    assert!(inv.mean_error() <= 1.1 * noise, "error {} against the noise's own {}", inv.mean_error(), noise);
}

#[test]
fn a_joint_subset_is_solved_and_the_rest_keep_their_pose() {
    let (rig, targets, _) = creature_with_motion(5, 3);
    let name = rig.skeleton.joints[2].name.clone();
    let options = InvertOptions { joints: Some(vec![name]), ..Default::default() };
    let inv = invert(&rig, &targets, &options, &Task::silent()).expect("solves");
    assert_eq!(inv.rotated, vec![2]);
    for pose in &inv.poses {
        for (j, local) in pose.local.iter().enumerate() {
            if j != 2 {
                assert_eq!(*local, rig.skeleton.joints[j].rest_local);
            }
        }
    }
}

#[test]
fn bad_targets_and_names_are_refused_with_one_error_each() {
    let (rig, targets, _) = creature_with_motion(5, 2);
    let short = vec![targets[0][..10].to_vec()];
    assert!(matches!(invert(&rig, &short, &InvertOptions::default(), &Task::silent()), Err(InvertError::VertexCount { .. })));
    let mut nan = targets.clone();
    nan[1][4][1] = f32::NAN;
    assert_eq!(invert(&rig, &nan, &InvertOptions::default(), &Task::silent()).err(), Some(InvertError::NotFinite { frame: 1, vertex: 4 }));
    let options = InvertOptions { joints: Some(vec!["nope".into()]), ..Default::default() };
    assert!(matches!(invert(&rig, &targets, &options, &Task::silent()), Err(InvertError::UnknownJoint { .. })));
    let bare = Rig::unrigged("bare", rig.mesh.clone(), Default::default());
    assert_eq!(invert(&bare, &targets, &InvertOptions::default(), &Task::silent()).err(), Some(InvertError::NoControls("bare".into())));
}

/// A mesh with 52 random local shapes: known weights come back from the meshes they make.
#[test]
fn known_blendshape_weights_are_recovered() {
    let mesh = crate::test_shapes::subdivided(crate::test_shapes::box_mesh(&[([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])]), 3);
    let n = mesh.positions.len();
    let mut rig = Rig::unrigged("shapes", mesh, Default::default());
    let mut rng = crate::metrics::SplitMix(5);
    let shapes = 52;
    rig.mesh.groups = vec![crate::mesh::MeshGroup {
        name: "face".into(),
        morph_target_names: (0..shapes).map(|s| format!("s{s}")).collect(),
        morph_default_weights: vec![0.0; shapes],
    }];
    rig.mesh.parts[0].group = 0;
    rig.mesh.parts[0].morph_targets = (0..shapes)
        .map(|_| {
            let centre = rig.mesh.positions[(rng.unit() * n as f32) as usize % n];
            let deltas = rig
                .mesh
                .positions
                .iter()
                .map(|p| {
                    let d2: f32 = (0..3).map(|k| (p[k] - centre[k]).powi(2)).sum();
                    let fall = (-d2 / 0.08).exp();
                    [0.1 * fall * rng.signed(), 0.1 * fall * rng.signed(), 0.1 * fall * rng.signed()]
                })
                .collect();
            crate::mesh::MorphTarget { position_deltas: deltas, normal_deltas: vec![] }
        })
        .collect();
    let truth: Vec<Vec<f32>> = (0..4).map(|_| (0..shapes).map(|_| if rng.unit() < 0.4 { 0.0 } else { rng.unit() }).collect()).collect();
    let rest = Pose::rest(&rig.skeleton);
    let targets: Vec<Vec<[f32; 3]>> = truth.iter().map(|w| posed_with(&rig, &rest, std::slice::from_ref(w))).collect();
    let inv = invert(&rig, &targets, &InvertOptions::default(), &Task::silent()).expect("solves");
    for (f, w) in truth.iter().enumerate() {
        let worst = w.iter().zip(&inv.morph_weights[f][0]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-3, "frame {f}: largest weight error {worst}");
    }
}
