//! `rigsmith bench gpu`: the editor's scene (its skinning and material shaders, morph targets,
//! lights) drawing a rig into an offscreen image, with no window and no display server, while a
//! clip or the test motion plays. Each frame is timed from the start of the update to the end
//! of the GPU's work (the device is waited for after every frame, so frames never overlap).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bevy::app::PluginsState;
use bevy::camera::RenderTarget;
use bevy::prelude::*;
use bevy::render::pipelined_rendering::PipelinedRenderingPlugin;
use bevy::render::render_resource::{PipelineCache, PollType, TextureFormat};
use bevy::render::renderer::{RenderAdapterInfo, RenderDevice};
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::render::{RenderApp, RenderPlugin};
use bevy::window::ExitCondition;
use bevy::winit::WinitPlugin;
use rig_core::Rig;

use crate::document::Document;
use crate::playback::{Motion, Playback, PosedJoints};
use crate::scene::RigPart;

/// What to draw and for how long.
#[derive(Debug, Clone)]
pub struct GpuBenchSettings {
    pub frames: usize,
    pub width: u32,
    pub height: u32,
}

/// Frame times of one run.
#[derive(Debug, Clone)]
pub struct GpuBenchReport {
    /// The adapter's name, driver and graphics API.
    pub adapter: String,
    /// The motion that played.
    pub motion: String,
    /// Frames drawn before timing (pipelines compiled, parts built).
    pub warmup_frames: usize,
    /// Milliseconds per timed frame, in order.
    pub frame_ms: Vec<f64>,
    /// The image after the last timed frame, RGBA8, row by row.
    pub last_frame: LastFrame,
}

/// One drawn image.
#[derive(Debug, Clone)]
pub struct LastFrame {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl LastFrame {
    /// Pixels whose colour differs from the top-left corner's (the background) by more than
    /// `tolerance` in some channel.
    pub fn pixels_unlike_background(&self, tolerance: u8) -> usize {
        let Some(corner) = self.rgba.get(0..4) else { return 0 };
        self.rgba.chunks_exact(4).filter(|p| p.iter().zip(corner).take(3).any(|(a, b)| a.abs_diff(*b) > tolerance)).count()
    }

    /// Writes the image as PNG.
    pub fn save_png(&self, path: &std::path::Path) -> Result<(), String> {
        let image = Image::new(
            bevy::render::render_resource::Extent3d { width: self.width, height: self.height, depth_or_array_layers: 1 },
            bevy::render::render_resource::TextureDimension::D2,
            self.rgba.clone(),
            TextureFormat::Rgba8UnormSrgb,
            bevy::asset::RenderAssetUsages::MAIN_WORLD,
        );
        let pixels = image.try_into_dynamic().map_err(|e| format!("{}: {e}", path.display()))?.to_rgb8();
        pixels.save(path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

impl GpuBenchReport {
    /// The `q` quantile (0..=1) of the frame times, in milliseconds.
    pub fn quantile(&self, q: f64) -> f64 {
        let mut sorted = self.frame_ms.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.get(((sorted.len().max(1) - 1) as f64 * q).round() as usize).copied().unwrap_or(f64::NAN)
    }
}

/// Frames allowed for shaders to compile and the rig's parts to appear before giving up.
const MAX_WARMUP_FRAMES: usize = 600;

/// Draws `rig` offscreen for `settings.frames` timed frames. Fails with a sentence when no GPU
/// adapter answers or the scene never becomes ready.
pub fn run(rig: Rig, settings: &GpuBenchSettings) -> Result<GpuBenchReport, String> {
    const NO_ADAPTER: &str = "no GPU adapter answered (Vulkan, Metal or DX12 is needed; Mesa's lavapipe is enough)";
    let motion = match rig.clips.is_empty() {
        true => Motion::Flex,
        false => Motion::Clip(0),
    };
    let motion_name = match motion {
        Motion::Clip(c) => format!("clip '{}'", rig.clips[c].name),
        _ => "the test motion (each joint flexes in turn)".to_string(),
    };
    // Bevy's renderer panics when no adapter answers: that panic is this function's error.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build_app(settings)));
    std::panic::set_hook(hook);
    let mut app = built.map_err(|_| NO_ADAPTER.to_string())?;
    app.world_mut().resource_mut::<Document>().set_rig(rig, None);
    *app.world_mut().resource_mut::<Playback>() = Playback { motion, playing: true, ..Playback::default() };
    let adapter = match app.world().get_resource::<RenderAdapterInfo>() {
        Some(info) => format!("{} ({:?}, {} {})", info.name, info.backend, info.driver, info.driver_info),
        None => return Err(NO_ADAPTER.into()),
    };
    let warmup_frames = warm_up(&mut app)?;
    let mut frame_ms = Vec::with_capacity(settings.frames);
    for _ in 0..settings.frames {
        let start = Instant::now();
        app.update();
        wait_for_gpu(&app)?;
        frame_ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let last_frame = capture(&mut app)?;
    Ok(GpuBenchReport { adapter, motion: motion_name, warmup_frames, frame_ms, last_frame })
}

fn build_app(settings: &GpuBenchSettings) -> App {
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin { primary_window: None, exit_condition: ExitCondition::DontExit, ..default() })
            .set(RenderPlugin { synchronous_pipeline_compilation: true, ..default() })
            .disable::<WinitPlugin>()
            // Rendering on its own thread would overlap frames; timed frames must not.
            .disable::<PipelinedRenderingPlugin>(),
    )
    .add_plugins((crate::rig_material::RigMaterialPlugin, crate::EditorCorePlugin))
    .insert_resource(TargetSize(settings.width, settings.height))
    .add_systems(Startup, spawn_camera_and_lights)
    .add_systems(Update, frame_rig.after(crate::playback::PoseSet));
    while app.plugins_state() == PluginsState::Adding {
        bevy::tasks::tick_global_task_pools_on_main_thread();
    }
    app.finish();
    app.cleanup();
    app
}

/// Updates until the rig's parts exist, no pipeline is still compiling, and ten more frames
/// have run; returns the number of frames.
fn warm_up(app: &mut App) -> Result<usize, String> {
    let mut ready_for = 0;
    for frame in 1..=MAX_WARMUP_FRAMES {
        app.update();
        wait_for_gpu(app)?;
        let parts = app.world_mut().query::<&RigPart>().iter(app.world()).count();
        let compiling =
            app.get_sub_app(RenderApp).and_then(|r| r.world().get_resource::<PipelineCache>()).map(|c| c.waiting_pipelines().count());
        let Some(compiling) = compiling else { return Err("the renderer did not start".into()) };
        ready_for = if parts > 0 && compiling == 0 { ready_for + 1 } else { 0 };
        if ready_for >= 10 {
            return Ok(frame);
        }
    }
    Err(format!("the scene was not ready after {MAX_WARMUP_FRAMES} frames (no mesh parts drawn, or shaders still compiling)"))
}

/// The target image as drawn (a few frames more at most, while the copy comes back).
fn capture(app: &mut App) -> Result<LastFrame, String> {
    let target =
        app.world_mut().query_filtered::<&RenderTarget, With<BenchCamera>>().single(app.world()).ok().and_then(|t| t.as_image().cloned());
    let Some(target) = target else { return Err("the benchmark's camera has no image".into()) };
    let captured: Arc<Mutex<Option<Image>>> = Arc::default();
    let sink = captured.clone();
    app.world_mut().spawn(Screenshot::image(target)).observe(move |shot: On<ScreenshotCaptured>| {
        *sink.lock().unwrap_or_else(|e| e.into_inner()) = Some(shot.image.clone());
    });
    for _ in 0..30 {
        app.update();
        wait_for_gpu(app)?;
        let image = captured.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(image) = image {
            let rgba = image.try_into_dynamic().map_err(|e| format!("the drawn image cannot be read: {e}"))?.to_rgba8();
            return Ok(LastFrame { width: rgba.width(), height: rgba.height(), rgba: rgba.into_raw() });
        }
    }
    Err("the drawn image did not come back from the GPU".into())
}

fn wait_for_gpu(app: &App) -> Result<(), String> {
    let device = app.world().get_resource::<RenderDevice>().ok_or("the renderer did not start")?;
    device.poll(PollType::wait_indefinitely()).map(|_| ()).map_err(|e| format!("the GPU did not finish a frame: {e}"))
}

#[derive(Resource)]
struct TargetSize(u32, u32);

#[derive(Component)]
struct BenchCamera;

/// The editor's lights and a camera drawing into an image of the requested size.
fn spawn_camera_and_lights(
    mut commands: Commands,
    size: Res<TargetSize>,
    mut images: ResMut<Assets<Image>>,
    mut ambient: ResMut<GlobalAmbientLight>,
) {
    let image = Image::new_target_texture(size.0.max(1), size.1.max(1), TextureFormat::Rgba8UnormSrgb, None);
    commands.spawn((Camera3d::default(), Msaa::Off, RenderTarget::from(images.add(image)), Transform::default(), BenchCamera));
    crate::camera::spawn_lights(&mut commands, &mut ambient);
}

/// Frames the whole rig as the editor does on opening a file.
fn frame_rig(doc: Res<Document>, posed: Res<PosedJoints>, mut cameras: Query<&mut Transform, With<BenchCamera>>, mut framed: Local<bool>) {
    let (Some(bounds), Ok(mut transform)) = (doc.stats.bounds.filter(|_| doc.rig.is_some()), cameras.single_mut()) else { return };
    if *framed {
        return;
    }
    let (lo, hi) = posed.display_box(&bounds);
    let mut orbit = crate::camera::OrbitCamera::default();
    orbit.frame(lo, hi);
    *transform = orbit.transform();
    *framed = true;
}
