//! [`ChunkAlignedBuffers`]: boxes of at most N bytes that cover whole chunks of a chunk grid,
//! as hdmf's `GenericDataChunkIterator` makes them, so that a writer never writes a chunk twice.

use crate::error::{Error, Result};
use crate::source::ChunkGrid;
use std::ops::Range;

/// An iterator over boxes that tile an array, each a union of whole chunks (clipped at the
/// array's edge) of at most `max_bytes` (or one chunk, if a single chunk is larger), in C order.
///
/// The buffer shape is grown from the last axis backwards: whole rows of chunks first, then
/// planes, so buffers are as contiguous as the budget allows.
///
/// ```
/// use vastarray::sink::ChunkAlignedBuffers;
/// let b = ChunkAlignedBuffers::new(&[10, 6], &[4, 3], 8, 4 * 6 * 8).unwrap();
/// let boxes: Vec<_> = b.collect();
/// assert_eq!(boxes, vec![vec![0..4, 0..6], vec![4..8, 0..6], vec![8..10, 0..6]]);
/// ```
#[derive(Clone, Debug)]
pub struct ChunkAlignedBuffers {
    shape: Vec<usize>,
    buffer: Vec<usize>,
    counts: Vec<usize>,
    next: usize,
    total: usize,
}

impl ChunkAlignedBuffers {
    /// Buffers over an array of `shape` with chunks `chunks` and `itemsize` bytes per element,
    /// each at most `max_bytes` (but never smaller than one chunk).
    pub fn new(
        shape: &[usize],
        chunks: &[usize],
        itemsize: usize,
        max_bytes: usize,
    ) -> Result<Self> {
        if shape.len() != chunks.len() || chunks.contains(&0) {
            return Err(Error::Shape(format!(
                "chunk shape {chunks:?} does not fit shape {shape:?}"
            )));
        }
        let grid = ChunkGrid::new(shape.to_vec(), chunks.to_vec());
        let gshape = grid.grid_shape();
        let chunk_bytes = chunks.iter().product::<usize>().max(1) * itemsize.max(1);
        let mut budget_chunks = (max_bytes / chunk_bytes).max(1);
        // Number of chunks per buffer along each axis, filled from the last axis.
        let mut per = vec![1usize; shape.len()];
        for d in (0..shape.len()).rev() {
            let take = budget_chunks.min(gshape[d].max(1));
            per[d] = take;
            budget_chunks /= take;
            if take < gshape[d] || budget_chunks <= 1 {
                break;
            }
        }
        let buffer: Vec<usize> = per.iter().zip(chunks).map(|(p, c)| p * c).collect();
        let counts: Vec<usize> = shape
            .iter()
            .zip(&buffer)
            .map(|(n, b)| n.div_ceil(*b))
            .collect();
        let total = if shape.contains(&0) {
            0
        } else {
            counts.iter().product()
        };
        Ok(ChunkAlignedBuffers {
            shape: shape.to_vec(),
            buffer,
            counts,
            next: 0,
            total,
        })
    }

    /// The shape of a full (unclipped) buffer.
    pub fn buffer_shape(&self) -> &[usize] {
        &self.buffer
    }

    /// Number of buffers in all.
    pub fn num_buffers(&self) -> usize {
        self.total
    }
}

impl Iterator for ChunkAlignedBuffers {
    type Item = Vec<Range<usize>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.total {
            return None;
        }
        let mut n = self.next;
        self.next += 1;
        let mut idx = vec![0; self.shape.len()];
        for d in (0..self.shape.len()).rev() {
            idx[d] = n % self.counts[d];
            n /= self.counts[d];
        }
        Some(
            idx.iter()
                .zip(&self.buffer)
                .zip(&self.shape)
                .map(|((i, b), s)| (i * b)..((i + 1) * b).min(*s))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_cover_each_chunk_once() {
        let shape = [13, 7, 5];
        let chunks = [2, 3, 2];
        for max in [1usize, 40, 100, 500, 10_000] {
            let grid = ChunkGrid::new(shape.to_vec(), chunks.to_vec());
            let mut seen = std::collections::BTreeMap::new();
            let mut covered = 0;
            for b in ChunkAlignedBuffers::new(&shape, &chunks, 4, max).unwrap() {
                covered += b.iter().map(|r| r.len()).product::<usize>();
                for (r, c) in b.iter().zip(&chunks) {
                    assert_eq!(r.start % c, 0, "buffer {b:?} starts inside a chunk");
                }
                for c in grid.chunks_in_box(&b) {
                    *seen.entry(c).or_insert(0) += 1;
                }
            }
            assert_eq!(covered, shape.iter().product::<usize>());
            assert_eq!(seen.len(), grid.num_chunks());
            assert!(seen.values().all(|&v| v == 1));
        }
    }
}
