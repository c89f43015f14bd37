//! Random joint motion for a creature: every deforming joint swings about a random axis with a
//! few smooth sine waves, the root also sways and drifts. Baked to vertex positions it makes
//! mesh sequences whose true rig is known (to test and train rig from motion).

use nalgebra::{Unit, UnitQuaternion, Vector3};

use crate::animation::{Channel, ChannelValues, Clip, Interpolation};
use crate::metrics::SplitMix;
use crate::skeleton::Skeleton;

/// `frames` keys at `fps` of random smooth motion for `skeleton` (the same seed, the same clip).
pub fn random_motion(skeleton: &Skeleton, seed: u64, frames: usize, fps: f32) -> Clip {
    let mut rng = SplitMix(seed ^ 0x6d6f_7469_6f6e);
    let times: Vec<f32> = (0..frames).map(|f| f as f32 / fps).collect();
    let mut channels = Vec::new();
    for (j, joint) in skeleton.joints.iter().enumerate() {
        let swing = if joint.parent.is_none() { 0.3 } else { 0.8 };
        let waves: Vec<(Unit<Vector3<f32>>, f32, f32, f32)> = (0..2)
            .map(|_| {
                let axis = Unit::new_normalize(Vector3::new(rng.signed(), rng.signed(), rng.signed()) + Vector3::new(1e-3, 0.0, 0.0));
                (axis, swing * (0.3 + 0.7 * rng.unit()), 0.5 + 1.5 * rng.unit(), std::f32::consts::TAU * rng.unit())
            })
            .collect();
        let rotations = times
            .iter()
            .map(|&t| {
                let turn = waves.iter().fold(UnitQuaternion::identity(), |q, (axis, amp, freq, phase)| {
                    q * UnitQuaternion::from_axis_angle(axis, amp * (std::f32::consts::TAU * freq * t + phase).sin())
                });
                let q = joint.rest_local.rotation * turn;
                [q.i, q.j, q.k, q.w]
            })
            .collect();
        channels.push(Channel {
            joint: j,
            times: times.clone(),
            values: ChannelValues::Rotation(rotations),
            interpolation: Interpolation::Linear,
        });
        if joint.parent.is_none() {
            let drift = Vector3::new(rng.signed(), 0.2 * rng.signed(), rng.signed()) * 0.3;
            let translations = times
                .iter()
                .map(|&t| (joint.rest_local.translation + drift * t + Vector3::new(0.0, 0.05 * (5.0 * t).sin(), 0.0)).into())
                .collect();
            channels.push(Channel {
                joint: j,
                times: times.clone(),
                values: ChannelValues::Translation(translations),
                interpolation: Interpolation::Linear,
            });
        }
    }
    Clip { name: format!("random_motion_{seed}"), channels, morph_channels: Vec::new() }
}
