//! Clips in session files: a clip solved in the editor (Rig from motion, Match targets) exists
//! nowhere else until it is exported, so sessions and the crash-recovery file keep the rig's
//! clips as they are.

use rig_core::animation::{Channel, ChannelValues, Clip, Interpolation, MorphWeightsChannel};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum SessionProperty {
    Translation,
    Rotation,
    Scale,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionChannel {
    pub joint: usize,
    pub property: SessionProperty,
    pub interpolation: String,
    pub times: Vec<f32>,
    /// The keys' components in order (3 or 4 per key, tangents included for cubic splines).
    pub values: Vec<f32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionMorphChannel {
    pub group: usize,
    pub interpolation: String,
    pub times: Vec<f32>,
    pub values: Vec<f32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionClip {
    pub name: String,
    pub channels: Vec<SessionChannel>,
    pub morph_channels: Vec<SessionMorphChannel>,
}

fn interpolation_name(i: Interpolation) -> String {
    match i {
        Interpolation::Linear => "linear",
        Interpolation::Step => "step",
        Interpolation::CubicSpline => "cubic",
    }
    .into()
}

fn interpolation_of(name: &str) -> Result<Interpolation, String> {
    match name {
        "linear" => Ok(Interpolation::Linear),
        "step" => Ok(Interpolation::Step),
        "cubic" => Ok(Interpolation::CubicSpline),
        other => Err(format!("unknown interpolation '{other}'")),
    }
}

impl SessionClip {
    pub fn of(clip: &Clip) -> SessionClip {
        let channels = clip
            .channels
            .iter()
            .map(|c| {
                let (property, values): (SessionProperty, Vec<f32>) = match &c.values {
                    ChannelValues::Translation(v) => (SessionProperty::Translation, v.iter().flatten().copied().collect()),
                    ChannelValues::Rotation(v) => (SessionProperty::Rotation, v.iter().flatten().copied().collect()),
                    ChannelValues::Scale(v) => (SessionProperty::Scale, v.iter().flatten().copied().collect()),
                };
                SessionChannel {
                    joint: c.joint,
                    property,
                    interpolation: interpolation_name(c.interpolation),
                    times: c.times.clone(),
                    values,
                }
            })
            .collect();
        let morph_channels = clip
            .morph_channels
            .iter()
            .map(|m| SessionMorphChannel {
                group: m.group,
                interpolation: interpolation_name(m.interpolation),
                times: m.times.clone(),
                values: m.values.clone(),
            })
            .collect();
        SessionClip { name: clip.name.clone(), channels, morph_channels }
    }

    /// The clip, checked against a skeleton of `joints` joints and a mesh of `groups` groups.
    pub fn to_clip(&self, joints: usize, groups: usize) -> Result<Clip, String> {
        let damaged = |what: String| format!("the session's clip '{}' is damaged: {what}", self.name);
        let mut channels = Vec::with_capacity(self.channels.len());
        for c in &self.channels {
            if c.joint >= joints {
                return Err(damaged(format!("a channel drives joint {} of {joints}", c.joint)));
            }
            let width = if c.property == SessionProperty::Rotation { 4 } else { 3 };
            let interpolation = interpolation_of(&c.interpolation).map_err(damaged)?;
            let per_time = if interpolation == Interpolation::CubicSpline { 3 } else { 1 };
            if c.values.len() != c.times.len() * per_time * width {
                return Err(damaged(format!("{} values for {} key times", c.values.len(), c.times.len())));
            }
            let values = match c.property {
                SessionProperty::Translation => ChannelValues::Translation(c.values.chunks(3).map(|k| [k[0], k[1], k[2]]).collect()),
                SessionProperty::Scale => ChannelValues::Scale(c.values.chunks(3).map(|k| [k[0], k[1], k[2]]).collect()),
                SessionProperty::Rotation => ChannelValues::Rotation(c.values.chunks(4).map(|k| [k[0], k[1], k[2], k[3]]).collect()),
            };
            channels.push(Channel { joint: c.joint, times: c.times.clone(), values, interpolation });
        }
        let morph_channels = self
            .morph_channels
            .iter()
            .map(|m| {
                if m.group >= groups {
                    return Err(damaged(format!("morph weights of mesh group {} of {groups}", m.group)));
                }
                Ok(MorphWeightsChannel {
                    group: m.group,
                    times: m.times.clone(),
                    values: m.values.clone(),
                    interpolation: interpolation_of(&m.interpolation).map_err(damaged)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Clip { name: self.name.clone(), channels, morph_channels })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip() -> Clip {
        Clip {
            name: "walk".into(),
            channels: vec![
                Channel {
                    joint: 1,
                    times: vec![0.0, 0.5],
                    values: ChannelValues::Rotation(vec![[0.0, 0.0, 0.0, 1.0], [0.0, 0.383, 0.0, 0.924]]),
                    interpolation: Interpolation::Linear,
                },
                Channel {
                    joint: 0,
                    times: vec![0.0],
                    values: ChannelValues::Scale(vec![[1.0, 2.0, 1.0]]),
                    interpolation: Interpolation::Step,
                },
            ],
            morph_channels: vec![MorphWeightsChannel {
                group: 0,
                times: vec![0.0, 1.0],
                values: vec![0.0, 1.0],
                interpolation: Interpolation::Linear,
            }],
        }
    }

    #[test]
    fn a_clip_survives_the_session_and_damage_is_refused() {
        let saved = SessionClip::of(&clip());
        let json = serde_json::to_string(&saved).expect("serialises");
        let back: SessionClip = serde_json::from_str(&json).expect("parses");
        assert_eq!(back.to_clip(2, 1).expect("valid"), clip());
        assert!(back.to_clip(1, 1).is_err(), "a channel of a joint the skeleton lacks");
        assert!(back.to_clip(2, 0).is_err(), "morph weights of a group the mesh lacks");
        let mut short = back.clone();
        short.channels[0].values.pop();
        assert!(short.to_clip(2, 1).unwrap_err().contains("values for 2 key times"));
    }
}
