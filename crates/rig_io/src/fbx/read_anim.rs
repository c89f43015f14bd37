//! FBX animation stacks: curves on joints' Lcl Translation / Rotation / Scaling, sampled at
//! the union of their key times into linear translation, rotation and scale channels.

use std::collections::BTreeMap;

use nalgebra::UnitQuaternion;
use rig_core::animation::{Channel, ChannelValues, Clip, Interpolation};
use rig_core::Trs;

use super::doc::{child_i64s, child_numbers, Doc};
use super::read::{Scene, SkeletonMap};
use super::transform::{local_matrix, M4};
use super::TICKS_PER_SECOND;

/// A curve: key times (ticks) and values.
type Curve = (Vec<i64>, Vec<f64>);

/// Per joint, per property (T, R, S), per component: the curve driving it.
type JointCurves = BTreeMap<usize, [[Option<Curve>; 3]; 3]>;

pub fn clips(doc: &Doc, scene: &Scene, skeleton: &SkeletonMap, warnings: &mut Vec<String>) -> Vec<Clip> {
    let mut clips = Vec::new();
    for stack in doc.of_kind("AnimationStack") {
        let layers: Vec<i64> = doc.children_of(stack.id).filter(|(o, _)| o.kind == "AnimationLayer").map(|(o, _)| o.id).collect();
        if layers.len() > 1 {
            warnings.push(format!(
                "{}animation {:?}: layers 2 to {} (only the first layer is read)",
                crate::NOT_KEPT,
                stack.name,
                layers.len()
            ));
        }
        let Some(&layer) = layers.first() else { continue };
        let curves = joint_curves(doc, layer, skeleton);
        let channels: Vec<Channel> = curves.iter().flat_map(|(&joint, c)| sample_joint(doc, scene, skeleton, joint, c)).collect();
        if !channels.is_empty() {
            clips.push(Clip { name: stack.name.to_string(), channels, morph_channels: vec![] });
        }
    }
    clips
}

fn joint_curves(doc: &Doc, layer: i64, skeleton: &SkeletonMap) -> JointCurves {
    let mut out: JointCurves = BTreeMap::new();
    for (node, _) in doc.children_of(layer).filter(|(o, _)| o.kind == "AnimationCurveNode") {
        for (target, property) in doc.parents_of(node.id) {
            let Some(&joint) = skeleton.index.get(&target.id) else { continue };
            let slot = match property {
                Some("Lcl Translation") => 0,
                Some("Lcl Rotation") => 1,
                Some("Lcl Scaling") => 2,
                _ => continue,
            };
            for (curve, component) in doc.children_of(node.id).filter(|(o, _)| o.kind == "AnimationCurve") {
                let k = match component {
                    Some(c) if c.ends_with('X') => 0,
                    Some(c) if c.ends_with('Y') => 1,
                    Some(c) if c.ends_with('Z') => 2,
                    _ => continue,
                };
                let times = child_i64s(curve.node, "KeyTime").unwrap_or_default();
                let values =
                    child_numbers(curve.node, "KeyValueFloat").or_else(|| child_numbers(curve.node, "KeyValueDouble")).unwrap_or_default();
                if !times.is_empty() && times.len() == values.len() && values.iter().all(|v| v.is_finite()) {
                    out.entry(joint).or_default()[slot][k] = Some(sorted_by_time(times, values));
                }
            }
        }
    }
    out
}

/// Keys in time order (writers keep them so; a damaged file may not, and evaluation
/// searches the times).
fn sorted_by_time(times: Vec<i64>, values: Vec<f64>) -> Curve {
    if times.is_sorted() {
        return (times, values);
    }
    let mut keys: Vec<(i64, f64)> = times.into_iter().zip(values).collect();
    keys.sort_by_key(|k| k.0);
    keys.into_iter().unzip()
}

/// Linear interpolation of a curve at `t` (held before the first and after the last key).
fn evaluate(curve: &Curve, t: i64) -> f64 {
    let (times, values) = curve;
    let i = times.partition_point(|&k| k <= t);
    if i == 0 {
        return values[0];
    }
    if i >= times.len() {
        return values[times.len() - 1];
    }
    let (t0, t1) = (times[i - 1], times[i]);
    // In f64: key times anywhere in i64 must not overflow a subtraction (found by fuzzing).
    let f = if t1 > t0 { (t as f64 - t0 as f64) / (t1 as f64 - t0 as f64) } else { 0.0 };
    values[i - 1] + f * (values[i] - values[i - 1])
}

fn sample_joint(doc: &Doc, scene: &Scene, skeleton: &SkeletonMap, joint: usize, curves: &[[Option<Curve>; 3]; 3]) -> Vec<Channel> {
    let Some(&model_id) = skeleton.model_of_joint.get(joint) else { return vec![] };
    let Some(model) = doc.get(model_id) else { return vec![] };
    let mut times: Vec<i64> = curves.iter().flatten().flatten().flat_map(|c| c.0.iter().copied()).collect();
    times.sort_unstable();
    times.dedup();
    // Static nodes between the joint's model parent and its joint parent stay in the chain.
    let joint_parent_model = skeleton.skeleton.joints[joint].parent.and_then(|p| skeleton.model_of_joint.get(p).copied());
    let world = |id: Option<i64>| id.map_or_else(M4::identity, |id| scene.world_of(id));
    let inv = |m: M4| m.try_inverse().unwrap_or_else(M4::identity);
    let pre = inv(world(joint_parent_model)) * world(scene.parent.get(&model_id).copied());
    let static_v = |name: &str, d: [f64; 3]| super::doc::property_vec3(model.node, name).unwrap_or(d);
    let defaults = [static_v("Lcl Translation", [0.0; 3]), static_v("Lcl Rotation", [0.0; 3]), static_v("Lcl Scaling", [1.0; 3])];
    let mut keys: Vec<Trs> = Vec::with_capacity(times.len());
    for &t in &times {
        let v =
            |slot: usize| -> [f64; 3] { std::array::from_fn(|k| curves[slot][k].as_ref().map_or(defaults[slot][k], |c| evaluate(c, t))) };
        let local = scene.to_ours(&(pre * local_matrix(model.node, Some(v(0)), Some(v(1)), Some(v(2)))));
        let mut trs = Trs::from_matrix(&local.cast::<f32>()).unwrap_or(Trs::IDENTITY);
        if let Some(prev) = keys.last() {
            if prev.rotation.coords.dot(&trs.rotation.coords) < 0.0 {
                trs.rotation = UnitQuaternion::new_unchecked(-trs.rotation.into_inner());
            }
        }
        keys.push(trs);
    }
    let secs: Vec<f32> = times.iter().map(|&t| (t as f64 / TICKS_PER_SECOND as f64) as f32).collect();
    let channel = |values| Channel { joint, times: secs.clone(), values, interpolation: Interpolation::Linear };
    vec![
        channel(ChannelValues::Translation(keys.iter().map(|k| k.translation.into()).collect())),
        channel(ChannelValues::Rotation(keys.iter().map(|k| k.rotation.coords.into()).collect())),
        channel(ChannelValues::Scale(keys.iter().map(|k| k.scale.into()).collect())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_survives_extreme_and_unordered_key_times() {
        let curve = sorted_by_time(vec![i64::MAX, i64::MIN, 0], vec![3.0, 1.0, 2.0]);
        assert_eq!(curve.0, vec![i64::MIN, 0, i64::MAX]);
        assert_eq!(evaluate(&curve, i64::MIN), 1.0);
        assert_eq!(evaluate(&curve, i64::MAX), 3.0);
        let mid = evaluate(&curve, i64::MAX / 2);
        assert!((mid - 2.5).abs() < 1e-9, "{mid}");
        assert!((evaluate(&curve, i64::MIN / 2) - 1.5).abs() < 1e-9);
    }
}
