//! Base-colour textures of the open file, decoded once per open: PNG by Bevy's image crate,
//! JPEG by `zune-jpeg` (Bevy's image crate is built with PNG only). Other formats, and files
//! that fail to decode, fall back to the material's base colour with a note in the statistics
//! panel's warnings.

use std::collections::HashMap;

use bevy::asset::RenderAssetUsages;
use bevy::image::{CompressedImageFormats, ImageSampler, ImageType};
use bevy::prelude::*;
use rig_core::Rig;

use crate::document::Document;

/// Decoded textures by glTF texture index.
#[derive(Resource, Default)]
pub struct PartTextures {
    mesh_id: Option<u64>,
    images: HashMap<usize, Handle<Image>>,
}

impl PartTextures {
    /// The base-colour texture of `part`, when it has one that could be decoded.
    pub fn for_part(&self, rig: &Rig, part: usize) -> Option<Handle<Image>> {
        let material = rig.materials.materials.get(rig.mesh.parts[part].material?)?;
        self.images.get(&material.base_color_texture?).cloned()
    }
}

/// The image index a glTF texture object's JSON points at (`"source"`).
fn texture_source(texture_json: &str) -> Option<usize> {
    let v: serde_json::Value = serde_json::from_str(texture_json).ok()?;
    v.get("source")?.as_u64().map(|s| s as usize)
}

/// Decodes the textures the materials use, once per opened file.
pub fn load_textures(mut doc: ResMut<Document>, mut textures: ResMut<PartTextures>, mut images: ResMut<Assets<Image>>) {
    if textures.mesh_id == Some(doc.mesh_id) {
        return;
    }
    textures.mesh_id = Some(doc.mesh_id);
    textures.images.clear();
    let Some(rig) = doc.rig.as_ref() else { return };
    let used: Vec<usize> = rig.materials.materials.iter().filter_map(|m| m.base_color_texture).collect();
    let mut skipped = Vec::new();
    for t in used {
        if textures.images.contains_key(&t) {
            continue;
        }
        let Some(image) = rig.materials.textures_json.get(t).and_then(|j| texture_source(j)).and_then(|s| rig.materials.images.get(s))
        else {
            continue;
        };
        match decode(&image.bytes, &image.mime_type) {
            Ok(img) => {
                textures.images.insert(t, images.add(img));
            }
            Err(e) => skipped.push(format!("texture '{}' ({}) is not shown: {e}", image.name, image.mime_type)),
        }
    }
    doc.warnings.extend(skipped);
}

/// A base-colour texture as a Bevy image (sRGB), from PNG or JPEG bytes.
pub fn decode(bytes: &[u8], mime_type: &str) -> Result<Image, String> {
    match mime_type {
        "image/png" => Image::from_buffer(
            bytes,
            ImageType::MimeType("image/png"),
            CompressedImageFormats::NONE,
            true,
            ImageSampler::Default,
            RenderAssetUsages::default(),
        )
        .map_err(|e| format!("the PNG could not be decoded: {e}")),
        "image/jpeg" => decode_jpeg(bytes),
        other => Err(format!("the editor decodes PNG and JPEG, not {other}")),
    }
}

fn decode_jpeg(bytes: &[u8]) -> Result<Image, String> {
    use zune_jpeg::zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions};
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGBA);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let pixels = decoder.decode().map_err(|e| format!("the JPEG could not be decoded: {e:?}"))?;
    let info = decoder.info().ok_or("the JPEG has no frame header")?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    if pixels.len() != width as usize * height as usize * 4 {
        return Err(format!("the JPEG decoded to {} bytes, not {width} x {height} RGBA pixels", pixels.len()));
    }
    let size = bevy::render::render_resource::Extent3d { width, height, depth_or_array_layers: 1 };
    let format = bevy::render::render_resource::TextureFormat::Rgba8UnormSrgb;
    Ok(Image::new(size, bevy::render::render_resource::TextureDimension::D2, pixels, format, RenderAssetUsages::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/samples/textures/quadrants.jpg")).expect("bundled JPEG")
    }

    #[test]
    fn a_jpeg_decodes_to_its_pixels() {
        let image = decode(&sample(), "image/jpeg").expect("decodes");
        let size = image.texture_descriptor.size;
        assert_eq!((size.width, size.height), (48, 32));
        let data = image.data.as_ref().expect("pixels on the CPU");
        let pixel = |x: usize, y: usize| &data[(y * 48 + x) * 4..(y * 48 + x) * 4 + 4];
        // The middle of each quadrant, within JPEG's error of the colour it was drawn with.
        for (x, y, want) in [(12, 8, [220, 30, 30]), (36, 8, [30, 200, 40]), (12, 24, [40, 60, 220]), (36, 24, [240, 240, 240])] {
            let got = pixel(x, y);
            assert!((0..3).all(|k| (got[k] as i32 - want[k]).abs() <= 12), "({x}, {y}): {got:?} vs {want:?}");
            assert_eq!(got[3], 255);
        }
    }

    #[test]
    fn broken_or_unknown_images_are_errors_not_panics() {
        let bytes = sample();
        assert!(decode(&bytes[..bytes.len() / 4], "image/jpeg").is_err());
        assert!(decode(b"not an image", "image/jpeg").is_err());
        assert!(decode(b"not an image", "image/png").is_err());
        assert!(decode(&bytes, "image/webp").unwrap_err().contains("PNG and JPEG"));
    }
}
