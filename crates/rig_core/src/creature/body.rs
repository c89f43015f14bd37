//! A random creature's skeleton: a spine, a head on a neck, a tail, pairs of limbs mirrored
//! across the x = 0 plane, and a radius at every joint for the surface grown around it.

use nalgebra::{UnitQuaternion, Vector3};

use crate::autoskel::JointTree;
use crate::metrics::SplitMix;

/// A joint tree (parents first) with a body radius at each joint.
#[derive(Debug, Clone, Default)]
pub struct Body {
    pub tree: JointTree,
    pub radii: Vec<f32>,
}

/// One bone of a [`Body`]: from joint `parent` to joint `child`.
#[derive(Debug, Clone, Copy)]
pub struct Bone {
    pub parent: usize,
    pub child: usize,
}

impl Body {
    /// Every joint-to-parent segment, in joint order.
    pub fn bones(&self) -> Vec<Bone> {
        self.tree.parents.iter().enumerate().filter_map(|(child, p)| p.map(|parent| Bone { parent, child })).collect()
    }

    fn add(&mut self, position: Vector3<f32>, parent: Option<usize>, radius: f32) -> usize {
        self.tree.positions.push(position);
        self.tree.parents.push(parent);
        self.radii.push(radius);
        self.tree.positions.len() - 1
    }

    /// Appends `spec.steps` joints after `from` (see [`Chain`]); returns them.
    fn chain(&mut self, rng: &mut SplitMix, from: usize, spec: &Chain) -> Vec<usize> {
        let (mut at, mut r, mut direction) = (from, spec.radius, spec.direction);
        let mut joints = Vec::with_capacity(spec.steps);
        for _ in 0..spec.steps {
            let axis = spec.plane_normal.unwrap_or_else(|| Vector3::new(rng.signed(), rng.signed(), rng.signed()));
            if let Some(axis) = nalgebra::Unit::try_new(axis, 1e-6) {
                direction = UnitQuaternion::from_axis_angle(&axis, spec.bend * rng.signed()) * direction;
            }
            let position = self.tree.positions[at] + direction.normalize() * spec.step;
            at = self.add(position, Some(at), r);
            joints.push(at);
            r *= spec.taper;
        }
        joints
    }

    /// Appends the mirror image (x -> -x) of `joints` (a chain whose first joint hangs from a
    /// joint on the mirror plane).
    fn mirror_chain(&mut self, joints: &[usize]) {
        let mut map = std::collections::HashMap::new();
        for &j in joints {
            let p = self.tree.positions[j];
            let parent = self.tree.parents[j].map(|q| *map.get(&q).unwrap_or(&q));
            let m = self.add(Vector3::new(-p.x, p.y, p.z), parent, self.radii[j]);
            map.insert(j, m);
        }
    }
}

/// A chain of joints: `steps` joints `step` apart, the direction turning by up to `bend`
/// radians at each (about any axis, or about `plane_normal` only, which keeps the chain in
/// that plane), the radius starting at `radius` and multiplied by `taper` at each joint.
struct Chain {
    direction: Vector3<f32>,
    steps: usize,
    step: f32,
    bend: f32,
    radius: f32,
    taper: f32,
    plane_normal: Option<Vector3<f32>>,
}

fn range(rng: &mut SplitMix, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * rng.unit()
}

fn count(rng: &mut SplitMix, lo: usize, hi: usize) -> usize {
    lo + (rng.next_u64() % (hi - lo + 1) as u64) as usize
}

/// A random body: upright (spine along +Y) or horizontal (spine along +Z), 2 to 4 spine
/// bones, usually a neck and head, often a tail, 1 to 3 pairs of limbs of 2 to 4 bones.
pub fn random_body(rng: &mut SplitMix) -> Body {
    let mut body = Body::default();
    let upright = rng.unit() < 0.4;
    let forward = if upright { Vector3::y() } else { Vector3::z() };
    let up = if upright { -Vector3::z() } else { Vector3::y() };
    let body_radius = range(rng, 0.08, 0.16);
    let root = body.add(Vector3::zeros(), None, body_radius);
    let in_plane = Some(Vector3::x());
    let spine_chain = Chain {
        direction: forward,
        steps: count(rng, 2, 4),
        step: range(rng, 0.12, 0.25),
        bend: 0.25,
        radius: body_radius * range(rng, 0.8, 1.1),
        taper: 0.95,
        plane_normal: in_plane,
    };
    let mut spine = vec![root];
    spine.extend(body.chain(rng, root, &spine_chain));
    if rng.unit() < 0.85 {
        let top = *spine.last().unwrap_or(&root);
        let direction = (forward + up * range(rng, 0.0, 0.8)).normalize();
        let neck_chain = Chain {
            direction,
            steps: count(rng, 1, 2),
            step: range(rng, 0.06, 0.14),
            bend: 0.3,
            radius: body_radius * 0.55,
            taper: 0.9,
            plane_normal: in_plane,
        };
        let neck = body.chain(rng, top, &neck_chain);
        let head_radius = body_radius * range(rng, 0.6, 1.0);
        let head_chain =
            Chain { direction, steps: 1, step: head_radius * 1.6, bend: 0.4, radius: head_radius, taper: 1.0, plane_normal: in_plane };
        body.chain(rng, *neck.last().unwrap_or(&top), &head_chain);
    }
    if rng.unit() < 0.6 {
        let tail_chain = Chain {
            direction: (-forward + up * range(rng, -0.4, 0.6)).normalize(),
            steps: count(rng, 2, 6),
            step: range(rng, 0.06, 0.16),
            bend: 0.35,
            radius: body_radius * 0.6,
            taper: 0.8,
            plane_normal: in_plane,
        };
        body.chain(rng, root, &tail_chain);
    }
    let pairs = count(rng, 1, 3);
    for pair in 0..pairs {
        let attach = spine[if pairs == 1 { count(rng, 0, spine.len() - 1) } else { pair * (spine.len() - 1) / (pairs - 1) }];
        limb_pair(&mut body, rng, attach, up);
    }
    body
}

/// A limb hanging from spine joint `attach` on the +x side, and its mirror image.
fn limb_pair(body: &mut Body, rng: &mut SplitMix, attach: usize, up: Vector3<f32>) {
    let r = body.radii[attach];
    let shoulder = body.tree.positions[attach] + Vector3::x() * r * 0.6;
    let shoulder = body.add(shoulder, Some(attach), r * range(rng, 0.4, 0.6));
    let limb_chain = Chain {
        direction: (Vector3::x() * range(rng, 0.3, 1.0) - up * range(rng, 0.0, 1.0) + Vector3::z() * range(rng, -0.4, 0.4)).normalize(),
        steps: count(rng, 2, 4),
        step: range(rng, 0.1, 0.25),
        bend: 0.5,
        radius: body.radii[shoulder],
        taper: 0.85,
        plane_normal: None,
    };
    let limb = body.chain(rng, shoulder, &limb_chain);
    let mut joints = vec![shoulder];
    joints.extend(limb);
    body.mirror_chain(&joints);
}

/// Segment-to-segment distance (closest points clamped to both segments).
pub fn segment_distance(a0: Vector3<f32>, a1: Vector3<f32>, b0: Vector3<f32>, b1: Vector3<f32>) -> f32 {
    let (d1, d2, r) = (a1 - a0, b1 - b0, a0 - b0);
    let (a, e, f) = (d1.norm_squared(), d2.norm_squared(), d2.dot(&r));
    let (c, b) = (d1.dot(&r), d1.dot(&d2));
    let denom = a * e - b * b;
    let mut s = if denom > 1e-12 { ((b * f - c * e) / denom).clamp(0.0, 1.0) } else { 0.0 };
    let mut t = if e > 1e-12 { (b * s + f) / e } else { 0.0 };
    if t < 0.0 {
        t = 0.0;
        s = if a > 1e-12 { (-c / a).clamp(0.0, 1.0) } else { 0.0 };
    } else if t > 1.0 {
        t = 1.0;
        s = if a > 1e-12 { ((b - c) / a).clamp(0.0, 1.0) } else { 0.0 };
    }
    ((a0 + d1 * s) - (b0 + d2 * t)).norm()
}

/// True when two bones more than two joints apart come so close that their surfaces would
/// merge: such a body is drawn again, since its weights "from construction" would be
/// ambiguous where the limbs touch.
pub fn self_intersects(body: &Body) -> bool {
    let n = body.tree.positions.len();
    let mut adjacent = vec![Vec::new(); n];
    for (j, p) in body.tree.parents.iter().enumerate() {
        if let Some(p) = *p {
            adjacent[j].push(p);
            adjacent[p].push(j);
        }
    }
    let within_two = |x: usize, y: usize| x == y || adjacent[x].contains(&y) || adjacent[x].iter().any(|z| adjacent[*z].contains(&y));
    let bones = body.bones();
    let near = |a: &Bone, b: &Bone| [a.parent, a.child].iter().any(|&x| [b.parent, b.child].iter().any(|&y| within_two(x, y)));
    let p = &body.tree.positions;
    for (i, a) in bones.iter().enumerate() {
        for b in &bones[i + 1..] {
            if near(a, b) {
                continue;
            }
            let ra = body.radii[a.parent].max(body.radii[a.child]);
            let rb = body.radii[b.parent].max(body.radii[b.child]);
            if segment_distance(p[a.parent], p[a.child], p[b.parent], p[b.child]) < 1.2 * (ra + rb) {
                return true;
            }
        }
    }
    false
}
