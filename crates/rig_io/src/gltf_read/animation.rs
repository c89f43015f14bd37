//! TRS and morph-weight animations onto the rig's joints and mesh groups.

use gltf::json::accessor::Type;
use gltf::json::animation::{Interpolation as GInterp, Property};
use gltf::json::validation::Checked;
use rig_core::{Channel, ChannelValues, Clip, Interpolation, MorphWeightsChannel};

use super::accessor::Accessors;
use crate::error::IoError;

/// Where channels may point: joints and mesh groups, by node.
pub struct Targets<'a> {
    pub node_joint: &'a [Option<usize>],
    pub node_group: &'a [Option<(usize, usize)>],
}

pub fn read_all(acc: &Accessors, targets: &Targets, warnings: &mut Vec<String>) -> Result<Vec<Clip>, IoError> {
    let mut clips = Vec::new();
    for (a, anim) in acc.root.animations.iter().enumerate() {
        let name = anim.name.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| format!("animation_{a}"));
        let mut clip = Clip { name: name.clone(), ..Default::default() };
        let mut not_animatable = 0;
        for (c, ch) in anim.channels.iter().enumerate() {
            let label = format!("animation {name:?} channel {c}");
            let s = ch.sampler.value();
            let sampler = anim.samplers.get(s).ok_or(IoError::BadIndex {
                what: label.clone(),
                kind: "sampler",
                index: s,
                count: anim.samplers.len(),
            })?;
            let node = ch.target.node.value();
            if node >= targets.node_joint.len() {
                return Err(IoError::BadIndex { what: label, kind: "node", index: node, count: targets.node_joint.len() });
            }
            let interpolation = match sampler.interpolation {
                Checked::Valid(GInterp::Linear) => Interpolation::Linear,
                Checked::Valid(GInterp::Step) => Interpolation::Step,
                Checked::Valid(GInterp::CubicSpline) => Interpolation::CubicSpline,
                Checked::Invalid => return Err(IoError::Invalid(format!("{label}: unknown interpolation"))),
            };
            let (times, _) = acc.read_f32(sampler.input.value(), &[Type::Scalar])?;
            if times.iter().any(|t| !t.is_finite()) || times.windows(2).any(|w| w[1] < w[0]) {
                warnings.push(format!("{label}: key times are not finite and increasing; channel skipped"));
                continue;
            }
            let keys = times.len() * if interpolation == Interpolation::CubicSpline { 3 } else { 1 };
            let path = match ch.target.path {
                Checked::Valid(p) => p,
                Checked::Invalid => return Err(IoError::Invalid(format!("{label}: unknown target path"))),
            };
            if path == Property::MorphTargetWeights {
                let Some((group, target_count)) = targets.node_group[node] else {
                    not_animatable += 1;
                    continue;
                };
                let (values, _) = acc.read_f32(sampler.output.value(), &[Type::Scalar])?;
                if values.len() != keys * target_count {
                    warnings.push(format!("{label}: {} weights for {} keys x {target_count} targets; channel skipped", values.len(), keys));
                    continue;
                }
                clip.morph_channels.push(MorphWeightsChannel { group, times, values, interpolation });
                continue;
            }
            let Some(joint) = targets.node_joint[node] else {
                not_animatable += 1;
                continue;
            };
            let values = match read_values(acc, sampler.output.value(), path)? {
                v if v.len() == keys => v,
                v => {
                    warnings.push(format!("{label}: {} values for {keys} keys; channel skipped", v.len()));
                    continue;
                }
            };
            clip.channels.push(Channel { joint, times, values, interpolation });
        }
        if not_animatable > 0 {
            warnings.push(format!(
                "{}animation {name:?}: {not_animatable} channel(s) animate nodes that are neither joints nor meshes with morph targets",
                crate::NOT_KEPT
            ));
        }
        if clip.channels.is_empty() && clip.morph_channels.is_empty() {
            warnings.push(format!("animation {name:?} has no usable channel; dropped"));
            continue;
        }
        clips.push(clip);
    }
    Ok(clips)
}

fn read_values(acc: &Accessors, output: usize, path: Property) -> Result<ChannelValues, IoError> {
    let bad = |what: &str| IoError::Accessor { index: output, reason: format!("{what} animation values are not finite") };
    Ok(match path {
        Property::Rotation => {
            let (flat, _) = acc.read_f32(output, &[Type::Vec4])?;
            if flat.iter().any(|v| !v.is_finite()) {
                return Err(bad("rotation"));
            }
            ChannelValues::Rotation(flat.chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]).collect())
        }
        Property::Translation | Property::Scale => {
            let (flat, _) = acc.read_f32(output, &[Type::Vec3])?;
            if flat.iter().any(|v| !v.is_finite()) {
                return Err(bad("translation/scale"));
            }
            let v: Vec<[f32; 3]> = flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
            if path == Property::Scale {
                ChannelValues::Scale(v)
            } else {
                ChannelValues::Translation(v)
            }
        }
        Property::MorphTargetWeights => return Err(IoError::Invalid("morph weights read as joint values".into())),
    })
}
