//! Running a [`RigRequest`]: the one path from a rig and a request to a skeleton and weights,
//! behind `rigsmith rig`, the editor's Generate and Re-skin, and `rigsmith bench`.

use std::path::{Path, PathBuf};

use rig_core::autorig::{self, AutoRigError, SkeletonSource};
use rig_core::autoskin::SkinBinder;
use rig_core::{Clip, Joint, Mat4, Mesh, Rig, Skeleton, SkinWeights, Task, Trs};
use rig_model::backend::BackendChoice;
use rig_model::rigging::{rig_learned, LearnedError, LearnedModels, LearnedReport};
use rig_model::ModelError;

use crate::request::{Method, RigRequest};

/// Why a request could not be run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("the file has no skeleton to keep (open a rigged file, or generate a skeleton)")]
    NoSkeleton,
    #[error(transparent)]
    Geometric(AutoRigError),
    #[error(transparent)]
    Learned(LearnedError),
    #[error("cannot load the learned models from {dir}: {source} (give the models folder, or use the geometric method)")]
    Models { dir: PathBuf, source: ModelError },
    #[error(transparent)]
    Motion(rig_core::motion::SsdrError),
    #[error(transparent)]
    Bake(#[from] rig_core::motion::BakeError),
    #[error(transparent)]
    Invert(rig_core::invert::InvertError),
    #[error("samples file {}: {reason}", path.display())]
    Samples { path: PathBuf, reason: String },
    #[error("{}", targets_message(path, source))]
    Targets { path: PathBuf, source: rig_io::IoError },
    #[error(transparent)]
    Face(crate::face::FaceJobError),
    #[error("cancelled")]
    Cancelled,
}

/// The targets' path once: many reading errors name it already.
fn targets_message(path: &Path, source: &rig_io::IoError) -> String {
    let text = source.to_string();
    if text.contains(&path.display().to_string()) {
        format!("targets: {text}")
    } else {
        format!("targets {}: {text}", path.display())
    }
}

impl From<rig_core::invert::InvertError> for PipelineError {
    fn from(e: rig_core::invert::InvertError) -> Self {
        match e {
            rig_core::invert::InvertError::Cancelled => PipelineError::Cancelled,
            e => PipelineError::Invert(e),
        }
    }
}

impl From<rig_core::motion::SsdrError> for PipelineError {
    fn from(e: rig_core::motion::SsdrError) -> Self {
        match e {
            rig_core::motion::SsdrError::Cancelled => PipelineError::Cancelled,
            e => PipelineError::Motion(e),
        }
    }
}

impl From<AutoRigError> for PipelineError {
    fn from(e: AutoRigError) -> Self {
        match e {
            AutoRigError::Cancelled => PipelineError::Cancelled,
            AutoRigError::NoSkeleton => PipelineError::NoSkeleton,
            e => PipelineError::Geometric(e),
        }
    }
}

impl From<LearnedError> for PipelineError {
    fn from(e: LearnedError) -> Self {
        match e {
            LearnedError::Cancelled(_) => PipelineError::Cancelled,
            LearnedError::NoSkeleton => PipelineError::NoSkeleton,
            e => PipelineError::Learned(e),
        }
    }
}

impl From<crate::face::FaceJobError> for PipelineError {
    fn from(e: crate::face::FaceJobError) -> Self {
        match e {
            crate::face::FaceJobError::Face(rig_core::face::FaceError::Cancelled(_)) => PipelineError::Cancelled,
            e => PipelineError::Face(e),
        }
    }
}

impl From<rig_core::Cancelled> for PipelineError {
    fn from(_: rig_core::Cancelled) -> Self {
        PipelineError::Cancelled
    }
}

/// What a request made: the new skeleton and weights, to be put into the rig by [`apply`].
#[derive(Debug, Clone)]
pub struct RigOutput {
    pub skeleton: Skeleton,
    pub weights: SkinWeights,
    /// The skeleton is new: the rig's clips animated the old joints and are dropped, and
    /// every part becomes skinned.
    pub generated_skeleton: bool,
    /// The learned method's report (skeleton score, joints moved inside, joints left out).
    pub learned: Option<Box<LearnedReport>>,
    /// Rig from motion: the recovered clip (it replaces the rig's clips) and the errors.
    pub motion: Option<Box<crate::motion::MotionReport>>,
    /// Match targets: the solved clip (added to the rig's clips) and the errors.
    pub matched: Option<Box<crate::invert::MatchReport>>,
    /// Face rig: the shapes (added to the mesh) and what was found.
    pub face: Option<Box<crate::face::FaceOutput>>,
}

/// What stays between jobs: the skin binder of the last mesh (voxels and per-bone distance
/// fields, so a re-skin after a joint edit recomputes only the bones that moved) and the
/// learned models once loaded.
#[derive(Default)]
pub struct Caches {
    binder: Option<BinderEntry>,
    models: Option<(PathBuf, BackendChoice, LearnedModels)>,
    pub(crate) face: Option<crate::face::FaceModels>,
}

struct BinderEntry {
    mesh_key: u64,
    resolution: usize,
    binder: SkinBinder,
}

impl Caches {
    /// The learned models from `dir` (`None`: the default folder) on `backend`, loaded on first
    /// use and kept while the folder and backend stay the same.
    pub fn models(&mut self, dir: Option<&Path>, backend: BackendChoice) -> Result<&LearnedModels, PipelineError> {
        let dir = rig_model::store::models_dir(dir);
        if !self.models.as_ref().is_some_and(|(d, b, _)| *d == dir && *b == backend) {
            self.models = None;
            let loaded = LearnedModels::load_on(&dir, backend).map_err(|source| PipelineError::Models { dir: dir.clone(), source })?;
            self.models = Some((dir, backend, loaded));
        }
        match &self.models {
            Some((_, _, m)) => Ok(m),
            None => Err(PipelineError::Cancelled),
        }
    }

    /// The binder for the mesh known as `mesh_key`, built when the mesh or the resolution changed
    /// (the old one is freed first: they can be large).
    fn binder(&mut self, mesh_key: u64, mesh: &Mesh, request: &RigRequest, task: Task) -> Result<&mut SkinBinder, PipelineError> {
        let resolution = request.skin.resolution.unwrap_or(0);
        let entry = match self.binder.take().filter(|e| e.mesh_key == mesh_key && e.resolution == resolution) {
            Some(entry) => entry,
            None => BinderEntry { mesh_key, resolution, binder: SkinBinder::new(mesh, &request.skin_options(), task)? },
        };
        Ok(&mut self.binder.insert(entry).binder)
    }
}

/// Runs `request` on `rig` (left unchanged) with progress and cancellation through `task`.
/// `mesh_key` names the mesh for the binder cache: the same key must mean the same vertices.
pub fn run_rig(rig: &Rig, mesh_key: u64, request: &RigRequest, caches: &mut Caches, task: Task) -> Result<RigOutput, PipelineError> {
    match &request.method {
        Method::Geometric => run_geometric(rig, mesh_key, request, caches, task),
        Method::Learned(settings) => {
            let options = request.learned_options().ok_or(PipelineError::Cancelled)?;
            if caches.models.is_none() {
                task.stage("loading the learned models", 0.0)?;
            }
            let models = caches.models(settings.models.as_deref(), settings.backend)?;
            let mut work = Rig { clips: Vec::new(), materials: Default::default(), ..rig.clone() };
            let report = rig_learned(&mut work, models, &options, task)?;
            Ok(RigOutput {
                skeleton: work.skeleton,
                weights: work.weights,
                generated_skeleton: request.generates_skeleton(),
                learned: Some(Box::new(report)),
                motion: None,
                matched: None,
                face: None,
            })
        }
        Method::Motion { clip, options, learned } => crate::motion::run_on_clip(rig, *clip, options, *learned, task),
        Method::Match(settings) => crate::invert::run_match(rig, settings, &task),
        Method::Face { models, learned } => crate::face::run_face_job(rig, models.as_deref(), *learned, caches, &task),
    }
}

fn run_geometric(rig: &Rig, mesh_key: u64, request: &RigRequest, caches: &mut Caches, task: Task) -> Result<RigOutput, PipelineError> {
    let (skeleton, generated) = match request.skeleton_options(rig.up_direction()) {
        Some(o) => (autorig::generate_skeleton(&rig.mesh, &o, task)?, true),
        None => {
            let mut skeleton = rig.skeleton.clone();
            if let SkeletonSource::Keep { weighted_only: true } = request.skeleton {
                skeleton.mark_uninfluential_non_deforming(&rig.weights.vertices_per_joint(skeleton.len()));
            }
            (skeleton, false)
        }
    };
    if !skeleton.joints.iter().any(|j| j.deform) {
        return Err(PipelineError::NoSkeleton);
    }
    let all_skinned = generated.then(|| all_parts_skinned(&rig.mesh)).flatten();
    let mesh = all_skinned.as_ref().unwrap_or(&rig.mesh);
    let options = request.skin_options();
    let binder = caches.binder(mesh_key, mesh, request, task)?;
    let weights = autorig::skin_weights(binder, mesh, &skeleton, &options, task)?;
    Ok(RigOutput { skeleton, weights, generated_skeleton: generated, learned: None, motion: None, matched: None, face: None })
}

/// A generated skeleton skins every part (static parts included): a copy with all parts
/// marked skinned, or `None` when they already are.
fn all_parts_skinned(mesh: &Mesh) -> Option<Mesh> {
    if mesh.parts.iter().all(|p| p.skinned) {
        return None;
    }
    let mut m = mesh.clone();
    m.parts.iter_mut().for_each(|p| p.skinned = true);
    Some(m)
}

/// Puts a result into `rig`: a matched clip after its clips (nothing else), or its skeleton and
/// weights, and for a new skeleton no clips but a recovered one, every part skinned, and the skeleton under an
/// armature node that places it where the file's scene showed the mesh (a Z-up character under
/// a turned node stays upright in other programs).
pub fn apply(rig: &mut Rig, output: RigOutput) {
    if let Some(f) = output.face {
        // A face rig adds morph targets and changes nothing else.
        rig_core::face::apply(&mut rig.mesh, &f.rig);
        return;
    }
    if let Some(m) = output.matched {
        // Match targets changes nothing but the clips: the rig may have been edited meanwhile.
        rig.clips.push(m.clip);
        return;
    }
    let (mut skeleton, mut weights) = (output.skeleton, output.weights);
    if output.generated_skeleton {
        rig.clips.clear();
        rig.mesh.parts.iter_mut().for_each(|p| p.skinned = true);
        let mut clips: Vec<Clip> = output.motion.map(|m| vec![m.clip]).unwrap_or_default();
        if let Some(placed) = under_armature(&skeleton, &rig.display_from_mesh()) {
            // Every joint moved one place down, below the armature.
            weights.remap_joints(&(1..=skeleton.len() as u32).collect::<Vec<u32>>());
            clips.iter_mut().flat_map(|c| c.channels.iter_mut()).for_each(|c| c.joint += 1);
            skeleton = placed;
        }
        rig.clips = clips;
    }
    rig.skeleton = skeleton;
    rig.weights = weights;
}

/// `skeleton` (bound in mesh space) one joint down, under a non-deforming root whose transform
/// is `display_from_mesh`, so that its rest pose shows the mesh there; `None` when that is the
/// identity or does not decompose. Local transforms and inverse bind matrices are unchanged.
fn under_armature(skeleton: &Skeleton, display_from_mesh: &Mat4) -> Option<Skeleton> {
    display_from_mesh.try_inverse()?;
    let armature = Trs::from_matrix(display_from_mesh)?;
    if skeleton.is_empty() || (display_from_mesh - Mat4::identity()).abs().max() <= 1e-6 {
        return None;
    }
    let mut skeleton = skeleton.clone();
    for joint in &mut skeleton.joints {
        joint.parent = Some(joint.parent.map_or(0, |p| p + 1));
    }
    let name = if skeleton.find("Armature").is_some() { "Armature_root" } else { "Armature" };
    let root = Joint {
        name: name.into(),
        parent: None,
        rest_local: armature,
        // Bound where the mesh is stored, as the joints below it: the rest pose turns both.
        joint_from_mesh: Mat4::identity(),
        deform: false,
        in_skin: false,
    };
    skeleton.joints.insert(0, root);
    Some(skeleton)
}
