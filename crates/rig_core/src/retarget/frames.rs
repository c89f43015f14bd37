//! What stays fixed over a retarget. Each skeleton's motion is read in its model frame where its
//! rest pose shows the mesh (`model_from_mesh`: the root joint's rest skinning matrix), so an
//! armature that turns or scales the mesh does not count as motion; `align` turns the source's
//! model frame into the target's.

use nalgebra::{Matrix3, Point3, UnitQuaternion, Vector3};

use super::{find_role, point, posed_model, quat, roles, rotation, Character, Role, Side};
use crate::animation::{Channel, ChannelValues, Clip, Interpolation};
use crate::pose::Pose;
use crate::skeleton::Skeleton;
use crate::Mat4;

pub(super) struct Frames {
    /// Source joint of each target joint.
    partner: Vec<Option<usize>>,
    /// Inverse of the source's model_from_mesh.
    source_mesh_from_model: Mat4,
    /// Target model frame from source model frame.
    align: UnitQuaternion<f32>,
    /// Each target joint's bind orientation in the target model frame, turned by its rest-pose
    /// correction: the orientation the source's bind pose asks of it.
    target_start: Vec<UnitQuaternion<f32>>,
    hips: Option<Hips>,
}

/// The hips' travel: (target joint, source joint), their bind positions in their model
/// frames, and target hip height / source hip height. `mover` is the target joint whose
/// translation carries it: the hips, or the joint above them that also holds the spine and
/// limbs (a rig whose torso control is the hips' parent).
struct Hips {
    target: usize,
    mover: usize,
    source: usize,
    source_bind: Vector3<f32>,
    target_bind: Vector3<f32>,
    ratio: f32,
}

/// One skeleton's bind pose in its model frame.
struct Bound {
    model_from_mesh: Mat4,
    /// Joint positions.
    points: Vec<Vector3<f32>>,
    /// Joint orientations.
    orientations: Vec<UnitQuaternion<f32>>,
    up: Vector3<f32>,
}

impl Bound {
    fn new(c: Character) -> Bound {
        let model_from_mesh = model_from_mesh(c);
        let bind: Vec<Mat4> = c.skeleton.model_from_joints_bind().iter().map(|m| model_from_mesh * m).collect();
        let up = up_in(c, &model_from_mesh);
        Bound { model_from_mesh, points: bind.iter().map(point).collect(), orientations: bind.iter().map(rotation).collect(), up }
    }

    /// Height of the joint `j` above the lowest joint.
    fn height(&self, j: usize) -> f32 {
        let lowest = self.points.iter().map(|p| p.dot(&self.up)).fold(f32::INFINITY, f32::min);
        self.points[j].dot(&self.up) - lowest
    }

    /// Columns left, up, front, from the upper arms (else the thighs) and the up direction.
    fn facing(&self, skeleton: &Skeleton) -> Option<Matrix3<f32>> {
        let roles = roles(skeleton);
        [Role::UpperArm, Role::Thigh].into_iter().find_map(|role| {
            let (l, r) = (find_role(&roles, (role, Side::Left))?, find_role(&roles, (role, Side::Right))?);
            let across = self.points[l] - self.points[r];
            let left = across - self.up * across.dot(&self.up);
            (left.norm() > 1e-3 * across.norm().max(1e-9)).then(|| {
                let left = left.normalize();
                Matrix3::from_columns(&[left, self.up, left.cross(&self.up)])
            })
        })
    }
}

impl Frames {
    /// Two skeletons binding one mesh: no rest-pose correction, the mesh spaces coincide.
    pub(super) fn same_mesh(source: Character, target: Character, pairs: &[(usize, usize)]) -> Frames {
        let (bs, bt) = (Bound::new(source), Bound::new(target));
        let align = rotation(&bt.model_from_mesh) * rotation(&bs.model_from_mesh).inverse();
        let corrections = vec![UnitQuaternion::identity(); target.skeleton.len()];
        Frames::new(source.skeleton, &bs, target.skeleton, &bt, pairs, align, &corrections)
    }

    /// Two characters: facing matched, each paired bone corrected onto the source's rest direction.
    pub(super) fn between(source: Character, target: Character, pairs: &[(usize, usize)]) -> Result<Frames, String> {
        let (bs, bt) = (Bound::new(source), Bound::new(target));
        let align = alignment(source, &bs, target, &bt)?;
        let corrections = corrections(source.skeleton, &bs, target.skeleton, &bt, pairs, align);
        Ok(Frames::new(source.skeleton, &bs, target.skeleton, &bt, pairs, align, &corrections))
    }

    fn new(
        source: &Skeleton,
        bs: &Bound,
        target: &Skeleton,
        bt: &Bound,
        pairs: &[(usize, usize)],
        align: UnitQuaternion<f32>,
        corrections: &[UnitQuaternion<f32>],
    ) -> Frames {
        let partner = partners(target.len(), pairs);
        let hips_of = |s: &Skeleton| find_role(&roles(s), (Role::Hips, Side::Centre));
        let hips = hips_of(target).zip(hips_of(source)).and_then(|(t, s)| {
            let (ht, hs) = (bt.height(t), bs.height(s));
            (hs > 1e-9 && ht.is_finite()).then(|| Hips {
                target: t,
                mover: mover(target, pairs, t),
                source: s,
                source_bind: bs.points[s],
                target_bind: bt.points[t],
                ratio: ht / hs,
            })
        });
        let target_start = corrections.iter().zip(&bt.orientations).map(|(c, o)| c * o).collect();
        Frames {
            partner,
            source_mesh_from_model: bs.model_from_mesh.try_inverse().unwrap_or_else(Mat4::identity),
            align,
            target_start,
            hips,
        }
    }

    /// One clip on the target, keyed at every key time of the source clip.
    pub(super) fn clip(&self, source: &Skeleton, clip: &Clip, target: &Skeleton) -> Clip {
        let times = clip.key_times();
        let rest = Pose::rest(target);
        let mut rotations: Vec<Vec<[f32; 4]>> = vec![Vec::with_capacity(times.len()); target.len()];
        let mut translations: Vec<[f32; 3]> = Vec::with_capacity(times.len());
        for &t in &times {
            let mut pose = Pose::rest(source);
            clip.apply(t, &mut pose);
            let skinning = pose.skinning_matrices(source);
            // Each source joint's turn from the bind pose, in the target's model frame.
            let turns: Vec<UnitQuaternion<f32>> =
                skinning.iter().map(|s| self.align * rotation(&(s * self.source_mesh_from_model)) * self.align.inverse()).collect();
            let local = self.target_locals(&turns, target, &rest);
            local.iter().zip(&mut rotations).for_each(|(q, keys)| keys.push([q.i, q.j, q.k, q.w]));
            if let Some(h) = &self.hips {
                let bind_in_mesh = self.source_mesh_from_model.transform_point(&Point3::from(h.source_bind));
                let now = skinning[h.source].transform_point(&bind_in_mesh).coords;
                let at = h.target_bind + self.align * (now - h.source_bind) * h.ratio;
                // Where the hips are with the rest translations, and the mover shifted to put them at `at`.
                let placed = point(&posed_model(target, &local, h.target));
                let parent_from_model = target.joints[h.mover].parent.and_then(|p| posed_model(target, &local, p).try_inverse());
                let shift = parent_from_model.map_or(at - placed, |m| m.transform_vector(&(at - placed)));
                translations.push((target.joints[h.mover].rest_local.translation + shift).into());
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
        if let Some(h) = self.hips.as_ref().filter(|_| !translations.is_empty()) {
            channels.push(Channel {
                joint: h.mover,
                times,
                values: ChannelValues::Translation(translations),
                interpolation: Interpolation::Linear,
            });
        }
        Clip { name: clip.name.clone(), channels, morph_channels: Vec::new() }
    }

    /// Local rotations of the target joints for one source pose (`turns`: each source joint's
    /// turn from its bind orientation, in the target's model frame).
    fn target_locals(&self, turns: &[UnitQuaternion<f32>], target: &Skeleton, rest: &Pose) -> Vec<UnitQuaternion<f32>> {
        let mut world: Vec<UnitQuaternion<f32>> = Vec::with_capacity(target.len());
        let mut local = Vec::with_capacity(target.len());
        for (j, joint) in target.joints.iter().enumerate() {
            let parent_world = joint.parent.map_or(UnitQuaternion::identity(), |p| world[p]);
            let w = match self.partner[j] {
                Some(s) => turns[s] * self.target_start[j],
                None => parent_world * rest.local[j].rotation,
            };
            local.push(parent_world.inverse() * w);
            world.push(w);
        }
        local
    }
}

/// The turn from the source's model frame to the target's that makes the two face alike.
pub(super) fn facing_alignment(source: Character, target: Character) -> Result<UnitQuaternion<f32>, String> {
    alignment(source, &Bound::new(source), target, &Bound::new(target))
}

fn alignment(source: Character, bs: &Bound, target: Character, bt: &Bound) -> Result<UnitQuaternion<f32>, String> {
    let facing = |b: &Bound, s: &Skeleton, which: &str| {
        b.facing(s).ok_or_else(|| format!("the {which} skeleton's left and right upper arms (or thighs) are not side by side"))
    };
    let (fs, ft) = (facing(bs, source.skeleton, "source")?, facing(bt, target.skeleton, "target")?);
    Ok(UnitQuaternion::from_rotation_matrix(&crate::transform::nearest_rotation(&(ft * fs.transpose()))))
}

/// Where a character's model frame shows its mesh: the file's placement, else the root joint's
/// rest skinning matrix.
fn model_from_mesh(c: Character) -> Mat4 {
    let s = c.skeleton;
    c.model_from_mesh.unwrap_or_else(|| {
        let root = (0..s.len()).find(|&j| s.joints[j].deform).unwrap_or(0);
        s.model_from_joints_rest().get(root).map_or_else(Mat4::identity, |m| m * s.joints[root].joint_from_mesh)
    })
}

/// The up direction of a character's model frame.
pub(super) fn model_up(c: Character) -> Vector3<f32> {
    up_in(c, &model_from_mesh(c))
}

fn up_in(c: Character, model_from_mesh: &Mat4) -> Vector3<f32> {
    let up = rotation(model_from_mesh) * Vector3::from(c.up);
    if up.norm() > 1e-6 {
        up.normalize()
    } else {
        Vector3::y()
    }
}

/// The lowest joint above (or at) the target's hips that also holds every paired joint with a
/// role other than the root's: what moves the body when the hips travel.
fn mover(target: &Skeleton, pairs: &[(usize, usize)], hips: usize) -> usize {
    let roles = roles(target);
    let mut m = hips;
    for &(t, _) in pairs.iter().filter(|(t, _)| roles[*t].is_some()) {
        while !target.is_descendant(t, m) {
            match target.joints[m].parent {
                Some(p) => m = p,
                None => return m,
            }
        }
    }
    m
}

/// Per target joint, the turn (target model frame) that brings its bone onto the direction the
/// source's paired bone has at bind: towards the nearest paired joints below it whose partners
/// lie below its own partner (the spine's and neck's chain first), averaged over several. A
/// joint without such a child keeps its parent's turn; the hips and roots keep none.
fn corrections(
    source: &Skeleton,
    bs: &Bound,
    target: &Skeleton,
    bt: &Bound,
    pairs: &[(usize, usize)],
    align: UnitQuaternion<f32>,
) -> Vec<UnitQuaternion<f32>> {
    let partner = partners(target.len(), pairs);
    let target_roles = roles(target);
    let mut out: Vec<UnitQuaternion<f32>> = Vec::with_capacity(target.len());
    for j in 0..target.len() {
        let inherited = target.joints[j].parent.map_or(UnitQuaternion::identity(), |p| out[p]);
        let role = target_roles[j].map(|(r, _)| r);
        let own = match (partner[j], role) {
            (Some(s), r) if r != Some(Role::Hips) && target.joints[j].parent.is_some() => {
                let below = paired_below(target, &partner, j).into_iter().filter(|&(_, sc)| sc != s && source.is_descendant(sc, s));
                let mut below: Vec<(usize, usize)> = below.collect();
                let chain = |c: usize| matches!(target_roles[c], Some((Role::Spine | Role::Neck | Role::Head, _)));
                if matches!(r, Some(Role::Spine | Role::Neck)) && below.iter().any(|&(c, _)| chain(c)) {
                    below.retain(|&(c, _)| chain(c));
                }
                let unit = |v: Vector3<f32>| if v.norm() > 1e-9 { v.normalize() } else { Vector3::zeros() };
                let d_t: Vector3<f32> = below.iter().map(|&(c, _)| unit(bt.points[c] - bt.points[j])).sum();
                let d_s: Vector3<f32> = below.iter().map(|&(_, sc)| unit(align * (bs.points[sc] - bs.points[s]))).sum();
                UnitQuaternion::rotation_between(&d_t, &d_s)
            }
            _ => None,
        };
        let root_like = role == Some(Role::Hips) || target.joints[j].parent.is_none();
        out.push(match own {
            Some(q) => q,
            None if root_like => UnitQuaternion::identity(),
            None => inherited,
        });
    }
    out
}

/// Each target joint's source joint.
fn partners(len: usize, pairs: &[(usize, usize)]) -> Vec<Option<usize>> {
    let mut partner = vec![None; len];
    pairs.iter().for_each(|&(t, s)| partner[t] = Some(s));
    partner
}

/// The nearest joints below `j` on each branch that have a partner, with their partners.
fn paired_below(target: &Skeleton, partner: &[Option<usize>], j: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut stack: Vec<usize> = target.children(j).collect();
    while let Some(c) = stack.pop() {
        match partner[c] {
            Some(s) => out.push((c, s)),
            None => stack.extend(target.children(c)),
        }
    }
    out
}
