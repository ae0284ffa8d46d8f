//! [`Hdf5Source`]: one HDF5 dataset as a lazy [`ChunkSource`].
//!
//! Chunks are read, where possible, without the HDF5 library: on first use the stored chunks
//! are counted and, when there are few enough, listed (file offset, stored size and filter
//! mask) under the library's global lock; then each chunk is `pread` from a plain file handle
//! and decoded (deflate, shuffle, Fletcher32) on the calling thread, so reads from many threads
//! scale with cores. Datasets with more stored chunks look each chunk up when it is read and
//! read its stored bytes through the library, decoding them outside the lock
//! ([`ChunkIndex`](crate::io::hdf5::ChunkIndex)). Memory and time never depend on the number of chunks the shape
//! declares, only on those stored and those read. Chunks with other filters, and datasets the
//! raw path cannot handle (compact, virtual, scalar, exotic byte order), go through the library.

use super::chunk_index::{chunk_coords, read_direct, ChunkEntry, ChunkIndex, ListMode};
use super::fill::{dataset_fill_value, filled, MissingValues};
use super::meta::{Hdf5ByteOrder, Hdf5DatasetInfo, Hdf5Layout};
use super::raw::{
    box_runs, chunk_bytes, chunk_decodable, crop, decode_into_array, decode_stored, pread_into,
    read_runs_into_array, read_stored_chunk,
};
use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::source::path_check::PathKind;
use crate::source::{copy_overlap, read_checked, ChunkGrid, ChunkSource};
use hdf5::{Hyperslab, SliceOrIndex};
use ndarray::IxDyn;
use rayon::prelude::*;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// How stored chunks are found (see [`ChunkIndex`](crate::io::hdf5::ChunkIndex)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChunkIndexQuery {
    /// List the stored chunks up front when there are at most
    /// [`LIST_LIMIT`](crate::io::hdf5::LIST_LIMIT), else look each up when it is read.
    #[default]
    Auto,
    /// List the stored chunks up front (`H5Dget_chunk_info`; refused beyond
    /// [`LIST_HARD_LIMIT`](crate::io::hdf5::LIST_HARD_LIMIT)).
    ByIndex,
    /// Look each chunk up by its coordinates when it is read, and read its stored bytes
    /// through the library (`H5Dget_chunk_storage_size`, `H5Dread_chunk`).
    ByCoord,
}

/// Options for opening an HDF5 dataset as a source.
#[derive(Clone, Debug)]
pub struct Hdf5Options {
    /// Replace missing-data markers by NaN (see [`MissingValues`] for which values count and
    /// what happens to integer datasets). Off by default.
    pub missing_as_nan: bool,
    /// Read chunks with `pread` and decode them outside the library where possible (on by
    /// default). Off forces every read through the library, for comparisons.
    pub raw_reads: bool,
    /// Open datasets whose `vastarray_complete` attribute says a vastarray store did not
    /// finish. Off by default: such datasets are refused with an error.
    pub allow_incomplete: bool,
    /// Target bytes per chunk of the grid given to unchunked (contiguous, compact, virtual)
    /// datasets. Default 4 MiB.
    pub contiguous_chunk_bytes: usize,
    /// How the chunk index is read (default: automatic).
    pub chunk_index_query: ChunkIndexQuery,
}

impl Default for Hdf5Options {
    fn default() -> Self {
        Hdf5Options {
            missing_as_nan: false,
            raw_reads: true,
            allow_incomplete: false,
            contiguous_chunk_bytes: 4 << 20,
            chunk_index_query: ChunkIndexQuery::Auto,
        }
    }
}

/// How the reads of a [`Hdf5Source`] were served so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hdf5ReadStats {
    /// Chunks decoded outside the library (stored bytes read with `pread`, or through the
    /// library's direct chunk read when chunks are looked up one by one).
    pub raw_chunks: usize,
    /// Chunks read through the HDF5 library (under its global lock).
    pub library_chunks: usize,
    /// Chunks never written, delivered as the fill value without I/O.
    pub fill_chunks: usize,
    /// Stored bytes read by the raw path.
    pub raw_bytes: u64,
    /// Times the chunk index was read from the file (0 before the first read, then 1).
    pub index_loads: usize,
    /// Chunks looked up one by one in the library's index (stored chunks not listed).
    pub lookups: usize,
}

#[derive(Debug, Default)]
struct Counters {
    raw_chunks: AtomicUsize,
    library_chunks: AtomicUsize,
    fill_chunks: AtomicUsize,
    raw_bytes: AtomicU64,
    index_loads: AtomicUsize,
    lookups: AtomicUsize,
}

/// How chunks of this dataset are read.
#[derive(Debug)]
enum ReadPath {
    /// Chunked storage, raw reads allowed: look chunks up in the index.
    RawChunked {
        userblock: u64,
        partial_edges_unfiltered: bool,
    },
    /// Contiguous storage at this file offset, raw reads allowed.
    RawContiguous { offset: u64 },
    /// Everything through the library.
    Library,
}

/// One HDF5 dataset, read lazily chunk by chunk.
///
/// ```no_run
/// use vastarray::io::hdf5::Hdf5Source;
/// use vastarray::ChunkSource;
/// let src = Hdf5Source::open("run.h5", "/data/temperature").unwrap();
/// println!("{:?} {} chunks {:?}", src.shape(), src.dtype(), src.chunk_shape());
/// let first = src.read_chunk(&vec![0; src.shape().len()]).unwrap();
/// ```
pub struct Hdf5Source {
    info: Arc<Hdf5DatasetInfo>,
    ds: hdf5::Dataset,
    _file: hdf5::File,
    raw_file: std::fs::File,
    file_len: u64,
    grid: ChunkGrid,
    stored_dtype: DType,
    out_dtype: DType,
    big_endian: bool,
    fill: NdData,
    missing: Option<MissingValues>,
    path: ReadPath,
    index_query: ChunkIndexQuery,
    index: OnceLock<std::result::Result<Arc<ChunkIndex>, String>>,
    counters: Counters,
    name: String,
    identity: Option<String>,
}

impl std::fmt::Debug for Hdf5Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hdf5Source")
            .field("name", &self.name)
            .field("shape", &self.grid.shape())
            .field("chunks", &self.grid.chunk_shape())
            .field("dtype", &self.out_dtype)
            .field("path", &self.path)
            .finish()
    }
}

/// Opens an HDF5 file for reading, with errors that say whether the file is missing or not
/// HDF5 (or truncated).
pub(crate) fn open_h5_file(path: &Path) -> Result<hdf5::File> {
    // A named pipe would block the library's open until a writer comes: refused first.
    crate::source::path_check::check_path(path, "an HDF5 file", PathKind::File)?;
    let file = hdf5::File::open(path).map_err(|e| {
        if is_netcdf3(path) {
            return Error::file(
                path,
                "a netCDF-3 (classic or 64-bit offset) file, not netCDF-4: only netCDF-4 files \
                 (HDF5 underneath) are read; convert it with `nccopy -k nc4 IN OUT`",
            );
        }
        Error::file(
            path,
            format!("cannot open as HDF5 (not an HDF5 file, or truncated or corrupt): {e}"),
        )
    })?;
    super::fd::close_on_exec(&file);
    Ok(file)
}

/// True when the file starts with a netCDF-3 signature (`CDF` and format 1, 2 or 5).
fn is_netcdf3(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head[..3] == b"CDF"
        && matches!(head[3], 1 | 2 | 5)
}

/// Opens a dataset of an open file, with an error naming file and dataset.
pub(crate) fn open_h5_dataset(
    file: &hdf5::File,
    path: &Path,
    dataset: &str,
) -> Result<hdf5::Dataset> {
    file.dataset(dataset)
        .map_err(|e| Error::file(path, format!("no readable dataset {dataset}: {e}")))
}

impl Hdf5Source {
    /// Opens `dataset` (an absolute path such as `"/group/temperature"`) of the HDF5 file at
    /// `path` with default options. Reads metadata only.
    pub fn open(path: impl AsRef<Path>, dataset: &str) -> Result<Self> {
        Self::open_with(path, dataset, &Hdf5Options::default())
    }

    /// Opens a dataset with options.
    pub fn open_with(path: impl AsRef<Path>, dataset: &str, options: &Hdf5Options) -> Result<Self> {
        let path = path.as_ref();
        let file = open_h5_file(path)?;
        let ds = open_h5_dataset(&file, path, dataset)?;
        Self::from_handles(file, ds, path, dataset, options)
    }

    pub(crate) fn from_handles(
        file: hdf5::File,
        ds: hdf5::Dataset,
        path: &Path,
        dataset: &str,
        options: &Hdf5Options,
    ) -> Result<Self> {
        let info = Hdf5DatasetInfo::from_dataset(&ds, path, dataset)?;
        let stored_dtype = info.require_dtype()?;
        if info.vastarray_complete() == Some(false) && !options.allow_incomplete {
            return Err(Error::file(
                path,
                format!(
                    "dataset {dataset} is marked incomplete (attribute {} = 0: a vastarray store did not finish); \
                     set Hdf5Options::allow_incomplete to read it anyway",
                    crate::io::hdf5::COMPLETE_ATTR
                ),
            ));
        }
        let ndim = info.shape.len();
        let chunk_shape = match (&info.layout, &info.chunks) {
            (Hdf5Layout::Chunked, Some(c)) if c.len() == ndim && c.iter().all(|&x| x > 0) => {
                c.clone()
            }
            (Hdf5Layout::Chunked, c) => {
                return Err(Error::file(
                    path,
                    format!(
                        "dataset {dataset}: invalid chunk shape {c:?} for shape {:?}",
                        info.shape
                    ),
                ))
            }
            (Hdf5Layout::Compact, _) => info.shape.iter().map(|&n| n.max(1)).collect(),
            _ => auto_chunk_shape(
                &info.shape,
                stored_dtype.size(),
                options.contiguous_chunk_bytes,
            ),
        };
        let grid = ChunkGrid::new(info.shape.clone(), chunk_shape);
        check_declared_size(&grid, stored_dtype)
            .map_err(|e| Error::file(path, format!("dataset {dataset}: {e}")))?;
        let raw_file = std::fs::File::open(path)
            .map_err(|e| Error::file(path, "cannot open for reading").caused_by(e))?;
        let meta = raw_file.metadata().map_err(|e| Error::file(path, e))?;
        let file_len = meta.len();
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        let identity = mtime.map(|t| {
            let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            format!(
                "hdf5:{}:{}:size={}:mtime={}",
                canon.display(),
                dataset,
                file_len,
                t.as_nanos()
            )
        });
        let fill = dataset_fill_value(&ds, stored_dtype).map_err(|e| {
            Error::file(
                path,
                format!("dataset {dataset}: reading the fill value: {e}"),
            )
        })?;
        let byte_order_ok = stored_dtype.size() == 1 || info.byte_order != Hdf5ByteOrder::Other;
        let raw_ok = options.raw_reads && byte_order_ok && ndim > 0;
        let path_kind = match info.layout {
            Hdf5Layout::Chunked if raw_ok => {
                let partial_edges_unfiltered = !info.filters.is_empty()
                    && ds
                        .create_plist()
                        .ok()
                        .and_then(|p| p.get_chunk_opts().ok().flatten())
                        .is_some_and(|o| {
                            o.contains(hdf5::dataset::ChunkOpts::DONT_FILTER_PARTIAL_CHUNKS)
                        });
                ReadPath::RawChunked {
                    userblock: file.userblock(),
                    partial_edges_unfiltered,
                }
            }
            Hdf5Layout::Contiguous if raw_ok => match ds.offset() {
                Some(offset) => ReadPath::RawContiguous { offset },
                None => ReadPath::Library,
            },
            _ => ReadPath::Library,
        };
        let missing = options
            .missing_as_nan
            .then(|| MissingValues::of(&info))
            .filter(|m| !m.values().is_empty());
        let out_dtype = missing
            .as_ref()
            .map_or(stored_dtype, |m| m.output_dtype(stored_dtype));
        Ok(Hdf5Source {
            name: format!("{}:{}", path.display(), dataset),
            big_endian: info.byte_order == Hdf5ByteOrder::Big,
            info: Arc::new(info),
            ds,
            _file: file,
            raw_file,
            file_len,
            grid,
            stored_dtype,
            out_dtype,
            fill,
            missing,
            path: path_kind,
            index_query: options.chunk_index_query,
            index: OnceLock::new(),
            counters: Counters::default(),
            identity,
        })
    }

    /// The dataset's metadata (attributes, filters, layout, fill value).
    pub fn info(&self) -> &Hdf5DatasetInfo {
        &self.info
    }

    /// The file this dataset is in.
    pub fn file_path(&self) -> &Path {
        &self.info.file
    }

    /// How reads were served so far (raw, library, fill).
    pub fn stats(&self) -> Hdf5ReadStats {
        Hdf5ReadStats {
            raw_chunks: self.counters.raw_chunks.load(Ordering::Relaxed),
            library_chunks: self.counters.library_chunks.load(Ordering::Relaxed),
            fill_chunks: self.counters.fill_chunks.load(Ordering::Relaxed),
            raw_bytes: self.counters.raw_bytes.load(Ordering::Relaxed),
            index_loads: self.counters.index_loads.load(Ordering::Relaxed),
            lookups: self.counters.lookups.load(Ordering::Relaxed),
        }
    }

    /// True when chunks can be read without the library (chunked or contiguous storage in a
    /// byte order the raw reader handles, raw reads not switched off). Individual chunks may
    /// still go through the library when a filter of theirs cannot be decoded here.
    pub fn raw_path_available(&self) -> bool {
        !matches!(self.path, ReadPath::Library)
    }

    fn read_error(&self, index: &[usize], message: impl std::fmt::Display) -> Error {
        Error::read(self.name.clone(), Some(index), message)
    }

    fn chunk_index(&self) -> std::result::Result<&Arc<ChunkIndex>, String> {
        let userblock = match self.path {
            ReadPath::RawChunked { userblock, .. } => userblock,
            _ => 0,
        };
        self.index
            .get_or_init(|| {
                self.counters.index_loads.fetch_add(1, Ordering::Relaxed);
                let mode = match self.index_query {
                    ChunkIndexQuery::Auto => ListMode::Auto,
                    ChunkIndexQuery::ByIndex => ListMode::Always,
                    ChunkIndexQuery::ByCoord => ListMode::Never,
                };
                ChunkIndex::read(
                    &self.ds,
                    &self.grid,
                    mode,
                    userblock,
                    &self.raw_file,
                    self.file_len,
                )
                .map(Arc::new)
                .map_err(|e| format!("reading the chunk index: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Reads one chunk of the stored type (before missing values become NaN).
    fn read_stored(&self, index: &[usize]) -> Result<NdData> {
        let extent = self.grid.chunk_extent(index);
        if extent.contains(&0) {
            return Ok(NdData::zeros(self.stored_dtype, &extent));
        }
        match self.path {
            ReadPath::RawChunked {
                partial_edges_unfiltered,
                ..
            } => {
                let idx = self.chunk_index().map_err(|e| self.read_error(index, e))?;
                let partial = extent.as_slice() != self.grid.chunk_shape();
                let loc = match idx.get(self.grid.linear_index(index)) {
                    ChunkEntry::Absent => return Ok(self.fill_chunk(&extent)),
                    ChunkEntry::Unlisted => {
                        if partial && partial_edges_unfiltered {
                            return self.read_library(index);
                        }
                        return self.read_looked_up(index, &extent);
                    }
                    ChunkEntry::Stored(loc) => loc,
                };
                if (partial && partial_edges_unfiltered)
                    || !chunk_decodable(&self.info.filters, loc.filter_mask)
                {
                    return self.read_library(index);
                }
                let full = read_stored_chunk(
                    &self.raw_file,
                    self.file_len,
                    loc,
                    &self.info.filters,
                    self.stored_dtype,
                    self.big_endian,
                    self.grid.chunk_shape(),
                )
                .map_err(|e| {
                    self.read_error(
                        index,
                        format!("stored at byte {} ({} bytes): {e}", loc.offset, loc.size),
                    )
                })?;
                self.counters.raw_chunks.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .raw_bytes
                    .fetch_add(loc.size, Ordering::Relaxed);
                Ok(crop(full, &extent))
            }
            ReadPath::RawContiguous { offset } => {
                let bx = self.grid.chunk_box(index);
                let first = linear_offset(self.grid.shape(), &bx);
                let size = self.stored_dtype.size() as u64;
                // The dataset's byte count was checked to fit in u64 when it was opened.
                let len = extent.iter().product::<usize>() as u64 * size;
                let at = offset
                    .checked_add(first * size)
                    .ok_or_else(|| self.read_error(index, "the dataset's file offset overflows"))?;
                let data = decode_into_array(self.stored_dtype, self.big_endian, &extent, |buf| {
                    pread_into(&self.raw_file, self.file_len, at, buf)
                })
                .map_err(|e| self.read_error(index, e))?;
                self.counters.raw_chunks.fetch_add(1, Ordering::Relaxed);
                self.counters.raw_bytes.fetch_add(len, Ordering::Relaxed);
                Ok(data)
            }
            ReadPath::Library => self.read_library(index),
        }
    }

    /// A chunk never written: the fill value, without I/O.
    fn fill_chunk(&self, extent: &[usize]) -> NdData {
        self.counters.fill_chunks.fetch_add(1, Ordering::Relaxed);
        filled(&self.fill, extent)
    }

    /// Reads a chunk that was not listed: looks it up and reads its stored bytes through the
    /// library (under the lock), then decodes them here (outside it).
    fn read_looked_up(&self, index: &[usize], extent: &[usize]) -> Result<NdData> {
        self.counters.lookups.fetch_add(1, Ordering::Relaxed);
        let coords = chunk_coords(&self.grid, index);
        let decoded = read_direct(&self.ds, &coords, self.file_len, |stored, mask| {
            if !chunk_decodable(&self.info.filters, mask) {
                return None;
            }
            Some(
                decode_stored(
                    stored,
                    mask,
                    &self.info.filters,
                    self.stored_dtype,
                    self.big_endian,
                    self.grid.chunk_shape(),
                )
                .map(|d| (d, stored.len())),
            )
        })
        .map_err(|e| self.read_error(index, e))?;
        match decoded {
            None => Ok(self.fill_chunk(extent)),
            Some(None) => self.read_library(index),
            Some(Some(result)) => {
                let (full, stored) = result.map_err(|e| {
                    self.read_error(index, format!("stored chunk read through the library: {e}"))
                })?;
                self.counters.raw_chunks.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .raw_bytes
                    .fetch_add(stored as u64, Ordering::Relaxed);
                Ok(crop(full, extent))
            }
        }
    }

    /// Reads a box of the stored type: starts from the fill value and copies in the chunks
    /// that were written, so unwritten chunks cost nothing (when the chunks are listed, not
    /// even a visit: only the listed chunks inside the box are read).
    fn read_stored_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        if let Some(data) = self.read_unfiltered_box(region)? {
            return Ok(data);
        }
        let shape: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        let mut out = filled(&self.fill, &shape);
        if out.is_empty() {
            return Ok(out);
        }
        let listed = match self.path {
            ReadPath::RawChunked { .. } => {
                let idx = self
                    .chunk_index()
                    .map_err(|e| Error::read(self.name(), None, e))?;
                idx.listed_in_box(&self.grid, region)
            }
            _ => None,
        };
        let chunks: Vec<Vec<usize>> = match listed {
            Some(stored) => stored
                .into_iter()
                .map(|(linear, _)| self.grid.multi_index(linear))
                .collect(),
            None => self.grid.chunks_in_box(region),
        };
        for idx in chunks {
            let chunk = self.read_stored(&idx)?;
            copy_overlap(&chunk, &self.grid.chunk_box(&idx), &mut out, region)?;
        }
        Ok(out)
    }

    /// True when every chunk is stored as plain bytes (no filter) and read without the
    /// library: then any box costs one `pread` per run of its bytes, about what copying it out
    /// of memory costs.
    fn unfiltered_raw(&self) -> bool {
        match self.path {
            ReadPath::RawContiguous { .. } => true,
            ReadPath::RawChunked { .. } => self.info.filters.is_empty(),
            ReadPath::Library => false,
        }
    }

    /// Reads a box that lies in one unfiltered stored chunk (or in contiguous storage)
    /// straight from its byte runs in the file: no whole chunk, no zeroing, no copy. `None` when
    /// the box is not such a box.
    fn read_unfiltered_box(&self, region: &[Range<usize>]) -> Result<Option<NdData>> {
        const MAX_RUNS: usize = 4096;
        if !self.unfiltered_raw() || region.iter().any(|r| r.is_empty()) {
            return Ok(None);
        }
        let item = self.stored_dtype.size();
        let shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
        let (origin, within, rel): (u64, Vec<usize>, Vec<Range<usize>>) = match self.path {
            ReadPath::RawContiguous { offset } => {
                (offset, self.grid.shape().to_vec(), region.to_vec())
            }
            ReadPath::RawChunked { .. } => {
                let chunk = self.grid.chunk_shape();
                let index: Vec<usize> = region
                    .iter()
                    .zip(chunk)
                    .map(|(r, &c)| r.start / c.max(1))
                    .collect();
                if region
                    .iter()
                    .zip(chunk)
                    .zip(&index)
                    .any(|((r, &c), &i)| (r.end - 1) / c.max(1) != i)
                {
                    return Ok(None);
                }
                let idx = self
                    .chunk_index()
                    .map_err(|e| Error::read(self.name(), Some(&index), e))?;
                let loc = match idx.get(self.grid.linear_index(&index)) {
                    ChunkEntry::Stored(loc) => loc,
                    _ => return Ok(None),
                };
                let full = chunk_bytes(chunk, self.stored_dtype)
                    .map_err(|e| self.read_error(&index, e))?;
                if loc.size != full as u64 {
                    return Ok(None);
                }
                let rel = region
                    .iter()
                    .zip(chunk)
                    .zip(&index)
                    .map(|((r, &c), &i)| r.start - i * c..r.end - i * c)
                    .collect();
                (loc.offset, chunk.to_vec(), rel)
            }
            ReadPath::Library => return Ok(None),
        };
        let Some(runs) = box_runs(origin, &within, &rel, item, MAX_RUNS) else {
            return Ok(None);
        };
        let data = read_runs_into_array(
            &self.raw_file,
            self.file_len,
            &runs,
            self.stored_dtype,
            self.big_endian,
            &shape,
        )
        .map_err(|e| Error::read(self.name(), None, format!("region {region:?}: {e}")))?;
        // Counted as the chunks (contiguous storage: slabs of the grid) the box lies in.
        let chunks: usize = region
            .iter()
            .zip(self.grid.chunk_shape())
            .map(|(r, &c)| (r.end - 1) / c.max(1) - r.start / c.max(1) + 1)
            .product();
        self.counters
            .raw_chunks
            .fetch_add(chunks, Ordering::Relaxed);
        self.counters.raw_bytes.fetch_add(
            (shape.iter().product::<usize>() * item) as u64,
            Ordering::Relaxed,
        );
        Ok(Some(data))
    }

    /// Reads one chunk through the HDF5 library (under its global lock).
    fn read_library(&self, index: &[usize]) -> Result<NdData> {
        let bx = self.grid.chunk_box(index);
        let data = self
            .library_region(&bx)
            .map_err(|e| self.read_error(index, format!("HDF5 library read: {e}")))?;
        self.counters.library_chunks.fetch_add(1, Ordering::Relaxed);
        Ok(data)
    }

    /// Reads a box through the library.
    fn library_region(&self, region: &[Range<usize>]) -> hdf5::Result<NdData> {
        if region.is_empty() {
            return crate::dispatch_dtype!(self.stored_dtype, T => Ok(T::wrap(self.ds.read_dyn::<T>()?)));
        }
        let sel = Hyperslab::from(
            region
                .iter()
                .map(|r| SliceOrIndex::from(r.clone()))
                .collect::<Vec<_>>(),
        );
        crate::dispatch_dtype!(self.stored_dtype, T => Ok(T::wrap(self.ds.read_slice::<T, _, IxDyn>(sel)?)))
    }
}

/// The C-order element offset of a box's first element in an array of `shape` (whose element
/// count fits in u64, checked when the dataset was opened).
fn linear_offset(shape: &[usize], bx: &[Range<usize>]) -> u64 {
    let mut off: u64 = 0;
    for (n, r) in shape.iter().zip(bx) {
        off = off * (*n as u64) + r.start as u64;
    }
    off
}

/// Refuses, before anything is read or allocated, a dataset whose declared size cannot be
/// addressed: more elements, bytes or chunks than 64-bit counts hold, or a chunk larger than
/// memory can hold.
fn check_declared_size(grid: &ChunkGrid, dtype: DType) -> std::result::Result<(), String> {
    let shape = grid.shape();
    let elements = shape
        .iter()
        .try_fold(1u64, |acc, &n| acc.checked_mul(n as u64));
    let bytes = elements.and_then(|e| e.checked_mul(dtype.size() as u64));
    if bytes.is_none() {
        return Err(format!(
            "its shape {shape:?} of {dtype} holds more than 2^64 bytes"
        ));
    }
    let chunks = grid
        .grid_shape()
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n));
    if chunks.is_none() {
        return Err(format!(
            "its shape {shape:?} in chunks of {:?} has more than 2^64 chunks",
            grid.chunk_shape()
        ));
    }
    chunk_bytes(grid.chunk_shape(), dtype).map(|_| ())
}

/// A chunk shape for unchunked data of `shape`: whole trailing axes while a chunk stays within
/// `target_bytes`, then a slab of the next axis, then single steps. Each such chunk is one
/// contiguous byte range of a C-order array.
pub fn auto_chunk_shape(shape: &[usize], itemsize: usize, target_bytes: usize) -> Vec<usize> {
    let mut chunk = vec![1usize; shape.len()];
    let mut bytes = itemsize.max(1);
    for d in (0..shape.len()).rev() {
        let n = shape[d].max(1);
        let whole = bytes.saturating_mul(n);
        if whole <= target_bytes {
            chunk[d] = n;
            bytes = whole;
        } else {
            chunk[d] = (target_bytes / bytes).clamp(1, n);
            break;
        }
    }
    chunk
}

impl ChunkSource for Hdf5Source {
    fn shape(&self) -> &[usize] {
        self.grid.shape()
    }

    fn dtype(&self) -> DType {
        self.out_dtype
    }

    fn chunk_shape(&self) -> &[usize] {
        self.grid.chunk_shape()
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        self.grid
            .checked_linear_index(index)
            .map_err(|e| self.read_error(index, e))?;
        let data = self.read_stored(index)?;
        Ok(match &self.missing {
            Some(m) => m.apply(data),
            None => data,
        })
    }

    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        self.grid
            .check_region(region)
            .map_err(|e| Error::read(self.name(), None, e))?;
        let data = self.read_stored_region(region)?;
        Ok(match &self.missing {
            Some(m) => m.apply(data),
            None => data,
        })
    }

    fn prefers_region_reads(&self) -> bool {
        self.unfiltered_raw()
    }

    fn cheap_region_reads(&self) -> bool {
        self.unfiltered_raw()
    }

    fn read_chunks(&self, indices: &[Vec<usize>]) -> Result<Vec<NdData>> {
        if self.raw_path_available() {
            indices.par_iter().map(|i| read_checked(self, i)).collect()
        } else {
            indices.iter().map(|i| read_checked(self, i)).collect()
        }
    }

    fn identity(&self) -> Option<String> {
        self.identity.clone()
    }
}
