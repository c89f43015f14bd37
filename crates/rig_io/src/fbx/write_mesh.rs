//! A part's geometry node: control points (the part's vertices, so indices match the rig),
//! triangles, and per-polygon-vertex normals and UVs.

use rig_core::{Mesh, Part};

use super::node::{object_name, Attr, Node};
use crate::error::IoError;

pub fn geometry(id: i64, name: &str, mesh: &Mesh, part: &Part) -> Result<Node, IoError> {
    let (v0, v1) = (part.vertices.start as usize, part.vertices.end as usize);
    let triangles = mesh.triangles.get(part.triangles.start as usize..part.triangles.end as usize).unwrap_or(&[]);
    let mut corners: Vec<usize> = Vec::with_capacity(triangles.len() * 3);
    for t in triangles {
        for &v in t {
            let v = v as usize;
            if v < v0 || v >= v1 {
                return Err(IoError::Invalid(format!("part {name:?}: a triangle uses vertex {v}, outside the part's vertices {v0}..{v1}")));
            }
            corners.push(v);
        }
    }
    let polygon_index: Vec<i32> =
        corners.iter().enumerate().map(|(i, &v)| if i % 3 == 2 { -((v - v0) as i32) - 1 } else { (v - v0) as i32 }).collect();
    let vertices: Vec<f64> = mesh.positions[v0..v1].iter().flat_map(|p| p.map(|x| x as f64)).collect();
    let mut geometry = Node::new("Geometry", vec![id.into(), object_name(name, "Geometry"), "Mesh".into()])
        .with(Node::leaf("Vertices", Attr::ArrF64(vertices)))
        .with(Node::leaf("PolygonVertexIndex", Attr::ArrI32(polygon_index)))
        .with(Node::leaf("GeometryVersion", 124));
    let mut layer = Node::new("Layer", vec![0i32.into()]).with(Node::leaf("Version", 100));
    if mesh.normals.len() == mesh.positions.len() {
        let normals: Vec<f64> = corners.iter().flat_map(|&v| mesh.normals[v].map(|x| x as f64)).collect();
        geometry.push(
            layer_element("LayerElementNormal", 101, "", "ByPolygonVertex", "Direct").with(Node::leaf("Normals", Attr::ArrF64(normals))),
        );
        layer.push(layer_ref("LayerElementNormal"));
    }
    if mesh.uvs.len() == mesh.positions.len() {
        // glTF's V runs down the image, FBX's up.
        let uvs: Vec<f64> = mesh.uvs[v0..v1].iter().flat_map(|uv| [uv[0] as f64, 1.0 - uv[1] as f64]).collect();
        let uv_index: Vec<i32> = corners.iter().map(|&v| (v - v0) as i32).collect();
        geometry.push(
            layer_element("LayerElementUV", 101, "UVMap", "ByPolygonVertex", "IndexToDirect")
                .with(Node::leaf("UV", Attr::ArrF64(uvs)))
                .with(Node::leaf("UVIndex", Attr::ArrI32(uv_index))),
        );
        layer.push(layer_ref("LayerElementUV"));
    }
    if part.material.is_some() {
        geometry.push(
            layer_element("LayerElementMaterial", 101, "", "AllSame", "IndexToDirect").with(Node::leaf("Materials", Attr::ArrI32(vec![0]))),
        );
        layer.push(layer_ref("LayerElementMaterial"));
    }
    geometry.push(layer);
    Ok(geometry)
}

fn layer_element(kind: &str, version: i32, name: &str, mapping: &str, reference: &str) -> Node {
    Node::new(kind, vec![0i32.into()])
        .with(Node::leaf("Version", version))
        .with(Node::leaf("Name", name))
        .with(Node::leaf("MappingInformationType", mapping))
        .with(Node::leaf("ReferenceInformationType", reference))
}

fn layer_ref(kind: &str) -> Node {
    Node::new("LayerElement", vec![]).with(Node::leaf("Type", kind)).with(Node::leaf("TypedIndex", 0))
}
