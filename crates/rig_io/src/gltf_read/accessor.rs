//! Bounds-checked accessor reading. Every offset is checked against the bytes that exist,
//! so a hostile count or offset gives an error instead of a panic or a huge allocation.
//! byteStride is honoured on every accessor, even where the spec forbids it (some
//! exporters write it on inverse bind matrices and animation samplers).

use gltf::json::accessor::{ComponentType, Type};
use gltf::json::validation::Checked;
use gltf::json::Root;

use crate::error::IoError;

/// Largest element count accepted for an accessor that has no bufferView (all zeros).
const MAX_ZERO_FILLED: u64 = 1 << 24;

/// Reads accessors of one document.
pub struct Accessors<'a> {
    pub root: &'a Root,
    pub buffers: &'a [Vec<u8>],
}

/// Where an accessor's elements live and how they are laid out.
struct Layout<'a> {
    bytes: &'a [u8],
    stride: usize,
    component: ComponentType,
    components: usize,
}

fn err(index: usize, reason: impl Into<String>) -> IoError {
    IoError::Accessor { index, reason: reason.into() }
}

fn multiplicity(t: Type) -> usize {
    match t {
        Type::Scalar => 1,
        Type::Vec2 => 2,
        Type::Vec3 => 3,
        Type::Vec4 | Type::Mat2 => 4,
        Type::Mat3 => 9,
        Type::Mat4 => 16,
    }
}

fn type_name(t: Type) -> &'static str {
    match t {
        Type::Scalar => "SCALAR",
        Type::Vec2 => "VEC2",
        Type::Vec3 => "VEC3",
        Type::Vec4 => "VEC4",
        Type::Mat2 => "MAT2",
        Type::Mat3 => "MAT3",
        Type::Mat4 => "MAT4",
    }
}

impl<'a> Accessors<'a> {
    /// Number of elements the accessor declares (after validating the index).
    pub fn count(&self, index: usize) -> Result<usize, IoError> {
        let a = self.root.accessors.get(index).ok_or(IoError::BadIndex {
            what: "a mesh, skin or animation".into(),
            kind: "accessor",
            index,
            count: self.root.accessors.len(),
        })?;
        Ok(a.count.0 as usize)
    }

    /// Reads as floats, `components` per element, applying `normalized` integer scaling.
    pub fn read_f32(&self, index: usize, allowed: &[Type]) -> Result<(Vec<f32>, usize), IoError> {
        self.read::<f32>(index, allowed, true)
    }

    /// Reads integer components (indices, joint indices) as u32.
    pub fn read_u32(&self, index: usize, allowed: &[Type]) -> Result<(Vec<u32>, usize), IoError> {
        self.read::<u32>(index, allowed, false)
    }

    fn read<T: Element>(&self, index: usize, allowed: &[Type], as_float: bool) -> Result<(Vec<T>, usize), IoError> {
        let count = self.count(index)? as u64;
        let a = &self.root.accessors[index];
        let ty = match a.type_ {
            Checked::Valid(t) => t,
            Checked::Invalid => return Err(err(index, "unknown type")),
        };
        if !allowed.contains(&ty) {
            let names: Vec<_> = allowed.iter().map(|t| type_name(*t)).collect();
            return Err(err(index, format!("is {} but {} was expected", type_name(ty), names.join(" or "))));
        }
        let component = match a.component_type {
            Checked::Valid(c) => c.0,
            Checked::Invalid => return Err(err(index, "unknown componentType")),
        };
        if !as_float && component == ComponentType::F32 {
            return Err(err(index, "holds floats where integers (indices) were expected"));
        }
        let components = multiplicity(ty);
        let normalize = as_float && a.normalized;
        let mut out = match a.buffer_view {
            Some(view) => {
                let layout = self.layout(index, view.value(), a.byte_offset.map_or(0, |o| o.0), count, component, components)?;
                decode_all(&layout, count as usize, normalize)
            }
            None => {
                if count > MAX_ZERO_FILLED {
                    return Err(err(index, format!("declares {count} elements with no data; refusing to allocate them")));
                }
                vec![T::default(); count as usize * components]
            }
        };
        if let Some(sparse) = &a.sparse {
            self.apply_sparse(index, sparse, count, component, components, normalize, &mut out)?;
        }
        Ok((out, components))
    }

    fn layout(
        &self,
        index: usize,
        view: usize,
        offset: u64,
        count: u64,
        component: ComponentType,
        components: usize,
    ) -> Result<Layout<'a>, IoError> {
        let v = self.root.buffer_views.get(view).ok_or_else(|| err(index, format!("bufferView {view} does not exist")))?;
        let buffer = self
            .buffers
            .get(v.buffer.value())
            .ok_or_else(|| err(index, format!("bufferView {view} points to missing buffer {}", v.buffer.value())))?;
        let start = v.byte_offset.map_or(0, |o| o.0);
        let end = start.checked_add(v.byte_length.0).filter(|e| *e <= buffer.len() as u64);
        let end = end.ok_or_else(|| {
            err(
                index,
                format!(
                    "bufferView {view} (offset {start}, length {}) runs past the end of its {}-byte buffer",
                    v.byte_length.0,
                    buffer.len()
                ),
            )
        })?;
        let view_bytes = &buffer[start as usize..end as usize];
        let elem = component.size() * components;
        let stride = v.byte_stride.map_or(elem, |s| s.0);
        if stride < elem {
            return Err(err(index, format!("byteStride {stride} is smaller than one element ({elem} bytes)")));
        }
        if count > 0 {
            let need = offset.checked_add((count - 1).saturating_mul(stride as u64)).and_then(|n| n.checked_add(elem as u64));
            match need {
                Some(n) if n <= view_bytes.len() as u64 => {}
                _ => {
                    return Err(err(
                        index,
                        format!(
                            "{count} elements at offset {offset} do not fit in bufferView {view} ({} bytes): accessor out of range",
                            view_bytes.len()
                        ),
                    ))
                }
            }
        }
        let bytes = view_bytes.get(offset as usize..).unwrap_or(&[]);
        Ok(Layout { bytes, stride, component, components })
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_sparse<T: Element>(
        &self,
        index: usize,
        sparse: &gltf::json::accessor::sparse::Sparse,
        count: u64,
        component: ComponentType,
        components: usize,
        normalize: bool,
        out: &mut [T],
    ) -> Result<(), IoError> {
        let n = sparse.count.0;
        if n > count {
            return Err(err(index, format!("sparse count {n} exceeds the accessor count {count}")));
        }
        let idx_type = match sparse.indices.component_type {
            Checked::Valid(c) => c.0,
            Checked::Invalid => return Err(err(index, "sparse indices have an unknown componentType")),
        };
        let il = self.layout(index, sparse.indices.buffer_view.value(), sparse.indices.byte_offset.0, n, idx_type, 1)?;
        let vl = self.layout(index, sparse.values.buffer_view.value(), sparse.values.byte_offset.0, n, component, components)?;
        let indices: Vec<u32> = decode_all(&Layout { stride: idx_type.size(), ..il }, n as usize, false);
        let values: Vec<T> = decode_all(&Layout { stride: component.size() * components, ..vl }, n as usize, normalize);
        for (k, &i) in indices.iter().enumerate() {
            let i = i as usize;
            if i == u32::MAX as usize {
                return Err(err(index, "sparse indices must be unsigned integers"));
            }
            if i as u64 >= count {
                return Err(err(index, format!("sparse index {i} is beyond the accessor count {count}")));
            }
            out[i * components..(i + 1) * components].copy_from_slice(&values[k * components..(k + 1) * components]);
        }
        Ok(())
    }
}

/// A component type we decode into.
trait Element: Copy + Default {
    fn decode(bytes: &[u8], component: ComponentType, normalize: bool) -> Self;
}

impl Element for f32 {
    fn decode(bytes: &[u8], component: ComponentType, normalize: bool) -> f32 {
        decode_f32(bytes, component, normalize)
    }
}

impl Element for u32 {
    fn decode(b: &[u8], component: ComponentType, _: bool) -> u32 {
        match component {
            ComponentType::U32 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            ComponentType::U16 => u16::from_le_bytes([b[0], b[1]]) as u32,
            ComponentType::U8 => b[0] as u32,
            // Signed or float indices are invalid; map them to a value the caller rejects.
            _ => u32::MAX,
        }
    }
}

fn decode_all<T: Element>(layout: &Layout, count: usize, normalize: bool) -> Vec<T> {
    let csize = layout.component.size();
    let mut out = Vec::with_capacity(count * layout.components);
    for i in 0..count {
        let base = i * layout.stride;
        for k in 0..layout.components {
            let at = base + k * csize;
            out.push(T::decode(&layout.bytes[at..at + csize], layout.component, normalize));
        }
    }
    out
}

fn decode_f32(b: &[u8], c: ComponentType, normalize: bool) -> f32 {
    match c {
        ComponentType::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        ComponentType::U32 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
        ComponentType::U8 if normalize => b[0] as f32 / 255.0,
        ComponentType::U8 => b[0] as f32,
        ComponentType::I8 if normalize => (b[0] as i8 as f32 / 127.0).max(-1.0),
        ComponentType::I8 => b[0] as i8 as f32,
        ComponentType::U16 if normalize => u16::from_le_bytes([b[0], b[1]]) as f32 / 65535.0,
        ComponentType::U16 => u16::from_le_bytes([b[0], b[1]]) as f32,
        ComponentType::I16 if normalize => (i16::from_le_bytes([b[0], b[1]]) as f32 / 32767.0).max(-1.0),
        ComponentType::I16 => i16::from_le_bytes([b[0], b[1]]) as f32,
    }
}
