//! Geometry of one mesh primitive, in the primitive's own space.

use gltf::json::accessor::Type;
use gltf::json::mesh::{Mode, Primitive, Semantic};
use gltf::json::validation::Checked;

use super::accessor::Accessors;
use crate::error::IoError;

/// Position deltas and (possibly empty) normal deltas of one morph target.
pub type TargetDeltas = (Vec<[f32; 3]>, Vec<[f32; 3]>);

/// Vertex data of one primitive before it is placed in the rig.
#[derive(Default)]
pub struct PrimitiveData {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub uvs: Vec<[f32; 2]>,
    pub colors: Vec<[f32; 4]>,
    /// TEXCOORD_1, TEXCOORD_2, ... (the sets the primitive has, in order).
    pub extra_uvs: Vec<Vec<[f32; 2]>>,
    /// COLOR_1, COLOR_2, ...
    pub extra_colors: Vec<Vec<[f32; 4]>>,
    pub triangles: Vec<[u32; 3]>,
    /// Per vertex: `(skin-local joint index, weight)` from every JOINTS_n/WEIGHTS_n set.
    pub influences: Vec<Vec<(u32, f32)>>,
    /// Per target: position deltas and (possibly empty) normal deltas.
    pub targets: Vec<TargetDeltas>,
}

fn attr(p: &Primitive, s: Semantic) -> Option<usize> {
    p.attributes.get(&Checked::Valid(s)).map(|i| i.value())
}

fn chunks<const N: usize>(flat: Vec<f32>) -> Vec<[f32; N]> {
    flat.chunks_exact(N).map(|c| std::array::from_fn(|k| c[k])).collect()
}

/// Reads a primitive. Returns `Ok(None)` (with a warning) for points and lines.
pub fn read(acc: &Accessors, label: &str, p: &Primitive, warnings: &mut Vec<String>) -> Result<Option<PrimitiveData>, IoError> {
    let mode = match p.mode {
        Checked::Valid(m) => m,
        Checked::Invalid => return Err(IoError::Invalid(format!("{label}: unknown primitive mode"))),
    };
    if matches!(mode, Mode::Points | Mode::Lines | Mode::LineLoop | Mode::LineStrip) {
        warnings.push(format!("{}{label}: points/lines primitive (only triangles are rigged)", crate::NOT_KEPT));
        return Ok(None);
    }
    let pos = attr(p, Semantic::Positions).ok_or_else(|| IoError::Invalid(format!("{label} has no POSITION attribute")))?;
    let positions: Vec<[f32; 3]> = chunks(acc.read_f32(pos, &[Type::Vec3])?.0);
    let n = positions.len();
    if let Some(v) = positions.iter().position(|p| p.iter().any(|c| !c.is_finite())) {
        return Err(IoError::Invalid(format!("{label}: vertex {v} has a NaN or infinite position {:?}", positions[v])));
    }
    let mut d = PrimitiveData { positions, ..Default::default() };
    d.normals = optional_vec3(acc, p, Semantic::Normals, n, label, warnings)?;
    d.uvs = read_uvs(acc, p, 0, n, label, warnings)?.unwrap_or_default();
    d.colors = read_colors(acc, p, 0, n, label, warnings)?.unwrap_or_default();
    for set in 1.. {
        let Some(uvs) = read_uvs(acc, p, set, n, label, warnings)? else { break };
        d.extra_uvs.push(uvs);
    }
    for set in 1.. {
        let Some(colors) = read_colors(acc, p, set, n, label, warnings)? else { break };
        d.extra_colors.push(colors);
    }
    d.triangles = read_triangles(acc, p, mode, n, label)?;
    d.influences = read_influences(acc, p, n, label)?;
    d.targets = read_targets(acc, p, n, label, warnings)?;
    let (uv_sets, color_sets) = (d.extra_uvs.len() as u32 + 1, d.extra_colors.len() as u32 + 1);
    let dropped: Vec<String> = p
        .attributes
        .keys()
        .filter_map(|k| match k {
            Checked::Valid(Semantic::TexCoords(i)) if *i >= uv_sets => Some(format!("TEXCOORD_{i}")),
            Checked::Valid(Semantic::Colors(i)) if *i >= color_sets => Some(format!("COLOR_{i}")),
            _ => None,
        })
        .collect();
    if !dropped.is_empty() {
        warnings.push(format!("{}{label}: attributes {} (a set before them is missing)", crate::NOT_KEPT, dropped.join(", ")));
    }
    Ok(Some(d))
}

/// Drops an attribute whose length disagrees with the vertex count, with a warning.
fn sized<T>(v: Vec<T>, n: usize, label: &str, what: &str, warnings: &mut Vec<String>) -> Vec<T> {
    if v.len() == n {
        return v;
    }
    warnings.push(format!("{label}: {what} has {} entries for {n} vertices; ignored", v.len()));
    Vec::new()
}

fn optional_vec3(
    acc: &Accessors,
    p: &Primitive,
    s: Semantic,
    n: usize,
    label: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<[f32; 3]>, IoError> {
    let Some(i) = attr(p, s) else { return Ok(Vec::new()) };
    let mut v: Vec<[f32; 3]> = sized(chunks(acc.read_f32(i, &[Type::Vec3])?.0), n, label, "NORMAL", warnings);
    let bad = v.iter().filter(|x| x.iter().any(|c| !c.is_finite())).count();
    if bad > 0 {
        warnings.push(format!("{label}: {bad} non-finite normals replaced by +Y"));
        v.iter_mut().filter(|x| x.iter().any(|c| !c.is_finite())).for_each(|x| *x = [0.0, 1.0, 0.0]);
    }
    Ok(v)
}

/// TEXCOORD_`set`, or `None` when the primitive has no such set.
fn read_uvs(
    acc: &Accessors,
    p: &Primitive,
    set: u32,
    n: usize,
    label: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<Vec<[f32; 2]>>, IoError> {
    let Some(i) = attr(p, Semantic::TexCoords(set)) else { return Ok(None) };
    Ok(Some(sized(chunks(acc.read_f32(i, &[Type::Vec2])?.0), n, label, &format!("TEXCOORD_{set}"), warnings)))
}

/// COLOR_`set` as RGBA, or `None` when the primitive has no such set.
fn read_colors(
    acc: &Accessors,
    p: &Primitive,
    set: u32,
    n: usize,
    label: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<Vec<[f32; 4]>>, IoError> {
    let Some(i) = attr(p, Semantic::Colors(set)) else { return Ok(None) };
    let (flat, k) = acc.read_f32(i, &[Type::Vec3, Type::Vec4])?;
    let colors = flat.chunks_exact(k).map(|c| [c[0], c[1], c[2], if k == 4 { c[3] } else { 1.0 }]).collect();
    Ok(Some(sized(colors, n, label, &format!("COLOR_{set}"), warnings)))
}

fn read_triangles(acc: &Accessors, p: &Primitive, mode: Mode, n: usize, label: &str) -> Result<Vec<[u32; 3]>, IoError> {
    let indices: Vec<u32> = match p.indices {
        Some(i) => acc.read_u32(i.value(), &[Type::Scalar])?.0,
        None => (0..n as u32).collect(),
    };
    if let Some(&bad) = indices.iter().find(|&&i| i as usize >= n) {
        let shown = if bad == u32::MAX { "an invalid (signed or float) index".to_string() } else { format!("index {bad}") };
        return Err(IoError::Invalid(format!("{label}: {shown} is beyond its {n} vertices")));
    }
    Ok(match mode {
        Mode::TriangleStrip => (2..indices.len())
            .map(|k| if k % 2 == 0 { [indices[k - 2], indices[k - 1], indices[k]] } else { [indices[k - 1], indices[k - 2], indices[k]] })
            .collect(),
        Mode::TriangleFan => (2..indices.len()).map(|k| [indices[0], indices[k - 1], indices[k]]).collect(),
        _ => indices.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect(),
    })
}

fn read_influences(acc: &Accessors, p: &Primitive, n: usize, label: &str) -> Result<Vec<Vec<(u32, f32)>>, IoError> {
    let mut rows: Vec<Vec<(u32, f32)>> = Vec::new();
    for set in 0.. {
        let (Some(j), Some(w)) = (attr(p, Semantic::Joints(set)), attr(p, Semantic::Weights(set))) else { break };
        let (joints, _) = acc.read_u32(j, &[Type::Vec4])?;
        let (weights, _) = acc.read_f32(w, &[Type::Vec4])?;
        if joints.len() != n * 4 || weights.len() != n * 4 {
            return Err(IoError::Invalid(format!("{label}: JOINTS_{set}/WEIGHTS_{set} do not have one entry per vertex ({n})")));
        }
        rows.resize_with(n, Vec::new);
        for v in 0..n {
            for k in 0..4 {
                rows[v].push((joints[v * 4 + k], weights[v * 4 + k]));
            }
        }
    }
    Ok(rows)
}

fn read_targets(acc: &Accessors, p: &Primitive, n: usize, label: &str, warnings: &mut Vec<String>) -> Result<Vec<TargetDeltas>, IoError> {
    let mut out = Vec::new();
    for (t, target) in p.targets.iter().flatten().enumerate() {
        let read = |i: Option<gltf::json::Index<gltf::json::Accessor>>| -> Result<Vec<[f32; 3]>, IoError> {
            match i {
                Some(i) => Ok(chunks(acc.read_f32(i.value(), &[Type::Vec3])?.0)),
                None => Ok(Vec::new()),
            }
        };
        let mut pos = read(target.positions)?;
        if pos.is_empty() {
            pos = vec![[0.0; 3]; n];
        }
        let pos = sized(pos, n, label, &format!("morph target {t} POSITION"), warnings);
        let nrm = match read(target.normals)? {
            v if v.is_empty() => v,
            v => sized(v, n, label, &format!("morph target {t} NORMAL"), warnings),
        };
        if pos.iter().flatten().any(|c| !c.is_finite()) {
            return Err(IoError::Invalid(format!("{label}: morph target {t} has non-finite offsets")));
        }
        out.push((if pos.is_empty() { vec![[0.0; 3]; n] } else { pos }, nrm));
    }
    Ok(out)
}
