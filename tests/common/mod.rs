//! Helpers shared by the integration tests: where the assets are and how two rigs compare.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use nalgebra::Vector3;
use rig_core::Rig;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled samples every test can rely on.
pub fn samples() -> PathBuf {
    repo().join("assets/samples")
}

/// `../shared/assets` (or `$RIGSMITH_SHARED_ASSETS`) when present; `None` prints why a test skips.
pub fn shared_assets() -> Option<PathBuf> {
    let dir = std::env::var_os("RIGSMITH_SHARED_ASSETS").map(PathBuf::from).unwrap_or_else(|| repo().join("../shared/assets"));
    if dir.join("MANIFEST.tsv").exists() {
        Some(dir)
    } else {
        eprintln!("skipped: {} not found (set RIGSMITH_SHARED_ASSETS to run this evaluation)", dir.display());
        None
    }
}

/// Every .glb/.gltf under `dir`, sorted.
pub fn gltf_files(dir: &Path) -> Vec<PathBuf> {
    rig_io::files_under(dir, &["glb", "gltf"])
}

fn dist(a: [f32; 3], b: [f32; 3]) -> f32 {
    (Vector3::from(a) - Vector3::from(b)).norm()
}

/// Checks that `b` is the same rig as `a`: joints, hierarchy, positions, weights, clips,
/// materials. Tolerances are relative to the bounding-box diagonal.
/// Same skeleton, mesh, weights, clips, and materials.
pub fn compare(a: &Rig, b: &Rig) -> Result<(), String> {
    compare_rig(a, b)?;
    compare_materials(a, b)
}

/// Same skeleton, mesh, weights and clips (materials not compared), positions within 1e-5 of
/// the bounding-box diagonal.
pub fn compare_rig(a: &Rig, b: &Rig) -> Result<(), String> {
    compare_rig_within(a, b, 1e-5)
}

/// As [`compare_rig`], positions within `tolerance` times the bounding-box diagonal.
pub fn compare_rig_within(a: &Rig, b: &Rig, tolerance: f32) -> Result<(), String> {
    let diag = a.mesh.bounds().map_or(1.0, |bb| bb.diagonal()).max(1e-6);
    let names = |r: &Rig| r.skeleton.joints.iter().map(|j| j.name.clone()).collect::<Vec<_>>();
    if names(a) != names(b) {
        return Err(format!("joint names differ: {:?} vs {:?}", names(a), names(b)));
    }
    let parents = |r: &Rig| r.skeleton.joints.iter().map(|j| j.parent).collect::<Vec<_>>();
    if parents(a) != parents(b) {
        return Err("joint hierarchy differs".into());
    }
    let (ja, jb) = (a.skeleton.rest_positions(), b.skeleton.rest_positions());
    if let Some((i, d)) = ja.iter().zip(&jb).map(|(p, q)| dist(*p, *q)).enumerate().find(|(_, d)| *d > tolerance * diag) {
        return Err(format!("joint {} moved by {d} (diag {diag})", a.skeleton.joints[i].name));
    }
    if a.mesh.vertex_count() != b.mesh.vertex_count() {
        return Err(format!("vertex count {} vs {}", a.mesh.vertex_count(), b.mesh.vertex_count()));
    }
    if let Some((v, d)) =
        a.mesh.positions.iter().zip(&b.mesh.positions).map(|(p, q)| dist(*p, *q)).enumerate().find(|(_, d)| *d > tolerance * diag)
    {
        return Err(format!("vertex {v} moved by {d}"));
    }
    // The first joint of the written skin: the first that is not a transform node above the bones.
    let first_bone = a.transform_nodes().iter().position(|t| !t).unwrap_or(0) as u32;
    for v in 0..a.mesh.vertex_count() {
        let (joints, _) = a.weights.row(v);
        let (joints_b, _) = b.weights.row(v);
        if joints.is_empty() {
            // Unweighted in the source (the importer warned); glTF cannot store that, so the
            // exporter binds such vertices to the skin's first joint.
            if !joints_b.is_empty() && joints_b != [first_bone] {
                return Err(format!("vertex {v} was unweighted but came back with joints {joints_b:?}"));
            }
            continue;
        }
        for &j in joints.iter().chain(joints_b) {
            let (wa, wb) = (a.weights.weight(v, j), b.weights.weight(v, j));
            if (wa - wb).abs() > 1e-3 {
                return Err(format!("vertex {v} joint {j}: weight {wa} vs {wb}"));
            }
        }
    }
    compare_vertex_sets(a, b)?;
    compare_clips(a, b)
}

/// Every UV and colour set, per vertex, within 1e-5.
fn compare_vertex_sets(a: &Rig, b: &Rig) -> Result<(), String> {
    let flat2 = |s: &Vec<[f32; 2]>| s.iter().flatten().copied().collect::<Vec<f32>>();
    let flat4 = |s: &Vec<[f32; 4]>| s.iter().flatten().copied().collect::<Vec<f32>>();
    let sets = |r: &Rig| -> Vec<(String, Vec<f32>)> {
        let uvs = std::iter::once(&r.mesh.uvs).chain(&r.mesh.extra_uvs).enumerate().map(|(k, s)| (format!("UV set {k}"), flat2(s)));
        let colors =
            std::iter::once(&r.mesh.colors).chain(&r.mesh.extra_colors).enumerate().map(|(k, s)| (format!("colour set {k}"), flat4(s)));
        uvs.chain(colors).filter(|(_, s)| !s.is_empty()).collect()
    };
    let (sa, sb) = (sets(a), sets(b));
    let names = |s: &[(String, Vec<f32>)]| s.iter().map(|e| e.0.clone()).collect::<Vec<_>>();
    if names(&sa) != names(&sb) {
        return Err(format!("vertex attribute sets {:?} came back as {:?}", names(&sa), names(&sb)));
    }
    for ((name, x), (_, y)) in sa.iter().zip(&sb) {
        if let Some(i) = x.iter().zip(y).position(|(p, q)| (p - q).abs() > 1e-5) {
            return Err(format!("{name}: value {i} is {} instead of {}", y[i], x[i]));
        }
    }
    Ok(())
}

fn compare_clips(a: &Rig, b: &Rig) -> Result<(), String> {
    if a.clips.len() != b.clips.len() {
        return Err(format!("{} clips vs {}", a.clips.len(), b.clips.len()));
    }
    for (x, y) in a.clips.iter().zip(&b.clips) {
        if x.name != y.name || (x.duration_secs() - y.duration_secs()).abs() > 1e-6 {
            return Err(format!("clip {:?} ({}) vs {:?} ({})", x.name, x.duration_secs(), y.name, y.duration_secs()));
        }
    }
    Ok(())
}

fn compare_materials(a: &Rig, b: &Rig) -> Result<(), String> {
    let (ma, mb) = (&a.materials, &b.materials);
    if ma.materials.len() != mb.materials.len() || ma.textures_json.len() != mb.textures_json.len() || ma.images.len() != mb.images.len() {
        return Err("material, texture or image counts differ".into());
    }
    if ma.images.iter().zip(&mb.images).any(|(x, y)| x.bytes != y.bytes) {
        return Err("image bytes differ".into());
    }
    let mats = |r: &Rig| r.mesh.parts.iter().map(|p| p.material).collect::<Vec<_>>();
    if mats(a) != mats(b) {
        return Err("parts reference different materials".into());
    }
    let morphs = |r: &Rig| r.mesh.parts.iter().map(|p| p.morph_targets.len()).collect::<Vec<_>>();
    if morphs(a) != morphs(b) {
        return Err("morph target counts differ".into());
    }
    Ok(())
}
