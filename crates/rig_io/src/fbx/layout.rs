//! A walk over the binary FBX node layout before it is parsed: every node, string, binary
//! blob and array must fit inside the file (and a compressed array must not claim more than
//! zlib can inflate), so that the parser never allocates more than the file can hold.

use super::doc::invalid;
use crate::error::IoError;

/// zlib never inflates more than about 1032 to 1.
const MAX_INFLATE_RATIO: u64 = 1032;
const MAX_DEPTH: usize = 64;

pub fn check(bytes: &[u8], version: u32) -> Result<(), IoError> {
    let wide = version >= 7500;
    let mut at = 27;
    // Top-level nodes until the null record that ends them.
    while let Some(end) = node(bytes, at, wide, 0)? {
        at = end;
    }
    Ok(())
}

fn read_u32(bytes: &[u8], at: usize) -> Result<u64, IoError> {
    bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64).ok_or_else(truncated)
}

fn read_u64(bytes: &[u8], at: usize) -> Result<u64, IoError> {
    bytes.get(at..at + 8).map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])).ok_or_else(truncated)
}

fn truncated() -> IoError {
    invalid("the file is damaged or truncated (a node runs past the end of the file)")
}

/// Checks the node at `at`; returns the offset after it, or `None` for a null record.
fn node(bytes: &[u8], at: usize, wide: bool, depth: usize) -> Result<Option<usize>, IoError> {
    if depth > MAX_DEPTH {
        return Err(invalid(format!("nodes are nested more than {MAX_DEPTH} deep")));
    }
    let word = if wide { 8 } else { 4 };
    let read = |o| if wide { read_u64(bytes, o) } else { read_u32(bytes, o) };
    let (end, props, props_len) = (read(at)?, read(at + word)?, read(at + 2 * word)?);
    let name_len = *bytes.get(at + 3 * word).ok_or_else(truncated)? as usize;
    let header = at + 3 * word + 1 + name_len;
    if end == 0 {
        return Ok(None);
    }
    let end = usize::try_from(end).map_err(|_| truncated())?;
    let props_end = (header as u64).checked_add(props_len).ok_or_else(truncated)?;
    if end > bytes.len() || end <= at || props_end > end as u64 {
        return Err(truncated());
    }
    let mut p = header;
    for _ in 0..props {
        p = property(bytes, p, props_end as usize)?;
    }
    let mut child = props_end as usize;
    while child < end {
        match node(bytes, child, wide, depth + 1)? {
            Some(next) => child = next,
            None => break,
        }
    }
    Ok(Some(end))
}

/// Checks one property at `at` (which must end by `limit`); returns the offset after it.
fn property(bytes: &[u8], at: usize, limit: usize) -> Result<usize, IoError> {
    let code = *bytes.get(at).ok_or_else(truncated)?;
    let body = at + 1;
    let end = match code {
        b'C' => body + 1,
        b'Y' => body + 2,
        b'I' | b'F' => body + 4,
        b'L' | b'D' => body + 8,
        b'S' | b'R' => body + 4 + read_u32(bytes, body)? as usize,
        b'f' | b'i' | b'd' | b'l' | b'b' => {
            let (count, encoding, stored) = (read_u32(bytes, body)?, read_u32(bytes, body + 4)?, read_u32(bytes, body + 8)?);
            let element = if matches!(code, b'd' | b'l') {
                8
            } else if code == b'b' {
                1
            } else {
                4
            };
            let size = count * element;
            let plausible = if encoding == 0 { size == stored } else { size <= stored.max(1) * MAX_INFLATE_RATIO };
            if !plausible {
                return Err(invalid(format!("an array claims {count} elements but stores {stored} bytes")));
            }
            body + 12 + stored as usize
        }
        other => return Err(invalid(format!("unknown property type {:?}", other as char))),
    };
    if end > limit {
        return Err(truncated());
    }
    Ok(end)
}
