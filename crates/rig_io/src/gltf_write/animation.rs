//! Clips as glTF animations. Identical key-time arrays share one accessor.

use std::collections::HashMap;

use rig_core::{ChannelValues, Interpolation, Rig};
use serde_json::{json, Value};

use super::buffer::BinWriter;

fn interpolation_name(i: Interpolation) -> &'static str {
    match i {
        Interpolation::Linear => "LINEAR",
        Interpolation::Step => "STEP",
        Interpolation::CubicSpline => "CUBICSPLINE",
    }
}

/// Writes key times once per distinct array.
struct Inputs(HashMap<Vec<u32>, usize>);

impl Inputs {
    fn get(&mut self, times: &[f32], w: &mut BinWriter) -> usize {
        let key: Vec<u32> = times.iter().map(|t| t.to_bits()).collect();
        *self.0.entry(key).or_insert_with(|| {
            let scalars: Vec<[f32; 1]> = times.iter().map(|&t| [t]).collect();
            w.floats(&scalars, "SCALAR", true, None)
        })
    }
}

pub fn write(rig: &Rig, group_nodes: &[Vec<usize>], w: &mut BinWriter, warnings: &mut Vec<String>) -> Vec<Value> {
    let mut inputs = Inputs(HashMap::new());
    let mut out = Vec::new();
    for clip in &rig.clips {
        let mut samplers = Vec::new();
        let mut channels = Vec::new();
        for c in &clip.channels {
            let output = match &c.values {
                ChannelValues::Translation(v) | ChannelValues::Scale(v) => w.floats(v, "VEC3", false, None),
                ChannelValues::Rotation(v) => w.floats(v, "VEC4", false, None),
            };
            samplers
                .push(json!({ "input": inputs.get(&c.times, w), "output": output, "interpolation": interpolation_name(c.interpolation) }));
            channels.push(json!({ "sampler": samplers.len() - 1, "target": { "node": c.joint, "path": c.values.path_name() } }));
        }
        for m in &clip.morph_channels {
            let values: Vec<[f32; 1]> = m.values.iter().map(|&v| [v]).collect();
            let output = w.floats(&values, "SCALAR", false, None);
            samplers
                .push(json!({ "input": inputs.get(&m.times, w), "output": output, "interpolation": interpolation_name(m.interpolation) }));
            for &node in group_nodes.get(m.group).into_iter().flatten() {
                channels.push(json!({ "sampler": samplers.len() - 1, "target": { "node": node, "path": "weights" } }));
            }
        }
        if channels.is_empty() {
            warnings.push(format!("clip {:?} animates nothing and was not written", clip.name));
            continue;
        }
        out.push(json!({ "name": clip.name, "samplers": samplers, "channels": channels }));
    }
    out
}
