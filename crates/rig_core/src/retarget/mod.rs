//! Clips of one skeleton played on another standing in the same mesh. Joints are paired by
//! name where the two skeletons share one, else by the role their names give (see
//! [`roles`]); spine links pair along the chain. Each paired
//! joint turns in mesh space as its source joint turns away from its bind orientation, a joint
//! without a partner follows its parent, and the hips also move as the source's hips do,
//! scaled by the ratio of the two skeletons' hip heights.

mod roles;

use nalgebra::{Matrix3, Point3, UnitQuaternion, Vector3};

use crate::animation::{Channel, ChannelValues, Clip, Interpolation};
use crate::pose::Pose;
use crate::skeleton::Skeleton;
use crate::Mat4;
pub use roles::{roles, Role, Side};

/// Clips retargeted onto another skeleton, and which joints drive which.
#[derive(Debug, Clone)]
pub struct Retargeted {
    pub clips: Vec<Clip>,
    /// `(target joint, source joint)` pairs.
    pub pairs: Vec<(usize, usize)>,
}

/// Fewest paired joints for a retarget: hips, and upper arm, forearm, thigh and shin per side.
const REQUIRED: [(Role, Side); 9] = [
    (Role::Hips, Side::Centre),
    (Role::UpperArm, Side::Left),
    (Role::UpperArm, Side::Right),
    (Role::ForeArm, Side::Left),
    (Role::ForeArm, Side::Right),
    (Role::Thigh, Side::Left),
    (Role::Thigh, Side::Right),
    (Role::Shin, Side::Left),
    (Role::Shin, Side::Right),
];

/// Plays `clips` (animating `source`) on `target`, a skeleton resting at its bind pose up to
/// one placement of the whole (as generated, possibly under an armature node). Both bind the
/// same mesh; `up` is the mesh-space up (for the hip heights). Refused, saying which, when the names leave the hips or a limb without a partner.
pub fn retarget(source: &Skeleton, clips: &[Clip], target: &Skeleton, up: [f32; 3]) -> Result<Retargeted, String> {
    let pairs = pair(source, target)?;
    let frames = Frames::new(source, target, &pairs, Vector3::from(up));
    let clips = clips.iter().map(|clip| frames.clip(source, clip, target)).collect();
    Ok(Retargeted { clips, pairs })
}

/// Target joints paired with source joints: by equal names, else by role and side; spine links
/// along the chain.
fn pair(source: &Skeleton, target: &Skeleton) -> Result<Vec<(usize, usize)>, String> {
    let (rs, rt) = (roles(source), roles(target));
    let find = |roles: &[Option<(Role, Side)>], want: (Role, Side)| roles.iter().position(|r| *r == Some(want));
    let missing = |roles: &[Option<(Role, Side)>]| -> Vec<String> {
        REQUIRED
            .iter()
            .filter(|&&want| find(roles, want).is_none())
            .map(|(role, side)| format!("{role:?}{}", if *side == Side::Centre { String::new() } else { format!(" {side:?}") }))
            .collect()
    };
    for (which, roles) in [("source", &rs), ("target", &rt)] {
        let absent = missing(roles);
        if !absent.is_empty() {
            return Err(format!(
                "the {which} skeleton has no joint named as {} (clips are retargeted between skeletons whose joint names say which are the hips, arms and legs)",
                absent.join(", ")
            ));
        }
    }
    let by_name: Vec<Option<usize>> = target.joints.iter().map(|j| source.find(&j.name)).collect();
    let mut pairs: Vec<(usize, usize)> = by_name.iter().enumerate().filter_map(|(t, s)| s.map(|s| (t, s))).collect();
    for (t, role) in rt.iter().enumerate().filter(|(t, _)| by_name[*t].is_none()) {
        match role {
            Some((Role::Spine, _)) | None => {}
            Some(want) => pairs.extend(find(&rs, *want).map(|s| (t, s))),
        }
    }
    let chain = |roles: &[Option<(Role, Side)>]| -> Vec<usize> {
        (0..roles.len()).filter(|&j| matches!(roles[j], Some((Role::Spine, _)))).collect()
    };
    let (cs, mut ct) = (chain(&rs), chain(&rt));
    ct.retain(|&t| by_name[t].is_none());
    if !cs.is_empty() {
        for (i, &t) in ct.iter().enumerate() {
            let s = if ct.len() == 1 { cs.len() - 1 } else { (i * (cs.len() - 1) + (ct.len() - 1) / 2) / (ct.len() - 1) };
            pairs.push((t, cs[s]));
        }
    }
    pairs.sort_unstable();
    Ok(pairs)
}

/// What stays fixed over a retarget. The source's motion is read through its skinning
/// matrices (`posed model_from_joint * joint_from_mesh`) carried into mesh space by the
/// inverse of the root joint's rest skinning matrix (where its armature shows the mesh), so
/// an armature that turns or scales the mesh does not count as motion.
struct Frames {
    /// Source joint of each target joint.
    partner: Vec<Option<usize>>,
    mesh_from_model: Mat4,
    /// Where the target's rest pose shows the mesh (its model_from_mesh).
    target_model_from_mesh: Mat4,
    /// Target joints' bind orientations (mesh space).
    target_bind: Vec<UnitQuaternion<f32>>,
    /// (target hips, source hips, source hips' bind position, target height / source height).
    hips: Option<(usize, usize, Vector3<f32>, f32)>,
}

impl Frames {
    fn new(source: &Skeleton, target: &Skeleton, pairs: &[(usize, usize)], up: Vector3<f32>) -> Frames {
        let mut partner = vec![None; target.len()];
        pairs.iter().for_each(|&(t, s)| partner[t] = Some(s));
        let root = (0..source.len()).find(|&j| source.joints[j].deform).unwrap_or(0);
        let rest = source.model_from_joints_rest();
        let model_from_mesh = rest.get(root).map_or_else(Mat4::identity, |m| m * source.joints[root].joint_from_mesh);
        let mesh_from_model = model_from_mesh.try_inverse().unwrap_or_else(Mat4::identity);
        let target_root = (0..target.len()).find(|&j| target.joints[j].deform).unwrap_or(0);
        let target_rest = target.model_from_joints_rest();
        let target_model_from_mesh =
            target_rest.get(target_root).map_or_else(Mat4::identity, |m| m * target.joints[target_root].joint_from_mesh);
        let target_model = target.model_from_joints_bind();
        let target_bind = target_model.iter().map(rotation).collect();
        let hips_of = |roles: Vec<Option<(Role, Side)>>| roles.iter().position(|r| *r == Some((Role::Hips, Side::Centre)));
        let height = |points: &[Vector3<f32>], hips: usize| {
            let lowest = points.iter().map(|p| p.dot(&up)).fold(f32::INFINITY, f32::min);
            points[hips].dot(&up) - lowest
        };
        let source_points: Vec<Vector3<f32>> = source.model_from_joints_bind().iter().map(point).collect();
        let target_points: Vec<Vector3<f32>> = target_model.iter().map(point).collect();
        let hips = hips_of(roles(target)).zip(hips_of(roles(source))).and_then(|(t, s)| {
            let (ht, hs) = (height(&target_points, t), height(&source_points, s));
            (hs > 1e-9 && ht.is_finite()).then(|| (t, s, source_points[s], ht / hs))
        });
        Frames { partner, mesh_from_model, target_model_from_mesh, target_bind, hips }
    }

    /// One clip on the target, keyed at every key time of the source clip.
    fn clip(&self, source: &Skeleton, clip: &Clip, target: &Skeleton) -> Clip {
        let mut times: Vec<f32> = clip.channels.iter().flat_map(|c| c.times.iter().copied()).filter(|t| t.is_finite()).collect();
        times.sort_by(f32::total_cmp);
        times.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
        let rest = Pose::rest(target);
        let mut rotations: Vec<Vec<[f32; 4]>> = vec![Vec::with_capacity(times.len()); target.len()];
        let mut translations: Vec<[f32; 3]> = Vec::with_capacity(times.len());
        for &t in &times {
            let mut pose = Pose::rest(source);
            clip.apply(t, &mut pose);
            // Bind mesh -> posed mesh, per source joint.
            let moved: Vec<Mat4> = pose.skinning_matrices(source).iter().map(|s| self.mesh_from_model * s).collect();
            let local = self.target_locals(&moved, target, &rest);
            local.iter().zip(&mut rotations).for_each(|(q, keys)| keys.push([q.i, q.j, q.k, q.w]));
            if let Some((th, sh, bound, ratio)) = self.hips {
                let now = moved[sh].transform_point(&Point3::from(bound)).coords;
                let at_mesh = point(&target.model_from_joints_bind()[th]) + (now - bound) * ratio;
                let at = self.target_model_from_mesh.transform_point(&Point3::from(at_mesh)).coords;
                let parent_from_mesh = target.joints[th].parent.and_then(|p| posed_model(target, &local, p).try_inverse());
                let local_at = parent_from_mesh.map_or(at, |m| m.transform_point(&Point3::from(at)).coords);
                translations.push(local_at.into());
            }
        }
        let mut channels: Vec<Channel> = Vec::new();
        for (j, keys) in rotations.into_iter().enumerate() {
            let still = rest.local[j].rotation;
            if keys.iter().all(|q| quat(q).angle_to(&still) < 1e-4) {
                continue;
            }
            channels.push(Channel {
                joint: j,
                times: times.clone(),
                values: ChannelValues::Rotation(keys),
                interpolation: Interpolation::Linear,
            });
        }
        if let Some((th, ..)) = self.hips.filter(|_| !translations.is_empty()) {
            channels.push(Channel {
                joint: th,
                times,
                values: ChannelValues::Translation(translations),
                interpolation: Interpolation::Linear,
            });
        }
        Clip { name: clip.name.clone(), channels, morph_channels: Vec::new() }
    }

    /// Local rotations of the target joints for one source pose (`moved`: each source joint's
    /// bind-mesh to posed-mesh matrix).
    fn target_locals(&self, moved: &[Mat4], target: &Skeleton, rest: &Pose) -> Vec<UnitQuaternion<f32>> {
        let mut world: Vec<UnitQuaternion<f32>> = Vec::with_capacity(target.len());
        let mut local = Vec::with_capacity(target.len());
        for (j, joint) in target.joints.iter().enumerate() {
            let parent_world = joint.parent.map_or(UnitQuaternion::identity(), |p| world[p]);
            let w = match self.partner[j] {
                Some(s) => rotation(&self.target_model_from_mesh) * rotation(&moved[s]) * self.target_bind[j],
                None => parent_world * rest.local[j].rotation,
            };
            local.push(parent_world.inverse() * w);
            world.push(w);
        }
        local
    }
}

/// model_from_joint of target joint `p` with rotations `local` and rest translations and scales.
fn posed_model(target: &Skeleton, local: &[UnitQuaternion<f32>], p: usize) -> Mat4 {
    let locals: Vec<Mat4> =
        target.joints.iter().zip(local).map(|(j, q)| crate::transform::Trs { rotation: *q, ..j.rest_local }.to_matrix()).collect();
    target.model_from_joints(&locals).get(p).copied().unwrap_or_else(Mat4::identity)
}

fn quat(q: &[f32; 4]) -> UnitQuaternion<f32> {
    UnitQuaternion::from_quaternion(nalgebra::Quaternion::new(q[3], q[0], q[1], q[2]))
}

/// The rotation of a matrix's upper 3x3 with its scale divided out.
fn rotation(m: &Mat4) -> UnitQuaternion<f32> {
    let columns: Vec<Vector3<f32>> = m.fixed_view::<3, 3>(0, 0).column_iter().map(|c| c.normalize()).collect();
    UnitQuaternion::from_rotation_matrix(&crate::transform::nearest_rotation(&Matrix3::from_columns(&columns)))
}

fn point(m: &Mat4) -> Vector3<f32> {
    m.fixed_view::<3, 1>(0, 3).into_owned()
}
