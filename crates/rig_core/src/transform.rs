//! Translation / rotation / scale transforms, the form joints and animation keys take.

use nalgebra::{Matrix3, Matrix4, Rotation3, UnitQuaternion, Vector3};

/// A local transform as translation, rotation and non-uniform scale: `T * R * S`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trs {
    pub translation: Vector3<f32>,
    pub rotation: UnitQuaternion<f32>,
    pub scale: Vector3<f32>,
}

impl Default for Trs {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl Trs {
    pub const IDENTITY: Trs = Trs {
        translation: Vector3::new(0.0, 0.0, 0.0),
        rotation: UnitQuaternion::new_unchecked(nalgebra::Quaternion::new(1.0, 0.0, 0.0, 0.0)),
        scale: Vector3::new(1.0, 1.0, 1.0),
    };

    /// The matrix `T * R * S` (column vectors).
    pub fn to_matrix(&self) -> Matrix4<f32> {
        let mut m = self.rotation.to_homogeneous();
        for c in 0..3 {
            for r in 0..3 {
                m[(r, c)] *= self.scale[c];
            }
            m[(c, 3)] = self.translation[c];
        }
        m
    }

    /// Splits an affine matrix into T, R, S. Shear is lost; a negative determinant is kept
    /// as a negative X scale. Returns `None` for a matrix with a zero or non-finite scale.
    pub fn from_matrix(m: &Matrix4<f32>) -> Option<Trs> {
        if m.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let translation = Vector3::new(m[(0, 3)], m[(1, 3)], m[(2, 3)]);
        let linear: Matrix3<f32> = m.fixed_view::<3, 3>(0, 0).into_owned();
        let mut scale = Vector3::new(linear.column(0).norm(), linear.column(1).norm(), linear.column(2).norm());
        if scale.iter().any(|s| *s <= f32::EPSILON) {
            return None;
        }
        if linear.determinant() < 0.0 {
            scale.x = -scale.x;
        }
        let mut rot = linear;
        for c in 0..3 {
            let s = scale[c];
            rot.column_mut(c).scale_mut(1.0 / s);
        }
        let rotation = UnitQuaternion::from_rotation_matrix(&nearest_rotation(&rot));
        Some(Trs { translation, rotation, scale })
    }

    pub fn is_finite(&self) -> bool {
        self.translation.iter().all(|v| v.is_finite())
            && self.rotation.coords.iter().all(|v| v.is_finite())
            && self.scale.iter().all(|v| v.is_finite())
    }
}

/// The translation column of an affine matrix (a joint's position, for a model_from_joint).
pub fn translation(m: &Matrix4<f32>) -> Vector3<f32> {
    Vector3::new(m[(0, 3)], m[(1, 3)], m[(2, 3)])
}

/// The rotation nearest `m` (a rotation up to rounding, or a scaled or sheared one), by a
/// bounded number of nalgebra's refinement steps: `Rotation3::from_matrix` has no bound and
/// never ends on some scaled or sheared matrices.
pub fn nearest_rotation<T: nalgebra::RealField + Copy>(m: &Matrix3<T>) -> Rotation3<T> {
    Rotation3::from_matrix_eps(m, T::default_epsilon(), 100, Rotation3::identity())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_round_trip() {
        let trs = Trs {
            translation: Vector3::new(1.0, -2.0, 3.5),
            rotation: UnitQuaternion::from_euler_angles(0.3, -1.1, 2.0),
            scale: Vector3::new(0.5, 2.0, 1.5),
        };
        let back = Trs::from_matrix(&trs.to_matrix()).expect("decomposes");
        assert!((back.to_matrix() - trs.to_matrix()).abs().max() < 1e-5);
    }

    #[test]
    fn to_matrix_is_t_r_s() {
        let trs = Trs {
            translation: Vector3::new(1.0, 2.0, 3.0),
            rotation: UnitQuaternion::from_euler_angles(0.2, 0.4, 0.6),
            scale: Vector3::new(2.0, 3.0, 4.0),
        };
        let expected =
            Matrix4::new_translation(&trs.translation) * trs.rotation.to_homogeneous() * Matrix4::new_nonuniform_scaling(&trs.scale);
        assert!((expected - trs.to_matrix()).abs().max() < 1e-6);
    }

    #[test]
    fn zero_scale_is_rejected() {
        let m = Matrix4::new_nonuniform_scaling(&Vector3::new(1.0, 0.0, 1.0));
        assert!(Trs::from_matrix(&m).is_none());
    }
}
