//! The Face rig panel: the job (ARKit's 52 blendshapes on the open head), one slider per
//! shape grouped by region (brows, eyes, cheeks, jaw, mouth, nose, tongue, then any other
//! targets), the test motion, and the shapes' health.

use bevy_egui::egui;
use rig_core::face::Region;

use crate::document::Document;
use crate::face::{health, start, FacePose, LABEL};
use crate::worker::Worker;

const REGIONS: [(Region, &str); 7] = [
    (Region::Brows, "brows"),
    (Region::Eyes, "eyes"),
    (Region::Cheeks, "cheeks"),
    (Region::Jaw, "jaw"),
    (Region::Mouth, "mouth"),
    (Region::Nose, "nose"),
    (Region::Tongue, "tongue"),
];

pub fn show(ui: &mut egui::Ui, doc: &mut Document, worker: &mut Worker, pose: &mut FacePose) {
    ui.heading(LABEL).on_hover_text("ARKit's 52 blendshapes for the open head mesh, from the ICT-FaceKit template");
    let busy = worker.running.is_some();
    ui.horizontal(|ui| {
        if ui.add_enabled(doc.rig.is_some() && !busy, egui::Button::new(LABEL)).clicked() {
            start(doc, worker, pose.learned);
        }
        ui.checkbox(&mut pose.learned, "learned refinement")
            .on_hover_text("correct the transferred shapes with the network trained on ICT heads (off: the transfer alone)");
    });
    if worker.running.as_ref().is_some_and(|r| r.label == LABEL) {
        super::generate::progress(ui, worker);
    }
    let names = target_names(doc);
    if names.is_empty() {
        ui.weak("no blendshapes on this mesh");
        return;
    }
    ui.horizontal(|ui| {
        if ui.checkbox(&mut pose.testing, "test motion").on_hover_text("blink, smile, jaw open, look around").changed() {
            pose.test_time = 0.0;
        }
        if ui.button("Reset").clicked() {
            pose.testing = false;
            pose.weights.clear();
        }
    });
    flags(ui, doc, pose);
    let arkit = |n: &String| rig_core::face::ARKIT_52.contains(&n.as_str());
    for (region, title) in REGIONS {
        let in_region: Vec<&String> = names.iter().filter(|n| arkit(n) && Region::of(n) == region).collect();
        sliders(ui, title, &in_region, pose);
    }
    let others: Vec<&String> = names.iter().filter(|n| !arkit(n)).collect();
    sliders(ui, "other", &others, pose);
}

/// Morph target names of the open mesh, each once, in file order.
fn target_names(doc: &Document) -> Vec<String> {
    doc.rig.as_ref().map(|r| rig_core::face::health::target_names(&r.mesh)).unwrap_or_default()
}

fn sliders(ui: &mut egui::Ui, title: &str, names: &[&String], pose: &mut FacePose) {
    if names.is_empty() {
        return;
    }
    egui::CollapsingHeader::new(format!("{title} ({})", names.len())).default_open(title == "jaw" || title == "eyes").show(ui, |ui| {
        for name in names {
            let mut w = pose.weights.get(*name).copied().unwrap_or(0.0);
            if ui.add(egui::Slider::new(&mut w, 0.0..=1.0).text(name.as_str())).changed() {
                pose.testing = false;
                pose.weights.insert(name.to_string(), w);
            }
        }
    });
}

fn flags(ui: &mut egui::Ui, doc: &Document, pose: &mut FacePose) {
    let flags = health(doc, pose);
    if flags.is_empty() {
        ui.label("shapes: every one moves, none tears the mesh");
        return;
    }
    egui::CollapsingHeader::new(format!("{} shapes flagged", flags.len())).default_open(true).show(ui, |ui| {
        for (name, flag) in flags {
            ui.colored_label(egui::Color32::from_rgb(230, 160, 60), flag.describe(name));
        }
    });
}
