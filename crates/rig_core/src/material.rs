//! Materials and textures, kept as the source wrote them so that they can be written back.

/// One material. `gltf_json` holds the source glTF material verbatim when there was one;
/// texture indices inside it refer to [`MaterialLibrary::textures_json`].
#[derive(Debug, Clone, PartialEq)]
pub struct Material {
    pub name: String,
    pub base_color: [f32; 4],
    /// Index into [`MaterialLibrary::textures_json`] of the base colour texture.
    pub base_color_texture: Option<usize>,
    pub gltf_json: Option<String>,
}

impl Default for Material {
    fn default() -> Self {
        Self { name: String::new(), base_color: [1.0; 4], base_color_texture: None, gltf_json: None }
    }
}

/// Encoded image data (PNG, JPEG, ...), never decoded by the core.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub name: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

/// Everything a mesh part's `material` index can point into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MaterialLibrary {
    pub materials: Vec<Material>,
    /// glTF texture objects (`{"source": image, "sampler": s, ...}`) as JSON text.
    pub textures_json: Vec<String>,
    /// glTF sampler objects as JSON text.
    pub samplers_json: Vec<String>,
    pub images: Vec<Image>,
    /// glTF extensions the materials and textures use (`KHR_texture_transform`, ...).
    pub extensions_used: Vec<String>,
    /// The subset of `extensions_used` a reader must support.
    pub extensions_required: Vec<String>,
}
