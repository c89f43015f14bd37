//! Least-squares spheres (eyeballs).

use nalgebra::{Matrix4, Vector3, Vector4};

#[derive(Debug, Clone, Copy)]
pub struct Sphere {
    pub centre: Vector3<f32>,
    pub radius: f32,
    /// Root mean square of the points' distances from the sphere, as a share of its radius.
    pub rms: f32,
}

/// The sphere through `points` in the least-squares sense (|p|^2 = 2 c.p + k, solved for c, k).
pub fn fit_sphere(points: &[Vector3<f32>]) -> Sphere {
    let mut a = Matrix4::<f64>::zeros();
    let mut b = Vector4::<f64>::zeros();
    for p in points {
        let row = Vector4::new(2.0 * p.x as f64, 2.0 * p.y as f64, 2.0 * p.z as f64, 1.0);
        a += row * row.transpose();
        b += row * p.cast::<f64>().norm_squared();
    }
    let mean = points.iter().fold(Vector3::zeros(), |s, p| s + p) / points.len().max(1) as f32;
    let Some(x) = a.try_inverse().map(|inv| inv * b) else {
        return Sphere { centre: mean, radius: 0.0, rms: f32::INFINITY };
    };
    let centre = Vector3::new(x[0] as f32, x[1] as f32, x[2] as f32);
    let radius = ((x[3] + centre.cast::<f64>().norm_squared()).max(0.0).sqrt()) as f32;
    let ms = points.iter().map(|p| ((p - centre).norm() - radius).powi(2)).sum::<f32>() / points.len().max(1) as f32;
    Sphere { centre, radius, rms: ms.sqrt() / radius.max(1e-12) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_on_a_sphere_give_it_back() {
        let c = Vector3::new(1.0, -2.0, 0.5);
        let pts: Vec<Vector3<f32>> = (0..200)
            .map(|i| {
                let (u, v) = (i as f32 * 0.37, i as f32 * 0.11);
                c + 1.5 * Vector3::new(u.cos() * v.sin(), u.sin() * v.sin(), v.cos())
            })
            .collect();
        let s = fit_sphere(&pts);
        assert!((s.centre - c).norm() < 1e-3 && (s.radius - 1.5).abs() < 1e-3 && s.rms < 1e-3, "{s:?}");
    }
}
