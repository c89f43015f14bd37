//! Materials, textures, samplers and images written back as they were read; images are
//! embedded in the binary buffer.

use rig_core::MaterialLibrary;
use serde_json::{json, Value};

use super::buffer::BinWriter;

/// A 1x1 white PNG written in place of an image whose data was missing at import.
const PLACEHOLDER_PNG: [u8; 70] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 31, 21, 196, 137, 0, 0, 0, 13, 73,
    68, 65, 84, 120, 156, 99, 248, 207, 240, 255, 63, 0, 6, 254, 2, 254, 12, 117, 137, 222, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

pub struct MaterialsOut {
    pub materials: Vec<Value>,
    pub textures: Vec<Value>,
    pub samplers: Vec<Value>,
    pub images: Vec<Value>,
}

fn parse_or(json_text: &str, fallback: Value) -> Value {
    serde_json::from_str(json_text).unwrap_or(fallback)
}

pub fn write(lib: &MaterialLibrary, w: &mut BinWriter, warnings: &mut Vec<String>) -> MaterialsOut {
    let materials = lib
        .materials
        .iter()
        .map(|m| {
            let built = || {
                let mut pbr = json!({ "baseColorFactor": m.base_color, "metallicFactor": 0.0, "roughnessFactor": 1.0 });
                if let Some(t) = m.base_color_texture {
                    pbr["baseColorTexture"] = json!({ "index": t });
                }
                json!({ "name": m.name, "pbrMetallicRoughness": pbr })
            };
            m.gltf_json.as_deref().map_or_else(built, |j| parse_or(j, built()))
        })
        .collect();
    let textures = lib.textures_json.iter().map(|t| parse_or(t, json!({}))).collect();
    let samplers = lib.samplers_json.iter().map(|s| parse_or(s, json!({}))).collect();
    let images = lib
        .images
        .iter()
        .enumerate()
        .map(|(i, im)| {
            let (bytes, mime): (&[u8], &str) = if im.bytes.is_empty() {
                warnings.push(format!("image {i} ({:?}) had no data; a 1x1 white placeholder was written", im.name));
                (&PLACEHOLDER_PNG, "image/png")
            } else {
                (&im.bytes, &im.mime_type)
            };
            let mut v = json!({ "bufferView": w.view(bytes, None), "mimeType": mime });
            if !im.name.is_empty() {
                v["name"] = json!(im.name);
            }
            v
        })
        .collect();
    MaterialsOut { materials, textures, samplers, images }
}
