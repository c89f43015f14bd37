//! The open rig: loading a file, its statistics, the selected joint, the last error.

use std::path::PathBuf;

use bevy::prelude::*;
use rig_core::mesh::Aabb;
use rig_core::Rig;

use crate::history::{History, Snapshot};
use crate::worker::{drain_events, JobOutput, Worker};

/// Ask the editor to open a file (menu, drag and drop, command line).
#[derive(Message, Debug, Clone)]
pub struct OpenFile(pub PathBuf);

/// Mesh figures shown in the statistics panel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeshStats {
    pub vertices: usize,
    pub triangles: usize,
    pub parts: usize,
    pub joints: usize,
    pub size: [f32; 3],
    /// Bounds of the stored mesh (mesh space); `None` for an empty mesh.
    pub bounds: Option<Aabb>,
}

impl MeshStats {
    pub fn of(rig: &Rig) -> MeshStats {
        let bounds = rig.mesh.bounds();
        MeshStats {
            vertices: rig.mesh.positions.len(),
            triangles: rig.mesh.triangles.len(),
            parts: rig.mesh.parts.len(),
            joints: rig.skeleton.len(),
            size: bounds.map_or([0.0; 3], |b| b.size()),
            bounds,
        }
    }

    /// Length of the bounding box's diagonal (0 for an empty mesh).
    pub fn diagonal(&self) -> f32 {
        self.bounds.map_or(0.0, |b| b.diagonal())
    }
}

/// The document the editor works on.
#[derive(Resource, Default)]
pub struct Document {
    pub path: Option<PathBuf>,
    pub rig: Option<Rig>,
    pub stats: MeshStats,
    pub warnings: Vec<String>,
    /// The last failure (open, edit, job), shown in the window until dismissed.
    pub error: Option<String>,
    /// The last thing that happened, for the status line.
    pub status: Option<String>,
    /// The selected joint, shared by the hierarchy panel and the viewport.
    pub selected_joint: Option<usize>,
    pub history: History,
    /// Bumped whenever the skeleton or weights change (edits, undo, jobs, open).
    pub revision: u64,
    /// Bumped whenever the weights (or the joint count) change: views rebuild vertex data.
    pub weights_revision: u64,
    /// Bumped on every open: the worker keeps its voxel cache while this stays the same.
    pub mesh_id: u64,
    /// An edit moved the mesh since it was opened: sessions then store its geometry.
    pub mesh_edited: bool,
    /// Edits since the last save of the session.
    pub dirty: bool,
    /// The skeleton was edited since the last generation or re-skin.
    pub needs_reskin: bool,
    /// Mesh positions to highlight (from the health panel).
    pub highlight: Vec<[f32; 3]>,
    /// The frames a clip was solved to reproduce (by Rig from motion or Match targets): the
    /// error overlay and the target ghost compare that clip with them.
    pub clip_input: Option<ClipInput>,
    /// Match targets: the sequence chosen to solve on the open rig.
    pub targets: Option<PathBuf>,
    /// The joint names exports are written with (File > Joint names).
    pub export_names: rig_core::naming::Preset,
}

/// Input frames, in the rig's mesh space, and the clip that plays them.
#[derive(Debug, Clone)]
pub struct ClipInput {
    pub clip: usize,
    /// The clip's name and key count when it was solved: after an undo or another job the
    /// index may name another clip, and then the frames are not its input.
    clip_name: String,
    keys: usize,
    /// Solved by Match targets (else recovered by Rig from motion).
    pub matched: bool,
    pub frames: std::sync::Arc<rig_core::motion::MeshSequence>,
}

impl ClipInput {
    fn new(rig: &Rig, clip: usize, matched: bool, frames: std::sync::Arc<rig_core::motion::MeshSequence>) -> Option<ClipInput> {
        let c = rig.clips.get(clip)?;
        Some(ClipInput { clip, clip_name: c.name.clone(), keys: c.key_times().len(), matched, frames })
    }

    /// Whether `rig`'s clip `self.clip` is still the one solved from these frames, for the same mesh.
    pub fn belongs_to(&self, rig: &Rig) -> bool {
        rig.clips.get(self.clip).is_some_and(|c| c.name == self.clip_name && c.key_times().len() == self.keys)
            && self.frames.rest.len() == rig.mesh.vertex_count()
    }
}

impl Document {
    /// Loads `path` in place of the current rig; on failure keeps the current rig and
    /// records the message.
    pub fn open(&mut self, path: PathBuf) -> bool {
        match rig_io::load(&path) {
            Ok(imported) => {
                self.set_rig(imported.rig, Some(path));
                self.warnings = imported.warnings;
                true
            }
            Err(e) => {
                self.error = Some(format!("Could not open {}: {e}", path.display()));
                false
            }
        }
    }

    /// Makes `rig` the document (no undo history).
    pub fn set_rig(&mut self, rig: Rig, path: Option<PathBuf>) {
        self.stats = MeshStats::of(&rig);
        self.rig = Some(rig);
        self.warnings.clear();
        self.path = path;
        self.error = None;
        self.status = None;
        self.selected_joint = None;
        self.history.clear();
        self.highlight.clear();
        self.clip_input = None;
        self.targets = None;
        self.needs_reskin = false;
        self.mesh_id += 1;
        self.mesh_edited = false;
        self.dirty = false;
        self.touch(true);
    }

    /// Another mesh is in place: views and the worker's caches start again, figures are redone.
    fn mesh_moved(&mut self) {
        self.mesh_id += 1;
        if let Some(rig) = &self.rig {
            self.stats = MeshStats::of(rig);
        }
    }

    fn touch(&mut self, weights: bool) {
        self.revision += 1;
        if weights {
            self.weights_revision += 1;
        }
        if let Some(rig) = &self.rig {
            self.stats.joints = rig.skeleton.len();
        }
        if self.selected_joint.is_some_and(|j| j >= self.stats.joints) {
            self.selected_joint = None;
        }
    }

    /// Applies an edit as one undo step. On error the rig is left as it was and the message
    /// is shown.
    pub fn edit<T, E: std::fmt::Display>(&mut self, label: &str, f: impl FnOnce(&mut Rig) -> Result<T, E>) -> Option<T> {
        self.edit_merging(label, false, f)
    }

    /// An edit that moves the mesh too (binding in another rest pose): one undo step that
    /// restores the mesh; views rebuild their vertex data and the worker its caches.
    pub fn edit_mesh<T, E: std::fmt::Display>(&mut self, label: &str, f: impl FnOnce(&mut Rig) -> Result<T, E>) -> Option<T> {
        self.edit_from(label, false, Snapshot::with_mesh, f)
    }

    /// A skeleton edit: like [`Document::edit`], and marks the skin as needing a re-skin.
    pub fn edit_skeleton<T, E: std::fmt::Display>(
        &mut self,
        label: &str,
        merge: bool,
        f: impl FnOnce(&mut Rig) -> Result<T, E>,
    ) -> Option<T> {
        let out = self.edit_merging(label, merge, f);
        if out.is_some() {
            self.needs_reskin = true;
        }
        out
    }

    /// With `merge`, an edit with the same label as the last undo step joins it (one undo
    /// step for a whole drag).
    pub fn edit_merging<T, E: std::fmt::Display>(
        &mut self,
        label: &str,
        merge: bool,
        f: impl FnOnce(&mut Rig) -> Result<T, E>,
    ) -> Option<T> {
        self.edit_from(label, merge, Snapshot::of, f)
    }

    /// An edit, undone by the snapshot `before` takes (with the mesh, for an edit that moves it).
    fn edit_from<T, E: std::fmt::Display>(
        &mut self,
        label: &str,
        merge: bool,
        before: fn(&Rig, &str) -> Snapshot,
        f: impl FnOnce(&mut Rig) -> Result<T, E>,
    ) -> Option<T> {
        let joins = merge && self.history.undo_label() == Some(label);
        let rig = self.rig.as_mut()?;
        let before = before(rig, label);
        match f(rig) {
            Ok(value) => {
                let moved = before.moves_mesh();
                let weights = moved || before.weights != rig.weights || before.skeleton.len() != rig.skeleton.len();
                if !joins {
                    self.history.push(before);
                }
                if moved {
                    self.mesh_edited = true;
                    self.mesh_moved();
                }
                self.dirty = true;
                self.status = Some(label.to_string());
                self.touch(weights);
                Some(value)
            }
            Err(e) => {
                before.swap_into(rig);
                self.error = Some(format!("{label}: {e}"));
                None
            }
        }
    }

    /// Puts a worker result into the rig as one undo step. Returns the clip it solved (Rig from
    /// motion's or Match targets'), if any, for the timeline to play.
    pub fn apply_job(&mut self, label: &str, out: JobOutput) -> Option<usize> {
        if out.output.matched.is_some() {
            return self.apply_match(label, out);
        }
        if let Some(face) = out.output.face.as_deref() {
            self.apply_face(label, face);
            return None;
        }
        let mut status = format!("{label}: {} joints in {:.2} s", out.output.skeleton.len(), out.seconds);
        if let Some(report) = out.output.learned.as_deref() {
            status.push_str(&format!("; learned models on {}", report.backend));
        }
        let input = out.output.motion.as_ref().map(|m| {
            status.push_str(&format!(
                "; the clip plays the input at {:.3} % of the diagonal (free bones {:.3} %), {} frames",
                m.rmse_percent(),
                m.free_rmse_percent,
                m.frames
            ));
            m.input.clone()
        });
        let selected = self.selected_joint.and_then(|j| Some(self.rig.as_ref()?.skeleton.joints.get(j)?.name.clone()));
        self.edit(label, |rig| {
            rig_pipeline::apply(rig, out.output);
            Ok::<(), std::convert::Infallible>(())
        });
        self.needs_reskin = false;
        self.selected_joint = selected.and_then(|n| self.rig.as_ref()?.skeleton.find(&n));
        self.status = Some(status);
        let frames = input?;
        // The recovered clip is the rig's only clip.
        self.clip_input = self.rig.as_ref().and_then(|r| ClipInput::new(r, 0, false, frames));
        Some(0)
    }

    /// A face rig's shapes go onto the mesh as one undo step (the mesh's other targets, the
    /// skeleton and the weights stay). A mesh with other vertices than the job's is refused.
    fn apply_face(&mut self, label: &str, face: &rig_pipeline::face::FaceOutput) {
        let fits = self.rig.as_ref().is_some_and(|r| face.rig.shapes.iter().all(|(_, d)| d.len() == r.mesh.vertex_count()));
        if !fits {
            self.error = Some(format!("{label}: the mesh changed while it ran; run it again"));
            return;
        }
        let r = &face.report;
        let status = format!(
            "{label}: {} shapes in {:.1} s, {} face vertices, {} eyeballs turned for the gaze{}",
            r.shapes,
            r.seconds,
            r.face_vertices,
            r.eyeballs,
            if r.refined > 0 { format!(", {} offsets refined by the learned model", r.refined) } else { String::new() }
        );
        let needs_reskin = self.needs_reskin;
        self.edit_mesh(label, |rig| {
            rig_core::face::apply(&mut rig.mesh, &face.rig);
            Ok::<(), std::convert::Infallible>(())
        });
        self.needs_reskin = needs_reskin;
        self.status = Some(status);
    }

    /// Match targets' clip goes after the rig's own; the skeleton and weights stay as they are
    /// now. A skeleton edited while the job ran (its clip names other joints) is refused.
    fn apply_match(&mut self, label: &str, out: JobOutput) -> Option<usize> {
        let m = out.output.matched.as_deref()?;
        let same_joints = self.rig.as_ref().is_some_and(|r| {
            r.skeleton.len() == out.output.skeleton.len()
                && r.skeleton.joints.iter().zip(&out.output.skeleton.joints).all(|(a, b)| a.name == b.name && a.parent == b.parent)
        });
        if !same_joints {
            self.error = Some(format!("{label}: the skeleton changed while it ran, so its clip would drive other joints; run it again"));
            return None;
        }
        let worst = m.frame_errors.iter().map(|e| e.0).fold(0.0, f64::max);
        let status = format!(
            "{label}: clip '{}' of {} frames in {:.2} s, mean error {:.2e} of the diagonal (worst frame's mean {worst:.2e})",
            m.clip.name,
            m.frame_errors.len(),
            out.seconds,
            m.mean_error,
        );
        self.warnings.extend(m.warning.iter().cloned());
        let frames = m.input.clone();
        let needs_reskin = self.needs_reskin;
        self.edit(label, |rig| {
            rig_pipeline::apply(rig, out.output);
            Ok::<(), std::convert::Infallible>(())
        });
        self.needs_reskin = needs_reskin;
        self.status = Some(status);
        let rig = self.rig.as_ref()?;
        let clip = rig.clips.len().checked_sub(1)?;
        self.clip_input = ClipInput::new(rig, clip, true, frames);
        Some(clip)
    }

    pub fn undo(&mut self) {
        let moves_mesh = self.history.next_moves_mesh(false);
        let Some(rig) = self.rig.as_mut() else { return };
        if let Some(label) = self.history.undo(rig) {
            if moves_mesh {
                self.mesh_moved();
            }
            self.status = Some(format!("Undid {label}"));
            self.dirty = true;
            self.touch(true);
        }
    }

    pub fn redo(&mut self) {
        let moves_mesh = self.history.next_moves_mesh(true);
        let Some(rig) = self.rig.as_mut() else { return };
        if let Some(label) = self.history.redo(rig) {
            if moves_mesh {
                self.mesh_moved();
            }
            self.status = Some(format!("Redid {label}"));
            self.dirty = true;
            self.touch(true);
        }
    }
}

pub struct DocumentPlugin;

impl Plugin for DocumentPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Document>()
            .init_resource::<Worker>()
            .add_message::<OpenFile>()
            .add_systems(PreUpdate, (open_requested_files, drain_events));
    }
}

fn open_requested_files(mut requests: MessageReader<OpenFile>, mut doc: ResMut<Document>) {
    for OpenFile(path) in requests.read() {
        doc.open(path.clone());
    }
}
