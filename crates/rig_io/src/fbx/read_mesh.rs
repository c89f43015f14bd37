//! FBX geometry: control points, polygons (fan-triangulated), normals, UVs and material
//! slots, split into Rigsmith vertices; skin clusters into weight rows; blend shapes into
//! morph targets (see `read_shapes`); materials.

use std::collections::HashMap;

use fbxcel::tree::v7400::NodeHandle;
use nalgebra::{Matrix3, Point3, Vector3};
use rig_core::{Image, Material, MaterialLibrary, Mesh, MeshGroup, Part, SkinWeights};

use super::doc::{child_i32s, child_numbers, child_string, invalid, property_f64, property_vec3, Doc, Object};
use super::read::{cluster_models, matrix, Scene, SkeletonMap};
use super::read_shapes::{read_shapes, MAX_OFFSETS};
use super::transform::{geometric_matrix, M4};
use crate::error::IoError;

pub fn meshes(
    doc: &Doc,
    scene: &Scene,
    skeleton: &SkeletonMap,
    warnings: &mut Vec<String>,
) -> Result<(Mesh, SkinWeights, MaterialLibrary), IoError> {
    let mut mesh = Mesh::default();
    let mut rows: Vec<Vec<(u32, f32)>> = Vec::new();
    let mut library = MaterialLibrary::default();
    let mut material_index: HashMap<i64, usize> = HashMap::new();
    let (mut any_normals, mut any_uvs) = (false, false);
    let mut shape_budget = MAX_OFFSETS;
    for model in doc.of_kind("Model") {
        let Some(geometry) = doc.children_of(model.id).map(|(o, _)| o).find(|o| o.kind == "Geometry" && o.class == "Mesh") else {
            continue;
        };
        let slots: Vec<Option<usize>> = doc
            .children_of(model.id)
            .filter(|(o, _)| o.kind == "Material")
            .map(|(o, _)| Some(*material_index.entry(o.id).or_insert_with(|| read_material(doc, o, &mut library, warnings))))
            .collect();
        let mut skin = read_skin(doc, geometry, skeleton)?;
        let ours_from_mesh_bind = match (skin.mesh_bind, rigid_joint(scene, skeleton, model.id)) {
            (Some(bind), _) => scene.ours_from_file * bind,
            (None, Some(joint)) if !skin.skinned => {
                // A mesh under a bone moves rigidly with it: placed where it sits relative to
                // the bone, with the bone at its bind pose (the file's current pose may differ).
                skin.skinned = true;
                skin.rows = vec![vec![(joint as u32, 1.0)]; skin.rows.len()];
                let bind_from_joint =
                    skeleton.skeleton.joints[joint].joint_from_mesh.cast::<f64>().try_inverse().unwrap_or_else(M4::identity);
                let joint_world = scene.world_of(skeleton.model_of_joint[joint]);
                bind_from_joint * scene.ours_from_file * joint_world.try_inverse().unwrap_or_else(M4::identity) * scene.world_of(model.id)
            }
            _ => scene.ours_from_file * scene.world_of(model.id),
        };
        let ours_from_geometry = ours_from_mesh_bind * geometric_matrix(model.node);
        let geo = read_geometry(geometry, model.name)?;
        let shapes = read_shapes(doc, geometry, geo.points.len(), &ours_from_geometry, &mut shape_budget, warnings)?;
        let group = mesh.groups.len();
        mesh.groups.push(MeshGroup {
            name: model.name.to_string(),
            morph_target_names: shapes.names.clone(),
            morph_default_weights: shapes.default_weights.clone(),
        });
        any_normals |= geo.normals.is_some();
        any_uvs |= !geo.uvs.is_empty();
        for (slot, polygons) in geo.polygons_by_slot() {
            let material = slots.get(slot).copied().flatten();
            let part_name = if slots.len() > 1 { format!("{}_{slot}", model.name) } else { model.name.to_string() };
            let part = geo.part(&polygons, &ours_from_geometry, part_name, group, material, skin.skinned, &mut mesh);
            rows.extend(part.iter().map(|&cp| skin.rows.get(cp).cloned().unwrap_or_default()));
            if let Some(last) = mesh.parts.last_mut() {
                last.morph_targets = shapes.for_part(&part);
            }
        }
    }
    if !any_normals {
        mesh.normals.clear();
    }
    if !any_uvs {
        mesh.uvs.clear();
    }
    if mesh.positions.is_empty() {
        warnings.push("the file has no mesh geometry".into());
    }
    Ok((mesh, SkinWeights::from_rows(rows), library))
}

/// The nearest joint above a mesh model, if any (a prop parented to a bone).
fn rigid_joint(scene: &Scene, skeleton: &SkeletonMap, model: i64) -> Option<usize> {
    scene.ancestors(model).find_map(|q| skeleton.index.get(&q).copied())
}

struct Skin {
    skinned: bool,
    /// The mesh's world matrix at bind time (TransformLink * Transform of a cluster).
    mesh_bind: Option<M4>,
    /// Per control point: (joint, weight).
    rows: Vec<Vec<(u32, f32)>>,
}

fn read_skin(doc: &Doc, geometry: &Object, skeleton: &SkeletonMap) -> Result<Skin, IoError> {
    let control_points = child_numbers(geometry.node, "Vertices").map_or(0, |v| v.len() / 3);
    let mut skin = Skin { skinned: false, mesh_bind: None, rows: vec![Vec::new(); control_points] };
    for (deformer, _) in doc.children_of(geometry.id).filter(|(o, _)| o.kind == "Deformer" && o.class == "Skin") {
        skin.skinned = true;
        for (cluster, _) in doc.children_of(deformer.id).filter(|(o, _)| o.kind == "Deformer" && o.class == "Cluster") {
            let Some(joint) = cluster_models(doc, cluster).iter().find_map(|m| skeleton.index.get(m)).copied() else { continue };
            if skin.mesh_bind.is_none() {
                let t = child_numbers(cluster.node, "Transform").and_then(matrix);
                let l = child_numbers(cluster.node, "TransformLink").and_then(matrix);
                skin.mesh_bind = t.zip(l).map(|(t, l)| l * t);
            }
            let indexes = child_i32s(cluster.node, "Indexes").unwrap_or_default();
            let weights = child_numbers(cluster.node, "Weights").unwrap_or_default();
            if indexes.len() != weights.len() {
                return Err(invalid(format!("cluster {:?} has {} indexes but {} weights", cluster.name, indexes.len(), weights.len())));
            }
            for (&i, &w) in indexes.iter().zip(&weights) {
                let row = usize::try_from(i).ok().and_then(|i| skin.rows.get_mut(i)).ok_or_else(|| {
                    invalid(format!(
                        "cluster {:?} refers to control point {i}, but geometry {:?} has only {control_points}",
                        cluster.name, geometry.name
                    ))
                })?;
                if w.is_finite() && w > 0.0 {
                    row.push((joint as u32, w as f32));
                }
            }
        }
    }
    for row in &mut skin.rows {
        let total: f32 = row.iter().map(|e| e.1).sum();
        if total > 0.0 {
            row.iter_mut().for_each(|e| e.1 /= total);
        }
    }
    Ok(skin)
}

/// A layer element (normals or UVs): its data, optional index array and mapping.
struct Layer {
    data: Vec<f64>,
    index: Option<Vec<i32>>,
    by_polygon_vertex: bool,
    width: usize,
}

impl Layer {
    fn read(node: NodeHandle, data_name: &str, index_name: &str, width: usize) -> Option<Layer> {
        let data = child_numbers(node, data_name)?;
        let mapping = child_string(node, "MappingInformationType").unwrap_or("ByPolygonVertex");
        let reference = child_string(node, "ReferenceInformationType").unwrap_or("Direct");
        let index = (reference != "Direct").then(|| child_i32s(node, index_name)).flatten();
        Some(Layer { data, index, by_polygon_vertex: mapping == "ByPolygonVertex", width })
    }

    /// The data row for polygon-vertex `corner` whose control point is `cp`.
    fn row(&self, corner: usize, cp: usize) -> Option<usize> {
        let k = if self.by_polygon_vertex { corner } else { cp };
        let i = match &self.index {
            Some(index) => usize::try_from(*index.get(k)?).ok()?,
            None => k,
        };
        (i * self.width + self.width <= self.data.len()).then_some(i)
    }

    fn value<const N: usize>(&self, row: usize) -> [f64; N] {
        std::array::from_fn(|k| self.data[row * self.width + k])
    }
}

struct Geometry {
    points: Vec<[f64; 3]>,
    /// Polygons as runs of (corner index, control point).
    polygons: Vec<Vec<(usize, usize)>>,
    normals: Option<Layer>,
    /// Every UV layer, then every colour layer, in the file's order.
    uvs: Vec<Layer>,
    colors: Vec<Layer>,
    slot_of_polygon: Vec<usize>,
}

fn read_geometry(geometry: &Object, model_name: &str) -> Result<Geometry, IoError> {
    let node = geometry.node;
    let v = child_numbers(node, "Vertices").unwrap_or_default();
    let points: Vec<[f64; 3]> = v.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
    let index = child_i32s(node, "PolygonVertexIndex").unwrap_or_default();
    let mut polygons = Vec::new();
    let mut current = Vec::new();
    for (corner, &i) in index.iter().enumerate() {
        let (cp, end) = if i < 0 { ((-(i as i64) - 1) as usize, true) } else { (i as usize, false) };
        if cp >= points.len() {
            return Err(invalid(format!(
                "mesh {model_name:?}: polygon corner {corner} uses control point {cp}, but there are only {}",
                points.len()
            )));
        }
        current.push((corner, cp));
        if end {
            polygons.push(std::mem::take(&mut current));
        }
    }
    let normals = node.first_child_by_name("LayerElementNormal").and_then(|n| Layer::read(n, "Normals", "NormalsIndex", 3));
    let uvs = node.children_by_name("LayerElementUV").filter_map(|n| Layer::read(n, "UV", "UVIndex", 2)).collect();
    let colors = node.children_by_name("LayerElementColor").filter_map(|n| Layer::read(n, "Colors", "ColorIndex", 4)).collect();
    let slot_of_polygon = match node.first_child_by_name("LayerElementMaterial") {
        Some(m) if child_string(m, "MappingInformationType") == Some("ByPolygon") => {
            let slots = child_i32s(m, "Materials").unwrap_or_default();
            (0..polygons.len()).map(|p| slots.get(p).map_or(0, |&s| s.max(0) as usize)).collect()
        }
        _ => vec![0; polygons.len()],
    };
    Ok(Geometry { points, polygons, normals, uvs, colors, slot_of_polygon })
}

impl Geometry {
    fn polygons_by_slot(&self) -> Vec<(usize, Vec<usize>)> {
        let mut slots: Vec<(usize, Vec<usize>)> = Vec::new();
        for (p, &s) in self.slot_of_polygon.iter().enumerate() {
            match slots.iter_mut().find(|e| e.0 == s) {
                Some(e) => e.1.push(p),
                None => slots.push((s, vec![p])),
            }
        }
        slots.sort_by_key(|e| e.0);
        slots
    }

    /// Appends a part made of `polygons` to `mesh`; returns the control point of each new vertex.
    /// When no control point had to be split (one normal and UV each), vertices keep the
    /// control points' order, so a file Rigsmith wrote reads back with its vertex order.
    #[allow(clippy::too_many_arguments)]
    fn part(
        &self,
        polygons: &[usize],
        ours_from_geometry: &M4,
        name: String,
        group: usize,
        material: Option<usize>,
        skinned: bool,
        mesh: &mut Mesh,
    ) -> Vec<usize> {
        let normal_matrix: Matrix3<f64> =
            ours_from_geometry.fixed_view::<3, 3>(0, 0).try_inverse().map_or_else(Matrix3::identity, |m| m.transpose());
        let mut vertex_of: HashMap<CornerKey, u32> = HashMap::new();
        let mut v = LocalVertices::default();
        let mut triangles: Vec<[u32; 3]> = Vec::new();
        for &p in polygons {
            let corners: Vec<u32> = self.polygons[p]
                .iter()
                .map(|&(corner, cp)| {
                    let n = self.normals.as_ref().and_then(|l| Some(l.value::<3>(l.row(corner, cp)?)));
                    let uvs: Vec<Option<[f64; 2]>> = self.uvs.iter().map(|l| Some(l.value::<2>(l.row(corner, cp)?))).collect();
                    let colors: Vec<Option<[f64; 4]>> = self.colors.iter().map(|l| Some(l.value::<4>(l.row(corner, cp)?))).collect();
                    // Corners share a vertex when their control point, normal, UVs and colours agree.
                    let key = (
                        cp,
                        n.map(|x| x.map(f64::to_bits)),
                        uvs.iter().map(|t| t.map(|x| x.map(f64::to_bits))).collect(),
                        colors.iter().map(|c| c.map(|x| x.map(f64::to_bits))).collect(),
                    );
                    *vertex_of.entry(key).or_insert_with(|| {
                        let q = ours_from_geometry.transform_point(&Point3::from(self.points[cp]));
                        let normal = n.map(|n| (normal_matrix * Vector3::from(n)).normalize()).filter(|n| n.iter().all(|x| x.is_finite()));
                        let uvs = uvs.iter().map(|t| t.map_or([0.0, 0.0], |t| [t[0] as f32, 1.0 - t[1] as f32])).collect();
                        let colors = colors.iter().map(|c| c.map_or([1.0; 4], |c| c.map(|x| x as f32))).collect();
                        let normal = normal.map_or([0.0, 1.0, 0.0], |n| [n.x as f32, n.y as f32, n.z as f32]);
                        v.push(cp, [q.x as f32, q.y as f32, q.z as f32], normal, uvs, colors)
                    })
                })
                .collect();
            for k in 1..corners.len().saturating_sub(1) {
                triangles.push([corners[0], corners[k], corners[k + 1]]);
            }
        }
        v.sort_by_control_point_if_unsplit(&mut triangles);
        let (vertices, tris) = (v.positions.len() as u32, triangles.len() as u32);
        let mut sets = v.uvs.into_iter();
        let mut colors = v.colors.into_iter();
        let piece = Mesh {
            positions: v.positions,
            normals: v.normals,
            // Set 0 for every part: the caller clears it when no geometry had UVs.
            uvs: sets.next().unwrap_or_else(|| vec![[0.0, 0.0]; vertices as usize]),
            extra_uvs: sets.collect(),
            colors: colors.next().unwrap_or_default(),
            extra_colors: colors.collect(),
            triangles,
            parts: vec![Part { name, group: 0, material, vertices: 0..vertices, triangles: 0..tris, skinned, morph_targets: vec![] }],
            groups: vec![],
        };
        mesh.append(&piece);
        if let Some(last) = mesh.parts.last_mut() {
            last.group = group;
        }
        v.control_point
    }
}

/// What makes two polygon corners one vertex: control point, normal bits, each UV and colour set's bits.
type CornerKey = (usize, Option<[u64; 3]>, Vec<Option<[u64; 2]>>, Vec<Option<[u64; 4]>>);

/// A part's vertices while it is built.
#[derive(Default)]
struct LocalVertices {
    control_point: Vec<usize>,
    positions: Vec<[f32; 3]>,
    normals: Vec<[f32; 3]>,
    /// Per UV layer, per vertex.
    uvs: Vec<Vec<[f32; 2]>>,
    /// Per colour layer, per vertex.
    colors: Vec<Vec<[f32; 4]>>,
}

impl LocalVertices {
    fn push(&mut self, cp: usize, p: [f32; 3], n: [f32; 3], uvs: Vec<[f32; 2]>, colors: Vec<[f32; 4]>) -> u32 {
        self.control_point.push(cp);
        self.positions.push(p);
        self.normals.push(n);
        self.uvs.resize(uvs.len(), Vec::new());
        self.uvs.iter_mut().zip(uvs).for_each(|(set, t)| set.push(t));
        self.colors.resize(colors.len(), Vec::new());
        self.colors.iter_mut().zip(colors).for_each(|(set, c)| set.push(c));
        self.positions.len() as u32 - 1
    }

    fn sort_by_control_point_if_unsplit(&mut self, triangles: &mut [[u32; 3]]) {
        let mut order: Vec<usize> = (0..self.control_point.len()).collect();
        order.sort_by_key(|&i| self.control_point[i]);
        if order.windows(2).any(|w| self.control_point[w[0]] == self.control_point[w[1]]) {
            return;
        }
        let mut new_index = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new as u32;
        }
        self.control_point = order.iter().map(|&i| self.control_point[i]).collect();
        self.positions = order.iter().map(|&i| self.positions[i]).collect();
        self.normals = order.iter().map(|&i| self.normals[i]).collect();
        self.uvs.iter_mut().for_each(|set| *set = order.iter().map(|&i| set[i]).collect());
        self.colors.iter_mut().for_each(|set| *set = order.iter().map(|&i| set[i]).collect());
        triangles.iter_mut().for_each(|t| *t = t.map(|i| new_index[i as usize]));
    }
}

/// A material's diffuse colour and opacity, and its diffuse texture when embedded.
fn read_material(doc: &Doc, material: &Object, library: &mut MaterialLibrary, warnings: &mut Vec<String>) -> usize {
    let c = property_vec3(material.node, "DiffuseColor").unwrap_or([0.8; 3]);
    let opacity = property_f64(material.node, "Opacity").unwrap_or(1.0);
    let mut m = Material {
        name: material.name.to_string(),
        base_color: [c[0] as f32, c[1] as f32, c[2] as f32, opacity as f32],
        ..Default::default()
    };
    let texture = doc.children_of(material.id).find(|(o, p)| o.kind == "Texture" && p.is_some_and(|p| p.starts_with("DiffuseColor")));
    if let Some((texture, _)) = texture {
        let video = doc.children_of(texture.id).map(|(o, _)| o).find(|o| o.kind == "Video");
        let content =
            video.and_then(|v| v.node.first_child_by_name("Content")).and_then(|c| c.attributes().first()).and_then(|a| a.get_binary());
        match content.filter(|b| !b.is_empty()) {
            Some(bytes) => {
                let mime = if bytes.starts_with(&[0xff, 0xd8]) { "image/jpeg" } else { "image/png" };
                library.images.push(Image { name: texture.name.to_string(), mime_type: mime.into(), bytes: bytes.to_vec() });
                library.textures_json.push(format!("{{\"source\":{}}}", library.images.len() - 1));
                m.base_color_texture = Some(library.textures_json.len() - 1);
            }
            None => warnings.push(format!("material {:?}: its texture is not embedded in the file; it was left out", material.name)),
        }
    }
    library.materials.push(m);
    library.materials.len() - 1
}
