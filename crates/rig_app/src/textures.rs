//! Base-colour textures of the open file, decoded once per open. PNG is decoded (Bevy's image
//! crate is built with PNG only); other formats (JPEG) fall back to the material's base colour
//! with a note in the statistics panel's warnings.

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
        if image.mime_type != "image/png" {
            skipped.push(format!("texture '{}' ({}) is not shown: the editor decodes PNG only", image.name, image.mime_type));
            continue;
        }
        let decoded = Image::from_buffer(
            &image.bytes,
            ImageType::MimeType("image/png"),
            CompressedImageFormats::NONE,
            true,
            ImageSampler::Default,
            RenderAssetUsages::default(),
        );
        match decoded {
            Ok(img) => {
                textures.images.insert(t, images.add(img));
            }
            Err(e) => skipped.push(format!("texture '{}' could not be decoded: {e}", image.name)),
        }
    }
    doc.warnings.extend(skipped);
}
