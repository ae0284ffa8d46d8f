//! [`Caterva2Info`]: the geometry of a dataset, parsed from the JSON of `GET api/info/{path}`.

use crate::dtype::DType;
use crate::io::b2nd::{parse_numpy_dtype, B2ndMeta, ChunkLayout};
use crate::source::ChunkGrid;
use serde::Deserialize;

/// What `api/info` says about an n-dimensional Blosc2 array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caterva2Info {
    /// The array's shape.
    pub shape: Vec<usize>,
    /// The chunk shape.
    pub chunks: Vec<usize>,
    /// The block shape (the unit Blosc2 compresses inside a chunk).
    pub blocks: Vec<usize>,
    /// The element type.
    pub dtype: DType,
    /// The element type as the server wrote it (a numpy string such as `"uint16"`).
    pub dtype_name: String,
    /// The number of chunks the server's super-chunk holds, when it says.
    pub nchunks: Option<usize>,
    /// The modification time the server reports, when it does.
    pub mtime: Option<String>,
}

#[derive(Deserialize)]
struct RawInfo {
    shape: Option<Vec<usize>>,
    chunks: Option<Vec<usize>>,
    blocks: Option<Vec<usize>>,
    dtype: Option<serde_json::Value>,
    schunk: Option<RawSchunk>,
    mtime: Option<serde_json::Value>,
    nfiles: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawSchunk {
    nchunks: Option<usize>,
}

impl Caterva2Info {
    /// Parses the body of an `api/info` answer. The error says what is missing or unsupported
    /// (a directory, a plain file, a structured or complex element type, inconsistent shapes);
    /// the caller adds the URL.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let raw: RawInfo = serde_json::from_slice(body)
            .map_err(|e| format!("the info is not the JSON object expected: {e}"))?;
        if raw.nfiles.is_some() && raw.shape.is_none() {
            return Err("this is a directory, not an array".into());
        }
        let (Some(shape), Some(chunks), Some(blocks)) = (raw.shape, raw.chunks, raw.blocks) else {
            return Err("not an n-dimensional Blosc2 array (no shape, chunks and blocks)".into());
        };
        let dtype_name = match raw.dtype {
            Some(serde_json::Value::String(s)) => s,
            Some(other) => return Err(format!("unsupported element type {other}")),
            None => return Err("the info gives no dtype".into()),
        };
        let dtype = parse_numpy_dtype(&dtype_name).map_err(|e| e.to_string())?;
        if shape.len() != chunks.len() || shape.len() != blocks.len() {
            return Err(format!(
                "shape {shape:?}, chunks {chunks:?} and blocks {blocks:?} differ in length"
            ));
        }
        if shape.is_empty() {
            return Err("zero-dimensional arrays are not supported".into());
        }
        // Geometry checked with checked arithmetic before anything is sized by it: a claimed
        // shape of 2^62 rows is refused here, not when a per-chunk table is allocated.
        let expected = B2ndMeta {
            shape: shape.clone(),
            chunks: chunks.clone(),
            blocks: blocks.clone(),
            dtype,
        }
        .validate()
        .map_err(|e| e.to_string())?;
        let nchunks = raw.schunk.and_then(|s| s.nchunks);
        let info = Caterva2Info {
            shape,
            chunks,
            blocks,
            dtype,
            dtype_name,
            nchunks,
            mtime: raw.mtime.map(|m| match m {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            }),
        };
        if let Some(n) = nchunks {
            if n != expected && !info.shape.contains(&0) {
                return Err(format!(
                    "the server holds {n} chunks, but shape {:?} in chunks {:?} makes {expected}",
                    info.shape, info.chunks
                ));
            }
        }
        Ok(info)
    }

    /// The chunk grid.
    pub fn grid(&self) -> ChunkGrid {
        ChunkGrid::new(self.shape.clone(), self.chunks.clone())
    }

    /// The block layout of one chunk.
    pub fn layout(&self) -> crate::error::Result<ChunkLayout> {
        ChunkLayout::new(&self.chunks, &self.blocks, self.dtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let body = br#"{"shape":[7,9],"chunks":[4,5],"blocks":[2,3],"dtype":"int16",
            "schunk":{"nchunks":4,"cparams":{}},"mtime":"2026-01-01T00:00:00Z"}"#;
        let info = Caterva2Info::parse(body).unwrap();
        assert_eq!(info.shape, vec![7, 9]);
        assert_eq!(info.dtype, DType::I16);
        assert_eq!(info.nchunks, Some(4));
        assert_eq!(info.mtime.as_deref(), Some("2026-01-01T00:00:00Z"));
        for (bad, why) in [
            (&br#"{"mtime":1.0,"size":3,"nfiles":1}"#[..], "directory"),
            (br#"{"shape":[3],"chunks":[2]}"#, "no shape"),
            (br#"{"shape":[3],"chunks":[2],"blocks":[1],"dtype":"complex64"}"#, "complex64"),
            (br#"{"shape":[3],"chunks":[2],"blocks":[1],"dtype":[["a","<i4"]]}"#, "unsupported"),
            (br#"{"shape":[3,1],"chunks":[2],"blocks":[1],"dtype":"uint8"}"#, "length"),
            (br#"{"shape":[3],"chunks":[2],"blocks":[4],"dtype":"uint8"}"#, "larger"),
            (br#"{"shape":[5],"chunks":[2],"blocks":[1],"dtype":"uint8","schunk":{"nchunks":2}}"#, "makes 3"),
            (b"<html>", "JSON"),
            (br#"{"shape":[4611686018427387904,60,70],"chunks":[1,60,70],"blocks":[1,60,70],"dtype":"uint8"}"#, "too large"),
            (br#"{"shape":[4611686018427387904],"chunks":[1],"blocks":[1],"dtype":"uint8"}"#, "chunks"),
            (br#"{"shape":[10],"chunks":[0],"blocks":[1],"dtype":"uint8"}"#, "zero"),
            (br#"{"shape":[10],"chunks":[3000000000],"blocks":[1],"dtype":"uint8"}"#, "2 GiB"),
            (br#"{"shape":[10],"chunks":[5],"blocks":[5],"dtype":"uint8","schunk":{"nchunks":99}}"#, "makes 2"),
        ] {
            let e = Caterva2Info::parse(bad).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }
}
