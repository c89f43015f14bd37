//! Face rigs in the editor: the Face rig job on the worker, the shape weights the face panel
//! and its test motion set (drawn by the scene's morph buffers), and the shapes' health.

use std::collections::BTreeMap;
use std::sync::Arc;

use bevy::prelude::*;
use rig_core::face::health::{shape_flags, test_motion, ShapeFlag};
use rig_pipeline::request::RigRequest;

use crate::document::Document;
use crate::worker::Worker;

pub const LABEL: &str = "Face rig";

/// The shapes' weights on screen (by target name) and the test motion.
#[derive(Resource, Debug, Clone)]
pub struct FacePose {
    pub weights: BTreeMap<String, f32>,
    /// The test motion plays: it sets the weights every frame.
    pub testing: bool,
    pub test_time: f32,
    /// Rig with the learned refinement (else the transfer alone).
    pub learned: bool,
    /// The shapes' flags and the document revision they were found for.
    pub health: Option<(u64, Vec<(String, ShapeFlag)>)>,
}

impl Default for FacePose {
    fn default() -> Self {
        FacePose { weights: BTreeMap::new(), testing: false, test_time: 0.0, learned: true, health: None }
    }
}

pub struct FacePlugin;

impl Plugin for FacePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<FacePose>().add_systems(Update, (play_test_motion, forget_on_new_rig));
    }
}

/// Sends a face rig of the open mesh to the worker; errors go to the document.
pub fn start(doc: &mut Document, worker: &mut Worker, learned: bool) {
    let Some(rig) = doc.rig.as_ref() else { return };
    if let Err(e) = worker.submit(doc.mesh_id, Arc::new(rig.clone()), RigRequest::face(None, learned)) {
        doc.error = Some(e);
    }
}

/// The test motion's weights at its time (every other shape at rest).
fn play_test_motion(time: Res<Time>, mut pose: ResMut<FacePose>) {
    if !pose.testing {
        return;
    }
    pose.test_time += time.delta_secs();
    let t = pose.test_time;
    set_test_pose(&mut pose, t);
}

/// The weights the test motion has at `t` seconds.
pub fn set_test_pose(pose: &mut FacePose, t: f32) {
    pose.weights.clear();
    pose.weights.extend(test_motion(t).into_iter().map(|(n, w)| (n.to_string(), w)));
}

/// Sliders and flags belong to one mesh: another file starts at rest.
fn forget_on_new_rig(doc: Res<Document>, mut pose: ResMut<FacePose>, mut mesh: Local<u64>) {
    if doc.mesh_id != *mesh {
        *mesh = doc.mesh_id;
        pose.weights.clear();
        pose.testing = false;
        pose.health = None;
    }
}

/// The flags of the open mesh's shapes, found again when the document changed.
pub fn health<'a>(doc: &Document, pose: &'a mut FacePose) -> &'a [(String, ShapeFlag)] {
    if pose.health.as_ref().is_none_or(|(r, _)| *r != doc.revision) {
        let flags = doc.rig.as_ref().map(|r| shape_flags(&r.mesh)).unwrap_or_default();
        pose.health = Some((doc.revision, flags));
    }
    pose.health.as_ref().map_or(&[], |(_, f)| f.as_slice())
}
