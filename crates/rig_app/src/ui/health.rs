//! The rig health panel: problems found by `rig_core::health`, each a button that selects the
//! joint or highlights the vertices concerned, with what to do about it on hover.

use bevy_egui::egui;

use crate::document::Document;

/// The findings for one document revision (the checks voxelise the mesh: not every frame).
#[derive(Default)]
pub struct HealthCache {
    revision: Option<u64>,
    /// Each finding with its description, written against the rig it was found on (the
    /// joints may be renumbered or gone by the next revision).
    findings: Vec<(rig_core::health::Finding, String)>,
    /// The newest revision seen and since when: checks wait until edits settle (a drag
    /// changes the rig every frame).
    pending: Option<(u64, std::time::Instant)>,
}

/// Edits must pause this long before the checks run again.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(300);

pub fn show(ui: &mut egui::Ui, doc: &mut Document, cache: &mut HealthCache, limit: usize) {
    ui.heading("Rig health");
    let Some(rig) = doc.rig.as_ref() else { return };
    if cache.revision != Some(doc.revision) {
        let pending = cache.pending.filter(|p| p.0 == doc.revision).unwrap_or((doc.revision, std::time::Instant::now()));
        cache.pending = Some(pending);
        if cache.revision.is_none() || pending.1.elapsed() >= SETTLE {
            cache.findings = rig_core::health::check(rig, limit)
                .into_iter()
                .map(|f| {
                    let text = f.describe(rig);
                    (f, text)
                })
                .collect();
            cache.revision = Some(doc.revision);
            cache.pending = None;
        } else {
            ui.weak("(updating after the edit)");
            ui.ctx().request_repaint_after(SETTLE);
        }
    }
    if cache.findings.is_empty() {
        ui.label("No problems found.");
        return;
    }
    // Findings of an earlier revision are shown greyed and cannot be clicked: their joint and
    // vertex numbers may not mean the same in the rig as it is now.
    let current = cache.revision == Some(doc.revision);
    let mut clicked = None;
    for (i, (finding, text)) in cache.findings.iter().enumerate() {
        if !current {
            ui.weak(text);
        } else if ui.link(text).on_hover_text(finding.advice()).clicked() {
            clicked = Some(i);
        }
    }
    if let Some((f, _)) = clicked.map(|i| &cache.findings[i]) {
        if let Some(j) = f.joint() {
            doc.selected_joint = Some(j);
        }
        doc.highlight = f.vertices().iter().take(2000).map(|&v| rig.mesh.positions[v]).collect();
    }
    if !doc.highlight.is_empty() && ui.small_button("clear highlight").clicked() {
        doc.highlight.clear();
    }
}
