//! Materials, textures, samplers and images, kept verbatim for writing back.

use rig_core::{Image, Material, MaterialLibrary};
use serde_json::Value;

use super::container::{load_uri, Container};

/// Extensions that belong to materials and textures and survive a round trip.
fn is_material_extension(name: &str) -> bool {
    ["KHR_materials_", "KHR_texture_", "EXT_texture_"].iter().any(|p| name.starts_with(p))
}

fn array<'a>(raw: &'a Value, key: &str) -> &'a [Value] {
    raw.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

pub fn read(c: &Container, warnings: &mut Vec<String>) -> MaterialLibrary {
    let raw = &c.raw;
    let materials = array(raw, "materials").iter().enumerate().map(|(i, m)| material(i, m)).collect();
    let images = array(raw, "images").iter().enumerate().map(|(i, im)| image(c, i, im, warnings)).collect();
    let strings = |key| array(raw, key).iter().map(|v| v.to_string()).collect();
    let names = |key| -> Vec<String> {
        array(raw, key).iter().filter_map(Value::as_str).filter(|n| is_material_extension(n)).map(String::from).collect()
    };
    MaterialLibrary {
        materials,
        textures_json: strings("textures"),
        samplers_json: strings("samplers"),
        images,
        extensions_used: names("extensionsUsed"),
        extensions_required: names("extensionsRequired"),
    }
}

fn material(i: usize, m: &Value) -> Material {
    let pbr = m.get("pbrMetallicRoughness");
    let factor = pbr.and_then(|p| p.get("baseColorFactor")).and_then(Value::as_array);
    let mut base_color = [1.0f32; 4];
    for (k, v) in factor.into_iter().flatten().take(4).enumerate() {
        base_color[k] = v.as_f64().unwrap_or(1.0) as f32;
    }
    Material {
        name: m.get("name").and_then(Value::as_str).map_or_else(|| format!("material_{i}"), String::from),
        base_color,
        base_color_texture: pbr
            .and_then(|p| p.get("baseColorTexture"))
            .and_then(|t| t.get("index"))
            .and_then(Value::as_u64)
            .map(|v| v as usize),
        gltf_json: Some(m.to_string()),
    }
}

fn image(c: &Container, i: usize, im: &Value, warnings: &mut Vec<String>) -> Image {
    let name = im.get("name").and_then(Value::as_str).unwrap_or("").to_string();
    let mut mime_type = im.get("mimeType").and_then(Value::as_str).unwrap_or("").to_string();
    let bytes = if let Some(view) = im.get("bufferView").and_then(Value::as_u64) {
        view_bytes(c, view as usize).unwrap_or_else(|| {
            warnings.push(format!("image {i}: bufferView {view} is missing or out of range; image dropped"));
            Vec::new()
        })
    } else if let Some(uri) = im.get("uri").and_then(Value::as_str) {
        if mime_type.is_empty() {
            mime_type = guess_mime(uri).to_string();
        }
        load_uri(uri, c.base_dir.as_deref()).unwrap_or_else(|e| {
            warnings.push(format!("image {i}: {e}; the texture will be missing"));
            Vec::new()
        })
    } else {
        Vec::new()
    };
    if mime_type.is_empty() {
        mime_type = sniff_mime(&bytes).to_string();
    }
    Image { name, mime_type, bytes }
}

fn view_bytes(c: &Container, view: usize) -> Option<Vec<u8>> {
    let v = c.root.buffer_views.get(view)?;
    let buffer = c.buffers.get(v.buffer.value())?;
    let start = v.byte_offset.map_or(0, |o| o.0) as usize;
    let end = start.checked_add(v.byte_length.0 as usize)?;
    buffer.get(start..end).map(<[u8]>::to_vec)
}

fn guess_mime(uri: &str) -> &'static str {
    let lower = uri.to_ascii_lowercase();
    if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
        "image/jpeg"
    } else if lower.ends_with(".webp") {
        "image/webp"
    } else if lower.ends_with(".ktx2") {
        "image/ktx2"
    } else {
        "image/png"
    }
}

pub fn sniff_mime(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        "image/jpeg"
    } else if bytes.starts_with(b"RIFF") {
        "image/webp"
    } else {
        "image/png"
    }
}
