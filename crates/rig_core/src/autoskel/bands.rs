//! The band tree: connected pieces of geodesic distance bands, linked to the touching piece
//! of the previous band.

use std::collections::HashMap;

use nalgebra::Vector3;

use super::JointTree;
use crate::autoskin::geodesic::{SolidGraph, UNREACHED};
use crate::autoskin::voxel::VoxelGrid;

/// One joint per connected piece of each band `[k * step, (k + 1) * step)` of `from_root`.
pub fn band_tree(grid: &VoxelGrid, graph: &SolidGraph, from_root: &[u32], step: u32) -> JointTree {
    let band = |v: usize| (from_root[v] != UNREACHED).then(|| from_root[v] / step);
    let mut piece = vec![u32::MAX; graph.len()];
    let mut pieces: Vec<(u32, Vector3<f32>, usize)> = Vec::new(); // (band, centroid sum, count)
    let mut order: Vec<usize> = (0..graph.len()).filter(|&v| band(v).is_some()).collect();
    order.sort_by_key(|&v| from_root[v]);
    for &start in &order {
        if piece[start] != u32::MAX {
            continue;
        }
        let b = band(start).unwrap_or(0);
        let id = pieces.len() as u32;
        let mut sum = Vector3::zeros();
        let mut count = 0;
        let mut stack = vec![start];
        piece[start] = id;
        while let Some(v) = stack.pop() {
            sum += grid.center(grid.coords(graph.cell_of_id[v] as usize));
            count += 1;
            graph.for_each_neighbor(v as u32, |n| {
                let n = n as usize;
                if piece[n] == u32::MAX && band(n) == Some(b) {
                    piece[n] = id;
                    stack.push(n);
                }
            });
        }
        pieces.push((b, sum, count));
    }
    // Parent: the piece of band b - 1 with the most contacts.
    let mut contacts: HashMap<(u32, u32), usize> = HashMap::new();
    for &v in &order {
        let pv = piece[v];
        graph.for_each_neighbor(v as u32, |n| {
            let pn = piece[n as usize];
            if pn != u32::MAX && pieces[pn as usize].0 + 1 == pieces[pv as usize].0 {
                *contacts.entry((pv, pn)).or_default() += 1;
            }
        });
    }
    let mut parent: Vec<Option<usize>> = vec![None; pieces.len()];
    let mut best: Vec<usize> = vec![0; pieces.len()];
    for (&(child, par), &n) in &contacts {
        if n > best[child as usize] || (n == best[child as usize] && parent[child as usize].is_some_and(|p| (par as usize) < p)) {
            best[child as usize] = n;
            parent[child as usize] = Some(par as usize);
        }
    }
    // Pieces were created in order of distance, so parents (one band closer) come first;
    // orphans (a band piece touching nothing closer) attach to the root piece.
    let positions = inside_positions(grid, graph, &piece, &pieces);
    let parents = parent.iter().enumerate().map(|(i, p)| if i == 0 { None } else { Some(p.unwrap_or(0)) }).collect();
    JointTree { positions, parents }
}

/// Each piece's centroid, moved to the nearest of its own voxels when the centroid falls
/// outside the solid (a curved piece), so joints stay inside the volume.
fn inside_positions(grid: &VoxelGrid, graph: &SolidGraph, piece: &[u32], pieces: &[(u32, Vector3<f32>, usize)]) -> Vec<Vector3<f32>> {
    let centroids: Vec<Vector3<f32>> = pieces.iter().map(|(_, s, c)| s / *c as f32).collect();
    let mut nearest: Vec<(f32, Vector3<f32>)> = centroids.iter().map(|c| (f32::MAX, *c)).collect();
    for (v, &p) in piece.iter().enumerate().filter(|(_, p)| **p != u32::MAX) {
        let centre = grid.center(grid.coords(graph.cell_of_id[v] as usize));
        let d = (centre - centroids[p as usize]).norm_squared();
        if d < nearest[p as usize].0 {
            nearest[p as usize] = (d, centre);
        }
    }
    centroids
        .iter()
        .zip(nearest)
        .map(|(c, (_, n))| {
            let cell = grid.index(grid.cell_of(c));
            if grid.contains(c) && grid.solid[cell] {
                *c
            } else {
                n
            }
        })
        .collect()
}

/// Removes leaf branches (from a fork to a leaf) with fewer than `min_joints` joints; repeats
/// until none is left, then renumbers parents-first.
pub fn prune_short_branches(mut tree: JointTree, min_joints: usize) -> JointTree {
    loop {
        let n = tree.positions.len();
        let mut children = vec![Vec::new(); n];
        for (i, p) in tree.parents.iter().enumerate() {
            if let Some(p) = p {
                children[*p].push(i);
            }
        }
        let mut remove = vec![false; n];
        let mut removed_any = false;
        for leaf in (0..n).filter(|&i| children[i].is_empty()) {
            let mut chain = vec![leaf];
            let mut cur = leaf;
            while let Some(p) = tree.parents[cur] {
                if children[p].len() != 1 || tree.parents[p].is_none() {
                    break;
                }
                chain.push(p);
                cur = p;
            }
            let fork = tree.parents[cur];
            let fork_has_siblings = fork.is_some_and(|f| children[f].len() > 1);
            if chain.len() < min_joints && fork_has_siblings {
                chain.iter().for_each(|&c| remove[c] = true);
                removed_any = true;
            }
        }
        if !removed_any {
            return tree;
        }
        tree = retain(&tree, &remove);
    }
}

/// Removes leaf chains whose tip is closer to their fork than `factor` times the radius of
/// the body at the fork; repeats until none is left.
pub fn prune_bumps(mut tree: JointTree, radius: &dyn Fn(&Vector3<f32>) -> f32, factor: f32) -> JointTree {
    loop {
        let n = tree.positions.len();
        let mut children = vec![0usize; n];
        tree.parents.iter().flatten().for_each(|&p| children[p] += 1);
        let mut remove = vec![false; n];
        for leaf in (0..n).filter(|&i| children[i] == 0) {
            let mut chain = vec![leaf];
            let mut cur = leaf;
            while let Some(p) = tree.parents[cur] {
                if children[p] != 1 || tree.parents[p].is_none() {
                    break;
                }
                chain.push(p);
                cur = p;
            }
            let Some(fork) = tree.parents[cur].filter(|&f| children[f] > 1) else { continue };
            let reach = (tree.positions[leaf] - tree.positions[fork]).norm();
            if reach < factor * radius(&tree.positions[fork]) {
                chain.iter().for_each(|&c| remove[c] = true);
            }
        }
        if !remove.iter().any(|r| *r) {
            return tree;
        }
        tree = retain(&tree, &remove);
    }
}

fn retain(tree: &JointTree, remove: &[bool]) -> JointTree {
    let mut new_index = vec![usize::MAX; remove.len()];
    let mut out = JointTree::default();
    for i in 0..remove.len() {
        if remove[i] {
            continue;
        }
        new_index[i] = out.positions.len();
        out.positions.push(tree.positions[i]);
        out.parents.push(tree.parents[i].map(|p| new_index[p]));
    }
    out
}

/// Folds joints that sit within `min_distance` of their parent into it (the shells of the
/// first bands around the root all have the root as their centroid); their children move up.
pub fn merge_close_joints(tree: JointTree, min_distance: f32) -> JointTree {
    let n = tree.positions.len();
    let mut target: Vec<usize> = (0..n).collect();
    let mut remove = vec![false; n];
    for i in 0..n {
        if let Some(p) = tree.parents[i] {
            let p = target[p];
            if (tree.positions[i] - tree.positions[p]).norm() < min_distance {
                target[i] = p;
                remove[i] = true;
            }
        }
    }
    let parents = tree.parents.iter().map(|p| p.map(|p| target[p])).collect();
    retain(&JointTree { positions: tree.positions, parents }, &remove)
}

/// Replaces the root of `tree` by a trunk: a chain of `count` joints from one end to the
/// other of the solid column through the root (plus the far end as its tip), along the axis
/// where that column is longest, the `up` axis counting `UP_BONUS` times its length (blobs
/// stand on it; a fish lying along another axis gets its spine along its body). Joints
/// reached from the root through joints within `near` of that column (the band tree's own
/// chain up or down the body) are folded into it; every other child attaches to the trunk
/// joint nearest to it. Unchanged when the column is shorter than `min_length`.
pub fn with_trunk(grid: &VoxelGrid, tree: JointTree, up: usize, count: usize, near: f32, min_length: f32) -> JointTree {
    let Some(&root) = tree.positions.first() else { return tree };
    let columns = [0, 1, 2].map(|axis| solid_column(grid, root, axis));
    let weighted = |k: usize| (columns[k].1 - columns[k].0).norm() * if k == up { UP_BONUS } else { 1.0 };
    let axis = (0..3).max_by(|&a, &b| weighted(a).total_cmp(&weighted(b))).unwrap_or(up);
    let (bottom, top) = columns[axis];
    if (top - bottom).norm() < min_length || count == 0 {
        return tree;
    }
    let trunk: Vec<Vector3<f32>> = (0..=count).map(|k| bottom.lerp(&top, k as f32 / count as f32)).collect();
    let off_trunk = |p: &Vector3<f32>| {
        (p[axis] < bottom[axis] || p[axis] > top[axis]) || {
            let mut q = *p;
            q[axis] = root[axis];
            (q - root).norm() > near
        }
    };
    // Joints folded into the trunk: the root and descendants connected to it through joints
    // near the column.
    let n = tree.positions.len();
    let mut folded = vec![false; n];
    folded[0] = true;
    for i in 1..n {
        folded[i] = tree.parents[i].is_some_and(|p| folded[p]) && !off_trunk(&tree.positions[i]);
    }
    let mut out = JointTree { positions: trunk.clone(), parents: (0..trunk.len()).map(|k| k.checked_sub(1)).collect() };
    let mut new_index = vec![usize::MAX; n];
    for i in (0..n).filter(|&i| !folded[i]) {
        new_index[i] = out.positions.len();
        let parent = match tree.parents[i] {
            Some(p) if !folded[p] => new_index[p],
            _ => nearest(&trunk, &tree.positions[i]),
        };
        out.positions.push(tree.positions[i]);
        out.parents.push(Some(parent));
    }
    out
}

/// How much longer another axis's solid column must be than the up axis's to carry the trunk.
const UP_BONUS: f32 = 1.3;

/// The ends of the run of solid voxels through `p` along `axis`.
fn solid_column(grid: &VoxelGrid, p: Vector3<f32>, axis: usize) -> (Vector3<f32>, Vector3<f32>) {
    let solid_at = |q: &Vector3<f32>| grid.contains(q) && grid.solid[grid.index(grid.cell_of(q))];
    let mut step = Vector3::zeros();
    step[axis] = grid.size;
    let walk = |sign: f32| {
        let mut q = p;
        while solid_at(&(q + step * sign)) {
            q += step * sign;
        }
        q
    };
    (walk(-1.0), walk(1.0))
}

fn nearest(points: &[Vector3<f32>], p: &Vector3<f32>) -> usize {
    (0..points.len()).min_by(|&a, &b| (points[a] - p).norm_squared().total_cmp(&(points[b] - p).norm_squared())).unwrap_or(0)
}
