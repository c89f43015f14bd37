//! The rig: a mesh, its skeleton, its skin weights, its clips and its materials.

use crate::animation::Clip;
use crate::error::RigError;
use crate::material::MaterialLibrary;
use crate::mesh::Mesh;
use crate::skeleton::Skeleton;
use crate::weights::SkinWeights;
use crate::Mat4;

/// A rigged character. An unrigged mesh has an empty skeleton and empty weight rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rig {
    pub name: String,
    pub mesh: Mesh,
    pub skeleton: Skeleton,
    /// One row per mesh vertex; indices into `skeleton.joints`.
    pub weights: SkinWeights,
    pub clips: Vec<Clip>,
    pub materials: MaterialLibrary,
}

impl Rig {
    /// A rig for a bare mesh: no joints, no weights.
    pub fn unrigged(name: impl Into<String>, mesh: Mesh, materials: MaterialLibrary) -> Rig {
        let weights = SkinWeights::empty(mesh.vertex_count());
        Rig { name: name.into(), mesh, skeleton: Skeleton::default(), weights, clips: Vec::new(), materials }
    }

    /// Checks that every index points somewhere and every number is finite.
    pub fn validate(&self) -> Result<(), RigError> {
        self.mesh.validate()?;
        self.skeleton.validate()?;
        self.weights.validate(self.mesh.vertex_count(), self.skeleton.len())?;
        Ok(())
    }

    /// Marks joints that carry no weight as non-deforming (when any joint carries weight): the
    /// closest glTF has to Blender's per-bone Deform flag, since exporters list every bone in
    /// the skin. Returns how many joints changed.
    pub fn mark_unweighted_joints_non_deforming(&mut self) -> usize {
        let counts = self.weights.vertices_per_joint(self.skeleton.len());
        self.skeleton.mark_uninfluential_non_deforming(&counts)
    }

    /// Vertices that belong to skinned parts but have no influence.
    pub fn unweighted_skinned_vertices(&self) -> usize {
        self.mesh
            .parts
            .iter()
            .filter(|p| p.skinned)
            .flat_map(|p| p.vertices.clone())
            .filter(|&v| self.weights.row(v as usize).0.is_empty())
            .count()
    }

    /// Where the file's own scene puts the mesh: glTF skins ignore the mesh node, so the stored
    /// vertices sit in the skeleton's bind space, which a parent node may turn (CesiumMan's Z_UP).
    /// When every deforming joint's rest skinning matrix (`rest model_from_joint * joint_from_mesh`)
    /// is the same rigid transform, that transform shows the character the way other viewers do.
    /// When rest and bind differ joint by joint (a rest pose that is not the bind pose), the
    /// quarter turn most joints share is used (Blender's Z-up exports turn the armature upright);
    /// with no such majority the mesh is shown as stored.
    pub fn display_from_mesh(&self) -> Mat4 {
        let s = &self.skeleton;
        let rest = s.model_from_joints_rest();
        let skins: Vec<Mat4> = rest.iter().zip(&s.joints).filter(|(_, j)| j.deform).map(|(m, j)| m * j.joint_from_mesh).collect();
        let usable = |m: &Mat4| m.iter().all(|v| v.is_finite()) && m.fixed_view::<3, 3>(0, 0).determinant().abs() > 1e-9;
        if let Some(first) = skins.first().filter(|m| usable(m)) {
            if skins.iter().all(|m| (first - m).abs().max() <= 1e-3 * first.abs().max().max(1.0)) {
                return *first;
            }
        }
        shared_quarter_turn(&skins).unwrap_or_else(Mat4::identity)
    }

    /// The mesh-space direction that the file's scene shows as up (+Y of the display).
    pub fn up_direction(&self) -> [f32; 3] {
        let m = self.display_from_mesh();
        let inv = m.fixed_view::<3, 3>(0, 0).try_inverse().unwrap_or_else(nalgebra::Matrix3::identity);
        let up = inv * nalgebra::Vector3::y();
        let n = up.norm();
        if n > 0.0 && n.is_finite() {
            (up / n).into()
        } else {
            [0.0, 1.0, 0.0]
        }
    }
}

/// The rotation by quarter turns that more than half of `skins` are within 30 degrees of, with
/// their median uniform scale and median translation; `None` when there is no such majority.
/// Matrices with a clearly non-uniform scale or shear take no part.
fn shared_quarter_turn(skins: &[Mat4]) -> Option<Mat4> {
    type Votes = Vec<(nalgebra::Matrix3<f32>, Vec<(f32, nalgebra::Vector3<f32>)>)>;
    let mut votes: Votes = Vec::new();
    for m in skins {
        let m3 = m.fixed_view::<3, 3>(0, 0).into_owned();
        let scale = m3.determinant().abs().cbrt();
        if !(scale.is_finite() && scale > 0.0) || m3.column_iter().any(|c| (c.norm() / scale - 1.0).abs() > 0.1) {
            continue;
        }
        let Some(turn) = snap_to_quarter_turns(&(m3 / scale)) else { continue };
        let entry = (scale, nalgebra::Vector3::new(m[(0, 3)], m[(1, 3)], m[(2, 3)]));
        match votes.iter_mut().find(|(t, _)| *t == turn) {
            Some((_, members)) => members.push(entry),
            None => votes.push((turn, vec![entry])),
        }
    }
    let (turn, members) = votes.into_iter().max_by_key(|(_, m)| m.len())?;
    if members.len() * 2 <= skins.len() {
        return None;
    }
    let median = |mut v: Vec<f32>| {
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    let scale = median(members.iter().map(|e| e.0).collect());
    let t = nalgebra::Vector3::from_fn(|i, _| median(members.iter().map(|e| e.1[i]).collect()));
    let mut out = (turn * scale).to_homogeneous();
    out.fixed_view_mut::<3, 1>(0, 3).copy_from(&t);
    Some(out)
}

/// The signed axis permutation (a proper rotation) nearest to `r`, if `r` is within 30 degrees
/// of it.
fn snap_to_quarter_turns(r: &nalgebra::Matrix3<f32>) -> Option<nalgebra::Matrix3<f32>> {
    let mut snapped = nalgebra::Matrix3::zeros();
    for c in 0..3 {
        let col = r.column(c);
        let row = (0..3).max_by(|&a, &b| col[a].abs().total_cmp(&col[b].abs()))?;
        snapped[(row, c)] = col[row].signum();
    }
    let proper = (snapped.determinant() - 1.0).abs() < 1e-3;
    // The angle between r and the snapped rotation: trace(S^T r) = 1 + 2 cos(angle).
    let cos = ((snapped.transpose() * r).trace() - 1.0) / 2.0;
    (proper && cos >= 30f32.to_radians().cos()).then_some(snapped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skeleton::Joint;
    use crate::transform::Trs;
    use nalgebra::{Rotation3, UnitQuaternion, Vector3};

    /// A chain whose armature turns a Z-up bind space upright, with a rest pose that bends
    /// every joint a little away from the bind pose (as Quaternius' exports do).
    #[test]
    fn a_turned_armature_with_a_posed_rest_is_shown_upright() {
        let upright = Rotation3::from_axis_angle(&Vector3::x_axis(), -std::f32::consts::FRAC_PI_2);
        let mut skeleton = Skeleton::default();
        for i in 0..5usize {
            let bend = UnitQuaternion::from_axis_angle(&Vector3::y_axis(), 0.05 * i as f32);
            let rotation = if i == 0 { UnitQuaternion::from_rotation_matrix(&upright) * bend } else { bend };
            let rest_local =
                Trs { translation: Vector3::new(0.0, 0.0, if i == 0 { 0.0 } else { 0.3 }), rotation, scale: Vector3::repeat(1.0) };
            skeleton.joints.push(Joint {
                name: format!("j{i}"),
                parent: i.checked_sub(1),
                rest_local,
                joint_from_mesh: Mat4::identity(),
                deform: true,
            });
        }
        // Bind: the same chain straight and without the armature's turn.
        let mut acc = Mat4::identity();
        for j in &mut skeleton.joints {
            acc *= Mat4::new_translation(&j.rest_local.translation);
            j.joint_from_mesh = acc.try_inverse().expect("translation");
        }
        let rig = Rig { skeleton, ..Default::default() };
        let up = rig.up_direction();
        assert!((up[2] - 1.0).abs() < 1e-5, "mesh-space +Z shows as up, got {up:?}");
    }
}
