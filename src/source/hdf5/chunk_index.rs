//! [`ChunkIndex`]: where each stored chunk of a chunked dataset lies in the file (byte offset,
//! stored size, filter mask), read once from HDF5's chunk index and then consulted without the
//! library's lock.

use crate::source::ChunkGrid;
use std::collections::HashMap;

/// Where one stored chunk lies in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkLocation {
    /// Absolute byte offset in the file.
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

    /// Reads the index of `ds` (chunked, with chunk grid `grid`). `base` is added to the
    /// addresses HDF5 reports (see [`address_base`]). Holds the library's lock while it runs.
    ///
    /// HDF5 1.10 offers two queries: the `i`-th stored chunk (each call walks the index from
    /// the start, so listing `n` chunks costs `n²/2` steps) and the chunk at given coordinates
    /// (a B-tree lookup). `by_coord` chooses one; `None` takes the cheaper for this dataset's
    /// numbers of stored and possible chunks.
    pub fn read(
        ds: &hdf5::Dataset,
        grid: &ChunkGrid,
        base: u64,
        by_coord: Option<bool>,
    ) -> Result<ChunkIndex, String> {
        let ndim = grid.shape().len();
        let total = grid.num_chunks();
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
                    if index.len() != ndim
                        || index.iter().zip(grid.grid_shape()).any(|(i, n)| *i >= n)
                    {
                        return Err(format!(
                            "stored chunk {i} has offset {:?} outside the dataset",
                            info.offset
                        ));
                    }
                    chunks.insert(
                        grid.linear_index(&index),
                        ChunkLocation {
                            offset: info.addr.saturating_add(base),
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
                                offset: addr.saturating_add(base),
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

/// What to add to the chunk addresses HDF5 1.10 reports to get file offsets: the user block
/// size. HDF5 addresses are relative to the superblock, which sits after the user block;
/// `H5Dget_chunk_info` in 1.10 reports them unadjusted (`H5Dget_offset` adjusts; HDF5 1.14
/// adjusts both).
pub fn address_base(file: &hdf5::File) -> u64 {
    file.userblock()
}
