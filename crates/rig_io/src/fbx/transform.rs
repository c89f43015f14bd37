//! FBX model transforms and the axis/unit conversion into Rigsmith's space.

use fbxcel::tree::v7400::NodeHandle;
use nalgebra::{Matrix3, Matrix4, Rotation3, Vector3};

use super::doc::{property, property_f64, property_vec3};

pub type M4 = Matrix4<f64>;

/// Rotation from Euler angles in degrees, applied in FBX's `order` (0 = XYZ: X first).
pub fn euler(deg: [f64; 3], order: i32) -> M4 {
    let [x, y, z] = deg.map(f64::to_radians);
    let rx = Rotation3::from_axis_angle(&Vector3::x_axis(), x);
    let ry = Rotation3::from_axis_angle(&Vector3::y_axis(), y);
    let rz = Rotation3::from_axis_angle(&Vector3::z_axis(), z);
    let r = match order {
        1 => ry * rz * rx, // XZY
        2 => rx * rz * ry, // YZX
        3 => rz * rx * ry, // YXZ
        4 => ry * rx * rz, // ZXY
        5 => rx * ry * rz, // ZYX
        _ => rz * ry * rx, // XYZ
    };
    r.to_homogeneous()
}

fn translation(v: [f64; 3]) -> M4 {
    M4::new_translation(&Vector3::from(v))
}

fn scaling(v: [f64; 3]) -> M4 {
    M4::new_nonuniform_scaling(&Vector3::from(v))
}

/// A model's local transform with FBX's full formula
/// `T * Roff * Rp * Rpre * R * Rpost^-1 * Rp^-1 * Soff * Sp * S * Sp^-1`, where the
/// animated values may override the static Lcl properties.
pub fn local_matrix(model: NodeHandle, t: Option<[f64; 3]>, r: Option<[f64; 3]>, s: Option<[f64; 3]>) -> M4 {
    let v = |name: &str, default: [f64; 3]| property_vec3(model, name).unwrap_or(default);
    let order = property_f64(model, "RotationOrder").unwrap_or(0.0) as i32;
    let t = t.unwrap_or_else(|| v("Lcl Translation", [0.0; 3]));
    let r = r.unwrap_or_else(|| v("Lcl Rotation", [0.0; 3]));
    let s = s.unwrap_or_else(|| v("Lcl Scaling", [1.0; 3]));
    let pre = euler(v("PreRotation", [0.0; 3]), 0);
    let post = euler(v("PostRotation", [0.0; 3]), 0);
    let (rp, roff) = (translation(v("RotationPivot", [0.0; 3])), translation(v("RotationOffset", [0.0; 3])));
    let (sp, soff) = (translation(v("ScalingPivot", [0.0; 3])), translation(v("ScalingOffset", [0.0; 3])));
    let inv = |m: &M4| m.try_inverse().unwrap_or_else(M4::identity);
    translation(t) * roff * rp * pre * euler(r, order) * inv(&post) * inv(&rp) * soff * sp * scaling(s) * inv(&sp)
}

/// The geometric (vertex-only) offset of a model: `T * R * S` of its Geometric properties.
pub fn geometric_matrix(model: NodeHandle) -> M4 {
    let v = |name: &str, default: [f64; 3]| property_vec3(model, name).unwrap_or(default);
    translation(v("GeometricTranslation", [0.0; 3])) * euler(v("GeometricRotation", [0.0; 3]), 0) * scaling(v("GeometricScaling", [1.0; 3]))
}

/// `ours_from_file`: the file's coordinate axis to +X, its up axis to +Y (right-handed, so
/// its front follows), and its unit to metres (UnitScaleFactor is centimetres per unit).
pub fn ours_from_file(global_settings: Option<NodeHandle>) -> (M4, f64) {
    let int = |name: &str, default: i32| {
        global_settings.and_then(|g| property(g, name)).and_then(|v| v.first()).and_then(super::doc::number).map_or(default, |x| x as i32)
    };
    let axis = |index: i32, sign: i32| {
        let mut v: Vector3<f64> = Vector3::zeros();
        v[index.clamp(0, 2) as usize] = if sign < 0 { -1.0 } else { 1.0 };
        v
    };
    let up = axis(int("UpAxis", 1), int("UpAxisSign", 1));
    let mut right = axis(int("CoordAxis", 0), int("CoordAxisSign", 1));
    if right.dot(&up).abs() > 0.5 {
        right = Vector3::x();
    }
    let front = right.cross(&up);
    // Rows: which file direction becomes each of our axes.
    let rotation = Matrix3::from_rows(&[right.transpose(), up.transpose(), front.transpose()]);
    let unit = global_settings.and_then(|g| property_f64(g, "UnitScaleFactor")).filter(|u| u.is_finite() && *u > 0.0).unwrap_or(1.0);
    let scale = unit / 100.0;
    let mut m = rotation.to_homogeneous();
    m.fixed_view_mut::<3, 3>(0, 0).scale_mut(scale);
    (m, scale)
}
