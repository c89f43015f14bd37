//! Learned face-rig refinement (as RigAnyFace refines its blendshapes): a network that, given
//! what a vertex looks like on the fitted template ([`vertex_features`]) and one expression
//! (its index among ARKit's 52, and the offset the transfer gave the vertex there), predicts
//! the correction to that offset. Trained on ICT identities at several topologies, with ICT's
//! own offsets as the truth.

use std::fs;
use std::path::Path;

use burn::module::Module;
use burn::prelude::*;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::backend::AutodiffBackend;
use nalgebra::Vector3;
use rig_core::face::features::{vertex_features, PERCENT, VERTEX_FEATURES};
use rig_core::face::{FaceRig, FaceTemplate, ARKIT_52};

use burn::tensor::{Int, TensorData};
use rayon::prelude::*;

use crate::rig_inverse::{fit, matrix, Mlp, Schedule, TrainingReport};
use crate::ModelError;

pub const STEM: &str = "face_refine";
/// Inputs per row: the vertex's features, the transferred offset (percent of the template's
/// diagonal, template frame) and the shape as one of 52.
pub const INPUTS: usize = VERTEX_FEATURES + 3 + ARKIT_52.len();
/// A vertex whose transferred offsets all stay under this (percent of the diagonal) is left
/// as it is: the back of the head and the neck.
pub const MIN_MOTION: f32 = 0.05;
/// At inference, an offset the transfer left under this (percent of the diagonal) is not
/// corrected: most of a vertex's shapes do not move it, and their corrections are noise (on the
/// validation heads the scores are the same to three decimals, at a third of the time).
pub const MIN_ROW_MOTION: f32 = 0.01;
/// Rows per forward pass at inference.
const CHUNK: usize = 65_536;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FaceRefineConfig {
    pub widths: Vec<usize>,
}

impl Default for FaceRefineConfig {
    fn default() -> Self {
        FaceRefineConfig { widths: vec![96, 96, 64] }
    }
}

pub struct FaceRefiner<B: Backend> {
    pub model: Mlp<B>,
    pub config: FaceRefineConfig,
}

/// One row: features, offset, shape.
pub fn row(features: &[f32; VERTEX_FEATURES], offset: &Vector3<f32>, shape: usize) -> Vec<f32> {
    let mut r = Vec::with_capacity(INPUTS);
    r.extend_from_slice(features);
    r.extend_from_slice(offset.as_slice());
    r.extend((0..ARKIT_52.len()).map(|k| if k == shape { 1.0 } else { 0.0 }));
    r
}

/// The shapes the refinement corrects: all but `tongueOut`, which ICT has no truth for.
pub fn refined_shape(name: &str) -> bool {
    name != "tongueOut"
}

/// One rigged head's rows in compact form: the features of each vertex that has some, and per
/// row the vertex (an index into `vertices`), the shape and the transferred offset (template
/// frame, percent of its diagonal).
#[derive(Debug, Clone, Default)]
pub struct HeadRows {
    pub vertices: Vec<usize>,
    pub features: Vec<[f32; VERTEX_FEATURES]>,
    pub rows: Vec<(u32, u32, Vector3<f32>)>,
}

impl HeadRows {
    /// Every row written out: `(vertex, shape, inputs)`.
    pub fn expanded(&self) -> Vec<(usize, usize, Vec<f32>)> {
        self.rows
            .iter()
            .map(|&(v, k, o)| (self.vertices[v as usize], k as usize, row(&self.features[v as usize], &o, k as usize)))
            .collect()
    }
}

/// The rows of one rigged head: every vertex that has features and moves in some shape, with
/// every refined shape.
pub fn head_rows(template: &FaceTemplate, rig: &FaceRig, positions: &[Vector3<f32>], triangles: &[[u32; 3]]) -> HeadRows {
    let s = &rig.placement.similarity;
    let to_pct = PERCENT / template.diagonal();
    let features = vertex_features(template, rig, positions, triangles);
    let offset = |k: usize, i: usize| s.vector_to_template(&Vector3::from(rig.shapes[k].1[i])) * to_pct;
    let mut out = HeadRows::default();
    for (i, f) in features.iter().enumerate() {
        let Some(f) = f else { continue };
        if !(0..rig.shapes.len()).any(|k| offset(k, i).norm() > MIN_MOTION) {
            continue;
        }
        let slot = out.vertices.len() as u32;
        out.vertices.push(i);
        out.features.push(*f);
        for (k, (name, _)) in rig.shapes.iter().enumerate() {
            if refined_shape(name) {
                out.rows.push((slot, k as u32, offset(k, i)));
            }
        }
    }
    out
}

impl<B: Backend> FaceRefiner<B> {
    pub fn new(config: FaceRefineConfig, device: &B::Device) -> Self {
        FaceRefiner { model: Mlp::new(INPUTS, &config.widths, 3, device), config }
    }

    /// The corrections (percent of the template's diagonal, template frame) for `rows`.
    pub fn corrections(&self, rows: &[Vec<f32>], device: &B::Device) -> Vec<Vector3<f32>> {
        let mut out = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(CHUNK) {
            let y: Vec<f32> = self.model.forward(matrix::<B>(chunk, device)).into_data().to_vec().unwrap_or_default();
            out.extend(y.chunks(3).map(|c| Vector3::new(c[0], c[1], c[2])));
        }
        out
    }

    /// The corrections for a head's rows, the same as [`FaceRefiner::corrections`] of the
    /// expanded rows: the first layer's product with each vertex's features is computed once per
    /// vertex and with the shape once per shape, so a row costs the later layers only.
    pub fn head_corrections(&self, head: &HeadRows, device: &B::Device) -> Vec<Vector3<f32>> {
        let Some(first) = self.model.first_hidden() else {
            let rows: Vec<Vec<f32>> = head.expanded().into_iter().map(|r| r.2).collect();
            return self.corrections(&rows, device);
        };
        let weight = first.weight.val();
        let width = weight.dims()[1];
        let by_features = weight.clone().slice([0..VERTEX_FEATURES, 0..width]);
        let by_offset = weight.clone().slice([VERTEX_FEATURES..VERTEX_FEATURES + 3, 0..width]);
        let mut by_shape = weight.slice([VERTEX_FEATURES + 3..INPUTS, 0..width]);
        if let Some(bias) = &first.bias {
            by_shape = by_shape + bias.val().unsqueeze::<2>();
        }
        let flat: Vec<f32> = head.features.iter().flatten().copied().collect();
        let per_vertex =
            Tensor::<B, 2>::from_data(TensorData::new(flat, [head.features.len(), VERTEX_FEATURES]), device).matmul(by_features);
        // Chunks on every core: a forward pass here keeps one core busy.
        let chunk_out = |chunk: &[(u32, u32, Vector3<f32>)]| {
            let n = chunk.len();
            let vertex = Tensor::<B, 1, Int>::from_data(TensorData::new(chunk.iter().map(|r| r.0 as i64).collect::<Vec<_>>(), [n]), device);
            let shape = Tensor::<B, 1, Int>::from_data(TensorData::new(chunk.iter().map(|r| r.1 as i64).collect::<Vec<_>>(), [n]), device);
            let offsets: Vec<f32> = chunk.iter().flat_map(|r| [r.2.x, r.2.y, r.2.z]).collect();
            let offsets = Tensor::<B, 2>::from_data(TensorData::new(offsets, [n, 3]), device);
            let h = per_vertex.clone().select(0, vertex) + offsets.matmul(by_offset.clone()) + by_shape.clone().select(0, shape);
            let y: Vec<f32> = self.model.forward_after_first(h).into_data().to_vec().unwrap_or_default();
            y.chunks(3).map(|c| Vector3::new(c[0], c[1], c[2])).collect::<Vec<_>>()
        };
        let size = head.rows.len().div_ceil(rayon::current_num_threads().max(1)).clamp(1, CHUNK);
        head.rows.par_chunks(size).map(chunk_out).collect::<Vec<_>>().concat()
    }

    /// Corrects `rig`'s shapes in place. Returns the number of offsets corrected.
    pub fn refine(
        &self,
        template: &FaceTemplate,
        rig: &mut FaceRig,
        positions: &[Vector3<f32>],
        triangles: &[[u32; 3]],
        device: &B::Device,
    ) -> usize {
        let mut head = head_rows(template, rig, positions, triangles);
        head.rows.retain(|r| r.2.norm() >= MIN_ROW_MOTION);
        let corrections = self.head_corrections(&head, device);
        let from_pct = template.diagonal() / PERCENT;
        let s = rig.placement.similarity;
        for (&(v, k, _), c) in head.rows.iter().zip(&corrections) {
            let (i, k) = (head.vertices[v as usize], k as usize);
            let d = Vector3::from(rig.shapes[k].1[i]) + s.vector(&(c * from_pct));
            rig.shapes[k].1[i] = d.into();
        }
        head.rows.len()
    }

    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        fs::create_dir_all(dir)?;
        let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
        let tmp = dir.join(format!("{STEM}_partial"));
        self.model.clone().save_file(&tmp, &recorder)?;
        fs::rename(tmp.with_extension("mpk"), dir.join(format!("{STEM}.mpk")))?;
        let json = dir.join(format!("{STEM}.json.tmp"));
        fs::write(&json, serde_json::to_string_pretty(&self.config)?)?;
        fs::rename(json, dir.join(format!("{STEM}.json")))?;
        Ok(())
    }

    /// The refiner saved in `dir`.
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self, ModelError> {
        let path = dir.join(format!("{STEM}.json"));
        let text = fs::read_to_string(&path).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let config: FaceRefineConfig = serde_json::from_str(&text)?;
        let model = Mlp::new(INPUTS, &config.widths, 3, device);
        let model = model.load_file(dir.join(STEM), &NamedMpkFileRecorder::<FullPrecisionSettings>::new(), device)?;
        Ok(FaceRefiner { model, config })
    }
}

/// Per shape, the mean distance of `data`'s rows from the truth without and with `refiner`'s
/// corrections (percent of the template's diagonal), indexed as ARKit's 52.
pub fn shape_errors<B: Backend>(refiner: &FaceRefiner<B>, data: &RefineData, device: &B::Device) -> Vec<(f32, f32, usize)> {
    let corrections = refiner.corrections(&data.inputs, device);
    let mut out = vec![(0.0f32, 0.0f32, 0usize); ARKIT_52.len()];
    for ((input, want), c) in data.inputs.iter().zip(&data.wanted).zip(&corrections) {
        let Some(k) = input[VERTEX_FEATURES + 3..].iter().position(|v| *v > 0.5) else { continue };
        let want = Vector3::new(want[0], want[1], want[2]);
        out[k].0 += want.norm();
        out[k].1 += (want - c).norm();
        out[k].2 += 1;
    }
    out.iter_mut().filter(|e| e.2 > 0).for_each(|e| {
        e.0 /= e.2 as f32;
        e.1 /= e.2 as f32;
    });
    out
}

/// Training rows: inputs and wanted corrections (percent of the template's diagonal).
#[derive(Default)]
pub struct RefineData {
    pub inputs: Vec<Vec<f32>>,
    pub wanted: Vec<Vec<f32>>,
}

/// Trains a refiner on `train`, keeping the network with the best loss on `validation`.
pub fn train<B: AutodiffBackend>(
    config: FaceRefineConfig,
    train: &RefineData,
    validation: &RefineData,
    schedule: &Schedule,
    device: &B::Device,
    report: &mut dyn FnMut(usize, f32, f32) -> bool,
) -> Result<(FaceRefiner<B::InnerBackend>, TrainingReport), ModelError> {
    if train.inputs.is_empty() {
        return Err(ModelError::NoData("no face rows to train on".into()));
    }
    let model = Mlp::<B>::new(INPUTS, &config.widths, 3, device);
    // The distance between the corrected and the true offset, as the evaluation measures it:
    // squared errors would trade many small errors for a few large ones.
    let distance = |a: Tensor<B, 2>, b: Tensor<B, 2>, _x: Tensor<B, 2>| ((a - b).powf_scalar(2.0).sum_dim(1) + 1e-6).sqrt().mean();
    let (model, out) =
        fit(model, (&train.inputs, &train.wanted), (&validation.inputs, &validation.wanted), schedule, device, &distance, report);
    Ok((FaceRefiner { model: burn::module::AutodiffModule::valid(&model), config }, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuBackend;

    #[test]
    fn the_factored_corrections_match_the_network_on_whole_rows() {
        let device = Default::default();
        let refiner = FaceRefiner::<CpuBackend>::new(FaceRefineConfig::default(), &device);
        let mut head = HeadRows::default();
        for v in 0..7usize {
            head.vertices.push(100 + v);
            head.features.push(std::array::from_fn(|k| ((v * 31 + k * 7) % 13) as f32 * 0.1 - 0.6));
            for k in [0usize, 5, 17, 50] {
                head.rows.push((v as u32, k as u32, Vector3::new(v as f32 * 0.2, -0.3 * k as f32 / 50.0, 0.7)));
            }
        }
        let rows: Vec<Vec<f32>> = head.expanded().into_iter().map(|r| r.2).collect();
        let plain = refiner.corrections(&rows, &device);
        let factored = refiner.head_corrections(&head, &device);
        assert_eq!(plain.len(), factored.len());
        for (a, b) in plain.iter().zip(&factored) {
            assert!((a - b).norm() < 1e-5 * (1.0 + a.norm()), "{a:?} vs {b:?}");
        }
    }
}
