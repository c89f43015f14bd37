use std::path::PathBuf;

use thiserror::Error;

/// Why a file could not be read or written.
#[derive(Debug, Error)]
pub enum IoError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Unsupported(String),
    #[error("not a valid glTF file: {0}")]
    Container(String),
    #[error("glTF JSON is malformed: {0}")]
    Json(String),
    #[error("the file is compressed with the glTF extension {0}, which Rigsmith does not decode; re-export it uncompressed (Blender: glTF export with Compression off)")]
    RequiredExtension(String),
    #[error("{what} refers to {kind} {index}, but the file has only {count}")]
    BadIndex { what: String, kind: &'static str, index: usize, count: usize },
    #[error("{0}")]
    Buffer(String),
    #[error("accessor {index}: {reason}")]
    Accessor { index: usize, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error("the node graph is not a tree: {0}")]
    NodeGraph(String),
    #[error("invalid rig: {0}")]
    Rig(#[from] rig_core::RigError),
    #[error("{path}:{line}: {reason}")]
    Text { path: PathBuf, line: usize, reason: String },
}
