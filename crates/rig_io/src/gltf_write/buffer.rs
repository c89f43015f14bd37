//! The binary buffer of an exported glTF and the accessors that describe it.

use serde_json::{json, Value};

pub const ARRAY_BUFFER: u32 = 34962;
pub const ELEMENT_ARRAY_BUFFER: u32 = 34963;
const FLOAT: u32 = 5126;
const UNSIGNED_BYTE: u32 = 5121;
const UNSIGNED_SHORT: u32 = 5123;
const UNSIGNED_INT: u32 = 5125;

/// Collects buffer views and accessors over one growing byte buffer.
#[derive(Default)]
pub struct BinWriter {
    pub bin: Vec<u8>,
    pub views: Vec<Value>,
    pub accessors: Vec<Value>,
}

impl BinWriter {
    /// Appends bytes as a new buffer view (4-byte aligned) and returns its index.
    pub fn view(&mut self, bytes: &[u8], target: Option<u32>) -> usize {
        while !self.bin.len().is_multiple_of(4) {
            self.bin.push(0);
        }
        let mut v = json!({ "buffer": 0, "byteOffset": self.bin.len(), "byteLength": bytes.len() });
        if let Some(t) = target {
            v["target"] = json!(t);
        }
        self.bin.extend_from_slice(bytes);
        self.views.push(v);
        self.views.len() - 1
    }

    fn accessor(&mut self, view: usize, component: u32, count: usize, type_: &str, extra: Value) -> usize {
        let mut a = json!({ "bufferView": view, "componentType": component, "count": count, "type": type_ });
        if let (Some(a), Some(e)) = (a.as_object_mut(), extra.as_object()) {
            a.extend(e.clone());
        }
        self.accessors.push(a);
        self.accessors.len() - 1
    }

    /// Float vectors of `N` components. `bounds` adds the min/max that POSITION and
    /// animation inputs require.
    pub fn floats<const N: usize>(&mut self, data: &[[f32; N]], type_: &str, bounds: bool, target: Option<u32>) -> usize {
        let bytes: Vec<u8> = data.iter().flatten().flat_map(|v| v.to_le_bytes()).collect();
        let view = self.view(&bytes, target);
        let extra = if bounds && !data.is_empty() { min_max(data) } else { json!({}) };
        self.accessor(view, FLOAT, data.len(), type_, extra)
    }

    /// Triangle indices as u16 when they fit, else u32.
    pub fn indices(&mut self, data: &[u32], vertex_count: usize) -> usize {
        if vertex_count <= u16::MAX as usize {
            let bytes: Vec<u8> = data.iter().flat_map(|&i| (i as u16).to_le_bytes()).collect();
            let view = self.view(&bytes, Some(ELEMENT_ARRAY_BUFFER));
            return self.accessor(view, UNSIGNED_SHORT, data.len(), "SCALAR", json!({}));
        }
        let bytes: Vec<u8> = data.iter().flat_map(|i| i.to_le_bytes()).collect();
        let view = self.view(&bytes, Some(ELEMENT_ARRAY_BUFFER));
        self.accessor(view, UNSIGNED_INT, data.len(), "SCALAR", json!({}))
    }

    /// JOINTS_n as u8 when every joint index fits, else u16.
    pub fn joints(&mut self, data: &[[u16; 4]], joint_count: usize) -> usize {
        if joint_count <= 256 {
            let bytes: Vec<u8> = data.iter().flatten().map(|&j| j as u8).collect();
            let view = self.view(&bytes, Some(ARRAY_BUFFER));
            return self.accessor(view, UNSIGNED_BYTE, data.len(), "VEC4", json!({}));
        }
        let bytes: Vec<u8> = data.iter().flatten().flat_map(|j| j.to_le_bytes()).collect();
        let view = self.view(&bytes, Some(ARRAY_BUFFER));
        self.accessor(view, UNSIGNED_SHORT, data.len(), "VEC4", json!({}))
    }

    /// Column-major 4x4 matrices.
    pub fn mat4(&mut self, data: &[[f32; 16]]) -> usize {
        self.floats(data, "MAT4", false, None)
    }
}

fn min_max<const N: usize>(data: &[[f32; N]]) -> Value {
    let mut lo = data[0];
    let mut hi = data[0];
    for v in data {
        for k in 0..N {
            lo[k] = lo[k].min(v[k]);
            hi[k] = hi[k].max(v[k]);
        }
    }
    json!({ "min": lo.to_vec(), "max": hi.to_vec() })
}

/// A GLB container: 12-byte header, JSON chunk padded with spaces, BIN chunk padded with zeros.
pub fn glb(json: &[u8], bin: &[u8]) -> Vec<u8> {
    let pad = |n: usize| (4 - n % 4) % 4;
    let json_len = json.len() + pad(json.len());
    let bin_len = bin.len() + pad(bin.len());
    let total = 12 + 8 + json_len + if bin.is_empty() { 0 } else { 8 + bin_len };
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(json_len as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(json);
    out.extend(std::iter::repeat_n(b' ', pad(json.len())));
    if !bin.is_empty() {
        out.extend_from_slice(&(bin_len as u32).to_le_bytes());
        out.extend_from_slice(b"BIN\0");
        out.extend_from_slice(bin);
        out.extend(std::iter::repeat_n(0u8, pad(bin.len())));
    }
    out
}
