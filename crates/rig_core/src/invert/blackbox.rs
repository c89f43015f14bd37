//! Rigs whose mesh is a nonlinear function of their controls, known only by evaluating them:
//! the inputs of the learned inversion (EA's differentiable rig function). Every control lies in
//! [0, 1]; a rig maps a control vector to its vertices.

use nalgebra::{Translation3, UnitQuaternion, Vector3};
use thiserror::Error;

use super::dqs::dqs_positions;
use crate::metrics::SplitMix;
use crate::weights::SkinWeights;
use crate::Mat4;

/// A rig as a function from controls in [0, 1] to vertex positions.
pub trait ControlRig: Sync {
    fn name(&self) -> &str;
    fn control_names(&self) -> Vec<String>;
    fn vertex_count(&self) -> usize;
    fn evaluate(&self, controls: &[f32]) -> Vec<[f32; 3]>;
    /// The controls of the rig's neutral mesh.
    fn neutral(&self) -> Vec<f32> {
        vec![0.5; self.control_names().len()]
    }
}

/// EA's toy rig (Marquis Bolduc and Phan 2022, their published code's `rig.py`): the eight
/// corners they list (the last repeats the fifth, as theirs does) scaled per axis by
/// `2.5 c - 0.5` and turned by `(c - 0.5) * 90` degrees about x, then y, then z.
#[derive(Debug, Clone, Default)]
pub struct CubeToy;

const CUBE: [[f32; 3]; 8] =
    [[-1., -1., -1.], [-1., -1., 1.], [-1., 1., -1.], [-1., 1., 1.], [1., -1., -1.], [1., -1., 1.], [1., 1., -1.], [1., -1., -1.]];

impl ControlRig for CubeToy {
    fn name(&self) -> &str {
        "cube toy"
    }

    fn control_names(&self) -> Vec<String> {
        ["rotate_x", "rotate_y", "rotate_z", "scale_x", "scale_y", "scale_z"].map(String::from).to_vec()
    }

    fn vertex_count(&self) -> usize {
        CUBE.len()
    }

    fn evaluate(&self, c: &[f32]) -> Vec<[f32; 3]> {
        let angle = |v: f32| ((v - 0.5) * 90.0).to_radians();
        let turn = UnitQuaternion::from_axis_angle(&Vector3::z_axis(), angle(c[2]))
            * UnitQuaternion::from_axis_angle(&Vector3::y_axis(), angle(c[1]))
            * UnitQuaternion::from_axis_angle(&Vector3::x_axis(), angle(c[0]));
        CUBE.iter()
            .map(|p| {
                let scaled = Vector3::new(p[0] * (2.5 * c[3] - 0.5), p[1] * (2.5 * c[4] - 0.5), p[2] * (2.5 * c[5] - 0.5));
                (turn * scaled).into()
            })
            .collect()
    }
}

/// A two-bone arm (a tube along +x, shoulder at the origin, elbow at `length`) deformed by
/// dual-quaternion skinning, with two corrective shapes driven by joint angles: a biceps bulge
/// growing with the square of the elbow bend, and a shoulder pad that rises with the raise.
/// Controls: shoulder raise, swing and twist, elbow bend, forearm twist, biceps flex.
#[derive(Debug, Clone)]
pub struct CorrectiveArm {
    rest: Vec<[f32; 3]>,
    weights: SkinWeights,
    bulge: Vec<[f32; 3]>,
    pad: Vec<[f32; 3]>,
    length: f32,
}

impl Default for CorrectiveArm {
    fn default() -> Self {
        CorrectiveArm::new(24, 12)
    }
}

impl CorrectiveArm {
    /// `rings` cross-sections of `sides` vertices each along a tube of length 2 and radius 0.2.
    pub fn new(rings: usize, sides: usize) -> CorrectiveArm {
        let length = 1.0f32;
        let radius = 0.2f32;
        let mut rest = Vec::new();
        let mut rows = Vec::new();
        let mut bulge = Vec::new();
        let mut pad = Vec::new();
        for r in 0..rings {
            let x = 2.0 * length * r as f32 / (rings - 1) as f32;
            // Weight of the forearm: a smooth step across the elbow.
            let s = ((x - 0.75 * length) / (0.5 * length)).clamp(0.0, 1.0);
            let forearm = s * s * (3.0 - 2.0 * s);
            for k in 0..sides {
                let a = std::f32::consts::TAU * k as f32 / sides as f32;
                let (y, z) = (radius * a.cos(), radius * a.sin());
                rest.push([x, y, z]);
                rows.push(vec![(0u32, 1.0 - forearm), (1u32, forearm)]);
                // The bulge swells the upper side of the upper arm, most at its middle.
                let along = (-((x - 0.5 * length) / (0.25 * length)).powi(2)).exp();
                let up = a.cos().max(0.0);
                bulge.push([0.0, 0.12 * along * up, 0.06 * along * a.sin() * up]);
                // The pad lifts the top of the shoulder.
                let near = (-(x / (0.3 * length)).powi(2)).exp();
                pad.push([-0.05 * near, 0.0, 0.1 * near * a.sin().max(0.0)]);
            }
        }
        let weights = SkinWeights::from_rows(rows.into_iter().map(|r| r.into_iter().filter(|(_, w)| *w > 0.0).collect::<Vec<_>>()));
        CorrectiveArm { rest, weights, bulge, pad, length }
    }

    fn angles(c: &[f32]) -> [f32; 6] {
        let deg = |v: f32, lo: f32, hi: f32| (lo + (hi - lo) * v).to_radians();
        [
            deg(c[0], -30.0, 90.0), // raise (about -y: lifts the arm towards +z)
            deg(c[1], -60.0, 60.0), // swing (about z)
            deg(c[2], -70.0, 70.0), // twist (about x)
            deg(c[3], 0.0, 140.0),  // elbow bend (about z)
            deg(c[4], -80.0, 80.0), // forearm twist (about x)
            c[5],                   // biceps flex, added to the bend's own bulge
        ]
    }
}

impl ControlRig for CorrectiveArm {
    fn name(&self) -> &str {
        "corrective arm"
    }

    fn control_names(&self) -> Vec<String> {
        ["shoulder_raise", "shoulder_swing", "shoulder_twist", "elbow_bend", "forearm_twist", "biceps_flex"].map(String::from).to_vec()
    }

    fn vertex_count(&self) -> usize {
        self.rest.len()
    }

    fn neutral(&self) -> Vec<f32> {
        vec![0.25, 0.5, 0.5, 0.0, 0.5, 0.0]
    }

    fn evaluate(&self, c: &[f32]) -> Vec<[f32; 3]> {
        let [raise, swing, twist, bend, forearm_twist, flex] = CorrectiveArm::angles(c);
        let shoulder = UnitQuaternion::from_axis_angle(&Vector3::z_axis(), swing)
            * UnitQuaternion::from_axis_angle(&-Vector3::y_axis(), raise)
            * UnitQuaternion::from_axis_angle(&Vector3::x_axis(), twist);
        let elbow =
            UnitQuaternion::from_axis_angle(&Vector3::z_axis(), bend) * UnitQuaternion::from_axis_angle(&Vector3::x_axis(), forearm_twist);
        let upper: Mat4 = shoulder.to_homogeneous();
        let to_elbow = Translation3::new(self.length, 0.0, 0.0).to_homogeneous();
        let from_elbow = Translation3::new(-self.length, 0.0, 0.0).to_homogeneous();
        let lower: Mat4 = upper * to_elbow * elbow.to_homogeneous() * from_elbow;
        let bend_fraction = (bend / 140f32.to_radians()).clamp(0.0, 1.0);
        let bulge_weight = bend_fraction * bend_fraction + 0.5 * flex;
        let pad_weight = (raise.max(0.0) / 90f32.to_radians()).powi(2);
        let corrected: Vec<[f32; 3]> = (0..self.rest.len())
            .map(|i| std::array::from_fn(|a| self.rest[i][a] + bulge_weight * self.bulge[i][a] + pad_weight * self.pad[i][a]))
            .collect();
        dqs_positions(&corrected, &self.weights, &[upper, lower])
    }
}

/// A rig known only by samples: control vectors and the meshes they produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SampledRig {
    pub name: String,
    pub control_names: Vec<String>,
    pub controls: Vec<Vec<f32>>,
    pub meshes: Vec<Vec<[f32; 3]>>,
}

#[derive(Debug, Error, PartialEq)]
pub enum SamplesError {
    #[error("the samples file has no samples: give control vectors with the meshes they produce")]
    Empty,
    #[error("sample {sample} has {found} controls where the first has {expected}")]
    ControlCount { sample: usize, found: usize, expected: usize },
    #[error("sample {sample} has {found} vertices where the first has {expected}")]
    VertexCount { sample: usize, found: usize, expected: usize },
    #[error("sample {sample} has control {control} = {value}: controls must lie in [0, 1] (rescale them)")]
    OutOfRange { sample: usize, control: usize, value: f32 },
    #[error("sample {sample} holds a non-finite number")]
    NotFinite { sample: usize },
}

impl SampledRig {
    /// Samples `rig` at `count` uniform random control vectors (seeded).
    pub fn sample(rig: &dyn ControlRig, count: usize, seed: u64) -> SampledRig {
        let mut rng = SplitMix(seed);
        let n = rig.control_names().len();
        let controls: Vec<Vec<f32>> = (0..count).map(|_| (0..n).map(|_| rng.unit()).collect()).collect();
        let meshes = controls.iter().map(|c| rig.evaluate(c)).collect();
        SampledRig { name: rig.name().to_string(), control_names: rig.control_names(), controls, meshes }
    }

    pub fn check(&self) -> Result<(), SamplesError> {
        let (Some(c0), Some(m0)) = (self.controls.first(), self.meshes.first()) else {
            return Err(SamplesError::Empty);
        };
        for (s, (c, m)) in self.controls.iter().zip(&self.meshes).enumerate() {
            if c.len() != c0.len() {
                return Err(SamplesError::ControlCount { sample: s, found: c.len(), expected: c0.len() });
            }
            if m.len() != m0.len() {
                return Err(SamplesError::VertexCount { sample: s, found: m.len(), expected: m0.len() });
            }
            if c.iter().any(|v| !v.is_finite()) || m.iter().flatten().any(|v| !v.is_finite()) {
                return Err(SamplesError::NotFinite { sample: s });
            }
            if let Some(k) = c.iter().position(|v| !(0.0..=1.0).contains(v)) {
                return Err(SamplesError::OutOfRange { sample: s, control: k, value: c[k] });
            }
        }
        if self.controls.len() != self.meshes.len() {
            return Err(SamplesError::ControlCount { sample: self.controls.len().min(self.meshes.len()), found: 0, expected: c0.len() });
        }
        Ok(())
    }
}

/// A straight walk between two random control vectors, `frames` long (EA's test animation).
pub fn straight_animation(controls: usize, frames: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = SplitMix(seed);
    let start: Vec<f32> = (0..controls).map(|_| rng.unit()).collect();
    let end: Vec<f32> = (0..controls).map(|_| rng.unit()).collect();
    (0..frames).map(|f| start.iter().zip(&end).map(|(a, b)| a + (b - a) * f as f32 / frames as f32).collect()).collect()
}

/// Mean Euclidean distance between corresponding vertices of two mesh lists.
pub fn mean_vertex_distance(a: &[Vec<[f32; 3]>], b: &[Vec<[f32; 3]>]) -> f64 {
    let mut sum = 0.0;
    let mut n = 0usize;
    for (fa, fb) in a.iter().zip(b) {
        for (p, q) in fa.iter().zip(fb) {
            sum += (0..3).map(|k| ((p[k] - q[k]) as f64).powi(2)).sum::<f64>().sqrt();
            n += 1;
        }
    }
    sum / n.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cube_toy_matches_eas_convention() {
        // Neutral controls: no turn, scale 0.75 on every axis.
        let p = CubeToy.evaluate(&[0.5; 6]);
        assert!((p[1][2] - 0.75).abs() < 1e-6 && (p[0][0] + 0.75).abs() < 1e-6);
        // Turning x by +45 degrees carries +z to -y.
        let p = CubeToy.evaluate(&[1.0, 0.5, 0.5, 0.6, 0.6, 0.6]);
        let v = Vector3::from(p[1]);
        let expected = Vector3::new(-1.0, -std::f32::consts::SQRT_2, 0.0);
        assert!((v - expected).norm() < 1e-5, "{v:?} vs {expected:?}");
    }

    #[test]
    fn the_arm_bends_at_the_elbow_and_its_correctives_follow_the_angles() {
        let arm = CorrectiveArm::default();
        let neutral = arm.evaluate(&arm.neutral());
        let mut bent = arm.neutral();
        bent[3] = 1.0;
        let b = arm.evaluate(&bent);
        // The hand end (last ring) swings away when the elbow bends; the shoulder ring stays.
        let last = arm.vertex_count() - 1;
        assert!((Vector3::from(b[last]) - Vector3::from(neutral[last])).norm() > 1.0, "{:?} vs {:?}", b[last], neutral[last]);
        assert!((0..12).all(|i| (Vector3::from(b[i]) - Vector3::from(neutral[i])).norm() < 0.01));
        // The bulge is nonlinear in the bend: half the bend gives less than half the swelling.
        let mut half = arm.neutral();
        half[3] = 0.5;
        let h = arm.evaluate(&half);
        let mid = 6 * 12;
        let swell = |p: &[[f32; 3]]| Vector3::from(p[mid]).norm();
        assert!(swell(&h) - swell(&neutral) < 0.5 * (swell(&b) - swell(&neutral)));
    }

    #[test]
    fn bad_samples_are_refused() {
        let mut s = SampledRig::sample(&CubeToy, 4, 1);
        assert_eq!(s.check(), Ok(()));
        s.controls[2][1] = 1.5;
        assert!(matches!(s.check(), Err(SamplesError::OutOfRange { sample: 2, control: 1, .. })));
        s.controls[2][1] = 0.5;
        s.meshes[3].pop();
        assert!(matches!(s.check(), Err(SamplesError::VertexCount { sample: 3, .. })));
        assert_eq!(
            SampledRig { name: String::new(), control_names: vec![], controls: vec![], meshes: vec![] }.check(),
            Err(SamplesError::Empty)
        );
    }
}
