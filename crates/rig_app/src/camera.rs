//! The viewport camera: orbit (left drag), pan (middle drag or Shift + left drag), zoom (wheel),
//! frame all / frame the selected joint (F), a light rig, and a viewport that stays clear of
//! the egui panels.

use bevy::camera::visibility::RenderLayers;
use bevy::camera::Viewport;
use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll};
use bevy::prelude::*;
use bevy_egui::input::egui_wants_any_pointer_input;
use bevy_egui::{EguiGlobalSettings, PrimaryEguiContext};

use crate::document::Document;

/// Orbit state of the viewport camera, around `target`.
#[derive(Component, Debug, Clone)]
pub struct OrbitCamera {
    pub target: Vec3,
    pub yaw: f32,
    pub pitch: f32,
    pub distance: f32,
}

impl Default for OrbitCamera {
    fn default() -> Self {
        OrbitCamera { target: Vec3::ZERO, yaw: 0.5, pitch: -0.3, distance: 4.0 }
    }
}

impl OrbitCamera {
    pub fn transform(&self) -> Transform {
        let rotation = Quat::from_euler(EulerRot::YXZ, self.yaw, self.pitch, 0.0);
        let eye = self.target + rotation * Vec3::new(0.0, 0.0, self.distance);
        Transform::from_translation(eye).looking_at(self.target, Vec3::Y)
    }

    /// Centre on a box and back off so a sphere around it fills the view.
    pub fn frame(&mut self, lo: Vec3, hi: Vec3) {
        self.target = (lo + hi) * 0.5;
        let radius = ((hi - lo).length() * 0.5).max(1e-3);
        self.distance = radius / (std::f32::consts::FRAC_PI_8).sin();
    }
}

/// The part of the window not covered by panels, in logical pixels (set by the UI).
#[derive(Resource, Debug, Clone, Copy, Default)]
pub struct FreeViewport {
    pub min: Vec2,
    pub max: Vec2,
}

/// The camera's input systems; viewport tools that take the mouse run before them.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrbitSet;

pub struct CameraPlugin;

impl Plugin for CameraPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<FreeViewport>().add_systems(Startup, spawn_cameras_and_lights).add_systems(
            Update,
            (orbit_pan_zoom.run_if(not(egui_wants_any_pointer_input)), frame_on_load_or_key, apply_orbit, fit_viewport)
                .chain()
                .in_set(OrbitSet),
        );
    }
}

fn spawn_cameras_and_lights(
    mut commands: Commands,
    mut egui_settings: ResMut<EguiGlobalSettings>,
    mut ambient: ResMut<GlobalAmbientLight>,
) {
    // The panels get a camera of their own, so the 3D camera's viewport can shrink to the free area.
    egui_settings.auto_create_primary_context = false;
    let orbit = OrbitCamera::default();
    // Multisampling stays off: on Mesa's software renderer it quadruples the cost of a frame.
    commands.spawn((Camera3d::default(), Msaa::Off, orbit.transform(), orbit));
    commands.spawn((
        PrimaryEguiContext,
        Camera3d::default(),
        Msaa::Off,
        RenderLayers::none(),
        Camera { order: 1, clear_color: ClearColorConfig::None, ..default() },
    ));
    spawn_lights(&mut commands, &mut ambient);
}

/// The viewport's lights: key, fill and rim, so that form reads from any side.
pub fn spawn_lights(commands: &mut Commands, ambient: &mut GlobalAmbientLight) {
    for (illuminance, from) in
        [(9000.0, Vec3::new(3.0, 5.0, 4.0)), (2500.0, Vec3::new(-4.0, 2.0, 1.0)), (3000.0, Vec3::new(0.0, 3.0, -5.0))]
    {
        commands.spawn((
            DirectionalLight { illuminance, shadow_maps_enabled: false, ..default() },
            Transform::from_translation(from).looking_at(Vec3::ZERO, Vec3::Y),
        ));
    }
    ambient.brightness = 250.0;
}

fn orbit_pan_zoom(
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    drag: Res<crate::picking::JointDrag>,
    mut cameras: Query<&mut OrbitCamera>,
) {
    let Ok(mut cam) = cameras.single_mut() else { return };
    if drag.active.is_some() || drag.painting || drag.gizmo {
        return;
    }
    let d = motion.delta;
    let shift = keys.pressed(KeyCode::ShiftLeft) || keys.pressed(KeyCode::ShiftRight);
    if buttons.pressed(MouseButton::Middle) || (buttons.pressed(MouseButton::Left) && shift) {
        let rotation = Quat::from_euler(EulerRot::YXZ, cam.yaw, cam.pitch, 0.0);
        let scale = cam.distance * 0.0015;
        let offset = rotation * Vec3::new(-d.x * scale, d.y * scale, 0.0);
        cam.target += offset;
    } else if buttons.pressed(MouseButton::Left) {
        cam.yaw -= d.x * 0.008;
        cam.pitch = (cam.pitch - d.y * 0.008).clamp(-1.55, 1.55);
    }
    if scroll.delta.y != 0.0 {
        cam.distance = (cam.distance * (1.0 - scroll.delta.y.clamp(-5.0, 5.0) * 0.1)).max(1e-3);
    }
}

fn frame_on_load_or_key(
    keys: Res<ButtonInput<KeyCode>>,
    doc: Res<Document>,
    posed: Res<crate::playback::PosedJoints>,
    mut framed_mesh: Local<u64>,
    mut cameras: Query<&mut OrbitCamera>,
) {
    // A new mesh (file, session or recovery opened) is framed whole.
    let on_load = *framed_mesh != doc.mesh_id && doc.rig.is_some();
    *framed_mesh = doc.mesh_id;
    if !on_load && !keys.just_pressed(KeyCode::KeyF) {
        return;
    }
    let (Some(bounds), Ok(mut cam)) = (doc.stats.bounds.filter(|_| doc.rig.is_some()), cameras.single_mut()) else { return };
    let (lo, hi) = posed.display_box(&bounds);
    match doc.selected_joint.filter(|_| !on_load) {
        Some(j) => {
            // Where the skeleton view draws the joint (the pose on screen).
            let Some(&p) = posed.positions().get(j) else { return };
            let half = (hi - lo).length() * 0.1;
            cam.frame(p - Vec3::splat(half), p + Vec3::splat(half));
        }
        None => cam.frame(lo, hi),
    }
}

fn apply_orbit(mut cameras: Query<(&OrbitCamera, &mut Transform), Changed<OrbitCamera>>) {
    for (orbit, mut transform) in &mut cameras {
        *transform = orbit.transform();
    }
}

fn fit_viewport(free: Res<FreeViewport>, windows: Query<&Window>, mut cameras: Query<&mut Camera, With<OrbitCamera>>) {
    let (Ok(window), Ok(mut camera)) = (windows.single(), cameras.single_mut()) else { return };
    let scale = window.scale_factor();
    let size = (free.max - free.min) * scale;
    if size.x < 1.0 || size.y < 1.0 {
        camera.viewport = None;
        return;
    }
    let position = (free.min * scale).as_uvec2();
    let size = size.as_uvec2().min(UVec2::new(window.physical_width(), window.physical_height()).saturating_sub(position)).max(UVec2::ONE);
    camera.viewport = Some(Viewport { physical_position: position, physical_size: size, ..default() });
}
