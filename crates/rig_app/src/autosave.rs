//! Autosave to the recovery file (see [`crate::session`]): shortly after every change, and
//! every minute while changes are unsaved; the write happens on a background thread so a
//! large rig never stalls a frame. At start-up a recovery file left by a run that did not
//! exit cleanly is offered back.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bevy::prelude::*;

use crate::document::Document;
use crate::session::{recovery_path, Session};

/// Changes are written this long after they happen (several quick edits make one write).
const SETTLE: Duration = Duration::from_millis(300);
/// While there are unsaved changes, the recovery file is rewritten at least this often.
const PERIOD: Duration = Duration::from_secs(60);

#[derive(Resource)]
pub struct Autosave {
    pub path: PathBuf,
    saved_revision: u64,
    changed_at: Option<Instant>,
    last_write: Instant,
    /// A recovery file found at start-up, offered to the user until recovered or discarded.
    pub offer: Option<Session>,
    /// Autosaves written (for tests and the status line).
    pub writes: u64,
    /// The writer thread's queue: one writer, so writes land in order.
    writer: std::sync::mpsc::SyncSender<(Session, PathBuf)>,
}

/// The thread that writes recovery files one after the other.
fn spawn_writer() -> std::sync::mpsc::SyncSender<(Session, PathBuf)> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Session, PathBuf)>(2);
    let spawned = std::thread::Builder::new().name("rigsmith-autosave".into()).spawn(move || {
        for (session, path) in rx {
            if let Err(e) = session.save(&path) {
                eprintln!("autosave failed: {e}");
            }
        }
    });
    if let Err(e) = spawned {
        eprintln!("autosave is off: could not start its thread: {e}");
    }
    tx
}

impl Default for Autosave {
    fn default() -> Self {
        let path = recovery_path();
        let offer = path.exists().then(|| Session::load(&path).ok()).flatten();
        Autosave { path, saved_revision: 0, changed_at: None, last_write: Instant::now(), offer, writes: 0, writer: spawn_writer() }
    }
}

impl Autosave {
    /// Restores the offered session into the document.
    pub fn recover(&mut self, doc: &mut Document) {
        let Some(session) = self.offer.take() else { return };
        match session.restore() {
            Ok(rig) => {
                doc.set_rig(rig, Some(session.source.clone()));
                doc.mesh_edited = session.geometry.is_some();
                doc.selected_joint = session.selected_joint.filter(|&j| j < doc.stats.joints);
                doc.dirty = true;
                doc.status = Some(format!("Recovered the autosave of {}", session.source.display()));
            }
            Err(e) => doc.error = Some(format!("Could not recover the autosave: {e}")),
        }
    }

    /// Forgets the offered session and deletes the recovery file.
    pub fn discard(&mut self) {
        self.offer = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

pub struct AutosavePlugin;

impl Plugin for AutosavePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Autosave>().add_systems(Last, autosave);
    }
}

fn autosave(doc: Res<Document>, mut autosave: ResMut<Autosave>) {
    if autosave.offer.is_some() {
        return; // never overwrite a recovery file the user has not answered yet
    }
    let (Some(rig), Some(source)) = (doc.rig.as_ref(), doc.path.as_ref()) else { return };
    if !doc.dirty {
        autosave.saved_revision = doc.revision;
        return;
    }
    let now = Instant::now();
    if doc.revision != autosave.saved_revision {
        let changed_at = *autosave.changed_at.get_or_insert(now);
        if now.duration_since(changed_at) < SETTLE {
            return;
        }
    } else if now.duration_since(autosave.last_write) < PERIOD {
        return;
    }
    let session = Session::of(rig, source, doc.selected_joint).with_geometry(rig, doc.mesh_edited);
    // A full queue means two writes are pending already: this change goes in the next one.
    if autosave.writer.try_send((session, autosave.path.clone())).is_err() {
        return;
    }
    autosave.saved_revision = doc.revision;
    autosave.changed_at = None;
    autosave.last_write = now;
    autosave.writes += 1;
}

/// Deletes the recovery file: called when the editor closes normally.
pub fn remove_recovery_file() {
    let _ = std::fs::remove_file(recovery_path());
}
