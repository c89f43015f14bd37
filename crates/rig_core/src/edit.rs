//! Skeleton edits an artist makes in the editor, on the whole rig so weights and clips stay
//! consistent: move a joint, add a child, delete (children go to the parent, weights too),
//! split a bone, re-parent, rename, mirror left to right.
//!
//! Edits work in the bind pose (where the stored mesh puts the joints). A joint an edit
//! touches gets its rest transform re-derived from the bind pose, so rest = bind for it.

use nalgebra::Vector3;

use crate::rig::Rig;
use crate::skeleton::{Joint, Skeleton};
use crate::transform::{translation, Trs};
use crate::Mat4;

/// Why an edit was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    #[error("joint {0} does not exist")]
    NoSuchJoint(usize),
    #[error("a joint cannot become a child of itself or of one of its descendants")]
    Cycle,
    #[error("a joint needs a name")]
    EmptyName,
    #[error("joint {0} has a parent: a root goes above a root joint only")]
    NotARoot(usize),
}

fn check(skeleton: &Skeleton, joint: usize) -> Result<(), EditError> {
    if joint < skeleton.len() {
        Ok(())
    } else {
        Err(EditError::NoSuchJoint(joint))
    }
}

/// Joint `j`'s position in the bind pose (mesh space).
pub fn bind_position(skeleton: &Skeleton, j: usize) -> [f32; 3] {
    let m = skeleton.joints[j].joint_from_mesh.try_inverse().unwrap_or_else(Mat4::identity);
    translation(&m).into()
}

/// Re-derives `rest_local` of `joints` from the bind matrices: `parent_bind^-1 * bind`.
fn rest_from_bind(skeleton: &mut Skeleton, joints: &[usize]) {
    let bind = skeleton.model_from_joints_bind();
    for &k in joints {
        let local = match skeleton.joints[k].parent {
            Some(p) => bind[p].try_inverse().unwrap_or_else(Mat4::identity) * bind[k],
            None => bind[k],
        };
        if let Some(trs) = Trs::from_matrix(&local) {
            skeleton.joints[k].rest_local = trs;
        }
    }
}

/// Moves joint `j` to `position` (mesh space, bind pose); no other joint moves.
pub fn move_joint(rig: &mut Rig, j: usize, position: [f32; 3]) -> Result<(), EditError> {
    check(&rig.skeleton, j)?;
    let s = &mut rig.skeleton;
    let mut bind = s.joints[j].joint_from_mesh.try_inverse().unwrap_or_else(Mat4::identity);
    (0..3).for_each(|k| bind[(k, 3)] = position[k]);
    s.joints[j].joint_from_mesh = bind.try_inverse().unwrap_or_else(Mat4::identity);
    let mut touched: Vec<usize> = s.children(j).collect();
    touched.push(j);
    rest_from_bind(s, &touched);
    Ok(())
}

/// Adds a deforming child of `parent` at `position` (bind pose) and returns its index. The new
/// joint takes its parent's orientation and is stored last (parents stay first).
pub fn add_child(rig: &mut Rig, parent: usize, position: [f32; 3], name: &str) -> Result<usize, EditError> {
    check(&rig.skeleton, parent)?;
    if name.trim().is_empty() {
        return Err(EditError::EmptyName);
    }
    let mut bind = rig.skeleton.joints[parent].joint_from_mesh.try_inverse().unwrap_or_else(Mat4::identity);
    (0..3).for_each(|k| bind[(k, 3)] = position[k]);
    rig.skeleton.joints.push(Joint {
        name: name.to_string(),
        parent: Some(parent),
        rest_local: Trs::IDENTITY,
        joint_from_mesh: bind.try_inverse().unwrap_or_else(Mat4::identity),
        deform: true,
        in_skin: true,
    });
    let j = rig.skeleton.len() - 1;
    rest_from_bind(&mut rig.skeleton, &[j]);
    Ok(j)
}

/// Puts a new non-deforming joint `name` on the ground under root joint `j` (the lowest point
/// of the mesh as the rest pose shows it) and makes `j` its child: nothing moves, and clips
/// keep their poses (`j`'s translation keys become relative to the new joint). Unreal expects
/// such a `root` above the pelvis. Returns the new joint's index.
pub fn add_ground_root(rig: &mut Rig, j: usize, name: &str) -> Result<usize, EditError> {
    check(&rig.skeleton, j)?;
    if name.trim().is_empty() {
        return Err(EditError::EmptyName);
    }
    if rig.skeleton.joints[j].parent.is_some() {
        return Err(EditError::NotARoot(j));
    }
    let model_from_mesh = rig.display_from_mesh();
    let ground = rig.mesh.positions.iter().map(|p| model_from_mesh.transform_point(&(*p).into()).y).fold(f32::INFINITY, f32::min);
    let above = rig.skeleton.joints[j].rest_local.translation;
    let root_at = Vector3::new(above.x, if ground.is_finite() { ground } else { 0.0 }, above.z);
    let root_model = Mat4::new_translation(&root_at);
    rig.skeleton.joints.push(Joint {
        name: name.to_string(),
        parent: None,
        rest_local: Trs { translation: root_at, ..Trs::IDENTITY },
        joint_from_mesh: root_model.try_inverse().unwrap_or_else(Mat4::identity) * model_from_mesh,
        deform: false,
        in_skin: true,
    });
    let root = rig.skeleton.len() - 1;
    let joint = &mut rig.skeleton.joints[j];
    joint.parent = Some(root);
    joint.rest_local.translation -= root_at;
    for channel in rig.clips.iter_mut().flat_map(|c| c.channels.iter_mut()).filter(|c| c.joint == j) {
        let cubic = channel.interpolation == crate::Interpolation::CubicSpline;
        if let crate::ChannelValues::Translation(values) = &mut channel.values {
            // Cubic splines hold (in-tangent, value, out-tangent) per key: only values move.
            let (first, step) = if cubic { (1, 3) } else { (0, 1) };
            for v in values.iter_mut().skip(first).step_by(step) {
                (0..3).for_each(|i| v[i] -= root_at[i]);
            }
        }
    }
    reorder_parents_first(rig);
    Ok(rig.skeleton.find(name).unwrap_or(0))
}

/// Splits the bone from `j`'s parent to `j` at its midpoint: a new joint between them.
pub fn split_bone(rig: &mut Rig, j: usize) -> Result<usize, EditError> {
    check(&rig.skeleton, j)?;
    let Some(parent) = rig.skeleton.joints[j].parent else { return Err(EditError::NoSuchJoint(j)) };
    let (a, b) = (Vector3::from(bind_position(&rig.skeleton, parent)), Vector3::from(bind_position(&rig.skeleton, j)));
    let name = unique_name(&rig.skeleton, &format!("{}_split", rig.skeleton.joints[j].name));
    let mid = add_child(rig, parent, ((a + b) * 0.5).into(), &name)?;
    reparent(rig, j, mid)?;
    Ok(rig.skeleton.find(&name).unwrap_or(mid))
}

/// Deletes joint `j`: its children go to its parent, its weights to its parent (or, for a
/// root, to the vertex's other influences), its animation channels are dropped.
pub fn delete_joint(rig: &mut Rig, j: usize) -> Result<(), EditError> {
    check(&rig.skeleton, j)?;
    let parent = rig.skeleton.joints[j].parent;
    let children: Vec<usize> = rig.skeleton.children(j).collect();
    for &c in &children {
        rig.skeleton.joints[c].parent = parent;
    }
    rest_from_bind(&mut rig.skeleton, &children);
    let rows = (0..rig.weights.vertex_count()).map(|v| {
        let mut row = rig.weights.row_pairs(v);
        let had = !row.is_empty();
        row.iter_mut().for_each(|e| {
            if e.0 as usize == j {
                e.0 = parent.map_or(u32::MAX, |p| p as u32);
            }
        });
        row.retain(|e| e.0 != u32::MAX);
        let total: f32 = row.iter().map(|e| e.1).sum();
        if had && total > 0.0 {
            row.iter_mut().for_each(|e| e.1 /= total);
        }
        row
    });
    let mut weights = crate::SkinWeights::from_rows(rows.collect::<Vec<_>>());
    let map: Vec<u32> = (0..rig.skeleton.len()).map(|k| if k > j { k as u32 - 1 } else { k as u32 }).collect();
    weights.remap_joints(&map);
    rig.weights = weights;
    rig.skeleton.joints.remove(j);
    for joint in &mut rig.skeleton.joints {
        joint.parent = joint.parent.map(|p| if p > j { p - 1 } else { p });
    }
    for clip in &mut rig.clips {
        clip.channels.retain(|c| c.joint != j);
        clip.channels.iter_mut().for_each(|c| c.joint = map[c.joint] as usize);
    }
    Ok(())
}

/// Makes `j` a child of `new_parent` (or a root with `None`) without moving it. Joints are
/// re-ordered so parents stay first; weights and clips follow.
pub fn reparent(rig: &mut Rig, j: usize, new_parent: usize) -> Result<(), EditError> {
    check(&rig.skeleton, j)?;
    check(&rig.skeleton, new_parent)?;
    if rig.skeleton.is_descendant(new_parent, j) {
        return Err(EditError::Cycle);
    }
    rig.skeleton.joints[j].parent = Some(new_parent);
    rest_from_bind(&mut rig.skeleton, &[j]);
    reorder_parents_first(rig);
    Ok(())
}

/// Renames joint `j`.
pub fn rename(rig: &mut Rig, j: usize, name: &str) -> Result<(), EditError> {
    check(&rig.skeleton, j)?;
    if name.trim().is_empty() {
        return Err(EditError::EmptyName);
    }
    rig.skeleton.joints[j].name = name.trim().to_string();
    Ok(())
}

/// Moves every joint whose name marks the right side (`_r`, `.R`, `Right`) to the mirror image
/// (x -> -x about `center_x`) of its left twin. Returns how many joints moved.
pub fn mirror_left_to_right(rig: &mut Rig, center_x: f32) -> usize {
    let mut moved = 0;
    for j in 0..rig.skeleton.len() {
        let Some(twin) = left_twin(&rig.skeleton, j) else { continue };
        let p = bind_position(&rig.skeleton, twin);
        let target = [2.0 * center_x - p[0], p[1], p[2]];
        if move_joint(rig, j, target).is_ok() {
            moved += 1;
        }
    }
    moved
}

/// The left-side joint named like right-side joint `j`, if any.
pub fn left_twin(skeleton: &Skeleton, j: usize) -> Option<usize> {
    let name = &skeleton.joints[j].name;
    const PAIRS: [(&str, &str); 6] = [("_r", "_l"), ("_R", "_L"), (".R", ".L"), ("Right", "Left"), ("right", "left"), ("_Right", "_Left")];
    PAIRS.iter().find_map(|(r, l)| {
        let twin = if let Some(stem) = name.strip_suffix(r) {
            format!("{stem}{l}")
        } else if name.contains(r) && !r.starts_with(['_', '.']) {
            name.replacen(r, l, 1)
        } else {
            return None;
        };
        skeleton.find(&twin).filter(|&t| t != j)
    })
}

/// `base`, or `base_2`, `base_3`... whichever no joint has.
pub fn unique_name(skeleton: &Skeleton, base: &str) -> String {
    if skeleton.find(base).is_none() {
        return base.to_string();
    }
    (2..).map(|i| format!("{base}_{i}")).find(|n| skeleton.find(n).is_none()).unwrap_or_default()
}

/// Restores the parents-first order after a re-parent: a stable depth-first walk from the
/// roots; weights and clips are remapped to the new indices.
fn reorder_parents_first(rig: &mut Rig) {
    let n = rig.skeleton.len();
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<usize> = rig.skeleton.roots().collect::<Vec<_>>().into_iter().rev().collect();
    while let Some(j) = stack.pop() {
        order.push(j);
        let kids: Vec<usize> = rig.skeleton.children(j).collect();
        stack.extend(kids.into_iter().rev());
    }
    let mut new_of_old = vec![0u32; n];
    order.iter().enumerate().for_each(|(new, &old)| new_of_old[old] = new as u32);
    let old = std::mem::take(&mut rig.skeleton.joints);
    rig.skeleton.joints = order
        .iter()
        .map(|&o| {
            let mut joint = old[o].clone();
            joint.parent = joint.parent.map(|p| new_of_old[p] as usize);
            joint
        })
        .collect();
    rig.weights.remap_joints(&new_of_old);
    for clip in &mut rig.clips {
        clip.channels.iter_mut().for_each(|c| c.joint = new_of_old[c.joint] as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Channel, ChannelValues, Clip, Interpolation, Mesh, Part, Pose, SkinWeights};

    /// Hips (a root, 1 m up) and a spine; the mesh reaches the ground at y = -0.1; a clip moves
    /// the hips (linear keys) and turns the spine.
    fn hips_and_spine() -> Rig {
        let joint = |name: &str, parent, at: Vector3<f32>, world: Vector3<f32>| Joint {
            name: name.into(),
            parent,
            rest_local: Trs { translation: at, ..Trs::IDENTITY },
            joint_from_mesh: Mat4::new_translation(&-world),
            deform: true,
            in_skin: true,
        };
        let hips = Vector3::new(0.2, 1.0, 0.3);
        let spine = hips + Vector3::new(0.0, 0.4, 0.0);
        let skeleton = Skeleton {
            joints: vec![joint("pelvis", None, hips, hips), joint("spine_01", Some(0), spine - hips, spine)],
            ..Default::default()
        };
        let positions = vec![[0.2, -0.1, 0.3], [0.2, 1.2, 0.3], [0.2, 1.6, 0.3]];
        let part =
            Part { name: "b".into(), group: 0, material: None, vertices: 0..3, triangles: 0..1, skinned: true, morph_targets: vec![] };
        let mesh = Mesh { positions, triangles: vec![[0, 1, 2]], parts: vec![part], ..Default::default() };
        let weights = SkinWeights::from_rows(vec![vec![(0u32, 1.0f32)], vec![(0, 0.5), (1, 0.5)], vec![(1, 1.0)]]);
        let moves = Channel {
            joint: 0,
            times: vec![0.0, 1.0],
            values: ChannelValues::Translation(vec![[0.2, 1.0, 0.3], [0.5, 0.8, 1.3]]),
            interpolation: Interpolation::Linear,
        };
        let q = nalgebra::UnitQuaternion::from_euler_angles(0.3, 0.0, 0.2).coords;
        let turns = Channel {
            joint: 1,
            times: vec![0.0, 1.0],
            values: ChannelValues::Rotation(vec![[0.0, 0.0, 0.0, 1.0], [q.x, q.y, q.z, q.w]]),
            interpolation: Interpolation::Linear,
        };
        let clip = Clip { name: "move".into(), channels: vec![moves, turns], morph_channels: vec![] };
        Rig { name: "t".into(), mesh, skeleton, weights, clips: vec![clip], materials: Default::default(), scene_from_mesh: None }
    }

    fn skinned_at(rig: &Rig, time: Option<f32>) -> Vec<[f32; 3]> {
        let mut pose = Pose::rest(&rig.skeleton);
        if let Some(t) = time {
            rig.clips[0].apply(t, &mut pose);
        }
        crate::lbs::skin_positions(&rig.mesh.positions, &rig.weights, &pose.skinning_matrices(&rig.skeleton))
    }

    #[test]
    fn a_ground_root_goes_under_the_hips_and_nothing_moves_at_rest_or_in_clips() {
        let mut rig = hips_and_spine();
        let before: Vec<Vec<[f32; 3]>> = [None, Some(0.4), Some(1.0)].iter().map(|t| skinned_at(&rig, *t)).collect();
        let root = add_ground_root(&mut rig, 0, "root").expect("root");
        assert_eq!(root, 0, "parents come first");
        let s = &rig.skeleton;
        assert_eq!((s.joints[1].name.as_str(), s.joints[1].parent), ("pelvis", Some(0)));
        assert!(!s.joints[0].deform);
        let at = s.joints[0].rest_local.translation;
        assert!((at - Vector3::new(0.2, -0.1, 0.3)).norm() < 1e-6, "root at {at:?}");
        let after: Vec<Vec<[f32; 3]>> = [None, Some(0.4), Some(1.0)].iter().map(|t| skinned_at(&rig, *t)).collect();
        for (a, b) in before.iter().flatten().zip(after.iter().flatten()) {
            assert!((Vector3::from(*a) - Vector3::from(*b)).norm() < 1e-5, "{a:?} -> {b:?}");
        }
        assert_eq!(add_ground_root(&mut rig, 1, "again"), Err(EditError::NotARoot(1)));
    }
}
