//! A mesh object's geometry node: control points (its parts' vertices in order, so indices
//! match the rig), triangles, per-polygon-vertex normals and UVs, and one material slot per
//! part.

use rig_core::{Mesh, Part};

use super::node::{object_name, Attr, Node};
use crate::error::IoError;

/// The geometry of `parts` (in slot order); each part's triangles must use its own vertices.
pub fn geometry(id: i64, name: &str, mesh: &Mesh, parts: &[&Part]) -> Result<Node, IoError> {
    let mut points: Vec<usize> = Vec::new();
    let mut corners: Vec<usize> = Vec::new();
    let mut slots: Vec<i32> = Vec::new();
    for (slot, part) in parts.iter().enumerate() {
        let (v0, v1) = (part.vertices.start as usize, part.vertices.end as usize);
        let offset = points.len();
        let triangles = mesh.triangles.get(part.triangles.start as usize..part.triangles.end as usize).unwrap_or(&[]);
        for t in triangles {
            for &v in t {
                let v = v as usize;
                if v < v0 || v >= v1 {
                    return Err(IoError::Invalid(format!(
                        "part {:?}: a triangle uses vertex {v}, outside the part's vertices {v0}..{v1}",
                        part.name
                    )));
                }
                corners.push(offset + v - v0);
            }
        }
        slots.extend(std::iter::repeat_n(slot as i32, triangles.len()));
        points.extend(v0..v1);
    }
    let polygon_index: Vec<i32> = corners.iter().enumerate().map(|(i, &c)| if i % 3 == 2 { -(c as i32) - 1 } else { c as i32 }).collect();
    let vertices: Vec<f64> = points.iter().flat_map(|&v| mesh.positions[v].map(|x| x as f64)).collect();
    let mut geometry = Node::new("Geometry", vec![id.into(), object_name(name, "Geometry"), "Mesh".into()])
        .with(Node::leaf("Vertices", Attr::ArrF64(vertices)))
        .with(Node::leaf("PolygonVertexIndex", Attr::ArrI32(polygon_index)))
        .with(Node::leaf("GeometryVersion", 124));
    let mut layer = Node::new("Layer", vec![0i32.into()]).with(Node::leaf("Version", 100));
    if mesh.normals.len() == mesh.positions.len() {
        let normals: Vec<f64> = corners.iter().flat_map(|&c| mesh.normals[points[c]].map(|x| x as f64)).collect();
        geometry.push(
            layer_element("LayerElementNormal", 0, 101, "", "ByPolygonVertex", "Direct").with(Node::leaf("Normals", Attr::ArrF64(normals))),
        );
        layer.push(layer_ref("LayerElementNormal", 0));
    }
    let n = mesh.positions.len();
    // Layer 0 holds the normals, the first UV and colour sets and the materials; layer k the
    // k-th further sets.
    let mut layers = vec![layer];
    let uv_sets = std::iter::once(&mesh.uvs).chain(&mesh.extra_uvs).enumerate().take_while(|(_, s)| s.len() == n);
    for (k, set) in uv_sets {
        // glTF's V runs down the image, FBX's up.
        let uvs: Vec<f64> = points.iter().flat_map(|&v| [set[v][0] as f64, 1.0 - set[v][1] as f64]).collect();
        let uv_index: Vec<i32> = corners.iter().map(|&c| c as i32).collect();
        let name = if k == 0 { "UVMap".to_string() } else { format!("UVMap.{k:03}") };
        geometry.push(
            layer_element("LayerElementUV", k, 101, &name, "ByPolygonVertex", "IndexToDirect")
                .with(Node::leaf("UV", Attr::ArrF64(uvs)))
                .with(Node::leaf("UVIndex", Attr::ArrI32(uv_index))),
        );
        layer_k(&mut layers, k).push(layer_ref("LayerElementUV", k));
    }
    let color_sets = std::iter::once(&mesh.colors).chain(&mesh.extra_colors).enumerate().take_while(|(_, s)| s.len() == n);
    for (k, set) in color_sets {
        let colors: Vec<f64> = points.iter().flat_map(|&v| set[v].map(|x| x as f64)).collect();
        let color_index: Vec<i32> = corners.iter().map(|&c| c as i32).collect();
        let name = if k == 0 { "Color".to_string() } else { format!("Color.{k:03}") };
        geometry.push(
            layer_element("LayerElementColor", k, 101, &name, "ByPolygonVertex", "IndexToDirect")
                .with(Node::leaf("Colors", Attr::ArrF64(colors)))
                .with(Node::leaf("ColorIndex", Attr::ArrI32(color_index))),
        );
        layer_k(&mut layers, k).push(layer_ref("LayerElementColor", k));
    }
    let layer = &mut layers[0];
    if parts.len() > 1 {
        geometry.push(
            layer_element("LayerElementMaterial", 0, 101, "", "ByPolygon", "IndexToDirect")
                .with(Node::leaf("Materials", Attr::ArrI32(slots))),
        );
        layer.push(layer_ref("LayerElementMaterial", 0));
    } else if parts.iter().any(|p| p.material.is_some()) {
        geometry.push(
            layer_element("LayerElementMaterial", 0, 101, "", "AllSame", "IndexToDirect")
                .with(Node::leaf("Materials", Attr::ArrI32(vec![0]))),
        );
        layer.push(layer_ref("LayerElementMaterial", 0));
    }
    layers.into_iter().for_each(|l| geometry.push(l));
    Ok(geometry)
}

/// Layer `k`, made when missing.
fn layer_k(layers: &mut Vec<Node>, k: usize) -> &mut Node {
    while layers.len() <= k {
        let index = layers.len() as i32;
        layers.push(Node::new("Layer", vec![index.into()]).with(Node::leaf("Version", 100)));
    }
    &mut layers[k]
}

fn layer_element(kind: &str, index: usize, version: i32, name: &str, mapping: &str, reference: &str) -> Node {
    Node::new(kind, vec![(index as i32).into()])
        .with(Node::leaf("Version", version))
        .with(Node::leaf("Name", name))
        .with(Node::leaf("MappingInformationType", mapping))
        .with(Node::leaf("ReferenceInformationType", reference))
}

fn layer_ref(kind: &str, index: usize) -> Node {
    Node::new("LayerElement", vec![]).with(Node::leaf("Type", kind)).with(Node::leaf("TypedIndex", index as i32))
}
