//! Rigging with the learned models. The skeleton: with a joint pruner in the models folder,
//! the geometric template with the joints it drops left out; without one, the generator writes
//! it (skin-only mode keeps the rig's own). The geometric binder gives each bone its prior.
//! With a skin predictor in the models folder, it turns the prior into the skin ([`predict`]);
//! without one, the generator writes 4 skin tokens per bone and the tokenizer's decoder turns
//! them into weights. The library behind `rigsmith rig --method learned` and the editor's
//! learned Generate.

use std::path::Path;

use nalgebra::Vector3;
use rig_core::autorig::{clear_static_rows, generate_skeleton, AutoRigError};
use rig_core::autoskel::{move_inside, skeleton_from_tree, AutoSkeletonOptions, JointTree};
use rig_core::autoskin::bones::bind_positions;
use rig_core::{Cancelled, Rig, Skeleton, Task};

use crate::backend::{BackendChoice, Loaded};
use crate::decode::{generate_skeletons, generate_skin, SamplingOptions};
use crate::features::ShapeField;
use crate::gen_data::{check_code_width, joint_contexts, kept_joints, prior_asset, prior_codes, shape_tensors};
use crate::generator::{RigGenerator, RigGeneratorConfig};
use crate::joint_pruner::{joint_features, keep_probabilities, kept, without_joints, JointFeatures, JointPruner, JointPrunerConfig};
use crate::sequence::{encode_skeleton, Frame};
use crate::shape::{normalise_samples, surface_samples};
use crate::skin::{decode, predict, DecodeOptions};
use crate::tokenizer::SkinTokenizer;
use crate::{store, ModelError};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

/// Voxels along the longest side when generated joints are moved into the volume.
const INSIDE_RESOLUTION: usize = 96;

/// The shipped tokenizer, generator and (when the folder has one) skin predictor on one burn
/// backend.
pub struct ModelPair<B: Backend> {
    pub tokenizer: SkinTokenizer<B>,
    pub generator: RigGenerator<B>,
    pub config: RigGeneratorConfig,
    /// The skin predictor, when the folder has one: it gives the skin from the geometric
    /// prior directly (the generator then writes only the skeleton).
    pub predictor: Option<SkinTokenizer<B>>,
    /// The joint pruner, when the folder has one: the skeleton is then the geometric template
    /// with the joints it drops left out (else the generator writes it).
    pub pruner: Option<(JointPruner<B>, JointPrunerConfig)>,
    pub device: B::Device,
}

impl<B: Backend> ModelPair<B> {
    /// Loads both models from `dir` onto `device` and checks that they fit together.
    pub fn load(dir: &Path, device: B::Device) -> Result<ModelPair<B>, ModelError> {
        let (tokenizer, _) = store::load_tokenizer::<B>(dir, &device)?;
        let (generator, config) = store::load_generator::<B>(dir, &device)?;
        check_code_width(&config, &tokenizer).map_err(ModelError::Config)?;
        let predictor = store::load_predictor::<B>(dir, &device)?;
        let pruner = crate::joint_pruner::load::<B>(dir, &device)?;
        Ok(ModelPair { tokenizer, generator, config, predictor, pruner, device })
    }
}

/// The shipped models on the backend chosen when they were loaded (see [`crate::backend`]).
pub struct LearnedModels {
    pub(crate) loaded: Loaded,
    /// Which backend runs them, and why (for the user: "CPU (ndarray): built without ...").
    pub backend_note: String,
}

impl LearnedModels {
    /// Loads the models from `dir` on the backend fastest at running them (see [`crate::backend`]).
    pub fn load(dir: &Path) -> Result<LearnedModels, ModelError> {
        Self::load_on(dir, BackendChoice::Auto)
    }

    /// Loads both models from `dir` on `choice`; a GPU backend that is not available falls back
    /// to the CPU with a note saying why.
    pub fn load_on(dir: &Path, choice: BackendChoice) -> Result<LearnedModels, ModelError> {
        let (loaded, backend_note) = crate::backend::load(dir, choice)?;
        Ok(LearnedModels { loaded, backend_note })
    }
}

#[derive(Debug, Clone, Default)]
pub struct LearnedOptions {
    pub sampling: SamplingOptions,
    pub decode: DecodeOptions,
    /// Keep the rig's skeleton and make only the skin.
    pub keep_skeleton: bool,
    /// With `keep_skeleton`: weight every joint, not only those the file weighted.
    pub all_joints_deform: bool,
    /// Which skeleton candidate to rig with: the n-th sample (seed + n) or the n-th best beam.
    pub candidate: usize,
}

/// What happened, for the caller to report.
#[derive(Debug, Clone, Default)]
pub struct LearnedReport {
    /// Mean log-probability per token of the chosen skeleton (None when it was kept).
    pub skeleton_score: Option<f32>,
    /// Generated joints that lay outside the volume and were moved in.
    pub moved_inside: usize,
    pub joints: usize,
    /// Deforming joints outside the skeleton's main tree: the generator reads one tree, so
    /// these get no learned weight from its skin tokens (a second root, e.g. a prop or hair
    /// rig). Always 0 with a skin predictor, which weights every deforming joint.
    pub left_out: usize,
    /// Whether the skin came from the skin predictor (else from the generator's skin tokens).
    pub skin_predicted: bool,
    /// The backend that ran the models ([`LearnedModels::backend_note`]).
    pub backend: String,
    /// Joints of the geometric template the pruner started from (None: the generator wrote
    /// the skeleton, or it was kept).
    pub template_joints: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum LearnedError {
    #[error("the mesh has no triangles with area to rig")]
    EmptyMesh,
    #[error("the file has no skeleton to keep (open a rigged file, or generate a skeleton)")]
    NoSkeleton,
    #[error("the beam search finished fewer skeletons than the candidate asked for; try more beams or sampling (one beam)")]
    NoCandidate,
    #[error("cancelled")]
    Cancelled(#[from] Cancelled),
    #[error("the skeleton template: {0}")]
    Template(String),
}

impl From<AutoRigError> for LearnedError {
    fn from(e: AutoRigError) -> Self {
        match e {
            AutoRigError::Cancelled => LearnedError::Cancelled(Cancelled),
            other => LearnedError::Template(other.to_string()),
        }
    }
}

/// Rigs `rig` in place with the learned models. A generated skeleton replaces the old one
/// (the file's clips animated the old joints, so they are dropped).
pub fn rig_learned(rig: &mut Rig, models: &LearnedModels, o: &LearnedOptions, task: Task) -> Result<LearnedReport, LearnedError> {
    let report = crate::backend::dispatch!(&models.loaded, pair => rig_with(rig, pair, o, task))?;
    Ok(LearnedReport { backend: models.backend_note.clone(), ..report })
}

fn rig_with<B: Backend>(rig: &mut Rig, models: &ModelPair<B>, o: &LearnedOptions, task: Task) -> Result<LearnedReport, LearnedError> {
    if rig.mesh.triangles.is_empty() {
        return Err(LearnedError::EmptyMesh);
    }
    let (config, model) = (&models.config, &models.generator);
    let device = &models.device;
    if o.keep_skeleton {
        if rig.skeleton.joints.iter().all(|j| !j.deform) {
            return Err(LearnedError::NoSkeleton);
        }
        if !o.all_joints_deform && rig.weights.iter().any(|(j, _)| !j.is_empty()) {
            rig.mark_unweighted_joints_non_deforming();
        }
        if let Some(predictor) = &models.predictor {
            predicted_skin(rig, predictor, &o.decode, task, device)?;
            return Ok(LearnedReport { joints: rig.skeleton.len(), skin_predicted: true, ..Default::default() });
        }
    }
    let mut report = LearnedReport::default();
    let mut encoded = None;
    if !o.keep_skeleton {
        match &models.pruner {
            Some((pruner, pruner_config)) => {
                task.stage("skeleton template", 0.0)?;
                let template =
                    generate_skeleton(&rig.mesh, &AutoSkeletonOptions { up: Some(rig.up_direction()), ..Default::default() }, task)?;
                let keep = template_keep(rig, &template, pruner, pruner_config, device);
                report.template_joints = Some(template.len());
                rig.skeleton = without_joints(&template, &keep);
            }
            None => {
                let (frame, latents) = encode_shape(rig, models, o, task)?;
                generated_skeleton(rig, models, o, frame, latents.clone(), &mut report, task)?;
                encoded = Some((frame, latents));
            }
        }
        rig.clips.clear();
        rig.mesh.parts.iter_mut().for_each(|p| p.skinned = true);
    }
    if let Some(predictor) = &models.predictor {
        predicted_skin(rig, predictor, &o.decode, task, device)?;
        return Ok(LearnedReport { joints: rig.skeleton.len(), skin_predicted: true, ..report });
    }
    let (frame, latents) = match encoded {
        Some(e) => e,
        None => encode_shape(rig, models, o, task)?,
    };
    report.joints = rig.skeleton.len();
    task.stage("prior", 0.0)?;
    let prior = prior_asset(ShapeField::new(&rig.mesh, &rig.skeleton, models.tokenizer.prior(), task)?);
    let codes = prior_codes(&models.tokenizer, &prior, device);
    let (kept, parents) = kept_joints(rig);
    let bind = bind_positions(&rig.skeleton);
    let unit: Vec<Vector3<f32>> = kept.iter().map(|&j| frame.to_unit(&bind[j])).collect();
    let Some(seq) = encode_skeleton(&unit, &parents) else { return Err(LearnedError::NoSkeleton) };
    let width = config.code_width;
    let contexts = joint_contexts(&seq.order, &unit, &parents, |i| codes[kept[i]].clone().unwrap_or_else(|| vec![0.0; width]));
    task.stage("skin tokens", 0.0)?;
    let skin = generate_skin(model, config, latents, &seq.tokens, &contexts, &o.sampling, task)?;
    report.left_out = rig.skeleton.joints.iter().enumerate().filter(|(j, joint)| joint.deform && !kept.contains(j)).count();
    let mut tokens: Vec<Option<Vec<u32>>> = vec![None; rig.skeleton.len()];
    for (&i, t) in seq.order.iter().zip(&skin) {
        let j = kept[i];
        if codes[j].is_some() {
            tokens[j] = Some(t.to_vec());
        }
    }
    task.stage("skin from tokens", 0.0)?;
    let weights = decode(&models.tokenizer, &prior.field, &tokens, &o.decode, device);
    rig.weights = clear_static_rows(&rig.mesh, weights);
    Ok(report)
}

/// The generator's shape latents of the rig's mesh, and the frame its unit cube maps from.
fn encode_shape<B: Backend>(
    rig: &Rig,
    models: &ModelPair<B>,
    o: &LearnedOptions,
    task: Task,
) -> Result<(Frame, Tensor<B, 3>), LearnedError> {
    task.stage("shape", 0.0)?;
    let samples = surface_samples(&rig.mesh, &Frame::identity(), models.config.points, o.sampling.seed);
    if samples.is_empty() {
        return Err(LearnedError::EmptyMesh);
    }
    let (frame, samples) = normalise_samples(samples);
    let (points, queries) = shape_tensors::<B>(&[&samples], models.config.latents, &models.device);
    Ok((frame, models.generator.encode_shape(points, queries)))
}

/// Puts the generator's skeleton (the candidate `o` asks for) into the rig.
fn generated_skeleton<B: Backend>(
    rig: &mut Rig,
    models: &ModelPair<B>,
    o: &LearnedOptions,
    frame: Frame,
    latents: Tensor<B, 3>,
    report: &mut LearnedReport,
    task: Task,
) -> Result<(), LearnedError> {
    task.stage("skeleton tokens", 0.0)?;
    let mut sampling = o.sampling.clone();
    let wanted = if sampling.beams > 1 {
        o.candidate + 1
    } else {
        sampling.seed = sampling.seed.wrapping_add(o.candidate as u64);
        1
    };
    let found = generate_skeletons(&models.generator, &models.config, latents, &sampling, wanted, task)?;
    let best = found.into_iter().nth(wanted - 1).ok_or(LearnedError::NoCandidate)?;
    report.skeleton_score = Some(best.score);
    let mut positions: Vec<Vector3<f32>> = best.skeleton.positions.iter().map(|u| frame.from_unit(u)).collect();
    report.moved_inside = move_inside(&rig.mesh, &mut positions, INSIDE_RESOLUTION);
    rig.skeleton = skeleton_from_tree(&JointTree { positions, parents: best.skeleton.parents });
    Ok(())
}

/// Which joints of `template` stay: the pruner's decision for each deforming joint; the others
/// (and the root) stay.
fn template_keep<B: Backend>(
    rig: &Rig,
    template: &Skeleton,
    pruner: &JointPruner<B>,
    config: &JointPrunerConfig,
    device: &B::Device,
) -> Vec<bool> {
    let features = joint_features(&rig.mesh, template, rig.up_direction());
    let deforming: Vec<usize> = (0..template.len()).filter(|&j| template.joints[j].deform).collect();
    let chosen: Vec<JointFeatures> = deforming.iter().map(|&j| features[j].clone()).collect();
    let probabilities = keep_probabilities(pruner, config, &chosen, device);
    let mut keep = vec![true; template.len()];
    deforming.iter().zip(kept(&probabilities)).for_each(|(&j, k)| keep[j] = k);
    keep
}

/// Puts the skin predictor's weights for the rig's skeleton into the rig.
fn predicted_skin<B: Backend>(
    rig: &mut Rig,
    predictor: &SkinTokenizer<B>,
    decode: &DecodeOptions,
    task: Task,
    device: &B::Device,
) -> Result<(), LearnedError> {
    task.stage("prior", 0.0)?;
    let field = ShapeField::new(&rig.mesh, &rig.skeleton, predictor.prior(), task)?;
    task.stage("skin", 0.0)?;
    rig.weights = clear_static_rows(&rig.mesh, predict(predictor, field, decode, task, device)?);
    Ok(())
}
