//! What a SOURCE or DEST argument names, and opening it.
//!
//! - `FILE.npy`: a `.npy` file, read region by region ([`crate::source::npy::NpySource`]);
//! - `FILE.b2nd`: a Blosc2 n-dimensional array file;
//! - `FILE.h5:/group/dataset` (also `.hdf5`, `.he5`, `.nc`): an HDF5 dataset; the file alone
//!   (for `info`) lists its groups and datasets;
//! - `c2+http://HOST:PORT/ROOT/PATH.b2nd` (or `c2+https`): a dataset on a Caterva2 server.
//!
//! Every file is checked before anything opens it ([`crate::source::path_check`]): a named
//! pipe, a socket or a device is refused by name instead of blocking the command.

use super::error::CliError;
use super::settings::Settings;
use crate::blosc::B2ndFile;
use crate::proxy::Proxy;
use crate::source::caterva2::{parse_c2_url, Caterva2Client, Caterva2Source, Credentials};
use crate::source::hdf5::{Hdf5File, Hdf5Options, Hdf5Source, PipelineFilter};
use crate::source::npy::NpySource;
use crate::source::path_check::{check_path, PathKind};
use crate::source::B2ndSource;
use crate::{ChunkSource, DynArray};
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Extensions of HDF5 files.
const HDF5_EXTENSIONS: [&str; 4] = [".h5", ".hdf5", ".he5", ".nc"];

/// What a SOURCE argument names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceSpec {
    /// A `.npy` file.
    Npy(PathBuf),
    /// A `.b2nd` file.
    B2nd(PathBuf),
    /// An HDF5 file, and a dataset in it (none: the file as a whole).
    Hdf5 {
        /// The file.
        file: PathBuf,
        /// The dataset's path (`/group/data`).
        dataset: Option<String>,
    },
    /// A dataset on a Caterva2 server: the server's URL and the dataset's path (`@public/x.b2nd`).
    Caterva2 {
        /// `http://HOST:PORT/`
        server: String,
        /// `ROOT/PATH`
        path: String,
    },
}

/// Splits `FILE.h5:/path` into the file and the dataset (`None` when the text is not HDF5).
fn split_hdf5(text: &str) -> Option<(PathBuf, Option<String>)> {
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

const KINDS: &str =
    "FILE.npy, FILE.b2nd, FILE.h5:/group/dataset (.hdf5, .nc) or c2+http://HOST:PORT/ROOT/PATH.b2nd";

impl SourceSpec {
    /// Parses a SOURCE argument.
    pub fn parse(text: &str) -> Result<SourceSpec, CliError> {
        if text.starts_with("c2+") {
            let (server, path) = parse_c2_url(text).map_err(|e| {
                CliError::Usage(format!(
                    "{text:?}: {e}; a Caterva2 source is c2+http://HOST:PORT/@ROOT/PATH, as in c2+http://localhost:8000/@public/data.b2nd"
                ))
            })?;
            return Ok(SourceSpec::Caterva2 { server, path });
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
        Err(CliError::Usage(format!(
            "cannot tell what kind of source {text:?} is: expected {KINDS}"
        )))
    }

    /// True for sources on a server.
    pub fn is_remote(&self) -> bool {
        matches!(self, SourceSpec::Caterva2 { .. })
    }
}

/// An opened source.
pub struct Opened {
    /// The source as a lazy array.
    pub array: DynArray,
    /// The source itself.
    pub source: Arc<dyn ChunkSource>,
    /// Facts for `info`: format, codec, stored size, format-specific entries.
    pub facts: serde_json::Map<String, Json>,
}

/// Opens a source (`cache`: a persistent cache file in front of a remote source; `settings`:
/// the HTTP configuration and `--allow-incomplete`).
pub fn open(
    spec: &SourceSpec,
    cache: Option<&Path>,
    settings: &Settings,
) -> Result<Opened, CliError> {
    if cache.is_some() && !spec.is_remote() {
        return Err(CliError::Usage(
            "--cache puts a cache in front of a remote (c2+http://) source; this source is a local file".into(),
        ));
    }
    match spec {
        SourceSpec::Npy(path) => open_npy(path),
        SourceSpec::B2nd(path) => open_b2nd(path),
        SourceSpec::Hdf5 { file, dataset } => match dataset {
            Some(ds) => open_hdf5(file, ds, settings.allow_incomplete),
            None => Err(CliError::Usage(format!(
                "{}: name a dataset in the file, as in {}:/group/dataset (`vastarray info {}` lists them)",
                file.display(),
                file.display(),
                file.display()
            ))),
        },
        SourceSpec::Caterva2 { server, path } => open_caterva2(server, path, cache, settings),
    }
}

/// Checks that an HDF5 file is a regular file before the library opens it (a named pipe would
/// block it).
pub fn check_hdf5_file(file: &Path) -> Result<(), CliError> {
    check_path(file, "an HDF5 file", PathKind::File)?;
    Ok(())
}

/// Checks a `--cache` file before a proxy opens it: an existing one must be a regular file (a
/// missing one is created).
pub fn check_cache_file(file: &Path) -> Result<(), CliError> {
    if file.symlink_metadata().is_ok() {
        check_path(file, "a .b2nd cache file", PathKind::File)?;
    }
    Ok(())
}

fn open_npy(path: &Path) -> Result<Opened, CliError> {
    let src = NpySource::open(path)?;
    let h = src.header().clone();
    let stored = std::fs::metadata(path).map(|m| m.len()).ok();
    let mut facts = serde_json::Map::new();
    facts.insert("format".into(), json!("npy"));
    facts.insert("codec".into(), json!("none"));
    facts.insert("filters".into(), json!([]));
    facts.insert("stored_bytes".into(), json!(stored));
    facts.insert(
        "npy_version".into(),
        json!(format!("{}.{}", h.version.0, h.version.1)),
    );
    facts.insert("descr".into(), json!(h.descr));
    facts.insert("fortran_order".into(), json!(h.fortran_order));
    let source: Arc<dyn ChunkSource> = Arc::new(src);
    Ok(Opened {
        array: DynArray::from_source_arc(source.clone()),
        source,
        facts,
    })
}

fn open_b2nd(path: &Path) -> Result<Opened, CliError> {
    check_path(path, "a .b2nd file", PathKind::File)?;
    let src = B2ndSource::open(path)?;
    let mut facts = serde_json::Map::new();
    facts.insert("format".into(), json!("b2nd"));
    facts.insert("codec".into(), json!(b2nd_codec(&src)));
    facts.insert("blocks".into(), json!(src.block_shape()));
    facts.insert(
        "stored_bytes".into(),
        json!(std::fs::metadata(path).map(|m| m.len()).ok()),
    );
    let source: Arc<dyn ChunkSource> = Arc::new(src);
    Ok(Opened {
        array: DynArray::from_source_arc(source.clone()),
        source,
        facts,
    })
}

/// The codec of a `.b2nd` file, from the header of its first chunk holding data: bits 5 to 7
/// of the Blosc2 header's flags byte give the compressor format, bit 1 says the chunk was
/// stored without compression.
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

fn open_hdf5(file: &Path, dataset: &str, allow_incomplete: bool) -> Result<Opened, CliError> {
    check_hdf5_file(file)?;
    if !allow_incomplete {
        // The library's own refusal speaks to Rust users; this one to users of the command.
        let h5 = Hdf5File::open(file)?;
        if let Ok(info) = h5.dataset_info(dataset) {
            if info.vastarray_complete() == Some(false) {
                return Err(CliError::Runtime(format!(
                    "{}: dataset {dataset} is incomplete: a vastarray store into it did not finish, so some of its chunks may never have been written (they read as the fill value); add --allow-incomplete to read it anyway",
                    file.display()
                )));
            }
        }
    }
    let options = Hdf5Options {
        allow_incomplete,
        ..Hdf5Options::default()
    };
    let src = Hdf5Source::open_with(file, dataset, &options)?;
    let info = src.info().clone();
    let mut facts = serde_json::Map::new();
    facts.insert("format".into(), json!("hdf5"));
    facts.insert("dataset".into(), json!(info.path));
    facts.insert(
        "layout".into(),
        json!(format!("{:?}", info.layout).to_lowercase()),
    );
    let filters: Vec<String> = info.filters.iter().map(|f| f.to_string()).collect();
    let codec = info
        .filters
        .iter()
        .find_map(|f| match f {
            PipelineFilter::Deflate(_) => Some("deflate".to_string()),
            PipelineFilter::Other { name, .. } => Some(name.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "none".into());
    facts.insert("codec".into(), json!(codec));
    facts.insert("filters".into(), json!(filters));
    let stored = hdf5::File::open(file)
        .and_then(|f| f.dataset(dataset))
        .map(|d| d.storage_size())
        .ok();
    facts.insert("stored_bytes".into(), json!(stored));
    if !info.attributes.is_empty() {
        let names: Vec<&String> = info.attributes.keys().collect();
        facts.insert("attributes".into(), json!(names));
    }
    let source: Arc<dyn ChunkSource> = Arc::new(src);
    Ok(Opened {
        array: DynArray::from_source_arc(source.clone()),
        source,
        facts,
    })
}

/// Environment variables holding Caterva2 credentials (never written anywhere).
pub const C2_USER_ENV: &str = "VASTARRAY_C2_USER";
/// See [`C2_USER_ENV`].
pub const C2_PASSWORD_ENV: &str = "VASTARRAY_C2_PASSWORD";

fn open_caterva2(
    server: &str,
    path: &str,
    cache: Option<&Path>,
    settings: &Settings,
) -> Result<Opened, CliError> {
    let credentials = match (std::env::var(C2_USER_ENV), std::env::var(C2_PASSWORD_ENV)) {
        (Ok(u), Ok(p)) => Some(Credentials::new(u, p)),
        _ => None,
    };
    if let Some(file) = cache {
        check_cache_file(file)?;
    }
    let client = Caterva2Client::new(server, credentials, settings.http.clone())?;
    let src = Caterva2Source::with_client(Arc::new(client), path)?;
    let mut facts = serde_json::Map::new();
    facts.insert("format".into(), json!("caterva2"));
    facts.insert("url".into(), json!(format!("{server}{path}")));
    facts.insert("blocks".into(), json!(src.block_shape()));
    facts.insert("server_dtype".into(), json!(src.info().dtype_name));
    let remote: Arc<dyn ChunkSource> = Arc::new(src);
    let source: Arc<dyn ChunkSource> = match cache {
        None => remote,
        Some(file) => {
            if !file
                .to_string_lossy()
                .to_ascii_lowercase()
                .ends_with(".b2nd")
            {
                return Err(CliError::Usage(format!(
                    "--cache {}: the cache is a .b2nd file",
                    file.display()
                )));
            }
            let proxy = Proxy::builder(remote).cache_file(file).open()?;
            facts.insert("cache".into(), json!(file.display().to_string()));
            facts.insert("cached_chunks".into(), json!(proxy.chunks_in_file()));
            Arc::new(proxy)
        }
    };
    Ok(Opened {
        array: DynArray::from_source_arc(source.clone()),
        source,
        facts,
    })
}

/// Where a result is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestSpec {
    /// A `.npy` file.
    Npy(PathBuf),
    /// A `.b2nd` file.
    B2nd(PathBuf),
    /// A dataset in an HDF5 file.
    Hdf5 {
        /// The file.
        file: PathBuf,
        /// The dataset's path.
        dataset: String,
    },
}

impl DestSpec {
    /// Parses a DEST argument.
    pub fn parse(text: &str) -> Result<DestSpec, CliError> {
        if let Some((file, dataset)) = split_hdf5(text) {
            let dataset = dataset.filter(|d| d.len() > 1).ok_or_else(|| {
                CliError::Usage(format!(
                    "{text:?}: name the dataset to write, as in {text}:/result"
                ))
            })?;
            return Ok(DestSpec::Hdf5 { file, dataset });
        }
        let lower = text.to_ascii_lowercase();
        if lower.ends_with(".npy") {
            return Ok(DestSpec::Npy(PathBuf::from(text)));
        }
        if lower.ends_with(".b2nd") {
            return Ok(DestSpec::B2nd(PathBuf::from(text)));
        }
        Err(CliError::Usage(format!(
            "cannot tell what kind of file to write for {text:?}: expected FILE.npy, FILE.b2nd or FILE.h5:/path"
        )))
    }

    /// The file written.
    pub fn file(&self) -> &Path {
        match self {
            DestSpec::Npy(p) | DestSpec::B2nd(p) => p,
            DestSpec::Hdf5 { file, .. } => file,
        }
    }

    /// The destination as written.
    pub fn display(&self) -> String {
        match self {
            DestSpec::Hdf5 { file, dataset } => format!("{}:{dataset}", file.display()),
            other => other.file().display().to_string(),
        }
    }
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
        assert_eq!(
            SourceSpec::parse("c2+http://localhost:8000/@public/a.b2nd").unwrap(),
            SourceSpec::Caterva2 {
                server: "http://localhost:8000/".into(),
                path: "@public/a.b2nd".into()
            }
        );
        assert!(SourceSpec::parse("data.csv").is_err());
        assert!(DestSpec::parse("out.h5").is_err());
        assert_eq!(
            DestSpec::parse("out.h5:/r").unwrap(),
            DestSpec::Hdf5 {
                file: "out.h5".into(),
                dataset: "/r".into()
            }
        );
    }
}
