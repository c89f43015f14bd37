//! Joints as nodes (node `j` is joint `j`) and the one skin that lists them.

use rig_core::{Mat4, Rig};
use serde_json::{json, Value};

use super::buffer::BinWriter;
use super::MESH_FROM_ARMATURE;

/// What the rest of the exporter needs to know about the written skeleton.
pub struct SkeletonOut {
    /// Nodes that go into the scene's root list.
    pub scene_roots: Vec<usize>,
    pub skin: Option<Value>,
    /// Each joint's index in the skin's joint list (`None` for transform nodes above the bones).
    pub skin_index: Vec<Option<u16>>,
    /// The scale skinned vertices are written at when the armature's differs from the rig's
    /// mesh space (see `ArmatureSpace`); the inverse bind matrices take its inverse, so
    /// posed results are unchanged, and the skin's `extras.rigsmith.mesh_from_armature` lets
    /// Rigsmith's reader restore the rig's own space. `None`: written as stored.
    pub armature_from_mesh: Option<Mat4>,
}

pub fn write(rig: &Rig, w: &mut BinWriter, nodes: &mut Vec<Value>) -> SkeletonOut {
    let s = &rig.skeleton;
    if s.is_empty() {
        return SkeletonOut { scene_roots: vec![], skin: None, skin_index: vec![], armature_from_mesh: None };
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
    // Transform nodes above the bones (an armature node carrying a scale or a turn) stay plain
    // nodes: listed in the skin they would become bones, which cannot hold a scale.
    let mut transform = rig.transform_nodes();
    if transform.iter().all(|&t| t) {
        transform.fill(false); // nothing but transform nodes: a skin needs joints
    }
    let joint_nodes: Vec<usize> = (0..s.len()).filter(|&j| !transform[j]).collect();
    let mut skin_index = vec![None; s.len()];
    joint_nodes.iter().enumerate().for_each(|(k, &j)| skin_index[j] = Some(k as u16));
    let roots: Vec<usize> = s.roots().collect();
    let scene_roots = if roots.len() == 1 {
        roots.clone()
    } else {
        // One scene root above the joints: an identity node the importer drops.
        nodes.push(json!({ "name": "rigsmith_root", "children": roots, "extras": { "rigsmith": { "synthetic_root": true } } }));
        vec![nodes.len() - 1]
    };
    let skeleton_root = lowest_common_node(rig, &joint_nodes).unwrap_or(scene_roots[0]);
    let space = armature_space(rig, &transform);
    let armature_from_mesh = match s.source_skin {
        Some(source) => (!source.skin_from_mesh.relative_eq(&Mat4::identity(), 1e-6, 1e-6)).then_some(source.skin_from_mesh),
        None => space.scale,
    };
    let mesh_from_armature = armature_from_mesh.and_then(|m| m.try_inverse()).unwrap_or_else(Mat4::identity);
    let ibms: Vec<[f32; 16]> = joint_nodes.iter().map(|&j| column_major(&(s.joints[j].joint_from_mesh * mesh_from_armature))).collect();
    let ibm = w.mat4(&ibms);
    let mut skin = json!({ "name": format!("{}_skin", rig.name), "joints": joint_nodes, "inverseBindMatrices": ibm });
    if names_skeleton_root(s, &space, skin_index.get(skeleton_root).is_some_and(Option::is_some)) {
        skin["skeleton"] = json!(skeleton_root);
    }
    if armature_from_mesh.is_some() {
        skin["extras"]["rigsmith"][MESH_FROM_ARMATURE] = json!(column_major(&mesh_from_armature));
    }
    SkeletonOut { scene_roots, skin: Some(skin), skin_index, armature_from_mesh }
}

/// Whether the skin names its skeleton root: as the file it was read from did (see
/// `SourceSkin`), else only when the root is a joint and the skin's space is the armature's.
/// A root that is not a joint (an armature node above sibling bones) put GreenSpikyBlob's head
/// 8 % of the diagonal off in Blender, and a skin bound in a space turned against the armature
/// made mannequiny 0.316 tall.
fn names_skeleton_root(s: &rig_core::Skeleton, space: &ArmatureSpace, root_is_joint: bool) -> bool {
    s.source_skin.map_or(!space.turned && root_is_joint, |source| source.names_root)
}

/// How the skin's space relates to the transform node the bones hang from (the scene above a
/// root bone), measured on the top bone: `armature_from_model * rest model_from_joint *
/// joint_from_mesh`. Blender reads inverse bind matrices as rigid maps from that node's space
/// when the skin names a skeleton root, dropping their scale; without one, it places the root
/// bone by its node transform and uses the inverse bind matrices only relative to each other.
struct ArmatureSpace {
    /// The uniform scale the skinned vertices are written at, when not 1 (a mesh stored at the
    /// skeleton's scale on import, under an armature node that scales by 100).
    scale: Option<Mat4>,
    /// The skin's space is turned against the armature's (a skin bound in world space under a
    /// turned armature node): the skin names no skeleton root, so Blender places the root
    /// bone by its node.
    turned: bool,
}

fn armature_space(rig: &Rig, transform: &[bool]) -> ArmatureSpace {
    let none = ArmatureSpace { scale: None, turned: false };
    let s = &rig.skeleton;
    let Some(top) = (0..s.len()).find(|&j| !transform[j] && s.joints[j].parent.is_none_or(|p| transform[p])) else { return none };
    let rest = s.model_from_joints_rest();
    let model_from_armature = s.joints[top].parent.map_or_else(Mat4::identity, |p| rest[p]);
    let Some(armature_from_model) = model_from_armature.try_inverse() else { return none };
    let m = armature_from_model * rest[top] * s.joints[top].joint_from_mesh;
    let linear = m.fixed_view::<3, 3>(0, 0).into_owned();
    let scale = linear.determinant().abs().cbrt();
    if !(scale.is_finite() && scale > 1e-12) {
        return none;
    }
    let turned = (linear / scale - nalgebra::Matrix3::identity()).abs().max() > 1e-3;
    let scale = ((scale - 1.0).abs() > 1e-4).then(|| Mat4::new_scaling(scale));
    ArmatureSpace { scale, turned }
}

/// The deepest joint that is `joints`' common ancestor (or one of them); `None` when they
/// hang from different roots.
fn lowest_common_node(rig: &Rig, joints: &[usize]) -> Option<usize> {
    let s = &rig.skeleton;
    let chain = |mut j: usize| {
        let mut up = vec![j];
        while let Some(p) = s.joints[j].parent {
            up.push(p);
            j = p;
        }
        up.reverse();
        up
    };
    let chains: Vec<Vec<usize>> = joints.iter().map(|&j| chain(j)).collect();
    let first = chains.first()?;
    let common = (0..first.len()).take_while(|&i| chains.iter().all(|c| c.get(i) == Some(&first[i]))).count();
    common.checked_sub(1).map(|i| first[i])
}

/// An affine matrix in glTF's column-major order, its bottom row written as exactly (0, 0, 0, 1):
/// glTF requires that of inverse bind matrices, and a product or inverse of floats leaves it a
/// few ulps off (the Khronos validator's ACCESSOR_INVALID_IBM).
fn column_major(m: &rig_core::Mat4) -> [f32; 16] {
    let mut out = [0.0; 16];
    out.copy_from_slice(m.as_slice());
    [out[3], out[7], out[11], out[15]] = [0.0, 0.0, 0.0, 1.0];
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn inverse_bind_matrices_are_written_with_an_exact_bottom_row() {
        // A generated joint's inverse bind matrix: the inverse of a turned, placed joint, whose
        // bottom row comes out a few ulps off 0, 0, 0, 1.
        let joint = rig_core::Trs {
            translation: nalgebra::Vector3::new(0.13, 1.27, -0.04),
            rotation: nalgebra::UnitQuaternion::from_euler_angles(0.3, -1.1, 2.0),
            scale: nalgebra::Vector3::repeat(1.0),
        };
        let mut m = joint.to_matrix().try_inverse().expect("invertible") * joint.to_matrix().try_inverse().expect("invertible");
        m[(3, 3)] = 1.000_000_1;
        m[(3, 0)] = 1e-9;
        let out = super::column_major(&m);
        assert_eq!([out[3], out[7], out[11], out[15]], [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(out[12..15], m.as_slice()[12..15], "translation kept");
    }
}
