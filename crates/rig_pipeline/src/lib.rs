//! Rigsmith's jobs, without a window: one request type per job and one call that runs it with
//! progress and cancellation, the worker thread the editor feeds, and the orchestration the
//! command line prints (evaluation scoring, benchmark helpers).
//!
//! Front ends (the `rigsmith` command line and the editor) build a request, run it here, and
//! only parse arguments, print or draw. The same request gives the same rig everywhere.

pub mod batch;
pub mod bench;
pub mod eval;
pub mod face;
pub mod face_eval;
pub mod face_train;
pub mod files;
pub mod invert;
pub mod invert_learned;
pub mod motion;
pub mod request;
pub mod retarget;
pub mod rig;
pub mod training;
pub mod worker;

pub use request::{LearnedSettings, Method, RigRequest};
pub use rig::{apply, run_rig, Caches, PipelineError, RigOutput};
pub use rig_core::autorig::SkeletonSource;
pub use worker::{Job, JobOutput, Running, Worker, WorkerEvent};
