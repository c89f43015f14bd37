//! Selecting and moving joints in the viewport: click a joint handle to select it, drag it to
//! move it in the plane facing the camera (one undo step per drag), hover for its name, and
//! press C to snap the selected joint to the centre of the limb under the cursor.

use bevy::prelude::*;
use bevy_egui::input::egui_wants_any_pointer_input;
use rig_core::edit;

use crate::document::Document;
use crate::gizmo::editable;
use crate::playback::{Playback, PosedJoints};

/// How close (logical pixels) the cursor must be to a joint handle to pick it.
const PICK_RADIUS: f32 = 12.0;

/// Viewport interaction state.
#[derive(Resource, Debug, Default)]
pub struct JointDrag {
    /// The joint under the cursor (its name shows in a tooltip).
    pub hovered: Option<usize>,
    /// The joint being dragged, and the plane it moves in (point, normal).
    pub active: Option<(usize, Vec3, Vec3)>,
    /// Frames the current drag has edited (the first makes an undo step, the rest join it).
    pub frames: u32,
    /// A paint stroke holds the mouse (no orbit, no joint picking).
    pub painting: bool,
    /// A gizmo handle holds the mouse (no orbit, no joint picking).
    pub gizmo: bool,
}

pub struct PickingPlugin;

impl Plugin for PickingPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<JointDrag>().add_systems(
            Update,
            (
                crate::gizmo::press.run_if(not(egui_wants_any_pointer_input)),
                hover_and_pick.run_if(not(egui_wants_any_pointer_input)),
                crate::gizmo::drag,
                drag_joint,
                snap_to_limb_centre.run_if(not(egui_wants_any_pointer_input)),
            )
                .chain()
                .after(crate::playback::PoseSet)
                .before(crate::camera::OrbitSet),
        );
    }
}

/// The joint whose handle is nearest the cursor, within the pick radius.
fn joint_under_cursor(cursor: Vec2, camera: &Camera, at: &GlobalTransform, joints: &[Vec3]) -> Option<usize> {
    joints
        .iter()
        .enumerate()
        .filter_map(|(j, p)| Some((j, camera.world_to_viewport(at, *p).ok()?.distance(cursor))))
        .filter(|(_, d)| *d <= PICK_RADIUS)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(j, _)| j)
}

#[allow(clippy::too_many_arguments)]
fn hover_and_pick(
    windows: Query<&Window>,
    cameras: Query<(&Camera, &GlobalTransform), With<crate::camera::OrbitCamera>>,
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    posed: Res<PosedJoints>,
    playback: Res<Playback>,
    mut doc: ResMut<Document>,
    mut drag: ResMut<JointDrag>,
) {
    let (Ok(window), Ok((camera, at))) = (windows.single(), cameras.single()) else { return };
    let Some(cursor) = window.cursor_position() else { return };
    drag.hovered = joint_under_cursor(cursor, camera, at, &posed.positions());
    let shift = keys.pressed(KeyCode::ShiftLeft) || keys.pressed(KeyCode::ShiftRight);
    if !buttons.just_pressed(MouseButton::Left) || shift || drag.painting || drag.gizmo {
        return;
    }
    let Some(j) = drag.hovered else { return };
    doc.selected_joint = Some(j);
    if editable(&playback) {
        let p = posed.positions()[j];
        drag.active = Some((j, p, at.forward().as_vec3()));
        drag.frames = 0;
    }
}

fn drag_joint(
    windows: Query<&Window>,
    cameras: Query<(&Camera, &GlobalTransform), With<crate::camera::OrbitCamera>>,
    buttons: Res<ButtonInput<MouseButton>>,
    posed: Res<PosedJoints>,
    mut doc: ResMut<Document>,
    mut drag: ResMut<JointDrag>,
) {
    let Some((j, point, normal)) = drag.active else { return };
    if !buttons.pressed(MouseButton::Left) {
        drag.active = None;
        return;
    }
    let (Ok(window), Ok((camera, at))) = (windows.single(), cameras.single()) else { return };
    let Some(ray) = cursor_ray(window, camera, at) else { return };
    let Some(t) = ray.intersect_plane(point, InfinitePlane3d::new(normal)) else { return };
    let target = posed.to_mesh(ray.get_point(t));
    let Some(name) = doc.rig.as_ref().and_then(|r| r.skeleton.joints.get(j)).map(|x| x.name.clone()) else { return };
    if let Some(rig) = doc.rig.as_ref() {
        let now = edit::bind_position(&rig.skeleton, j);
        if Vec3::from(now).distance(target) < 1e-6 {
            return;
        }
    }
    let merge = drag.frames > 0;
    doc.edit_skeleton(&format!("Move {name}"), merge, |rig| edit::move_joint(rig, j, target.into()));
    drag.frames += 1;
}

/// C: the selected joint moves to the middle of where the cursor's ray enters and leaves the
/// mesh (the centre of the limb under the cursor).
fn snap_to_limb_centre(
    windows: Query<&Window>,
    cameras: Query<(&Camera, &GlobalTransform), With<crate::camera::OrbitCamera>>,
    keys: Res<ButtonInput<KeyCode>>,
    playback: Res<Playback>,
    posed: Res<PosedJoints>,
    mut doc: ResMut<Document>,
) {
    if !keys.just_pressed(KeyCode::KeyC) || !editable(&playback) {
        return;
    }
    let (Ok(window), Ok((camera, at))) = (windows.single(), cameras.single()) else { return };
    let Some(ray) = cursor_ray(window, camera, at) else { return };
    let (Some(j), Some(rig)) = (doc.selected_joint, doc.rig.as_ref()) else { return };
    let (origin, dir) = mesh_ray(&posed, ray);
    let Some(centre) = limb_centre(&rig.mesh.positions, &rig.mesh.triangles, origin, dir) else {
        doc.status = Some("Snap: no mesh under the cursor".into());
        return;
    };
    let name = rig.skeleton.joints[j].name.clone();
    doc.edit_skeleton(&format!("Snap {name} to limb centre"), false, |rig| edit::move_joint(rig, j, centre));
}

/// The first point where a ray meets the triangles.
pub fn first_hit(positions: &[[f32; 3]], triangles: &[[u32; 3]], origin: [f32; 3], dir: [f32; 3]) -> Option<[f32; 3]> {
    let t = hit_distances(positions, triangles, origin, dir).min_by(f32::total_cmp)?;
    Some((Vec3::from(origin) + Vec3::from(dir) * t).into())
}

/// Midpoint of the first two hits of a ray with the triangles (entry and exit of the nearest
/// limb), or the only hit.
pub fn limb_centre(positions: &[[f32; 3]], triangles: &[[u32; 3]], origin: [f32; 3], dir: [f32; 3]) -> Option<[f32; 3]> {
    let mut hits: Vec<f32> = hit_distances(positions, triangles, origin, dir).collect();
    hits.sort_by(f32::total_cmp);
    hits.dedup_by(|x, y| (*x - *y).abs() < 1e-6);
    let t = match hits.as_slice() {
        [] => return None,
        [only] => *only,
        [first, second, ..] => 0.5 * (first + second),
    };
    Some((Vec3::from(origin) + Vec3::from(dir) * t).into())
}

/// Distances along the ray (in units of `dir`) to every triangle it hits in front.
fn hit_distances<'a>(
    positions: &'a [[f32; 3]],
    triangles: &'a [[u32; 3]],
    origin: [f32; 3],
    dir: [f32; 3],
) -> impl Iterator<Item = f32> + 'a {
    let (o, d) = (Vec3::from(origin), Vec3::from(dir));
    triangles.iter().filter_map(move |t| {
        let [a, b, c] = t.map(|i| Vec3::from(positions[i as usize]));
        ray_triangle(o, d, a, b, c)
    })
}

/// The ray under the cursor, in the viewport's space.
pub fn cursor_ray(window: &Window, camera: &Camera, at: &GlobalTransform) -> Option<Ray3d> {
    window.cursor_position().and_then(|c| camera.viewport_to_world(at, c).ok())
}

/// A viewport ray in mesh space (where the triangles are): origin and direction.
pub fn mesh_ray(posed: &PosedJoints, ray: Ray3d) -> ([f32; 3], [f32; 3]) {
    let origin = posed.to_mesh(ray.origin);
    (origin.into(), (posed.to_mesh(ray.origin + ray.direction.as_vec3()) - origin).into())
}

/// Möller–Trumbore: distance along the ray to the triangle, if it is hit in front.
fn ray_triangle(o: Vec3, d: Vec3, a: Vec3, b: Vec3, c: Vec3) -> Option<f32> {
    let (e1, e2) = (b - a, c - a);
    let p = d.cross(e2);
    let det = e1.dot(p);
    if det.abs() < 1e-12 {
        return None;
    }
    let s = o - a;
    let u = s.dot(p) / det;
    let q = s.cross(e1);
    let v = d.dot(q) / det;
    let t = e2.dot(q) / det;
    (u >= 0.0 && v >= 0.0 && u + v <= 1.0 && t > 0.0).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ray_through_a_box_snaps_to_its_middle() {
        // A unit cube from 0 to 1: a ray along +z through x = y = 0.5 enters at z = 0, leaves at z = 1.
        let p = [[0., 0., 0.], [1., 0., 0.], [1., 1., 0.], [0., 1., 0.], [0., 0., 1.], [1., 0., 1.], [1., 1., 1.], [0., 1., 1.]];
        let t = [[0, 1, 2], [0, 2, 3], [4, 6, 5], [4, 7, 6]];
        let c = limb_centre(&p, &t, [0.5, 0.5, -3.0], [0.0, 0.0, 1.0]).unwrap();
        assert!((c[2] - 0.5).abs() < 1e-5 && (c[0] - 0.5).abs() < 1e-5, "{c:?}");
        assert!(limb_centre(&p, &t, [5.0, 5.0, -3.0], [0.0, 0.0, 1.0]).is_none());
    }
}
