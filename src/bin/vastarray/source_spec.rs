//! What a SOURCE or DEST argument names, and opening it (with [`vastarray::open_spec`]).
//!
//! - `FILE.npy`: a `.npy` file, read region by region ([`vastarray::io::npy::NpySource`]);
//! - `FILE.b2nd`: a Blosc2 n-dimensional array file;
//! - `FILE.h5:/group/dataset` (also `.hdf5`, `.he5`, `.nc`): an HDF5 dataset; the file alone
//!   (for `info`) lists its groups and datasets;
//! - `c2+http://HOST:PORT/ROOT/PATH.b2nd` (or `c2+https`): a dataset on a Caterva2 server;
//! - `PATH.zarr[:/group/array]`, `http(s)://HOST:PORT/PATH.zarr[:/group/array]`: a Zarr array
//!   (v2 or v3); a group alone (for `info`) lists its tree.
//!
//! Every file is checked before anything opens it ([`vastarray::source::path_check`]): a named
//! pipe, a socket or a device is refused by name instead of blocking the command.

use super::error::CliError;
use super::settings::Settings;
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vastarray::io::caterva2::Credentials;
use vastarray::io::hdf5::{Hdf5File, PipelineFilter};
use vastarray::source::path_check::{check_path, PathKind};
use vastarray::{open_spec, split_hdf5, ChunkSource, DynArray, OpenOptions, SourceDetails};

pub(crate) use vastarray::SourceSpec;

/// An opened source.
pub(crate) struct Opened {
    /// The source as a lazy array.
    pub array: DynArray,
    /// The source itself.
    pub source: Arc<dyn ChunkSource>,
    /// Facts for `info`: format, codec, stored size, format-specific entries.
    pub facts: serde_json::Map<String, Json>,
}

/// Opens a source with [`vastarray::open_spec`] (`cache`: a persistent cache file in front of a
/// remote source; `settings`: the HTTP configuration and `--allow-incomplete`; Caterva2
/// credentials from [`C2_USER_ENV`] and [`C2_PASSWORD_ENV`]).
pub(crate) fn open(
    spec: &SourceSpec,
    cache: Option<&Path>,
    settings: &Settings,
) -> Result<Opened, CliError> {
    if let Some(file) = cache {
        if !spec.is_remote() {
            return Err(CliError::Usage(
                "--cache puts a cache in front of a remote (c2+http://, http://...zarr) source; this source is a local file".into(),
            ));
        }
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
        check_cache_file(file)?;
    }
    if let SourceSpec::Hdf5 {
        file,
        dataset: Some(ds),
    } = spec
    {
        if !settings.allow_incomplete {
            check_complete(file, ds)?;
        }
    }
    let credentials = match (std::env::var(C2_USER_ENV), std::env::var(C2_PASSWORD_ENV)) {
        (Ok(u), Ok(p)) => Some(Credentials::new(u, p)),
        _ => None,
    };
    let options = OpenOptions {
        cache: cache.map(Path::to_path_buf),
        http: settings.http.clone(),
        allow_incomplete: settings.allow_incomplete,
        raw: settings.raw,
        revalidate: settings.revalidate,
        credentials,
    };
    let opened = open_spec(spec, &options)?;
    Ok(Opened {
        array: opened.array,
        source: opened.source,
        facts: facts(&opened.details),
    })
}

/// Refuses, with the command's own words, a dataset a vastarray store did not finish (the
/// library's refusal speaks to Rust users).
fn check_complete(file: &Path, dataset: &str) -> Result<(), CliError> {
    check_hdf5_file(file)?;
    let h5 = Hdf5File::open(file)?;
    if let Ok(info) = h5.dataset_info(dataset) {
        if info.vastarray_complete() == Some(false) {
            return Err(CliError::Runtime(format!(
                "{}: dataset {dataset} is incomplete: a vastarray store into it did not finish, so some of its chunks may never have been written (they read as the fill value); add --allow-incomplete to read it anyway",
                file.display()
            )));
        }
    }
    Ok(())
}

/// What `info` prints about a source's format.
fn facts(details: &SourceDetails) -> serde_json::Map<String, Json> {
    let mut f = serde_json::Map::new();
    match details {
        SourceDetails::Npy {
            header,
            stored_bytes,
        } => {
            f.insert("format".into(), json!("npy"));
            f.insert("codec".into(), json!("none"));
            f.insert("filters".into(), json!([]));
            f.insert("stored_bytes".into(), json!(stored_bytes));
            f.insert(
                "npy_version".into(),
                json!(format!("{}.{}", header.version.0, header.version.1)),
            );
            f.insert("descr".into(), json!(header.descr));
            f.insert("fortran_order".into(), json!(header.fortran_order));
        }
        SourceDetails::B2nd {
            blocks,
            codec,
            stored_bytes,
        } => {
            f.insert("format".into(), json!("b2nd"));
            f.insert("codec".into(), json!(codec));
            f.insert("blocks".into(), json!(blocks));
            f.insert("stored_bytes".into(), json!(stored_bytes));
        }
        SourceDetails::Hdf5 {
            info,
            stored_bytes,
            variable,
        } => {
            f.insert("format".into(), json!("hdf5"));
            f.insert("dataset".into(), json!(info.path));
            f.insert(
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
            f.insert("codec".into(), json!(codec));
            f.insert("filters".into(), json!(filters));
            f.insert("stored_bytes".into(), json!(stored_bytes));
            if !info.attributes.is_empty() {
                let names: Vec<&String> = info.attributes.keys().collect();
                f.insert("attributes".into(), json!(names));
            }
            netcdf_facts(&mut f, variable);
        }
        SourceDetails::Caterva2 {
            url,
            blocks,
            server_dtype,
            cache,
        } => {
            f.insert("format".into(), json!("caterva2"));
            f.insert("url".into(), json!(url));
            f.insert("blocks".into(), json!(blocks));
            f.insert("server_dtype".into(), json!(server_dtype));
            if let Some((file, held)) = cache {
                f.insert("cache".into(), json!(file.display().to_string()));
                f.insert("cached_chunks".into(), json!(held));
            }
        }
        SourceDetails::Zarr { meta, cache } => {
            f.insert(
                "format".into(),
                json!(match meta.format {
                    vastarray::io::zarr::ZarrFormat::V2 => "zarr v2",
                    vastarray::io::zarr::ZarrFormat::V3 => "zarr v3",
                }),
            );
            let codec = meta
                .codecs
                .iter()
                .cloned()
                .chain(zarr_inner_codecs(meta))
                .find(|c| ["zstd", "gzip", "blosc"].contains(&c.as_str()))
                .unwrap_or_else(|| "none".into());
            f.insert("codec".into(), json!(codec));
            f.insert("codecs".into(), json!(meta.codecs));
            f.insert("zarr_dtype".into(), json!(meta.dtype_name));
            f.insert("fill_value".into(), meta.fill_value.clone());
            if meta.shards.is_some() {
                f.insert("shards".into(), json!(meta.chunks));
            } else {
                f.insert("stored_chunks".into(), json!(meta.chunks));
            }
            if meta.format == vastarray::io::zarr::ZarrFormat::V2 {
                f.insert("order".into(), json!(meta.order.to_string()));
            }
            if !meta.attributes.is_empty() {
                let names: Vec<&String> = meta.attributes.keys().collect();
                f.insert("attributes".into(), json!(names));
            }
            if let Some((file, held)) = cache {
                f.insert("cache".into(), json!(file.display().to_string()));
                f.insert("cached_chunks".into(), json!(held));
            }
        }
        _ => {}
    }
    f
}

/// What netCDF and CF say about an HDF5 dataset: dimension names, coordinate ranges,
/// `units`, `long_name`, the stored extent and type when they differ, and the decoding.
fn netcdf_facts(f: &mut serde_json::Map<String, Json>, v: &vastarray::io::hdf5::NetcdfVariable) {
    if v.dimensions.iter().any(Option::is_some) {
        let names: Vec<Json> = v
            .dimensions
            .iter()
            .map(|d| match d {
                Some(d) => json!(d.name),
                None => Json::Null,
            })
            .collect();
        f.insert("dimensions".into(), json!(names));
        let unlimited: Vec<&str> = v
            .dimensions
            .iter()
            .flatten()
            .filter(|d| d.unlimited)
            .map(|d| d.name.as_str())
            .collect();
        if !unlimited.is_empty() {
            f.insert("unlimited".into(), json!(unlimited));
        }
    }
    if v.dimensions
        .iter()
        .zip(&v.stored_shape)
        .any(|(d, &n)| d.as_ref().is_some_and(|d| d.unlimited && d.length > n))
    {
        f.insert("stored_shape".into(), json!(v.stored_shape));
    }
    if let Some(u) = &v.units {
        f.insert("units".into(), json!(u));
    }
    if let Some(n) = &v.long_name {
        f.insert("long_name".into(), json!(n));
    }
    if !v.coordinates.is_empty() {
        let coords: serde_json::Map<String, Json> = v
            .coordinates
            .iter()
            .map(|c| {
                let mut o = serde_json::Map::new();
                o.insert("length".into(), json!(c.length));
                if let Some((lo, hi)) = c.range {
                    o.insert("min".into(), json!(lo));
                    o.insert("max".into(), json!(hi));
                }
                if let Some(u) = &c.units {
                    o.insert("units".into(), json!(u));
                }
                (c.name.clone(), Json::Object(o))
            })
            .collect();
        f.insert("coordinates".into(), Json::Object(coords));
    }
    if let Some(d) = &v.decoding {
        f.insert("stored_dtype".into(), json!(d.stored_dtype().name()));
        f.insert("cf_decoding".into(), json!(d.describe()));
    }
}

/// The codec names inside a sharded array's shards.
fn zarr_inner_codecs(meta: &vastarray::io::zarr::ZarrMeta) -> Vec<String> {
    let inner = meta
        .document
        .pointer("/codecs/0/configuration/codecs")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    inner
        .iter()
        .filter_map(|c| c.get("name").and_then(Json::as_str).map(str::to_string))
        .collect()
}

/// Checks that an HDF5 file is a regular file before the library opens it (a named pipe would
/// block it).
pub(crate) fn check_hdf5_file(file: &Path) -> Result<(), CliError> {
    check_path(file, "an HDF5 file", PathKind::File)?;
    Ok(())
}

/// Checks a `--cache` file before a proxy opens it: an existing one must be a regular file (a
/// missing one is created).
pub(crate) fn check_cache_file(file: &Path) -> Result<(), CliError> {
    if file.symlink_metadata().is_ok() {
        check_path(file, "a .b2nd cache file", PathKind::File)?;
    }
    Ok(())
}

/// Environment variables holding Caterva2 credentials (never written anywhere).
pub(crate) const C2_USER_ENV: &str = "VASTARRAY_C2_USER";
/// See [`C2_USER_ENV`].
pub(crate) const C2_PASSWORD_ENV: &str = "VASTARRAY_C2_PASSWORD";

/// Where a result is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DestSpec {
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
    /// A new Zarr array: a `.zarr` directory, or `/group/array` in one.
    Zarr {
        /// The array's directory.
        dir: PathBuf,
        /// The hierarchy's directory (the `.zarr`).
        root: PathBuf,
        /// The array's node in it (`/` when the array is the root).
        node: String,
    },
}

impl DestSpec {
    /// Parses a DEST argument.
    pub(crate) fn parse(text: &str) -> Result<DestSpec, CliError> {
        if let Some((file, dataset)) = split_hdf5(text) {
            let dataset = dataset.filter(|d| d.len() > 1).ok_or_else(|| {
                CliError::Usage(format!(
                    "{text:?}: name the dataset to write, as in {text}:/result"
                ))
            })?;
            return Ok(DestSpec::Hdf5 { file, dataset });
        }
        let lower = text.to_ascii_lowercase();
        if let Some((root, node)) = vastarray::split_zarr(text) {
            if root.to_ascii_lowercase().starts_with("http") && root.contains("://") {
                return Err(CliError::Usage(format!(
                    "{text:?}: a copy writes a local DIR.zarr, not to a server"
                )));
            }
            let root = PathBuf::from(root);
            let key = node.trim_matches('/');
            let dir = if key.is_empty() {
                root.clone()
            } else {
                root.join(key)
            };
            return Ok(DestSpec::Zarr { dir, root, node });
        }
        if lower.ends_with(".npy") {
            return Ok(DestSpec::Npy(PathBuf::from(text)));
        }
        if lower.ends_with(".b2nd") {
            return Ok(DestSpec::B2nd(PathBuf::from(text)));
        }
        Err(CliError::Usage(format!(
            "cannot tell what kind of file to write for {text:?}: expected FILE.npy, FILE.b2nd, FILE.h5:/path or DIR.zarr"
        )))
    }

    /// The file written.
    pub(crate) fn file(&self) -> &Path {
        match self {
            DestSpec::Npy(p) | DestSpec::B2nd(p) | DestSpec::Zarr { dir: p, .. } => p,
            DestSpec::Hdf5 { file, .. } => file,
        }
    }

    /// The destination as written.
    pub(crate) fn display(&self) -> String {
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
    fn kinds_of_destination() {
        assert!(DestSpec::parse("out.h5").is_err());
        assert!(DestSpec::parse("data.csv").is_err());
        assert_eq!(
            DestSpec::parse("out.h5:/r").unwrap(),
            DestSpec::Hdf5 {
                file: "out.h5".into(),
                dataset: "/r".into()
            }
        );
        assert_eq!(
            DestSpec::parse("r.b2nd").unwrap(),
            DestSpec::B2nd("r.b2nd".into())
        );
    }
}
