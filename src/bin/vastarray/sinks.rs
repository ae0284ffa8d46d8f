//! Storing an array into a DEST: options checked before anything is computed, the budget
//! split between the buffer being written and the evaluation computing it, and one function
//! per target format. Under MPI every rank computes its share of each buffer
//! ([`EngineRegions`]) and rank 0 writes them in order.

use super::args::Codec;
use super::error::CliError;
use super::settings::{progress_callback, Settings};
use super::source_spec::DestSpec;
use vastarray::exec::EngineRegions;
use vastarray::io::b2nd::{store_b2nd, B2ndOptions};
use vastarray::io::b2nd::{Codec as BloscCodec, Compression};
use vastarray::io::hdf5::Hdf5File;
use vastarray::io::npy::{npy_buffers, store_npy, NpyStoreOptions};
use vastarray::source::path_check::{check_path, PathKind};
use vastarray::{store_hdf5, Hdf5StoreOptions, StoreMode};
use vastarray::{DType, DynArray, EvalConfig};

/// How a copy is stored.
#[derive(Clone, Debug, Default)]
pub(crate) struct StoreOptions {
    /// Chunk shape (chunked targets).
    pub chunks: Option<Vec<usize>>,
    /// Compression.
    pub codec: Option<Codec>,
    /// Compression level.
    pub level: Option<u8>,
    /// Replace an existing target.
    pub overwrite: bool,
    /// Shard shape (Zarr v3 targets).
    pub shards: Option<Vec<usize>>,
    /// Zarr format (2 or 3; 0 means 3) of a Zarr target.
    pub zarr_format: u8,
}

/// What was stored.
#[derive(Clone, Debug)]
pub(crate) struct Stored {
    /// The target as written on the command line.
    pub dest: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: DType,
    /// Bytes of the file after the store.
    pub file_bytes: Option<u64>,
    /// Buffers computed and written.
    pub buffers: usize,
}

/// Parses `--chunks 100,200`.
pub(crate) fn parse_chunks(text: &str, ndim: usize) -> Result<Vec<usize>, CliError> {
    let parts: Result<Vec<usize>, _> = text.split(',').map(|p| p.trim().parse::<usize>()).collect();
    match parts {
        Ok(c) if c.len() == ndim && !c.contains(&0) => Ok(c),
        Ok(c) if c.len() != ndim => Err(CliError::Usage(format!(
            "--chunks {text}: {} entries for an array of {ndim} dimensions",
            c.len()
        ))),
        _ => Err(CliError::Usage(format!(
            "--chunks {text}: expected {ndim} positive integers separated by commas"
        ))),
    }
}

/// Checks that the options fit the target format, and that the target may be written.
pub(crate) fn check(dest: &DestSpec, opts: &StoreOptions) -> Result<(), CliError> {
    if opts.shards.is_some() && !matches!(dest, DestSpec::Zarr { .. }) {
        return Err(CliError::Usage(
            "--shards applies to Zarr targets (DIR.zarr) only".into(),
        ));
    }
    match dest {
        DestSpec::Zarr { .. } => {
            if !matches!(opts.zarr_format, 0 | 2 | 3) {
                return Err(CliError::Usage("--zarr-format is 2 or 3".into()));
            }
            if opts.zarr_format == 2 && opts.shards.is_some() {
                return Err(CliError::Usage(
                    "--shards needs Zarr v3: a v2 array cannot be sharded".into(),
                ));
            }
            if let (Some(s), Some(c)) = (&opts.shards, &opts.chunks) {
                if s.iter().zip(c).any(|(s, c)| s % c != 0) {
                    return Err(CliError::Usage(format!(
                        "--shards {s:?}: each entry must be a multiple of the chunk shape {c:?}"
                    )));
                }
            }
            if opts.shards.is_some() && opts.chunks.is_none() {
                return Err(CliError::Usage(
                    "--shards needs --chunks (the inner chunk shape)".into(),
                ));
            }
            if matches!(opts.level, Some(l) if l > 22) {
                return Err(CliError::Usage(
                    "levels are 0 to 22 (zstd), 0 to 9 (others)".into(),
                ));
            }
            if matches!((opts.codec, opts.level), (Some(Codec::Deflate | Codec::Lz4), Some(l)) if l > 9)
            {
                return Err(CliError::Usage("gzip and Blosc levels are 0 to 9".into()));
            }
            let path = dest.file();
            if let Ok(meta) = path.symlink_metadata() {
                if !opts.overwrite {
                    return Err(CliError::Runtime(format!(
                        "{}: exists already (add --overwrite to replace it once the new array is complete)",
                        path.display()
                    )));
                }
                let is_zarr = meta.is_dir()
                    && ["zarr.json", ".zarray", ".zgroup"]
                        .iter()
                        .any(|f| path.join(f).is_file());
                if !is_zarr {
                    return Err(CliError::Runtime(format!(
                        "{}: exists and is not a Zarr array or group: it is not replaced",
                        path.display()
                    )));
                }
            }
            return Ok(());
        }
        DestSpec::Npy(_) => {
            if opts.chunks.is_some() {
                return Err(CliError::Usage(
                    "--chunks does not apply to .npy files (they have no chunks)".into(),
                ));
            }
            if matches!(opts.codec, Some(c) if c != Codec::None) || opts.level.is_some() {
                return Err(CliError::Usage(
                    ".npy files are not compressed: --codec and --level apply to .b2nd and .h5 targets".into(),
                ));
            }
        }
        DestSpec::Hdf5 { .. } => {
            if matches!(opts.codec, Some(Codec::Lz4 | Codec::Zstd)) {
                return Err(CliError::Usage(
                    "HDF5 targets support --codec none or deflate (lz4 and zstd need HDF5 plugins)"
                        .into(),
                ));
            }
            if matches!(opts.level, Some(l) if l > 9) {
                return Err(CliError::Usage("deflate levels are 0 to 9".into()));
            }
        }
        DestSpec::B2nd(_) => {
            if matches!(opts.level, Some(l) if l > 9) {
                return Err(CliError::Usage("Blosc2 levels are 0 to 9".into()));
            }
        }
    }
    let file = dest.file();
    if let DestSpec::Hdf5 { dataset, .. } = dest {
        if file.exists() {
            // Written in place: it must be a regular file (a named pipe would block).
            check_path(file, "an HDF5 file", PathKind::File)?;
        }
        if file.exists() && !opts.overwrite {
            let h5 = Hdf5File::open(file)?;
            if h5.dataset_info(dataset).is_ok() {
                return Err(CliError::Runtime(format!(
                    "{}: the dataset {dataset} exists already (add --overwrite to replace its values)",
                    file.display()
                )));
            }
        }
        return Ok(());
    }
    if let Ok(meta) = file.symlink_metadata() {
        if !opts.overwrite {
            return Err(CliError::Runtime(format!(
                "{}: exists already (add --overwrite to replace it once the new result is complete)",
                file.display()
            )));
        }
        if !(meta.is_file() || meta.file_type().is_symlink()) {
            return Err(CliError::Runtime(format!(
                "{}: exists and is not a regular file: it is not replaced",
                file.display()
            )));
        }
    }
    Ok(())
}

/// The bytes of one buffer and the evaluation budget beside it.
fn split_budget(settings: &Settings) -> (usize, EvalConfig) {
    let buffer = (settings.cfg.budget / 4).max(1);
    let mut cfg = settings.cfg.clone();
    cfg.budget = settings.cfg.budget / 2;
    cfg.progress = None;
    (buffer, cfg)
}

/// How the store would go, for `--explain`.
pub(crate) fn explain(
    dest: &DestSpec,
    array: &DynArray,
    settings: &Settings,
) -> Result<String, CliError> {
    let (buffer, _) = split_budget(settings);
    let shape = array.shape();
    Ok(match dest {
        DestSpec::Npy(_) => {
            let b = npy_buffers(shape, array.dtype(), buffer)?;
            format!(
                "store: {} buffer(s) of up to {:?} ({} bytes each at most), each computed as above, written in order to a temporary file renamed to {} at the end",
                b.num_buffers(),
                b.buffer_shape(),
                buffer,
                dest.display()
            )
        }
        _ => format!(
            "store: chunk-aligned buffers of at most {buffer} bytes, written to a temporary file renamed to {} at the end",
            dest.display()
        ),
    })
}

/// Stores `array` into `dest`; nothing appears at `dest` unless the whole result was written.
/// On the ranks other than 0 of an MPI run: computes their share of every buffer rank 0
/// writes, and returns `None`.
pub(crate) fn store(
    dest: &DestSpec,
    array: &DynArray,
    settings: &Settings,
    opts: &StoreOptions,
) -> Result<Option<Stored>, CliError> {
    let (buffer, cfg) = split_budget(settings);
    let src = EngineRegions::new(array.clone(), cfg, settings.engine.clone());
    if !settings.engine.is_root() {
        src.follow()?;
        return Ok(None);
    }
    let bar = settings.progress_bar("writing");
    let result = match dest {
        DestSpec::Npy(path) => {
            let o = NpyStoreOptions {
                buffer_bytes: buffer,
                overwrite: opts.overwrite,
                progress: bar.as_ref().map(|b| progress_callback(b.clone())),
            };
            store_npy(&src, path, &o).map(|r| Stored {
                dest: dest.display(),
                shape: r.shape,
                dtype: r.dtype,
                file_bytes: Some(r.file_bytes),
                buffers: r.buffers.len(),
            })
        }
        DestSpec::B2nd(path) => {
            let compression = match opts.codec.unwrap_or(Codec::Zstd) {
                Codec::None => Compression::new(BloscCodec::None, 0),
                Codec::Deflate => Compression::new(BloscCodec::Zlib, opts.level.unwrap_or(5)),
                Codec::Lz4 => Compression::new(BloscCodec::Lz4, opts.level.unwrap_or(5)),
                Codec::Zstd => Compression::new(BloscCodec::Zstd, opts.level.unwrap_or(5)),
            };
            let o = B2ndOptions {
                chunks: opts.chunks.clone(),
                blocks: None,
                compression,
                buffer_bytes: buffer,
            };
            store_b2nd(&src, path, &o).map(|r| Stored {
                dest: dest.display(),
                shape: r.meta.shape.clone(),
                dtype: r.meta.dtype,
                file_bytes: Some(r.file_bytes),
                buffers: r.buffers,
            })
        }
        DestSpec::Zarr { root, node, .. } => {
            use vastarray::io::zarr::{store_zarr_node, ZarrCodec, ZarrFormat, ZarrStoreOptions};
            let level = opts.level;
            let codec = match opts.codec.unwrap_or(Codec::Zstd) {
                Codec::None => ZarrCodec::None,
                Codec::Deflate => ZarrCodec::Gzip(level.unwrap_or(5).into()),
                Codec::Lz4 => ZarrCodec::Blosc {
                    cname: "lz4".into(),
                    clevel: level.unwrap_or(5).into(),
                },
                Codec::Zstd => ZarrCodec::Zstd(level.unwrap_or(3).into()),
            };
            let o = ZarrStoreOptions {
                format: if opts.zarr_format == 2 {
                    ZarrFormat::V2
                } else {
                    ZarrFormat::V3
                },
                chunks: opts.chunks.clone(),
                shards: opts.shards.clone(),
                codec,
                buffer_bytes: buffer,
                ..Default::default()
            };
            store_zarr_node(&src, root, node, &o).map(|r| Stored {
                dest: dest.display(),
                shape: r.meta.shape.clone(),
                dtype: r.meta.dtype,
                file_bytes: None,
                buffers: r.buffers,
            })
        }
        DestSpec::Hdf5 { file, dataset } => {
            let mode = if file.exists() {
                StoreMode::Update
            } else {
                StoreMode::CreateNew
            };
            let o = Hdf5StoreOptions {
                chunks: opts.chunks.clone(),
                deflate: match opts.codec {
                    Some(Codec::Deflate) => Some(opts.level.unwrap_or(4)),
                    _ => None,
                },
                mode,
                buffer_bytes: buffer,
                ..Default::default()
            };
            store_hdf5(&src, file, dataset, &o).map(|r| Stored {
                dest: dest.display(),
                shape: r.shape,
                dtype: r.dtype,
                file_bytes: std::fs::metadata(file).map(|m| m.len()).ok(),
                buffers: r.buffers.len(),
            })
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let stored = result?;
    src.done()?;
    Ok(Some(stored))
}
