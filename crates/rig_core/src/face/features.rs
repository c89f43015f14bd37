//! What the learned refinement sees of each input vertex: where on the template it reads its
//! offsets, how far the input lies from the fitted template there, how both surfaces face,
//! which part it was matched to, and how much of the offsets it takes. Everything is in the
//! template's frame and scaled by its size, so the input's orientation and unit do not matter.

use nalgebra::Vector3;

use super::align::Similarity;
use super::template::{Class, FaceTemplate};
use super::FaceRig;

/// Numbers per vertex: rest position (3), input minus fitted template (3), input normal (3),
/// template normal (3), part (4: skin, mouth, teeth, lashes or the eyes' wet parts), fade (1).
pub const VERTEX_FEATURES: usize = 17;

/// Offsets in the template's frame are given in percent of its bounding-box diagonal.
pub const PERCENT: f32 = 100.0;

impl Similarity {
    /// An offset of the input's frame in the template's.
    pub fn vector_to_template(&self, v: &Vector3<f32>) -> Vector3<f32> {
        self.rotation.transpose() * v / self.scale
    }
}

/// The features of each input vertex the refinement corrects (`None`: not matched to the
/// template, or on an eyeball, which turns rather than deforms).
pub fn vertex_features(
    template: &FaceTemplate,
    rig: &FaceRig,
    positions: &[Vector3<f32>],
    triangles: &[[u32; 3]],
) -> Vec<Option<[f32; VERTEX_FEATURES]>> {
    let s = &rig.placement.similarity;
    let (centre, diag) = (template.centre(), template.diagonal());
    let normals = super::register::vertex_normals(positions, triangles);
    (0..positions.len())
        .map(|i| {
            let m = rig.matches[i]?;
            let part = match rig.class[i]? {
                Class::Skin => 0,
                Class::Mouth => 1,
                Class::Teeth => 2,
                Class::Lashes | Class::EyeWet => 3,
                Class::EyeLeft | Class::EyeRight => return None,
            };
            let tri = template.triangles[m.triangle];
            let rest = (template.position_at(m.triangle, &m.bary) - centre) * (2.0 / diag);
            let fitted: Vector3<f32> = (0..3).map(|k| rig.registered[tri[k] as usize] * m.bary[k]).sum();
            let gap = s.vector_to_template(&(positions[i] - fitted)) * (PERCENT / diag);
            let normal = s.rotation.transpose() * normals[i];
            let [a, b, c] = tri.map(|v| template.positions[v as usize]);
            let template_normal = (b - a).cross(&(c - a)).try_normalize(1e-20).unwrap_or_default();
            let mut f = [0.0; VERTEX_FEATURES];
            for k in 0..3 {
                f[k] = rest[k];
                f[3 + k] = gap[k];
                f[6 + k] = normal[k];
                f[9 + k] = template_normal[k];
            }
            f[12 + part] = 1.0;
            f[16] = m.fade;
            Some(f)
        })
        .collect()
}
