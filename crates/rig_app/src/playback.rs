//! What pose the viewport shows: the bind pose, a built-in test motion (flex each joint in
//! turn), or one of the file's clips, on a timeline with play, pause and scrub; plus pose-mode
//! rotations of single joints on top. Each frame [`pose_joints`] computes `model_from_joint`
//! for every joint; the skinning buffer and the skeleton view read it.

use std::collections::BTreeMap;

use bevy::prelude::*;
use nalgebra::{Rotation3, Vector3};
use rig_core::lbs::rotate_subtree_in_model_space;
use rig_core::walk::{find_gait, pose_walk, Gait, WALK_PERIOD};
use rig_core::{Mat4, Pose, Rig};

use crate::document::Document;

/// The motion on the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Motion {
    /// No motion: the bind pose (where the stored mesh is).
    #[default]
    Bind,
    /// Each deforming joint in turn bends 45 degrees each way, one second per joint.
    Flex,
    /// A walk cycle on the legs found by `rig_core::walk` (two legs walk, four trot).
    Walk,
    /// The file's clip with this index.
    Clip(usize),
}

/// Seconds each joint gets in the flex motion.
pub const FLEX_SECONDS: f32 = 1.0;

/// Timeline state.
#[derive(Resource, Debug, Clone)]
pub struct Playback {
    pub motion: Motion,
    pub playing: bool,
    pub time: f32,
    pub speed: f32,
    /// Pose mode: extra rotation of single joints (degrees about the model's X, Y, Z axes).
    pub pose_offsets: BTreeMap<usize, [f32; 3]>,
}

impl Default for Playback {
    fn default() -> Self {
        Playback { motion: Motion::Bind, playing: false, time: 0.0, speed: 1.0, pose_offsets: BTreeMap::new() }
    }
}

/// The pose shown this frame: every joint's `mesh_from_joint` (mesh space, where the stored
/// vertices and the inverse bind matrices live) and the transform that places mesh space in
/// the viewport.
#[derive(Resource, Debug, Clone)]
pub struct PosedJoints {
    pub mesh_from_joint: Vec<Mat4>,
    /// See [`display_from_mesh`].
    pub display_from_mesh: Mat4,
}

impl Default for PosedJoints {
    fn default() -> Self {
        PosedJoints { mesh_from_joint: Vec::new(), display_from_mesh: Mat4::identity() }
    }
}

impl PosedJoints {
    /// Joint positions in the viewport.
    pub fn positions(&self) -> Vec<Vec3> {
        self.mesh_from_joint.iter().map(|m| self.to_display(Vec3::new(m[(0, 3)], m[(1, 3)], m[(2, 3)]))).collect()
    }

    /// `mesh_from_joint * joint_from_mesh` per joint: the skinning matrices (mesh to mesh).
    pub fn skinning(&self, rig: &Rig) -> Vec<Mat4> {
        self.mesh_from_joint.iter().zip(&rig.skeleton.joints).map(|(m, j)| m * j.joint_from_mesh).collect()
    }

    /// A mesh-space point in the viewport.
    pub fn to_display(&self, p: Vec3) -> Vec3 {
        let q = self.display_from_mesh.transform_point(&nalgebra::Point3::new(p.x, p.y, p.z));
        Vec3::new(q.x, q.y, q.z)
    }

    /// A viewport point in mesh space.
    pub fn to_mesh(&self, p: Vec3) -> Vec3 {
        let inv = self.display_from_mesh.try_inverse().unwrap_or_else(Mat4::identity);
        let q = inv.transform_point(&nalgebra::Point3::new(p.x, p.y, p.z));
        Vec3::new(q.x, q.y, q.z)
    }

    /// The viewport's box around a mesh-space box: its eight corners through the display
    /// transform (no pass over the vertices).
    pub fn display_box(&self, b: &rig_core::mesh::Aabb) -> (Vec3, Vec3) {
        let corners = (0..8).map(|k| {
            self.to_display(Vec3::new([b.min[0], b.max[0]][k & 1], [b.min[1], b.max[1]][(k >> 1) & 1], [b.min[2], b.max[2]][k >> 2]))
        });
        corners.fold((Vec3::splat(f32::MAX), Vec3::splat(f32::MIN)), |(lo, hi), c| (lo.min(c), hi.max(c)))
    }

    /// The display transform as a Bevy `Transform` for the mesh entities.
    pub fn display_transform(&self) -> Transform {
        Transform::from_matrix(bevy::math::Mat4::from_cols_slice(self.display_from_mesh.as_slice()))
    }
}

/// Length of `motion` on `rig` in seconds (0 for the bind pose).
pub fn duration(motion: Motion, rig: &Rig) -> f32 {
    match motion {
        Motion::Bind => 0.0,
        Motion::Flex => FLEX_SECONDS * flex_joints(rig).len() as f32,
        Motion::Walk => 2.0 * WALK_PERIOD,
        Motion::Clip(i) => rig.clips.get(i).map_or(0.0, |c| c.duration_secs()),
    }
}

/// Joints the flex motion bends: deforming joints that have a bone (a parent or a child).
pub fn flex_joints(rig: &Rig) -> Vec<usize> {
    let s = &rig.skeleton;
    (0..s.len()).filter(|&j| s.joints[j].deform && (s.joints[j].parent.is_some() || s.children(j).next().is_some())).collect()
}

/// `mesh_from_joint` for `motion` at `time`, with the pose-mode offsets applied. `gait` is the
/// rig's legs for the walk ([`find_gait`], kept by the caller: it reads every vertex).
pub fn posed(rig: &Rig, motion: Motion, time: f32, offsets: &BTreeMap<usize, [f32; 3]>, gait: Option<&Gait>) -> Vec<Mat4> {
    let s = &rig.skeleton;
    let mut model = match motion {
        Motion::Clip(i) if i < rig.clips.len() => {
            let mut pose = Pose::rest(s);
            rig.clips[i].apply(time, &mut pose);
            // Clips pose the joints in the file's model space; the mesh is drawn in mesh space.
            let mesh_from_model = rig.display_from_mesh().try_inverse().unwrap_or_else(Mat4::identity);
            pose.model_from_joints(s).into_iter().map(|m| mesh_from_model * m).collect()
        }
        _ => s.model_from_joints_bind(),
    };
    match (motion, gait) {
        (Motion::Flex, _) => flex(rig, &mut model, time),
        (Motion::Walk, Some(gait)) => pose_walk(s, gait, &mut model, time),
        _ => {}
    }
    for (&j, deg) in offsets.iter().filter(|(&j, _)| j < s.len()) {
        let r = Rotation3::from_euler_angles(deg[0].to_radians(), deg[1].to_radians(), deg[2].to_radians());
        rotate_subtree_in_model_space(s, &mut model, j, r.matrix());
    }
    model
}

/// Bends one joint of the flex sequence about an axis across its bone.
fn flex(rig: &Rig, model: &mut [Mat4], time: f32) {
    let joints = flex_joints(rig);
    if joints.is_empty() {
        return;
    }
    let step = (time / FLEX_SECONDS).max(0.0);
    let j = joints[(step as usize) % joints.len()];
    let angle = (step.fract() * std::f32::consts::TAU).sin() * 45f32.to_radians();
    let at = |k: usize| Vector3::new(model[k][(0, 3)], model[k][(1, 3)], model[k][(2, 3)]);
    let s = &rig.skeleton;
    let bone = match (s.children(j).next(), s.joints[j].parent) {
        (Some(c), _) => at(c) - at(j),
        (None, Some(p)) => at(j) - at(p),
        (None, None) => Vector3::y(),
    };
    let axis =
        bone.cross(&Vector3::z()).try_normalize(1e-9).or_else(|| bone.cross(&Vector3::x()).try_normalize(1e-9)).unwrap_or(Vector3::x());
    let r = Rotation3::from_axis_angle(&nalgebra::Unit::new_unchecked(axis), angle);
    rotate_subtree_in_model_space(s, model, j, r.matrix());
}

/// The systems that compute [`PosedJoints`]; readers run after it.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoseSet;

pub struct PlaybackPlugin;

impl Plugin for PlaybackPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Playback>()
            .init_resource::<PosedJoints>()
            .add_systems(Update, (forget_stale_pose, advance, pose_joints).chain().in_set(PoseSet));
    }
}

/// Pose-mode rotations are kept per joint index: an edit that renames, adds, removes or
/// re-orders joints (re-parenting sorts them parents first) would hand them to other joints,
/// so they are dropped then. Moving a joint keeps them.
fn forget_stale_pose(doc: Res<Document>, mut playback: ResMut<Playback>, mut seen: Local<(Option<u64>, Vec<String>)>) {
    if seen.0 == Some(doc.revision) {
        return;
    }
    let names: Vec<String> = doc.rig.as_ref().map(|r| r.skeleton.joints.iter().map(|j| j.name.clone()).collect()).unwrap_or_default();
    if names != seen.1 && !playback.pose_offsets.is_empty() {
        playback.pose_offsets.clear();
    }
    *seen = (Some(doc.revision), names);
}

fn advance(time: Res<Time>, doc: Res<Document>, mut playback: ResMut<Playback>) {
    let Some(rig) = doc.rig.as_ref() else { return };
    let length = duration(playback.motion, rig);
    if !playback.playing || length <= 0.0 {
        return;
    }
    let t = playback.time + time.delta_secs() * playback.speed;
    playback.time = t.rem_euclid(length);
}

/// What the pose depends on besides time, recomputed when the document changes.
#[derive(Default)]
struct RigDerived {
    revision: u64,
    display_from_mesh: Mat4,
    /// The legs, found only once the walk is shown (it reads every vertex).
    gait: Option<Option<Gait>>,
}

fn pose_joints(doc: Res<Document>, playback: Res<Playback>, mut posed_joints: ResMut<PosedJoints>, mut derived: Local<Option<RigDerived>>) {
    let Some(rig) = doc.rig.as_ref() else {
        posed_joints.mesh_from_joint.clear();
        return;
    };
    if derived.as_ref().is_none_or(|d| d.revision != doc.revision) {
        *derived = Some(RigDerived { revision: doc.revision, display_from_mesh: rig.display_from_mesh(), gait: None });
    }
    let Some(d) = derived.as_mut() else { return };
    if playback.motion == Motion::Walk && d.gait.is_none() {
        d.gait = Some(find_gait(rig));
    }
    posed_joints.display_from_mesh = d.display_from_mesh;
    posed_joints.mesh_from_joint =
        posed(rig, playback.motion, playback.time, &playback.pose_offsets, d.gait.as_ref().and_then(Option::as_ref));
}
