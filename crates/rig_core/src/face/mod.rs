//! Face rigs: ARKit's 52 blendshapes for a head mesh of any topology, transferred from a
//! template head (ICT-FaceKit's) that is placed on the input (a similarity found by closest
//! points from many orientations), fitted to its surface (non-rigid registration), and whose
//! expression offsets are then read at each input vertex's closest template point. Eyeballs
//! found among the input's parts turn for the gaze shapes.

pub mod align;
pub mod arkit;
pub mod features;
pub mod health;
pub mod nearest;
pub mod register;
pub mod sphere;
pub mod template;
pub mod transfer;

use nalgebra::{Rotation3, Unit, Vector3};

use crate::mesh::{Mesh, MorphTarget};
use crate::task::{Cancelled, Task};
pub use align::{Placement, Similarity};
pub use arkit::{Region, ARKIT_52};
pub use template::{Class, FaceTemplate};
pub use transfer::Match;

#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("the face template is not ICT-FaceKit's expression model: {0}")]
    Template(String),
    #[error("no face found: {0}")]
    NoFace(String),
    #[error("cannot rig this mesh: {0}")]
    Input(String),
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

/// A placed template farther than this from the input (mean of the nearer 80 % of its face's
/// distances, as a share of its diagonal) has found no face.
const MAX_RESIDUAL: f32 = 0.008;
/// The placed template's nose tip farther than this from the input (share of its diagonal)
/// has found no face: a flat or boxy shape can hold most of a face but not its nose.
const MAX_NOSE_GAP: f32 = 0.02;
/// Heads with more vertices are refused (memory and time grow with them; a head needs far fewer).
pub const MAX_VERTICES: usize = 2_000_000;
/// How far the eyeballs turn for the full gaze shapes (degrees): sideways, up, down.
const GAZE_DEGREES: [f32; 3] = [30.0, 25.0, 25.0];

/// The 52 shapes for an input mesh, and how they were found.
#[derive(Debug, Clone)]
pub struct FaceRig {
    /// ARKit's names, in ARKit's order, each with one offset per input vertex.
    pub shapes: Vec<(String, Vec<[f32; 3]>)>,
    pub placement: Placement,
    /// The template's vertices fitted onto the input (input frame).
    pub registered: Vec<Vector3<f32>>,
    /// Input vertices matched to the template's skin, and input parts taken for eyeballs.
    pub face_vertices: usize,
    pub eyeballs: usize,
    /// The template part each input vertex was matched to (`None`: not part of the face).
    pub class: Vec<Option<Class>>,
    /// Where each input vertex read its offsets on the template.
    pub matches: Vec<Option<Match>>,
}

/// The face rig of `mesh` from `template`.
pub fn face_rig(mesh: &Mesh, template: &FaceTemplate, task: &Task) -> Result<FaceRig, FaceError> {
    if mesh.triangles.is_empty() {
        return Err(FaceError::NoFace("the mesh has no triangles".into()));
    }
    if mesh.positions.len() > MAX_VERTICES {
        return Err(FaceError::Input(format!(
            "{} vertices: face rigs take heads of up to {MAX_VERTICES} (decimate the head first)",
            mesh.positions.len()
        )));
    }
    if let Some(v) = mesh.positions.iter().position(|p| !p.iter().all(|x| x.is_finite())) {
        return Err(FaceError::Input(format!("vertex {v} is not a finite position ({:?}); fix or remove it", mesh.positions[v])));
    }
    let positions: Vec<Vector3<f32>> = mesh.positions.iter().map(|p| Vector3::from(*p)).collect();
    let grid = nearest::TriangleGrid::new(&positions, &mesh.triangles, |_| true);
    let placement = align::place(template, &positions, &grid, task)?;
    if placement.residual > MAX_RESIDUAL {
        return Err(FaceError::NoFace(format!(
            "the template face lies {:.1}% of its size from the mesh at best (a face is within {:.1}%); give a head mesh (a head on a body: cut the head off first)",
            100.0 * placement.residual,
            100.0 * MAX_RESIDUAL
        )));
    }
    let gap = placement.nose_gap;
    if gap > MAX_NOSE_GAP {
        return Err(FaceError::NoFace(format!(
            "nothing stands out where the template's nose is ({:.1}% of the head's size away); give a head mesh",
            100.0 * gap
        )));
    }
    let registered = register::register(template, &placement.similarity, &grid, task)?;
    task.stage("transferring the shapes", 0.9)?;
    let mut moved = transfer::transfer(template, &registered, &placement.similarity, &positions, &mesh.triangles);
    let eyeballs = turn_eyes(template, &placement.similarity, &positions, &moved.class, &mut moved.deltas);
    let face_vertices = moved.class.iter().filter(|c| **c == Some(Class::Skin)).count();
    let (class, matches) = (moved.class, moved.matches);
    let shapes =
        template.shapes.iter().zip(moved.deltas).map(|(s, d)| (s.name.to_string(), d.into_iter().map(Into::into).collect())).collect();
    Ok(FaceRig { shapes, placement, registered, face_vertices, eyeballs, class, matches })
}

/// Adds the eyeballs' turn to the gaze shapes: each input part taken for an eyeball turns
/// about its own fitted centre. Returns how many eyeballs turn.
fn turn_eyes(
    template: &FaceTemplate,
    s: &Similarity,
    positions: &[Vector3<f32>],
    class: &[Option<Class>],
    deltas: &mut [Vec<Vector3<f32>>],
) -> usize {
    let (up, left, front) = (s.rotation * Vector3::y(), s.rotation * Vector3::x(), s.rotation * Vector3::z());
    let mut turned = 0;
    for (eye, side) in [(Class::EyeLeft, "Left"), (Class::EyeRight, "Right")] {
        let idx: Vec<usize> = (0..positions.len()).filter(|&i| class[i] == Some(eye)).collect();
        if idx.len() < 8 {
            continue;
        }
        let pts: Vec<Vector3<f32>> = idx.iter().map(|&i| positions[i]).collect();
        let fit = sphere::fit_sphere(&pts);
        let template_centre = s.apply(&template.eye_centres[if eye == Class::EyeLeft { 0 } else { 1 }]);
        let centre = if fit.rms < 0.15 { fit.centre } else { template_centre };
        // Out is towards the eye's own side: +X (the face's left) for the left eye.
        let out = if eye == Class::EyeLeft { left } else { -left };
        let [side_deg, up_deg, down_deg] = GAZE_DEGREES;
        for (look, towards, degrees) in [("Out", out, side_deg), ("In", -out, side_deg), ("Up", up, up_deg), ("Down", -up, down_deg)] {
            let Some(k) = ARKIT_52.iter().position(|n| *n == format!("eyeLook{look}{side}")) else { continue };
            let axis = Unit::new_normalize(front.cross(&towards));
            let r = Rotation3::from_axis_angle(&axis, degrees.to_radians());
            for &i in &idx {
                deltas[k][i] += r * (positions[i] - centre) + centre - positions[i];
            }
        }
        turned += 1;
    }
    turned
}

/// Writes the shapes into `mesh` as morph targets of every source mesh, after the targets it
/// already has (targets with ARKit's names are replaced).
pub fn apply(mesh: &mut Mesh, rig: &FaceRig) {
    for (g, group) in mesh.groups.iter_mut().enumerate() {
        let keep: Vec<usize> =
            (0..group.morph_target_names.len()).filter(|&k| !ARKIT_52.contains(&group.morph_target_names[k].as_str())).collect();
        group.morph_target_names =
            keep.iter().map(|&k| group.morph_target_names[k].clone()).chain(rig.shapes.iter().map(|(n, _)| n.clone())).collect();
        let weights = &group.morph_default_weights;
        group.morph_default_weights =
            keep.iter().map(|&k| weights.get(k).copied().unwrap_or(0.0)).chain(rig.shapes.iter().map(|_| 0.0)).collect();
        for part in mesh.parts.iter_mut().filter(|p| p.group == g) {
            let range = part.vertices.start as usize..part.vertices.end as usize;
            let old = std::mem::take(&mut part.morph_targets);
            part.morph_targets = keep.iter().map(|&k| old.get(k).cloned().unwrap_or_default()).collect();
            part.morph_targets
                .extend(rig.shapes.iter().map(|(_, d)| MorphTarget { position_deltas: d[range.clone()].to_vec(), normal_deltas: vec![] }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> FaceTemplate {
        // Not read: the input checks come before the template is used.
        FaceTemplate {
            positions: vec![],
            triangles: vec![],
            class: vec![],
            shapes: vec![],
            eye_centres: [Vector3::zeros(); 2],
            eye_radius: 0.0,
        }
    }

    #[test]
    fn too_many_vertices_and_a_nan_are_refused_before_any_work() {
        let mut mesh = Mesh { positions: vec![[0.0; 3]; MAX_VERTICES + 1], triangles: vec![[0, 1, 2]], ..Default::default() };
        let err = face_rig(&mesh, &template(), &Task::silent()).expect_err("refused");
        assert!(matches!(err, FaceError::Input(ref m) if m.contains("decimate")), "{err}");
        mesh.positions.truncate(3);
        mesh.positions[1] = [f32::NAN, 0.0, 0.0];
        let err = face_rig(&mesh, &template(), &Task::silent()).expect_err("refused");
        assert!(matches!(err, FaceError::Input(ref m) if m.contains("vertex 1")), "{err}");
    }
}
