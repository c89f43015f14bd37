//! The Match targets panel: target meshes (a file's clip baked to frames, a folder of OBJ
//! frames, or one mesh) solved on the open rig as a new clip, on the worker: the job
//! `rigsmith invert` runs.

use std::path::Path;
use std::sync::Arc;

use bevy::prelude::*;
use bevy_egui::egui;
use rig_core::invert::{InvertOptions, Translations};
use rig_core::InfluenceLimit;
use rig_io::sequence::SequenceOptions;
use rig_pipeline::invert::Matching;
use rig_pipeline::RigRequest;

use super::dialogs::{Dialogs, Purpose};
use crate::document::{Document, OpenFile};
use crate::worker::Worker;

/// What the job is called while it runs (the panel shows its progress).
pub const LABEL: &str = "Match targets";

/// The panel's solver settings.
#[derive(Resource, Debug, Clone)]
pub struct MatchSettings {
    pub matching: Matching,
    pub translations: Translations,
    /// Solve each joint's scale too.
    pub scales: bool,
    /// Pull of each frame towards the previous one (0: none).
    pub smooth: f64,
    /// The targets file's clip, by name or number (empty: the first).
    pub clip: String,
}

impl Default for MatchSettings {
    fn default() -> Self {
        let o = InvertOptions::default();
        MatchSettings { matching: Matching::Exact, translations: o.translations, scales: o.scales, smooth: o.smooth, clip: String::new() }
    }
}

impl MatchSettings {
    /// The pipeline request for `targets`: what `rigsmith invert --targets` runs with the same
    /// `--match`, `--translations`, `--scales`, `--smooth` and `--clip`.
    pub fn request(&self, targets: &Path) -> RigRequest {
        let clip = self.clip.trim();
        RigRequest::match_targets(rig_pipeline::invert::MatchSettings {
            targets: targets.to_path_buf(),
            sequence: SequenceOptions { clip: (!clip.is_empty()).then(|| clip.to_string()), ..Default::default() },
            matching: self.matching,
            options: InvertOptions {
                translations: self.translations,
                scales: self.scales,
                smooth: self.smooth.max(0.0),
                ..Default::default()
            },
        })
    }
}

/// Sends Match targets for the chosen targets to the worker; errors go to the document.
pub fn start(doc: &mut Document, worker: &mut Worker, settings: &MatchSettings) {
    let Some(rig) = doc.rig.as_ref() else { return };
    let Some(targets) = doc.targets.clone() else {
        doc.error = Some(
            "Match targets: choose the target meshes first (a .glb/.gltf/.fbx with a clip, a folder of OBJ frames, or one mesh)".into(),
        );
        return;
    };
    if let Err(e) = worker.submit(doc.mesh_id, Arc::new(rig.clone()), settings.request(&targets)) {
        doc.error = Some(e);
    }
}

/// The panel: the targets, the solver's options, the button, while it runs its progress, and
/// with the error overlay on the solved clip's error at this frame (`error_now`: root mean
/// square and largest, % of the diagonal).
#[allow(clippy::too_many_arguments)]
pub fn show(
    ui: &mut egui::Ui,
    doc: &mut Document,
    worker: &mut Worker,
    dialogs: &mut Dialogs,
    open: &mut MessageWriter<OpenFile>,
    settings: &mut MatchSettings,
    limit: InfluenceLimit,
    error_now: Option<(f32, f32)>,
) {
    ui.heading(LABEL).on_hover_text(
        "the open rig's joint rotations (and morph weights) that reproduce target meshes, solved frame by frame as a new clip",
    );
    let has_rig = doc.rig.is_some();
    ui.horizontal(|ui| {
        if ui
            .add_enabled(has_rig, egui::Button::new("Targets file…"))
            .on_hover_text("a .glb, .gltf or .fbx whose clip is baked, one frame per key, or one mesh (.obj, or a file without animation)")
            .clicked()
        {
            super::menu::ask(Purpose::OpenTargets, dialogs, doc, open, limit);
        }
        if ui
            .add_enabled(has_rig, egui::Button::new("OBJ folder…"))
            .on_hover_text("one OBJ per frame, sorted by name, 24 frames per second")
            .clicked()
        {
            super::menu::ask(Purpose::OpenTargetFolder, dialogs, doc, open, limit);
        }
    });
    match doc.targets.as_ref().and_then(|p| p.file_name()) {
        Some(name) => ui.label(format!("targets: {}", name.to_string_lossy())),
        None => ui.weak("no targets chosen"),
    };
    options(ui, settings);
    let busy = worker.running.is_some();
    if ui.add_enabled(has_rig && doc.targets.is_some() && !busy, egui::Button::new(LABEL)).clicked() {
        start(doc, worker, settings);
    }
    if let Some((rms, max)) = error_now {
        ui.label(format!("error at this frame: {rms:.3} % of the diagonal (largest {max:.3} %)"));
    }
    if worker.running.as_ref().is_some_and(|r| r.label == LABEL) {
        super::generate::progress(ui, worker);
    }
}

fn options(ui: &mut egui::Ui, settings: &mut MatchSettings) {
    ui.horizontal(|ui| {
        ui.label("vertices");
        let name = if settings.matching == Matching::Nearest { "nearest" } else { "in order" };
        egui::ComboBox::from_id_salt("match_vertices").selected_text(name).show_ui(ui, |ui| {
            ui.selectable_value(&mut settings.matching, Matching::Exact, "in order")
                .on_hover_text("vertex i of each target is vertex i of the rig (the counts must agree)");
            ui.selectable_value(&mut settings.matching, Matching::Nearest, "nearest")
                .on_hover_text("each rig vertex takes the nearest target vertex of the first frame (a remeshed target)");
        });
    });
    ui.horizontal(|ui| {
        ui.label("translations");
        let name = if settings.translations == Translations::All { "every joint" } else { "roots" };
        egui::ComboBox::from_id_salt("match_translations").selected_text(name).show_ui(ui, |ui| {
            ui.selectable_value(&mut settings.translations, Translations::Roots, "roots")
                .on_hover_text("only joints whose parent is not solved move; the others turn");
            ui.selectable_value(&mut settings.translations, Translations::All, "every joint")
                .on_hover_text("for clips that move joints other than the root");
        });
        ui.checkbox(&mut settings.scales, "scales").on_hover_text("solve each joint's scale too (for clips that scale joints)");
    });
    ui.horizontal(|ui| {
        ui.label("smoothing");
        ui.add(egui::DragValue::new(&mut settings.smooth).range(0.0..=1.0).speed(1e-4))
            .on_hover_text("pull of each frame towards the previous one (1e-3 steadies noisy targets)");
        ui.label("clip");
        ui.add(egui::TextEdit::singleline(&mut settings.clip).hint_text("first").desired_width(60.0))
            .on_hover_text("the targets file's clip: its name or number");
    });
}
