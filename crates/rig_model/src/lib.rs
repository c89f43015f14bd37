//! Learned rigging in burn: the skin tokenizer (an FSQ autoencoder that compresses each bone's
//! skin weights into 4 discrete tokens, conditioned on the shape) and the rig generator (a
//! small autoregressive transformer that writes a skeleton as tokens, then 4 skin tokens per
//! bone), the skin predictor (the tokenizer's network reading the bone heat prior instead of
//! the artist's weights, which gives the skin when shipped), their training loops and inference
//! (`rigging::rig_learned`).
//!
//! Backends: the modules are generic over burn's `Backend`. Training runs on
//! [`CpuTrainBackend`] (ndarray), or on a GPU with the `cuda` ([`CudaTrainBackend`]) or `wgpu`
//! ([`WgpuTrainBackend`]) feature; inference picks CUDA, wgpu or the CPU when the models are
//! loaded ([`backend`]).

pub mod augment;
pub mod backend;
pub mod data;
pub mod decimate;
pub mod decode;
pub mod face_refine;
pub mod features;
pub mod fsq;
pub mod gen_data;
pub mod gen_train;
pub mod generator;
pub mod joint_pruner;
pub mod motion_init;
pub mod plot;
pub mod refine;
pub mod rig_inverse;
pub mod rigging;
pub mod run;
pub mod sequence;
pub mod shape;
pub mod skin;
pub mod store;
pub mod tokenizer;
pub mod train;

/// The CPU backend used for inference and for training without a GPU.
pub type CpuBackend = burn::backend::NdArray<f32>;
/// The CPU backend with automatic differentiation, for training.
pub type CpuTrainBackend = burn::backend::Autodiff<CpuBackend>;
/// CUDA (burn-cuda) with automatic differentiation, for training on an NVIDIA GPU.
#[cfg(feature = "cuda")]
pub type CudaTrainBackend = burn::backend::Autodiff<burn::backend::Cuda>;
/// wgpu with automatic differentiation, for training on any GPU.
#[cfg(feature = "wgpu")]
pub type WgpuTrainBackend = burn::backend::Autodiff<burn::backend::Wgpu>;

/// What can go wrong loading, saving or training a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("model file: {0}")]
    Record(#[from] burn::record::RecorderError),
    #[error("model config: {0}")]
    Json(#[from] serde_json::Error),
    #[error("no data to train on: {0}")]
    NoData(String),
    #[error("loss plot: {0}")]
    Plot(String),
    #[error("model config: {0}")]
    Config(String),
}

/// Rigs the unit tests share.
#[cfg(test)]
mod test_rigs {
    use rig_core::Rig;

    /// The bundled Khronos fox, its unweighted joints marked non-deforming.
    pub fn fox() -> Rig {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/samples/khronos_fox/Fox.glb");
        let mut rig = rig_io::load(&path).expect("bundled fox").rig;
        rig.mark_unweighted_joints_non_deforming();
        rig
    }
}
