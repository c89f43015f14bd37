//! Joints as nodes (node `j` is joint `j`) and the one skin that lists them.

use rig_core::Rig;
use serde_json::{json, Value};

use super::buffer::BinWriter;

/// What the rest of the exporter needs to know about the written skeleton.
pub struct SkeletonOut {
    /// Nodes that go into the scene's root list.
    pub scene_roots: Vec<usize>,
    pub skin: Option<Value>,
}

pub fn write(rig: &Rig, w: &mut BinWriter, nodes: &mut Vec<Value>) -> SkeletonOut {
    let s = &rig.skeleton;
    if s.is_empty() {
        return SkeletonOut { scene_roots: vec![], skin: None };
    }
    for j in &s.joints {
        let t = j.rest_local;
        let q = t.rotation.coords;
        let mut node = json!({
            "name": j.name,
            "translation": [t.translation.x, t.translation.y, t.translation.z],
            "rotation": [q.x, q.y, q.z, q.w],
            "scale": [t.scale.x, t.scale.y, t.scale.z],
        });
        if !j.deform {
            node["extras"] = json!({ "rigsmith": { "deform": false } });
        }
        nodes.push(node);
    }
    for (i, _) in s.joints.iter().enumerate() {
        let children: Vec<usize> = s.children(i).collect();
        if !children.is_empty() {
            nodes[i]["children"] = json!(children);
        }
    }
    let roots: Vec<usize> = s.roots().collect();
    let mut joint_nodes: Vec<usize> = (0..s.len()).collect();
    let mut ibms: Vec<[f32; 16]> = s.joints.iter().map(|j| column_major(&j.joint_from_mesh)).collect();
    let (scene_roots, skeleton_root) = if roots.len() == 1 {
        (roots.clone(), roots[0])
    } else {
        // A skin's joints need one common root: add an identity node the importer drops.
        nodes.push(json!({ "name": "rigsmith_root", "children": roots, "extras": { "rigsmith": { "synthetic_root": true } } }));
        let r = nodes.len() - 1;
        joint_nodes.push(r);
        ibms.push(column_major(&rig_core::Mat4::identity()));
        (vec![r], r)
    };
    let ibm = w.mat4(&ibms);
    let skin =
        json!({ "name": format!("{}_skin", rig.name), "joints": joint_nodes, "inverseBindMatrices": ibm, "skeleton": skeleton_root });
    SkeletonOut { scene_roots, skin: Some(skin) }
}

fn column_major(m: &rig_core::Mat4) -> [f32; 16] {
    let mut out = [0.0; 16];
    out.copy_from_slice(m.as_slice());
    out
}
