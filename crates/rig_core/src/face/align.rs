//! The template placed on the input by a similarity (rotation, uniform scale, translation):
//! iterative closest points from many starting orientations (the input's principal axes and
//! its own axes, each way round), keeping the one whose face lies closest to the input.

use nalgebra::{Matrix3, SymmetricEigen, Vector3};
use rayon::prelude::*;

use super::nearest::TriangleGrid;
use super::template::{FaceTemplate, ICT_FACE, ICT_MOUTH_SOCKET, ICT_SKIN};
use crate::task::{Cancelled, Task};

/// input = scale * rotation * template + translation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub rotation: Matrix3<f32>,
    pub scale: f32,
    pub translation: Vector3<f32>,
}

impl Similarity {
    pub fn apply(&self, p: &Vector3<f32>) -> Vector3<f32> {
        self.scale * (self.rotation * p) + self.translation
    }

    /// A template offset (a shape's delta) in the input's frame.
    pub fn vector(&self, v: &Vector3<f32>) -> Vector3<f32> {
        self.scale * (self.rotation * v)
    }
}

/// The best similarity and how far the template's face then lies from the input (mean of
/// the nearer 80 % of distances, as a share of the placed template's bounding-box diagonal),
/// and how far its nose tip does (same share): a boxy or flat shape can hold most of a face
/// but not its nose.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub similarity: Similarity,
    pub residual: f32,
    pub nose_gap: f32,
}

/// Input vertices the starting placements pair with.
const ROUGH_POINTS: usize = 3000;

/// The point of `pool` nearest `p`, and its distance.
fn nearest_point(pool: &[Vector3<f32>], p: &Vector3<f32>) -> Option<(Vector3<f32>, f32)> {
    pool.iter().map(|q| (*q, (q - p).norm_squared())).min_by(|a, b| a.1.total_cmp(&b.1)).map(|(q, d)| (q, d.sqrt()))
}

/// A closest-point look-up: a point of the input near the query, and its distance.
type Near<'a> = dyn Fn(&Vector3<f32>) -> Option<(Vector3<f32>, f32)> + Sync + 'a;

/// The template's face points, a sparser set of them, and its nose tip (the face's most
/// forward vertex).
struct Probe {
    sample: Vec<Vector3<f32>>,
    sparse: Vec<Vector3<f32>>,
    nose: Vector3<f32>,
    diagonal: f32,
}

/// Places the template on the input surface held by `grid` (built over `input`'s triangles):
/// from the input's centre and size, turned each of the 24 ways that map axes onto axes and
/// each of the 24 that map the template's principal axes onto the input's, a few rounds of
/// closest points of the template's face each; the best three go on, the best of them to the
/// end, and last the whole head's skin sets the scale.
pub fn place(template: &FaceTemplate, input: &[Vector3<f32>], grid: &TriangleGrid, task: &Task) -> Result<Placement, Cancelled> {
    // The starts begin far from the surface, where a closest-triangle search visits many
    // cells: they pair with the nearest of a few thousand of the input's vertices instead.
    let pool: Vec<Vector3<f32>> = input.iter().step_by(input.len().div_ceil(ROUGH_POINTS).max(1)).copied().collect();
    let rough = |p: &Vector3<f32>| nearest_point(&pool, p);
    let sample: Vec<Vector3<f32>> = ICT_FACE.step_by(6).map(|i| template.positions[i]).collect();
    let nose = ICT_FACE.map(|i| template.positions[i]).max_by(|a, b| a.z.total_cmp(&b.z)).unwrap_or_default();
    let probe = Probe { sparse: sample.iter().step_by(8).copied().collect(), sample, nose, diagonal: template.diagonal() };
    let skin: Vec<Vector3<f32>> = ICT_SKIN.map(|i| template.positions[i]).collect();
    let (c_t, r_t, axes_t) = moments(&skin);
    let (c_in, r_in, axes_in) = moments(input);
    let scale = r_in / r_t.max(1e-12);
    let turns = proper_signed_permutations();
    let rotations = turns.iter().copied().chain(turns.iter().map(|p| axes_in * p * axes_t.transpose()));
    let starts: Vec<Similarity> =
        rotations.map(|rotation| Similarity { rotation, scale, translation: c_in - scale * (rotation * c_t) }).collect();
    let exact = |p: &Vector3<f32>| grid.closest(p, |_| true).map(|h| (h.point, h.distance));
    let mut tried: Vec<Placement> = Vec::with_capacity(starts.len());
    for (k, start) in starts.iter().enumerate() {
        task.stage("placing the template", 0.3 * k as f32 / starts.len() as f32)?;
        tried.push(icp(&probe.sparse, &probe, &rough, *start, 4, 0.8));
    }
    tried.sort_by(|a, b| a.residual.total_cmp(&b.residual));
    let mut best: Option<Placement> = None;
    for (k, p) in tried.iter().take(3).enumerate() {
        task.stage("placing the template", 0.3 + 0.05 * k as f32)?;
        let placed = icp(&probe.sparse, &probe, &rough, p.similarity, 15, 0.8);
        if best.is_none_or(|b| placed.residual < b.residual) {
            best = Some(placed);
        }
    }
    let best = best.expect("starting orientations");
    task.stage("placing the template", 0.45)?;
    let face = icp(&probe.sample, &probe, &exact, best.similarity, 30, 0.9);
    // Last, the whole head's skin (not the inside of the mouth): the face alone tends to fit
    // a little small. The face's residual stays the measure of whether a face was found.
    task.stage("placing the template", 0.48)?;
    let head: Vec<Vector3<f32>> = ICT_SKIN.step_by(6).filter(|i| !ICT_MOUTH_SOCKET.contains(i)).map(|i| template.positions[i]).collect();
    let whole = icp(&head, &probe, &exact, face.similarity, 15, 0.9);
    Ok(Placement { residual: face.residual, ..whole })
}

/// `iterations` of closest points and the similarity that best maps `sample` onto them,
/// trusting the nearest `keep` share of pairs each time.
fn icp(sample: &[Vector3<f32>], probe: &Probe, near: &Near, mut s: Similarity, iterations: usize, keep: f32) -> Placement {
    let mut residual = f32::INFINITY;
    let start_scale = s.scale;
    for _ in 0..iterations {
        let mut pairs: Vec<(Vector3<f32>, Vector3<f32>, f32)> =
            sample.par_iter().filter_map(|p| near(&s.apply(p)).map(|(q, d)| (*p, q, d))).collect();
        if pairs.len() < 4 {
            break;
        }
        pairs.sort_by(|a, b| a.2.total_cmp(&b.2));
        pairs.truncate(((pairs.len() as f32 * keep) as usize).max(4));
        residual = pairs.iter().map(|p| p.2).sum::<f32>() / pairs.len() as f32 / (s.scale * probe.diagonal).max(1e-12);
        let (from, to): (Vec<_>, Vec<_>) = pairs.iter().map(|p| (p.0, p.1)).unzip();
        match umeyama(&from, &to) {
            // Shrinking onto a few points fits anything: such a start has failed.
            Some(next) if next.scale > 0.25 * start_scale && next.scale < 4.0 * start_scale => s = next,
            _ => {
                residual = f32::INFINITY;
                break;
            }
        }
    }
    let gap = near(&s.apply(&probe.nose)).map_or(f32::INFINITY, |(_, d)| d);
    Placement { similarity: s, residual, nose_gap: gap / (s.scale * probe.diagonal).max(1e-12) }
}

/// The similarity taking `from` onto `to` with the least squared error (Umeyama 1991).
pub fn umeyama(from: &[Vector3<f32>], to: &[Vector3<f32>]) -> Option<Similarity> {
    let n = from.len() as f64;
    let mf = from.iter().fold(Vector3::zeros(), |a, p| a + p.cast::<f64>()) / n;
    let mt = to.iter().fold(Vector3::zeros(), |a, p| a + p.cast::<f64>()) / n;
    let mut cov = Matrix3::<f64>::zeros();
    let mut var = 0.0;
    for (f, t) in from.iter().zip(to) {
        let (a, b) = (f.cast::<f64>() - mf, t.cast::<f64>() - mt);
        cov += b * a.transpose();
        var += a.norm_squared();
    }
    cov /= n;
    var /= n;
    if var <= 0.0 {
        return None;
    }
    let svd = cov.svd(true, true);
    let (u, v_t) = (svd.u?, svd.v_t?);
    let mut d = Matrix3::identity();
    if (u.determinant() * v_t.determinant()) < 0.0 {
        d[(2, 2)] = -1.0;
    }
    let rotation = u * d * v_t;
    let scale = (svd.singular_values.component_mul(&d.diagonal())).sum() / var;
    let translation = mt - scale * (rotation * mf);
    Some(Similarity { rotation: rotation.cast(), scale: scale as f32, translation: translation.cast() })
}

/// Centroid, root mean square distance from it, and principal axes (columns, a rotation).
fn moments(points: &[Vector3<f32>]) -> (Vector3<f32>, f32, Matrix3<f32>) {
    let n = points.len().max(1) as f32;
    let c = points.iter().fold(Vector3::zeros(), |a, p| a + p) / n;
    let cov = points.iter().fold(Matrix3::zeros(), |a, p| a + (p - c) * (p - c).transpose()) / n;
    let rms = cov.trace().sqrt();
    let eig = SymmetricEigen::new(cov);
    let mut order = [0usize, 1, 2];
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let mut axes = Matrix3::from_columns(&order.map(|i| eig.eigenvectors.column(i).into_owned()));
    if axes.determinant() < 0.0 {
        axes.column_mut(2).neg_mut();
    }
    (c, rms, axes)
}

/// The 24 rotations that map axes onto axes.
fn proper_signed_permutations() -> Vec<Matrix3<f32>> {
    let perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    let mut out = Vec::new();
    for p in perms {
        for signs in 0..8 {
            let mut m = Matrix3::zeros();
            for (row, &col) in p.iter().enumerate() {
                m[(row, col)] = if signs >> row & 1 == 1 { -1.0 } else { 1.0 };
            }
            if m.determinant() > 0.0 {
                out.push(m);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Rotation3;

    #[test]
    fn umeyama_recovers_a_similarity_and_there_are_24_axis_rotations() {
        let r = *Rotation3::from_euler_angles(0.3, -1.1, 2.0).matrix();
        let s = Similarity { rotation: r, scale: 2.5, translation: Vector3::new(1.0, -3.0, 0.25) };
        let from: Vec<Vector3<f32>> = (0..20).map(|i| Vector3::new((i as f32).sin(), (i as f32 * 0.7).cos(), i as f32 * 0.1)).collect();
        let to: Vec<Vector3<f32>> = from.iter().map(|p| s.apply(p)).collect();
        let got = umeyama(&from, &to).expect("solvable");
        assert!((got.rotation - r).norm() < 1e-4 && (got.scale - 2.5).abs() < 1e-4 && (got.translation - s.translation).norm() < 1e-4);
        assert_eq!(proper_signed_permutations().len(), 24);
    }
}
