//! Builds one skeleton from every skin of a file: the union of their joints plus the
//! joints' ancestors, so that scale and orientation nodes above a rig are kept.

use gltf::json::accessor::Type;
use rig_core::{Joint, Mat4, Skeleton, SourceSkin, Trs};
use serde_json::Value;

use super::accessor::Accessors;
use super::nodes::NodeForest;
use crate::error::IoError;

/// The skeleton and how each skin's joint indices map onto it.
pub struct SkinSetup {
    pub skeleton: Skeleton,
    /// Joint index of each node that became a joint.
    pub node_joint: Vec<Option<usize>>,
    /// Per skin: the joint index of each skin-local joint.
    pub skin_joints: Vec<Vec<usize>>,
    /// Per skin: the inverse bind matrix of each skin-local joint.
    pub skin_ibms: Vec<Vec<Mat4>>,
}

/// The `extras.rigsmith` object Rigsmith writes on nodes it adds or marks.
pub fn rigsmith_extras(raw: &Value, node: usize) -> Option<&Value> {
    raw.get("nodes")?.get(node)?.get("extras")?.get("rigsmith")
}

fn is_synthetic(raw: &Value, node: usize) -> bool {
    rigsmith_extras(raw, node).and_then(|e| e.get("synthetic_root")).and_then(Value::as_bool) == Some(true)
}

pub fn build(acc: &Accessors, raw: &Value, forest: &NodeForest, warnings: &mut Vec<String>) -> Result<SkinSetup, IoError> {
    let root = acc.root;
    let n = root.nodes.len();
    let mut in_skin = vec![false; n];
    let mut skin_nodes = Vec::new();
    let mut skin_ibms = Vec::new();
    for (s, skin) in root.skins.iter().enumerate() {
        let nodes: Vec<usize> = skin.joints.iter().map(|j| j.value()).collect();
        if let Some(&bad) = nodes.iter().find(|&&j| j >= n) {
            return Err(IoError::BadIndex { what: format!("skin {s}'s joints"), kind: "node", index: bad, count: n });
        }
        if nodes.is_empty() {
            return Err(IoError::Invalid(format!("skin {s} has no joints")));
        }
        nodes.iter().for_each(|&j| in_skin[j] = true);
        skin_ibms.push(read_ibms(acc, s, skin.inverse_bind_matrices.map(|i| i.value()), nodes.len())?);
        skin_nodes.push(nodes);
    }
    let mut include = vec![false; n];
    for &j in skin_nodes.iter().flatten() {
        forest.ancestors_or_self(j).filter(|&a| !is_synthetic(raw, a)).for_each(|a| include[a] = true);
    }
    // A joint that several skins bind differently takes the last skin's bind, as Blender's
    // importer does (it binds the bone there and re-binds the other skins' meshes to it), so
    // that a converted file opens in Blender with every part where the original shows it.
    let mut canonical_ibm: Vec<Option<Mat4>> = vec![None; n];
    for (nodes, ibms) in skin_nodes.iter().zip(&skin_ibms) {
        for (&node, ibm) in nodes.iter().zip(ibms) {
            canonical_ibm[node] = Some(*ibm);
        }
    }
    let mut node_joint = vec![None; n];
    let source_skin = root.skins.first().map(|s| SourceSkin { names_root: s.skeleton.is_some(), skin_from_mesh: Mat4::identity() });
    let mut skeleton = Skeleton { source_skin, ..Default::default() };
    let mut names = std::collections::HashSet::new();
    for &node in forest.order.iter().filter(|&&i| include[i]) {
        let parent_node = forest.ancestors_or_self(node).skip(1).find(|&a| include[a]);
        let rest_local = if parent_node == forest.parent[node] {
            forest.local[node]
        } else {
            let parent_world = parent_node.map_or(Mat4::identity(), |p| forest.world[p]);
            let m = parent_world.try_inverse().unwrap_or_else(Mat4::identity) * forest.world[node];
            Trs::from_matrix(&m).unwrap_or(forest.local[node])
        };
        let joint_from_mesh = canonical_ibm[node].unwrap_or_else(|| forest.world[node].try_inverse().unwrap_or_else(Mat4::identity));
        let marked_helper = rigsmith_extras(raw, node).and_then(|e| e.get("deform")).and_then(Value::as_bool) == Some(false);
        node_joint[node] = Some(skeleton.joints.len());
        skeleton.joints.push(Joint {
            name: unique_name(&mut names, root.nodes[node].name.as_deref(), node, warnings),
            parent: parent_node.and_then(|p| node_joint[p]),
            rest_local,
            joint_from_mesh,
            deform: in_skin[node] && !marked_helper,
            in_skin: in_skin[node],
        });
    }
    let skin_joints = skin_nodes.iter().map(|nodes| nodes.iter().map(|&j| node_joint[j].unwrap_or(0)).collect()).collect();
    Ok(SkinSetup { skeleton, node_joint, skin_joints, skin_ibms })
}

fn unique_name(names: &mut std::collections::HashSet<String>, name: Option<&str>, node: usize, warnings: &mut Vec<String>) -> String {
    let base = match name {
        Some(s) if !s.is_empty() => s.to_string(),
        // Blender's importer names an unnamed node `Node_N` (N its index): the same name here
        // keeps the bones of a converted file named as Blender names the original's.
        _ => format!("Node_{node}"),
    };
    let mut candidate = base.clone();
    let mut k = 1;
    while !names.insert(candidate.clone()) {
        candidate = format!("{base}.{k:03}");
        k += 1;
    }
    if candidate != base && name.is_some() {
        warnings.push(format!("joint name {base:?} is used twice; node {node} renamed {candidate:?}"));
    }
    candidate
}

fn read_ibms(acc: &Accessors, skin: usize, accessor: Option<usize>, joints: usize) -> Result<Vec<Mat4>, IoError> {
    let Some(a) = accessor else { return Ok(vec![Mat4::identity(); joints]) };
    let (flat, _) = acc.read_f32(a, &[Type::Mat4])?;
    if flat.len() / 16 < joints {
        return Err(IoError::Invalid(format!("skin {skin} has {joints} joints but only {} inverse bind matrices", flat.len() / 16)));
    }
    let ibms: Vec<Mat4> = flat.chunks_exact(16).take(joints).map(Mat4::from_column_slice).collect();
    if let Some(k) = ibms.iter().position(|m| m.iter().any(|v| !v.is_finite())) {
        return Err(IoError::Invalid(format!("skin {skin}: inverse bind matrix {k} is not finite")));
    }
    Ok(ibms)
}
