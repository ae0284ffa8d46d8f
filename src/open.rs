//! [`open`]: a source named by text, as the command takes it, opened as a lazy [`DynArray`].
//!
//! - `FILE.npy`: a `.npy` file, read region by region ([`crate::io::npy::NpySource`]);
//! - `FILE.b2nd`: a Blosc2 n-dimensional array file ([`crate::io::b2nd::B2ndSource`]);
//! - `FILE.h5:/group/dataset` (also `.hdf5`, `.he5` and netCDF-4 `.nc`, `.nc4`; the leading
//!   `/` may be left out, as in `era.nc:tas`): an HDF5 dataset, CF-decoded and with netCDF's
//!   length for unlimited dimensions ([`CfSource`]; [`OpenOptions::raw`] keeps stored values);
//! - `c2+http://HOST:PORT/@ROOT/PATH` (or `c2+https`): a dataset on a Caterva2 server
//!   ([`Caterva2Source`]), optionally behind a persistent cache file ([`OpenOptions::cache`]);
//! - `PATH.zarr` or `PATH.zarr:/group/array` (a directory holding `zarr.json`, `.zarray` or
//!   `.zgroup`), and `http(s)://HOST:PORT/PATH.zarr[:/group/array]`: a Zarr v2 or v3 array
//!   ([`crate::io::zarr::ZarrSource`]; remote ones optionally behind a cache file).
//!
//! Each spelling but `.npy` needs the Cargo feature of its format (`b2nd`, `hdf5`, `caterva2`,
//! all on by default); in a build without it the spelling is still recognised, and opening it
//! is an [`Error::Invalid`] that names the feature.
//!
//! Every file is checked before anything opens it ([`crate::source::path_check`]): a named
//! pipe, a socket or a device is refused by name instead of blocking.

use crate::error::{Error, Result};
use crate::http::HttpConfig;
#[cfg(feature = "b2nd")]
use crate::io::b2nd::{B2ndFile, B2ndSource};
#[cfg(feature = "caterva2")]
use crate::io::caterva2::{parse_c2_url, Caterva2Client, Caterva2Source, Credentials};
#[cfg(feature = "hdf5")]
use crate::io::hdf5::{CfSource, Hdf5DatasetInfo, Hdf5Options, NetcdfVariable};
use crate::io::npy::{NpyHeader, NpySource};
#[cfg(any(feature = "zarr", feature = "caterva2"))]
use crate::proxy::Proxy;
#[cfg(any(feature = "hdf5", feature = "b2nd", feature = "caterva2"))]
use crate::source::path_check::{check_path, PathKind};
use crate::{ChunkSource, DynArray};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Opens the source `spec` names (see the module's list) with default options.
///
/// ```
/// # fn main() -> vastarray::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("a.npy");
/// let a = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[4, 3]), |ix| (ix[0] * 3 + ix[1]) as f64);
/// let src = vastarray::MemorySource::new(a, &[2, 3])?;
/// vastarray::io::npy::store_npy(&src, &path, &Default::default())?;
/// let x = vastarray::open(path.to_str().unwrap())?;
/// assert_eq!(x.shape(), &[4, 3]);
/// let col = x.select_str(":, 1")?.ndarray()?.into_typed::<f64>()?;
/// assert_eq!(col.as_slice().unwrap(), &[1.0, 4.0, 7.0, 10.0]);
/// # Ok(())
/// # }
/// ```
pub fn open(spec: &str) -> Result<DynArray> {
    open_with(spec, &OpenOptions::default())
}

/// Opens the source `spec` names with `options`.
pub fn open_with(spec: &str, options: &OpenOptions) -> Result<DynArray> {
    Ok(open_spec(&SourceSpec::parse(spec)?, options)?.array)
}

/// How [`open_with`] opens a source.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// A persistent cache (a `.b2nd` file, created if missing) in front of a remote source.
    pub cache: Option<PathBuf>,
    /// Timeouts, retries and limits of HTTP requests.
    pub http: HttpConfig,
    /// Read an HDF5 dataset a vastarray store did not finish (its unwritten chunks read as the
    /// fill value).
    pub allow_incomplete: bool,
    /// HDF5 / netCDF-4 datasets: the stored values, not CF-decoded (no masking of
    /// `_FillValue`, `missing_value` and the valid range, no `scale_factor`/`add_offset`).
    pub raw: bool,
    /// A remote Zarr array behind a cache: ask the server for its metadata when opening, and
    /// check the cache's stamp against it. Off (the default), a cache that recorded the
    /// array's metadata opens without a request, and the server's metadata is checked only
    /// before the first chunk the cache lacks is read.
    pub revalidate: bool,
    /// A login for a Caterva2 server (none: public roots only).
    #[cfg(feature = "caterva2")]
    pub credentials: Option<Credentials>,
}

/// What a source's text names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceSpec {
    /// A `.npy` file.
    Npy(PathBuf),
    /// A `.b2nd` file.
    B2nd(PathBuf),
    /// An HDF5 file, and a dataset in it (none: the file as a whole, which cannot be opened as
    /// one array).
    Hdf5 {
        /// The file.
        file: PathBuf,
        /// The dataset's path (`/group/data`).
        dataset: Option<String>,
    },
    /// A dataset on a Caterva2 server.
    Caterva2 {
        /// `http://HOST:PORT/`
        server: String,
        /// `@ROOT/PATH`
        path: String,
    },
    /// A node of a Zarr hierarchy (a `.zarr` directory, or one under an `http(s)://` URL).
    Zarr {
        /// The directory or URL of the hierarchy (ending in `.zarr`).
        location: String,
        /// The node in it: `/` (the root) or `/group/array`.
        node: String,
    },
}

/// Splits `PATH.zarr[:/group/array]` (also an `http(s)://` URL) into the hierarchy and the
/// node (`/` when none is named); `None` when the text names no `.zarr`.
pub fn split_zarr(text: &str) -> Option<(String, String)> {
    let lower = text.to_ascii_lowercase();
    if let Some(i) = lower.find(".zarr:") {
        let mut node = text[i + 6..].to_string();
        if !node.starts_with('/') {
            node.insert(0, '/');
        }
        return Some((text[..i + 5].to_string(), node));
    }
    let trimmed = lower.trim_end_matches('/');
    if trimmed.ends_with(".zarr") {
        return Some((text[..trimmed.len()].to_string(), "/".into()));
    }
    None
}

/// Extensions of HDF5 files (netCDF-4 files are HDF5 files).
const HDF5_EXTENSIONS: [&str; 5] = [".h5", ".hdf5", ".he5", ".nc", ".nc4"];

const KINDS: &str =
    "FILE.npy, FILE.b2nd, FILE.h5:/group/dataset (.hdf5, .nc), DIR.zarr[:/group/array] (also http://HOST:PORT/PATH.zarr) or c2+http://HOST:PORT/ROOT/PATH.b2nd";

/// Splits `FILE.h5:/path` into the file and the dataset (`None` when the text names no HDF5
/// file; a dataset of `None` when it names the file alone). The dataset gets a leading `/`.
pub fn split_hdf5(text: &str) -> Option<(PathBuf, Option<String>)> {
    let lower = text.to_ascii_lowercase();
    for ext in HDF5_EXTENSIONS {
        if lower.ends_with(ext) {
            return Some((PathBuf::from(text), None));
        }
        let marker = format!("{ext}:");
        if let Some(i) = lower.find(&marker) {
            let file = &text[..i + ext.len()];
            let mut ds = text[i + marker.len()..].to_string();
            if !ds.starts_with('/') {
                ds.insert(0, '/');
            }
            return Some((PathBuf::from(file), Some(ds)));
        }
    }
    None
}

impl SourceSpec {
    /// Parses a source's text; an unknown kind is an [`Error::Invalid`] listing the kinds.
    pub fn parse(text: &str) -> Result<SourceSpec> {
        #[cfg(not(feature = "caterva2"))]
        if text.starts_with("c2+") {
            return Err(feature_off(text, "a Caterva2 source", "caterva2"));
        }
        #[cfg(feature = "caterva2")]
        if text.starts_with("c2+") {
            let (server, path) = parse_c2_url(text).map_err(|e| {
                Error::Invalid(format!(
                    "{text:?}: {e}; a Caterva2 source is c2+http://HOST:PORT/@ROOT/PATH, as in c2+http://localhost:8000/@public/data.b2nd"
                ))
            })?;
            return Ok(SourceSpec::Caterva2 { server, path });
        }
        if let Some((location, node)) = split_zarr(text) {
            return Ok(SourceSpec::Zarr { location, node });
        }
        if let Some((file, dataset)) = split_hdf5(text) {
            return Ok(SourceSpec::Hdf5 { file, dataset });
        }
        let lower = text.to_ascii_lowercase();
        if lower.ends_with(".npy") {
            return Ok(SourceSpec::Npy(PathBuf::from(text)));
        }
        if lower.ends_with(".b2nd") {
            return Ok(SourceSpec::B2nd(PathBuf::from(text)));
        }
        Err(Error::Invalid(format!(
            "cannot tell what kind of source {text:?} is: expected {KINDS}"
        )))
    }

    /// True for sources on a server.
    pub fn is_remote(&self) -> bool {
        match self {
            SourceSpec::Caterva2 { .. } => true,
            SourceSpec::Zarr { location, .. } => is_url(location),
            _ => false,
        }
    }

    /// The local file the source is read from (none for a server).
    pub fn file(&self) -> Option<&Path> {
        match self {
            SourceSpec::Npy(p) | SourceSpec::B2nd(p) => Some(p),
            SourceSpec::Hdf5 { file, .. } => Some(file),
            SourceSpec::Caterva2 { .. } => None,
            SourceSpec::Zarr { location, .. } if !is_url(location) => Some(Path::new(location)),
            SourceSpec::Zarr { .. } => None,
        }
    }
}

fn is_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// An opened source: the lazy array, the source behind it, and what its format says.
pub struct Opened {
    /// The source as a lazy array.
    pub array: DynArray,
    /// The source itself (the cache in front of it, if any).
    pub source: Arc<dyn ChunkSource>,
    /// What the format says about it.
    pub details: SourceDetails,
}

/// What a source's format says about it (what `vastarray info` prints).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum SourceDetails {
    /// A `.npy` file.
    Npy {
        /// Its header.
        header: NpyHeader,
        /// Bytes of the file.
        stored_bytes: Option<u64>,
    },
    /// A `.b2nd` file.
    B2nd {
        /// The block shape inside each chunk.
        blocks: Vec<usize>,
        /// The codec of its first chunk holding data (`zstd`, `lz4`, ..., `none`).
        codec: String,
        /// Bytes of the file.
        stored_bytes: Option<u64>,
    },
    /// An HDF5 dataset.
    #[cfg(feature = "hdf5")]
    Hdf5 {
        /// Layout, filters and attributes.
        info: Hdf5DatasetInfo,
        /// Bytes the dataset's data takes in the file.
        stored_bytes: Option<u64>,
        /// Dimensions, coordinate ranges, units, long name and the CF decoding applied.
        variable: Box<NetcdfVariable>,
    },
    /// A Caterva2 dataset.
    Caterva2 {
        /// The dataset's URL.
        url: String,
        /// The block shape inside each chunk.
        blocks: Vec<usize>,
        /// The element type as the server names it.
        server_dtype: String,
        /// The cache file in front of it and the chunks it held when opened.
        cache: Option<(PathBuf, usize)>,
    },
    /// A Zarr array.
    #[cfg(feature = "zarr")]
    Zarr {
        /// Its checked metadata (format, stored chunks or shards, codecs, fill value,
        /// attributes).
        meta: Box<crate::io::zarr::ZarrMeta>,
        /// The cache file in front of a remote one and the chunks it held when opened.
        cache: Option<(PathBuf, usize)>,
    },
}

/// Opens a parsed source with `options`.
pub fn open_spec(spec: &SourceSpec, options: &OpenOptions) -> Result<Opened> {
    if options.cache.is_some() && !spec.is_remote() {
        return Err(Error::Invalid(
            "a cache goes in front of a remote (c2+http://, http://...zarr) source; this source is a local file"
                .into(),
        ));
    }
    let (source, details): (Arc<dyn ChunkSource>, SourceDetails) = match spec {
        SourceSpec::Npy(path) => {
            let src = NpySource::open(path)?;
            let details = SourceDetails::Npy {
                header: src.header().clone(),
                stored_bytes: std::fs::metadata(path).map(|m| m.len()).ok(),
            };
            (Arc::new(src), details)
        }
        #[cfg(not(feature = "b2nd"))]
        SourceSpec::B2nd(path) => {
            return Err(feature_off(
                &path.display().to_string(),
                "a .b2nd file",
                "b2nd",
            ))
        }
        #[cfg(feature = "b2nd")]
        SourceSpec::B2nd(path) => {
            check_path(path, "a .b2nd file", PathKind::File)?;
            let src = B2ndSource::open(path)?;
            let details = SourceDetails::B2nd {
                blocks: src.block_shape().to_vec(),
                codec: b2nd_codec(&src),
                stored_bytes: std::fs::metadata(path).map(|m| m.len()).ok(),
            };
            (Arc::new(src), details)
        }
        #[cfg(not(feature = "hdf5"))]
        SourceSpec::Hdf5 { file, .. } => {
            return Err(feature_off(
                &file.display().to_string(),
                "an HDF5 file",
                "hdf5",
            ))
        }
        #[cfg(feature = "hdf5")]
        SourceSpec::Hdf5 { file, dataset } => {
            let Some(dataset) = dataset else {
                return Err(Error::Invalid(format!(
                    "{}: name a dataset in the file, as in {}:/group/dataset (`vastarray info {}` lists them)",
                    file.display(),
                    file.display(),
                    file.display()
                )));
            };
            check_path(file, "an HDF5 file", PathKind::File)?;
            let h5 = Hdf5Options {
                allow_incomplete: options.allow_incomplete,
                ..Hdf5Options::default()
            };
            let src = CfSource::open_with(file, dataset, &h5, options.raw)?;
            let stored_bytes = hdf5::File::open(file)
                .and_then(|f| f.dataset(dataset))
                .map(|d| d.storage_size())
                .ok();
            let details = SourceDetails::Hdf5 {
                info: src.hdf5().info().clone(),
                stored_bytes,
                variable: Box::new(src.variable_with_coordinates()),
            };
            (Arc::new(src), details)
        }
        #[cfg(not(feature = "caterva2"))]
        SourceSpec::Caterva2 { server, path } => {
            return Err(feature_off(
                &format!("{server}{path}"),
                "a Caterva2 source",
                "caterva2",
            ))
        }
        #[cfg(feature = "caterva2")]
        SourceSpec::Caterva2 { server, path } => open_caterva2(server, path, options)?,
        SourceSpec::Zarr { location, node } => open_zarr(location, node, options)?,
    };
    Ok(Opened {
        array: DynArray::from_source_arc(source.clone()),
        source,
        details,
    })
}

/// The error for a source whose format this build leaves out.
#[cfg(not(all(
    feature = "hdf5",
    feature = "b2nd",
    feature = "caterva2",
    feature = "zarr"
)))]
fn feature_off(text: &str, kind: &str, feature: &str) -> Error {
    Error::Invalid(format!(
        "{text}: reading {kind} needs vastarray's `{feature}` feature, which this build leaves out"
    ))
}

#[cfg(not(feature = "zarr"))]
fn open_zarr(
    location: &str,
    _node: &str,
    _options: &OpenOptions,
) -> Result<(Arc<dyn ChunkSource>, SourceDetails)> {
    Err(feature_off(location, "Zarr arrays", "zarr"))
}

#[cfg(feature = "zarr")]
fn open_zarr(
    location: &str,
    node: &str,
    options: &OpenOptions,
) -> Result<(Arc<dyn ChunkSource>, SourceDetails)> {
    use crate::io::zarr::ZarrStore;
    let store = if is_url(location) {
        if let Some(file) = &options.cache {
            check_cache_path(file)?;
        }
        ZarrStore::open_http(location, options.http.clone())?
    } else {
        ZarrStore::open_dir(Path::new(location))?
    };
    if let (Some(file), false) = (&options.cache, options.revalidate) {
        if let Some(src) = zarr_from_cache(&store, node, file) {
            let meta = Box::new(src.meta().clone());
            let (source, cache) = behind_cache(Arc::new(src), options, None)?;
            return Ok((source, SourceDetails::Zarr { meta, cache }));
        }
    }
    let src = store.array(node)?;
    let meta = Box::new(src.meta().clone());
    let record = src.cache_record();
    let remote: Arc<dyn ChunkSource> = Arc::new(src);
    let (source, cache) = behind_cache(remote, options, Some(record))?;
    Ok((source, SourceDetails::Zarr { meta, cache }))
}

/// The array at `node` opened from the metadata cache file `file` recorded, without a request
/// (`None` when the file records none, or not of this array: the caller opens it from the
/// server). Before the first chunk the cache lacks, the server's metadata is read again and
/// must give the recorded stamp: a changed array is an error, never chunks of two versions.
#[cfg(feature = "zarr")]
fn zarr_from_cache(
    store: &crate::io::zarr::ZarrStore,
    node: &str,
    file: &Path,
) -> Option<crate::io::zarr::ZarrSource> {
    let cached = crate::proxy::cached_source(file).ok()??;
    let record = cached.metadata.as_deref()?;
    let src = store
        .array_from_record(node, record, &cached.stamp)
        .ok()??;
    let (store, node, file) = (store.clone(), node.to_string(), file.to_path_buf());
    let check = move || -> Result<()> {
        let now = store.current_stamp(&node)?;
        if now.as_deref() == Some(cached.stamp.as_str()) {
            return Ok(());
        }
        Err(Error::Cache {
            path: file.clone(),
            message: format!(
                "{} changed since the cache was filled (the cache's stamp is {:?}, the array's is now {:?}): its chunks would mix two versions of the array; delete the cache file, or give another one, to read the current array",
                store.node_name(&node),
                cached.stamp,
                now.unwrap_or_default()
            ),
        })
    };
    Some(src.with_first_read_check(Box::new(check)))
}

/// A cache is a `.b2nd` file; a missing one is created, an existing one must be a regular file.
#[cfg(any(feature = "zarr", feature = "caterva2"))]
fn check_cache_path(file: &Path) -> Result<()> {
    if !file
        .to_string_lossy()
        .to_ascii_lowercase()
        .ends_with(".b2nd")
    {
        return Err(Error::Invalid(format!(
            "cache {}: the cache is a .b2nd file",
            file.display()
        )));
    }
    if file.symlink_metadata().is_ok() {
        check_path(file, "a .b2nd cache file", PathKind::File)?;
    }
    Ok(())
}

/// A cache file and the chunks it holds.
#[cfg(any(feature = "zarr", feature = "caterva2"))]
type CacheHeld = (PathBuf, usize);

/// `remote` behind the caching proxy when `options` name a cache file, with that file and the
/// chunks it already holds (what `info` shows); `remote` itself otherwise.
#[cfg(any(feature = "zarr", feature = "caterva2"))]
fn behind_cache(
    remote: Arc<dyn ChunkSource>,
    options: &OpenOptions,
    source_metadata: Option<String>,
) -> Result<(Arc<dyn ChunkSource>, Option<CacheHeld>)> {
    let Some(file) = &options.cache else {
        return Ok((remote, None));
    };
    let mut builder = Proxy::builder(remote).cache_file(file);
    if let Some(text) = source_metadata {
        builder = builder.source_metadata(text);
    }
    let proxy = builder.open()?;
    let held = proxy.chunks_in_file();
    Ok((Arc::new(proxy), Some((file.clone(), held))))
}

#[cfg(feature = "caterva2")]
fn open_caterva2(
    server: &str,
    path: &str,
    options: &OpenOptions,
) -> Result<(Arc<dyn ChunkSource>, SourceDetails)> {
    if let Some(file) = &options.cache {
        check_cache_path(file)?;
    }
    let client = Caterva2Client::new(server, options.credentials.clone(), options.http.clone())?;
    let src = Caterva2Source::with_client(Arc::new(client), path)?;
    let url = format!("{server}{path}");
    let blocks = src.block_shape().to_vec();
    let server_dtype = src.info().dtype_name.clone();
    let remote: Arc<dyn ChunkSource> = Arc::new(src);
    let (source, cache) = behind_cache(remote, options, None)?;
    let details = SourceDetails::Caterva2 {
        url,
        blocks,
        server_dtype,
        cache,
    };
    Ok((source, details))
}

/// The codec of a `.b2nd` file, from the header of its first chunk holding data: bits 5 to 7
/// of the Blosc2 header's flags byte give the compressor format, bit 1 says the chunk was
/// stored without compression.
#[cfg(feature = "b2nd")]
fn b2nd_codec(src: &B2ndSource) -> String {
    let Ok(file) = B2ndFile::open(src.path()) else {
        return "unknown".into();
    };
    let n = src.grid().num_chunks();
    for i in 0..n {
        if file.chunk_is_special(i).unwrap_or(true) {
            continue;
        }
        let Ok(raw) = file.chunk_bytes(i) else {
            break;
        };
        let Some(&flags) = raw.get(2) else { break };
        if flags & 0x02 != 0 {
            return "none".into();
        }
        return match (flags >> 5) & 0x07 {
            0 => "blosclz",
            1 => "lz4",
            3 => "zlib",
            4 => "zstd",
            _ => "other",
        }
        .into();
    }
    "unknown (no chunk holds data)".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_source() {
        assert_eq!(
            SourceSpec::parse("a/b.npy").unwrap(),
            SourceSpec::Npy("a/b.npy".into())
        );
        assert_eq!(
            SourceSpec::parse("x.h5:/g/d").unwrap(),
            SourceSpec::Hdf5 {
                file: "x.h5".into(),
                dataset: Some("/g/d".into())
            }
        );
        assert_eq!(
            SourceSpec::parse("dir.h5/x.nc:temp").unwrap(),
            SourceSpec::Hdf5 {
                file: "dir.h5/x.nc".into(),
                dataset: Some("/temp".into())
            }
        );
        assert_eq!(
            SourceSpec::parse("x.hdf5").unwrap(),
            SourceSpec::Hdf5 {
                file: "x.hdf5".into(),
                dataset: None
            }
        );
        #[cfg(feature = "caterva2")]
        assert_eq!(
            SourceSpec::parse("c2+http://localhost:8000/@public/a.b2nd").unwrap(),
            SourceSpec::Caterva2 {
                server: "http://localhost:8000/".into(),
                path: "@public/a.b2nd".into()
            }
        );
        assert_eq!(
            SourceSpec::parse("d/x.zarr:g/a").unwrap(),
            SourceSpec::Zarr {
                location: "d/x.zarr".into(),
                node: "/g/a".into()
            }
        );
        let url = SourceSpec::parse("http://127.0.0.1:80/a/x.zarr/").unwrap();
        assert_eq!(
            url,
            SourceSpec::Zarr {
                location: "http://127.0.0.1:80/a/x.zarr".into(),
                node: "/".into()
            }
        );
        assert!(url.is_remote() && url.file().is_none());
        assert!(matches!(
            SourceSpec::parse("data.csv"),
            Err(Error::Invalid(_))
        ));
    }

    /// A build without a format still knows its spellings, and says which feature is missing.
    #[test]
    #[cfg(not(all(feature = "hdf5", feature = "b2nd", feature = "caterva2")))]
    fn spellings_whose_feature_is_off_name_the_feature() {
        let cases = [
            ("x.h5:/g/d", "x.h5: ", "hdf5", cfg!(feature = "hdf5")),
            ("data.b2nd", "data.b2nd: ", "b2nd", cfg!(feature = "b2nd")),
            (
                "c2+http://localhost:8000/@public/a.b2nd",
                "c2+http://localhost:8000/@public/a.b2nd: ",
                "caterva2",
                cfg!(feature = "caterva2"),
            ),
        ];
        for (text, names, feature, on) in cases {
            if on {
                continue;
            }
            match open(text) {
                Err(Error::Invalid(m)) => {
                    assert!(m.contains(&format!("`{feature}` feature")), "{text}: {m}");
                    assert!(m.starts_with(names), "{text}: {m}");
                }
                Err(e) => panic!("{text}: {e}"),
                Ok(_) => panic!("{text} opened without its feature"),
            }
        }
    }
}
