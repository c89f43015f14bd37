use thiserror::Error;

/// Structural problems found when a rig is checked. Messages say what is wrong and where.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RigError {
    #[error("joint {joint} ({name:?}) has parent {parent}, which is not an earlier joint; joints must be stored parents first")]
    ParentOrder { joint: usize, name: String, parent: usize },
    #[error("triangle {triangle} uses vertex {vertex}, but the mesh has only {vertex_count} vertices")]
    TriangleIndexOutOfRange { triangle: usize, vertex: u32, vertex_count: usize },
    #[error("vertex {vertex} has a non-finite position {position:?}")]
    NonFinitePosition { vertex: usize, position: [f32; 3] },
    #[error("vertex {vertex} is weighted to joint {joint}, but the skeleton has only {joint_count} joints")]
    JointIndexOutOfRange { vertex: usize, joint: u32, joint_count: usize },
    #[error("the skin has weights for {weights} vertices but the mesh has {vertices}")]
    WeightCountMismatch { weights: usize, vertices: usize },
    #[error("vertex {vertex} has a non-finite or negative weight {weight}")]
    BadWeight { vertex: usize, weight: f32 },
    #[error("part {part:?} refers to vertices, triangles or a mesh group that do not exist")]
    PartOutOfRange { part: String },
    #[error("part {part:?} uses material {material}, but the rig has only {count} materials")]
    MaterialOutOfRange { part: String, material: usize, count: usize },
    #[error("{what} has {got} entries, expected {expected}")]
    LengthMismatch { what: &'static str, got: usize, expected: usize },
}
