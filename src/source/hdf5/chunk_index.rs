//! [`ChunkIndex`]: where each stored chunk of a chunked dataset lies in the file (byte offset,
//! stored size, filter mask), read once from HDF5's chunk index and then consulted without the
//! library's lock.

use crate::source::ChunkGrid;
use std::collections::HashMap;
use std::fs::File;

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

/// The stored chunks of a dataset, by C-order chunk number. Chunks never written are absent.
#[derive(Clone, Debug, Default)]
pub struct ChunkIndex {
    chunks: HashMap<usize, ChunkLocation>,
}

impl ChunkIndex {
    /// The location of chunk number `linear` (C order of the chunk grid), if it was written.
    pub fn get(&self, linear: usize) -> Option<ChunkLocation> {
        self.chunks.get(&linear).copied()
    }

    /// Number of stored chunks.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    /// True when no chunk was ever written.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Reads the index of `ds` (chunked, with chunk grid `grid`) under the library's lock.
    ///
    /// HDF5 1.10 offers two queries: the `i`-th stored chunk (each call walks the index from
    /// the start, so listing `n` chunks costs `n²/2` steps) and the chunk at given coordinates
    /// (a B-tree lookup). `by_coord` chooses one; `None` takes the cheaper for this dataset's
    /// numbers of stored and possible chunks.
    ///
    /// In a file with a user block, HDF5 addresses are relative to the superblock, which sits
    /// after it; whether `H5Dget_chunk_info` adds the user block size depends on the library
    /// version (1.10 does not). When the file has a user block, one stored chunk is read both
    /// through the library and by `pread` (`raw`, `file_len`) to find out.
    pub fn read(
        ds: &hdf5::Dataset,
        grid: &ChunkGrid,
        by_coord: Option<bool>,
        userblock: u64,
        raw: &File,
        file_len: u64,
    ) -> Result<ChunkIndex, String> {
        let mut index = Self::read_unadjusted(ds, grid, by_coord)?;
        if userblock > 0 {
            let base = index.find_base(ds, grid, userblock, raw, file_len)?;
            for loc in index.chunks.values_mut() {
                loc.offset = loc.offset.saturating_add(base);
            }
        }
        Ok(index)
    }

    /// What to add to the reported addresses: 0 or `userblock`, whichever makes `pread` give
    /// the bytes the library gives for one stored chunk.
    fn find_base(
        &self,
        ds: &hdf5::Dataset,
        grid: &ChunkGrid,
        userblock: u64,
        raw: &File,
        file_len: u64,
    ) -> Result<u64, String> {
        let Some((&linear, &loc)) = self.chunks.iter().min_by_key(|(_, l)| l.size) else {
            return Ok(0);
        };
        let coords: Vec<u64> = grid
            .multi_index(linear)
            .iter()
            .zip(grid.chunk_shape())
            .map(|(&i, &c)| (i * c) as u64)
            .collect();
        let mut via_library = vec![0u8; usize::try_from(loc.size).map_err(|e| e.to_string())?];
        let mut mask: u32 = 0;
        let status = hdf5::sync::sync(|| {
            // SAFETY: `coords` has one entry per axis; `via_library` holds the chunk's stored
            // size, which is what H5Dread_chunk writes. The global lock is held.
            unsafe {
                hdf5_sys::h5d::H5Dread_chunk1(
                    ds.id(),
                    hdf5_sys::h5p::H5P_DEFAULT,
                    coords.as_ptr(),
                    &mut mask,
                    via_library.as_mut_ptr().cast(),
                )
            }
        });
        if status < 0 {
            return Err("cannot read a stored chunk through the library to locate chunks after the user block".into());
        }
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

    fn read_unadjusted(
        ds: &hdf5::Dataset,
        grid: &ChunkGrid,
        by_coord: Option<bool>,
    ) -> Result<ChunkIndex, String> {
        let ndim = grid.shape().len();
        let total = grid.num_chunks();
        let grid_shape = grid.grid_shape();
        hdf5::sync::sync(|| {
            let stored = ds.num_chunks().ok_or("cannot count the stored chunks")?;
            let by_index_cost = (stored as f64) * (stored as f64) / 2.0;
            let by_coord_cost = (total as f64) * 24.0;
            let mut chunks = HashMap::with_capacity(stored);
            if stored == 0 {
                return Ok(ChunkIndex { chunks });
            }
            if !by_coord.unwrap_or(by_index_cost > by_coord_cost) {
                for i in 0..stored {
                    let info = ds
                        .chunk_info(i)
                        .ok_or_else(|| format!("cannot read the location of stored chunk {i}"))?;
                    let index: Vec<usize> = info
                        .offset
                        .iter()
                        .zip(grid.chunk_shape())
                        .map(|(&o, &c)| (o as usize) / c)
                        .collect();
                    if index.len() != ndim || index.iter().zip(&grid_shape).any(|(i, n)| i >= n) {
                        return Err(format!(
                            "stored chunk {i} has offset {:?} outside the dataset",
                            info.offset
                        ));
                    }
                    chunks.insert(
                        grid.linear_index(&index),
                        ChunkLocation {
                            offset: info.addr,
                            size: info.size,
                            filter_mask: info.filter_mask,
                        },
                    );
                }
            } else {
                for linear in 0..total {
                    let index = grid.multi_index(linear);
                    let coords: Vec<u64> = index
                        .iter()
                        .zip(grid.chunk_shape())
                        .map(|(&i, &c)| (i * c) as u64)
                        .collect();
                    let mut mask: u32 = 0;
                    let mut addr: u64 = hdf5_sys::h5::HADDR_UNDEF;
                    let mut size: u64 = 0;
                    // SAFETY: `coords` has one entry per axis of the dataset; the out-pointers
                    // point at live locals of the right types. The global lock is held.
                    let status = unsafe {
                        hdf5_sys::h5d::H5Dget_chunk_info_by_coord(
                            ds.id(),
                            coords.as_ptr(),
                            &mut mask,
                            &mut addr,
                            &mut size,
                        )
                    };
                    if status < 0 {
                        return Err(format!("cannot read the location of chunk {index:?}"));
                    }
                    if addr != hdf5_sys::h5::HADDR_UNDEF {
                        chunks.insert(
                            linear,
                            ChunkLocation {
                                offset: addr,
                                size,
                                filter_mask: mask,
                            },
                        );
                    }
                }
            }
            Ok(ChunkIndex { chunks })
        })
    }
}
