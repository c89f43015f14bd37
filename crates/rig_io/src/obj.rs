//! Wavefront OBJ import (through `tobj`): every object and material group becomes a part.

use std::path::Path;

use rig_core::{Image, Material, MaterialLibrary, Mesh, MeshGroup, Part, Rig};

use crate::error::IoError;
use crate::gltf_read::sniff_mime;
use crate::Imported;

/// Reads an OBJ (and its MTL, when present) as an unrigged mesh.
pub fn load(path: &Path) -> Result<Imported, IoError> {
    let options = tobj::LoadOptions { triangulate: true, single_index: true, ignore_points: true, ignore_lines: true };
    let (models, mtl) = tobj::load_obj(path, &options).map_err(|e| match e {
        tobj::LoadError::OpenFileFailed | tobj::LoadError::ReadError => {
            IoError::Read { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) }
        }
        other => IoError::Invalid(format!("OBJ parse error: {other}")),
    })?;
    let mut warnings = Vec::new();
    let materials = match mtl {
        Ok(m) => library(&m, path.parent(), &mut warnings),
        Err(e) => {
            if !matches!(e, tobj::LoadError::GenericFailure) {
                warnings.push(format!("material library not loaded ({e}); parts keep no material"));
            }
            MaterialLibrary::default()
        }
    };
    let mut mesh = Mesh::default();
    for (i, model) in models.iter().enumerate() {
        mesh.append(&model_mesh(i, model, materials.materials.len(), &mut warnings)?);
    }
    if mesh.triangles.is_empty() {
        return Err(IoError::Invalid("no faces; an OBJ needs `f` lines to be rigged".into()));
    }
    mesh.validate()?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Imported { rig: Rig::unrigged(name, mesh, materials), warnings })
}

fn model_mesh(i: usize, model: &tobj::Model, material_count: usize, warnings: &mut Vec<String>) -> Result<Mesh, IoError> {
    let m = &model.mesh;
    let positions: Vec<[f32; 3]> = m.positions.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
    if let Some(v) = positions.iter().position(|p| p.iter().any(|c| !c.is_finite())) {
        return Err(IoError::Invalid(format!("object {:?}: vertex {v} has a NaN or infinite position", model.name)));
    }
    let n = positions.len();
    let normals: Vec<[f32; 3]> = m.normals.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
    let uvs: Vec<[f32; 2]> = m.texcoords.chunks_exact(2).map(|c| [c[0], 1.0 - c[1]]).collect();
    let triangles: Vec<[u32; 3]> = m.indices.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
    let material = m.material_id.filter(|&id| id < material_count);
    if m.material_id.is_some() && material.is_none() {
        warnings.push(format!("object {:?} names a material that the MTL file does not define", model.name));
    }
    let name = if model.name.is_empty() { format!("object_{i}") } else { model.name.clone() };
    Ok(Mesh {
        normals: if normals.len() == n { normals } else { Vec::new() },
        uvs: if uvs.len() == n { uvs } else { Vec::new() },
        parts: vec![Part {
            name: name.clone(),
            group: 0,
            material,
            vertices: 0..n as u32,
            triangles: 0..triangles.len() as u32,
            skinned: true,
            morph_targets: vec![],
        }],
        groups: vec![MeshGroup { name, ..Default::default() }],
        positions,
        triangles,
        ..Default::default()
    })
}

fn library(mtl: &[tobj::Material], dir: Option<&Path>, warnings: &mut Vec<String>) -> MaterialLibrary {
    let mut lib = MaterialLibrary::default();
    for m in mtl {
        let d = m.diffuse.unwrap_or([0.8, 0.8, 0.8]);
        let alpha = m.dissolve.unwrap_or(1.0);
        let mut material = Material { name: m.name.clone(), base_color: [d[0], d[1], d[2], alpha], ..Default::default() };
        if let Some(tex) = m.diffuse_texture.as_deref().filter(|t| !t.is_empty()) {
            let file = dir.map(|d| d.join(tex)).unwrap_or_else(|| tex.into());
            match std::fs::read(&file) {
                Ok(bytes) => {
                    let mime_type = sniff_mime(&bytes).to_string();
                    lib.images.push(Image { name: tex.to_string(), mime_type, bytes });
                    lib.textures_json.push(format!("{{\"source\":{}}}", lib.images.len() - 1));
                    material.base_color = [1.0, 1.0, 1.0, alpha];
                    material.base_color_texture = Some(lib.textures_json.len() - 1);
                }
                Err(e) => warnings.push(format!("texture {} of material {:?} not loaded: {e}", file.display(), m.name)),
            }
        }
        lib.materials.push(material);
    }
    lib
}
