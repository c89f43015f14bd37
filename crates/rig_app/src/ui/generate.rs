//! The Generate panel: method and options, Generate / Re-skin buttons (Ctrl+G / Ctrl+R),
//! progress with the stage name, Cancel, and the auto re-skin toggle.

use std::sync::Arc;

use bevy::prelude::*;
use bevy_egui::egui;
use rig_core::autoskel::{AutoSkeletonOptions, SkeletonKind};
use rig_core::autoskin::{AutoSkinOptions, SkinMethod};
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
    /// Re-skin on the worker after every skeleton edit.
    pub auto_reskin: bool,
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
            auto_reskin: false,
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
            SkeletonSource::Generate(AutoSkeletonOptions { kind: self.kind, spacing: self.joint_spacing, ..Default::default() })
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

/// Sends a job for the open rig to the worker; errors go to the document.
pub fn start(doc: &mut Document, worker: &mut Worker, settings: &GenerateSettings, generate_skeleton: bool) {
    let Some(rig) = doc.rig.as_ref() else { return };
    if let Err(e) = worker.submit(doc.mesh_id, Arc::new(rig.clone()), settings.request(generate_skeleton)) {
        doc.error = Some(e);
    }
}

pub fn show(ui: &mut egui::Ui, doc: &mut Document, worker: &mut Worker, settings: &mut GenerateSettings) {
    ui.heading("Generate");
    ui.horizontal(|ui| {
        ui.label("method");
        let name = if settings.method == Method::Learned { "learned" } else { "geometric" };
        egui::ComboBox::from_id_salt("method").selected_text(name).show_ui(ui, |ui| {
            ui.selectable_value(&mut settings.method, Method::Geometric, "geometric")
                .on_hover_text("templates and the voxel binder: no model weights needed");
            ui.selectable_value(&mut settings.method, Method::Learned, "learned")
                .on_hover_text("the transformer in models/ writes the skeleton and skin tokens (on the CPU)");
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
    if let Some(r) = worker.running.clone() {
        ui.add(egui::ProgressBar::new(r.fraction).text(format!("{}: {} ({:.1} s)", r.label, r.stage, r.started.elapsed().as_secs_f32())));
        if ui.button("Cancel").clicked() {
            worker.cancel();
        }
        ui.ctx().request_repaint();
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
