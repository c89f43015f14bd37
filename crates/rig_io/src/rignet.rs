//! RigNet's `rig_info` text format: `joints NAME x y z`, `root NAME`,
//! `skin VERTEX NAME w NAME w ...`, `hier PARENT CHILD`, read together with the OBJ mesh
//! it describes (`NAME_rig.txt` beside `NAME.obj`). Vertex indices follow the OBJ's `v` order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use nalgebra::Vector3;
use rig_core::{Joint, Mat4, MaterialLibrary, Mesh, MeshGroup, Part, Rig, Skeleton, SkinWeights, Trs};

use crate::error::IoError;
use crate::Imported;

/// Largest vertex index accepted on a `skin` line (bounds memory on hostile input).
const MAX_VERTICES: usize = 50_000_000;

/// Reads `NAME_rig.txt` and the `NAME.obj` beside it.
pub fn load(path: &Path) -> Result<Imported, IoError> {
    let text = std::fs::read_to_string(path).map_err(|source| IoError::Read { path: path.to_path_buf(), source })?;
    let obj = mesh_path(path)?;
    let obj_text = std::fs::read_to_string(&obj).map_err(|source| IoError::Read { path: obj.clone(), source })?;
    let mesh = parse_obj(&obj_text, &obj)?;
    let info = RigInfo::parse(&text, path)?;
    let mut warnings = Vec::new();
    let (skeleton, order) = info.skeleton(path)?;
    let weights = info.weights(&order, mesh.vertex_count(), path, &mut warnings)?;
    let name = obj.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let rig = Rig { name, mesh, skeleton, weights, clips: vec![], materials: MaterialLibrary::default(), scene_from_mesh: None };
    rig.validate()?;
    Ok(Imported { rig, warnings })
}

fn mesh_path(rig_path: &Path) -> Result<PathBuf, IoError> {
    let stem = rig_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let base = stem.strip_suffix("_rig").unwrap_or(&stem);
    let obj = rig_path.with_file_name(format!("{base}.obj"));
    if obj.exists() {
        Ok(obj)
    } else {
        Err(IoError::Unsupported(format!("{}: a RigNet rig file needs its mesh beside it as {}", rig_path.display(), obj.display())))
    }
}

/// Vertex positions in `v` order and triangulated faces; nothing else is needed here.
fn parse_obj(text: &str, path: &Path) -> Result<Mesh, IoError> {
    let mut positions = Vec::new();
    let mut triangles = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let err = |reason: String| IoError::Text { path: path.to_path_buf(), line: ln + 1, reason };
        let mut it = line.split_whitespace();
        match it.next() {
            Some("v") => {
                let c: Vec<f32> =
                    it.take(3).map(|s| s.parse::<f32>()).collect::<Result<_, _>>().map_err(|e| err(format!("bad vertex: {e}")))?;
                if c.len() != 3 || c.iter().any(|v| !v.is_finite()) {
                    return Err(err("a vertex needs three finite coordinates".into()));
                }
                positions.push([c[0], c[1], c[2]]);
            }
            Some("f") => {
                let idx: Vec<u32> = it
                    .map(|s| s.split('/').next().unwrap_or("").parse::<i64>())
                    .map(|r| r.ok().and_then(|i| resolve_index(i, positions.len())))
                    .collect::<Option<_>>()
                    .ok_or_else(|| err("face index is not a vertex defined above".into()))?;
                (2..idx.len()).for_each(|k| triangles.push([idx[0], idx[k - 1], idx[k]]));
            }
            _ => {}
        }
    }
    let n = positions.len() as u32;
    let t = triangles.len() as u32;
    let part =
        Part { name: "mesh".into(), group: 0, material: None, vertices: 0..n, triangles: 0..t, skinned: true, morph_targets: vec![] };
    let mesh = Mesh {
        positions,
        triangles,
        parts: vec![part],
        groups: vec![MeshGroup { name: "mesh".into(), ..Default::default() }],
        ..Default::default()
    };
    mesh.validate()?;
    Ok(mesh)
}

fn resolve_index(i: i64, count: usize) -> Option<u32> {
    let zero_based = if i < 0 { count as i64 + i } else { i - 1 };
    (0..count as i64).contains(&zero_based).then_some(zero_based as u32)
}

/// `skin` line: vertex, `(joint name, weight)` pairs, line number.
type SkinLine = (usize, Vec<(String, f32)>, usize);

#[derive(Default)]
struct RigInfo {
    joints: Vec<(String, [f32; 3])>,
    roots: Vec<String>,
    hier: Vec<(String, String)>,
    skin: Vec<SkinLine>,
}

impl RigInfo {
    fn parse(text: &str, path: &Path) -> Result<RigInfo, IoError> {
        let mut info = RigInfo::default();
        for (ln, line) in text.lines().enumerate() {
            let err = |reason: &str| IoError::Text { path: path.to_path_buf(), line: ln + 1, reason: reason.into() };
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.first().copied() {
                Some("joints") if f.len() == 5 => {
                    let c: Vec<f32> = f[2..5]
                        .iter()
                        .map(|s| s.parse())
                        .collect::<Result<_, _>>()
                        .map_err(|_| err("joint coordinates are not numbers"))?;
                    if c.iter().any(|v: &f32| !v.is_finite()) {
                        return Err(err("joint coordinates must be finite"));
                    }
                    info.joints.push((f[1].to_string(), [c[0], c[1], c[2]]));
                }
                Some("root") if f.len() == 2 => info.roots.push(f[1].to_string()),
                Some("hier") if f.len() == 3 => info.hier.push((f[1].to_string(), f[2].to_string())),
                Some("skin") if f.len() >= 2 && f.len().is_multiple_of(2) => {
                    let v: usize = f[1].parse().map_err(|_| err("skin vertex index is not a number"))?;
                    if v >= MAX_VERTICES {
                        return Err(err("skin vertex index is absurdly large"));
                    }
                    let pairs = f[2..].chunks(2).map(|p| p[1].parse::<f32>().map(|w| (p[0].to_string(), w))).collect::<Result<Vec<_>, _>>();
                    info.skin.push((v, pairs.map_err(|_| err("skin weight is not a number"))?, ln + 1));
                }
                None => {}
                Some(_) => return Err(err("expected `joints NAME x y z`, `root NAME`, `hier PARENT CHILD` or `skin V NAME W ...`")),
            }
        }
        if info.joints.is_empty() {
            return Err(IoError::Invalid(format!("{}: no `joints` lines", path.display())));
        }
        Ok(info)
    }

    /// Joints parents-first; returns the skeleton and each joint name's index.
    fn skeleton(&self, path: &Path) -> Result<(Skeleton, HashMap<String, usize>), IoError> {
        let pos: HashMap<&str, [f32; 3]> = self.joints.iter().map(|(n, p)| (n.as_str(), *p)).collect();
        let mut parent: HashMap<&str, &str> = HashMap::new();
        for (p, c) in &self.hier {
            for name in [p, c] {
                if !pos.contains_key(name.as_str()) {
                    return Err(IoError::Invalid(format!("{}: `hier` names joint {name:?}, which has no `joints` line", path.display())));
                }
            }
            if parent.insert(c, p).is_some() {
                return Err(IoError::Invalid(format!("{}: joint {c:?} has two parents", path.display())));
            }
        }
        let mut order: Vec<&str> = Vec::new();
        let mut stack: Vec<&str> = self.joints.iter().map(|(n, _)| n.as_str()).filter(|n| !parent.contains_key(n)).rev().collect();
        while let Some(j) = stack.pop() {
            order.push(j);
            let kids: Vec<&str> = self.hier.iter().filter(|(p, _)| p == j).map(|(_, c)| c.as_str()).collect();
            stack.extend(kids.into_iter().rev());
        }
        if order.len() != pos.len() {
            return Err(IoError::Invalid(format!("{}: the `hier` lines contain a cycle", path.display())));
        }
        let index: HashMap<String, usize> = order.iter().enumerate().map(|(i, n)| (n.to_string(), i)).collect();
        let joints = order
            .iter()
            .map(|&n| {
                let p = parent.get(n).copied();
                let origin = p.map_or([0.0; 3], |p| pos[p]);
                let t = Vector3::from(pos[n]) - Vector3::from(origin);
                Joint {
                    name: n.to_string(),
                    parent: p.map(|p| index[p]),
                    rest_local: Trs { translation: t, ..Trs::IDENTITY },
                    joint_from_mesh: Mat4::identity(),
                    deform: true,
                    in_skin: true,
                }
            })
            .collect();
        let mut skeleton = Skeleton { joints, ..Default::default() };
        skeleton.bind_to_rest();
        Ok((skeleton, index))
    }

    fn weights(
        &self,
        index: &HashMap<String, usize>,
        vertices: usize,
        path: &Path,
        warnings: &mut Vec<String>,
    ) -> Result<SkinWeights, IoError> {
        let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); vertices];
        for (v, pairs, line) in &self.skin {
            let err = |reason: String| IoError::Text { path: path.to_path_buf(), line: *line, reason };
            let row = rows.get_mut(*v).ok_or_else(|| err(format!("vertex {v} does not exist (the mesh has {vertices})")))?;
            for (name, w) in pairs {
                let j = index.get(name).ok_or_else(|| err(format!("joint {name:?} has no `joints` line")))?;
                if !w.is_finite() || *w < 0.0 {
                    return Err(err(format!("weight {w} is not a finite non-negative number")));
                }
                row.push((*j as u32, *w));
            }
        }
        let mut weights = SkinWeights::from_rows(rows);
        let report = weights.normalize(1e-3);
        if report.renormalized > 0 {
            warnings.push(format!("{} vertices had weights not summing to 1; renormalised", report.renormalized));
        }
        if report.unweighted > 0 {
            warnings.push(format!("{} vertices have no `skin` line", report.unweighted));
        }
        Ok(weights)
    }
}
