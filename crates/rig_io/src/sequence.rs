//! Mesh sequences for rig from motion: a folder of OBJ frames (sorted by name), or a clip of
//! any file Rigsmith reads (a glTF morph-target animation, a skinned clip) baked to vertex
//! positions, one frame per key time.

use std::path::{Path, PathBuf};

use rig_core::motion::{bake_clip, MeshSequence};
use rig_core::Rig;

use crate::error::IoError;

/// Which clip of a file, and the frame rate of an OBJ folder.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceOptions {
    /// A clip's name or index (default: the first clip).
    pub clip: Option<String>,
    /// Frames per second of an OBJ folder (frame `i` at `i / fps` seconds).
    pub fps: f32,
}

impl Default for SequenceOptions {
    fn default() -> Self {
        SequenceOptions { clip: None, fps: 24.0 }
    }
}

/// A sequence and what it came from.
#[derive(Debug, Clone)]
pub struct LoadedSequence {
    pub sequence: MeshSequence,
    /// The first frame's file read as a rig (parts, UVs, materials; its skeleton and clips
    /// when the sequence was baked from one).
    pub source: Rig,
    /// The baked clip's name, or the folder's name.
    pub clip_name: String,
    /// Which of `source`'s clips was baked (`None` for an OBJ folder).
    pub clip: Option<usize>,
    pub warnings: Vec<String>,
}

/// Reads a folder of OBJ frames or bakes a file's clip.
pub fn load_sequence(path: &Path, options: &SequenceOptions) -> Result<LoadedSequence, IoError> {
    if path.is_dir() {
        return load_obj_folder(path, options.fps);
    }
    bake_loaded(crate::load(path)?, path, options)
}

/// Bakes a read file's clip (`options.clip`, else the first) into frames; `path` names it in
/// errors.
pub fn bake_loaded(imported: crate::Imported, path: &Path, options: &SequenceOptions) -> Result<LoadedSequence, IoError> {
    let rig = imported.rig;
    if rig.clips.is_empty() {
        return Err(IoError::Invalid(format!(
            "{} has no animation to bake into frames: give a file with a skinned or morph-target clip, or a folder of OBJ frames",
            path.display()
        )));
    }
    let index = pick_clip(&rig, options.clip.as_deref())?;
    let sequence = bake_clip(&rig, index).map_err(|e| IoError::Invalid(format!("{}: {e}", path.display())))?;
    let clip_name = rig.clips[index].name.clone();
    Ok(LoadedSequence { sequence, source: rig, clip_name, clip: Some(index), warnings: imported.warnings })
}

/// The clip `wanted` names (by name, else by number), or the first.
pub fn pick_clip(rig: &Rig, wanted: Option<&str>) -> Result<usize, IoError> {
    let Some(wanted) = wanted else { return Ok(0) };
    let names: Vec<String> = rig.clips.iter().enumerate().map(|(i, c)| format!("{i}: {:?}", c.name)).collect();
    rig.clips
        .iter()
        .position(|c| c.name == wanted)
        .or_else(|| wanted.parse::<usize>().ok().filter(|&i| i < rig.clips.len()))
        .ok_or_else(|| IoError::Invalid(format!("no clip {wanted:?}: the file has {}", names.join(", "))))
}

/// The .obj files directly in `dir` (any case of the extension), sorted by name: the frames of
/// an OBJ folder.
pub fn obj_frames(dir: &Path) -> Result<Vec<PathBuf>, IoError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| IoError::Read { path: dir.to_path_buf(), source })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().and_then(|x| x.to_str()).is_some_and(|x| x.eq_ignore_ascii_case("obj")))
        .collect();
    files.sort();
    Ok(files)
}

fn load_obj_folder(dir: &Path, fps: f32) -> Result<LoadedSequence, IoError> {
    if !(fps.is_finite() && fps > 0.0) {
        return Err(IoError::Invalid(format!("a frame rate of {fps} makes no sequence: give --fps above 0")));
    }
    let files = obj_frames(dir)?;
    if files.len() < 2 {
        return Err(IoError::Invalid(format!(
            "{} holds {} .obj frame(s): rig from motion needs a folder of at least 2 OBJ frames of one mesh",
            dir.display(),
            files.len()
        )));
    }
    let first = crate::obj::load(&files[0])?;
    let mut frames = vec![first.rig.mesh.positions.clone()];
    for file in &files[1..] {
        let frame = crate::obj::load(file)?.rig.mesh;
        if frame.vertex_count() != frames[0].len() || frame.triangles != first.rig.mesh.triangles {
            return Err(IoError::Invalid(format!(
                "{} has {} vertices and {} triangles where {} has {} and {}: every frame must be the same mesh",
                file.display(),
                frame.vertex_count(),
                frame.triangles.len(),
                files[0].display(),
                frames[0].len(),
                first.rig.mesh.triangles.len()
            )));
        }
        frames.push(frame.positions);
    }
    let times = (0..frames.len()).map(|i| i as f32 / fps).collect();
    let sequence = MeshSequence::from_frames(frames, times, first.rig.mesh.triangles.clone());
    let clip_name = dir.file_name().map_or("motion".into(), |n| n.to_string_lossy().into_owned());
    let mut source = first.rig;
    source.name = clip_name.clone();
    Ok(LoadedSequence { sequence, source, clip_name, clip: None, warnings: first.warnings })
}

/// Writes every frame as `frame_0000.obj`, ... (positions and triangles) into `dir`.
pub fn write_obj_frames(seq: &MeshSequence, dir: &Path) -> Result<(), IoError> {
    std::fs::create_dir_all(dir).map_err(|source| IoError::Write { path: dir.to_path_buf(), source })?;
    let faces: String = seq.triangles.iter().map(|t| format!("f {} {} {}\n", t[0] + 1, t[1] + 1, t[2] + 1)).collect();
    for (i, frame) in seq.frames.iter().enumerate() {
        let mut text = String::with_capacity(frame.len() * 40 + faces.len());
        for p in frame {
            text.push_str(&format!("v {} {} {}\n", p[0], p[1], p[2]));
        }
        text.push_str(&faces);
        let path = dir.join(format!("frame_{i:04}.obj"));
        crate::write_atomic(&path, text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tube_frames(dir: &Path, counts: &[usize]) {
        std::fs::create_dir_all(dir).expect("test setup");
        for (i, &n) in counts.iter().enumerate() {
            let mut text = String::new();
            for k in 0..n {
                text.push_str(&format!("v {} {} {}\n", k as f32, (i * k) as f32 * 0.1, 0.0));
            }
            (3..=n).for_each(|k| text.push_str(&format!("f 1 2 {k}\n")));
            std::fs::write(dir.join(format!("f{i:02}.obj")), text).expect("test setup");
        }
    }

    #[test]
    fn an_obj_folder_is_read_in_name_order_and_written_back() {
        let dir = std::env::temp_dir().join(format!("rigsmith-seq-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        tube_frames(&dir, &[3, 3, 3]);
        let loaded = load_sequence(&dir, &SequenceOptions { clip: None, fps: 10.0 }).expect("reads");
        assert_eq!(loaded.sequence.frames.len(), 3);
        assert_eq!(loaded.sequence.times, vec![0.0, 0.1, 0.2]);
        assert_eq!(loaded.sequence.frames[2][2], [2.0, 0.4, 0.0]);
        let out = dir.join("out");
        write_obj_frames(&loaded.sequence, &out).expect("writes");
        let again = load_sequence(&out, &SequenceOptions { clip: None, fps: 10.0 }).expect("reads back");
        assert_eq!(again.sequence.frames, loaded.sequence.frames);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn frames_of_different_meshes_and_lone_frames_are_refused() {
        let dir = std::env::temp_dir().join(format!("rigsmith-seq-bad-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        tube_frames(&dir, &[3, 4]);
        let e = load_sequence(&dir, &SequenceOptions::default()).unwrap_err().to_string();
        assert!(e.contains("every frame must be the same mesh"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
        tube_frames(&dir, &[3]);
        let e = load_sequence(&dir, &SequenceOptions::default()).unwrap_err().to_string();
        assert!(e.contains("at least 2 OBJ frames"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[cfg(test)]
mod morph_tests {
    use super::*;
    use rig_core::{Clip, Interpolation, MaterialLibrary, Mesh, MeshGroup, MorphTarget, MorphWeightsChannel, Part};

    /// A quad whose far edge a morph target lifts, animated 0 -> 1 -> 0.5: three.js' morph
    /// animals are stored this way.
    fn lifted_quad() -> Rig {
        let positions = vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 1.0], [0.0, 0.0, 1.0]];
        let lift = MorphTarget { position_deltas: vec![[0.0; 3], [0.0; 3], [0.0, 0.5, 0.0], [0.0, 0.5, 0.0]], normal_deltas: vec![] };
        let part = Part {
            name: "quad".into(),
            group: 0,
            material: None,
            vertices: 0..4,
            triangles: 0..2,
            skinned: false,
            morph_targets: vec![lift],
        };
        let group = MeshGroup { name: "quad".into(), morph_target_names: vec!["lift".into()], morph_default_weights: vec![0.0] };
        let mesh = Mesh { positions, triangles: vec![[0, 1, 2], [0, 2, 3]], parts: vec![part], groups: vec![group], ..Default::default() };
        let mut rig = Rig::unrigged("quad", mesh, MaterialLibrary::default());
        let channel =
            MorphWeightsChannel { group: 0, times: vec![0.0, 1.0, 2.0], values: vec![0.0, 1.0, 0.5], interpolation: Interpolation::Linear };
        rig.clips.push(Clip { name: "breathe".into(), channels: vec![], morph_channels: vec![channel] });
        rig
    }

    #[test]
    fn a_morph_target_animation_in_a_glb_is_read_as_one_frame_per_key() {
        let path = std::env::temp_dir().join(format!("rigsmith-morph-seq-{}.glb", std::process::id()));
        crate::save(&lifted_quad(), &path, &crate::ExportOptions::default()).expect("writes");
        let loaded = load_sequence(&path, &SequenceOptions::default()).expect("bakes the morph clip");
        let _ = std::fs::remove_file(&path);
        let seq = &loaded.sequence;
        assert_eq!(loaded.clip_name, "breathe");
        assert_eq!(seq.times, vec![0.0, 1.0, 2.0]);
        let heights: Vec<f32> = seq.frames.iter().map(|f| f[2][1]).collect();
        assert_eq!(heights, vec![0.0, 0.5, 0.25]);
        assert!(seq.frames.iter().all(|f| f[0] == [0.0, 0.0, 0.0]));
    }
}
