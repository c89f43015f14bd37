//! Splits a .glb/.gltf into its JSON document and resolves every buffer to bytes.

use std::borrow::Cow;
use std::path::Path;

use base64::Engine;
use gltf::json::Root;
use serde_json::Value;

use crate::error::IoError;

/// Extensions that change how geometry is stored; we cannot read such files.
const UNDECODABLE: &[&str] = &["KHR_draco_mesh_compression", "EXT_meshopt_compression", "KHR_meshopt_compression"];

/// A parsed glTF: typed document, raw JSON (for materials and extras) and buffer bytes.
pub struct Container {
    pub root: Root,
    pub raw: Value,
    pub buffers: Vec<Vec<u8>>,
    pub base_dir: Option<std::path::PathBuf>,
}

impl Container {
    /// Parses bytes of a .glb or .gltf; `base_dir` resolves relative URIs (None: refuse them).
    pub fn parse(bytes: &[u8], base_dir: Option<&Path>) -> Result<Container, IoError> {
        let (json, blob) = split(bytes)?;
        let mut raw: Value = serde_json::from_slice(&json).map_err(|e| IoError::Json(e.to_string()))?;
        if !raw.is_object() {
            return Err(IoError::Json("the top level is not a JSON object".into()));
        }
        check_extensions(&raw)?;
        fill_optional_arrays(&mut raw);
        let root: Root = serde_json::from_value(raw.clone()).map_err(|e| IoError::Json(e.to_string()))?;
        check_version(&root)?;
        let buffers = resolve_buffers(&root, blob, base_dir)?;
        Ok(Container { root, raw, buffers, base_dir: base_dir.map(Path::to_path_buf) })
    }
}

/// The JSON text and the GLB binary chunk, if any.
type Split<'a> = (Cow<'a, [u8]>, Option<Vec<u8>>);

fn split(bytes: &[u8]) -> Result<Split<'_>, IoError> {
    if bytes.starts_with(b"glTF") {
        let glb = super::glb::parse(bytes).map_err(|e| IoError::Container(format!("GLB container: {e}")))?;
        return Ok((Cow::Borrowed(glb.json), glb.bin.map(<[u8]>::to_vec)));
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        Some(b'{') => Ok((Cow::Borrowed(bytes), None)),
        None => Err(IoError::Container("the file is empty".into())),
        Some(_) => Err(IoError::Container("neither a GLB (magic 'glTF') nor glTF JSON (starts with '{')".into())),
    }
}

fn check_extensions(raw: &Value) -> Result<(), IoError> {
    let listed = ["extensionsRequired", "extensionsUsed"]
        .iter()
        .filter_map(|k| raw.get(k).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str);
    for name in listed {
        if UNDECODABLE.contains(&name) {
            return Err(IoError::RequiredExtension(name.to_string()));
        }
    }
    Ok(())
}

/// `scene.nodes` is optional in glTF 2.0 but required by the typed reader.
fn fill_optional_arrays(raw: &mut Value) {
    if let Some(scenes) = raw.get_mut("scenes").and_then(Value::as_array_mut) {
        for s in scenes.iter_mut().filter_map(Value::as_object_mut) {
            s.entry("nodes").or_insert_with(|| Value::Array(Vec::new()));
        }
    }
}

fn check_version(root: &Root) -> Result<(), IoError> {
    let major = root.asset.version.split('.').next().unwrap_or("");
    if major != "2" {
        return Err(IoError::Unsupported(format!(
            "glTF version {:?}; Rigsmith reads glTF 2.0 (convert glTF 1.0 files first)",
            root.asset.version
        )));
    }
    Ok(())
}

fn resolve_buffers(root: &Root, mut blob: Option<Vec<u8>>, base_dir: Option<&Path>) -> Result<Vec<Vec<u8>>, IoError> {
    let mut out = Vec::with_capacity(root.buffers.len());
    for (i, b) in root.buffers.iter().enumerate() {
        let data = match &b.uri {
            None => blob.take().ok_or_else(|| IoError::Buffer(format!("buffer {i} has no URI and the file has no GLB binary chunk")))?,
            Some(uri) => load_uri(uri, base_dir).map_err(|e| IoError::Buffer(format!("buffer {i}: {e}")))?,
        };
        let declared = b.byte_length.0;
        if (data.len() as u64) < declared {
            return Err(IoError::Buffer(format!(
                "buffer {i} declares {declared} bytes but only {} are present (truncated file?)",
                data.len()
            )));
        }
        out.push(data);
    }
    Ok(out)
}

/// Bytes behind a URI: a base64 data URI or a file relative to the glTF.
pub fn load_uri(uri: &str, base_dir: Option<&Path>) -> Result<Vec<u8>, String> {
    if let Some(rest) = uri.strip_prefix("data:") {
        let (_, payload) = rest.split_once(";base64,").ok_or("data URI is not base64")?;
        return base64::engine::general_purpose::STANDARD.decode(payload).map_err(|e| format!("bad base64 data URI: {e}"));
    }
    if uri.contains("://") {
        return Err(format!("remote URI {uri:?} cannot be loaded; download it next to the file"));
    }
    let dir = base_dir.ok_or_else(|| format!("external file {uri:?} cannot be resolved from in-memory data"))?;
    let decoded = percent_decode(uri);
    let path = dir.join(&decoded);
    std::fs::read(&path).map_err(|e| format!("missing external file {} ({e}); keep it next to the .gltf", path.display()))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
