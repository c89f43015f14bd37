//! The node forest: parents, a parents-first order, and rest transforms.

use gltf::json::Root;
use nalgebra::{Quaternion, UnitQuaternion, Vector3};
use rig_core::{Mat4, Trs};

use crate::error::IoError;

/// Parent links and rest transforms of every node.
pub struct NodeForest {
    pub parent: Vec<Option<usize>>,
    /// Every node, parents before children (depth first from each root).
    pub order: Vec<usize>,
    pub local: Vec<Trs>,
    pub world: Vec<Mat4>,
}

impl NodeForest {
    pub fn build(root: &Root, warnings: &mut Vec<String>) -> Result<NodeForest, IoError> {
        let n = root.nodes.len();
        let parent = parents(root)?;
        let order = depth_first(root, &parent)?;
        let local: Vec<Trs> = (0..n).map(|i| local_trs(root, i, warnings)).collect::<Result<_, _>>()?;
        let mut world = vec![Mat4::identity(); n];
        for &i in &order {
            let m = local[i].to_matrix();
            world[i] = match parent[i] {
                Some(p) => world[p] * m,
                None => m,
            };
        }
        Ok(NodeForest { parent, order, local, world })
    }

    /// `node` itself and its ancestors, nearest first.
    pub fn ancestors_or_self(&self, node: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(node), move |&i| self.parent[i])
    }
}

fn parents(root: &Root) -> Result<Vec<Option<usize>>, IoError> {
    let n = root.nodes.len();
    let mut parent = vec![None; n];
    for (i, node) in root.nodes.iter().enumerate() {
        for c in node.children.iter().flatten() {
            let c = c.value();
            if c >= n {
                return Err(IoError::BadIndex { what: format!("node {i}'s children"), kind: "node", index: c, count: n });
            }
            if c == i {
                return Err(IoError::NodeGraph(format!("node {i} lists itself as a child")));
            }
            if let Some(p) = parent[c] {
                return Err(IoError::NodeGraph(format!("node {c} has two parents ({p} and {i})")));
            }
            parent[c] = Some(i);
        }
    }
    Ok(parent)
}

fn depth_first(root: &Root, parent: &[Option<usize>]) -> Result<Vec<usize>, IoError> {
    let n = root.nodes.len();
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<usize> = (0..n).filter(|&i| parent[i].is_none()).rev().collect();
    let mut seen = vec![false; n];
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        order.push(i);
        let children = root.nodes[i].children.iter().flatten().map(|c| c.value());
        stack.extend(children.collect::<Vec<_>>().into_iter().rev());
    }
    if let Some(stuck) = (0..n).find(|&i| !seen[i]) {
        return Err(IoError::NodeGraph(format!("node {stuck} is part of a cycle (it is its own ancestor)")));
    }
    Ok(order)
}

fn local_trs(root: &Root, i: usize, warnings: &mut Vec<String>) -> Result<Trs, IoError> {
    let node = &root.nodes[i];
    let bad = || IoError::Invalid(format!("node {i} ({:?}) has a non-finite transform", node.name.as_deref().unwrap_or("")));
    if let Some(m) = node.matrix {
        let m = Mat4::from_column_slice(&m);
        if m.iter().any(|v| !v.is_finite()) {
            return Err(bad());
        }
        return Ok(Trs::from_matrix(&m).unwrap_or_else(|| {
            warnings.push(format!("node {i}: matrix with a zero scale kept as translation only"));
            Trs { translation: Vector3::new(m[(0, 3)], m[(1, 3)], m[(2, 3)]), scale: Vector3::zeros(), ..Trs::IDENTITY }
        }));
    }
    let t = node.translation.unwrap_or([0.0; 3]);
    let s = node.scale.unwrap_or([1.0; 3]);
    let r = node.rotation.map_or([0.0, 0.0, 0.0, 1.0], |q| q.0);
    let trs = Trs {
        translation: Vector3::from(t),
        rotation: UnitQuaternion::from_quaternion(Quaternion::new(r[3], r[0], r[1], r[2])),
        scale: Vector3::from(s),
    };
    if !trs.is_finite() {
        return Err(bad());
    }
    Ok(trs)
}
