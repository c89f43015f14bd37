//! Mesh groups as glTF meshes: one primitive per part, skinned and static parts split.

use rig_core::{Part, Rig};
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
    for (g, group) in rig.mesh.groups.iter().enumerate() {
        for skinned in [true, false] {
            let parts: Vec<&Part> =
                rig.mesh.parts.iter().filter(|p| p.group == g && (p.skinned && skel.skin.is_some()) == skinned).collect();
            if parts.is_empty() {
                continue;
            }
            let primitives: Vec<Value> = parts.iter().map(|p| primitive(rig, p, skinned, options, w, &mut unweighted)).collect();
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
        let root = rig.skeleton.joints.first().map_or("", |j| j.name.as_str());
        warnings.push(format!("{unweighted} skinned vertices had no weight; bound to the root joint {root:?} in the file"));
    }
    out
}

fn primitive(rig: &Rig, p: &Part, skinned: bool, options: &ExportOptions, w: &mut BinWriter, unweighted: &mut usize) -> Value {
    let m = &rig.mesh;
    let r = p.vertices.start as usize..p.vertices.end as usize;
    let mut attributes = json!({ "POSITION": w.floats(&m.positions[r.clone()], "VEC3", true, Some(ARRAY_BUFFER)) });
    if !m.normals.is_empty() {
        attributes["NORMAL"] = json!(w.floats(&m.normals[r.clone()], "VEC3", false, Some(ARRAY_BUFFER)));
    }
    if !m.uvs.is_empty() {
        attributes["TEXCOORD_0"] = json!(w.floats(&m.uvs[r.clone()], "VEC2", false, Some(ARRAY_BUFFER)));
    }
    if !m.colors.is_empty() {
        attributes["COLOR_0"] = json!(w.floats(&m.colors[r.clone()], "VEC4", false, Some(ARRAY_BUFFER)));
    }
    if skinned {
        write_weights(rig, r.clone(), options, w, &mut attributes, unweighted);
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
                let mut v = json!({ "POSITION": w.floats(&t.position_deltas, "VEC3", true, Some(ARRAY_BUFFER)) });
                if !t.normal_deltas.is_empty() {
                    v["NORMAL"] = json!(w.floats(&t.normal_deltas, "VEC3", false, Some(ARRAY_BUFFER)));
                }
                v
            })
            .collect();
        prim["targets"] = json!(targets);
    }
    prim
}

/// Influences of one vertex, largest first, limited and summing to exactly one.
fn vertex_influences(rig: &Rig, v: usize, limit: Option<usize>) -> Vec<(u16, f32)> {
    let (joints, weights) = rig.weights.row(v);
    let mut row: Vec<(u16, f32)> = joints.iter().map(|&j| j as u16).zip(weights.iter().copied()).collect();
    row.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if let Some(n) = limit {
        row.truncate(n.max(1));
    }
    let sum: f32 = row.iter().map(|e| e.1).sum();
    if sum > 0.0 {
        row.iter_mut().for_each(|e| e.1 /= sum);
        let residual = 1.0 - row.iter().map(|e| e.1).sum::<f32>();
        row[0].1 += residual;
    }
    row
}

fn write_weights(
    rig: &Rig,
    r: std::ops::Range<usize>,
    options: &ExportOptions,
    w: &mut BinWriter,
    attributes: &mut Value,
    unweighted: &mut usize,
) {
    let rows: Vec<Vec<(u16, f32)>> = r
        .map(|v| {
            let row = vertex_influences(rig, v, options.max_influences);
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
        attributes[format!("JOINTS_{set}")] = json!(w.joints(&joints, rig.skeleton.len()));
        attributes[format!("WEIGHTS_{set}")] = json!(w.floats(&weights, "VEC4", false, Some(ARRAY_BUFFER)));
    }
}
