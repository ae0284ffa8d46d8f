//! [`ChunkIndex`]: where the stored chunks of a chunked dataset lie in the file, found in a
//! bounded amount of memory and time whatever the dataset's declared shape.
//!
//! HDF5 1.10 offers three ways to find a chunk, measured on this machine's 1.10.8:
//! - `H5Dget_chunk_info(i)`, the `i`-th stored chunk: each call walks the index from the start
//!   (27 µs for the 2100th chunk), so listing `n` chunks costs about `n²/2` steps;
//! - `H5Dget_chunk_info_by_coord`: also a walk from the start until the chunk is found (24 µs
//!   for the 2100th), one call per chunk of the grid, stored or not;
//! - `H5Dget_chunk_storage_size` and `H5Dread_chunk`: a real index lookup (B-tree, fixed or
//!   extensible array), 2 to 15 µs whatever the number of chunks, but the bytes are read under
//!   the library's global lock.
//!
//! So a dataset with at most [`LIST_LIMIT`] stored chunks has them listed once (a table of at
//! most that many entries; every other chunk is known to be unwritten at no cost), and later
//! reads `pread` without the lock; a dataset with more stored chunks is never listed: each read
//! looks its chunk up and reads its stored bytes through the library ([`read_direct`]), and
//! decodes them outside the lock. The number of chunks of the grid never matters.

use super::raw::{take_stored_buffer, StoredBuffer};
use crate::source::ChunkGrid;
use std::collections::HashMap;
use std::fs::File;
use std::ops::Range;

/// Datasets with at most this many stored chunks have their chunks listed up front (listing
/// costs about `n²/2` steps of the library's index walk, about 12 ns each here: 25 ms for 2048
/// chunks, 0.4 s at this limit, which a dataset of that many chunks repays in parallel reads).
pub const LIST_LIMIT: usize = 8192;

/// Even on request ([`ListMode::Always`]), no more than this many stored chunks are listed.
pub const LIST_HARD_LIMIT: usize = 1 << 16;

/// Where one stored chunk lies in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkLocation {
    /// Byte offset in the file (from its first byte, user block included).
    pub offset: u64,
    /// Stored (filtered) size in bytes.
    pub size: u64,
    /// Bit `i` set: filter `i` of the pipeline was not applied to this chunk.
    pub filter_mask: u32,
}

/// Whether to list the stored chunks up front.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListMode {
    /// List them when there are at most [`LIST_LIMIT`].
    Auto,
    /// List them (up to [`LIST_HARD_LIMIT`]; more is an error).
    Always,
    /// Never: look each chunk up when it is read.
    Never,
}

/// What the index says about one chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkEntry {
    /// Stored at this location.
    Stored(ChunkLocation),
    /// Never written: it holds the fill value.
    Absent,
    /// Not listed: ask the library when reading it (`H5Dread_chunk`).
    Unlisted,
}

/// The stored chunks of a dataset: a bounded table of them, or the means to look each up.
#[derive(Clone, Debug, Default)]
pub struct ChunkIndex {
    stored: usize,
    listed: Option<HashMap<usize, ChunkLocation>>,
}

impl ChunkIndex {
    /// The entry of chunk number `linear` (C order of the chunk grid).
    pub fn get(&self, linear: usize) -> ChunkEntry {
        match &self.listed {
            Some(map) => map
                .get(&linear)
                .map_or(ChunkEntry::Absent, |&l| ChunkEntry::Stored(l)),
            None => ChunkEntry::Unlisted,
        }
    }

    /// Number of stored chunks (as the library counts them).
    pub fn len(&self) -> usize {
        self.stored
    }

    /// True when no chunk was ever written.
    pub fn is_empty(&self) -> bool {
        self.stored == 0
    }

    /// True when the stored chunks were listed up front.
    pub fn is_listed(&self) -> bool {
        self.listed.is_some()
    }

    /// The listed chunks that intersect `region`, as (C-order number, location), in no
    /// particular order; `None` when the chunks are not listed.
    pub fn listed_in_box(
        &self,
        grid: &ChunkGrid,
        region: &[Range<usize>],
    ) -> Option<Vec<(usize, ChunkLocation)>> {
        let map = self.listed.as_ref()?;
        Some(
            map.iter()
                .filter(|(&linear, _)| {
                    grid.chunk_box(&grid.multi_index(linear))
                        .iter()
                        .zip(region)
                        .all(|(c, r)| c.start < r.end && r.start < c.end)
                })
                .map(|(&l, &loc)| (l, loc))
                .collect(),
        )
    }

    /// Reads the index of `ds` (chunked, with chunk grid `grid`, whose number of chunks fits
    /// in `usize`) under the library's lock: counts the stored chunks and lists them if `mode`
    /// says so.
    ///
    /// In a file with a user block, HDF5 addresses are relative to the superblock, which sits
    /// after it; whether `H5Dget_chunk_info` adds the user block size depends on the library
    /// version (1.10 does not). When the file has a user block, one listed chunk is read both
    /// through the library and by `pread` (`raw`, `file_len`) to find out.
    pub fn read(
        ds: &hdf5::Dataset,
        grid: &ChunkGrid,
        mode: ListMode,
        userblock: u64,
        raw: &File,
        file_len: u64,
    ) -> Result<ChunkIndex, String> {
        let stored = count_stored(ds)?;
        let list = match mode {
            ListMode::Auto => stored <= LIST_LIMIT,
            ListMode::Always if stored > LIST_HARD_LIMIT => {
                return Err(format!(
                    "{stored} stored chunks are too many to list (at most {LIST_HARD_LIMIT}): \
                     look chunks up one by one instead"
                ))
            }
            ListMode::Always => true,
            ListMode::Never => false,
        };
        if !list {
            return Ok(ChunkIndex {
                stored,
                listed: None,
            });
        }
        let mut map = list_stored(ds, grid, stored)?;
        if userblock > 0 {
            let base = find_base(&map, ds, grid, userblock, raw, file_len)?;
            for loc in map.values_mut() {
                loc.offset = loc.offset.saturating_add(base);
            }
        }
        Ok(ChunkIndex {
            stored,
            listed: Some(map),
        })
    }
}

/// The number of stored chunks (one walk of the index).
fn count_stored(ds: &hdf5::Dataset) -> Result<usize, String> {
    let n = hdf5::sync::sync(|| {
        // HDF5 1.10 wants the dataset's dataspace here (it refuses H5S_ALL).
        let space = ds.space().ok()?;
        let mut n: hdf5_sys::h5::hsize_t = 0;
        // SAFETY: `n` is a valid out-pointer; `space` is the dataset's open dataspace (all of
        // it selected). The global lock is held.
        let status = unsafe { hdf5_sys::h5d::H5Dget_num_chunks(ds.id(), space.id(), &mut n) };
        (status >= 0).then_some(n)
    })
    .ok_or("cannot count the stored chunks")?;
    usize::try_from(n).map_err(|_| format!("{n} stored chunks cannot be counted here"))
}

/// Lists the `stored` chunks one by one (`H5Dget_chunk_info`), by C-order chunk number.
fn list_stored(
    ds: &hdf5::Dataset,
    grid: &ChunkGrid,
    stored: usize,
) -> Result<HashMap<usize, ChunkLocation>, String> {
    let ndim = grid.shape().len();
    let grid_shape = grid.grid_shape();
    let mut map = HashMap::with_capacity(stored);
    let mut offset = vec![0 as hdf5_sys::h5::hsize_t; ndim];
    hdf5::sync::sync(|| {
        let space = ds
            .space()
            .map_err(|e| format!("cannot read the dataspace: {e}"))?;
        for i in 0..stored {
            let (mut mask, mut addr, mut size) = (0u32, hdf5_sys::h5::HADDR_UNDEF, 0u64);
            // SAFETY: `offset` has one entry per axis of the dataset (what the library writes);
            // the other out-pointers point at live locals of the right types. The lock is held.
            let status = unsafe {
                hdf5_sys::h5d::H5Dget_chunk_info(
                    ds.id(),
                    space.id(),
                    i as hdf5_sys::h5::hsize_t,
                    offset.as_mut_ptr(),
                    &mut mask,
                    &mut addr,
                    &mut size,
                )
            };
            if status < 0 {
                return Err(format!("cannot read the location of stored chunk {i}"));
            }
            let index: Vec<usize> = offset
                .iter()
                .zip(grid.chunk_shape())
                .map(|(&o, &c)| usize::try_from(o).map_or(usize::MAX, |o| o / c))
                .collect();
            if index.iter().zip(&grid_shape).any(|(i, n)| i >= n) {
                return Err(format!(
                    "stored chunk {i} has offset {offset:?} outside the dataset"
                ));
            }
            if addr == hdf5_sys::h5::HADDR_UNDEF {
                continue;
            }
            map.insert(
                grid.linear_index(&index),
                ChunkLocation {
                    offset: addr,
                    size,
                    filter_mask: mask,
                },
            );
        }
        Ok(map)
    })
}

/// The element offset of chunk `index`'s first element, per axis, as HDF5 wants it.
pub(super) fn chunk_coords(grid: &ChunkGrid, index: &[usize]) -> Vec<hdf5_sys::h5::hsize_t> {
    index
        .iter()
        .zip(grid.chunk_shape())
        .map(|(&i, &c)| (i as u64).saturating_mul(c as u64))
        .collect()
}

/// What to add to the reported addresses: 0 or `userblock`, whichever makes `pread` give
/// the bytes the library gives for one stored chunk.
fn find_base(
    map: &HashMap<usize, ChunkLocation>,
    ds: &hdf5::Dataset,
    grid: &ChunkGrid,
    userblock: u64,
    raw: &File,
    file_len: u64,
) -> Result<u64, String> {
    let Some((&linear, &loc)) = map.iter().min_by_key(|(_, l)| l.size) else {
        return Ok(0);
    };
    let coords = chunk_coords(grid, &grid.multi_index(linear));
    let via_library = read_direct(ds, &coords, file_len, |bytes, _| bytes.to_vec())?
        .ok_or("a listed chunk is not stored when read through the library")?;
    for base in [userblock, 0] {
        if let Ok(bytes) =
            super::raw::pread(raw, file_len, loc.offset.saturating_add(base), loc.size)
        {
            if bytes == via_library {
                return Ok(base);
            }
        }
    }
    Err(format!("chunk addresses do not match the file's contents with or without its {userblock}-byte user block"))
}

/// The descriptions of the frames of this thread's HDF5 error stack, outermost first (call
/// under the global lock, right after the failing call).
fn library_error() -> String {
    match hdf5::Error::query().ok().and_then(|e| e.stack()) {
        Some(stack) => stack
            .iter()
            .map(|f| f.desc().to_owned())
            .collect::<Vec<_>>()
            .join(": "),
        None => "unknown library error".into(),
    }
}

unsafe extern "C" {
    /// `H5Dget_chunk_storage_size` (HDF5 1.10.2+; not bound by `hdf5-metno-sys`): the stored
    /// size of the chunk at `offset`, 0 when it was never written.
    fn H5Dget_chunk_storage_size(
        dset_id: hdf5_sys::h5i::hid_t,
        offset: *const hdf5_sys::h5::hsize_t,
        chunk_bytes: *mut hdf5_sys::h5::hsize_t,
    ) -> hdf5_sys::h5::herr_t;
}

/// Looks the chunk at element offset `coords` up in the library's index and reads its stored
/// bytes (`H5Dread_chunk`) into this thread's stored-bytes buffer, under the global lock; then,
/// outside the lock, calls `f(bytes, filter_mask)`. `None` when the chunk was never written. A
/// stored size larger than the file (`file_len`) is refused before anything is allocated.
pub(super) fn read_direct<R>(
    ds: &hdf5::Dataset,
    coords: &[hdf5_sys::h5::hsize_t],
    file_len: u64,
    f: impl FnOnce(&[u8], u32) -> R,
) -> Result<Option<R>, String> {
    let mut buf: StoredBuffer = take_stored_buffer();
    let got = hdf5::sync::sync(|| -> Result<Option<(usize, u32)>, String> {
        let mut size: hdf5_sys::h5::hsize_t = 0;
        // SAFETY: `coords` has one entry per axis (the caller's grid is the dataset's); `size`
        // is a live out-pointer. The global lock is held.
        let status = unsafe { H5Dget_chunk_storage_size(ds.id(), coords.as_ptr(), &mut size) };
        if status < 0 {
            // HDF5 1.10 reports a chunk never written as this error (later versions give 0).
            let stack = library_error();
            if stack.contains("chunk storage is not allocated") {
                return Ok(None);
            }
            return Err(format!(
                "cannot look up the chunk at {coords:?} in the chunk index: {stack}"
            ));
        }
        if size == 0 {
            return Ok(None);
        }
        if size > file_len {
            return Err(format!(
                "the chunk index gives a stored size of {size} bytes, more than the whole file \
                 ({file_len} bytes): the file is corrupt"
            ));
        }
        let len = usize::try_from(size).map_err(|_| format!("chunk of {size} bytes"))?;
        let bytes = buf.sized(len);
        let mut mask: u32 = 0;
        // SAFETY: `bytes` holds the chunk's stored size, which is what H5Dread_chunk writes;
        // `coords` as above. The global lock is held, so the index cannot change in between.
        let status = unsafe {
            hdf5_sys::h5d::H5Dread_chunk1(
                ds.id(),
                hdf5_sys::h5p::H5P_DEFAULT,
                coords.as_ptr(),
                &mut mask,
                bytes.as_mut_ptr().cast(),
            )
        };
        if status < 0 {
            return Err(format!(
                "cannot read the stored chunk at {coords:?} through the library: {}",
                library_error()
            ));
        }
        Ok(Some((len, mask)))
    });
    let result = got.map(|o| o.map(|(len, mask)| f(buf.sized(len), mask)));
    buf.give_back();
    result
}
