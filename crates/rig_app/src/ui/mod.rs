//! egui panels, one per file: the menu bar, the joint hierarchy, the right-hand inspector
//! (generate, match targets, face rig, joint, health, mesh statistics), the timeline, and the recovery offer. The space
//! they leave is the 3D viewport (`camera::FreeViewport`).

pub mod dialogs;
mod face;
pub mod generate;
mod health;
mod hierarchy;
mod joint;
pub mod match_targets;
pub mod menu;
pub mod paint;
mod stats;
mod timeline;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy::window::FileDragAndDrop;
use bevy_egui::{egui, EguiContexts, EguiPrimaryContextPass};

use crate::autosave::Autosave;
use crate::camera::FreeViewport;
use crate::document::{Document, OpenFile};
use crate::playback::Playback;
use crate::rig_material::{Overlay, ViewSettings};
use crate::worker::Worker;
use generate::GenerateSettings;

pub struct UiPlugin;

impl Plugin for UiPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<GenerateSettings>()
            .init_resource::<match_targets::MatchSettings>()
            .init_resource::<dialogs::Dialogs>()
            .add_systems(EguiPrimaryContextPass, panels)
            .add_systems(Update, (open_dropped_files, shortcuts, generate::shortcuts, generate::auto_reskin));
    }
}

/// Panel state that lives between frames.
#[derive(Default)]
struct PanelState {
    joint_form: joint::JointForm,
    health: health::HealthCache,
}

#[derive(SystemParam)]
struct Editor<'w> {
    doc: ResMut<'w, Document>,
    worker: ResMut<'w, Worker>,
    settings: ResMut<'w, GenerateSettings>,
    matching: ResMut<'w, match_targets::MatchSettings>,
    playback: ResMut<'w, Playback>,
    view: ResMut<'w, ViewSettings>,
    motion_error: Res<'w, crate::scene::MotionErrorNow>,
    autosave: ResMut<'w, Autosave>,
    paint: ResMut<'w, crate::paint::PaintSettings>,
    gizmo: ResMut<'w, crate::gizmo::GizmoMode>,
    dialogs: ResMut<'w, dialogs::Dialogs>,
    face: ResMut<'w, crate::face::FacePose>,
}

fn panels(
    mut contexts: EguiContexts,
    mut e: Editor,
    mut free: ResMut<FreeViewport>,
    mut open: MessageWriter<OpenFile>,
    mut state: Local<PanelState>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let mut root = egui::Ui::new(
        ctx.clone(),
        "rigsmith_root".into(),
        egui::UiBuilder::new().layer_id(egui::LayerId::background()).max_rect(ctx.viewport_rect()),
    );
    let limit = e.settings.limit();
    egui::Panel::top("menu").show(&mut root, |ui| menu::show(ui, &mut e.doc, &mut e.dialogs, &mut open, &mut e.view, limit));
    egui::Panel::bottom("timeline").show(&mut root, |ui| timeline::show(ui, &e.doc, &mut e.playback));
    egui::Panel::left("hierarchy").resizable(true).default_size(220.0).show(&mut root, |ui| hierarchy::show(ui, &mut e.doc));
    egui::Panel::right("inspector").resizable(true).default_size(300.0).show(&mut root, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            // The error overlay's figures at this frame go under the job that made the clip.
            let matched = e.doc.clip_input.as_ref().is_some_and(|c| c.matched);
            let (motion_error, match_error) = if matched { (None, e.motion_error.percent) } else { (e.motion_error.percent, None) };
            generate::show(ui, &mut e.doc, &mut e.worker, &mut e.settings, motion_error);
            ui.separator();
            match_targets::show(ui, &mut e.doc, &mut e.worker, &mut e.dialogs, &mut open, &mut e.matching, limit, match_error);
            ui.separator();
            face::show(ui, &mut e.doc, &mut e.worker, &mut e.face);
            ui.separator();
            joint::show(ui, &mut e.doc, &mut state.joint_form, &mut e.gizmo);
            ui.separator();
            paint::show(ui, &e.doc, &mut e.paint);
            ui.separator();
            let limit = e.settings.limit().max_influences;
            health::show(ui, &mut e.doc, &mut state.health, limit);
            ui.separator();
            stats::show(ui, &e.doc);
        });
    });
    recovery_offer(ctx, &mut e.autosave, &mut e.doc);
    if let Some((purpose, path)) = e.dialogs.show(ctx) {
        menu::act_on_path(purpose, &path, &mut e.doc, &mut open, limit);
    }
    let rect = root.available_rect_before_wrap();
    free.min = Vec2::new(rect.min.x, rect.min.y);
    free.max = Vec2::new(rect.max.x, rect.max.y);
    Ok(())
}

/// The window that offers the autosave of a run that did not exit cleanly.
fn recovery_offer(ctx: &egui::Context, autosave: &mut Autosave, doc: &mut Document) {
    let Some(session) = autosave.offer.as_ref() else { return };
    let source = session.source.display().to_string();
    let age =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()).saturating_sub(session.saved_at);
    egui::Window::new("Recover unsaved work?").collapsible(false).resizable(false).anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0]).show(
        ctx,
        |ui| {
            ui.label(format!("The editor did not close normally. An autosave of {source} from {age} s ago is available."));
            ui.horizontal(|ui| {
                if ui.button("Recover").clicked() {
                    autosave.recover(doc);
                }
                if ui.button("Discard").clicked() {
                    autosave.discard();
                }
            });
        },
    );
}

fn open_dropped_files(mut dropped: MessageReader<FileDragAndDrop>, mut open: MessageWriter<OpenFile>, mut doc: ResMut<Document>) {
    for event in dropped.read() {
        if let FileDragAndDrop::DroppedFile { path_buf, .. } = event {
            if path_buf.extension().is_some_and(|e| e == menu::SESSION_EXTENSION) {
                menu::open_session(&mut doc, path_buf);
            } else {
                open.write(OpenFile(path_buf.clone()));
            }
        }
    }
}

/// Ctrl+O open, Ctrl+S save session, Ctrl+E export, Ctrl+Z undo, Ctrl+Shift+Z / Ctrl+Y redo,
/// 1 / 2 / 3 / 4 overlays, X x-ray, W wireframe, G target ghost, T / E move / rotate gizmo, Space play / pause. Keys typed into a text field are egui's.
fn shortcuts(keys: Res<ButtonInput<KeyCode>>, mut open: MessageWriter<OpenFile>, mut e: Editor, mut contexts: EguiContexts) {
    let typing = contexts.ctx_mut().is_ok_and(|c| c.egui_wants_keyboard_input());
    if typing {
        return;
    }
    let ctrl = keys.pressed(KeyCode::ControlLeft) || keys.pressed(KeyCode::ControlRight);
    let shift = keys.pressed(KeyCode::ShiftLeft) || keys.pressed(KeyCode::ShiftRight);
    if ctrl {
        let limit = e.settings.limit();
        if keys.just_pressed(KeyCode::KeyO) {
            menu::ask(dialogs::Purpose::OpenRig, &mut e.dialogs, &mut e.doc, &mut open, limit);
        } else if keys.just_pressed(KeyCode::KeyZ) && shift || keys.just_pressed(KeyCode::KeyY) {
            e.doc.redo();
        } else if keys.just_pressed(KeyCode::KeyZ) {
            e.doc.undo();
        } else if keys.just_pressed(KeyCode::KeyE) && e.doc.rig.is_some() {
            menu::ask(dialogs::Purpose::Export, &mut e.dialogs, &mut e.doc, &mut open, limit);
        } else if keys.just_pressed(KeyCode::KeyS) && e.doc.rig.is_some() && e.doc.path.is_some() {
            menu::ask(dialogs::Purpose::SaveSession, &mut e.dialogs, &mut e.doc, &mut open, limit);
        }
        return;
    }
    let overlays = [
        (KeyCode::Digit1, Overlay::Shaded),
        (KeyCode::Digit2, Overlay::Heat),
        (KeyCode::Digit3, Overlay::Bones),
        (KeyCode::Digit4, Overlay::Error),
    ];
    for (key, overlay) in overlays {
        if keys.just_pressed(key) {
            e.view.overlay = overlay;
        }
    }
    if keys.just_pressed(KeyCode::KeyX) {
        e.view.xray = !e.view.xray;
    }
    if keys.just_pressed(KeyCode::KeyW) {
        e.view.wireframe = !e.view.wireframe;
    }
    if keys.just_pressed(KeyCode::KeyG) {
        e.view.show_ghost = !e.view.show_ghost;
    }
    if keys.just_pressed(KeyCode::KeyT) {
        *e.gizmo = crate::gizmo::GizmoMode::Move;
    } else if keys.just_pressed(KeyCode::KeyE) {
        *e.gizmo = crate::gizmo::GizmoMode::Rotate;
    }
    if keys.just_pressed(KeyCode::Space) {
        e.playback.playing = !e.playback.playing;
    }
}
