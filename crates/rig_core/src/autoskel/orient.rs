//! Joint orientations for generated skeletons, in the convention Blender, Maya and game engines
//! show bones in: each joint's local +Y runs along its bone to the child that continues its
//! chain, and its local +Z is as close to the character's front as the bone allows (the roll),
//! so bones display connected and turn about natural axes.

use nalgebra::{Matrix3, Rotation3, UnitQuaternion, Vector3};

use super::JointTree;

/// Mesh-space front of a glTF character (+Z); bones that run along it take up (+Y) instead.
const FRONT: Vector3<f32> = Vector3::new(0.0, 0.0, 1.0);
const UP: Vector3<f32> = Vector3::new(0.0, 1.0, 0.0);

/// Each joint's mesh-space orientation. A joint aims at the child that continues the chain
/// into it (the child most in line with the bone from its parent; at a root, the child with
/// the most joints below it); a leaf continues the bone from its parent.
pub fn orientations(tree: &JointTree) -> Vec<UnitQuaternion<f32>> {
    let n = tree.positions.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (j, p) in tree.parents.iter().enumerate() {
        if let Some(p) = *p {
            children[p].push(j);
        }
    }
    let below = subtree_sizes(&tree.parents, &children);
    let mut out: Vec<UnitQuaternion<f32>> = Vec::with_capacity(n);
    for j in 0..n {
        let inherited = tree.parents[j].map_or(UnitQuaternion::identity(), |p| out[p]);
        let p = &tree.positions;
        let aim = main_child(tree, &children[j], &below, j).map(|c| p[c] - p[j]).or_else(|| tree.parents[j].map(|q| p[j] - p[q]));
        out.push(aim.and_then(along).unwrap_or(inherited));
    }
    out
}

/// The child `j`'s bone points at.
fn main_child(tree: &JointTree, children: &[usize], below: &[usize], j: usize) -> Option<usize> {
    let p = &tree.positions;
    let incoming = tree.parents[j].map(|q| p[j] - p[q]).and_then(|d| d.try_normalize(1e-9));
    let score = |c: usize| match incoming {
        Some(d) => (p[c] - p[j]).try_normalize(1e-9).map_or(-2.0, |e| e.dot(&d)),
        None => below[c] as f32,
    };
    children.iter().copied().max_by(|&a, &b| score(a).total_cmp(&score(b)).then(b.cmp(&a)))
}

/// Joints in each joint's subtree, itself included (parents come before children).
fn subtree_sizes(parents: &[Option<usize>], children: &[Vec<usize>]) -> Vec<usize> {
    let mut size = vec![1; parents.len()];
    for j in (0..parents.len()).rev() {
        size[j] += children[j].iter().map(|&c| size[c]).sum::<usize>();
    }
    size
}

/// The rotation whose +Y is `bone` and whose +Z is the front (or up, for a bone along the
/// front) with the part along the bone removed; `None` for a zero-length bone.
fn along(bone: Vector3<f32>) -> Option<UnitQuaternion<f32>> {
    let y = bone.try_normalize(1e-9)?;
    let reference = if y.dot(&FRONT).abs() > 0.9 { UP } else { FRONT };
    let z = (reference - y * reference.dot(&y)).try_normalize(1e-9)?;
    let x = y.cross(&z);
    let m = Matrix3::from_columns(&[x, y, z]);
    Some(UnitQuaternion::from_rotation_matrix(&Rotation3::from_matrix_unchecked(m)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(positions: &[[f32; 3]], parents: &[Option<usize>]) -> JointTree {
        JointTree { positions: positions.iter().map(|p| Vector3::from(*p)).collect(), parents: parents.to_vec() }
    }

    #[test]
    fn each_joint_points_its_y_at_the_child_that_continues_its_chain() {
        // pelvis -> spine -> chest -> neck, chest -> clavicle (sideways), pelvis -> thigh (down)
        let t = tree(
            &[[0.0, 1.0, 0.0], [0.0, 1.3, 0.0], [0.0, 1.6, 0.0], [0.0, 1.9, 0.05], [0.2, 1.7, 0.0], [0.1, 0.6, 0.0]],
            &[None, Some(0), Some(1), Some(2), Some(2), Some(0)],
        );
        let r = orientations(&t);
        let y = |j: usize| r[j] * Vector3::y();
        let to = |a: usize, b: usize| (t.positions[b] - t.positions[a]).normalize();
        assert!((y(0) - to(0, 1)).norm() < 1e-5, "the root aims at the longer chain (the spine)");
        assert!((y(2) - to(2, 3)).norm() < 1e-5, "the chest aims at the neck, in line with the spine");
        assert!((y(5) - to(0, 5)).norm() < 1e-5, "a leaf keeps its bone's direction from the parent");
        for q in &r {
            let z = q * Vector3::z();
            assert!(z.dot(&FRONT) > 0.9 || (q * Vector3::y()).dot(&FRONT).abs() > 0.9, "the roll faces the front");
        }
    }
}
