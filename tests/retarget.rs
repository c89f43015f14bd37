//! Clips kept through a generated skeleton (`rigsmith rig --keep-clips`): an artist's run,
//! retargeted by joint names onto the generated biped, moves the mesh as the artist's rig does.

mod common;

use rig_core::animation::Clip;
use rig_core::{Mat4, Pose, Rig, Task};
use rig_pipeline::{apply, run_rig, Caches, RigRequest, SkeletonSource};

/// Where the rig's armature shows the mesh: the inverse of the root joint's rest skinning matrix.
fn mesh_from_model(rig: &Rig) -> Mat4 {
    let s = &rig.skeleton;
    let root = (0..s.len()).find(|&j| s.joints[j].deform).unwrap_or(0);
    (s.model_from_joints_rest()[root] * s.joints[root].joint_from_mesh).try_inverse().unwrap_or_else(Mat4::identity)
}

/// The mesh posed by `clip` at `t`, in mesh space.
fn posed(rig: &Rig, clip: &Clip, t: f32) -> Vec<nalgebra::Vector3<f32>> {
    let mut pose = Pose::rest(&rig.skeleton);
    clip.apply(t, &mut pose);
    let back = mesh_from_model(rig);
    let m: Vec<Mat4> = pose.skinning_matrices(&rig.skeleton).iter().map(|s| back * s).collect();
    rig_core::lbs::skin_positions(&rig.mesh.positions, &rig.weights, &m).into_iter().map(nalgebra::Vector3::from).collect()
}

/// (mean distance between the two rigs' posed meshes, mean distance the artist's pose moves
/// the mesh from its bind shape), both as fractions of the bounding-box diagonal, over a
/// quarter, half and three quarters of the clip.
fn retarget_error(artist: &Rig, generated: &Rig, source: &Clip, target: &Clip) -> (f32, f32) {
    let diag = artist.mesh.bounds().map_or(1.0, |b| b.diagonal());
    let bind: Vec<nalgebra::Vector3<f32>> = artist.mesh.positions.iter().map(|p| nalgebra::Vector3::from(*p)).collect();
    let (start, end) = (source.start_secs(), source.duration_secs());
    let (mut error, mut motion, mut n) = (0.0, 0.0, 0.0);
    for f in [0.25, 0.5, 0.75] {
        let t = start + f * (end - start);
        let (a, b) = (posed(artist, source, t), posed(generated, target, t));
        error += a.iter().zip(&b).map(|(p, q)| (p - q).norm()).sum::<f32>();
        motion += a.iter().zip(&bind).map(|(p, q)| (p - q).norm()).sum::<f32>();
        n += a.len() as f32;
    }
    (error / n / diag, motion / n / diag)
}

#[test]
fn an_artists_run_moves_the_generated_skeleton_as_it_moved_the_artists() {
    let Some(dir) = common::shared_assets() else { return };
    let mut retargeted_files = 0;
    for file in [
        "godot_mannequiny/mannequiny.glb",
        "kaykit_knight/Knight.glb",
        "kaykit_barbarian/Barbarian.glb",
        "quaternius_char_basecharacter/BaseCharacter.glb",
        "gdquest_gdbot/gdbot.glb",
    ] {
        let artist = rig_io::load(&dir.join(file)).expect("asset").rig;
        let mut generated = artist.clone();
        let request = RigRequest::geometric(SkeletonSource::Generate(Default::default()), Default::default());
        let output = run_rig(&artist, 1, &request, &mut Caches::default(), Task::silent()).expect("rigged");
        apply(&mut generated, output);
        let retargeted = match rig_core::retarget::retarget(&artist.skeleton, &artist.clips, &generated.skeleton, artist.up_direction()) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{file}: {e}");
                continue;
            }
        };
        let run = artist.clips.iter().position(|c| c.name.to_lowercase().starts_with("run")).expect("a run clip");
        let (error, motion) = retarget_error(&artist, &generated, &artist.clips[run], &retargeted.clips[run]);
        eprintln!(
            "{file} {:?}: {} pairs; posed meshes {:.2} % of the diagonal apart, the run moves the mesh {:.2} %",
            artist.clips[run].name,
            retargeted.pairs.len(),
            error * 100.0,
            motion * 100.0
        );
        assert!(motion > 0.01, "{file}: the run hardly moves the mesh");
        // Dropping the clip leaves the mesh at its bind shape, `motion` away from the artist's.
        // Held props (the Knight's sword and shield) end up in the generated arms and swing
        // differently, so the margin is wide.
        assert!(error < 0.65 * motion, "{file}: retargeted run is {error} apart from the artist's (motion {motion})");
        retargeted_files += 1;
    }
    assert!(retargeted_files >= 3, "only {retargeted_files} of the characters were retargeted");
}

#[test]
fn skeletons_whose_names_do_not_pair_limbs_are_refused_with_the_reason() {
    // Kenney's character has arm-left, leg-left, torso and head: no forearm or shin to pair.
    let rig = rig_io::load(&common::samples().join("kenney_mini_character/player.glb")).expect("sample").rig;
    let err = rig_core::retarget::retarget(&rig.skeleton, &rig.clips, &rig.skeleton, [0.0, 1.0, 0.0]).expect_err("refused");
    assert!(err.contains("source skeleton") && err.contains("ForeArm Left") && err.contains("Shin Right"), "{err}");
}

/// The artist's skeleton re-expressed in mesh space, resting at its bind pose (as a generated
/// skeleton is): the same names, so every joint pairs with itself.
fn bind_copy(rig: &Rig) -> rig_core::Skeleton {
    let mut copy = rig.skeleton.clone();
    let bind = rig.skeleton.model_from_joints_bind();
    for (j, joint) in copy.joints.iter_mut().enumerate() {
        let parent_from_mesh = joint.parent.map_or(Some(Mat4::identity()), |p| bind[p].try_inverse()).expect("invertible");
        joint.rest_local = rig_core::Trs::from_matrix(&(parent_from_mesh * bind[j])).expect("decomposes");
    }
    copy
}

#[test]
fn retargeted_onto_its_own_bind_pose_the_walk_is_the_same() {
    let Some(dir) = common::shared_assets() else { return };
    let artist = rig_io::load(&dir.join("kaykit_knight/Knight.glb")).expect("asset").rig;
    let copy = Rig { skeleton: bind_copy(&artist), ..artist.clone() };
    let retargeted = rig_core::retarget::retarget(&artist.skeleton, &artist.clips, &copy.skeleton, artist.up_direction()).expect("pairs");
    let walk = artist.clips.iter().position(|c| c.name.contains("Walking_A")).expect("walk");
    let (error, motion) = retarget_error(&artist, &copy, &artist.clips[walk], &retargeted.clips[walk]);
    eprintln!("Knight onto its own bind pose: {:.4} % apart, motion {:.2} %", error * 100.0, motion * 100.0);
    assert!(error < 0.01 * motion, "{error} vs motion {motion}");
}

/// Another character's clips: the hands, feet and head follow the source's pose (relative to
/// each limb's root, in % of the limb's length) far closer than a plain copy of the channels,
/// between rigs of four conventions (Quaternius, KayKit, Godot's mannequin, GDQuest's robot).
#[test]
fn clips_from_another_character_follow_the_sources_pose_closer_than_a_plain_copy() {
    let Some(dir) = common::shared_assets() else { return };
    let pairs = [
        ("quaternius_char_basecharacter/BaseCharacter.glb", "kaykit_knight/Knight.glb"),
        ("godot_mannequiny/mannequiny.glb", "gdquest_gdbot/gdbot.glb"),
        ("gdquest_gdbot/gdbot.glb", "godot_mannequiny/mannequiny.glb"),
    ];
    for (from, to) in pairs {
        let source = rig_io::load(&dir.join(from)).expect("source").rig;
        let target = rig_io::load(&dir.join(to)).expect("target").rig;
        let (clips, report) = rig_pipeline::retarget::retarget_clips(&source, &target, &Default::default()).expect("retargets");
        assert_eq!(clips.len(), source.clips.len());
        let mean = |f: &dyn Fn(&rig_pipeline::retarget::ClipScore) -> Option<f32>| {
            let v: Vec<f32> = report.clips.iter().filter_map(f).collect();
            v.iter().sum::<f32>() / v.len().max(1) as f32
        };
        let limb = |e: &Option<rig_core::retarget::PathError>| e.as_ref().map(|e| e.limb_mean);
        let height = |e: &Option<rig_core::retarget::PathError>| e.as_ref().map(|e| e.mean);
        let (ours, copy) = (mean(&|c| limb(&c.error)), mean(&|c| limb(&c.copy_error)));
        let (ours_h, copy_h) = (mean(&|c| height(&c.error)), mean(&|c| height(&c.copy_error)));
        eprintln!("{from} -> {to}: limb {ours:.2} % (copy {copy:.2} %), height {ours_h:.2} % (copy {copy_h:.2} %)");
        assert!(ours < 12.0 && ours < 0.5 * copy, "{from} -> {to}: {ours} % of limb length, copy {copy} %");
        assert!(ours_h < copy_h, "{from} -> {to}: {ours_h} % of height, copy {copy_h} %");
    }
}
