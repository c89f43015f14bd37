//! FBX blend shapes: the `BlendShape` deformers of a geometry, their `BlendShapeChannel`s and
//! each channel's `Shape` geometry (moved control points with position and optional normal
//! offsets), read as morph targets per control point in our space.

use nalgebra::{Matrix3, Vector3};
use rig_core::MorphTarget;

use super::doc::{child_i32s, child_numbers, invalid, property_f64, Doc, Object};
use super::transform::M4;
use crate::error::IoError;

/// Most morph target offsets (targets times control points) a file may expand to: a file of
/// many empty shapes on a large mesh must not make the reader allocate without bound.
pub const MAX_OFFSETS: usize = 1 << 26;

/// The morph targets of one geometry, dense over its control points.
#[derive(Debug, Default)]
pub struct Shapes {
    pub names: Vec<String>,
    /// Default weights (FBX's `DeformPercent` / 100).
    pub default_weights: Vec<f32>,
    targets: Vec<DenseTarget>,
}

#[derive(Debug)]
struct DenseTarget {
    positions: Vec<[f32; 3]>,
    /// Empty when the shape moves no normal.
    normals: Vec<[f32; 3]>,
}

impl Shapes {
    /// The targets of a part whose vertices come from `control_points` (one per vertex), in
    /// the geometry's target order.
    pub fn for_part(&self, control_points: &[usize]) -> Vec<MorphTarget> {
        let pick = |dense: &[[f32; 3]]| control_points.iter().map(|&cp| dense.get(cp).copied().unwrap_or([0.0; 3])).collect();
        self.targets
            .iter()
            .map(|t| MorphTarget {
                position_deltas: pick(&t.positions),
                normal_deltas: if t.normals.is_empty() { Vec::new() } else { pick(&t.normals) },
            })
            .collect()
    }
}

/// The blend shapes on `geometry` (with `control_points` points), their offsets taken to our
/// space by the linear part of `ours_from_geometry`. A channel with in-between shapes keeps
/// its full shape only, and animated weights are not read (both with a warning). `budget` is
/// what is left of [`MAX_OFFSETS`].
pub fn read_shapes(
    doc: &Doc,
    geometry: &Object,
    control_points: usize,
    ours_from_geometry: &M4,
    budget: &mut usize,
    warnings: &mut Vec<String>,
) -> Result<Shapes, IoError> {
    let mut shapes = Shapes::default();
    let linear: Matrix3<f64> = ours_from_geometry.fixed_view::<3, 3>(0, 0).into_owned();
    // Normals stay unit length in our space: offsets turn with the normal matrix, at the
    // geometry's overall scale.
    let scale = linear.determinant().abs().cbrt();
    let normal = linear.try_inverse().map_or(linear, |m| m.transpose() * scale);
    let mut animated = 0;
    for (deformer, _) in doc.children_of(geometry.id).filter(|(o, _)| o.kind == "Deformer" && o.class == "BlendShape") {
        for (channel, _) in doc.children_of(deformer.id).filter(|(o, _)| o.kind == "Deformer" && o.class == "BlendShapeChannel") {
            let Some(shape) = full_shape(doc, channel, warnings) else { continue };
            *budget = budget.checked_sub(control_points).ok_or_else(|| {
                invalid(format!(
                    "mesh {:?}: its blend shapes would expand to more than {MAX_OFFSETS} offsets; split the mesh or drop shapes",
                    geometry.name
                ))
            })?;
            let mut target = read_target(shape, channel, control_points)?;
            target.positions.iter_mut().for_each(|d| *d = turn(&linear, d));
            target.normals.iter_mut().for_each(|d| *d = turn(&normal, d));
            let name = if shape.name.is_empty() { channel.name } else { shape.name };
            let percent = property_f64(channel.node, "DeformPercent")
                .or_else(|| child_numbers(channel.node, "DeformPercent").and_then(|v| v.first().copied()))
                .unwrap_or(0.0);
            animated += usize::from(doc.children_of(channel.id).any(|(o, p)| o.kind == "AnimationCurveNode" && p == Some("DeformPercent")));
            shapes.names.push(name.to_string());
            shapes.default_weights.push(if percent.is_finite() { (percent / 100.0) as f32 } else { 0.0 });
            shapes.targets.push(target);
        }
    }
    if animated > 0 {
        warnings.push(format!("{}mesh {:?}: weight animation of {animated} blend shapes", crate::NOT_KEPT, geometry.name));
    }
    Ok(shapes)
}

fn turn(m: &Matrix3<f64>, d: &[f32; 3]) -> [f32; 3] {
    let v = m * Vector3::new(d[0] as f64, d[1] as f64, d[2] as f64);
    [v.x as f32, v.y as f32, v.z as f32]
}

/// The channel's shape at full weight: its only shape, or of in-between shapes the one with
/// the largest `FullWeights` entry (the last when the weights are missing).
fn full_shape<'a>(doc: &'a Doc, channel: &Object, warnings: &mut Vec<String>) -> Option<&'a Object<'a>> {
    let shapes: Vec<&Object> = doc.children_of(channel.id).map(|(o, _)| o).filter(|o| o.kind == "Geometry" && o.class == "Shape").collect();
    if shapes.len() > 1 {
        warnings.push(format!(
            "{}blend shape channel {:?}: {} in-between shapes (only the full shape is kept)",
            crate::NOT_KEPT,
            channel.name,
            shapes.len() - 1
        ));
        let full = child_numbers(channel.node, "FullWeights").unwrap_or_default();
        let best = (0..shapes.len()).max_by(|&a, &b| {
            let w = |i: usize| full.get(i).copied().filter(|x| x.is_finite()).unwrap_or(f64::MIN);
            w(a).total_cmp(&w(b)).then(a.cmp(&b))
        });
        return best.map(|i| shapes[i]);
    }
    shapes.first().copied()
}

/// A shape's offsets, dense over the geometry's control points (in the file's space).
fn read_target(shape: &Object, channel: &Object, control_points: usize) -> Result<DenseTarget, IoError> {
    let indexes = child_i32s(shape.node, "Indexes").unwrap_or_default();
    let vertices = child_numbers(shape.node, "Vertices").unwrap_or_default();
    let normals = child_numbers(shape.node, "Normals").unwrap_or_default();
    let named = || if shape.name.is_empty() { channel.name } else { shape.name };
    if vertices.len() != indexes.len() * 3 {
        return Err(invalid(format!(
            "blend shape {:?} lists {} control points but {} offset numbers (3 per point expected); re-export the file",
            named(),
            indexes.len(),
            vertices.len()
        )));
    }
    // Normal offsets that do not match the points are ignored, as Blender ignores them all.
    let has_normals = normals.len() == vertices.len() && normals.iter().any(|&x| x != 0.0);
    let mut target = DenseTarget {
        positions: vec![[0.0; 3]; control_points],
        normals: if has_normals { vec![[0.0; 3]; control_points] } else { Vec::new() },
    };
    for (k, &i) in indexes.iter().enumerate() {
        let cp = usize::try_from(i).ok().filter(|&cp| cp < control_points).ok_or_else(|| {
            invalid(format!(
                "blend shape {:?} moves control point {i}, but its mesh has only {control_points}; re-export the file",
                named()
            ))
        })?;
        target.positions[cp] = offset(&vertices, k);
        if has_normals {
            target.normals[cp] = offset(&normals, k);
        }
    }
    Ok(target)
}

/// The `k`-th xyz triple of `values` as f32, non-finite numbers as zero.
fn offset(values: &[f64], k: usize) -> [f32; 3] {
    std::array::from_fn(|a| Some(values[3 * k + a]).filter(|x| x.is_finite()).map_or(0.0, |x| x as f32))
}

#[cfg(test)]
mod tests {
    use rig_core::{Mesh, MeshGroup, MorphTarget, Part, Rig};

    use crate::fbx::node::{to_binary, Attr, Node};

    /// A triangle whose one target lifts its second corner.
    fn triangle() -> Rig {
        let part = Part {
            name: "tri".into(),
            group: 0,
            material: None,
            vertices: 0..3,
            triangles: 0..1,
            skinned: false,
            morph_targets: vec![MorphTarget { position_deltas: vec![[0.0; 3], [0.0, 0.5, 0.0], [0.0; 3]], normal_deltas: vec![] }],
        };
        let group = MeshGroup { name: "tri".into(), morph_target_names: vec!["lift".into()], morph_default_weights: vec![0.0] };
        let mesh = Mesh {
            positions: vec![[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
            triangles: vec![[0, 1, 2]],
            parts: vec![part],
            groups: vec![group],
            ..Default::default()
        };
        Rig { mesh, ..Default::default() }
    }

    /// The triangle's file with `edit` applied to its Shape geometry, read back.
    fn read_with_shape(edit: impl Fn(&mut Node)) -> Result<crate::Imported, crate::IoError> {
        let (mut top, _) = crate::fbx::write::document(&triangle()).expect("writes");
        let objects = top.iter_mut().find(|n| n.name == "Objects").expect("has objects");
        let shape = objects.children.iter_mut().find(|n| n.attrs.get(2) == Some(&Attr::from("Shape"))).expect("has a shape");
        edit(shape);
        crate::fbx::from_bytes(&to_binary(&top).expect("encodes"), "t")
    }

    fn set(node: &mut Node, name: &str, value: Attr) {
        if let Some(child) = node.children.iter_mut().find(|c| c.name == name) {
            child.attrs = vec![value];
        }
    }

    #[test]
    fn a_shape_reads_back_as_a_dense_target() {
        let back = read_with_shape(|_| {}).expect("reads").rig;
        assert_eq!(back.mesh.groups[0].morph_target_names, ["lift"]);
        assert_eq!(back.mesh.parts[0].morph_targets[0].position_deltas, [[0.0; 3], [0.0, 0.5, 0.0], [0.0; 3]]);
    }

    #[test]
    fn a_shape_moving_a_missing_point_is_an_error() {
        let err = read_with_shape(|s| set(s, "Indexes", Attr::ArrI32(vec![7]))).expect_err("point 7 does not exist");
        assert!(err.to_string().contains("moves control point 7, but its mesh has only 3"), "{err}");
        let err = read_with_shape(|s| set(s, "Indexes", Attr::ArrI32(vec![-1]))).expect_err("negative index");
        assert!(err.to_string().contains("control point -1"), "{err}");
    }

    #[test]
    fn offsets_that_do_not_match_the_points_are_an_error() {
        let err = read_with_shape(|s| set(s, "Vertices", Attr::ArrF64(vec![0.0, 1.0]))).expect_err("2 numbers for 1 point");
        assert!(err.to_string().contains("lists 1 control points but 2 offset numbers"), "{err}");
    }
}
