//! The face template: ICT-FaceKit's neutral head (MIT licence, USC Institute for Creative
//! Technologies), its parts, and its expressions as ARKit's 52 shapes.

use std::ops::Range;

use nalgebra::Vector3;

use super::arkit::{ict_sources, ARKIT_52};
use super::sphere::fit_sphere;
use super::FaceError;
use crate::mesh::Mesh;

/// What a template vertex belongs to. Transfer maps each input part onto one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Face, head, neck, eye sockets, mouth socket.
    Skin,
    /// Gums and tongue (one piece in ICT).
    Mouth,
    Teeth,
    EyeLeft,
    EyeRight,
    /// The wet line, blend strip and occlusion shell around an eye.
    EyeWet,
    Lashes,
}

/// ICT's vertex ranges (its README): the order of `generic_neutral_mesh.obj`.
const ICT_VERTICES: usize = 26_719;
const ICT_PARTS: [(Range<usize>, Class); 9] = [
    (0..14_062, Class::Skin),
    (14_062..17_039, Class::Mouth),
    (17_039..21_451, Class::Teeth),
    (21_451..23_021, Class::EyeLeft),
    (23_021..24_591, Class::EyeRight),
    (24_591..24_999, Class::EyeWet),
    (24_999..25_047, Class::EyeWet),
    (25_047..25_351, Class::EyeWet),
    (25_351..26_719, Class::Lashes),
];
/// ICT's front of the face, where registration pulls the template onto the input.
pub const ICT_FACE: Range<usize> = 0..9_409;
/// ICT's mouth socket (inside the lips), left out of the registration's data term.
pub const ICT_MOUTH_SOCKET: Range<usize> = 11_248..13_294;
/// ICT's skin (face, head and neck, sockets).
pub const ICT_SKIN: Range<usize> = 0..14_062;

/// One of the template's 52 shapes: per-vertex offsets at full weight.
#[derive(Debug, Clone)]
pub struct Shape {
    pub name: &'static str,
    pub deltas: Vec<Vector3<f32>>,
}

/// The neutral template head (centimetres, +Y up, looking along +Z, its left at +X).
#[derive(Debug, Clone)]
pub struct FaceTemplate {
    pub positions: Vec<Vector3<f32>>,
    pub triangles: Vec<[u32; 3]>,
    pub class: Vec<Class>,
    /// ARKit's 52, in ARKit's order.
    pub shapes: Vec<Shape>,
    /// Centres of the left and right eyeballs, and their radius.
    pub eye_centres: [Vector3<f32>; 2],
    pub eye_radius: f32,
}

impl FaceTemplate {
    /// The template from ICT-FaceKit's expression model as read from its GLB: one mesh whose
    /// parts concatenate to ICT's vertex order, with ICT's 57 expressions as morph targets.
    pub fn from_ict(mesh: &Mesh) -> Result<FaceTemplate, FaceError> {
        let n = mesh.positions.len();
        if n != ICT_VERTICES {
            return Err(FaceError::Template(format!("{n} vertices, not ICT's {ICT_VERTICES}")));
        }
        let positions: Vec<Vector3<f32>> = mesh.positions.iter().map(|p| Vector3::from(*p)).collect();
        let mut class = vec![Class::Skin; n];
        for (range, c) in ICT_PARTS.iter().cloned() {
            range.for_each(|i| class[i] = c);
        }
        let ict = ict_expressions(mesh)?;
        let find = |name: &str| ict.iter().find(|(n, _)| n == name).map(|(_, d)| d);
        let mut shapes = Vec::with_capacity(52);
        for name in ARKIT_52 {
            let mut deltas = vec![Vector3::zeros(); n];
            for source in ict_sources(name) {
                let d = find(&source).ok_or_else(|| FaceError::Template(format!("no expression {source}")))?;
                deltas.iter_mut().zip(d).for_each(|(a, b)| *a += b);
            }
            shapes.push(Shape { name, deltas });
        }
        let eye = |c: Class| {
            let pts: Vec<Vector3<f32>> = (0..n).filter(|&i| class[i] == c).map(|i| positions[i]).collect();
            fit_sphere(&pts)
        };
        let (left, right) = (eye(Class::EyeLeft), eye(Class::EyeRight));
        let mut template = FaceTemplate {
            positions,
            triangles: mesh.triangles.clone(),
            class,
            shapes,
            eye_centres: [left.centre, right.centre],
            eye_radius: 0.5 * (left.radius + right.radius),
        };
        template.shapes[ARKIT_52.len() - 1].deltas = tongue_out(&template);
        Ok(template)
    }

    /// Diagonal of the template's bounding box.
    pub fn diagonal(&self) -> f32 {
        let lo = self.positions.iter().fold(Vector3::repeat(f32::MAX), |a, p| a.inf(p));
        let hi = self.positions.iter().fold(Vector3::repeat(f32::MIN), |a, p| a.sup(p));
        (hi - lo).norm()
    }

    /// The centre of the template's bounding box.
    pub fn centre(&self) -> Vector3<f32> {
        let lo = self.positions.iter().fold(Vector3::repeat(f32::MAX), |a, p| a.inf(p));
        let hi = self.positions.iter().fold(Vector3::repeat(f32::MIN), |a, p| a.sup(p));
        (lo + hi) * 0.5
    }

    /// `shape`'s offset at the point of `triangle` with barycentric weights `bary`.
    pub fn offset_at(&self, shape: &Shape, triangle: usize, bary: &[f32; 3]) -> Vector3<f32> {
        (0..3).map(|k| shape.deltas[self.triangles[triangle][k] as usize] * bary[k]).sum()
    }

    /// The rest position at the point of `triangle` with barycentric weights `bary`.
    pub fn position_at(&self, triangle: usize, bary: &[f32; 3]) -> Vector3<f32> {
        (0..3).map(|k| self.positions[self.triangles[triangle][k] as usize] * bary[k]).sum()
    }

    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.iter().find(|s| s.name == name)
    }
}

/// A named shape's offsets, one per vertex of the whole mesh.
type Named = (String, Vec<Vector3<f32>>);

/// ICT's expressions by name, each with one offset per vertex of the whole mesh.
fn ict_expressions(mesh: &Mesh) -> Result<Vec<Named>, FaceError> {
    let names = mesh.groups.first().map(|g| g.morph_target_names.clone()).unwrap_or_default();
    if names.is_empty() {
        return Err(FaceError::Template("no morph targets".into()));
    }
    let mut out: Vec<(String, Vec<Vector3<f32>>)> =
        names.iter().map(|n| (n.clone(), vec![Vector3::zeros(); mesh.positions.len()])).collect();
    for part in &mesh.parts {
        for (k, target) in part.morph_targets.iter().enumerate().take(out.len()) {
            for (i, d) in target.position_deltas.iter().enumerate() {
                out[k].1[part.vertices.start as usize + i] = Vector3::from(*d);
            }
        }
    }
    Ok(out)
}

/// ICT has a tongue but no shape for it: the tongue (the gums-and-tongue vertices away from
/// the teeth) pushed out forwards, its tip furthest, by about a third of the mouth's width.
fn tongue_out(t: &FaceTemplate) -> Vec<Vector3<f32>> {
    let teeth: Vec<Vector3<f32>> = (0..t.positions.len()).filter(|&i| t.class[i] == Class::Teeth).map(|i| t.positions[i]).collect();
    let tongue: Vec<usize> = (0..t.positions.len())
        .filter(|&i| t.class[i] == Class::Mouth)
        .filter(|&i| teeth.iter().map(|q| (q - t.positions[i]).norm_squared()).fold(f32::MAX, f32::min) > 0.35f32.powi(2))
        .collect();
    let mut deltas = vec![Vector3::zeros(); t.positions.len()];
    let (back, front) = tongue.iter().map(|&i| t.positions[i].z).fold((f32::MAX, f32::MIN), |(lo, hi), z| (lo.min(z), hi.max(z)));
    let reach = 0.12 * t.diagonal();
    for &i in &tongue {
        let along = ((t.positions[i].z - back) / (front - back).max(1e-6)).clamp(0.0, 1.0);
        deltas[i] = Vector3::new(0.0, -0.15 * reach * along, reach * along * along);
    }
    deltas
}
