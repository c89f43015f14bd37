//! The open rig: loading a file, its statistics, the selected joint, the last error.

use std::path::PathBuf;

use bevy::prelude::*;
use rig_core::Rig;

/// Ask the editor to open a file (menu, drag and drop, command line).
#[derive(Message, Debug, Clone)]
pub struct OpenFile(pub PathBuf);

/// Sent after a rig was loaded, so views can rebuild.
#[derive(Message, Debug, Clone)]
pub struct RigLoaded;

/// Mesh figures shown in the statistics panel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeshStats {
    pub vertices: usize,
    pub triangles: usize,
    pub parts: usize,
    pub joints: usize,
    pub size: [f32; 3],
}

impl MeshStats {
    pub fn of(rig: &Rig) -> MeshStats {
        let (lo, hi) = bounds(&rig.mesh.positions);
        MeshStats {
            vertices: rig.mesh.positions.len(),
            triangles: rig.mesh.triangles.len(),
            parts: rig.mesh.parts.len(),
            joints: rig.skeleton.len(),
            size: [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]],
        }
    }
}

/// Lowest and highest corner of the points (zeros when there are none).
pub fn bounds(points: &[[f32; 3]]) -> ([f32; 3], [f32; 3]) {
    if points.is_empty() {
        return ([0.0; 3], [0.0; 3]);
    }
    let mut lo = [f32::MAX; 3];
    let mut hi = [f32::MIN; 3];
    for p in points {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    (lo, hi)
}

/// The document the editor works on.
#[derive(Resource, Default)]
pub struct Document {
    pub path: Option<PathBuf>,
    pub rig: Option<Rig>,
    pub stats: MeshStats,
    pub warnings: Vec<String>,
    /// The last failure to open a file, shown in the window until the next open.
    pub error: Option<String>,
    /// The selected joint, shared by the hierarchy panel and the viewport.
    pub selected_joint: Option<usize>,
}

impl Document {
    /// Loads `path` in place of the current rig; on failure keeps the current rig and
    /// records the message.
    pub fn open(&mut self, path: PathBuf) -> bool {
        match rig_io::load(&path) {
            Ok(imported) => {
                self.stats = MeshStats::of(&imported.rig);
                self.rig = Some(imported.rig);
                self.warnings = imported.warnings;
                self.path = Some(path);
                self.error = None;
                self.selected_joint = None;
                true
            }
            Err(e) => {
                self.error = Some(format!("Could not open {}: {e}", path.display()));
                false
            }
        }
    }
}

pub struct DocumentPlugin;

impl Plugin for DocumentPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Document>().add_message::<OpenFile>().add_message::<RigLoaded>().add_systems(PreUpdate, open_requested_files);
    }
}

fn open_requested_files(mut requests: MessageReader<OpenFile>, mut doc: ResMut<Document>, mut loaded: MessageWriter<RigLoaded>) {
    for OpenFile(path) in requests.read() {
        if doc.open(path.clone()) {
            loaded.write(RigLoaded);
        }
    }
}
