//! [`ZarrMeta`]: a Zarr array's metadata (`zarr.json` of v3, `.zarray` of v2) read and checked
//! before zarrs sees it: shape, chunk and shard sizes in checked arithmetic, the data type, and
//! a codec chain made only of the codecs this module reads and guards ([`ChainCheck`]).

use crate::dtype::DType;
use serde_json::{Map, Value};

/// The most bytes a metadata document may take.
pub(super) const MAX_METADATA_BYTES: u64 = 16 << 20;
/// The most bytes one decoded chunk (or inner chunk of a shard) may take.
pub(super) const MAX_CHUNK_BYTES: u64 = 1 << 30;
/// The most inner chunks one shard may hold (its index is 16 bytes per inner chunk).
pub(super) const MAX_INNER_CHUNKS: u64 = 1 << 20;
/// The most axes an array may have.
pub(super) const MAX_NDIM: usize = 32;

/// Which Zarr format a node is stored in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZarrFormat {
    /// Zarr v2 (`.zarray`, `.zgroup`, `.zattrs`).
    V2,
    /// Zarr v3 (`zarr.json`).
    V3,
}

/// A compressor whose encoded header is checked against the size it must decode to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compressor {
    /// Zstandard (frame header: content size).
    Zstd,
    /// gzip (decoded with a limit before zarrs decodes it).
    Gzip,
    /// C-Blosc (header: uncompressed and compressed sizes).
    Blosc,
}

impl Compressor {
    /// The codec's name in metadata.
    pub fn name(self) -> &'static str {
        match self {
            Compressor::Zstd => "zstd",
            Compressor::Gzip => "gzip",
            Compressor::Blosc => "blosc",
        }
    }
}

/// What the bytes of one stored chunk must look like, checked before zarrs decodes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainCheck {
    /// Bytes of the decoded chunk (elements x item size).
    pub decoded_bytes: u64,
    /// The compressor, if any, with the number of `crc32c` checksums stored after its output
    /// (4 bytes each, stripped before its header is read) and the bytes it decodes to.
    pub compressor: Option<(Compressor, usize, u64)>,
}

/// A sharded array's layout: inner chunks and the shard index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardLayout {
    /// The inner chunk shape.
    pub inner_chunks: Vec<usize>,
    /// Inner chunks per shard.
    pub inner_per_shard: u64,
    /// Bytes of the encoded index (16 per inner chunk, 4 more with `crc32c`).
    pub index_bytes: u64,
    /// True when the index is at the start of the shard (default: the end).
    pub index_at_start: bool,
    /// What an inner chunk's bytes must look like.
    pub inner: ChainCheck,
}

/// A Zarr array's metadata, checked.
#[derive(Clone, Debug)]
pub struct ZarrMeta {
    /// v2 or v3.
    pub format: ZarrFormat,
    /// The array's shape.
    pub shape: Vec<usize>,
    /// The chunk shape of the stored grid (the shard shape of a sharded array).
    pub chunks: Vec<usize>,
    /// The element type.
    pub dtype: DType,
    /// The data type as the metadata spells it (`float32`, `<f4`).
    pub dtype_name: String,
    /// The fill value as the metadata spells it.
    pub fill_value: Value,
    /// The codec names, outermost last (`bytes`, `zstd`; a v2 array's compressor and order).
    pub codecs: Vec<String>,
    /// Sharding, if the array is sharded.
    pub shards: Option<ShardLayout>,
    /// What an unsharded chunk's bytes must look like.
    pub chunk_check: ChainCheck,
    /// v2 memory order (`C` or `F`); `C` for v3.
    pub order: char,
    /// The user attributes.
    pub attributes: Map<String, Value>,
    /// The metadata document as parsed (v2 attributes merged in), for zarrs.
    pub document: Value,
}

impl ZarrMeta {
    /// The chunk grid a source exposes: the inner chunks of a sharded array, else the chunks.
    pub fn read_chunks(&self) -> &[usize] {
        match &self.shards {
            Some(s) => &s.inner_chunks,
            None => &self.chunks,
        }
    }

    /// Parses and checks a v3 `zarr.json` of an array.
    pub fn from_v3(doc: Value) -> Result<ZarrMeta, String> {
        let obj = doc.as_object().ok_or("zarr.json is not a JSON object")?;
        match obj.get("zarr_format") {
            Some(v) if v.as_u64() == Some(3) => {}
            other => return Err(format!("zarr_format is {other:?}, expected 3")),
        }
        match obj.get("node_type").and_then(Value::as_str) {
            Some("array") => {}
            Some(t) => return Err(format!("node_type is {t:?}, not an array")),
            None => return Err("node_type is missing".into()),
        }
        let shape = dims(obj.get("shape"), "shape", false)?;
        let dtype_name = obj
            .get("data_type")
            .and_then(Value::as_str)
            .ok_or("data_type is missing or not a string")?
            .to_string();
        let dtype = v3_dtype(&dtype_name)?;
        let grid = obj.get("chunk_grid").ok_or("chunk_grid is missing")?;
        if grid.get("name").and_then(Value::as_str) != Some("regular") {
            return Err(format!(
                "chunk_grid {}: only the regular chunk grid is supported",
                grid.get("name").unwrap_or(&Value::Null)
            ));
        }
        let chunks = dims(
            grid.pointer("/configuration/chunk_shape"),
            "chunk_grid.configuration.chunk_shape",
            true,
        )?;
        if chunks.len() != shape.len() {
            return Err(format!(
                "chunk shape {chunks:?} has {} axes, shape {shape:?} has {}",
                chunks.len(),
                shape.len()
            ));
        }
        if let Some(t) = obj.get("storage_transformers") {
            if !t.as_array().is_some_and(|a| a.is_empty()) {
                return Err(format!("storage transformers are not supported: {t}"));
            }
        }
        let codecs = obj
            .get("codecs")
            .and_then(Value::as_array)
            .ok_or("codecs is missing or not a list")?;
        let chain = chain(codecs, &chunks, dtype.size() as u64, true)?;
        let fill_value = obj.get("fill_value").cloned().unwrap_or(Value::Null);
        if fill_value.is_null() {
            return Err("fill_value is missing".into());
        }
        let attributes = match obj.get("attributes") {
            None => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err("attributes is not a JSON object".into()),
        };
        Ok(ZarrMeta {
            format: ZarrFormat::V3,
            shape,
            chunks,
            dtype,
            dtype_name,
            fill_value,
            codecs: chain.names,
            shards: chain.shards,
            chunk_check: chain.check,
            order: 'C',
            attributes,
            document: doc,
        })
    }

    /// Parses and checks a v2 `.zarray` (with the `.zattrs` document, if any).
    pub fn from_v2(mut doc: Value, attrs: Option<Value>) -> Result<ZarrMeta, String> {
        let obj = doc.as_object().ok_or(".zarray is not a JSON object")?;
        match obj.get("zarr_format") {
            Some(v) if v.as_u64() == Some(2) => {}
            other => return Err(format!("zarr_format is {other:?}, expected 2")),
        }
        let shape = dims(obj.get("shape"), "shape", false)?;
        let chunks = dims(obj.get("chunks"), "chunks", true)?;
        if chunks.len() != shape.len() {
            return Err(format!(
                "chunks {chunks:?} has {} axes, shape {shape:?} has {}",
                chunks.len(),
                shape.len()
            ));
        }
        let dtype_name = obj
            .get("dtype")
            .and_then(Value::as_str)
            .ok_or("dtype is missing or not a string (structured dtypes are not supported)")?
            .to_string();
        let dtype = v2_dtype(&dtype_name)?;
        let order = match obj.get("order").and_then(Value::as_str) {
            Some("C") => 'C',
            Some("F") => 'F',
            other => return Err(format!("order is {other:?}, expected \"C\" or \"F\"")),
        };
        match obj.get("filters") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) if a.is_empty() => {}
            Some(f) => return Err(format!("v2 filters are not supported: {f}")),
        }
        let decoded = chunk_bytes(&chunks, dtype.size() as u64)?;
        let mut names = Vec::new();
        if order == 'F' {
            names.push("transpose".to_string());
        }
        names.push("bytes".to_string());
        let compressor = match obj.get("compressor") {
            None | Some(Value::Null) => None,
            Some(c) => {
                let id = c
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or("compressor has no id")?;
                names.push(id.to_string());
                Some((compressor_named(id)?, 0, decoded))
            }
        };
        let fill_value = obj.get("fill_value").cloned().unwrap_or(Value::Null);
        let attributes = match attrs {
            None => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(".zattrs is not a JSON object".into()),
        };
        if let Some(o) = doc.as_object_mut() {
            o.insert("attributes".into(), Value::Object(attributes.clone()));
        }
        Ok(ZarrMeta {
            format: ZarrFormat::V2,
            shape,
            chunks,
            dtype,
            dtype_name,
            fill_value,
            codecs: names,
            shards: None,
            chunk_check: ChainCheck {
                decoded_bytes: decoded,
                compressor,
            },
            order,
            attributes,
            document: doc,
        })
    }
}

/// Names of the v3 data types read, with their element type.
const V3_DTYPES: [(&str, DType); 11] = [
    ("bool", DType::Bool),
    ("int8", DType::I8),
    ("int16", DType::I16),
    ("int32", DType::I32),
    ("int64", DType::I64),
    ("uint8", DType::U8),
    ("uint16", DType::U16),
    ("uint32", DType::U32),
    ("uint64", DType::U64),
    ("float32", DType::F32),
    ("float64", DType::F64),
];

fn v3_dtype(name: &str) -> Result<DType, String> {
    V3_DTYPES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
        .ok_or_else(|| {
            let names: Vec<&str> = V3_DTYPES.iter().map(|(n, _)| *n).collect();
            format!(
                "data type {name:?} is not supported (supported: {})",
                names.join(", ")
            )
        })
}

fn v2_dtype(name: &str) -> Result<DType, String> {
    let body = name.trim_start_matches(['<', '>', '|', '=']);
    let d = match body {
        "b1" => DType::Bool,
        "i1" => DType::I8,
        "i2" => DType::I16,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "u1" => DType::U8,
        "u2" => DType::U16,
        "u4" => DType::U32,
        "u8" => DType::U64,
        "f4" => DType::F32,
        "f8" => DType::F64,
        _ => {
            return Err(format!(
                "data type {name:?} is not supported (supported: b1, i1-i8, u1-u8, f4, f8)"
            ))
        }
    };
    Ok(d)
}

fn compressor_named(id: &str) -> Result<Compressor, String> {
    match id {
        "zstd" => Ok(Compressor::Zstd),
        "gzip" => Ok(Compressor::Gzip),
        "blosc" => Ok(Compressor::Blosc),
        _ => Err(format!(
            "codec {id:?} is not supported (supported: bytes, transpose, sharding_indexed, zstd, gzip, blosc, crc32c)"
        )),
    }
}

/// A list of axis lengths; `positive` refuses zeros (chunk shapes).
fn dims(v: Option<&Value>, what: &str, positive: bool) -> Result<Vec<usize>, String> {
    let list = v
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{what} is missing or not a list"))?;
    if list.len() > MAX_NDIM {
        return Err(format!(
            "{what} has {} axes, at most {MAX_NDIM} are supported",
            list.len()
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for x in list {
        let n = x
            .as_u64()
            .ok_or_else(|| format!("{what}: {x} is not a non-negative integer"))?;
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= isize::MAX as usize)
            .ok_or_else(|| format!("{what}: {n} is too large"))?;
        if positive && n == 0 {
            return Err(format!("{what}: a chunk extent of 0"));
        }
        out.push(n);
    }
    // The number of elements must fit in 64 bits (zarrs computes with u64).
    out.iter()
        .try_fold(1u64, |acc, &n| acc.checked_mul(n as u64))
        .ok_or_else(|| format!("{what} {out:?}: too many elements"))?;
    Ok(out)
}

/// Bytes of one decoded chunk of `chunks`, at most [`MAX_CHUNK_BYTES`].
fn chunk_bytes(chunks: &[usize], itemsize: u64) -> Result<u64, String> {
    chunks
        .iter()
        .try_fold(itemsize, |acc, &n| acc.checked_mul(n as u64))
        .filter(|b| *b <= MAX_CHUNK_BYTES)
        .ok_or_else(|| {
            format!(
                "a chunk of shape {chunks:?} takes more than {} MiB decoded",
                MAX_CHUNK_BYTES >> 20
            )
        })
}

struct Chain {
    names: Vec<String>,
    check: ChainCheck,
    shards: Option<ShardLayout>,
}

/// The name of codec `c` of a v3 codec list (a string or an object with a `name`).
pub(super) fn codec_name(c: &Value) -> Result<&str, String> {
    match c {
        Value::String(s) => Ok(s),
        Value::Object(o) => o
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("codec {c} has no name")),
        _ => Err(format!("codec {c} is not an object")),
    }
}

/// Checks a v3 codec chain over chunks of `chunks` (at most one sharding level).
fn chain(
    codecs: &[Value],
    chunks: &[usize],
    itemsize: u64,
    allow_sharding: bool,
) -> Result<Chain, String> {
    let mut names = Vec::new();
    let mut seen_a2b = false;
    let mut shards = None;
    let mut crc_before = 0u64; // crc32c codecs between the array-to-bytes codec and the compressor
    let mut compressor: Option<Compressor> = None;
    let mut crc_after = 0usize;
    for c in codecs {
        let name = codec_name(c)?;
        names.push(name.to_string());
        match name {
            "transpose" => {
                if seen_a2b {
                    return Err("transpose after an array-to-bytes codec".into());
                }
            }
            "bytes" => {
                if seen_a2b {
                    return Err("two array-to-bytes codecs".into());
                }
                seen_a2b = true;
            }
            "sharding_indexed" => {
                if seen_a2b {
                    return Err("two array-to-bytes codecs".into());
                }
                if !allow_sharding {
                    return Err("sharding inside a shard is not supported".into());
                }
                if names.len() > 1 {
                    return Err("codecs before sharding_indexed are not supported".into());
                }
                seen_a2b = true;
                shards = Some(shard_layout(c, chunks, itemsize)?);
            }
            "crc32c" => {
                if !seen_a2b {
                    return Err("crc32c before an array-to-bytes codec".into());
                }
                if compressor.is_some() {
                    crc_after += 1;
                } else {
                    crc_before += 1;
                }
            }
            _ => {
                let k = compressor_named(name)?;
                if !seen_a2b {
                    return Err(format!("{name} before an array-to-bytes codec"));
                }
                if compressor.is_some() {
                    return Err("more than one compressor in a codec chain is not supported".into());
                }
                compressor = Some(k);
            }
        }
    }
    if !seen_a2b {
        return Err("the codecs name no array-to-bytes codec (bytes or sharding_indexed)".into());
    }
    let decoded = if shards.is_some() {
        0
    } else {
        chunk_bytes(chunks, itemsize)?
    };
    Ok(Chain {
        names,
        check: ChainCheck {
            decoded_bytes: decoded,
            compressor: compressor.map(|k| (k, crc_after, decoded + 4 * crc_before)),
        },
        shards,
    })
}

fn shard_layout(c: &Value, shard: &[usize], itemsize: u64) -> Result<ShardLayout, String> {
    let conf = c
        .get("configuration")
        .ok_or("sharding_indexed has no configuration")?;
    let inner = dims(
        conf.get("chunk_shape"),
        "sharding_indexed chunk_shape",
        true,
    )?;
    if inner.len() != shard.len() || inner.iter().zip(shard).any(|(i, s)| s % i != 0) {
        return Err(format!(
            "inner chunk shape {inner:?} does not divide the shard shape {shard:?}"
        ));
    }
    let n = shard
        .iter()
        .zip(&inner)
        .try_fold(1u64, |acc, (s, i)| acc.checked_mul((s / i) as u64))
        .filter(|n| *n <= MAX_INNER_CHUNKS)
        .ok_or_else(|| {
            format!("shards {shard:?} of inner chunks {inner:?}: more than {MAX_INNER_CHUNKS} inner chunks per shard")
        })?;
    let codecs = conf
        .get("codecs")
        .and_then(Value::as_array)
        .ok_or("sharding_indexed codecs is missing")?;
    let inner_chain = chain(codecs, &inner, itemsize, false)?;
    let index_codecs = conf
        .get("index_codecs")
        .and_then(Value::as_array)
        .ok_or("sharding_indexed index_codecs is missing")?;
    let index_names: Vec<&str> = index_codecs
        .iter()
        .map(codec_name)
        .collect::<Result<_, _>>()?;
    let little = index_codecs
        .first()
        .and_then(|b| b.pointer("/configuration/endian"))
        .and_then(Value::as_str)
        .is_none_or(|e| e == "little");
    let index_bytes = match index_names.as_slice() {
        ["bytes"] if little => 16 * n,
        ["bytes", "crc32c"] if little => 16 * n + 4,
        _ => {
            return Err(format!(
                "shard index codecs {index_names:?}: only bytes (little endian) with an optional crc32c are supported"
            ))
        }
    };
    let index_at_start = match conf.get("index_location").and_then(Value::as_str) {
        None | Some("end") => false,
        Some("start") => true,
        Some(o) => return Err(format!("index_location {o:?}")),
    };
    Ok(ShardLayout {
        inner_chunks: inner,
        inner_per_shard: n,
        index_bytes,
        index_at_start,
        inner: inner_chain.check,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v3(codecs: Value) -> Value {
        json!({"zarr_format": 3, "node_type": "array", "shape": [10, 10], "data_type": "float32",
               "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4, 4]}},
               "chunk_key_encoding": {"name": "default"}, "fill_value": 0, "codecs": codecs})
    }

    #[test]
    fn chains_checked() {
        let m = ZarrMeta::from_v3(v3(json!([{"name": "bytes"}, {"name": "zstd"}]))).unwrap();
        assert_eq!(
            m.chunk_check.compressor,
            Some((Compressor::Zstd, 0, 4 * 4 * 4))
        );
        let m = ZarrMeta::from_v3(v3(json!([{"name": "bytes"}, {"name": "crc32c"},
            {"name": "gzip"}, {"name": "crc32c"}])))
        .unwrap();
        assert_eq!(
            m.chunk_check.compressor,
            Some((Compressor::Gzip, 1, 64 + 4))
        );
        for bad in [
            json!([{"name": "zstd"}]),
            json!([{"name": "bytes"}, {"name": "zstd"}, {"name": "gzip"}]),
            json!([{"name": "bytes"}, {"name": "lz4"}]),
            json!([]),
        ] {
            assert!(ZarrMeta::from_v3(v3(bad.clone())).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_checked() {
        let mut d = v3(json!([{"name": "bytes"}]));
        d["chunk_grid"]["configuration"]["chunk_shape"] = json!([1 << 20, 1 << 20]);
        assert!(ZarrMeta::from_v3(d).unwrap_err().contains("MiB"));
        let mut d = v3(json!([{"name": "bytes"}]));
        d["shape"] = json!([u64::MAX, 3]);
        assert!(ZarrMeta::from_v3(d).is_err());
        let mut d = v3(json!([{"name": "bytes"}]));
        d["data_type"] = json!("complex64");
        assert!(ZarrMeta::from_v3(d).unwrap_err().contains("complex64"));
    }
}
