//! Face rig jobs: the template read from the models folder, the rig run on a loaded file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rig_core::face::{self, FaceError, FaceTemplate};
use rig_core::{Rig, Task};

pub use crate::face_eval::Refiner;

/// Where the template lives under the models folder (ICT-FaceKit's expression model, MIT).
pub const TEMPLATE_FILE: &str = "face/ict_face_expressions.glb";
/// Where the learned refinement lives under the models folder.
pub const REFINER_DIR: &str = "face";

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

/// The learned refinement shipped under `models` (else the usual models folder).
pub fn load_refiner(models: Option<&Path>) -> Result<Refiner, FaceJobError> {
    let dir = rig_model::store::models_dir(models).join(REFINER_DIR);
    Refiner::load(&dir, &Default::default())
        .map_err(|e| FaceJobError::Template { path: dir.join(rig_model::face_refine::STEM), source: Box::new(e) })
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
    /// Offsets the learned refinement corrected (0 without it).
    pub refined: usize,
}

/// Adds ARKit's 52 shapes to `rig`'s mesh: the transfer, corrected by `refiner` when given.
pub fn run_face_rig(rig: &mut Rig, template: &FaceTemplate, refiner: Option<&Refiner>, task: &Task) -> Result<FaceReport, FaceJobError> {
    let (out, report) = face_rig_with(&rig.mesh, template, refiner, task)?;
    face::apply(&mut rig.mesh, &out);
    Ok(report)
}

/// ARKit's 52 shapes for `mesh`: the transfer, corrected by `refiner` when given.
pub fn face_rig_with(
    mesh: &rig_core::Mesh,
    template: &FaceTemplate,
    refiner: Option<&Refiner>,
    task: &Task,
) -> Result<(face::FaceRig, FaceReport), FaceJobError> {
    let start = Instant::now();
    let mut out = face::face_rig(mesh, template, task)?;
    let refined = match refiner {
        Some(r) => {
            task.stage("refining the shapes", 0.95).map_err(FaceError::from)?;
            let positions: Vec<nalgebra::Vector3<f32>> = mesh.positions.iter().map(|p| (*p).into()).collect();
            r.refine(template, &mut out, &positions, &mesh.triangles, &Default::default())
        }
        None => 0,
    };
    let s = out.placement.similarity;
    let report = FaceReport {
        seconds: start.elapsed().as_secs_f32(),
        scale: s.scale,
        residual: out.placement.residual,
        face_vertices: out.face_vertices,
        eyeballs: out.eyeballs,
        shapes: out.shapes.len(),
        up: (s.rotation * nalgebra::Vector3::y()).into(),
        front: (s.rotation * nalgebra::Vector3::z()).into(),
        refined,
    };
    Ok((out, report))
}

/// A face rig as the worker returns it: the shapes, to add to the mesh, and the report.
#[derive(Debug, Clone)]
pub struct FaceOutput {
    pub rig: face::FaceRig,
    pub report: FaceReport,
}

/// The template and refinement, loaded on the first face rig and kept for the next.
pub struct FaceModels {
    dir: PathBuf,
    template: FaceTemplate,
    refiner: Option<Refiner>,
}

/// The face rig of `rig`'s mesh as a worker job (the rig is not changed: see [`crate::apply`]).
pub fn run_face_job(
    rig: &Rig,
    models: Option<&Path>,
    learned: bool,
    caches: &mut crate::rig::Caches,
    task: &Task,
) -> Result<crate::rig::RigOutput, crate::rig::PipelineError> {
    let dir = rig_model::store::models_dir(models);
    let fresh = caches.face.as_ref().is_some_and(|f| f.dir == dir && (f.refiner.is_some() || !learned));
    if !fresh {
        task.stage("loading the face template", 0.0)?;
        let template = load_template(&dir.join(TEMPLATE_FILE))?;
        let refiner = if learned { Some(load_refiner(Some(&dir))?) } else { None };
        caches.face = Some(FaceModels { dir, template, refiner });
    }
    let Some(m) = caches.face.as_ref() else { return Err(crate::rig::PipelineError::Cancelled) };
    let (out, report) = face_rig_with(&rig.mesh, &m.template, m.refiner.as_ref().filter(|_| learned), task)?;
    Ok(crate::rig::RigOutput {
        skeleton: rig.skeleton.clone(),
        weights: rig.weights.clone(),
        generated_skeleton: false,
        learned: None,
        motion: None,
        matched: None,
        face: Some(Box::new(FaceOutput { rig: out, report })),
    })
}
