//! The Generate panel: method and options, Generate / Re-skin buttons (Ctrl+G / Ctrl+R),
//! progress with the stage name, Cancel, and the auto re-skin toggle.

use std::sync::Arc;

use bevy::prelude::*;
use bevy_egui::egui;
use rig_core::autoskel::{AutoSkeletonOptions, SkeletonKind};
use rig_core::autoskin::{AutoSkinOptions, SkinMethod};
use rig_core::motion::{MotionOptions, SsdrOptions};
use rig_core::InfluenceLimit;
use rig_model::decode::SamplingOptions;
use rig_pipeline::{LearnedSettings, RigRequest, SkeletonSource};

use crate::document::Document;
use crate::worker::Worker;

/// Which generator the panel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Geometric,
    Learned,
}

/// Settings of the Generate panel.
#[derive(Resource, Debug, Clone)]
pub struct GenerateSettings {
    pub method: Method,
    /// Learned: sampling temperature of the skeleton tokens and beams (1: sampling).
    pub temperature: f32,
    pub beams: usize,
    pub kind: SkeletonKind,
    pub seed: u64,
    pub max_influences: usize,
    pub joint_spacing: f32,
    /// One finger chain per biped hand whose fingers are not apart (`rigsmith rig --mitten`).
    pub mitten: bool,
    /// Re-skin on the worker after every skeleton edit.
    pub auto_reskin: bool,
    /// Rig from motion: which of the rig's clips, and how many bones.
    pub motion_clip: usize,
    pub motion_bones: usize,
}

impl Default for GenerateSettings {
    fn default() -> Self {
        GenerateSettings {
            method: Method::Geometric,
            temperature: SamplingOptions::default().temperature,
            beams: 1,
            kind: SkeletonKind::Auto,
            seed: 0,
            max_influences: 4,
            joint_spacing: AutoSkeletonOptions::default().spacing,
            mitten: false,
            auto_reskin: false,
            motion_clip: 0,
            motion_bones: rig_core::motion::SsdrOptions::default().bones,
        }
    }
}

impl GenerateSettings {
    /// The influence limit of generated skins and of exports: the panel's influences per vertex
    /// and the method's smallest share (the command line's defaults).
    pub fn limit(&self) -> InfluenceLimit {
        let min_weight = RigRequest::default_min_weight(self.method == Method::Learned, SkinMethod::Heat);
        InfluenceLimit { max_influences: self.max_influences.clamp(1, 8), min_weight }
    }

    /// The pipeline request for Generate (`generate_skeleton`) or Re-skin of the open rig: the
    /// same request `rigsmith rig` builds from the same settings.
    pub fn request(&self, generate_skeleton: bool) -> RigRequest {
        let skeleton = if generate_skeleton {
            SkeletonSource::Generate(AutoSkeletonOptions {
                kind: self.kind,
                spacing: self.joint_spacing,
                mitten: self.mitten,
                ..Default::default()
            })
        } else {
            // The editor's deform flags are the artist's choice: keep them as they are.
            SkeletonSource::Keep { weighted_only: false }
        };
        let mut request = match self.method {
            Method::Geometric => RigRequest::geometric(skeleton, AutoSkinOptions::default()),
            Method::Learned => {
                let sampling =
                    SamplingOptions { temperature: self.temperature, beams: self.beams.max(1), seed: self.seed, ..Default::default() };
                RigRequest::learned(skeleton, LearnedSettings { sampling, ..Default::default() })
            }
        };
        request.limit = self.limit();
        request
    }
}

impl GenerateSettings {
    /// The pipeline request for Rig from motion on the open rig's clip: the same request
    /// `rigsmith rig-from-motion --input FILE --clip N` runs.
    pub fn motion_request(&self) -> RigRequest {
        let ssdr = SsdrOptions {
            bones: self.motion_bones.max(1),
            max_influences: self.max_influences.clamp(1, 8),
            seed: self.seed,
            ..Default::default()
        };
        RigRequest::motion(self.motion_clip, MotionOptions { ssdr, ..Default::default() })
    }
}

/// Sends Rig from motion on the open rig's chosen clip to the worker; errors go to the document.
pub fn start_motion(doc: &mut Document, worker: &mut Worker, settings: &GenerateSettings) {
    let Some(rig) = doc.rig.as_ref() else { return };
    if rig.clips.get(settings.motion_clip).is_none() {
        doc.error = Some("Rig from motion needs a clip: open a file with a skinned or morph-target animation".into());
        return;
    }
    if let Err(e) = worker.submit(doc.mesh_id, Arc::new(rig.clone()), settings.motion_request()) {
        doc.error = Some(e);
    }
}

/// Sends a job for the open rig to the worker; errors go to the document.
pub fn start(doc: &mut Document, worker: &mut Worker, settings: &GenerateSettings, generate_skeleton: bool) {
    let Some(rig) = doc.rig.as_ref() else { return };
    if let Err(e) = worker.submit(doc.mesh_id, Arc::new(rig.clone()), settings.request(generate_skeleton)) {
        doc.error = Some(e);
    }
}

/// `motion_error`: the error overlay's figures at this frame (root mean square, largest).
pub fn show(ui: &mut egui::Ui, doc: &mut Document, worker: &mut Worker, settings: &mut GenerateSettings, motion_error: Option<(f32, f32)>) {
    ui.heading("Generate");
    ui.horizontal(|ui| {
        ui.label("method");
        let name = if settings.method == Method::Learned { "learned" } else { "geometric" };
        egui::ComboBox::from_id_salt("method").selected_text(name).show_ui(ui, |ui| {
            ui.selectable_value(&mut settings.method, Method::Geometric, "geometric")
                .on_hover_text("templates and the voxel binder: no model weights needed");
            ui.selectable_value(&mut settings.method, Method::Learned, "learned")
                .on_hover_text("the joint pruner in models/ trims the geometric template to the joints an artist keeps (without it, the transformer writes the skeleton: temperature and beams); the skin predictor there turns bone heat into the skin");
        });
    });
    if settings.method == Method::Learned {
        ui.horizontal(|ui| {
            ui.label("temperature");
            ui.add(egui::DragValue::new(&mut settings.temperature).range(0.0..=2.0).speed(0.05));
            ui.label("beams");
            ui.add(egui::DragValue::new(&mut settings.beams).range(1..=10));
        });
    }
    if settings.method == Method::Geometric {
        ui.horizontal(|ui| {
            ui.label("skeleton");
            egui::ComboBox::from_id_salt("kind").selected_text(format!("{:?}", settings.kind).to_lowercase()).show_ui(ui, |ui| {
                ui.selectable_value(&mut settings.kind, SkeletonKind::Auto, "auto")
                    .on_hover_text("the biped template when the mesh has two legs and two arms, else the quadruped one when it stands on four legs, otherwise generic");
                ui.selectable_value(&mut settings.kind, SkeletonKind::Biped, "biped");
                ui.selectable_value(&mut settings.kind, SkeletonKind::Quadruped, "quadruped");
                ui.selectable_value(&mut settings.kind, SkeletonKind::Generic, "generic");
            });
            if matches!(settings.kind, SkeletonKind::Auto | SkeletonKind::Biped) {
                ui.checkbox(&mut settings.mitten, "mitten")
                    .on_hover_text("one finger chain per hand whose fingers are not apart in the mesh (mittens, fists, gloves)");
            }
        });
    }
    ui.horizontal(|ui| {
        ui.label("seed");
        ui.add(egui::DragValue::new(&mut settings.seed));
        ui.label("influences");
        ui.add(egui::DragValue::new(&mut settings.max_influences).range(1..=8));
    });
    if settings.method == Method::Geometric {
        ui.horizontal(|ui| {
            ui.label("joint spacing");
            ui.add(egui::Slider::new(&mut settings.joint_spacing, 0.03..=0.2));
        });
    }
    let busy = worker.running.is_some();
    let has_rig = doc.rig.is_some();
    ui.horizontal(|ui| {
        if ui.add_enabled(has_rig && !busy, egui::Button::new("Generate rig (Ctrl+G)")).clicked() {
            start(doc, worker, settings, true);
        }
        if ui.add_enabled(has_rig && !busy, egui::Button::new("Re-skin (Ctrl+R)")).clicked() {
            start(doc, worker, settings, false);
        }
    });
    ui.checkbox(&mut settings.auto_reskin, "auto re-skin after edits");
    motion_section(ui, doc, worker, settings, has_rig && !busy);
    if let Some((rms, max)) = motion_error {
        ui.label(format!("error at this frame: {rms:.3} % of the diagonal (largest {max:.3} %)"));
    }
    if worker.running.as_ref().is_some_and(|r| r.label != super::match_targets::LABEL && r.label != crate::face::LABEL) {
        progress(ui, worker);
    }
}

/// The running job's progress bar (its stage and time) and Cancel.
pub fn progress(ui: &mut egui::Ui, worker: &mut Worker) {
    let Some(r) = worker.running.clone() else { return };
    ui.add(egui::ProgressBar::new(r.fraction).text(format!("{}: {} ({:.1} s)", r.label, r.stage, r.started.elapsed().as_secs_f32())));
    if ui.button("Cancel").clicked() {
        worker.cancel();
    }
    ui.ctx().request_repaint();
}

/// Rig from motion: a clip of the open rig, the bone count, and the button.
fn motion_section(ui: &mut egui::Ui, doc: &mut Document, worker: &mut Worker, settings: &mut GenerateSettings, enabled: bool) {
    let clips: Vec<String> = doc.rig.as_ref().map(|r| r.clips.iter().map(|c| c.name.clone()).collect()).unwrap_or_default();
    ui.separator();
    ui.label("Rig from motion").on_hover_text(
        "a new skeleton, skin and clip recovered from how the chosen clip moves the mesh (skinned or morph-target animation)",
    );
    if clips.is_empty() {
        ui.weak("the open file has no clip to learn from");
        return;
    }
    settings.motion_clip = settings.motion_clip.min(clips.len() - 1);
    ui.horizontal(|ui| {
        ui.label("clip");
        egui::ComboBox::from_id_salt("motion_clip").selected_text(clips[settings.motion_clip].clone()).show_ui(ui, |ui| {
            for (i, name) in clips.iter().enumerate() {
                ui.selectable_value(&mut settings.motion_clip, i, name);
            }
        });
        ui.label("bones");
        ui.add(egui::DragValue::new(&mut settings.motion_bones).range(1..=100));
    });
    if ui.add_enabled(enabled, egui::Button::new("Rig from motion")).clicked() {
        start_motion(doc, worker, settings);
    }
}

/// Ctrl+G generates, Ctrl+R re-skins.
pub fn shortcuts(keys: Res<ButtonInput<KeyCode>>, mut doc: ResMut<Document>, mut worker: ResMut<Worker>, settings: Res<GenerateSettings>) {
    let ctrl = keys.pressed(KeyCode::ControlLeft) || keys.pressed(KeyCode::ControlRight);
    if !ctrl || worker.running.is_some() {
        return;
    }
    if keys.just_pressed(KeyCode::KeyG) {
        start(&mut doc, &mut worker, &settings, true);
    } else if keys.just_pressed(KeyCode::KeyR) {
        start(&mut doc, &mut worker, &settings, false);
    }
}

/// With auto re-skin on, a skeleton edit queues a re-skin once the worker is free.
pub fn auto_reskin(mut doc: ResMut<Document>, mut worker: ResMut<Worker>, settings: Res<GenerateSettings>) {
    if settings.auto_reskin && doc.needs_reskin && worker.running.is_none() && doc.rig.is_some() {
        doc.needs_reskin = false;
        start(&mut doc, &mut worker, &settings, false);
    }
}
