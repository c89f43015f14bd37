//! Rigsmith's geometry core: the rig data model and the maths every other layer stands on.
//!
//! Nothing here knows about windows, GPUs, neural networks or file formats. Data flows
//! `file -> rig_io -> rig_core -> editor / CLI -> rig_io -> file`.
//!
//! Conventions: right-handed, Y up (as glTF), metres as the file gives them, radians.
//! Transforms are named `a_from_b`: `model_from_joint * joint_from_mesh` maps a mesh-space
//! point into model space.

pub mod animation;
pub mod autorig;
pub mod autoskel;
pub mod autoskin;
pub mod creature;
pub mod edit;
pub mod error;
pub mod face;
pub mod health;
pub mod invert;
pub mod lbs;
pub mod limit;
pub mod material;
pub mod mesh;
pub mod metrics;
pub mod motion;
pub mod naming;
pub mod paint;
pub mod pose;
pub mod repose;
pub mod retarget;
pub mod rig;
pub mod skeleton;
pub mod stats;
pub mod task;
#[cfg(test)]
mod test_shapes;
pub mod transform;
pub mod walk;
pub mod weights;

pub use animation::{Channel, ChannelValues, Clip, Interpolation, MorphWeightsChannel};
pub use error::RigError;
pub use limit::{InfluenceLimit, LimitError};
pub use material::{Image, Material, MaterialLibrary};
pub use mesh::{Mesh, MeshGroup, MorphTarget, Part};
pub use pose::Pose;
pub use rig::Rig;
pub use skeleton::{Joint, Skeleton, SourceSkin};
pub use task::{Cancelled, Task};
pub use transform::Trs;
pub use weights::SkinWeights;

/// Single-precision 4x4 matrix used for all transforms.
pub type Mat4 = nalgebra::Matrix4<f32>;
/// Single-precision 3-vector.
pub type Vec3 = nalgebra::Vector3<f32>;
