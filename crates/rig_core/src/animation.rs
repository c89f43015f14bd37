//! Animation clips: per-joint translation, rotation and scale curves, plus morph weights.

use nalgebra::{Quaternion, UnitQuaternion, Vector3};

use crate::pose::Pose;

/// How a curve is evaluated between keys (glTF's three modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interpolation {
    #[default]
    Linear,
    Step,
    /// Hermite spline; values hold `[in_tangent, value, out_tangent]` per key.
    CubicSpline,
}

/// Key values of a channel. Rotations are quaternions stored `[x, y, z, w]`.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelValues {
    Translation(Vec<[f32; 3]>),
    Rotation(Vec<[f32; 4]>),
    Scale(Vec<[f32; 3]>),
}

impl ChannelValues {
    pub fn len(&self) -> usize {
        match self {
            ChannelValues::Translation(v) | ChannelValues::Scale(v) => v.len(),
            ChannelValues::Rotation(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn path_name(&self) -> &'static str {
        match self {
            ChannelValues::Translation(_) => "translation",
            ChannelValues::Rotation(_) => "rotation",
            ChannelValues::Scale(_) => "scale",
        }
    }
}

/// One animated property of one joint.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub joint: usize,
    /// Key times in seconds, increasing.
    pub times: Vec<f32>,
    pub values: ChannelValues,
    pub interpolation: Interpolation,
}

/// Morph target weights of one mesh group over time (`targets` values per key, or
/// `3 * targets` for cubic splines).
#[derive(Debug, Clone, PartialEq)]
pub struct MorphWeightsChannel {
    pub group: usize,
    pub times: Vec<f32>,
    pub values: Vec<f32>,
    pub interpolation: Interpolation,
}

impl MorphWeightsChannel {
    /// The `targets` weights at `time_secs`.
    pub fn sample(&self, time_secs: f32, targets: usize) -> Vec<f32> {
        let cubic = self.interpolation == Interpolation::CubicSpline;
        let stride = if cubic { 3 * targets } else { targets };
        let at = |key: usize, slot: usize| -> Vec<f32> {
            let base = key * stride + if cubic { slot * targets } else { 0 };
            (0..targets).map(|k| self.values.get(base + k).copied().unwrap_or(0.0)).collect()
        };
        if targets == 0 || self.times.is_empty() {
            return vec![0.0; targets];
        }
        let (i, f) = segment(&self.times, time_secs);
        let a = at(i, 1);
        if f == 0.0 || i + 1 >= self.times.len() || self.interpolation == Interpolation::Step {
            return a;
        }
        let b = at(i + 1, 1);
        if cubic {
            let dt = self.times[i + 1] - self.times[i];
            let (out_a, in_b) = (at(i, 2), at(i + 1, 0));
            return (0..targets).map(|k| hermite(a[k], out_a[k] * dt, b[k], in_b[k] * dt, f)).collect();
        }
        a.iter().zip(&b).map(|(x, y)| x + (y - x) * f).collect()
    }
}

/// A named animation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Clip {
    pub name: String,
    pub channels: Vec<Channel>,
    pub morph_channels: Vec<MorphWeightsChannel>,
}

impl Clip {
    /// Time of the last key in seconds.
    pub fn duration_secs(&self) -> f32 {
        let joint_end = self.channels.iter().filter_map(|c| c.times.last().copied());
        let morph_end = self.morph_channels.iter().filter_map(|c| c.times.last().copied());
        joint_end.chain(morph_end).fold(0.0, f32::max)
    }

    /// Time of the first key in seconds.
    pub fn start_secs(&self) -> f32 {
        let joint_start = self.channels.iter().filter_map(|c| c.times.first().copied());
        let morph_start = self.morph_channels.iter().filter_map(|c| c.times.first().copied());
        joint_start.chain(morph_start).reduce(f32::min).unwrap_or(0.0)
    }

    /// Every key time of every channel, sorted, without repeats.
    pub fn key_times(&self) -> Vec<f32> {
        let joint = self.channels.iter().flat_map(|c| c.times.iter().copied());
        let morph = self.morph_channels.iter().flat_map(|c| c.times.iter().copied());
        let mut times: Vec<f32> = joint.chain(morph).filter(|t| t.is_finite()).collect();
        times.sort_by(f32::total_cmp);
        times.dedup_by(|a, b| (*a - *b).abs() <= 1e-6);
        times
    }

    /// Writes the animated components at `time_secs` into `pose` (others keep their values).
    pub fn apply(&self, time_secs: f32, pose: &mut Pose) {
        for c in &self.channels {
            let Some(local) = pose.local.get_mut(c.joint) else { continue };
            match &c.values {
                ChannelValues::Translation(v) => local.translation = sample_vec3(c, v, time_secs),
                ChannelValues::Scale(v) => local.scale = sample_vec3(c, v, time_secs),
                ChannelValues::Rotation(v) => local.rotation = sample_quat(c, v, time_secs),
            }
        }
    }
}

/// Index of the key segment containing `t` and the fraction through it.
fn segment(times: &[f32], t: f32) -> (usize, f32) {
    if times.len() < 2 || t <= times[0] {
        return (0, 0.0);
    }
    let last = times.len() - 1;
    if t >= times[last] {
        return (last, 0.0);
    }
    let i = times.partition_point(|&k| k <= t) - 1;
    let span = times[i + 1] - times[i];
    let f = if span > 0.0 { (t - times[i]) / span } else { 0.0 };
    (i, f)
}

fn key_value<T: Copy>(c: &Channel, v: &[T], key: usize) -> T {
    match c.interpolation {
        Interpolation::CubicSpline => v[key * 3 + 1],
        _ => v[key],
    }
}

fn hermite(p0: f32, m0: f32, p1: f32, m1: f32, t: f32) -> f32 {
    let (t2, t3) = (t * t, t * t * t);
    (2.0 * t3 - 3.0 * t2 + 1.0) * p0 + (t3 - 2.0 * t2 + t) * m0 + (-2.0 * t3 + 3.0 * t2) * p1 + (t3 - t2) * m1
}

fn sample_components<const N: usize>(c: &Channel, v: &[[f32; N]], t: f32) -> [f32; N] {
    let (i, f) = segment(&c.times, t);
    let a = key_value(c, v, i);
    if f == 0.0 || i + 1 >= c.times.len() {
        return a;
    }
    let b = key_value(c, v, i + 1);
    let mut out = [0.0; N];
    match c.interpolation {
        Interpolation::Step => return a,
        Interpolation::Linear => (0..N).for_each(|k| out[k] = a[k] + (b[k] - a[k]) * f),
        Interpolation::CubicSpline => {
            let dt = c.times[i + 1] - c.times[i];
            let (out_a, in_b) = (v[i * 3 + 2], v[(i + 1) * 3]);
            (0..N).for_each(|k| out[k] = hermite(a[k], out_a[k] * dt, b[k], in_b[k] * dt, f));
        }
    }
    out
}

fn sample_vec3(c: &Channel, v: &[[f32; 3]], t: f32) -> Vector3<f32> {
    Vector3::from(sample_components(c, v, t))
}

fn sample_quat(c: &Channel, v: &[[f32; 4]], t: f32) -> UnitQuaternion<f32> {
    let to_q = |q: [f32; 4]| UnitQuaternion::from_quaternion(Quaternion::new(q[3], q[0], q[1], q[2]));
    if c.interpolation == Interpolation::Linear {
        let (i, f) = segment(&c.times, t);
        let a = to_q(v[i]);
        if f == 0.0 || i + 1 >= v.len() {
            return a;
        }
        let b = to_q(v[i + 1]);
        let b = if a.coords.dot(&b.coords) < 0.0 { UnitQuaternion::new_unchecked(-b.into_inner()) } else { b };
        return a.try_slerp(&b, f, 1e-6).unwrap_or_else(|| a.nlerp(&b, f));
    }
    to_q(sample_components(c, v, t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::Trs;

    fn channel(values: ChannelValues, interpolation: Interpolation) -> Channel {
        Channel { joint: 0, times: vec![0.0, 1.0, 2.0], values, interpolation }
    }

    #[test]
    fn linear_translation_interpolates() {
        let c = channel(ChannelValues::Translation(vec![[0.0; 3], [2.0, 0.0, 0.0], [2.0, 4.0, 0.0]]), Interpolation::Linear);
        let clip = Clip { name: "a".into(), channels: vec![c], morph_channels: vec![] };
        let mut pose = Pose { local: vec![Trs::IDENTITY] };
        clip.apply(1.5, &mut pose);
        assert_eq!(pose.local[0].translation, Vector3::new(2.0, 2.0, 0.0));
        clip.apply(5.0, &mut pose);
        assert_eq!(pose.local[0].translation, Vector3::new(2.0, 4.0, 0.0));
        assert_eq!(clip.duration_secs(), 2.0);
    }

    #[test]
    fn step_holds_previous_key() {
        let c = channel(ChannelValues::Scale(vec![[1.0; 3], [2.0; 3], [3.0; 3]]), Interpolation::Step);
        assert_eq!(
            sample_components(
                &c,
                match &c.values {
                    ChannelValues::Scale(v) => v,
                    _ => unreachable!(),
                },
                1.9
            ),
            [2.0; 3]
        );
    }

    #[test]
    fn slerp_takes_short_path() {
        let q = UnitQuaternion::from_euler_angles(0.0, 1.0, 0.0);
        let neg = -q.into_inner();
        let c = Channel {
            joint: 0,
            times: vec![0.0, 1.0],
            values: ChannelValues::Rotation(vec![[0.0, 0.0, 0.0, 1.0], [neg.i, neg.j, neg.k, neg.w]]),
            interpolation: Interpolation::Linear,
        };
        let mid = match &c.values {
            ChannelValues::Rotation(v) => sample_quat(&c, v, 0.5),
            _ => unreachable!(),
        };
        assert!((mid.angle() - 0.5).abs() < 1e-5);
    }

    #[test]
    fn cubic_spline_hits_keys() {
        let vals = vec![[0.0; 3], [1.0, 0.0, 0.0], [0.0; 3], [0.0; 3], [3.0, 0.0, 0.0], [0.0; 3], [0.0; 3], [5.0, 0.0, 0.0], [0.0; 3]];
        let c = channel(ChannelValues::Translation(vals.clone()), Interpolation::CubicSpline);
        assert_eq!(sample_components(&c, &vals, 1.0)[0], 3.0);
        let mid = sample_components(&c, &vals, 0.5)[0];
        assert!((mid - 2.0).abs() < 1e-6);
    }
}
