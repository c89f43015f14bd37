//! Joints where the mesh can bend. A chain joint turns the vertices around it; where a limb
//! has no vertex near a joint (a low-poly tube with rings only at its ends, a strip with one
//! row of vertices every so often) the joint bends nothing and only clutters the rig, as an
//! artist who puts joints at edge loops would say. Dense meshes have vertices everywhere and
//! keep every joint.

use nalgebra::Vector3;
use rayon::prelude::*;

use super::JointTree;

/// `tree` without the chain joints (one parent, one child) that have no vertex near them:
/// among the vertices whose nearest bone is one of the joint's two bones, none lies nearer
/// to the joint's cross-section (the plane through it across the chain) than half the
/// shorter bone. The root, forks and tips
/// stay; a removed joint's child hangs from the removed joint's parent.
pub fn at_vertex_loops(tree: JointTree, vertices: &[[f32; 3]]) -> JointTree {
    let n = tree.positions.len();
    let mut children = vec![0usize; n];
    tree.parents.iter().flatten().for_each(|&p| children[p] += 1);
    let nearest = nearest_bones(&tree, vertices);
    let mut supported = vec![false; n];
    let mut only_child = vec![usize::MAX; n];
    for (c, p) in tree.parents.iter().enumerate() {
        if let Some(p) = *p {
            only_child[p] = c;
        }
    }
    let length = |c: usize| tree.parents[c].map_or(0.0, |p| (tree.positions[c] - tree.positions[p]).norm());
    let chain_joint = |j: usize| children[j] == 1 && tree.parents[j].is_some();
    for (v, &bone) in vertices.iter().zip(&nearest) {
        // The bone `parent -> bone` ends at joint `bone` and starts at its parent.
        for joint in [bone, tree.parents[bone].unwrap_or(bone)] {
            if chain_joint(joint) && !supported[joint] {
                let half = 0.5 * length(joint).min(length(only_child[joint]));
                supported[joint] = distance_to_cross_section(&tree, joint, only_child[joint], v) <= half;
            }
        }
    }
    let remove: Vec<bool> = (0..n).map(|j| children[j] == 1 && tree.parents[j].is_some() && !supported[j]).collect();
    without(&tree, &remove)
}

/// Distance of `v` from the plane through `joint` square to the chain there (the mean of the
/// directions of its bone in, from its parent, and its bone out, to `child`).
fn distance_to_cross_section(tree: &JointTree, joint: usize, child: usize, v: &[f32; 3]) -> f32 {
    let at = tree.positions[joint];
    let parent = tree.parents[joint].map_or(at, |p| tree.positions[p]);
    let axis =
        (at - parent).try_normalize(1e-12).unwrap_or_default() + (tree.positions[child] - at).try_normalize(1e-12).unwrap_or_default();
    match axis.try_normalize(1e-12) {
        Some(axis) => (Vector3::from(*v) - at).dot(&axis).abs(),
        None => (Vector3::from(*v) - at).norm(),
    }
}

/// For each vertex, the bone nearest to it, named by its child joint. A tree with no bones
/// gives nothing.
fn nearest_bones(tree: &JointTree, vertices: &[[f32; 3]]) -> Vec<usize> {
    let bones: Vec<(usize, Vector3<f32>, Vector3<f32>)> =
        (0..tree.positions.len()).filter_map(|c| tree.parents[c].map(|p| (c, tree.positions[p], tree.positions[c]))).collect();
    if bones.is_empty() {
        return Vec::new();
    }
    vertices
        .par_iter()
        .map(|v| {
            let v = Vector3::from(*v);
            bones
                .iter()
                .map(|&(c, a, b)| {
                    let ab = b - a;
                    let t = if ab.norm_squared() > 0.0 { ((v - a).dot(&ab) / ab.norm_squared()).clamp(0.0, 1.0) } else { 0.0 };
                    ((v - (a + ab * t)).norm_squared(), c)
                })
                .min_by(|x, y| x.0.total_cmp(&y.0))
                .map_or(0, |(_, c)| c)
        })
        .collect()
}

/// `tree` without the `remove`d joints, each removed joint's children hanging from its
/// nearest kept ancestor (parents stay first).
fn without(tree: &JointTree, remove: &[bool]) -> JointTree {
    let n = tree.positions.len();
    let mut new_index = vec![usize::MAX; n];
    // The kept joint a removed one's children attach to.
    let mut kept_above: Vec<Option<usize>> = vec![None; n];
    let mut out = JointTree::default();
    for i in 0..n {
        let parent = tree.parents[i].and_then(|p| kept_above[p]);
        if remove[i] {
            kept_above[i] = parent;
            continue;
        }
        new_index[i] = out.positions.len();
        kept_above[i] = Some(new_index[i]);
        out.positions.push(tree.positions[i]);
        out.parents.push(parent);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A straight chain of `count + 1` joints along y from 0 to `length`.
    fn chain(count: usize, length: f32) -> JointTree {
        JointTree {
            positions: (0..=count).map(|k| Vector3::new(0.0, length * k as f32 / count as f32, 0.0)).collect(),
            parents: (0..=count).map(|k| k.checked_sub(1)).collect(),
        }
    }

    /// Rings of 8 vertices of radius 0.5 around the y axis at the given heights.
    fn rings(heights: &[f32]) -> Vec<[f32; 3]> {
        heights
            .iter()
            .flat_map(|&y| (0..8).map(move |k| (k as f32 * std::f32::consts::TAU / 8.0).sin_cos()).map(move |(s, c)| [0.5 * c, y, 0.5 * s]))
            .collect()
    }

    #[test]
    fn a_tube_with_three_rings_keeps_the_joint_at_its_middle_ring_only() {
        // Joints every 1.5 along a tube of length 9 with rings at its ends and middle.
        let tree = at_vertex_loops(chain(6, 9.0), &rings(&[0.0, 4.6, 9.0]));
        let ys: Vec<f32> = tree.positions.iter().map(|p| p.y).collect();
        assert_eq!(ys, vec![0.0, 4.5, 9.0], "root, the joint at the middle ring, tip");
        assert_eq!(tree.parents, vec![None, Some(0), Some(1)]);
    }

    #[test]
    fn a_dense_tube_keeps_every_joint() {
        let heights: Vec<f32> = (0..=45).map(|k| k as f32 * 0.2).collect();
        let tree = at_vertex_loops(chain(6, 9.0), &rings(&heights));
        assert_eq!(tree.positions.len(), 7);
    }

    #[test]
    fn forks_stay_and_their_branches_reattach() {
        // Root, a joint with no vertex near it, a fork with two two-joint branches.
        let mut tree = chain(2, 2.0);
        for x in [1.0f32, -1.0] {
            let at = tree.positions.len();
            tree.positions.extend([Vector3::new(x, 2.0, 0.0), Vector3::new(2.0 * x, 2.0, 0.0)]);
            tree.parents.extend([Some(2), Some(at)]);
        }
        let vertices = [[0.0, 0.0, 0.3], [0.0, 2.0, 0.3], [1.9, 2.0, 0.3], [-1.9, 2.0, 0.3]];
        let out = at_vertex_loops(tree, &vertices);
        // The joint at y 1 goes; the fork (two children) and the tips stay; the branches'
        // first joints have no vertex near them and go too.
        assert_eq!(out.positions.len(), 4);
        assert_eq!(out.parents, vec![None, Some(0), Some(1), Some(1)]);
        assert_eq!(out.positions[1], Vector3::new(0.0, 2.0, 0.0));
    }
}
