//! Dual-quaternion skinning (Kavan et al. 2007): blends each vertex's joint transforms as unit
//! dual quaternions, so twists keep volume where linear blending collapses. A rig deformed this
//! way is not exactly reachable by linear blend skinning: inversion then finds the nearest LBS
//! pose.

use nalgebra::{Matrix3, Quaternion, UnitQuaternion, Vector3};

use crate::weights::SkinWeights;
use crate::Mat4;

/// A rigid transform as a unit dual quaternion `real + eps * dual`.
#[derive(Debug, Clone, Copy)]
struct DualQuat {
    real: Quaternion<f64>,
    dual: Quaternion<f64>,
}

impl DualQuat {
    /// The rotation and translation of an affine matrix (scale and shear dropped).
    fn of(m: &Mat4) -> DualQuat {
        let linear: Matrix3<f64> = m.fixed_view::<3, 3>(0, 0).into_owned().cast();
        let rotation = UnitQuaternion::from_rotation_matrix(&crate::transform::nearest_rotation(&linear)).into_inner();
        let t = Quaternion::new(0.0, m[(0, 3)] as f64, m[(1, 3)] as f64, m[(2, 3)] as f64);
        DualQuat { real: rotation, dual: t * rotation * 0.5 }
    }

    fn transform(&self, p: Vector3<f64>) -> Vector3<f64> {
        let norm = self.real.norm().max(1e-300);
        let (real, dual) = (self.real / norm, self.dual / norm);
        let rotated = UnitQuaternion::new_unchecked(real) * p;
        let t = (dual * real.conjugate()) * 2.0;
        rotated + t.imag()
    }
}

/// Deforms `positions` by dual-quaternion blending of `model_from_mesh` (one per joint);
/// vertices without weights keep their position.
pub fn dqs_positions(positions: &[[f32; 3]], weights: &SkinWeights, model_from_mesh: &[Mat4]) -> Vec<[f32; 3]> {
    let quats: Vec<DualQuat> = model_from_mesh.iter().map(DualQuat::of).collect();
    positions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (joints, w) = if i < weights.vertex_count() { weights.row(i) } else { (&[][..], &[][..]) };
            let Some(&first) = joints.first() else { return *p };
            let pivot = quats[first as usize].real;
            let mut blend = DualQuat { real: Quaternion::new(0.0, 0.0, 0.0, 0.0), dual: Quaternion::new(0.0, 0.0, 0.0, 0.0) };
            for (&j, &wt) in joints.iter().zip(w) {
                let q = quats[j as usize];
                let sign = if q.real.dot(&pivot) < 0.0 { -1.0 } else { 1.0 };
                blend.real += q.real * (sign * wt as f64);
                blend.dual += q.dual * (sign * wt as f64);
            }
            let out = blend.transform(Vector3::new(p[0] as f64, p[1] as f64, p[2] as f64));
            [out.x as f32, out.y as f32, out.z as f32]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::Trs;

    #[test]
    fn one_influence_is_the_rigid_transform_and_blends_keep_length_in_a_twist() {
        let a =
            Trs { translation: Vector3::new(0.5, -1.0, 2.0), rotation: UnitQuaternion::from_euler_angles(0.3, -0.2, 1.1), ..Trs::IDENTITY };
        let m = a.to_matrix();
        let w = SkinWeights::from_rows(vec![vec![(0u32, 1.0f32)]]);
        let p = [0.3, 0.7, -0.2];
        let out = dqs_positions(&[p], &w, &[m])[0];
        let expect = m.transform_point(&nalgebra::Point3::from(p));
        assert!((0..3).all(|k| (out[k] - expect[k]).abs() < 1e-5), "{out:?} vs {expect:?}");
        // A half-and-half blend of 0 and 170 degrees about X keeps the point's distance from
        // the axis, where linear blending shrinks it to about a tenth.
        let twist = Trs { rotation: UnitQuaternion::from_euler_angles(170f32.to_radians(), 0.0, 0.0), ..Trs::IDENTITY }.to_matrix();
        let w = SkinWeights::from_rows(vec![vec![(0u32, 0.5f32), (1, 0.5)]]);
        let q = dqs_positions(&[[0.0, 1.0, 0.0]], &w, &[Mat4::identity(), twist])[0];
        assert!(((q[1] * q[1] + q[2] * q[2]).sqrt() - 1.0).abs() < 1e-5, "{q:?}");
    }
}
