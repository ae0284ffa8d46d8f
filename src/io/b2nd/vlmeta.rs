//! Variable-length metadata of `.b2nd` files (the trailer's vlmetalayers), with values msgpack-encoded
//! as python-blosc2 encodes them, so `array.schunk.vlmeta[name]` reads them in Python.

use super::chunk::decompress_into;
use super::chunk_header::ChunkHeader;
use super::file::{B2ndFile, FrameUpdate};
use crate::error::{Error, Result};

/// A msgpack value of the two kinds vastarray stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VlValue {
    /// A byte string (msgpack `bin`; Python `bytes`).
    Bytes(Vec<u8>),
    /// A text string (msgpack `str`; Python `str`).
    Text(String),
}

impl VlValue {
    /// The msgpack encoding.
    pub fn pack(&self) -> Vec<u8> {
        let (data, small, codes): (&[u8], Option<u8>, [u8; 3]) = match self {
            VlValue::Bytes(b) => (b, None, [0xc4, 0xc5, 0xc6]),
            VlValue::Text(s) => (s.as_bytes(), Some(0xa0), [0xd9, 0xda, 0xdb]),
        };
        let n = data.len();
        let mut out = Vec::with_capacity(n + 5);
        match (small, n) {
            (Some(base), n) if n < 32 => out.push(base | n as u8),
            (_, n) if n < 256 => out.extend([codes[0], n as u8]),
            (_, n) if n < 65536 => {
                out.push(codes[1]);
                out.extend((n as u16).to_be_bytes());
            }
            (_, n) => {
                out.push(codes[2]);
                out.extend((n as u32).to_be_bytes());
            }
        }
        out.extend_from_slice(data);
        out
    }

    /// Decodes a msgpack `bin` or `str`; `None` for anything else or a malformed value.
    pub fn unpack(raw: &[u8]) -> Option<VlValue> {
        let (&tag, rest) = raw.split_first()?;
        let be = |k: usize| -> Option<usize> {
            Some(
                rest.get(..k)?
                    .iter()
                    .fold(0usize, |a, &b| a << 8 | b as usize),
            )
        };
        let (text, len, skip): (bool, usize, usize) = match tag {
            0xa0..=0xbf => (true, (tag & 0x1f) as usize, 0),
            0xd9 => (true, be(1)?, 1),
            0xda => (true, be(2)?, 2),
            0xdb => (true, be(4)?, 4),
            0xc4 => (false, be(1)?, 1),
            0xc5 => (false, be(2)?, 2),
            0xc6 => (false, be(4)?, 4),
            _ => return None,
        };
        let data = rest.get(skip..skip.checked_add(len)?)?;
        if text {
            String::from_utf8(data.to_vec()).ok().map(VlValue::Text)
        } else {
            Some(VlValue::Bytes(data.to_vec()))
        }
    }
}

/// Largest metadata value vastarray decompresses.
const MAX_VLMETA_BYTES: usize = 64 << 20;

impl B2ndFile {
    /// The raw content of variable-length metadata `name`, if present. The stored value is a
    /// Blosc2 chunk; it is checked and decompressed here.
    pub fn vlmeta_raw(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(stored) = self.vlmeta_stored(name) else {
            return Ok(None);
        };
        let bad = |m: String| Error::file(self.path(), format!("metadata {name:?}: {m}"));
        let h = ChunkHeader::parse(stored).map_err(bad)?;
        if h.nbytes > MAX_VLMETA_BYTES {
            return Err(bad(format!(
                "{} bytes, more than vastarray reads",
                h.nbytes
            )));
        }
        let mut out = vec![0u8; h.nbytes];
        decompress_into(stored, &mut out, None).map_err(|e| bad(e.to_string()))?;
        Ok(Some(out))
    }

    /// Sets variable-length metadata `name` to raw bytes (adding or replacing it), as one
    /// transaction.
    pub fn set_vlmeta_raw(&mut self, name: &str, content: &[u8]) -> Result<()> {
        self.commit(
            &FrameUpdate {
                vlmeta: vec![(name, content)],
                ..FrameUpdate::default()
            },
            None,
        )
        .map(|_| ())
    }

    /// Variable-length metadata `name` decoded as python-blosc2 stores values (msgpack).
    /// `Ok(None)` when absent; an error when present but not a msgpack string or bytes.
    pub fn vlmeta(&self, name: &str) -> Result<Option<VlValue>> {
        match self.vlmeta_raw(name)? {
            None => Ok(None),
            Some(raw) => VlValue::unpack(&raw).map(Some).ok_or_else(|| {
                Error::file(
                    self.path(),
                    format!("metadata {name:?} is not a msgpack string or bytes"),
                )
            }),
        }
    }

    /// Sets variable-length metadata `name` to a msgpack-encoded value.
    pub fn set_vlmeta(&mut self, name: &str, value: &VlValue) -> Result<()> {
        self.set_vlmeta_raw(name, &value.pack())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msgpack_round_trip() {
        for n in [0usize, 5, 31, 32, 255, 256, 70000] {
            let b = VlValue::Bytes(vec![7; n]);
            assert_eq!(VlValue::unpack(&b.pack()), Some(b));
            let s = VlValue::Text("x".repeat(n));
            assert_eq!(VlValue::unpack(&s.pack()), Some(s));
        }
        assert_eq!(VlValue::unpack(&[0xc4, 10, 1]), None);
        assert_eq!(VlValue::unpack(&[]), None);
    }
}
