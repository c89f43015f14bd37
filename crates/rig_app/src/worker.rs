//! The editor's end of the pipeline's worker thread ([`rig_pipeline::Worker`]): a Bevy resource
//! around it and the system that drains its events into the document every frame.

use bevy::prelude::*;
pub use rig_pipeline::worker::{JobOutput, Running, WorkerEvent};

/// The worker as a Bevy resource (derefs to [`rig_pipeline::Worker`]).
#[derive(Resource, Default, Deref, DerefMut)]
pub struct Worker(pub rig_pipeline::Worker);

/// Applies worker events to the document: progress to the status, results as an undoable edit.
pub fn drain_events(
    mut worker: ResMut<Worker>,
    mut doc: ResMut<crate::document::Document>,
    mut playback: Option<ResMut<crate::playback::Playback>>,
) {
    for event in worker.poll() {
        let current = worker.running.as_ref().map(|r| r.id);
        match event {
            WorkerEvent::Progress { job, stage, fraction } if Some(job) == current => {
                if let Some(r) = worker.running.as_mut() {
                    r.stage = stage;
                    r.fraction = fraction;
                }
            }
            WorkerEvent::Progress { .. } => {}
            WorkerEvent::Cancelled { job } if Some(job) == current => {
                worker.running = None;
                doc.status = Some("Cancelled: the rig was not changed.".into());
            }
            WorkerEvent::Cancelled { .. } => {}
            WorkerEvent::Done { job, result } if Some(job) == current => {
                let (label, mesh_key) = worker.running.take().map_or(("Generate", doc.mesh_id), |r| (r.label, r.mesh_key));
                if mesh_key != doc.mesh_id {
                    doc.error = Some(format!("{label}: the mesh moved while it ran (bound in another pose, or undone); run it again"));
                    continue;
                }
                match result {
                    Ok(out) => {
                        if let (Some(clip), Some(p)) = (doc.apply_job(label, out), playback.as_deref_mut()) {
                            // The solved clip plays at once.
                            p.motion = crate::playback::Motion::Clip(clip);
                            p.time = 0.0;
                            p.playing = true;
                        }
                    }
                    Err(e) => doc.error = Some(format!("{label} failed: {e}")),
                }
            }
            WorkerEvent::Done { .. } => {}
        }
    }
}
