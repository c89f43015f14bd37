//! A mesh object's morph targets as FBX blend shapes: a `BlendShape` deformer on the
//! geometry, one `BlendShapeChannel` per target below it, and below each channel a `Shape`
//! geometry holding the target's moved control points (`Indexes`) with their position
//! offsets (`Vertices`) and, when the target moves normals, normal offsets (`Normals`).
//! Channels and shapes are named like the target: Blender names its shape keys after the
//! shape, the FBX SDK (Unity, FBX2glTF) after the channel.

use rig_core::{Mesh, Part};

use super::node::{object_name, prop, properties70, Attr, Node};

/// One morph target of a mesh object, sparse over the object's control points.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapeTarget {
    pub name: String,
    /// The target's default weight in percent (FBX's `DeformPercent`).
    pub percent: f64,
    /// Control points the target moves, ascending.
    pub indexes: Vec<i32>,
    /// Position offset of each listed control point, xyz.
    pub vertices: Vec<f64>,
    /// Normal offset of each listed control point, xyz; empty when the target moves no normal.
    pub normals: Vec<f64>,
}

/// The morph targets of an object made of `parts`, whose control points are the parts'
/// vertices in order (as `write_mesh::geometry` lays them out). Targets are in the order of
/// the parts' group; names the group lacks become `target_<k>`. Empty when no part has
/// targets. Also returns how many offsets were not finite (written as zero).
pub fn shape_targets(mesh: &Mesh, parts: &[&Part]) -> (Vec<ShapeTarget>, usize) {
    let count = parts.iter().map(|p| p.morph_targets.len()).max().unwrap_or(0);
    let group = parts.first().and_then(|p| mesh.groups.get(p.group));
    let mut non_finite = 0;
    let targets = (0..count)
        .map(|k| {
            let name = group.and_then(|g| g.morph_target_names.get(k)).filter(|n| !n.is_empty()).cloned();
            let weight = group.and_then(|g| g.morph_default_weights.get(k)).copied().unwrap_or(0.0);
            let mut target = ShapeTarget {
                name: name.unwrap_or_else(|| format!("target_{k}")),
                percent: if weight.is_finite() { weight as f64 * 100.0 } else { 0.0 },
                indexes: Vec::new(),
                vertices: Vec::new(),
                normals: Vec::new(),
            };
            non_finite += fill_offsets(&mut target, parts, k);
            target
        })
        .collect();
    (targets, non_finite)
}

/// Adds the non-zero offsets of target `k` of every part to `target`; returns how many
/// offsets were not finite (taken as zero).
fn fill_offsets(target: &mut ShapeTarget, parts: &[&Part], k: usize) -> usize {
    let any_normals = parts.iter().any(|p| p.morph_targets.get(k).is_some_and(|t| !t.normal_deltas.is_empty()));
    let mut non_finite = 0;
    let mut finite = |d: Option<&[f32; 3]>| match d {
        Some(d) if d.iter().all(|x| x.is_finite()) => d.map(|x| x as f64),
        Some(_) => {
            non_finite += 1;
            [0.0; 3]
        }
        None => [0.0; 3],
    };
    let mut point = 0usize;
    for part in parts {
        let morph = part.morph_targets.get(k);
        for i in 0..part.vertices.len() {
            let position = finite(morph.and_then(|t| t.position_deltas.get(i)));
            let normal = finite(morph.and_then(|t| t.normal_deltas.get(i)));
            if position.iter().chain(&normal).any(|&x| x != 0.0) {
                target.indexes.push((point + i) as i32);
                target.vertices.extend(position);
                if any_normals {
                    target.normals.extend(normal);
                }
            }
        }
        point += part.vertices.len();
    }
    non_finite
}

/// The `BlendShape` deformer that links the channels to the geometry.
pub fn blend_shape_node(id: i64, name: &str) -> Node {
    Node::new("Deformer", vec![id.into(), object_name(name, "Deformer"), "BlendShape".into()]).with(Node::leaf("Version", 100))
}

/// The target's `BlendShapeChannel`: its default weight (as a property for the FBX SDK and
/// as a field for Blender), and its one shape at full weight.
pub fn channel_node(id: i64, target: &ShapeTarget) -> Node {
    Node::new("Deformer", vec![id.into(), object_name(&target.name, "SubDeformer"), "BlendShapeChannel".into()])
        .with(Node::leaf("Version", 100))
        .with(properties70(vec![prop("DeformPercent", "Number", "", "A", vec![target.percent.into()])]))
        .with(Node::leaf("DeformPercent", target.percent))
        .with(Node::leaf("FullWeights", Attr::ArrF64(vec![100.0])))
}

/// The target's `Shape` geometry: the moved control points and their offsets.
pub fn shape_node(id: i64, target: &ShapeTarget) -> Node {
    let mut node = Node::new("Geometry", vec![id.into(), object_name(&target.name, "Geometry"), "Shape".into()])
        .with(Node::leaf("Version", 100))
        .with(Node::leaf("Indexes", Attr::ArrI32(target.indexes.clone())))
        .with(Node::leaf("Vertices", Attr::ArrF64(target.vertices.clone())));
    if !target.normals.is_empty() {
        node.push(Node::leaf("Normals", Attr::ArrF64(target.normals.clone())));
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;
    use rig_core::{MeshGroup, MorphTarget};

    fn part(vertices: std::ops::Range<u32>, targets: Vec<MorphTarget>) -> Part {
        Part { name: String::new(), group: 0, material: None, vertices, triangles: 0..0, skinned: false, morph_targets: targets }
    }

    fn target(positions: Vec<[f32; 3]>, normals: Vec<[f32; 3]>) -> MorphTarget {
        MorphTarget { position_deltas: positions, normal_deltas: normals }
    }

    #[test]
    fn targets_list_the_moved_control_points_of_every_part_in_order() {
        let a = part(0..2, vec![target(vec![[0.0; 3], [1.0, 2.0, 3.0]], vec![])]);
        let b = part(2..5, vec![target(vec![[0.5, 0.0, 0.0], [0.0; 3], [f32::NAN, 0.0, 0.0]], vec![[0.0; 3], [0.0, 0.1, 0.0], [0.0; 3]])]);
        let group = MeshGroup { name: "head".into(), morph_target_names: vec!["jawOpen".into()], morph_default_weights: vec![0.25] };
        let mesh = Mesh { groups: vec![group], ..Default::default() };
        let (targets, non_finite) = shape_targets(&mesh, &[&a, &b]);
        assert_eq!(non_finite, 1);
        assert_eq!(targets.len(), 1);
        let t = &targets[0];
        assert_eq!((t.name.as_str(), t.percent), ("jawOpen", 25.0));
        assert_eq!(t.indexes, vec![1, 2, 3]);
        assert_eq!(t.vertices, vec![1.0, 2.0, 3.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let n = 0.1f32 as f64;
        assert_eq!(t.normals, vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, n, 0.0]);
    }

    #[test]
    fn an_unnamed_target_gets_a_name_and_parts_without_targets_write_none() {
        let mesh = Mesh { groups: vec![MeshGroup::default()], ..Default::default() };
        let bare = part(0..3, vec![]);
        assert!(shape_targets(&mesh, &[&bare]).0.is_empty());
        let moved = part(0..1, vec![target(vec![[0.0, 0.0, 1.0]], vec![])]);
        let (targets, _) = shape_targets(&mesh, &[&bare, &moved]);
        assert_eq!(targets[0].name, "target_0");
        assert_eq!(targets[0].indexes, vec![3]);
        assert!(targets[0].normals.is_empty());
    }
}
