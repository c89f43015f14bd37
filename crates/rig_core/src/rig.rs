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
    /// Where the source file's scene puts the stored mesh, when the file says so: FBX places
    /// the geometry by its model, so the reader stores it in scene space (identity). glTF
    /// leaves a skinned mesh's placement to the viewer (`None`: [`Rig::display_from_mesh`]
    /// infers it from the skin).
    pub scene_from_mesh: Option<Mat4>,
}

impl Rig {
    /// A rig for a bare mesh: no joints, no weights.
    pub fn unrigged(name: impl Into<String>, mesh: Mesh, materials: MaterialLibrary) -> Rig {
        let weights = SkinWeights::empty(mesh.vertex_count());
        Rig { name: name.into(), mesh, skeleton: Skeleton::default(), weights, clips: Vec::new(), materials, scene_from_mesh: None }
    }

    /// Checks that every index points somewhere and every number is finite.
    pub fn validate(&self) -> Result<(), RigError> {
        self.mesh.validate()?;
        self.skeleton.validate()?;
        self.weights.validate(self.mesh.vertex_count(), self.skeleton.len())?;
        let count = self.materials.materials.len();
        if let Some(p) = self.mesh.parts.iter().find(|p| p.material.is_some_and(|m| m >= count)) {
            return Err(RigError::MaterialOutOfRange { part: p.name.clone(), material: p.material.unwrap_or(0), count });
        }
        Ok(())
    }

    /// Marks joints that carry no weight as non-deforming (when any joint carries weight): the
    /// closest glTF has to Blender's per-bone Deform flag, since exporters list every bone in
    /// the skin. Returns how many joints changed.
    pub fn mark_unweighted_joints_non_deforming(&mut self) -> usize {
        let counts = self.weights.vertices_per_joint(self.skeleton.len());
        self.skeleton.mark_uninfluential_non_deforming(&counts)
    }

    /// Stores the mesh at its skeleton's scale when the skin binds it at another one. A skin's
    /// inverse bind matrices may leave out a scale that the nodes above the joints apply
    /// (three.js' RobotExpressive and many Quaternius files: an armature node scales by 100,
    /// the bind matrices do not), so the root joint's rest skinning matrix (`rest
    /// model_from_joint * joint_from_mesh`) scales the stored vertices, and exporters and other
    /// tools see joints 100 times further apart than the mesh they bind. This scales the
    /// vertices of skinned and rigidly bound parts (and their morph deltas) by that matrix's
    /// uniform scale and every inverse bind matrix by its inverse: posed positions do not
    /// change, and rotations between mesh and model space are left to
    /// [`Rig::display_from_mesh`]. Static parts live in the same mesh space and scale with the
    /// rest. Returns the scale applied, or None when the root binds at scale 1 (within 1e-3),
    /// which leaves the rig alone.
    pub fn adopt_skeleton_scale(&mut self) -> Option<f32> {
        let s = &self.skeleton;
        let root = (0..s.len()).find(|&j| s.joints[j].deform)?;
        let model_from_mesh = s.model_from_joints_rest()[root] * s.joints[root].joint_from_mesh;
        let scale = model_from_mesh.fixed_view::<3, 3>(0, 0).determinant().abs().cbrt();
        if !scale.is_finite() || scale <= 1e-12 || (scale - 1.0).abs() <= 1e-3 {
            return None;
        }
        let scaled = |v: &mut [f32; 3]| v.iter_mut().for_each(|x| *x *= scale);
        for part in self.mesh.parts.iter_mut() {
            self.mesh.positions[part.vertices.start as usize..part.vertices.end as usize].iter_mut().for_each(scaled);
            part.morph_targets.iter_mut().for_each(|t| t.position_deltas.iter_mut().for_each(scaled));
        }
        let mesh_from_scaled = Mat4::new_scaling(1.0 / scale);
        for joint in &mut self.skeleton.joints {
            joint.joint_from_mesh *= mesh_from_scaled;
        }
        if let Some(scene_from_mesh) = &mut self.scene_from_mesh {
            *scene_from_mesh *= mesh_from_scaled;
        }
        Some(scale)
    }

    /// Joints that exporters write as plain nodes rather than bones: transform nodes
    /// (`in_skin` false) that carry no weight, on a chain of such nodes from a root (an
    /// armature object and the nodes above it).
    pub fn transform_nodes(&self) -> Vec<bool> {
        let weighted = self.weights.vertices_per_joint(self.skeleton.len());
        let mut out = vec![false; self.skeleton.len()];
        for (j, joint) in self.skeleton.joints.iter().enumerate() {
            out[j] = !joint.in_skin && weighted[j] == 0 && joint.parent.is_none_or(|p| out[p]);
        }
        out
    }

    /// Re-expresses the mesh in another space: every vertex (and normal and morph delta; static
    /// parts too, which share the mesh space and are shown through [`Rig::display_from_mesh`]
    /// like the rest) moves by `new_from_mesh`, every inverse bind matrix takes its inverse, so
    /// posed and shown results do not change. A singular matrix is refused (returns false,
    /// nothing changed).
    pub fn change_mesh_space(&mut self, new_from_mesh: &Mat4) -> bool {
        let Some(mesh_from_new) = new_from_mesh.try_inverse() else { return false };
        self.mesh.move_parts(new_from_mesh, |_| true);
        for joint in &mut self.skeleton.joints {
            joint.joint_from_mesh *= mesh_from_new;
        }
        if let Some(scene_from_mesh) = &mut self.scene_from_mesh {
            *scene_from_mesh *= mesh_from_new;
        }
        true
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

    /// Where the file's own scene puts the mesh: [`Rig::scene_from_mesh`] when the file says
    /// so. glTF skins ignore the mesh node, so the stored
    /// vertices sit in the skeleton's bind space, which a parent node may turn (CesiumMan's Z_UP).
    /// When every deforming joint's rest skinning matrix (`rest model_from_joint * joint_from_mesh`)
    /// is the same rigid transform, that transform shows the character the way other viewers do.
    /// When rest and bind differ joint by joint (a rest pose that is not the bind pose), the
    /// quarter turn most joints share is used (Blender's Z-up exports turn the armature upright);
    /// with no such majority the root joint's quarter turn, else the mesh as stored.
    pub fn display_from_mesh(&self) -> Mat4 {
        if let Some(m) = self.scene_from_mesh {
            return m;
        }
        let skins = self.rest_skinning();
        if let Some(shared) = shared_skinning(&skins) {
            return shared;
        }
        // No majority: the root joint's turn, which places at least the parts it carries as
        // the file's scene does (RobotExpressive, whose hands were bound in another pose).
        shared_quarter_turn(&skins).or_else(|| shared_quarter_turn(&skins[..skins.len().min(1)])).unwrap_or_else(Mat4::identity)
    }

    /// The rest skinning matrix (`rest model_from_joint * joint_from_mesh`) that every deforming
    /// joint shares, within 1e-3, when it is finite and invertible: the rest pose is the bind
    /// pose, seen through that matrix. `None` when joints disagree (or none deforms).
    pub fn shared_rest_skinning(&self) -> Option<Mat4> {
        shared_skinning(&self.rest_skinning())
    }

    /// Each deforming joint's rest skinning matrix.
    fn rest_skinning(&self) -> Vec<Mat4> {
        let s = &self.skeleton;
        let rest = s.model_from_joints_rest();
        rest.iter().zip(&s.joints).filter(|(_, j)| j.deform).map(|(m, j)| m * j.joint_from_mesh).collect()
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

/// The first of `skins` when all agree with it within 1e-3 and it is finite and invertible.
fn shared_skinning(skins: &[Mat4]) -> Option<Mat4> {
    let usable = |m: &Mat4| m.iter().all(|v| v.is_finite()) && m.fixed_view::<3, 3>(0, 0).determinant().abs() > 1e-9;
    let first = skins.first().filter(|m| usable(m))?;
    skins.iter().all(|m| (first - m).abs().max() <= 1e-3 * first.abs().max().max(1.0)).then_some(*first)
}

/// The rotation by quarter turns that more than half of `skins` are within 30 degrees of, with
/// their median uniform scale and median translation (over those exactly at the turn, when
/// there are any); `None` when there is no such majority.
/// Matrices with a clearly non-uniform scale or shear take no part.
fn shared_quarter_turn(skins: &[Mat4]) -> Option<Mat4> {
    type Votes = Vec<(nalgebra::Matrix3<f32>, Vec<(f32, nalgebra::Vector3<f32>, bool)>)>;
    let mut votes: Votes = Vec::new();
    for m in skins {
        let m3 = m.fixed_view::<3, 3>(0, 0).into_owned();
        let scale = m3.determinant().abs().cbrt();
        if !(scale.is_finite() && scale > 0.0) || m3.column_iter().any(|c| (c.norm() / scale - 1.0).abs() > 0.1) {
            continue;
        }
        let Some(turn) = snap_to_quarter_turns(&(m3 / scale)) else { continue };
        // A joint that rests exactly in its bind orientation (to 0.06 degrees) usually rests
        // where it was bound: its translation is the armature's.
        let exact = ((turn.transpose() * (m3 / scale)).trace() - 3.0).abs() < 1e-6;
        let entry = (scale, nalgebra::Vector3::new(m[(0, 3)], m[(1, 3)], m[(2, 3)]), exact);
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
    // Joints posed away from their bind would move the median by noise (4.8 mm on the
    // Quaternius characters): the exact ones decide when there are any.
    let members = if members.iter().any(|e| e.2) { members.into_iter().filter(|e| e.2).collect() } else { members };
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
                in_skin: true,
            });
        }
        // Bind: the same chain straight and without the armature's turn.
        let mut acc = Mat4::identity();
        for j in &mut skeleton.joints {
            acc *= Mat4::new_translation(&j.rest_local.translation);
            j.joint_from_mesh = acc.try_inverse().expect("translation");
        }
        let mut rig = Rig { skeleton, ..Default::default() };
        let up = rig.up_direction();
        assert!((up[2] - 1.0).abs() < 1e-5, "mesh-space +Z shows as up, got {up:?}");
        // The root rests where it was bound: the mesh is placed by its turn alone, not moved by
        // the bent joints' translations.
        let shown = rig.display_from_mesh();
        assert!((shown - upright.to_homogeneous()).abs().max() < 1e-5, "{shown}");
        // A file that places its mesh (FBX) is shown as it says, also after a change of space.
        rig.scene_from_mesh = Some(Mat4::identity());
        assert_eq!(rig.display_from_mesh(), Mat4::identity());
        let doubled = Mat4::new_scaling(2.0);
        assert!(rig.change_mesh_space(&doubled));
        assert!((rig.display_from_mesh() - Mat4::new_scaling(0.5)).abs().max() < 1e-6);
    }

    /// An armature node scaling by 100 above a two-joint chain whose inverse bind matrices
    /// leave that scale out (RobotExpressive's layout), with one vertex on each bone.
    fn centimetre_armature() -> Rig {
        let joint = |name: &str, parent, t: [f32; 3], scale: f32, deform| Joint {
            name: name.into(),
            parent,
            rest_local: Trs { translation: Vector3::from(t), rotation: UnitQuaternion::identity(), scale: Vector3::repeat(scale) },
            joint_from_mesh: Mat4::identity(),
            deform,
            in_skin: true,
        };
        let mut skeleton = Skeleton {
            joints: vec![joint("armature", None, [0.0; 3], 100.0, false), joint("hip", Some(0), [0.0, 0.01, 0.0], 1.0, true)],
            ..Default::default()
        };
        skeleton.joints.push(joint("knee", Some(1), [0.0, 0.005, 0.0], 1.0, true));
        // Bind matrices of the chain without the armature's scale.
        skeleton.joints[1].joint_from_mesh = Mat4::new_translation(&Vector3::new(0.0, -0.01, 0.0));
        skeleton.joints[2].joint_from_mesh = Mat4::new_translation(&Vector3::new(0.0, -0.015, 0.0));
        let mesh = Mesh {
            positions: vec![[0.001, 0.012, 0.0], [0.001, 0.017, 0.0]],
            normals: vec![[1.0, 0.0, 0.0]; 2],
            triangles: vec![[0, 1, 1]],
            parts: vec![crate::mesh::Part {
                name: "legs".into(),
                group: 0,
                material: None,
                vertices: 0..2,
                triangles: 0..1,
                skinned: true,
                morph_targets: Vec::new(),
            }],
            ..Default::default()
        };
        let weights = SkinWeights::from_rows(vec![vec![(1, 1.0)], vec![(2, 1.0)]]);
        Rig { mesh, skeleton, weights, ..Default::default() }
    }

    fn posed(rig: &Rig, knee_turn: f32) -> Vec<[f32; 3]> {
        let mut pose = crate::Pose::rest(&rig.skeleton);
        pose.local[2].rotation = UnitQuaternion::from_axis_angle(&Vector3::z_axis(), knee_turn);
        crate::lbs::skin_positions(&rig.mesh.positions, &rig.weights, &pose.skinning_matrices(&rig.skeleton))
    }

    #[test]
    fn a_mesh_bound_without_its_armatures_scale_is_stored_at_the_skeletons_scale() {
        let mut rig = centimetre_armature();
        let before = [posed(&rig, 0.0), posed(&rig, 0.7)];
        assert_eq!(rig.adopt_skeleton_scale().map(|s| (s * 1e3).round() / 1e3), Some(100.0));
        assert!((rig.mesh.positions[0][1] - 1.2).abs() < 1e-5, "{:?}", rig.mesh.positions);
        // Posed positions are unchanged, and the rest pose now leaves the stored mesh in place.
        for (b, a) in before.iter().zip([posed(&rig, 0.0), posed(&rig, 0.7)]) {
            for (p, q) in b.iter().zip(&a) {
                assert!((0..3).all(|k| (p[k] - q[k]).abs() < 1e-5), "{p:?} vs {q:?}");
            }
        }
        let at_rest = posed(&rig, 0.0);
        assert!(at_rest.iter().zip(&rig.mesh.positions).all(|(p, q)| (0..3).all(|k| (p[k] - q[k]).abs() < 1e-5)));
        assert_eq!(rig.adopt_skeleton_scale(), None, "a second call finds nothing to do");
    }

    #[test]
    fn a_static_part_stays_where_it_is_shown_through_changes_of_mesh_space() {
        let mut rig = centimetre_armature();
        let (base, tris) = (rig.mesh.positions.len() as u32, rig.mesh.triangles.len() as u32);
        rig.mesh.positions.extend([[0.002, 0.0, 0.0], [0.0, 0.003, 0.0]]);
        rig.mesh.normals.extend([[0.0, 0.0, 1.0]; 2]);
        rig.mesh.triangles.push([base, base + 1, base + 1]);
        let prop = crate::mesh::Part {
            name: "prop".into(),
            vertices: base..base + 2,
            triangles: tris..tris + 1,
            skinned: false,
            ..rig.mesh.parts[0].clone()
        };
        rig.mesh.parts.push(prop);
        rig.weights = SkinWeights::from_rows(vec![vec![(1, 1.0)], vec![(2, 1.0)], vec![], vec![]]);
        let shown = |r: &Rig| -> Vec<nalgebra::Point3<f32>> {
            let m = r.display_from_mesh();
            r.mesh.positions.iter().map(|p| m.transform_point(&(*p).into())).collect()
        };
        let before = shown(&rig);
        rig.adopt_skeleton_scale();
        assert!(rig.change_mesh_space(&Mat4::from_euler_angles(0.3, -1.1, 0.2).append_translation(&Vector3::new(0.5, 0.0, 2.0))));
        for (p, q) in before.iter().zip(&shown(&rig)) {
            assert!((p - q).norm() < 1e-5, "shown at {q} after, {p} before");
        }
    }
}
