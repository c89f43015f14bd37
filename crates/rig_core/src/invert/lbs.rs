//! One frame of skeletal inversion: the joint rotations (and translations and scales where
//! asked) that bring a linear-blend-skinned mesh nearest a target, by Levenberg-Marquardt on
//! analytic Jacobians.
//!
//! Each step turns joint `k`'s subtree about the joint by a small model-space rotation `w_k`,
//! moves it by `u_k` and stretches it along the joint's own axes by `s_k`, so vertex `i` moves
//! by `sum_k w_k x a_ik + W_ik u_k + A_k diag(A_k^-1 a_ik) s_k`, where
//! `a_ik = sum_{j below k} w_ij (M_j v_i - o_k)`, `W_ik = sum_{j below k} w_ij` and `A_k` is
//! joint `k`'s linear map in model space. The normal equations are sums of these over
//! vertices; [`super::moments`] turns them into sums over influence pairs.

use nalgebra::{DMatrix, DVector, Matrix3, Matrix3x4, Matrix4, UnitQuaternion, Vector3};

use super::moments::{PairMoments, TargetMoments};
use crate::pose::Pose;
use crate::skeleton::Skeleton;
use crate::transform::Trs;

/// Local transforms in double precision (the solver's working pose).
#[derive(Debug, Clone, PartialEq)]
pub struct PoseF64 {
    pub translation: Vec<Vector3<f64>>,
    pub rotation: Vec<UnitQuaternion<f64>>,
    pub scale: Vec<Vector3<f64>>,
}

impl PoseF64 {
    pub fn from_pose(pose: &Pose) -> PoseF64 {
        PoseF64 {
            translation: pose.local.iter().map(|t| t.translation.cast()).collect(),
            rotation: pose.local.iter().map(|t| t.rotation.cast()).collect(),
            scale: pose.local.iter().map(|t| t.scale.cast()).collect(),
        }
    }

    pub fn to_pose(&self) -> Pose {
        let local = (0..self.rotation.len())
            .map(|j| Trs { translation: self.translation[j].cast(), rotation: self.rotation[j].cast(), scale: self.scale[j].cast() })
            .collect();
        Pose { local }
    }

    fn local_matrix(&self, j: usize) -> Matrix4<f64> {
        let mut m = self.rotation[j].to_homogeneous();
        for c in 0..3 {
            for r in 0..3 {
                m[(r, c)] *= self.scale[j][c];
            }
            m[(c, 3)] = self.translation[j][c];
        }
        m
    }

    /// `model_from_joint` for every joint (parents before children).
    pub fn model_from_joints(&self, parents: &[Option<usize>]) -> Vec<Matrix4<f64>> {
        let mut out: Vec<Matrix4<f64>> = Vec::with_capacity(parents.len());
        for (j, parent) in parents.iter().enumerate() {
            let local = self.local_matrix(j);
            out.push(parent.map_or(local, |p| out[p] * local));
        }
        out
    }
}

/// Skinning matrices, joint origins and `model_from_joint`, per joint.
type Skinning = (Vec<Matrix3x4<f64>>, Vec<Vector3<f64>>, Vec<Matrix4<f64>>);

/// The skeleton as the solver sees it.
#[derive(Debug, Clone)]
pub struct SkeletonF64 {
    pub parents: Vec<Option<usize>>,
    pub joint_from_mesh: Vec<Matrix4<f64>>,
}

impl SkeletonF64 {
    pub fn new(skeleton: &Skeleton) -> SkeletonF64 {
        SkeletonF64 {
            parents: skeleton.joints.iter().map(|j| j.parent).collect(),
            joint_from_mesh: skeleton.joints.iter().map(|j| j.joint_from_mesh.cast()).collect(),
        }
    }

    /// Skinning matrices (top three rows of `model_from_mesh`) and joint origins.
    fn skinning(&self, pose: &PoseF64) -> Skinning {
        let model = pose.model_from_joints(&self.parents);
        let m = model.iter().zip(&self.joint_from_mesh).map(|(a, b)| (a * b).fixed_rows::<3>(0).into_owned()).collect();
        let origins = model.iter().map(|a| Vector3::new(a[(0, 3)], a[(1, 3)], a[(2, 3)])).collect();
        (m, origins, model)
    }
}

/// Which joints the solver turns, which it also moves and which it also scales; each with its
/// solved ancestors. Parameters: three per turned joint, then per moved joint, then per scaled one.
#[derive(Debug, Clone)]
pub struct Layout {
    pub rotated: Vec<usize>,
    pub translated: Vec<usize>,
    pub scaled: Vec<usize>,
    /// Per joint: indices into `rotated` of itself and its ancestors that turn.
    rotating_above: Vec<Vec<usize>>,
    /// Per joint: indices into `translated` of itself and its ancestors that move.
    moving_above: Vec<Vec<usize>>,
    /// Per joint: indices into `scaled` of itself and its ancestors that scale.
    scaling_above: Vec<Vec<usize>>,
}

impl Layout {
    pub fn new(parents: &[Option<usize>], rotated: Vec<usize>, translated: Vec<usize>, scaled: Vec<usize>) -> Layout {
        let slots = |set: &[usize]| {
            let mut slot = vec![None; parents.len()];
            set.iter().enumerate().for_each(|(s, &j)| slot[j] = Some(s));
            (0..parents.len())
                .map(|j| {
                    let mut out = Vec::new();
                    let mut at = Some(j);
                    while let Some(a) = at {
                        out.extend(slot[a]);
                        at = parents[a];
                    }
                    out
                })
                .collect::<Vec<Vec<usize>>>()
        };
        let rotating_above = slots(&rotated);
        let moving_above = slots(&translated);
        let scaling_above = slots(&scaled);
        Layout { rotated, translated, scaled, rotating_above, moving_above, scaling_above }
    }

    pub fn parameters(&self) -> usize {
        3 * (self.rotated.len() + self.translated.len() + self.scaled.len())
    }

    /// Index of the first scale parameter.
    fn scale_offset(&self) -> usize {
        3 * (self.rotated.len() + self.translated.len())
    }
}

/// Penalty on the change from the frame's starting pose (the previous frame's solution):
/// `rotation` per squared radian (and per squared step of a log-scale), `translation` per
/// squared model unit, both in the units of the squared-distance energy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Smoothness {
    pub rotation: f64,
    pub translation: f64,
}

/// What one frame's solve reached.
#[derive(Debug, Clone)]
pub struct FrameFit {
    pub pose: PoseF64,
    /// Weighted sum of squared vertex distances (the smoothness penalty not included).
    pub energy: f64,
    pub iterations: usize,
}

struct Normal {
    h: DMatrix<f64>,
    g: DVector<f64>,
    energy: f64,
}

fn skew(v: &Vector3<f64>) -> Matrix3<f64> {
    Matrix3::new(0.0, -v.z, v.y, v.z, 0.0, -v.x, -v.y, v.x, 0.0)
}

fn axial(c: &Matrix3<f64>) -> Vector3<f64> {
    Vector3::new(c[(1, 2)] - c[(2, 1)], c[(2, 0)] - c[(0, 2)], c[(0, 1)] - c[(1, 0)])
}

/// Sum of weighted squared distances for skinning matrices `m`.
fn energy(m: &[Matrix3x4<f64>], pairs: &PairMoments, target: &TargetMoments) -> f64 {
    let mut e = target.squared;
    for (j, k, q) in &pairs.pairs {
        e += (m[*j] * q * m[*k].transpose()).trace();
    }
    for (mj, tj) in m.iter().zip(&target.per_joint) {
        e -= 2.0 * (mj * tj.transpose()).trace();
    }
    e
}

#[derive(Clone, Copy)]
struct RotPair {
    b: Matrix3<f64>,
    left: Vector3<f64>,
    right: Vector3<f64>,
    c: f64,
}

impl Default for RotPair {
    fn default() -> Self {
        RotPair { b: Matrix3::zeros(), left: Vector3::zeros(), right: Vector3::zeros(), c: 0.0 }
    }
}

impl RotPair {
    fn add(&mut self, b: &Matrix3<f64>, left: &Vector3<f64>, right: &Vector3<f64>, c: f64) {
        self.b += b;
        self.left += left;
        self.right += right;
        self.c += c;
    }

    /// `sum_i a_ia a_ib^T` for pivots at `oa` and `ob`.
    fn outer(&self, oa: &Vector3<f64>, ob: &Vector3<f64>) -> Matrix3<f64> {
        self.b - self.left * ob.transpose() - oa * self.right.transpose() + oa * ob.transpose() * self.c
    }
}

/// The linear maps the Jacobian needs: each turned joint's parent's and each scaled joint's own.
struct Linears {
    parent: Vec<Matrix3<f64>>,
    own: Vec<Matrix3<f64>>,
}

impl Linears {
    fn of(layout: &Layout, model: &[Matrix4<f64>], parents: &[Option<usize>]) -> Linears {
        let linear = |j: usize| model[j].fixed_view::<3, 3>(0, 0).into_owned();
        Linears { parent: parent_linears(layout, model, parents), own: layout.scaled.iter().map(|&j| linear(j)).collect() }
    }
}

fn inverse_or_identity(a: &Matrix3<f64>) -> Matrix3<f64> {
    a.try_inverse().unwrap_or_else(Matrix3::identity)
}

/// Each turned joint's parent's linear map in model space (identity for a root): a turn
/// `t` of the joint's local rotation moves a vertex `x` of its subtree by
/// `A (t x A^-1 (x - o))`, so `A` enters the Jacobian (it is a rotation only when the
/// parent's scale is uniform).
fn parent_linears(layout: &Layout, model: &[Matrix4<f64>], parents: &[Option<usize>]) -> Vec<Matrix3<f64>> {
    layout.rotated.iter().map(|&j| parents[j].map_or_else(Matrix3::identity, |p| model[p].fixed_view::<3, 3>(0, 0).into_owned())).collect()
}

/// `sum_st y_st [e_s]x^T g [e_t]x`: the block `sum_i [u_i]x^T g [v_i]x` from `y = sum_i u_i v_i^T`.
fn cross_block(y: &Matrix3<f64>, g: &Matrix3<f64>) -> Matrix3<f64> {
    let e = [skew(&Vector3::x()), skew(&Vector3::y()), skew(&Vector3::z())];
    let mut out = Matrix3::zeros();
    for s in 0..3 {
        for t in 0..3 {
            if y[(s, t)] != 0.0 {
                out += e[s].transpose() * g * e[t] * y[(s, t)];
            }
        }
    }
    out
}

fn normal_equations(
    layout: &Layout,
    m: &[Matrix3x4<f64>],
    origins: &[Vector3<f64>],
    linears: &Linears,
    pairs: &PairMoments,
    target: &TargetMoments,
) -> Normal {
    let (nr, nt, ns) = (layout.rotated.len(), layout.translated.len(), layout.scaled.len());
    let joints = m.len();
    let mut rr = vec![RotPair::default(); nr * nr];
    let mut rs = vec![RotPair::default(); nr * ns];
    let mut ss = vec![RotPair::default(); ns * ns];
    let mut rt = vec![(Vector3::<f64>::zeros(), 0.0f64); nr * nt];
    let mut st = vec![(Vector3::<f64>::zeros(), 0.0f64); ns * nt];
    let mut tt = vec![0.0f64; nt * nt];
    let mut p_sum = vec![Matrix3::<f64>::zeros(); joints];
    let mut p_vec = vec![Vector3::<f64>::zeros(); joints];
    for (j, k, q) in &pairs.pairs {
        let (j, k) = (*j, *k);
        let mq = m[j] * q;
        let b = mq * m[k].transpose();
        let left: Vector3<f64> = mq.column(3).into_owned();
        let right: Vector3<f64> = m[k] * q.row(3).transpose();
        let c = q[(3, 3)];
        p_sum[j] += b;
        p_vec[j] += right;
        for &a in &layout.rotating_above[j] {
            for &bb in &layout.rotating_above[k] {
                rr[a * nr + bb].add(&b, &left, &right, c);
            }
            for &bb in &layout.scaling_above[k] {
                rs[a * ns + bb].add(&b, &left, &right, c);
            }
            for &bb in &layout.moving_above[k] {
                let e = &mut rt[a * nt + bb];
                e.0 += left;
                e.1 += c;
            }
        }
        for &a in &layout.scaling_above[j] {
            for &bb in &layout.scaling_above[k] {
                ss[a * ns + bb].add(&b, &left, &right, c);
            }
            for &bb in &layout.moving_above[k] {
                let e = &mut st[a * nt + bb];
                e.0 += left;
                e.1 += c;
            }
        }
        for &a in &layout.moving_above[j] {
            for &bb in &layout.moving_above[k] {
                tt[a * nt + bb] += c;
            }
        }
    }
    let n = layout.parameters();
    let so = layout.scale_offset();
    let mut h = DMatrix::<f64>::zeros(n, n);
    let rot_origin = |a: usize| origins[layout.rotated[a]];
    let scale_origin = |a: usize| origins[layout.scaled[a]];
    let inverses: Vec<Matrix3<f64>> = linears.parent.iter().map(inverse_or_identity).collect();
    let own_inverses: Vec<Matrix3<f64>> = linears.own.iter().map(inverse_or_identity).collect();
    let mut put = |r: usize, c: usize, block: Matrix3<f64>, mirror: bool| {
        h.fixed_view_mut::<3, 3>(r, c).copy_from(&block);
        if mirror {
            h.fixed_view_mut::<3, 3>(c, r).copy_from(&block.transpose());
        }
    };
    for a in 0..nr {
        for bb in 0..nr {
            // sum_i a_ia a_ib^T, then in each joint's parent frame.
            let x = rr[a * nr + bb].outer(&rot_origin(a), &rot_origin(bb));
            let y = inverses[a] * x * inverses[bb].transpose();
            put(3 * a, 3 * bb, cross_block(&y, &(linears.parent[a].transpose() * linears.parent[bb])), false);
        }
        for bb in 0..nt {
            let (left, c) = rt[a * nt + bb];
            put(3 * a, 3 * (nr + bb), skew(&(inverses[a] * (left - rot_origin(a) * c))) * linears.parent[a].transpose(), true);
        }
        for bb in 0..ns {
            // Column t: Y_t x G_t, with Y = sum_i (P_a^-1 a_ia)(A_b^-1 a_ib)^T and G = P_a^T A_b.
            let x = rs[a * ns + bb].outer(&rot_origin(a), &scale_origin(bb));
            let y = inverses[a] * x * own_inverses[bb].transpose();
            let g = linears.parent[a].transpose() * linears.own[bb];
            let block = Matrix3::from_columns(&[0, 1, 2].map(|t| y.column(t).cross(&g.column(t))));
            put(3 * a, so + 3 * bb, block, true);
        }
    }
    for a in 0..ns {
        for bb in 0..ns {
            // (A_a^T A_b) entrywise times sum_i (A_a^-1 a_ia)(A_b^-1 a_ib)^T.
            let x = ss[a * ns + bb].outer(&scale_origin(a), &scale_origin(bb));
            let y = own_inverses[a] * x * own_inverses[bb].transpose();
            put(so + 3 * a, so + 3 * bb, (linears.own[a].transpose() * linears.own[bb]).component_mul(&y), false);
        }
        for bb in 0..nt {
            let (left, c) = st[a * nt + bb];
            let z = own_inverses[a] * (left - scale_origin(a) * c);
            put(so + 3 * a, 3 * (nr + bb), Matrix3::from_diagonal(&z) * linears.own[a].transpose(), true);
        }
    }
    for a in 0..nt {
        for bb in 0..nt {
            put(3 * (nr + a), 3 * (nr + bb), Matrix3::identity() * tt[a * nt + bb], false);
        }
    }
    let mut g = DVector::<f64>::zeros(n);
    let mut c_rot = vec![Matrix3::<f64>::zeros(); nr];
    let mut v_rot = vec![Vector3::<f64>::zeros(); nr];
    let mut c_scale = vec![Matrix3::<f64>::zeros(); ns];
    let mut v_scale = vec![Vector3::<f64>::zeros(); ns];
    let mut energy = target.squared;
    for j in 0..joints {
        let tj = &target.per_joint[j];
        let mt = m[j] * tj.transpose();
        let t_bar: Vector3<f64> = tj.column(3).into_owned();
        energy += p_sum[j].trace() - 2.0 * mt.trace();
        for &a in &layout.rotating_above[j] {
            c_rot[a] += mt - p_sum[j];
            v_rot[a] += t_bar - p_vec[j];
        }
        for &a in &layout.scaling_above[j] {
            c_scale[a] += mt - p_sum[j];
            v_scale[a] += t_bar - p_vec[j];
        }
        for &bb in &layout.moving_above[j] {
            let mut seg = g.fixed_rows_mut::<3>(3 * (nr + bb));
            seg += t_bar - p_vec[j];
        }
    }
    for a in 0..nr {
        // sum_i a_ia r_i^T, carried into the parent's frame.
        let c = c_rot[a] - rot_origin(a) * v_rot[a].transpose();
        g.fixed_rows_mut::<3>(3 * a).copy_from(&axial(&(inverses[a] * c * linears.parent[a])));
    }
    for a in 0..ns {
        // The diagonal of A^-1 (sum_i a_ia r_i^T) A: each local axis's share.
        let c = c_scale[a] - scale_origin(a) * v_scale[a].transpose();
        g.fixed_rows_mut::<3>(so + 3 * a).copy_from(&(own_inverses[a] * c * linears.own[a]).diagonal());
    }
    Normal { h, g, energy }
}

/// The pose after a step: each turned joint's local rotation turned by its step (in the
/// parent's frame), each moved joint translated by its step in model space, each scaled
/// joint's scale multiplied by the exponential of its step (it stays positive).
fn apply_step(pose: &PoseF64, layout: &Layout, model: &[Matrix4<f64>], parents: &[Option<usize>], delta: &DVector<f64>) -> PoseF64 {
    let mut out = pose.clone();
    let nr = layout.rotated.len();
    for (a, &j) in layout.rotated.iter().enumerate() {
        let t = Vector3::new(delta[3 * a], delta[3 * a + 1], delta[3 * a + 2]);
        out.rotation[j] = UnitQuaternion::from_scaled_axis(t) * pose.rotation[j];
    }
    for (b, &j) in layout.translated.iter().enumerate() {
        let u = Vector3::new(delta[3 * (nr + b)], delta[3 * (nr + b) + 1], delta[3 * (nr + b) + 2]);
        let parent_linear = parents[j].map_or_else(Matrix3::identity, |p| model[p].fixed_view::<3, 3>(0, 0).into_owned());
        let inverse = parent_linear.try_inverse().unwrap_or_else(Matrix3::identity);
        out.translation[j] += inverse * u;
    }
    let so = layout.scale_offset();
    for (c, &j) in layout.scaled.iter().enumerate() {
        let s = Vector3::new(delta[so + 3 * c], delta[so + 3 * c + 1], delta[so + 3 * c + 2]);
        out.scale[j] = out.scale[j].component_mul(&s.map(f64::exp));
    }
    out
}

/// When a frame's solve stops.
#[derive(Debug, Clone, Copy)]
pub struct Stopping {
    pub max_iterations: usize,
    /// Energy low enough to stop at (the targets' own rounding).
    pub floor: f64,
    /// A step that lowers the energy by less than this fraction ends the solve.
    pub min_gain: f64,
}

/// Levenberg-Marquardt from `start`, stopping at `stop`'s limits. `smooth` pulls the result
/// towards `start`.
pub fn solve_frame(
    skeleton: &SkeletonF64,
    layout: &Layout,
    pairs: &PairMoments,
    target: &TargetMoments,
    start: &PoseF64,
    smooth: Smoothness,
    stop: Stopping,
) -> FrameFit {
    let max_iterations = stop.max_iterations;
    let mut pose = start.clone();
    let mut travelled = DVector::<f64>::zeros(layout.parameters());
    let (nr3, so) = (3 * layout.rotated.len(), layout.scale_offset());
    // A scale step, like a turn, moves a vertex by about its distance from the joint.
    let penalty_weights =
        DVector::<f64>::from_fn(layout.parameters(), |i, _| if i < nr3 || i >= so { smooth.rotation } else { smooth.translation });
    let penalty = |t: &DVector<f64>| t.iter().zip(penalty_weights.iter()).map(|(x, w)| w * x * x).sum::<f64>();
    let mut lambda = 1e-4;
    let mut iterations = 0;
    let (mut m, mut origins, mut model) = skeleton.skinning(&pose);
    let mut current = energy(&m, pairs, target);
    if layout.parameters() == 0 {
        return FrameFit { pose, energy: current, iterations };
    }
    let floor = stop.floor.max(1e-13 * target.squared);
    while iterations < max_iterations && current > floor {
        let linears = Linears::of(layout, &model, &skeleton.parents);
        let normal = normal_equations(layout, &m, &origins, &linears, pairs, target);
        current = normal.energy;
        let mut g = normal.g.clone();
        for i in 0..g.len() {
            g[i] -= penalty_weights[i] * travelled[i];
        }
        let scale = (0..normal.h.nrows()).map(|i| normal.h[(i, i)]).fold(0.0f64, f64::max).max(1e-30);
        let mut accepted = false;
        for _ in 0..12 {
            let mut a = normal.h.clone();
            for i in 0..a.nrows() {
                a[(i, i)] += penalty_weights[i] + lambda * (a[(i, i)] + 1e-9 * scale);
            }
            let Some(chol) = a.cholesky() else {
                lambda *= 10.0;
                continue;
            };
            let delta = chol.solve(&g);
            let candidate = apply_step(&pose, layout, &model, &skeleton.parents, &delta);
            let (cm, co, cmodel) = skeleton.skinning(&candidate);
            let e = energy(&cm, pairs, target);
            let moved = &travelled + &delta;
            if e + penalty(&moved) < current + penalty(&travelled) {
                let gain = current + penalty(&travelled) - e - penalty(&moved);
                pose = candidate;
                (m, origins, model) = (cm, co, cmodel);
                travelled = moved;
                current = e;
                lambda = (lambda * 0.3).max(1e-12);
                accepted = gain > stop.min_gain * (current + penalty(&travelled));
                break;
            }
            lambda *= 8.0;
        }
        iterations += 1;
        if !accepted {
            break;
        }
    }
    FrameFit { pose, energy: current.max(0.0), iterations }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invert::moments::skinned_vertices;
    use crate::weights::SkinWeights;

    /// A three-joint chain with non-uniform scales, its moments against a stretched target, and
    /// a layout in which every joint turns, moves and scales.
    fn chain() -> (SkeletonF64, PoseF64, Vec<[f32; 3]>, SkinWeights, PairMoments, TargetMoments, Layout) {
        let parents = vec![None, Some(0), Some(1)];
        let skeleton = SkeletonF64 { parents: parents.clone(), joint_from_mesh: vec![Matrix4::identity(); 3] };
        let pose = PoseF64 {
            translation: vec![Vector3::new(0.1, 0.0, 0.2), Vector3::new(0.0, 1.0, 0.0), Vector3::new(0.0, 0.8, 0.1)],
            rotation: vec![
                UnitQuaternion::from_euler_angles(0.1, 0.2, 0.3),
                UnitQuaternion::from_euler_angles(-0.4, 0.1, 0.0),
                UnitQuaternion::from_euler_angles(0.0, 0.5, -0.2),
            ],
            scale: vec![Vector3::new(1.0, 1.3, 0.8), Vector3::new(0.7, 1.0, 1.2), Vector3::new(1.1, 0.9, 1.0)],
        };
        let positions: Vec<[f32; 3]> = (0..30).map(|i| [(i as f32 * 0.7).sin(), i as f32 * 0.08, (i as f32 * 1.3).cos()]).collect();
        let target: Vec<[f32; 3]> = positions.iter().map(|p| [p[0] + 0.2, p[1] * 1.1, p[2] - 0.1]).collect();
        let weights = SkinWeights::from_rows((0..30).map(|i| {
            let f = i as f32 / 29.0;
            vec![(0u32, 1.0 - f), (1, f * (1.0 - f)), (2, f * f)]
        }));
        let vertices = skinned_vertices(&weights, 30);
        let pairs = PairMoments::gather(&positions, &weights, &vertices, None);
        let tm = TargetMoments::gather(&positions, &target, &weights, &vertices, 3, None);
        let layout = Layout::new(&parents, vec![0, 1, 2], vec![0, 1, 2], vec![0, 1, 2]);
        (skeleton, pose, positions, weights, pairs, tm, layout)
    }

    /// Gauss-Newton's gradient is the derivative of the energy, checked by finite differences
    /// for every turn, move and scale parameter.
    #[test]
    fn the_gradient_is_the_energys_slope() {
        let (skeleton, pose, _, _, pairs, tm, layout) = chain();
        let parents = skeleton.parents.clone();
        let (m, o, model) = skeleton.skinning(&pose);
        let normal = normal_equations(&layout, &m, &o, &Linears::of(&layout, &model, &parents), &pairs, &tm);
        assert!((normal.energy - energy(&m, &pairs, &tm)).abs() < 1e-9);
        let eps = 1e-6;
        for i in 0..layout.parameters() {
            let mut d = DVector::zeros(layout.parameters());
            d[i] = eps;
            let plus = energy(&skeleton.skinning(&apply_step(&pose, &layout, &model, &parents, &d)).0, &pairs, &tm);
            d[i] = -eps;
            let minus = energy(&skeleton.skinning(&apply_step(&pose, &layout, &model, &parents, &d)).0, &pairs, &tm);
            let slope = (plus - minus) / (2.0 * eps);
            assert!((slope + 2.0 * normal.g[i]).abs() < 1e-5 * (1.0 + slope.abs()), "parameter {i}: {slope} vs {}", -2.0 * normal.g[i]);
        }
    }

    /// The normal matrix is J^T J of the vertices' Jacobian taken by finite differences, for
    /// every pair of turn, move and scale parameters.
    #[test]
    fn the_normal_matrix_is_the_jacobians_square() {
        let (skeleton, pose, positions, weights, pairs, tm, layout) = chain();
        let parents = skeleton.parents.clone();
        let (m, o, model) = skeleton.skinning(&pose);
        let normal = normal_equations(&layout, &m, &o, &Linears::of(&layout, &model, &parents), &pairs, &tm);
        let skinned = |p: &PoseF64| -> DVector<f64> {
            let (ms, _, _) = skeleton.skinning(p);
            let mut out = DVector::zeros(3 * positions.len());
            for (i, v) in positions.iter().enumerate() {
                let x = nalgebra::Vector4::new(v[0] as f64, v[1] as f64, v[2] as f64, 1.0);
                let (js, ws) = weights.row(i);
                let y: Vector3<f64> = js.iter().zip(ws).map(|(&j, &w)| ms[j as usize] * x * w as f64).sum();
                out.fixed_rows_mut::<3>(3 * i).copy_from(&y);
            }
            out
        };
        let n = layout.parameters();
        let eps = 1e-6;
        let mut jacobian = DMatrix::<f64>::zeros(3 * positions.len(), n);
        for c in 0..n {
            let mut d = DVector::zeros(n);
            d[c] = eps;
            let plus = skinned(&apply_step(&pose, &layout, &model, &parents, &d));
            d[c] = -eps;
            let minus = skinned(&apply_step(&pose, &layout, &model, &parents, &d));
            jacobian.set_column(c, &((plus - minus) / (2.0 * eps)));
        }
        let expected = jacobian.transpose() * &jacobian;
        let size = expected.amax();
        for r in 0..n {
            for c in 0..n {
                let (a, b) = (normal.h[(r, c)], expected[(r, c)]);
                assert!((a - b).abs() < 1e-5 * size, "entry ({r}, {c}): {a} vs {b}");
            }
        }
    }

    /// A target made by scaling joints non-uniformly is reached exactly when scales are solved.
    #[test]
    fn scaled_joints_are_recovered() {
        let (skeleton, pose, positions, weights, pairs, _, layout) = chain();
        let mut truth = pose.clone();
        truth.scale[1] = truth.scale[1].component_mul(&Vector3::new(1.3, 0.8, 1.1));
        truth.scale[2] = truth.scale[2].component_mul(&Vector3::new(0.9, 1.2, 1.0));
        truth.rotation[1] = UnitQuaternion::from_euler_angles(0.2, 0.0, 0.1) * truth.rotation[1];
        let (ms, _, _) = skeleton.skinning(&truth);
        let target: Vec<[f32; 3]> = positions
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let x = nalgebra::Vector4::new(v[0] as f64, v[1] as f64, v[2] as f64, 1.0);
                let (js, ws) = weights.row(i);
                let y: Vector3<f64> = js.iter().zip(ws).map(|(&j, &w)| ms[j as usize] * x * w as f64).sum();
                [y.x as f32, y.y as f32, y.z as f32]
            })
            .collect();
        let vertices = skinned_vertices(&weights, 30);
        let tm = TargetMoments::gather(&positions, &target, &weights, &vertices, 3, None);
        let stop = Stopping { max_iterations: 200, floor: 0.0, min_gain: 1e-12 };
        let fit = solve_frame(&skeleton, &layout, &pairs, &tm, &pose, Smoothness::default(), stop);
        let rms = (fit.energy / 30.0).sqrt();
        assert!(rms < 1e-5, "root mean square distance {rms} after {} steps", fit.iterations);
        let without = Layout::new(&skeleton.parents, vec![0, 1, 2], vec![0, 1, 2], vec![]);
        let turned = solve_frame(&skeleton, &without, &pairs, &tm, &pose, Smoothness::default(), stop);
        assert!(turned.energy > 100.0 * fit.energy.max(1e-12), "turning and moving alone cannot follow the scales");
    }
}
