//! Re-posing a biped's arms into a T-pose or an A-pose and binding there: the skeleton's rest
//! pose and the mesh both move, the mesh by the rig's own skinning, so that clips authored
//! for that rest pose (Mixamo's T-pose, Unreal's and VRM's) play as they were made. Clips
//! hold each joint's whole local transform, so they play unchanged on the re-bound rig.

use nalgebra::{Matrix3, Rotation3, Vector3};

use crate::retarget::{find_role, roles, Role, Side};
use crate::skeleton::Skeleton;
use crate::transform::{translation, Trs};
use crate::{Mat4, Rig};

/// The rest pose to bind in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestPose {
    /// Arms straight out to the sides, level.
    T,
    /// Arms straight, 45 degrees below level.
    A,
}

impl RestPose {
    /// The arms' angle below level, in degrees.
    pub fn degrees_below_level(self) -> f32 {
        match self {
            RestPose::T => 0.0,
            RestPose::A => 45.0,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RestPose::T => "T-pose",
            RestPose::A => "A-pose",
        }
    }
}

/// One arm before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmChange {
    pub side: &'static str,
    /// Angle of the shoulder-to-wrist line below level, in degrees (negative: above).
    pub before_degrees: f32,
    pub after_degrees: f32,
    /// Elbow bend (0: straight), in degrees.
    pub elbow_before_degrees: f32,
    pub elbow_after_degrees: f32,
}

/// Re-poses the arms of `rig` into `pose` and binds there. Refused (nothing changed) when the
/// skeleton has no upper arm, forearm and hand on both sides, or when its rest pose is not the
/// pose its mesh is bound in (skinning at rest would move the mesh).
pub fn bind_in_rest_pose(rig: &mut Rig, pose: RestPose) -> Result<Vec<ArmChange>, String> {
    let r = roles(&rig.skeleton);
    let arms = [Side::Left, Side::Right].map(|side| arm(&rig.skeleton, &r, side));
    let [Some(left), Some(right)] = arms else {
        return Err("re-posing needs an upper arm, forearm and hand on each side, named as a biped's are (a generated biped's, \
                    Mixamo's, Unreal's, Unity's, VRM's or Blender's names); this skeleton has not"
            .into());
    };
    let model_from_mesh = rest_binding(rig)?;
    let up = Vector3::from(rig.up_direction());
    let model_up = (model_from_mesh.fixed_view::<3, 3>(0, 0) * up).normalize();
    let rest = rig.skeleton.model_from_joints_rest();
    let across = horizontal(&(translation(&rest[left[0]]) - translation(&rest[right[0]])), &model_up)
        .ok_or("the shoulders are one above the other: cannot tell the sides apart")?;
    if let Some(side) = hand_on_the_ground(rig, &rest, [left[2], right[2]], &model_from_mesh, &model_up) {
        return Err(format!(
            "the {side} hand is within a fifth of the height of the ground: these arms are a four-legged character's front legs; \
             re-posing is for bipeds"
        ));
    }
    let mut posed = rest.clone();
    let mut changes = Vec::new();
    for (chain, outward, side) in [(left, across, "left"), (right, -across, "right")] {
        let below = pose.degrees_below_level().to_radians();
        let target = outward * below.cos() - model_up * below.sin();
        let before = measure(&posed, chain, &model_up);
        for k in 0..2 {
            let from = translation(&posed[chain[k + 1]]) - translation(&posed[chain[k]]);
            // Pointing straight away from the target: half a turn about up.
            let turn = Rotation3::rotation_between(&from, &target)
                .unwrap_or_else(|| Rotation3::from_axis_angle(&nalgebra::Unit::new_normalize(model_up), std::f32::consts::PI));
            crate::lbs::rotate_subtree_in_model_space(&rig.skeleton, &mut posed, chain[k], turn.matrix());
        }
        let after = measure(&posed, chain, &model_up);
        changes.push(ArmChange {
            side,
            before_degrees: before.0,
            after_degrees: after.0,
            elbow_before_degrees: before.1,
            elbow_after_degrees: after.1,
        });
    }
    rebind(rig, &posed, &model_from_mesh)?;
    Ok(changes)
}

/// Upper arm, forearm and hand of one side, each below the one before.
fn arm(s: &Skeleton, roles: &[Option<(Role, Side)>], side: Side) -> Option<[usize; 3]> {
    let [u, f, h] = [Role::UpperArm, Role::ForeArm, Role::Hand].map(|role| find_role(roles, (role, side)));
    let chain = [u?, f?, h?];
    (s.is_descendant(chain[1], chain[0]) && s.is_descendant(chain[2], chain[1])).then_some(chain)
}

/// The one matrix that skinning at rest applies to every deforming joint's vertices (identity
/// when rest and bind agree), or why there is none.
fn rest_binding(rig: &Rig) -> Result<Mat4, String> {
    if !rig.skeleton.joints.iter().any(|j| j.deform) {
        return Err("the skeleton has no deforming joint".into());
    }
    rig.shared_rest_skinning().ok_or_else(|| {
        String::from(
            "the rest pose is not the pose the mesh is bound in (skinning at rest moves the mesh): re-posing needs a \
                    rig bound where it rests, as generated rigs are",
        )
    })
}

/// The side ("left", "right") whose hand is in the lowest fifth of the mesh's height.
fn hand_on_the_ground(rig: &Rig, rest: &[Mat4], hands: [usize; 2], model_from_mesh: &Mat4, up: &Vector3<f32>) -> Option<&'static str> {
    let heights = rig.mesh.positions.iter().map(|p| model_from_mesh.transform_point(&(*p).into()).coords.dot(up));
    let (low, high) = heights.fold((f32::MAX, f32::MIN), |(lo, hi), h| (lo.min(h), hi.max(h)));
    let near_ground = |hand: usize| translation(&rest[hand]).dot(up) - low < 0.2 * (high - low);
    ["left", "right"].into_iter().zip(hands).find(|&(_, hand)| near_ground(hand)).map(|(side, _)| side)
}

/// `v` with its component along `up` removed, normalised.
fn horizontal(v: &Vector3<f32>, up: &Vector3<f32>) -> Option<Vector3<f32>> {
    (v - up * v.dot(up)).try_normalize(1e-6)
}

/// (Shoulder-to-wrist angle below level, elbow bend), in degrees.
fn measure(model: &[Mat4], [u, f, h]: [usize; 3], up: &Vector3<f32>) -> (f32, f32) {
    let (pu, pf, ph) = (translation(&model[u]), translation(&model[f]), translation(&model[h]));
    let whole = (ph - pu).normalize();
    let below = (-whole.dot(up)).clamp(-1.0, 1.0).asin().to_degrees();
    let bend = (pf - pu).angle(&(ph - pf)).to_degrees();
    (below, bend)
}

/// Makes `posed` (model_from_joint per joint) the rest and bind pose: rest locals from it, the
/// mesh skinned into it (positions, normals, morph deltas), inverse bind matrices from it.
/// Refused, with nothing changed, when the locals cannot rebuild the pose (a shear from an
/// unevenly scaled joint above the arms).
fn rebind(rig: &mut Rig, posed: &[Mat4], model_from_mesh: &Mat4) -> Result<(), String> {
    let s = &rig.skeleton;
    let locals: Vec<Trs> = (0..s.len())
        .map(|j| {
            let parent_from_model = s.joints[j].parent.map_or(Some(Mat4::identity()), |p| posed[p].try_inverse());
            parent_from_model.and_then(|m| Trs::from_matrix(&(m * posed[j])))
        })
        .collect::<Option<_>>()
        .ok_or("a joint's pose has no inverse or no scale: cannot re-pose")?;
    let rebuilt = s.model_from_joints(&locals.iter().map(Trs::to_matrix).collect::<Vec<_>>());
    let size = posed.iter().map(|m| m.abs().max()).fold(1.0f32, f32::max);
    if rebuilt.iter().zip(posed).any(|(a, b)| (a - b).abs().max() > 1e-4 * size) {
        return Err("a joint above the arms is scaled unevenly, so the re-posed arm would shear: cannot re-pose this rig".into());
    }
    let posed = &rebuilt;
    let mesh_from_model = model_from_mesh.try_inverse().unwrap_or_else(Mat4::identity);
    let skinning: Vec<Mat4> = posed.iter().zip(&s.joints).map(|(m, j)| mesh_from_model * m * j.joint_from_mesh).collect();
    let positions = crate::lbs::skin_positions(&rig.mesh.positions, &rig.weights, &skinning);
    if !rig.mesh.normals.is_empty() {
        rig.mesh.normals = crate::lbs::skin_normals(&rig.mesh.normals, &rig.weights, &skinning);
    }
    let linear: Vec<Matrix3<f32>> = skinning.iter().map(|m| m.fixed_view::<3, 3>(0, 0).into_owned()).collect();
    let weights = &rig.weights;
    // Per vertex: the blended linear part (position deltas) and its inverse transpose (normal deltas).
    let blended = |v: usize| {
        let (joints, w) = weights.row(v);
        (!joints.is_empty()).then(|| {
            let b: Matrix3<f32> = joints.iter().zip(w).map(|(&j, &wt)| linear[j as usize] * wt).sum();
            (b, b.try_inverse().map_or(b, |i| i.transpose()))
        })
    };
    for part in &mut rig.mesh.parts {
        let start = part.vertices.start as usize;
        for target in &mut part.morph_targets {
            for (k, d) in target.position_deltas.iter_mut().enumerate() {
                if let Some((b, _)) = blended(start + k) {
                    *d = (b * Vector3::from(*d)).into();
                }
            }
            for (k, d) in target.normal_deltas.iter_mut().enumerate() {
                if let Some((_, n)) = blended(start + k) {
                    *d = (n * Vector3::from(*d)).into();
                }
            }
        }
    }
    rig.mesh.positions = positions;
    for ((joint, local), m) in rig.skeleton.joints.iter_mut().zip(locals).zip(posed) {
        joint.rest_local = local;
        joint.joint_from_mesh = m.try_inverse().unwrap_or_else(Mat4::identity) * model_from_mesh;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skeleton::{Joint, Skeleton};
    use crate::weights::SkinWeights;
    use crate::{Mesh, Part};

    /// A stick biped in an A-pose (arms 40 degrees down, elbows bent 20 degrees), Y up, facing
    /// +Z, bound at rest; one vertex on each joint, weighted to it alone.
    fn stick_biped() -> Rig {
        let down = |deg: f32, side: f32| {
            let r = deg.to_radians();
            Vector3::new(side * r.cos(), -r.sin(), 0.0)
        };
        let mut joints: Vec<(String, Option<usize>, Vector3<f32>)> = vec![
            ("Hips".into(), None, Vector3::new(0.0, 1.0, 0.0)),
            ("Spine".into(), Some(0), Vector3::new(0.0, 1.3, 0.0)),
            ("Head".into(), Some(1), Vector3::new(0.0, 1.7, 0.0)),
        ];
        for (side, name) in [(1.0, "Left"), (-1.0, "Right")] {
            let shoulder = Vector3::new(side * 0.2, 1.5, 0.0);
            let elbow = shoulder + down(40.0, side) * 0.3;
            let wrist = elbow + down(60.0, side) * 0.25;
            let base = joints.len();
            joints.push((format!("{name}UpperArm"), Some(1), shoulder));
            joints.push((format!("{name}LowerArm"), Some(base), elbow));
            joints.push((format!("{name}Hand"), Some(base + 1), wrist));
            joints.push((format!("{name}UpperLeg"), Some(0), Vector3::new(side * 0.1, 0.95, 0.0)));
            joints.push((format!("{name}LowerLeg"), Some(base + 3), Vector3::new(side * 0.1, 0.5, 0.0)));
        }
        let world: Vec<Vector3<f32>> = joints.iter().map(|j| j.2).collect();
        let mut skeleton = Skeleton::default();
        for (name, parent, p) in &joints {
            let local = p - parent.map_or(Vector3::zeros(), |q| world[q]);
            skeleton.joints.push(Joint {
                name: name.clone(),
                parent: *parent,
                rest_local: Trs { translation: local, ..Trs::IDENTITY },
                joint_from_mesh: Mat4::new_translation(&-p),
                deform: true,
                in_skin: true,
            });
        }
        let positions: Vec<[f32; 3]> = world.iter().map(|p| (*p + Vector3::new(0.0, 0.0, 0.05)).into()).collect();
        let n = positions.len() as u32;
        let part =
            Part { name: "body".into(), group: 0, material: None, vertices: 0..n, triangles: 0..1, skinned: true, morph_targets: vec![] };
        let mesh = Mesh { positions, triangles: vec![[0, 1, 2]], parts: vec![part], ..Default::default() };
        let weights = SkinWeights::from_rows((0..n).map(|v| vec![(v, 1.0f32)]).collect::<Vec<_>>());
        Rig { name: "stick".into(), mesh, skeleton, weights, clips: vec![], materials: Default::default(), scene_from_mesh: None }
    }

    fn hand_direction(rig: &Rig, side: &str) -> Vector3<f32> {
        let s = &rig.skeleton;
        let rest = s.model_from_joints_rest();
        let (u, h) = (s.find(&format!("{side}UpperArm")).unwrap(), s.find(&format!("{side}Hand")).unwrap());
        (translation(&rest[h]) - translation(&rest[u])).normalize()
    }

    #[test]
    fn a_t_pose_puts_both_arms_level_and_straight_and_the_mesh_follows() {
        let mut rig = stick_biped();
        // A morph target moving the left hand's vertex along its forearm, normals too.
        let (elbow, hand) = (rig.skeleton.find("LeftLowerArm").unwrap(), rig.skeleton.find("LeftHand").unwrap());
        let along = (Vector3::from(rig.mesh.positions[hand]) - Vector3::from(rig.mesh.positions[elbow])).normalize();
        let mut deltas = vec![[0.0; 3]; rig.mesh.positions.len()];
        deltas[hand] = (along * 0.01).into();
        rig.mesh.parts[0].morph_targets = vec![crate::MorphTarget { position_deltas: deltas.clone(), normal_deltas: deltas }];
        let changes = bind_in_rest_pose(&mut rig, RestPose::T).expect("re-pose");
        assert_eq!(changes.len(), 2);
        for c in &changes {
            assert!(c.before_degrees > 40.0 && c.elbow_before_degrees > 15.0, "{c:?}");
            assert!(c.after_degrees.abs() < 1e-3 && c.elbow_after_degrees < 1e-2, "{c:?}");
        }
        assert!((hand_direction(&rig, "Left") - Vector3::x()).norm() < 1e-4);
        let target = &rig.mesh.parts[0].morph_targets[0];
        for d in [target.position_deltas[hand], target.normal_deltas[hand]] {
            assert!((Vector3::from(d) - Vector3::x() * 0.01).norm() < 1e-6, "the hand's deltas did not turn with it: {d:?}");
        }
        assert!((hand_direction(&rig, "Right") + Vector3::x()).norm() < 1e-4);
        // Each vertex sits 5 cm in front of its joint, as before; the body did not move.
        let rest = rig.skeleton.model_from_joints_rest();
        for (j, m) in rest.iter().enumerate() {
            let offset = Vector3::from(rig.mesh.positions[j]) - translation(m);
            assert!((offset - Vector3::new(0.0, 0.0, 0.05)).norm() < 1e-4, "joint {j}: {offset:?}");
        }
        assert!((Vector3::from(rig.mesh.positions[0]) - Vector3::new(0.0, 1.0, 0.05)).norm() < 1e-6);
        // Bound where it rests: skinning at rest moves nothing.
        assert_eq!(rest_binding(&rig).map(|m| (m - Mat4::identity()).abs().max() < 1e-5), Ok(true));
    }

    #[test]
    fn an_a_pose_puts_the_arms_45_degrees_down() {
        let mut rig = stick_biped();
        let changes = bind_in_rest_pose(&mut rig, RestPose::A).expect("re-pose");
        assert!(changes.iter().all(|c| (c.after_degrees - 45.0).abs() < 1e-3), "{changes:?}");
        let h = 45f32.to_radians();
        assert!((hand_direction(&rig, "Left") - Vector3::new(h.cos(), -h.sin(), 0.0)).norm() < 1e-4);
    }

    #[test]
    fn a_rig_without_arms_or_bound_elsewhere_is_refused_unchanged() {
        let mut rig = stick_biped();
        rig.skeleton.joints.iter_mut().filter(|j| j.name.starts_with("Left")).for_each(|j| j.name = j.name.replace("Left", "Extra"));
        let before = rig.clone();
        assert!(bind_in_rest_pose(&mut rig, RestPose::T).unwrap_err().contains("upper arm"));
        assert_eq!(rig, before);
        let mut rig = stick_biped();
        // Hands at the feet's height: a four-legged character's front legs.
        for side in ["Left", "Right"] {
            let hand = rig.skeleton.find(&format!("{side}Hand")).unwrap();
            rig.skeleton.joints[hand].rest_local.translation.y -= 1.0;
            rig.skeleton.joints[hand].joint_from_mesh[(1, 3)] += 1.0;
        }
        assert!(bind_in_rest_pose(&mut rig, RestPose::A).unwrap_err().contains("front legs"));
        let mut rig = stick_biped();
        rig.skeleton.joints[3].rest_local.translation.y += 0.1;
        assert!(bind_in_rest_pose(&mut rig, RestPose::T).unwrap_err().contains("bound where it rests"));
    }
}
