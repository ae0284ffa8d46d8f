//! [`store_hdf5`]: stores any [`RegionCompute`] (a lazy array, any source) into an HDF5
//! dataset in bounded memory.
//!
//! The target's chunk grid is walked in [`ChunkAlignedBuffers`] (at most
//! [`Hdf5StoreOptions::buffer_bytes`] each, covering whole chunks), computed one at a time and
//! written in order, so every target chunk is written exactly once. For chunked datasets whose
//! filters vastarray can apply itself (none, deflate, shuffle, Fletcher32), the chunks of a
//! buffer are encoded in parallel (rayon) and handed to the library with `H5Dwrite_chunk`;
//! otherwise the buffer is written through the library with a hyperslab.
//!
//! **Completeness.** A store never leaves a file that looks complete when it is not:
//! - a new file (modes [`StoreMode::CreateNew`], [`StoreMode::Overwrite`], and
//!   [`StoreMode::Update`] of a missing file) is written under a temporary name in the same
//!   directory and renamed into place only after everything was written (an overwritten file
//!   stays intact until then); a failed store removes the temporary file;
//! - a dataset written into an existing file ([`StoreMode::Update`]) carries the attribute
//!   [`COMPLETE_ATTR`] (`vastarray_complete`, `uint8`): set to 0 before the first value is
//!   written and to 1 after the last. Every dataset vastarray writes carries it.
//!   [`crate::io::hdf5::Hdf5Source`] refuses datasets where it is 0 unless
//!   [`crate::io::hdf5::Hdf5Options::allow_incomplete`] is set; other readers (h5py)
//!   should check it.

use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::io::hdf5::filters::encode_pipeline;
use crate::io::hdf5::{
    auto_chunk_shape, close_on_exec, dtype_of, Hdf5DatasetInfo, Hdf5Layout, PipelineFilter,
};
use crate::sink::{ChunkAlignedBuffers, RegionCompute};
use crate::source::ChunkGrid;
use ndarray::{ArrayD, IxDyn, Slice, SliceInfoElem};
use rayon::prelude::*;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The attribute a store sets to 0 when it starts writing a dataset and to 1 when it has
/// written everything.
pub const COMPLETE_ATTR: &str = "vastarray_complete";

/// What to do about the target file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StoreMode {
    /// Create a new file; fail if the file exists.
    #[default]
    CreateNew,
    /// Replace the file if it exists (the old file is replaced only when the store succeeds).
    Overwrite,
    /// Write the dataset into an existing file (created if missing): a new dataset, or an
    /// existing one of the same shape and element type, which is overwritten in place.
    Update,
}

/// Options of [`store_hdf5`].
#[derive(Clone, Debug)]
pub struct Hdf5StoreOptions {
    /// Chunk shape of a new dataset; `None` chooses about 1 MiB chunks of whole trailing axes.
    /// Entries larger than the shape are reduced to it. Ignored for an existing dataset.
    pub chunks: Option<Vec<usize>>,
    /// Deflate (gzip) level 0-9 of a new dataset; `None` for no compression.
    pub deflate: Option<u8>,
    /// Apply the shuffle filter before compressing (new datasets).
    pub shuffle: bool,
    /// Add Fletcher32 checksums (new datasets).
    pub fletcher32: bool,
    /// What to do about an existing file.
    pub mode: StoreMode,
    /// Maximum bytes of one buffer (never less than one chunk). Default 64 MiB.
    pub buffer_bytes: usize,
    /// Encode chunks in parallel and write them with `H5Dwrite_chunk` where the filters allow
    /// (default). Off writes every buffer through the library, for comparisons.
    pub direct_chunk_writes: bool,
}

impl Default for Hdf5StoreOptions {
    fn default() -> Self {
        Hdf5StoreOptions {
            chunks: None,
            deflate: None,
            shuffle: false,
            fletcher32: false,
            mode: StoreMode::CreateNew,
            buffer_bytes: 64 << 20,
            direct_chunk_writes: true,
        }
    }
}

/// What a store did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hdf5StoreReport {
    /// The file written.
    pub path: PathBuf,
    /// The dataset written.
    pub dataset: String,
    /// The dataset's shape.
    pub shape: Vec<usize>,
    /// The dataset's chunk shape (for an unchunked dataset: the shape).
    pub chunks: Vec<usize>,
    /// The element type.
    pub dtype: DType,
    /// The buffers computed and written, in order.
    pub buffers: Vec<Vec<Range<usize>>>,
    /// Chunk writes issued (one per chunk of each buffer).
    pub chunk_writes: usize,
    /// Chunks written more than once (0 unless something is wrong).
    pub chunks_written_twice: usize,
    /// True when chunks were encoded by vastarray and written with `H5Dwrite_chunk`.
    pub direct_chunk_writes: bool,
}

/// Stores `src` into the dataset `dataset` (an absolute path such as `"/group/data"`;
/// intermediate groups are created) of the HDF5 file at `path`.
///
/// Errors say which buffer (region) failed, and leave no file or dataset that claims to be
/// complete (see the module documentation).
pub fn store_hdf5(
    src: &dyn RegionCompute,
    path: impl AsRef<Path>,
    dataset: &str,
    options: &Hdf5StoreOptions,
) -> Result<Hdf5StoreReport> {
    let path = path.as_ref();
    let exists = path.exists();
    let in_place = options.mode == StoreMode::Update && exists;
    if options.mode == StoreMode::CreateNew && exists {
        return Err(Error::file(
            path,
            "exists already; use StoreMode::Overwrite to replace it or StoreMode::Update to add to it",
        ));
    }
    if in_place {
        let file = hdf5::File::open_rw(path)
            .map_err(|e| Error::file(path, "cannot open for writing").caused_by(e))?;
        close_on_exec(&file);
        return write_dataset(&file, src, path, dataset, options, true);
    }
    let temp = temp_path(path)?;
    let result = hdf5::File::create_excl(&temp)
        .map_err(|e| Error::file(&temp, "cannot create temporary file").caused_by(e))
        .and_then(|file| {
            close_on_exec(&file);
            let report = write_dataset(&file, src, path, dataset, options, false)?;
            file.close()
                .map_err(|e| Error::file(&temp, "closing").caused_by(e))?;
            Ok(report)
        })
        .and_then(|report| {
            std::fs::rename(&temp, path).map_err(|e| {
                Error::file(
                    path,
                    format!("renaming the finished {} into place: {e}", temp.display()),
                )
            })?;
            Ok(report)
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// A temporary name beside `path`, locked while the store runs (see [`crate::sink::temp`]).
fn temp_path(path: &Path) -> Result<crate::sink::temp::TempFile> {
    crate::sink::temp::TempFile::claim(path)
}

/// Creates (or opens) the dataset in an open file and writes everything into it.
fn write_dataset(
    file: &hdf5::File,
    src: &dyn RegionCompute,
    path: &Path,
    dataset: &str,
    options: &Hdf5StoreOptions,
    may_exist: bool,
) -> Result<Hdf5StoreReport> {
    let shape = src.region_shape();
    let dtype = src.region_dtype();
    let fail = |what: String| Error::file(path, format!("storing {dataset}: {what}"));
    let ds = match file.dataset(dataset) {
        Ok(ds) if may_exist => check_existing(&ds, &shape, dtype).map_err(fail)?,
        _ => create_dataset(file, dataset, &shape, dtype, options).map_err(fail)?,
    };
    let info = Hdf5DatasetInfo::from_dataset(&ds, path, dataset)?;
    let chunks = match (&info.layout, &info.chunks) {
        (Hdf5Layout::Chunked, Some(c)) => c.clone(),
        _ => shape.iter().map(|&n| n.max(1)).collect(),
    };
    set_complete(&ds, false).map_err(|e| fail(format!("marking the dataset incomplete: {e}")))?;
    file.flush().map_err(|e| fail(format!("flushing: {e}")))?;

    let direct = options.direct_chunk_writes
        && info.layout == Hdf5Layout::Chunked
        && !shape.is_empty()
        && cfg!(target_endian = "little")
        && info.filters.iter().all(PipelineFilter::decodable)
        && (info.filters.is_empty() || !partial_chunks_unfiltered(&ds));
    let grid = ChunkGrid::new(shape.clone(), chunks.clone());
    let mut written = vec![
        0u8;
        if shape.is_empty() {
            1
        } else {
            grid.num_chunks()
        }
    ];
    let mut report = Hdf5StoreReport {
        path: path.to_path_buf(),
        dataset: dataset.to_owned(),
        shape: shape.clone(),
        chunks: chunks.clone(),
        dtype,
        buffers: Vec::new(),
        chunk_writes: 0,
        chunks_written_twice: 0,
        direct_chunk_writes: direct,
    };
    let buffers: Vec<Vec<Range<usize>>> = if shape.is_empty() {
        vec![vec![]]
    } else {
        ChunkAlignedBuffers::new(&shape, &chunks, dtype.size(), options.buffer_bytes)?.collect()
    };
    let count = buffers.len();
    for (i, region) in buffers.into_iter().enumerate() {
        let at = |what: &str, e: &dyn std::fmt::Display| {
            fail(format!(
                "{what} buffer {} of {count}, region {region:?}: {e}",
                i + 1
            ))
        };
        let data = src
            .compute_region(&region)
            .map_err(|e| at("computing", &e))?;
        let want: Vec<usize> = region.iter().map(|r| r.len()).collect();
        data.expect(dtype, &want, &|| format!("buffer {region:?}"))
            .map_err(|e| at("checking", &e))?;
        let touched = if shape.is_empty() {
            vec![vec![]]
        } else {
            grid.chunks_in_box(&region)
        };
        if direct {
            write_chunks_direct(&ds, &grid, &region, &data, &touched, &info.filters)
                .map_err(|e| at("writing", &e))?;
        } else {
            write_region(&ds, &region, &data).map_err(|e| at("writing", &e))?;
        }
        for c in &touched {
            let slot = if shape.is_empty() {
                0
            } else {
                grid.linear_index(c)
            };
            if let Some(w) = written.get_mut(slot) {
                if *w == 1 {
                    report.chunks_written_twice += 1;
                }
                *w = w.saturating_add(1);
            }
        }
        report.chunk_writes += touched.len();
        report.buffers.push(region);
    }
    set_complete(&ds, true).map_err(|e| fail(format!("marking the dataset complete: {e}")))?;
    file.flush().map_err(|e| fail(format!("flushing: {e}")))?;
    Ok(report)
}

/// True when the dataset stores partial edge chunks without filters (an HDF5 1.10 option
/// h5py does not set, but other writers may): direct writes would filter them.
fn partial_chunks_unfiltered(ds: &hdf5::Dataset) -> bool {
    ds.create_plist()
        .ok()
        .and_then(|p| p.get_chunk_opts().ok().flatten())
        .is_some_and(|o| o.contains(hdf5::dataset::ChunkOpts::DONT_FILTER_PARTIAL_CHUNKS))
}

/// Checks that an existing dataset can take the data.
fn check_existing(
    ds: &hdf5::Dataset,
    shape: &[usize],
    dtype: DType,
) -> std::result::Result<hdf5::Dataset, String> {
    let have_shape = ds.shape();
    let have_type = ds
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(|e| format!("reading the existing dataset's type: {e}"))?;
    if have_shape != shape || dtype_of(&have_type) != Some(dtype) {
        return Err(format!(
            "the existing dataset has shape {have_shape:?} and type {have_type}, the data has shape {shape:?} and type {dtype}"
        ));
    }
    Ok(ds.clone())
}

/// Creates a dataset (and the groups above it) with the options' chunking and filters.
fn create_dataset(
    file: &hdf5::File,
    dataset: &str,
    shape: &[usize],
    dtype: DType,
    options: &Hdf5StoreOptions,
) -> std::result::Result<hdf5::Dataset, String> {
    let chunks = chunk_shape_for(shape, dtype, options)?;
    let builder = crate::dispatch_dtype!(dtype, T => file.new_dataset::<T>());
    let mut builder = builder
        .shape(shape.to_vec())
        .create_intermediate_group(true);
    match chunks {
        Some(c) => {
            builder = builder.chunk(c);
            if options.shuffle {
                builder = builder.shuffle();
            }
            if let Some(level) = options.deflate {
                builder = builder.deflate(level.min(9));
            }
            if options.fletcher32 {
                builder = builder.fletcher32();
            }
        }
        None => builder = builder.no_chunk(),
    }
    builder
        .create(dataset)
        .map_err(|e| format!("creating the dataset: {e}"))
}

/// The chunk shape of a new dataset, or `None` when it cannot be chunked (scalar or empty).
fn chunk_shape_for(
    shape: &[usize],
    dtype: DType,
    options: &Hdf5StoreOptions,
) -> std::result::Result<Option<Vec<usize>>, String> {
    if shape.is_empty() || shape.contains(&0) {
        return Ok(None);
    }
    let chunks = match &options.chunks {
        Some(c) if c.len() != shape.len() || c.contains(&0) => {
            return Err(format!("chunk shape {c:?} does not fit shape {shape:?}"));
        }
        Some(c) => c.clone(),
        None => auto_chunk_shape(shape, dtype.size(), 1 << 20),
    };
    Ok(Some(
        chunks.iter().zip(shape).map(|(&c, &n)| c.min(n)).collect(),
    ))
}

/// Sets the completeness attribute, creating it if needed.
fn set_complete(ds: &hdf5::Dataset, complete: bool) -> hdf5::Result<()> {
    let attr = match ds.attr(COMPLETE_ATTR) {
        Ok(a) => a,
        Err(_) => ds.new_attr::<u8>().create(COMPLETE_ATTR)?,
    };
    attr.write_scalar(&u8::from(complete))
}

/// Writes a box through the library.
fn write_region(ds: &hdf5::Dataset, region: &[Range<usize>], data: &NdData) -> hdf5::Result<()> {
    if region.is_empty() {
        return crate::with_nd!(data, a: T => ds.write(a.view()));
    }
    if region.iter().any(|r| r.is_empty()) {
        return Ok(());
    }
    let sel = hdf5::Hyperslab::from(
        region
            .iter()
            .map(|r| hdf5::SliceOrIndex::from(r.clone()))
            .collect::<Vec<_>>(),
    );
    crate::with_nd!(data, a: T => ds.write_slice(a.view(), sel))
}

/// Encodes the chunks of one buffer in parallel and writes them with `H5Dwrite_chunk`.
fn write_chunks_direct(
    ds: &hdf5::Dataset,
    grid: &ChunkGrid,
    region: &[Range<usize>],
    data: &NdData,
    chunks: &[Vec<usize>],
    pipeline: &[PipelineFilter],
) -> std::result::Result<(), String> {
    let elem = data.dtype().size();
    let encoded: Vec<(Vec<u64>, Vec<u8>)> = chunks
        .par_iter()
        .map(|idx| {
            let bx = grid.chunk_box(idx);
            if bx
                .iter()
                .zip(region)
                .any(|(c, r)| c.start < r.start || c.end > r.end)
            {
                return Err(format!("chunk {idx:?} is not inside the buffer {region:?}"));
            }
            let rel: Vec<Range<usize>> = bx
                .iter()
                .zip(region)
                .map(|(c, r)| (c.start - r.start)..(c.end - r.start))
                .collect();
            let bytes = padded_chunk_bytes(data, &rel, grid.chunk_shape());
            let stored = encode_pipeline(bytes, pipeline, elem)?;
            let coords = bx.iter().map(|r| r.start as u64).collect();
            Ok((coords, stored))
        })
        .collect::<std::result::Result<_, String>>()?;
    for (coords, bytes) in &encoded {
        let status = hdf5::sync::sync(|| {
            // SAFETY: `coords` has one entry per axis of the dataset and `bytes` is alive for
            // the call; the library copies the data. The global lock is held.
            unsafe {
                hdf5_sys::h5d::H5Dwrite_chunk(
                    ds.id(),
                    hdf5_sys::h5p::H5P_DEFAULT,
                    0,
                    coords.as_ptr(),
                    bytes.len(),
                    bytes.as_ptr().cast(),
                )
            }
        });
        if status < 0 {
            return Err(format!("H5Dwrite_chunk failed for the chunk at {coords:?}"));
        }
    }
    Ok(())
}

/// The bytes of the part `rel` of `data`, placed in the leading corner of a chunk of
/// `chunk_shape` (edge chunks are stored at full size; the padding is zeros), little-endian.
fn padded_chunk_bytes(data: &NdData, rel: &[Range<usize>], chunk_shape: &[usize]) -> Vec<u8> {
    let src: Vec<SliceInfoElem> = rel
        .iter()
        .map(|r| SliceInfoElem::from(Slice::from(r.clone())))
        .collect();
    let dst: Vec<SliceInfoElem> = rel
        .iter()
        .map(|r| SliceInfoElem::from(Slice::from(0..r.len())))
        .collect();
    crate::with_nd!(data, a: T => {
        let part = a.slice(src.as_slice());
        let full = if part.shape() == chunk_shape {
            part.to_owned()
        } else {
            let mut full = ArrayD::<T>::default(IxDyn(chunk_shape));
            full.slice_mut(dst.as_slice()).assign(&part);
            full
        };
        crate::data::nd_to_bytes(&T::wrap(full))
    })
}
