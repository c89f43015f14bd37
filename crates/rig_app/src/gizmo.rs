//! Transform gizmos on the selected joint, along the mesh's X, Y and Z axes (red, green, blue).
//! Move (T): three arrows; dragging one slides the joint along its axis (joint editing, in the
//! bind pose; one undo step per drag). Rotate (E): three rings; dragging one turns the joint
//! and everything below it about that axis (pose mode: it adds to the joint's pose rotation,
//! the rig itself is not edited; "reset pose" on the timeline clears it).

use bevy::prelude::*;
use nalgebra::{Rotation3, Unit, Vector3};
use rig_core::edit;

use crate::document::Document;
use crate::picking::{cursor_ray, JointDrag};
use crate::playback::{Motion, Playback, PosedJoints};
use crate::rig_material::ViewSettings;

/// On-screen length of the arrows and radius of the rings, in logical pixels.
const HANDLE_PIXELS: f32 = 80.0;
/// How close (logical pixels) the cursor must be to an arrow or a ring to grab it.
const GRAB_PIXELS: f32 = 8.0;
/// Segments of a ring, for drawing and for picking.
const RING_SEGMENTS: usize = 48;

pub const AXIS_COLORS: [Color; 3] = [Color::srgb(0.95, 0.25, 0.25), Color::srgb(0.3, 0.85, 0.3), Color::srgb(0.3, 0.45, 1.0)];
const ACTIVE: Color = Color::srgb(1.0, 0.9, 0.2);

/// Which gizmo the selected joint shows.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GizmoMode {
    #[default]
    Move,
    Rotate,
}

/// Hover and drag state of the gizmo.
#[derive(Resource, Debug, Default)]
pub struct GizmoState {
    /// The axis handle under the cursor.
    pub hovered: Option<usize>,
    active: Option<Drag>,
    /// Frames the current move has edited (the first makes an undo step, the rest join it).
    frames: u32,
}

#[derive(Debug, Clone, Copy)]
struct Drag {
    joint: usize,
    axis: usize,
    kind: DragKind,
}

#[derive(Debug, Clone, Copy)]
enum DragKind {
    /// The joint's viewport position at the press and the axis parameter grabbed.
    Move { origin: Vec3, grabbed: f32 },
    /// The joint's screen position, the cursor's angle about it at the press, and the pose
    /// rotation the joint had then.
    Rotate { centre: Vec2, start_angle: f32, start: [f32; 3] },
}

/// Where the gizmo is drawn: the joint, the viewport directions of the mesh's axes, and the
/// world length that shows as [`HANDLE_PIXELS`].
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub centre: Vec3,
    pub axes: [Vec3; 3],
    pub size: f32,
}

pub struct GizmoPlugin;

impl Plugin for GizmoPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<GizmoMode>()
            .init_resource::<GizmoState>()
            .add_systems(Update, draw.after(crate::playback::PoseSet).after(crate::camera::OrbitSet));
    }
}

/// Joints move only in the bind pose (a posed joint's bind position is ambiguous).
pub fn editable(playback: &Playback) -> bool {
    playback.motion == Motion::Bind && playback.pose_offsets.is_empty()
}

/// The gizmo of the selected joint, if the current mode shows one.
fn frame(
    doc: &Document,
    mode: GizmoMode,
    playback: &Playback,
    posed: &PosedJoints,
    camera: &Camera,
    at: &GlobalTransform,
) -> Option<Frame> {
    let j = doc.selected_joint?;
    if mode == GizmoMode::Move && !editable(playback) {
        return None;
    }
    let centre = *posed.positions().get(j)?;
    let axes = display_axes(posed);
    let screen = camera.world_to_viewport(at, centre).ok()?;
    let side = camera.world_to_viewport(at, centre + at.right().as_vec3()).ok()?;
    let pixels_per_unit = screen.distance(side);
    (pixels_per_unit > 1e-6).then(|| Frame { centre, axes, size: HANDLE_PIXELS / pixels_per_unit })
}

/// The mesh's X, Y and Z axes as viewport directions.
pub fn display_axes(posed: &PosedJoints) -> [Vec3; 3] {
    std::array::from_fn(|k| {
        let d = posed.display_from_mesh.fixed_view::<3, 3>(0, 0).column(k).into_owned();
        Vec3::new(d.x, d.y, d.z).normalize_or(Vec3::AXES[k])
    })
}

/// Points of the handle of `axis`: the arrow's shaft, or the ring.
pub fn handle_points(f: &Frame, mode: GizmoMode, axis: usize) -> Vec<Vec3> {
    let a = f.axes[axis];
    match mode {
        GizmoMode::Move => vec![f.centre, f.centre + a * f.size],
        GizmoMode::Rotate => {
            let u = a.any_orthonormal_vector();
            let v = a.cross(u);
            (0..=RING_SEGMENTS)
                .map(|i| {
                    let t = i as f32 / RING_SEGMENTS as f32 * std::f32::consts::TAU;
                    f.centre + (u * t.cos() + v * t.sin()) * f.size
                })
                .collect()
        }
    }
}

/// The handle whose projected polyline passes nearest the cursor, within [`GRAB_PIXELS`].
pub fn pick(cursor: Vec2, polylines: &[Vec<Vec2>]) -> Option<usize> {
    polylines
        .iter()
        .enumerate()
        .filter_map(|(k, line)| {
            let d = line.windows(2).map(|w| distance_to_segment(cursor, w[0], w[1])).fold(f32::INFINITY, f32::min);
            (d <= GRAB_PIXELS).then_some((k, d))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

pub fn distance_to_segment(p: Vec2, a: Vec2, b: Vec2) -> f32 {
    let ab = b - a;
    let t = if ab.length_squared() > 0.0 { ((p - a).dot(ab) / ab.length_squared()).clamp(0.0, 1.0) } else { 0.0 };
    p.distance(a + ab * t)
}

/// Parameter `s` of the point `origin + s * axis` nearest the ray (None when they are parallel).
pub fn nearest_on_axis(ray_origin: Vec3, ray_dir: Vec3, origin: Vec3, axis: Vec3) -> Option<f32> {
    let w = origin - ray_origin;
    let (a, b, c) = (axis.dot(axis), axis.dot(ray_dir), ray_dir.dot(ray_dir));
    let (d, e) = (axis.dot(w), ray_dir.dot(w));
    let denom = a * c - b * b;
    (denom.abs() > 1e-9 * a * c).then(|| (b * e - c * d) / denom)
}

/// The pose rotation (degrees, Euler X-Y-Z as [`Playback::pose_offsets`] keeps them) after
/// turning `start` by `angle` radians about mesh axis `axis`.
pub fn turned(start: [f32; 3], axis: usize, angle: f32) -> [f32; 3] {
    let before = Rotation3::from_euler_angles(start[0].to_radians(), start[1].to_radians(), start[2].to_radians());
    let turn = Rotation3::from_axis_angle(&Unit::new_normalize(Vector3::ith(axis, 1.0)), angle);
    let (x, y, z) = (turn * before).euler_angles();
    [x.to_degrees(), y.to_degrees(), z.to_degrees()]
}

/// The turn about `axis` (viewport direction) that a cursor sweep of `screen_delta` radians
/// about the joint means: counter-clockwise on screen is a positive turn when the axis points
/// at the viewer (screen y grows downwards, so a counter-clockwise sweep has a negative delta).
pub fn turn_angle(screen_delta: f32, axis: Vec3, camera_forward: Vec3, mirrored: bool) -> f32 {
    let towards_viewer = axis.dot(camera_forward) < 0.0;
    let a = if towards_viewer { -screen_delta } else { screen_delta };
    if mirrored {
        -a
    } else {
        a
    }
}

fn wrap(angle: f32) -> f32 {
    (angle + std::f32::consts::PI).rem_euclid(std::f32::consts::TAU) - std::f32::consts::PI
}

/// Hover, and a press on a handle starts a drag (before joint picking, which then ignores
/// the press).
#[allow(clippy::too_many_arguments)]
pub fn press(
    windows: Query<&Window>,
    cameras: Query<(&Camera, &GlobalTransform), With<crate::camera::OrbitCamera>>,
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    doc: Res<Document>,
    mode: Res<GizmoMode>,
    view: Res<ViewSettings>,
    playback: Res<Playback>,
    posed: Res<PosedJoints>,
    mut state: ResMut<GizmoState>,
    mut drag: ResMut<JointDrag>,
) {
    state.hovered = None;
    let (Ok(window), Ok((camera, at))) = (windows.single(), cameras.single()) else { return };
    let (Some(cursor), true) = (window.cursor_position(), view.show_skeleton) else { return };
    let Some(f) = frame(&doc, *mode, &playback, &posed, camera, at) else { return };
    let polylines: Vec<Vec<Vec2>> =
        (0..3).map(|k| handle_points(&f, *mode, k).into_iter().filter_map(|p| camera.world_to_viewport(at, p).ok()).collect()).collect();
    state.hovered = pick(cursor, &polylines);
    let shift = keys.pressed(KeyCode::ShiftLeft) || keys.pressed(KeyCode::ShiftRight);
    let (Some(axis), Some(joint)) = (state.hovered, doc.selected_joint) else { return };
    if !buttons.just_pressed(MouseButton::Left) || shift || drag.painting {
        return;
    }
    let kind = match *mode {
        GizmoMode::Move => {
            let Some(ray) = cursor_ray(window, camera, at) else { return };
            let Some(grabbed) = nearest_on_axis(ray.origin, ray.direction.as_vec3(), f.centre, f.axes[axis]) else { return };
            DragKind::Move { origin: f.centre, grabbed }
        }
        GizmoMode::Rotate => {
            let Ok(centre) = camera.world_to_viewport(at, f.centre) else { return };
            let d = cursor - centre;
            DragKind::Rotate { centre, start_angle: d.y.atan2(d.x), start: playback.pose_offsets.get(&joint).copied().unwrap_or([0.0; 3]) }
        }
    };
    state.active = Some(Drag { joint, axis, kind });
    state.frames = 0;
    drag.gizmo = true;
}

/// Applies the drag under way: a joint move (undoable) or a pose rotation.
#[allow(clippy::too_many_arguments)]
pub fn drag(
    windows: Query<&Window>,
    cameras: Query<(&Camera, &GlobalTransform), With<crate::camera::OrbitCamera>>,
    buttons: Res<ButtonInput<MouseButton>>,
    posed: Res<PosedJoints>,
    mut doc: ResMut<Document>,
    mut playback: ResMut<Playback>,
    mut state: ResMut<GizmoState>,
    mut joint_drag: ResMut<JointDrag>,
) {
    let Some(d) = state.active else { return };
    if !buttons.pressed(MouseButton::Left) || doc.selected_joint != Some(d.joint) {
        state.active = None;
        joint_drag.gizmo = false;
        return;
    }
    let (Ok(window), Ok((camera, at))) = (windows.single(), cameras.single()) else { return };
    let Some(cursor) = window.cursor_position() else { return };
    let axis = display_axes(&posed)[d.axis];
    match d.kind {
        DragKind::Move { origin, grabbed } => {
            let Some(ray) = cursor_ray(window, camera, at) else { return };
            let Some(s) = nearest_on_axis(ray.origin, ray.direction.as_vec3(), origin, axis) else { return };
            let target = posed.to_mesh(origin + axis * (s - grabbed));
            let Some(rig) = doc.rig.as_ref() else { return };
            if Vec3::from(edit::bind_position(&rig.skeleton, d.joint)).distance(target) < 1e-7 {
                return;
            }
            let name = rig.skeleton.joints[d.joint].name.clone();
            let merge = state.frames > 0;
            doc.edit_skeleton(&format!("Move {name}"), merge, |rig| edit::move_joint(rig, d.joint, target.into()));
            state.frames += 1;
        }
        DragKind::Rotate { centre, start_angle, start } => {
            let v = cursor - centre;
            if v.length() < 2.0 {
                return;
            }
            let mirrored = posed.display_from_mesh.fixed_view::<3, 3>(0, 0).determinant() < 0.0;
            let angle = turn_angle(wrap(v.y.atan2(v.x) - start_angle), axis, at.forward().as_vec3(), mirrored);
            playback.pose_offsets.insert(d.joint, turned(start, d.axis, angle));
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn draw(
    cameras: Query<(&Camera, &GlobalTransform), With<crate::camera::OrbitCamera>>,
    doc: Res<Document>,
    mode: Res<GizmoMode>,
    view: Res<ViewSettings>,
    playback: Res<Playback>,
    posed: Res<PosedJoints>,
    state: Res<GizmoState>,
    mut gizmos: Gizmos,
) {
    let Ok((camera, at)) = cameras.single() else { return };
    if !view.show_skeleton {
        return;
    }
    let Some(f) = frame(&doc, *mode, &playback, &posed, camera, at) else { return };
    let lit = state.active.map(|d| d.axis).or(state.hovered);
    for k in 0..3 {
        let color = if lit == Some(k) { ACTIVE } else { AXIS_COLORS[k] };
        match *mode {
            GizmoMode::Move => {
                gizmos.arrow(f.centre, f.centre + f.axes[k] * f.size, color).with_tip_length(f.size * 0.2);
            }
            GizmoMode::Rotate => {
                let rotation = Quat::from_rotation_arc(Vec3::Z, f.axes[k]);
                gizmos.circle(Isometry3d::new(f.centre, rotation), f.size, color).resolution(RING_SEGMENTS as u32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_point_nearest_a_ray_is_where_the_ray_crosses_it() {
        // The X axis through (0, 0, 0) and a ray straight down at x = 0.7: s = 0.7.
        let s = nearest_on_axis(Vec3::new(0.7, 5.0, 0.0), Vec3::NEG_Y, Vec3::ZERO, Vec3::X).unwrap();
        assert!((s - 0.7).abs() < 1e-5, "{s}");
        // Skew lines: the ray passes above the axis at z = 2, pointing along z.
        let s = nearest_on_axis(Vec3::new(-1.5, 1.0, -3.0), Vec3::Z, Vec3::new(1.0, 0.0, 0.0), Vec3::X).unwrap();
        assert!((s + 2.5).abs() < 1e-5, "{s}");
        assert!(nearest_on_axis(Vec3::new(0.0, 1.0, 0.0), Vec3::X, Vec3::ZERO, Vec3::X).is_none(), "parallel");
    }

    #[test]
    fn turning_composes_with_the_pose_rotation_already_there() {
        // 90 degrees about Z, then 90 about X: the same rotation as the matrices composed.
        let after = turned([0.0, 0.0, 90.0], 0, std::f32::consts::FRAC_PI_2);
        let r = Rotation3::from_euler_angles(after[0].to_radians(), after[1].to_radians(), after[2].to_radians());
        let want = Rotation3::from_axis_angle(&Vector3::x_axis(), std::f32::consts::FRAC_PI_2)
            * Rotation3::from_axis_angle(&Vector3::z_axis(), std::f32::consts::FRAC_PI_2);
        assert!((r.matrix() - want.matrix()).abs().max() < 1e-5, "{after:?}");
        // A turn about one axis from rest is that Euler angle alone.
        let y = turned([0.0; 3], 1, 0.5);
        assert!((y[1] - 0.5f32.to_degrees()).abs() < 1e-3 && y[0].abs() < 1e-3 && y[2].abs() < 1e-3, "{y:?}");
    }

    #[test]
    fn a_counter_clockwise_sweep_turns_positively_about_an_axis_facing_the_viewer() {
        // Camera looks down -Z; the Z axis points at it. Screen y grows downwards, so a
        // counter-clockwise sweep is a negative screen delta.
        let forward = Vec3::NEG_Z;
        assert!(turn_angle(-0.3, Vec3::Z, forward, false) > 0.0);
        assert!(turn_angle(-0.3, Vec3::NEG_Z, forward, false) < 0.0);
        assert!(turn_angle(-0.3, Vec3::Z, forward, true) < 0.0, "a mirrored display flips it");
        assert!((wrap(1.5 * std::f32::consts::PI) + 0.5 * std::f32::consts::PI).abs() < 1e-5, "sweeps wrap to the short way round");
    }

    #[test]
    fn picking_takes_the_nearest_handle_within_reach() {
        let f = Frame { centre: Vec3::ZERO, axes: [Vec3::X, Vec3::Y, Vec3::Z], size: 1.0 };
        // Project by dropping z and scaling to pixels (x right, y down).
        let project = |p: Vec3| Vec2::new(100.0 + p.x * 80.0, 100.0 - p.y * 80.0);
        let lines = |mode| (0..3).map(|k| handle_points(&f, mode, k).into_iter().map(project).collect()).collect::<Vec<Vec<Vec2>>>();
        let arrows = lines(GizmoMode::Move);
        assert_eq!(pick(Vec2::new(150.0, 103.0), &arrows), Some(0), "beside the X arrow");
        assert_eq!(pick(Vec2::new(102.0, 50.0), &arrows), Some(1), "beside the Y arrow");
        assert_eq!(pick(Vec2::new(160.0, 40.0), &arrows), None, "between them");
        // Rings: Z's ring faces the viewer as a circle of 80 px; X's and Y's are edge-on lines.
        let rings = lines(GizmoMode::Rotate);
        assert_eq!(pick(Vec2::new(100.0 + 80.0 * 0.6, 100.0 - 80.0 * 0.8 + 3.0), &rings), Some(2));
        assert_eq!(pick(Vec2::new(140.0, 60.0), &rings), None, "inside the ring, off the edge-on ones");
    }
}
