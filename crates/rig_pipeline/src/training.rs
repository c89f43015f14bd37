//! Training data for the learned models: rigged files found under folders, each character
//! loaded with its weightless joints non-deforming, and its augmented copies (posed and
//! stretched, decimated).

use std::path::{Path, PathBuf};

use rig_core::autorig::generate_skeleton;
use rig_core::autoskel::AutoSkeletonOptions;
use rig_core::{Rig, Task};
use rig_model::augment::{posed_copy, Augment};
use rig_model::data::Asset;
use rig_model::decimate::decimated_copy;
use rig_model::features::SkinPrior;
use rig_model::joint_pruner::PrunerSample;

use crate::files;

/// Why a training file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error(transparent)]
    Read(#[from] rig_io::IoError),
    #[error(transparent)]
    Rig(#[from] rig_core::RigError),
    #[error(transparent)]
    Asset(#[from] rig_model::data::AssetError),
    #[error("the skeleton template: {0}")]
    Template(String),
}

/// Rigged files under each of `inputs` (a file or a folder), sorted, without duplicates.
pub fn rigged_files(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = inputs.iter().flat_map(|p| if p.is_dir() { files::inputs_in(p) } else { vec![p.clone()] }).collect();
    out.sort();
    out.dedup();
    out
}

/// Extra copies of each training character, besides the character itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Copies {
    /// In random poses of its own skeleton, stretched ([`posed_copy`]).
    pub posed: usize,
    /// With the surface simplified to 1/2, 1/4, ... of its triangles ([`decimated_copy`]);
    /// fewer where the mesh is already too coarse to lose more.
    pub decimated: usize,
}

/// The rigged file's character, then its `copies` (the seeds come from the file's name, so a
/// run repeats).
pub fn training_rigs(path: &Path, copies: Copies) -> Result<Vec<Rig>, DataError> {
    let rig = load_rig(path)?;
    let base = rig.name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    let mut out: Vec<Rig> = (0..copies.posed).map(|k| posed_copy(&rig, &Augment::default(), base.wrapping_add(k as u64))).collect();
    let mut triangles = rig.mesh.triangle_count();
    for k in 0..copies.decimated {
        match decimated_copy(&rig, 0.5f32.powi(k as i32 + 1)) {
            Some(copy) if copy.mesh.triangle_count() < triangles => {
                triangles = copy.mesh.triangle_count();
                out.push(copy);
            }
            _ => break,
        }
    }
    out.insert(0, rig);
    Ok(out)
}

/// [`training_rigs`] as the tokenizer's shape fields.
pub fn load_augmented(path: &Path, prior: SkinPrior, copies: Copies) -> Result<Vec<Asset>, DataError> {
    training_rigs(path, copies)?.iter().map(|rig| Ok(Asset::new(rig, prior, Task::silent())?)).collect()
}

/// A rigged file as the joint pruner learns from it: the geometric template fitted to its bare
/// mesh against the artist's deforming joints, then the same mirrored left to right.
pub fn pruner_samples(path: &Path) -> Result<[PrunerSample; 2], DataError> {
    let rig = load_rig(path)?;
    let options = AutoSkeletonOptions { up: Some(rig.up_direction()), ..Default::default() };
    let template = generate_skeleton(&rig.mesh, &options, Task::silent()).map_err(|e| DataError::Template(e.to_string()))?;
    let sample = PrunerSample::new(&rig.mesh, &template, &rig.skeleton, rig.up_direction());
    let mirrored = sample.mirrored();
    Ok([sample, mirrored])
}

/// One rigged file's shape field, built with the `prior` binder (the model's).
pub fn load_asset(path: &Path, prior: SkinPrior) -> Result<Asset, DataError> {
    Ok(Asset::new(&load_rig(path)?, prior, Task::silent())?)
}

/// A rigged file with its weightless joints marked non-deforming, named for tables.
pub fn load_rig(path: &Path) -> Result<Rig, DataError> {
    let mut rig = rig_io::load(path)?.rig;
    rig.validate()?;
    rig.mark_unweighted_joints_non_deforming();
    rig.name = display_name(path);
    Ok(rig)
}

/// `folder/file` without the extension: enough to tell assets apart in tables.
pub fn display_name(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    match path.parent().and_then(|p| p.file_name()) {
        Some(dir) => format!("{}/{stem}", dir.to_string_lossy()),
        None => stem,
    }
}
