//! Mesh groups as glTF meshes: one primitive per part, skinned and static parts split.

use nalgebra::{Matrix3, Point3, Vector3};
use rig_core::{InfluenceLimit, Mat4, Part, Rig};
use serde_json::{json, Value};

use super::buffer::{BinWriter, ARRAY_BUFFER};
use super::skeleton::SkeletonOut;
use super::ExportOptions;

pub struct MeshesOut {
    pub meshes: Vec<Value>,
    /// Mesh nodes, in the order they were added.
    pub nodes: Vec<usize>,
    /// For each mesh group, the nodes that carry it (for morph weight animation).
    pub group_nodes: Vec<Vec<usize>>,
}

pub fn write(
    rig: &Rig,
    options: &ExportOptions,
    skel: &SkeletonOut,
    w: &mut BinWriter,
    nodes: &mut Vec<Value>,
    warnings: &mut Vec<String>,
) -> MeshesOut {
    let mut out = MeshesOut { meshes: vec![], nodes: vec![], group_nodes: vec![vec![]; rig.mesh.groups.len()] };
    let mut unweighted = 0;
    // Skinned vertices are written in the armature's space (see `SkeletonOut::armature_from_mesh`),
    // static ones where the scene shows them.
    let shown = rig.display_from_mesh();
    let static_frame = ((shown - Mat4::identity()).abs().max() > 1e-7).then_some(shown);
    for (g, group) in rig.mesh.groups.iter().enumerate() {
        for skinned in [true, false] {
            let parts: Vec<&Part> =
                rig.mesh.parts.iter().filter(|p| p.group == g && (p.skinned && skel.skin.is_some()) == skinned).collect();
            if parts.is_empty() {
                continue;
            }
            let frame = if skinned { skel.armature_from_mesh } else { static_frame };
            let primitives: Vec<Value> =
                parts.iter().map(|p| primitive(rig, p, (skinned, frame), options, skel, w, &mut unweighted)).collect();
            let name = if skinned || !rig.mesh.parts.iter().any(|p| p.group == g && p.skinned) {
                group.name.clone()
            } else {
                format!("{}_static", group.name)
            };
            let mut mesh = json!({ "name": name, "primitives": primitives });
            if !group.morph_target_names.is_empty() {
                mesh["weights"] = json!(group.morph_default_weights);
                mesh["extras"] = json!({ "targetNames": group.morph_target_names });
            }
            out.meshes.push(mesh);
            let mut node = json!({ "name": name, "mesh": out.meshes.len() - 1 });
            if skinned {
                node["skin"] = json!(0);
            }
            nodes.push(node);
            out.nodes.push(nodes.len() - 1);
            out.group_nodes[g].push(nodes.len() - 1);
        }
    }
    if unweighted > 0 {
        let first = skel.skin_index.iter().position(|k| *k == Some(0));
        let root = first.map_or("", |j| rig.skeleton.joints[j].name.as_str());
        warnings.push(format!("{unweighted} skinned vertices had no weight; bound to the root joint {root:?} in the file"));
    }
    out
}

fn primitive(
    rig: &Rig,
    p: &Part,
    (skinned, frame): (bool, Option<Mat4>),
    options: &ExportOptions,
    skel: &SkeletonOut,
    w: &mut BinWriter,
    unweighted: &mut usize,
) -> Value {
    let m = &rig.mesh;
    let r = p.vertices.start as usize..p.vertices.end as usize;
    let frame = frame.map(Frame::new);
    let positions = frame.as_ref().map_or_else(|| m.positions[r.clone()].to_vec(), |f| f.points(&m.positions[r.clone()]));
    let mut attributes = json!({ "POSITION": w.floats(&positions, "VEC3", true, Some(ARRAY_BUFFER)) });
    if !m.normals.is_empty() {
        let normals = frame.as_ref().map_or_else(|| m.normals[r.clone()].to_vec(), |f| f.normals(&m.normals[r.clone()], true));
        attributes["NORMAL"] = json!(w.floats(&normals, "VEC3", false, Some(ARRAY_BUFFER)));
    }
    if !m.uvs.is_empty() {
        attributes["TEXCOORD_0"] = json!(w.floats(&m.uvs[r.clone()], "VEC2", false, Some(ARRAY_BUFFER)));
    }
    if !m.colors.is_empty() {
        attributes["COLOR_0"] = json!(w.floats(&m.colors[r.clone()], "VEC4", false, Some(ARRAY_BUFFER)));
    }
    // Further sets, numbered on from set 0 while there is no gap (materials refer to them by number).
    for (k, set) in m.extra_uvs.iter().enumerate().take_while(|(_, s)| !s.is_empty() && !m.uvs.is_empty()) {
        attributes[format!("TEXCOORD_{}", k + 1)] = json!(w.floats(&set[r.clone()], "VEC2", false, Some(ARRAY_BUFFER)));
    }
    for (k, set) in m.extra_colors.iter().enumerate().take_while(|(_, s)| !s.is_empty() && !m.colors.is_empty()) {
        attributes[format!("COLOR_{}", k + 1)] = json!(w.floats(&set[r.clone()], "VEC4", false, Some(ARRAY_BUFFER)));
    }
    if skinned {
        write_weights(rig, r.clone(), options, &skel.skin_index, w, &mut attributes, unweighted);
    }
    let tris = &m.triangles[p.triangles.start as usize..p.triangles.end as usize];
    let local: Vec<u32> = tris.iter().flatten().map(|&i| i - p.vertices.start).collect();
    let mut prim = json!({ "attributes": attributes, "indices": w.indices(&local, r.len()), "mode": 4 });
    if let Some(mat) = p.material {
        prim["material"] = json!(mat);
    }
    if !p.morph_targets.is_empty() {
        let targets: Vec<Value> = p
            .morph_targets
            .iter()
            .map(|t| {
                let deltas = frame.as_ref().map_or_else(|| t.position_deltas.clone(), |f| f.vectors(&t.position_deltas));
                let mut v = json!({ "POSITION": w.floats(&deltas, "VEC3", true, Some(ARRAY_BUFFER)) });
                if !t.normal_deltas.is_empty() {
                    let normals = frame.as_ref().map_or_else(|| t.normal_deltas.clone(), |f| f.normals(&t.normal_deltas, false));
                    v["NORMAL"] = json!(w.floats(&normals, "VEC3", false, Some(ARRAY_BUFFER)));
                }
                v
            })
            .collect();
        prim["targets"] = json!(targets);
    }
    prim
}

/// Influences of one vertex as skin indices, largest first, limited and summing to exactly
/// one. Transform nodes carry no weight ([`Rig::transform_nodes`]), so every joint has an index.
fn vertex_influences(rig: &Rig, v: usize, limit: Option<&InfluenceLimit>, skin_index: &[Option<u16>]) -> Vec<(u16, f32)> {
    let row = rig.weights.row_pairs(v);
    let mut row = limit.unwrap_or(&InfluenceLimit { max_influences: usize::MAX, min_weight: 0.0 }).limit_row(row);
    let residual = 1.0 - row.iter().map(|e| e.1).sum::<f32>();
    if let Some(e) = row.first_mut() {
        e.1 += residual;
    }
    row.into_iter().filter_map(|(j, w)| skin_index.get(j as usize).copied().flatten().map(|k| (k, w))).collect()
}

fn write_weights(
    rig: &Rig,
    r: std::ops::Range<usize>,
    options: &ExportOptions,
    skin_index: &[Option<u16>],
    w: &mut BinWriter,
    attributes: &mut Value,
    unweighted: &mut usize,
) {
    let rows: Vec<Vec<(u16, f32)>> = r
        .map(|v| {
            let row = vertex_influences(rig, v, options.limit.as_ref(), skin_index);
            if row.is_empty() {
                *unweighted += 1;
                return vec![(0, 1.0)];
            }
            row
        })
        .collect();
    let sets = rows.iter().map(Vec::len).max().unwrap_or(1).div_ceil(4).max(1);
    for set in 0..sets {
        let mut joints = Vec::with_capacity(rows.len());
        let mut weights = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut j = [0u16; 4];
            let mut wt = [0f32; 4];
            for (k, &(jj, ww)) in row.iter().skip(set * 4).take(4).enumerate() {
                j[k] = jj;
                wt[k] = ww;
            }
            joints.push(j);
            weights.push(wt);
        }
        attributes[format!("JOINTS_{set}")] = json!(w.joints(&joints, skin_index.len()));
        attributes[format!("WEIGHTS_{set}")] = json!(w.floats(&weights, "VEC4", false, Some(ARRAY_BUFFER)));
    }
}

/// A change of space for vertex data: points by the whole matrix, vectors by its linear part,
/// normals by the inverse transpose of that.
struct Frame {
    point: Mat4,
    linear: Matrix3<f32>,
    normal: Matrix3<f32>,
}

impl Frame {
    fn new(point: Mat4) -> Frame {
        let linear = point.fixed_view::<3, 3>(0, 0).into_owned();
        let normal = linear.try_inverse().map_or(linear, |i| i.transpose());
        Frame { point, linear, normal }
    }

    fn points(&self, p: &[[f32; 3]]) -> Vec<[f32; 3]> {
        p.iter().map(|p| self.point.transform_point(&Point3::from(*p)).coords.into()).collect()
    }

    fn vectors(&self, v: &[[f32; 3]]) -> Vec<[f32; 3]> {
        v.iter().map(|v| (self.linear * Vector3::from(*v)).into()).collect()
    }

    /// Normals (unit length again when `unit`) or normal deltas.
    fn normals(&self, n: &[[f32; 3]], unit: bool) -> Vec<[f32; 3]> {
        n.iter()
            .map(|n| {
                let m = self.normal * Vector3::from(*n);
                let len = m.norm();
                if unit && len > 0.0 {
                    (m / len).into()
                } else {
                    m.into()
                }
            })
            .collect()
    }
}
