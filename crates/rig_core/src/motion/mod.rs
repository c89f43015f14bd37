//! Rig from motion: mesh sequences of one topology, and the smooth skinning decomposition that
//! recovers bones, weights and per-frame bone transforms from them ([`ssdr`]).

pub mod bake;
pub mod hierarchy;
mod nnls;
pub mod recover;
pub mod ssdr;
mod weight_fit;

pub use bake::{bake_clip, bake_clip_in_mesh_space, BakeError};
pub use recover::{rest_mesh, rig_from_motion, rig_from_motion_seeded, to_rig, MotionOptions, MotionResult};
pub use ssdr::{SsdrError, SsdrOptions};

use thiserror::Error;

/// Frames of one mesh: every frame has the rest frame's vertices, in the same order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeshSequence {
    /// The pose the weights bind: usually the first frame.
    pub rest: Vec<[f32; 3]>,
    /// Every frame's vertex positions, `frames[t][i]` for vertex `i` at frame `t`.
    pub frames: Vec<Vec<[f32; 3]>>,
    /// Each frame's time in seconds (the output clip keeps them).
    pub times: Vec<f32>,
    pub triangles: Vec<[u32; 3]>,
}

/// What makes a sequence unusable, each said so the input can be fixed.
#[derive(Debug, Error, PartialEq)]
pub enum SequenceError {
    #[error("the sequence has {0} frame(s): rig from motion needs at least 2 poses")]
    TooFewFrames(usize),
    #[error("frame {frame} has {found} vertices where the rest pose has {expected}: every frame must share one topology")]
    VertexCount { frame: usize, found: usize, expected: usize },
    #[error("frame {frame}, vertex {vertex} has a non-finite position (NaN or infinity)")]
    NotFinite { frame: usize, vertex: usize },
    #[error("{vertices} distinct vertex positions cannot carry {bones} bones: ask for at most {vertices} bones")]
    TooFewVertices { vertices: usize, bones: usize },
    #[error("{found} frame times for {frames} frames")]
    TimeCount { found: usize, frames: usize },
    #[error("a bone count of 0 and an influence count of 0 make no rig: ask for at least 1 of each")]
    Empty,
}

impl MeshSequence {
    /// A sequence whose rest pose is its first frame.
    pub fn from_frames(frames: Vec<Vec<[f32; 3]>>, times: Vec<f32>, triangles: Vec<[u32; 3]>) -> MeshSequence {
        MeshSequence { rest: frames.first().cloned().unwrap_or_default(), frames, times, triangles }
    }

    /// Checks vertex counts, finite positions and frame times.
    pub fn validate(&self) -> Result<(), SequenceError> {
        if self.frames.len() < 2 {
            return Err(SequenceError::TooFewFrames(self.frames.len()));
        }
        if self.times.len() != self.frames.len() {
            return Err(SequenceError::TimeCount { found: self.times.len(), frames: self.frames.len() });
        }
        let expected = self.rest.len();
        let rest = std::iter::once(&self.rest);
        for (frame, positions) in rest.chain(&self.frames).enumerate() {
            if positions.len() != expected {
                return Err(SequenceError::VertexCount { frame: frame.saturating_sub(1), found: positions.len(), expected });
            }
            if let Some(vertex) = positions.iter().position(|p| p.iter().any(|x| !x.is_finite())) {
                return Err(SequenceError::NotFinite { frame: frame.saturating_sub(1), vertex });
            }
        }
        Ok(())
    }

    /// The first frame's bounding-box diagonal (errors are given in % of it; 1 when it is
    /// degenerate).
    pub fn diagonal(&self) -> f64 {
        let first = self.frames.first().unwrap_or(&self.rest);
        crate::mesh::Aabb::of_points(first).map_or(1.0, |b| b.diagonal() as f64).max(1e-12)
    }
}

/// Vertices that share a rest position (split at UV or material seams) welded into one: returns,
/// for each vertex, its welded index, and the number of welded vertices. Positions closer than
/// `tolerance` fall in the same cell of a grid of that size; the first vertex of a cell speaks
/// for it.
pub fn weld(rest: &[[f32; 3]], tolerance: f32) -> (Vec<usize>, usize) {
    let mut cells: std::collections::HashMap<[i64; 3], usize> = std::collections::HashMap::new();
    let cell = |p: &[f32; 3]| p.map(|x| (x as f64 / tolerance.max(1e-12) as f64).round() as i64);
    let mut map = Vec::with_capacity(rest.len());
    for p in rest {
        let next = cells.len();
        map.push(*cells.entry(cell(p)).or_insert(next));
    }
    (map, cells.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(frames: Vec<Vec<[f32; 3]>>) -> MeshSequence {
        let n = frames.len();
        MeshSequence::from_frames(frames, (0..n).map(|t| t as f32).collect(), vec![])
    }

    #[test]
    fn bad_sequences_are_refused_with_their_reason() {
        let a = vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]];
        assert_eq!(seq(vec![a.clone()]).validate(), Err(SequenceError::TooFewFrames(1)));
        assert_eq!(seq(vec![a.clone(), vec![[0.0; 3]]]).validate(), Err(SequenceError::VertexCount { frame: 1, found: 1, expected: 2 }));
        let nan = vec![[0.0, 0.0, 0.0], [f32::NAN, 0.0, 0.0]];
        assert_eq!(seq(vec![a.clone(), nan]).validate(), Err(SequenceError::NotFinite { frame: 1, vertex: 1 }));
        assert_eq!(seq(vec![a.clone(), a]).validate(), Ok(()));
    }

    #[test]
    fn seams_weld_into_one_vertex() {
        let rest = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1e-9, 0.0]];
        assert_eq!(weld(&rest, 1e-6), (vec![0, 1, 0, 1], 2));
    }
}
