//! The GLB container: 12-byte header, a JSON chunk, an optional BIN chunk. Parsed here rather
//! than by `gltf::Glb`, whose header arithmetic overflows on hostile lengths (found by fuzzing).

/// JSON and BIN chunks of a GLB, borrowed from the file bytes.
pub struct GlbChunks<'a> {
    pub json: &'a [u8],
    pub bin: Option<&'a [u8]>,
}

const JSON: u32 = 0x4E4F_534A;
const BIN: u32 = 0x004E_4942;

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

pub fn parse(bytes: &[u8]) -> Result<GlbChunks<'_>, String> {
    let version = u32_at(bytes, 4).ok_or("the 12-byte header is truncated")?;
    if version != 2 {
        return Err(format!("GLB version {version}; Rigsmith reads GLB version 2 (glTF 2.0)"));
    }
    let length = u32_at(bytes, 8).ok_or("the 12-byte header is truncated")? as usize;
    if length < 20 {
        return Err(format!("the header declares a total length of {length} bytes, too small for a JSON chunk"));
    }
    if length > bytes.len() {
        return Err(format!("the header declares {length} bytes but the file has {} (truncated file?)", bytes.len()));
    }
    let body = &bytes[..length];
    let mut at = 12;
    let mut json = None;
    let mut bin = None;
    while at < length {
        let chunk_len = u32_at(body, at).ok_or("a chunk header is truncated")? as usize;
        let kind = u32_at(body, at + 4).ok_or("a chunk header is truncated")?;
        let start = at + 8;
        let data = start.checked_add(chunk_len).and_then(|end| body.get(start..end));
        let data = data.ok_or_else(|| format!("a chunk of {chunk_len} bytes at offset {at} runs past the end of the file"))?;
        match kind {
            JSON if json.is_none() && at == 12 => json = Some(data),
            BIN if bin.is_none() && json.is_some() => bin = Some(data),
            JSON | BIN => return Err("chunks are out of order or repeated (JSON must come first, then at most one BIN)".into()),
            _ => {}
        }
        at = start + chunk_len;
    }
    Ok(GlbChunks { json: json.ok_or("the first chunk is not JSON")?, bin })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lengths_that_overflow_are_errors() {
        let crash = [103, 108, 84, 70, 2, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 84, 70, 2, 0, 0, 128, 192, 5];
        assert!(parse(&crash).is_err());
        let mut tiny = b"glTF".to_vec();
        tiny.extend_from_slice(&2u32.to_le_bytes());
        tiny.extend_from_slice(&4u32.to_le_bytes());
        assert!(parse(&tiny).is_err());
    }

    #[test]
    fn json_and_bin_are_found() {
        let json = b"{}  ";
        let bin = [1u8, 2, 3, 4];
        let mut f = b"glTF".to_vec();
        f.extend_from_slice(&2u32.to_le_bytes());
        f.extend_from_slice(&(12 + 8 + 4 + 8 + 4u32).to_le_bytes());
        f.extend_from_slice(&4u32.to_le_bytes());
        f.extend_from_slice(&JSON.to_le_bytes());
        f.extend_from_slice(json);
        f.extend_from_slice(&4u32.to_le_bytes());
        f.extend_from_slice(&BIN.to_le_bytes());
        f.extend_from_slice(&bin);
        let c = parse(&f).expect("valid");
        assert_eq!(c.json, json);
        assert_eq!(c.bin, Some(&bin[..]));
    }
}
