//! Which FBX mesh objects the parts become. Each mesh of the source file (a [`MeshGroup`],
//! split into skinned and static parts as the glTF export splits it) is one object named
//! like the mesh, its parts as material slots, so Blender shows the same objects for the
//! FBX and the GLB. A mesh whose parts cannot be told apart by material on reading (two
//! parts sharing one, or a part without one) keeps one object per part instead.
//!
//! [`MeshGroup`]: rig_core::MeshGroup

use rig_core::Rig;

/// One FBX Model with its Geometry: the parts it holds, in slot order.
#[derive(Debug, Clone, PartialEq)]
pub struct MeshObject {
    pub name: String,
    pub parts: Vec<usize>,
}

/// The mesh objects of `rig`, in the order of their parts.
pub fn mesh_objects(rig: &Rig) -> Vec<MeshObject> {
    let parts = &rig.mesh.parts;
    let mut sets: Vec<(usize, bool, Vec<usize>)> = Vec::new();
    for (p, part) in parts.iter().enumerate() {
        match sets.iter_mut().find(|s| s.0 == part.group && s.1 == part.skinned) {
            Some(s) => s.2.push(p),
            None => sets.push((part.group, part.skinned, vec![p])),
        }
    }
    let mut out = Vec::new();
    for (group, skinned, members) in sets {
        let group_name = rig.mesh.groups.get(group).map_or("", |g| g.name.as_str());
        let split_group = parts.iter().any(|p| p.group == group && p.skinned != skinned);
        let name = match (group_name.is_empty(), split_group && !skinned) {
            (true, _) => None,
            (false, true) => Some(format!("{group_name}_static")),
            (false, false) => Some(group_name.to_string()),
        };
        match name.filter(|_| slots_tell_parts_apart(rig, &members)) {
            Some(name) => out.push(MeshObject { name: unlike_a_bone(rig, name), parts: members }),
            None => out.extend(members.into_iter().map(|p| MeshObject { name: unlike_a_bone(rig, part_name(rig, p)), parts: vec![p] })),
        }
    }
    // File order, so that a reader gives back the vertices in the rig's order.
    out.sort_by_key(|o| o.parts[0]);
    out
}

/// One part, or consecutive parts that each have their own material (a reader splits an
/// object's polygons by material slot, so these come back as the same parts, in the same
/// order).
fn slots_tell_parts_apart(rig: &Rig, members: &[usize]) -> bool {
    if members.len() == 1 {
        return true;
    }
    if members.windows(2).any(|w| w[1] != w[0] + 1) {
        return false;
    }
    let materials: Vec<Option<usize>> = members.iter().map(|&p| rig.mesh.parts[p].material).collect();
    materials.iter().all(|m| m.is_some_and(|m| m < rig.materials.materials.len()))
        && materials.iter().enumerate().all(|(i, m)| !materials[..i].contains(m))
}

fn part_name(rig: &Rig, p: usize) -> String {
    let name = &rig.mesh.parts[p].name;
    if name.is_empty() {
        format!("part_{p}")
    } else {
        name.clone()
    }
}

/// Readers that key nodes by name (assimp) would bind a skin to a mesh named like a bone.
fn unlike_a_bone(rig: &Rig, mut name: String) -> String {
    if rig.skeleton.find(&name).is_some() {
        name.push_str("_mesh");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use rig_core::{Material, MaterialLibrary, Mesh, MeshGroup, Part};

    fn rig(groups: &[&str], parts: &[(usize, Option<usize>, bool)]) -> Rig {
        let mesh = Mesh {
            groups: groups.iter().map(|g| MeshGroup { name: g.to_string(), ..Default::default() }).collect(),
            parts: parts
                .iter()
                .enumerate()
                .map(|(i, &(group, material, skinned))| Part {
                    name: format!("Cube.004.{i}"),
                    group,
                    material,
                    vertices: 0..0,
                    triangles: 0..0,
                    skinned,
                    morph_targets: vec![],
                })
                .collect(),
            ..Default::default()
        };
        let materials = MaterialLibrary { materials: vec![Material::default(); 3], ..Default::default() };
        Rig { mesh, materials, ..Default::default() }
    }

    fn names(objects: &[MeshObject]) -> Vec<(&str, Vec<usize>)> {
        objects.iter().map(|o| (o.name.as_str(), o.parts.clone())).collect()
    }

    #[test]
    fn a_mesh_of_several_materials_is_one_object_named_like_the_mesh() {
        let r = rig(&["Body", "Hat"], &[(0, Some(0), true), (0, Some(1), true), (1, Some(0), true), (0, Some(2), false)]);
        assert_eq!(names(&mesh_objects(&r)), vec![("Body", vec![0, 1]), ("Hat", vec![2]), ("Body_static", vec![3])]);
    }

    #[test]
    fn parts_a_reader_could_not_tell_apart_stay_separate_objects() {
        let shared = rig(&["Body"], &[(0, Some(0), true), (0, Some(0), true)]);
        assert_eq!(names(&mesh_objects(&shared)), vec![("Cube.004.0", vec![0]), ("Cube.004.1", vec![1])]);
        let bare = rig(&["Body"], &[(0, Some(0), true), (0, None, true)]);
        assert_eq!(mesh_objects(&bare).len(), 2);
        let interleaved = rig(&["Body", "Hat"], &[(0, Some(0), true), (1, Some(1), true), (0, Some(2), true)]);
        assert_eq!(names(&mesh_objects(&interleaved)), vec![("Cube.004.0", vec![0]), ("Hat", vec![1]), ("Cube.004.2", vec![2])]);
        let unnamed = rig(&[""], &[(0, Some(0), true)]);
        assert_eq!(names(&mesh_objects(&unnamed)), vec![("Cube.004.0", vec![0])]);
    }
}
