//! Scripted editor sessions for checks and demos: `rigsmith edit FILE --do "generate" --do
//! "select upperarm_l" --do "overlay heat" --do "screenshot out.png" --do quit`
//! (`rig-from-motion CLIP BONES` runs Rig from motion, `targets PATH` then `match-targets
//! [nearest] [all] [scales] [smooth W] [clip NAME]` runs Match targets; `face-rig [transfer]` runs
//! Face rig, `shape NAME W` sets a blendshape's weight, `face-test SECONDS` shows the test
//! motion's pose at that time). One step runs per frame, and a step
//! waits while a generation job is running (unless written `during STEP`), so a script sees results
//! the way a user would. `--frame-log FILE` writes every frame's duration (and whether a job
//! was running) for the responsiveness check.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use bevy::prelude::*;
use bevy::render::view::screenshot::{save_to_disk, Screenshot, ScreenshotCaptured};
use rig_core::edit;

use crate::autosave::Autosave;
use crate::document::Document;
use crate::playback::{Motion, Playback};
use crate::rig_material::{Overlay, ViewSettings};
use crate::ui::generate::{self, GenerateSettings};
use crate::worker::Worker;

/// The steps still to run.
#[derive(Resource, Debug, Default)]
pub struct Script {
    steps: std::collections::VecDeque<String>,
    wait_frames: u32,
    /// `sleep MS`: no step before this instant (Bevy compiles pipelines in the background, so
    /// on a slow renderer the first frames may not show the mesh yet).
    sleep_until: Option<Instant>,
    /// A screenshot was requested and has not been written yet.
    capturing: bool,
    /// `cancel-after MS`: when to press Cancel, and when it was pressed.
    cancel_at: Option<Instant>,
    cancel_pressed: Option<Instant>,
}

/// Per-frame durations written as `seconds_since_start frame_ms job_running` lines.
#[derive(Resource)]
pub struct FrameLog {
    out: std::io::BufWriter<std::fs::File>,
    start: Instant,
    last: Instant,
    /// When this frame's main schedule began (the `First` schedule).
    update_began: Instant,
}

pub struct ScriptPlugin {
    pub steps: Vec<String>,
    pub frame_log: Option<PathBuf>,
}

impl Plugin for ScriptPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Script { steps: self.steps.iter().cloned().collect(), ..default() }).add_systems(Update, run_steps);
        if let Some(path) = &self.frame_log {
            match std::fs::File::create(path) {
                Ok(f) => {
                    let now = Instant::now();
                    app.insert_resource(FrameLog { out: std::io::BufWriter::new(f), start: now, last: now, update_began: now })
                        .add_systems(First, |mut log: ResMut<FrameLog>| log.update_began = Instant::now())
                        .add_systems(Last, log_frame);
                }
                Err(e) => eprintln!("frame log {}: {e}", path.display()),
            }
        }
    }
}

/// Presses Cancel when due, and reports how long the job took to stop after it.
fn cancel_when_due(script: &mut Script, worker: &Worker) {
    if let (Some(at), None) = (script.cancel_at, script.cancel_pressed) {
        if Instant::now() >= at {
            if worker.running.is_some() {
                worker.cancel();
                script.cancel_pressed = Some(Instant::now());
            } else {
                eprintln!("script: cancel-after: no job was running");
                script.cancel_at = None;
            }
        }
    }
    if let Some(pressed) = script.cancel_pressed {
        if worker.running.is_none() {
            eprintln!("script: the job stopped {:.0} ms after Cancel", pressed.elapsed().as_secs_f64() * 1000.0);
            script.cancel_pressed = None;
            script.cancel_at = None;
        }
    }
}

fn log_frame(mut log: ResMut<FrameLog>, worker: Res<Worker>) {
    let now = Instant::now();
    let line = format!(
        "{:.4} {:.2} {} {:.2}\n",
        now.duration_since(log.start).as_secs_f64(),
        now.duration_since(log.last).as_secs_f64() * 1000.0,
        u8::from(worker.running.is_some()),
        now.duration_since(log.update_began).as_secs_f64() * 1000.0
    );
    log.last = now;
    let _ = log.out.write_all(line.as_bytes());
}

#[derive(bevy::ecs::system::SystemParam)]
struct Targets<'w> {
    doc: ResMut<'w, Document>,
    worker: ResMut<'w, Worker>,
    settings: ResMut<'w, GenerateSettings>,
    view: ResMut<'w, ViewSettings>,
    playback: ResMut<'w, Playback>,
    autosave: Option<ResMut<'w, Autosave>>,
    log: Option<ResMut<'w, FrameLog>>,
    paint: ResMut<'w, crate::paint::PaintSettings>,
    gizmo: Option<ResMut<'w, crate::gizmo::GizmoMode>>,
    dialogs: Option<ResMut<'w, crate::ui::dialogs::Dialogs>>,
    matching: Option<ResMut<'w, crate::ui::match_targets::MatchSettings>>,
    face: Option<ResMut<'w, crate::face::FacePose>>,
}

fn run_steps(mut script: ResMut<Script>, mut t: Targets, mut commands: Commands, mut exit: MessageWriter<AppExit>) {
    if script.sleep_until.is_some_and(|t| Instant::now() < t) {
        return;
    }
    if script.wait_frames > 0 {
        script.wait_frames -= 1;
        return;
    }
    cancel_when_due(&mut script, &t.worker);
    if script.steps.front().is_some_and(|s| s.starts_with("cancel-after")) {
        // Runs while a job is running: it only schedules the Cancel press.
        let step = script.steps.pop_front().unwrap_or_default();
        let ms: u64 = step.split_whitespace().nth(1).and_then(|m| m.parse().ok()).unwrap_or(0);
        script.cancel_at = Some(Instant::now() + std::time::Duration::from_millis(ms));
        eprintln!("script: {step}");
        return;
    }
    // `during STEP` runs STEP while a job is running (a screenshot of its progress).
    let during = script.steps.front().is_some_and(|s| s.starts_with("during "));
    if script.capturing || (t.worker.running.is_some() && !during) {
        return;
    }
    let Some(step) = script.steps.pop_front() else { return };
    let step = step.strip_prefix("during ").map(str::to_string).unwrap_or(step);
    let words: Vec<&str> = step.split_whitespace().collect();
    eprintln!("script: {step}");
    let result = match words.as_slice() {
        ["generate"] => {
            generate::start(&mut t.doc, &mut t.worker, &t.settings, true);
            Ok(())
        }
        ["reskin"] => {
            generate::start(&mut t.doc, &mut t.worker, &t.settings, false);
            Ok(())
        }
        ["rig-from-motion", clip, bones] => match (clip.parse(), bones.parse()) {
            (Ok(clip), Ok(bones)) => {
                t.settings.motion_clip = clip;
                t.settings.motion_bones = bones;
                generate::start_motion(&mut t.doc, &mut t.worker, &t.settings);
                Ok(())
            }
            _ => Err("rig-from-motion CLIP_INDEX BONES".into()),
        },
        ["face-rig", rest @ ..] => {
            crate::face::start(&mut t.doc, &mut t.worker, rest != ["transfer"]);
            Ok(())
        }
        ["shape", name, w] => match (w.parse::<f32>(), t.face.as_mut()) {
            (Ok(w), Some(face)) => {
                face.testing = false;
                face.weights.insert(name.to_string(), w);
                Ok(())
            }
            _ => Err("shape NAME WEIGHT".into()),
        },
        ["face-test", s] => match (s.parse::<f32>(), t.face.as_mut()) {
            (Ok(s), Some(face)) => {
                face.testing = false;
                crate::face::set_test_pose(face, s);
                Ok(())
            }
            _ => Err("face-test SECONDS (the test motion's pose at that time)".into()),
        },
        ["targets", path] => {
            t.doc.targets = Some(PathBuf::from(path));
            Ok(())
        }
        ["match-targets", options @ ..] => match_step(&mut t, options),
        ["method", "learned"] => {
            t.settings.method = generate::Method::Learned;
            Ok(())
        }
        ["method", "geometric"] => {
            t.settings.method = generate::Method::Geometric;
            Ok(())
        }
        ["select", name] => select(&mut t.doc, name),
        ["paint", mode, x, y, z] => paint_step(&mut t.doc, &mut t.paint, mode, [x, y, z]),
        ["lock", name] => {
            t.paint.locked.insert(name.to_string());
            Ok(())
        }
        ["skeleton", on] => on_off(on).map(|v| t.view.show_skeleton = v),
        ["grid", on] => on_off(on).map(|v| t.view.show_grid = v),
        ["xray", on] => on_off(on).map(|v| t.view.xray = v),
        ["wireframe", on] => on_off(on).map(|v| t.view.wireframe = v),
        ["ghost", on] => on_off(on).map(|v| t.view.show_ghost = v),
        ["gizmo", mode] => gizmo_mode(mode).and_then(|m| t.gizmo.as_mut().map(|g| **g = m).ok_or_else(|| "no gizmo in this app".into())),
        ["pose", name, x, y, z] => pose_step(&t.doc, &mut t.playback, name, [x, y, z]),
        ["overlay", mode] => overlay(mode).map(|o| t.view.overlay = o),
        ["move", name, x, y, z] | ["nudge", name, x, y, z] => move_step(&mut t.doc, words[0] == "nudge", name, [x, y, z]),
        ["motion", m] => motion(m).map(|m| {
            t.playback.motion = m;
            t.playback.playing = false;
        }),
        ["time", s] => s.parse().map(|s| t.playback.time = s).map_err(|e| format!("{e}")),
        ["play"] => {
            t.playback.playing = true;
            Ok(())
        }
        ["wait", n] => n.parse().map(|n| script.wait_frames = n).map_err(|e| format!("{e}")),
        ["sleep", ms] => ms
            .parse()
            .map(|ms| script.sleep_until = Some(Instant::now() + std::time::Duration::from_millis(ms)))
            .map_err(|e| format!("{e}")),
        ["undo"] => {
            t.doc.undo();
            Ok(())
        }
        ["redo"] => {
            t.doc.redo();
            Ok(())
        }
        ["export", path] => crate::ui::menu::export(&mut t.doc, std::path::Path::new(path), t.settings.limit())
            .then_some(())
            .ok_or_else(|| "export failed".into()),
        ["retarget", path] => match crate::ui::menu::retarget_from(&mut t.doc, std::path::Path::new(path)) {
            Some(clip) => {
                t.playback.motion = crate::playback::Motion::Clip(clip);
                t.playback.time = 0.0;
                Ok(())
            }
            None => Err("retarget failed".into()),
        },
        ["rest-pose", which] => {
            let pose = match *which {
                "t" => Some(rig_core::repose::RestPose::T),
                "a" => Some(rig_core::repose::RestPose::A),
                _ => None,
            };
            match pose {
                Some(pose) => crate::ui::menu::bind_in(&mut t.doc, pose).then_some(()).ok_or_else(|| "rest-pose failed".into()),
                None => Err(format!("rest-pose {which}: t or a")),
            }
        }
        ["save-session", path] => {
            crate::ui::menu::save_session(&mut t.doc, std::path::Path::new(path)).then_some(()).ok_or_else(|| "save failed".into())
        }
        ["dialog", which] => dialog_step(t.dialogs.as_deref_mut(), &t.doc, which),
        ["recover"] => t.autosave.as_mut().map(|a| a.recover(&mut t.doc)).ok_or_else(|| "no autosave".into()),
        ["screenshot", path] => {
            script.capturing = true;
            commands.spawn(Screenshot::primary_window()).observe(save_to_disk(PathBuf::from(path))).observe(
                |_: On<ScreenshotCaptured>, mut s: ResMut<Script>| {
                    s.capturing = false;
                },
            );
            Ok(())
        }
        ["quit"] => {
            if let Some(log) = t.log.as_mut() {
                let _ = log.out.flush();
            }
            exit.write(AppExit::Success);
            Ok(())
        }
        _ => Err("unknown step".to_string()),
    };
    if let Err(e) = result {
        // A scripted run stops at the first failing step, with a failing exit code.
        eprintln!("error: script step '{step}' failed: {e}");
        t.doc.error = Some(format!("script step '{step}': {e}"));
        script.steps.clear();
        exit.write(AppExit::from_code(1));
        return;
    }
    if let Some(e) = &t.doc.error {
        eprintln!("editor error: {e}");
    }
}

/// `dialog open|open-session|save-session|export`: opens the in-window file browser, as the
/// File menu does where the desktop has no file dialog.
fn dialog_step(dialogs: Option<&mut crate::ui::dialogs::Dialogs>, doc: &Document, which: &str) -> Result<(), String> {
    use crate::ui::dialogs::Purpose;
    let purpose = match which {
        "open" => Purpose::OpenRig,
        "open-session" => Purpose::OpenSession,
        "save-session" => Purpose::SaveSession,
        "export" => Purpose::Export,
        _ => return Err(format!("unknown dialog {which:?} (open, open-session, save-session, export)")),
    };
    let dialogs = dialogs.ok_or("no file dialogs in this app")?;
    if dialogs.builtin_reason().is_none() {
        return Err("the desktop's file dialogs are in use; run with RIGSMITH_FILE_DIALOG=builtin to script the in-window one".into());
    }
    dialogs.request(purpose, &crate::ui::menu::suggested_name(purpose, doc));
    Ok(())
}

/// `select NAME`, or `select #N` for the joint with index N.
fn select(doc: &mut Document, name: &str) -> Result<(), String> {
    let joints = doc.rig.as_ref().map_or(0, |r| r.skeleton.len());
    let by_index = name.strip_prefix('#').and_then(|n| n.parse::<usize>().ok()).filter(|&j| j < joints);
    let j = by_index.or_else(|| doc.rig.as_ref()?.skeleton.find(name)).ok_or_else(|| format!("no joint {name}"))?;
    doc.selected_joint = Some(j);
    Ok(())
}

/// `paint add|subtract|smooth|normalize X Y Z`: one dab on the selected joint at a mesh-space point.
fn paint_step(doc: &mut Document, settings: &mut crate::paint::PaintSettings, mode: &str, xyz: [&&str; 3]) -> Result<(), String> {
    use rig_core::paint::BrushMode;
    settings.mode = match mode {
        "add" => BrushMode::Add,
        "subtract" => BrushMode::Subtract,
        "smooth" => BrushMode::Smooth,
        "normalize" => BrushMode::Normalize,
        _ => return Err("paint mode is add, subtract, smooth or normalize".into()),
    };
    let v = parse_xyz(xyz)?;
    let neighbours = rig_core::paint::neighbours(&doc.rig.as_ref().ok_or("no rig open")?.mesh);
    crate::paint::dab_at(doc, settings, v, false, &neighbours).map(|_| ()).ok_or_else(|| "nothing painted (select a joint)".into())
}

/// Three numbers of a step.
fn parse_xyz(xyz: [&&str; 3]) -> Result<[f32; 3], String> {
    let mut v = [0.0; 3];
    for (k, s) in xyz.iter().enumerate() {
        v[k] = s.parse::<f32>().map_err(|e| format!("'{s}': {e}"))?;
    }
    Ok(v)
}

fn gizmo_mode(word: &str) -> Result<crate::gizmo::GizmoMode, String> {
    match word {
        "move" => Ok(crate::gizmo::GizmoMode::Move),
        "rotate" => Ok(crate::gizmo::GizmoMode::Rotate),
        _ => Err("gizmo is move or rotate".into()),
    }
}

/// `pose NAME X Y Z`: the joint's pose-mode rotation, degrees about the mesh's axes.
fn pose_step(doc: &Document, playback: &mut Playback, name: &str, xyz: [&&str; 3]) -> Result<(), String> {
    let j = doc.rig.as_ref().and_then(|r| r.skeleton.find(name)).ok_or_else(|| format!("no joint named {name}"))?;
    playback.pose_offsets.insert(j, parse_xyz(xyz)?);
    Ok(())
}

fn on_off(word: &str) -> Result<bool, String> {
    match word {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err("say on or off".into()),
    }
}

/// `match-targets [nearest] [all] [scales] [smooth W] [clip NAME]`: Match targets on the chosen targets.
fn match_step(t: &mut Targets, options: &[&str]) -> Result<(), String> {
    let mut settings = t.matching.as_deref().cloned().unwrap_or_default();
    let mut words = options.iter();
    while let Some(word) = words.next() {
        match *word {
            "nearest" => settings.matching = rig_pipeline::invert::Matching::Nearest,
            "all" => settings.translations = rig_core::invert::Translations::All,
            "scales" => settings.scales = true,
            "smooth" => settings.smooth = words.next().and_then(|w| w.parse().ok()).ok_or("smooth needs a number")?,
            "clip" => settings.clip = words.next().ok_or("clip needs the targets file's clip name or number")?.to_string(),
            other => return Err(format!("match-targets [nearest] [all] [scales] [smooth W] [clip NAME]: unknown option '{other}'")),
        }
    }
    crate::ui::match_targets::start(&mut t.doc, &mut t.worker, &settings);
    if let Some(m) = t.matching.as_deref_mut() {
        *m = settings;
    }
    Ok(())
}

fn overlay(mode: &str) -> Result<Overlay, String> {
    match mode {
        "shaded" => Ok(Overlay::Shaded),
        "heat" => Ok(Overlay::Heat),
        "bones" => Ok(Overlay::Bones),
        "error" => Ok(Overlay::Error),
        _ => Err("overlay is shaded, heat, bones or error".into()),
    }
}

fn motion(m: &str) -> Result<Motion, String> {
    match m {
        "bind" => Ok(Motion::Bind),
        "flex" => Ok(Motion::Flex),
        "walk" => Ok(Motion::Walk),
        _ => m
            .strip_prefix("clip:")
            .and_then(|i| i.parse().ok())
            .map(Motion::Clip)
            .ok_or_else(|| "motion is bind, flex, walk or clip:N".into()),
    }
}

fn move_step(doc: &mut Document, relative: bool, name: &str, xyz: [&&str; 3]) -> Result<(), String> {
    let v = parse_xyz(xyz)?;
    let rig = doc.rig.as_ref().ok_or("no rig open")?;
    let j = rig.skeleton.find(name).ok_or_else(|| format!("no joint named {name}"))?;
    let p = edit::bind_position(&rig.skeleton, j);
    let target = if relative { [p[0] + v[0], p[1] + v[1], p[2] + v[2]] } else { v };
    doc.edit_skeleton(&format!("Move {name}"), false, |rig| edit::move_joint(rig, j, target)).ok_or_else(|| "move failed".to_string())
}
