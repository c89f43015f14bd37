//! Face rig jobs: the template read from the models folder, the rig run on a loaded file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rig_core::face::{self, FaceError, FaceTemplate};
use rig_core::{Rig, Task};

/// Where the template lives under the models folder (ICT-FaceKit's expression model, MIT).
pub const TEMPLATE_FILE: &str = "face/ict_face_expressions.glb";

#[derive(Debug, thiserror::Error)]
pub enum FaceJobError {
    #[error("the face template {path}: {source} (set RIGSMITH_MODELS to the folder holding face/ict_face_expressions.glb)")]
    Template { path: PathBuf, source: Box<dyn std::error::Error + Send + Sync> },
    #[error(transparent)]
    Face(#[from] FaceError),
}

/// The template file: under `models` when given, else the usual models folder.
pub fn template_path(models: Option<&Path>) -> PathBuf {
    rig_model::store::models_dir(models).join(TEMPLATE_FILE)
}

/// Reads the face template.
pub fn load_template(path: &Path) -> Result<FaceTemplate, FaceJobError> {
    let err = |e: Box<dyn std::error::Error + Send + Sync>| FaceJobError::Template { path: path.to_path_buf(), source: e };
    let mesh = rig_io::load(path).map_err(|e| err(Box::new(e)))?.rig.mesh;
    FaceTemplate::from_ict(&mesh).map_err(|e| err(Box::new(e)))
}

/// What a face rig found, for the command line's report and the editor's status.
#[derive(Debug, Clone)]
pub struct FaceReport {
    pub seconds: f32,
    /// The template's scale on the input (input units per template centimetre).
    pub scale: f32,
    /// The placed template face's distance from the input, share of the head's diagonal.
    pub residual: f32,
    pub face_vertices: usize,
    pub eyeballs: usize,
    pub shapes: usize,
    /// The input's up and front directions as found (the template's +Y and +Z).
    pub up: [f32; 3],
    pub front: [f32; 3],
}

/// Adds ARKit's 52 shapes to `rig`'s mesh.
pub fn run_face_rig(rig: &mut Rig, template: &FaceTemplate, task: &Task) -> Result<FaceReport, FaceJobError> {
    let start = Instant::now();
    let out = face::face_rig(&rig.mesh, template, task)?;
    face::apply(&mut rig.mesh, &out);
    let s = out.placement.similarity;
    Ok(FaceReport {
        seconds: start.elapsed().as_secs_f32(),
        scale: s.scale,
        residual: out.placement.residual,
        face_vertices: out.face_vertices,
        eyeballs: out.eyeballs,
        shapes: out.shapes.len(),
        up: (s.rotation * nalgebra::Vector3::y()).into(),
        front: (s.rotation * nalgebra::Vector3::z()).into(),
    })
}
