//! Undo and redo: every edit (joint edits, generation, re-skin, weight paint) stores the
//! editable part of the rig as it was before, under a label shown in the Edit menu.

use rig_core::{Clip, Mesh, Rig, Skeleton, SkinWeights};

/// Entries kept; the oldest are dropped beyond this.
const DEPTH: usize = 200;

/// The parts of a rig that edits change; the mesh too for the edits that move it (binding in
/// another rest pose).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub label: String,
    pub skeleton: Skeleton,
    pub weights: SkinWeights,
    pub clips: Vec<Clip>,
    pub skinned: Vec<bool>,
    /// The whole mesh, for an edit that moves it.
    pub mesh: Option<Box<Mesh>>,
}

impl Snapshot {
    pub fn of(rig: &Rig, label: &str) -> Snapshot {
        Snapshot {
            label: label.to_string(),
            skeleton: rig.skeleton.clone(),
            weights: rig.weights.clone(),
            clips: rig.clips.clone(),
            skinned: rig.mesh.parts.iter().map(|p| p.skinned).collect(),
            mesh: None,
        }
    }

    /// Like [`Snapshot::of`], with the mesh.
    pub fn with_mesh(rig: &Rig, label: &str) -> Snapshot {
        Snapshot { mesh: Some(Box::new(rig.mesh.clone())), ..Snapshot::of(rig, label) }
    }

    pub fn moves_mesh(&self) -> bool {
        self.mesh.is_some()
    }

    /// Puts this snapshot into `rig` and returns what `rig` held (labelled the same).
    pub fn swap_into(self, rig: &mut Rig) -> Snapshot {
        let current = if self.moves_mesh() { Snapshot::with_mesh(rig, &self.label) } else { Snapshot::of(rig, &self.label) };
        if let Some(mesh) = self.mesh {
            rig.mesh = *mesh;
        }
        rig.skeleton = self.skeleton;
        rig.weights = self.weights;
        rig.clips = self.clips;
        rig.mesh.parts.iter_mut().zip(self.skinned).for_each(|(p, s)| p.skinned = s);
        current
    }
}

/// Two stacks of snapshots.
#[derive(Debug, Default, Clone)]
pub struct History {
    undo: Vec<Snapshot>,
    redo: Vec<Snapshot>,
}

impl History {
    /// Records the state before an edit; a new edit clears the redo stack.
    pub fn push(&mut self, before: Snapshot) {
        self.undo.push(before);
        if self.undo.len() > DEPTH {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    /// Restores the state before the last edit. Returns its label.
    pub fn undo(&mut self, rig: &mut Rig) -> Option<String> {
        let before = self.undo.pop()?;
        let label = before.label.clone();
        self.redo.push(before.swap_into(rig));
        Some(label)
    }

    /// Re-applies the last undone edit. Returns its label.
    pub fn redo(&mut self, rig: &mut Rig) -> Option<String> {
        let after = self.redo.pop()?;
        let label = after.label.clone();
        self.undo.push(after.swap_into(rig));
        Some(label)
    }

    /// Whether the next undo (or with `redo`, redo) puts another mesh in place.
    pub fn next_moves_mesh(&self, redo: bool) -> bool {
        let stack = if redo { &self.redo } else { &self.undo };
        stack.last().is_some_and(Snapshot::moves_mesh)
    }

    pub fn undo_label(&self) -> Option<&str> {
        self.undo.last().map(|s| s.label.as_str())
    }

    pub fn redo_label(&self) -> Option<&str> {
        self.redo.last().map(|s| s.label.as_str())
    }

    pub fn clear(&mut self) {
        self.undo.clear();
        self.redo.clear();
    }
}
