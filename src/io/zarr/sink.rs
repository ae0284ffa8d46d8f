//! [`store_zarr`]: writes any array (a lazy array or any source) into a new Zarr v3 array
//! (optionally sharded) or a v2 array, buffer by buffer in bounded memory.
//!
//! The array is computed in buffers of whole stored chunks (shards, if sharded) of at most
//! [`ZarrStoreOptions::buffer_bytes`] ([`ChunkAlignedBuffers`]); each buffer's chunks are cut,
//! padded with the fill value to the full chunk shape, encoded by zarrs in parallel and written
//! as files. Chunks that hold only the fill value are not written (as zarr-python does). The
//! array is built in a temporary directory beside the destination and renamed into place at
//! the end: a failed store leaves no array.

use super::meta::{ZarrFormat, ZarrMeta};
use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::sink::temp::TempFile;
use crate::sink::{ChunkAlignedBuffers, RegionCompute};
use crate::source::{copy_overlap, ChunkGrid};
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zarrs::array::{Array, ArrayMetadata, CodecOptions};
use zarrs::filesystem::FilesystemStore;

/// Default bytes of one buffer.
pub(crate) const DEFAULT_BUFFER_BYTES: usize = 64 << 20;
/// Default bytes of a chunk (of an inner chunk, when sharded) when no chunk shape is given.
pub(crate) const DEFAULT_CHUNK_BYTES: usize = 1 << 20;

/// The compressor of a stored array.
#[derive(Clone, Debug, PartialEq)]
pub enum ZarrCodec {
    /// No compressor (`bytes` alone).
    None,
    /// Zstandard at a level (zarr-python's default compressor).
    Zstd(i32),
    /// gzip at a level (0 to 9).
    Gzip(u32),
    /// C-Blosc with a compressor name (`lz4`, `zstd`, `blosclz`, `zlib`, `lz4hc`, `snappy`), a
    /// level (0 to 9) and byte shuffle.
    Blosc {
        /// The compressor inside Blosc.
        cname: String,
        /// Its level.
        clevel: u32,
    },
}

impl ZarrCodec {
    /// Parses `zstd`, `zstd:LEVEL`, `gzip[:LEVEL]`, `blosc[:CNAME[:LEVEL]]` or `none`.
    pub fn parse(text: &str) -> Result<ZarrCodec> {
        let parts: Vec<&str> = text.split(':').collect();
        let bad = || {
            Error::Invalid(format!(
                "codec {text:?}: expected zstd[:LEVEL], gzip[:LEVEL], blosc[:CNAME[:LEVEL]] or none"
            ))
        };
        let level = |i: usize, default: i64, lo: i64, hi: i64| -> Result<i64> {
            match parts.get(i) {
                None => Ok(default),
                Some(t) => t
                    .parse::<i64>()
                    .ok()
                    .filter(|l| (lo..=hi).contains(l))
                    .ok_or_else(bad),
            }
        };
        match parts[0] {
            "none" if parts.len() == 1 => Ok(ZarrCodec::None),
            "zstd" if parts.len() <= 2 => Ok(ZarrCodec::Zstd(level(1, 3, -7, 22)? as i32)),
            "gzip" if parts.len() <= 2 => Ok(ZarrCodec::Gzip(level(1, 5, 0, 9)? as u32)),
            "blosc" if parts.len() <= 3 => {
                let cname = parts.get(1).copied().unwrap_or("lz4");
                if !["lz4", "lz4hc", "blosclz", "zstd", "zlib", "snappy"].contains(&cname) {
                    return Err(bad());
                }
                Ok(ZarrCodec::Blosc {
                    cname: cname.to_string(),
                    clevel: level(2, 5, 0, 9)? as u32,
                })
            }
            _ => Err(bad()),
        }
    }

    fn v3(&self, itemsize: usize) -> Option<Value> {
        match self {
            ZarrCodec::None => None,
            ZarrCodec::Zstd(l) => {
                Some(json!({"name": "zstd", "configuration": {"level": l, "checksum": false}}))
            }
            ZarrCodec::Gzip(l) => Some(json!({"name": "gzip", "configuration": {"level": l}})),
            ZarrCodec::Blosc { cname, clevel } => Some(json!({"name": "blosc", "configuration": {
                "cname": cname, "clevel": clevel, "shuffle": if itemsize > 1 { "shuffle" } else { "noshuffle" },
                "typesize": itemsize, "blocksize": 0}})),
        }
    }

    fn v2(&self, itemsize: usize) -> Value {
        match self {
            ZarrCodec::None => Value::Null,
            ZarrCodec::Zstd(l) => json!({"id": "zstd", "level": l}),
            ZarrCodec::Gzip(l) => json!({"id": "gzip", "level": l}),
            ZarrCodec::Blosc { cname, clevel } => json!({"id": "blosc", "cname": cname,
                "clevel": clevel, "shuffle": if itemsize > 1 { 1 } else { 0 }, "blocksize": 0}),
        }
    }
}

/// How [`store_zarr`] lays out the array.
#[derive(Clone, Debug)]
pub struct ZarrStoreOptions {
    /// v3 (default) or v2.
    pub format: ZarrFormat,
    /// The chunk shape (the inner chunk shape when sharded); default: about 1 MiB chunks.
    pub chunks: Option<Vec<usize>>,
    /// The shard shape (v3 only; each a multiple of the chunk shape); none: not sharded.
    pub shards: Option<Vec<usize>>,
    /// The compressor (default Zstandard level 3).
    pub codec: ZarrCodec,
    /// The fill value of chunks never written (default 0; cast to the element type).
    pub fill_value: f64,
    /// Attributes of the new array.
    pub attributes: Map<String, Value>,
    /// Bytes of one buffer (default 64 MiB; never less than one stored chunk).
    pub buffer_bytes: usize,
}

impl Default for ZarrStoreOptions {
    fn default() -> Self {
        ZarrStoreOptions {
            format: ZarrFormat::V3,
            chunks: None,
            shards: None,
            codec: ZarrCodec::Zstd(3),
            fill_value: 0.0,
            attributes: Map::new(),
            buffer_bytes: DEFAULT_BUFFER_BYTES,
        }
    }
}

/// What [`store_zarr`] wrote.
#[derive(Clone, Debug)]
pub struct ZarrStoreReport {
    /// The array's directory.
    pub path: PathBuf,
    /// Its metadata, as a reader sees it.
    pub meta: ZarrMeta,
    /// Buffers computed.
    pub buffers: usize,
    /// Stored chunks (shards) written; those holding only the fill value are not.
    pub chunks_written: usize,
}

/// The fill value in JSON for `dtype` (`NaN` and infinities as Zarr spells them).
fn fill_json(dtype: DType, v: f64) -> Result<Value> {
    if dtype == DType::Bool {
        return Ok(Value::Bool(v != 0.0));
    }
    if dtype.is_float() {
        return Ok(if v.is_nan() {
            json!("NaN")
        } else if v.is_infinite() {
            json!(if v > 0.0 { "Infinity" } else { "-Infinity" })
        } else {
            json!(v)
        });
    }
    if v.fract() != 0.0 || !v.is_finite() {
        return Err(Error::Invalid(format!(
            "fill value {v} is not an integer for a {dtype} array"
        )));
    }
    let back = crate::dispatch_dtype!(dtype, T => T::from_f64(v).to_f64());
    if back != v {
        return Err(Error::Invalid(format!(
            "fill value {v} does not fit a {dtype} array"
        )));
    }
    Ok(if dtype.is_signed_int() {
        json!(v as i64)
    } else {
        json!(v as u64)
    })
}

/// The metadata document of the new array.
fn document(
    shape: &[usize],
    dtype: DType,
    chunks: &[usize],
    options: &ZarrStoreOptions,
) -> Result<Value> {
    let fill = fill_json(dtype, options.fill_value)?;
    let size = dtype.size();
    match options.format {
        ZarrFormat::V2 => {
            if options.shards.is_some() {
                return Err(Error::Invalid(
                    "shards need Zarr v3: a v2 array cannot be sharded".into(),
                ));
            }
            Ok(
                json!({"zarr_format": 2, "shape": shape, "chunks": chunks, "dtype": crate::io::npy::descr(dtype),
                "compressor": options.codec.v2(size), "fill_value": fill, "order": "C",
                "filters": null, "dimension_separator": ".", "attributes": options.attributes}),
            )
        }
        ZarrFormat::V3 => {
            let bytes = json!({"name": "bytes", "configuration": {"endian": "little"}});
            let mut inner = vec![bytes.clone()];
            inner.extend(options.codec.v3(size));
            let (grid, codecs) = match &options.shards {
                None => (chunks.to_vec(), inner),
                Some(s) => {
                    let sharding = json!({"name": "sharding_indexed", "configuration": {
                        "chunk_shape": chunks, "codecs": inner,
                        "index_codecs": [bytes, {"name": "crc32c"}], "index_location": "end"}});
                    (s.clone(), vec![sharding])
                }
            };
            Ok(
                json!({"zarr_format": 3, "node_type": "array", "shape": shape,
                "data_type": dtype.name(),
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": grid}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": fill, "codecs": codecs, "attributes": options.attributes,
                "storage_transformers": []}),
            )
        }
    }
}

/// Writes `src` into a new Zarr array at directory `path` (see the module doc). An existing
/// Zarr array or group at `path` is replaced once the new one is complete; anything else there
/// is refused.
///
/// ```
/// use vastarray::{ChunkSource, MemorySource};
/// use vastarray::io::zarr::{store_zarr, ZarrStore, ZarrStoreOptions};
/// let a = ndarray::Array::from_shape_fn((30, 20), |(i, j)| (i * 20 + j) as i32).into_dyn();
/// let src = MemorySource::new(a, &[7, 20]).unwrap();
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.zarr");
/// let opts = ZarrStoreOptions { chunks: Some(vec![4, 5]), shards: Some(vec![8, 10]), ..Default::default() };
/// store_zarr(&src, &path, &opts).unwrap();
/// let back = ZarrStore::open_dir(&path).unwrap().array("/").unwrap();
/// assert_eq!(back.chunk_shape(), &[4, 5]);
/// assert_eq!(back.read_region(&[0..30, 0..20]).unwrap(), src.read_region(&[0..30, 0..20]).unwrap());
/// ```
pub fn store_zarr(
    src: &dyn RegionCompute,
    path: &Path,
    options: &ZarrStoreOptions,
) -> Result<ZarrStoreReport> {
    let shape = src.region_shape();
    let dtype = src.region_dtype();
    let chunks = match &options.chunks {
        Some(c) => c.clone(),
        None => crate::io::b2nd::default_blocks(&shape, dtype.size(), DEFAULT_CHUNK_BYTES),
    };
    let fits = |c: &[usize]| c.len() == shape.len() && !c.contains(&0);
    if !fits(&chunks) {
        return Err(Error::Shape(format!(
            "chunk shape {chunks:?} does not fit shape {shape:?}"
        )));
    }
    if let Some(s) = &options.shards {
        if !fits(s) || s.iter().zip(&chunks).any(|(s, c)| s % c != 0) {
            return Err(Error::Shape(format!(
                "shard shape {s:?} must have one entry per axis, each a multiple of the chunk shape {chunks:?}"
            )));
        }
    }
    let doc = document(&shape, dtype, &chunks, options)?;
    // The document is checked as a reader checks it: what is written can be read back.
    let meta = match options.format {
        ZarrFormat::V3 => ZarrMeta::from_v3(doc.clone()),
        ZarrFormat::V2 => ZarrMeta::from_v2(doc.clone(), Some(json!(options.attributes))),
    }
    .map_err(|m| Error::Invalid(format!("{}: {m}", path.display())))?;
    let stored = meta.chunks.clone();

    let (dest_kind, tmp) = prepare(path)?;
    let result = write(src, &tmp, &doc, &meta, &stored, options.buffer_bytes, path);
    let (buffers, chunks_written) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&*tmp);
            return Err(e);
        }
    };
    finish(path, &tmp, dest_kind)?;
    Ok(ZarrStoreReport {
        path: path.to_path_buf(),
        meta,
        buffers,
        chunks_written,
    })
}

/// What is at the destination before the store.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dest {
    Nothing,
    ZarrNode,
}

fn prepare(path: &Path) -> Result<(Dest, TempFile)> {
    let kind = match std::fs::symlink_metadata(path) {
        Err(_) => Dest::Nothing,
        Ok(m)
            if m.is_dir()
                && ["zarr.json", ".zarray", ".zgroup"]
                    .iter()
                    .any(|f| path.join(f).is_file()) =>
        {
            Dest::ZarrNode
        }
        Ok(_) => {
            return Err(Error::file(
                path,
                "exists and is not a Zarr array or group: not replaced",
            ))
        }
    };
    let tmp = TempFile::claim(path)?;
    std::fs::create_dir(&*tmp)
        .map_err(|e| Error::file(&*tmp, format!("cannot create the temporary array: {e}")))?;
    Ok((kind, tmp))
}

fn finish(path: &Path, tmp: &TempFile, kind: Dest) -> Result<()> {
    let place = |e: std::io::Error| {
        let _ = std::fs::remove_dir_all(&**tmp);
        Error::file(
            path,
            format!("cannot move the finished array into place: {e}"),
        )
    };
    if kind == Dest::ZarrNode {
        let old = TempFile::claim(path)?;
        std::fs::rename(path, &*old).map_err(place)?;
        if let Err(e) = std::fs::rename(&**tmp, path) {
            let _ = std::fs::rename(&*old, path);
            return Err(place(e));
        }
        let _ = std::fs::remove_dir_all(&*old);
    } else {
        std::fs::rename(&**tmp, path).map_err(place)?;
    }
    Ok(())
}

fn write(
    src: &dyn RegionCompute,
    tmp: &Path,
    doc: &Value,
    meta: &ZarrMeta,
    stored: &[usize],
    buffer_bytes: usize,
    path: &Path,
) -> Result<(usize, usize)> {
    let store = Arc::new(
        FilesystemStore::new(tmp)
            .map_err(|e| Error::file(tmp, format!("cannot create a Zarr store: {e}")))?,
    );
    let bad = |e: String| Error::file(path, e);
    let metadata = match meta.format {
        ZarrFormat::V3 => {
            ArrayMetadata::V3(serde_json::from_value(doc.clone()).map_err(|e| bad(e.to_string()))?)
        }
        ZarrFormat::V2 => {
            ArrayMetadata::V2(serde_json::from_value(doc.clone()).map_err(|e| bad(e.to_string()))?)
        }
    };
    let array = Array::new_with_metadata(store, "/", metadata).map_err(|e| bad(e.to_string()))?;
    let shape = meta.shape.clone();
    let dtype = meta.dtype;
    let grid = ChunkGrid::new(shape.clone(), stored.to_vec());
    let buffers = ChunkAlignedBuffers::new(&shape, stored, dtype.size(), buffer_bytes)?;
    let total = buffers.num_buffers();
    let options = CodecOptions::default().with_concurrent_target(1);
    let fill = fill_data(meta)?;
    let mut written = 0usize;
    let mut count = 0usize;
    for (k, region) in buffers.enumerate() {
        let fail = |e: Error| {
            Error::file(
                path,
                format!("buffer {} of {total} (region {region:?}): {e}", k + 1),
            )
        };
        let data = src.compute_checked(&region).map_err(fail)?;
        let ids = grid.chunks_in_box(&region);
        let stored_now: usize = ids
            .par_iter()
            .map(|idx| -> Result<usize> {
                let cbox = grid.chunk_box(idx);
                let full: Vec<Range<usize>> = cbox
                    .iter()
                    .zip(stored)
                    .map(|(r, c)| r.start..r.start + c)
                    .collect();
                let piece = padded(&data, &region, &full, &fill)?;
                let id: Vec<u64> = idx.iter().map(|&i| i as u64).collect();
                let is_fill = crate::with_nd!(&piece, a: T => {
                    let f = T::peek(&fill).and_then(|f| f.iter().next().copied());
                    f.is_some_and(|f| a.iter().all(|v| same_value(v, &f)))
                });
                crate::with_nd!(&piece, a: T => {
                    let v: Vec<T> = a.iter().copied().collect();
                    array
                        .store_chunk_opt(&id, v, &options)
                        .map_err(|e| Error::file(path, format!("chunk {idx:?}: {e}")))
                })?;
                Ok(usize::from(!is_fill))
            })
            .try_reduce(|| 0, |a, b| Ok(a + b))
            .map_err(fail)?;
        written += stored_now;
        count += 1;
    }
    let no_stamp = zarrs::array::ArrayMetadataOptions::default().with_include_zarrs_metadata(false);
    array
        .store_metadata_opt(&no_stamp)
        .map_err(|e| bad(format!("cannot write the metadata: {e}")))?;
    Ok((count, written))
}

/// A one-element array holding the fill value (for padding edge chunks).
fn fill_data(meta: &ZarrMeta) -> Result<NdData> {
    let one = |d: NdData| d.cast(meta.dtype);
    // 64-bit integers beyond 2^53 do not pass through f64 exactly.
    if let Value::Number(n) = &meta.fill_value {
        match (meta.dtype, n.as_u64(), n.as_i64()) {
            (DType::U64, Some(u), _) => return Ok(one(NdData::from(elem(u)))),
            (DType::I64, _, Some(i)) => return Ok(one(NdData::from(elem(i)))),
            _ => {}
        }
    }
    let v = match &meta.fill_value {
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        other => return Err(Error::Internal(format!("fill value {other}"))),
    };
    Ok(one(NdData::from(elem(v))))
}

/// A one-element array of `v`.
fn elem<T: Clone>(v: T) -> ndarray::ArrayD<T> {
    ndarray::ArrayD::from_elem(ndarray::IxDyn(&[1]), v)
}

/// True when `a` is `b`, NaN counting as equal to NaN.
#[allow(clippy::eq_op)] // `x != x` is the NaN test for any element type
fn same_value<T: PartialEq>(a: &T, b: &T) -> bool {
    a == b || (a != a && b != b)
}

/// The full chunk `full` (array coordinates, may reach past the array's edge) cut from `data`
/// (covering `region`), the part outside the array holding the fill value.
fn padded(
    data: &NdData,
    region: &[Range<usize>],
    full: &[Range<usize>],
    fill: &NdData,
) -> Result<NdData> {
    let shape: Vec<usize> = full.iter().map(|r| r.end - r.start).collect();
    let mut out = crate::with_nd!(fill, f: T => {
        let v = f.iter().next().copied().unwrap_or_default();
        T::wrap(ndarray::ArrayD::from_elem(ndarray::IxDyn(&shape), v))
    });
    copy_overlap(data, region, &mut out, full)?;
    Ok(out)
}
