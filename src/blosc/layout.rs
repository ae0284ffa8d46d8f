//! [`ChunkLayout`]: the two-level geometry of a b2nd chunk (chunk, blocks inside it) and the
//! moves between a C-ordered chunk and the block-by-block order Blosc2 compresses.
//!
//! A b2nd chunk always has the full chunk shape (edge chunks are padded), rounded up to a whole
//! number of blocks (the *extended* chunk shape). Its decompressed bytes are the blocks one
//! after the other, blocks in C order of the block grid, each block in C order of the block
//! shape.

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::source::cartesian;
use std::ops::Range;

/// The geometry of one chunk of a `.b2nd` array: chunk shape, block shape and element type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkLayout {
    chunk: Vec<usize>,
    block: Vec<usize>,
    ext_chunk: Vec<usize>,
    dtype: DType,
}

impl ChunkLayout {
    /// A layout for chunks of `chunk` shape split into blocks of `block` shape.
    pub fn new(chunk: &[usize], block: &[usize], dtype: DType) -> Result<Self> {
        if chunk.len() != block.len() || chunk.is_empty() {
            return Err(Error::Shape(format!(
                "block shape {block:?} does not fit chunk shape {chunk:?}"
            )));
        }
        if chunk.iter().chain(block).any(|&n| n == 0) {
            return Err(Error::Shape(format!(
                "chunk {chunk:?} or block {block:?} has a zero extent"
            )));
        }
        if block.iter().zip(chunk).any(|(b, c)| b > c) {
            return Err(Error::Shape(format!(
                "block shape {block:?} is larger than chunk shape {chunk:?}"
            )));
        }
        let ext_chunk: Vec<usize> = chunk
            .iter()
            .zip(block)
            .map(|(c, b)| c.div_ceil(*b) * b)
            .collect();
        let bytes = ext_chunk.iter().product::<usize>() * dtype.size();
        if bytes > i32::MAX as usize - 64 {
            return Err(Error::Invalid(format!(
                "chunk shape {chunk:?} of {dtype} is {bytes} bytes, over Blosc2's 2 GiB chunk limit"
            )));
        }
        Ok(ChunkLayout {
            chunk: chunk.to_vec(),
            block: block.to_vec(),
            ext_chunk,
            dtype,
        })
    }

    /// The chunk shape.
    pub fn chunk_shape(&self) -> &[usize] {
        &self.chunk
    }

    /// The block shape.
    pub fn block_shape(&self) -> &[usize] {
        &self.block
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Bytes of a decompressed chunk (extended chunk shape).
    pub fn chunk_nbytes(&self) -> usize {
        self.ext_chunk.iter().product::<usize>() * self.dtype.size()
    }

    /// Bytes of one block.
    pub fn block_nbytes(&self) -> usize {
        self.block.iter().product::<usize>() * self.dtype.size()
    }

    /// Number of blocks along each axis of a chunk.
    pub fn blocks_per_axis(&self) -> Vec<usize> {
        self.ext_chunk
            .iter()
            .zip(&self.block)
            .map(|(e, b)| e / b)
            .collect()
    }

    /// Number of blocks in a chunk.
    pub fn num_blocks(&self) -> usize {
        self.blocks_per_axis().iter().product()
    }

    /// Checks that `extent` (the valid part of a chunk, clipped at the array's edge) fits.
    pub fn check_extent(&self, extent: &[usize]) -> Result<()> {
        if extent.len() != self.chunk.len() || extent.iter().zip(&self.chunk).any(|(e, c)| e > c) {
            return Err(Error::Shape(format!(
                "chunk extent {extent:?} does not fit chunk shape {:?}",
                self.chunk
            )));
        }
        Ok(())
    }

    /// For every block (C order), true when it does not intersect `region` (chunk
    /// coordinates): Blosc2's "mask out" list, so only the needed blocks are decompressed.
    pub fn blocks_outside(&self, region: &[Range<usize>]) -> Vec<bool> {
        let per_axis: Vec<Vec<usize>> = self
            .blocks_per_axis()
            .into_iter()
            .map(|n| (0..n).collect())
            .collect();
        cartesian(&per_axis)
            .iter()
            .map(|b| {
                b.iter().zip(&self.block).zip(region).any(|((i, bs), r)| {
                    let lo = i * bs;
                    r.start >= r.end || lo + bs <= r.start || lo >= r.end
                })
            })
            .collect()
    }

    /// Copies `region` (chunk coordinates, inside `extent`) out of a block-ordered decompressed
    /// chunk into C-ordered bytes of the region's shape. Blocks outside the region are not read.
    pub fn blocks_to_c(&self, blocked: &[u8], region: &[Range<usize>]) -> Result<Vec<u8>> {
        if blocked.len() < self.chunk_nbytes() {
            return Err(Error::Shape(format!(
                "decompressed chunk has {} bytes, expected {}",
                blocked.len(),
                self.chunk_nbytes()
            )));
        }
        self.check_region(region)?;
        let isz = self.dtype.size();
        let rshape: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        let mut out = vec![0u8; rshape.iter().product::<usize>() * isz];
        if out.is_empty() {
            return Ok(out);
        }
        self.for_each_run(region, |block_off, out_off, len| {
            out[out_off * isz..(out_off + len) * isz]
                .copy_from_slice(&blocked[block_off * isz..(block_off + len) * isz]);
        });
        Ok(out)
    }

    /// Lays out a C-ordered chunk of shape `extent` block by block, padding to the extended
    /// chunk shape with zeros.
    pub fn c_to_blocks(&self, c_order: &[u8], extent: &[usize]) -> Result<Vec<u8>> {
        self.check_extent(extent)?;
        let isz = self.dtype.size();
        if c_order.len() != extent.iter().product::<usize>() * isz {
            return Err(Error::Shape(format!(
                "{} bytes do not hold a chunk of shape {extent:?} of {}",
                c_order.len(),
                self.dtype
            )));
        }
        let mut out = vec![0u8; self.chunk_nbytes()];
        let region: Vec<Range<usize>> = extent.iter().map(|&e| 0..e).collect();
        self.for_each_run(&region, |block_off, c_off, len| {
            out[block_off * isz..(block_off + len) * isz]
                .copy_from_slice(&c_order[c_off * isz..(c_off + len) * isz]);
        });
        Ok(out)
    }

    fn check_region(&self, region: &[Range<usize>]) -> Result<()> {
        if region.len() != self.chunk.len()
            || region
                .iter()
                .zip(&self.chunk)
                .any(|(r, c)| r.start > r.end || r.end > *c)
        {
            return Err(Error::Shape(format!(
                "region {region:?} is outside chunk shape {:?}",
                self.chunk
            )));
        }
        Ok(())
    }

    /// Calls `f(offset in blocked items, offset in region items (C order), run length)` for
    /// every contiguous run of the last axis where a block meets `region`.
    fn for_each_run(&self, region: &[Range<usize>], mut f: impl FnMut(usize, usize, usize)) {
        let nd = self.chunk.len();
        let rshape: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        let block_items: usize = self.block.iter().product();
        let bpa = self.blocks_per_axis();
        // Per axis, the blocks meeting the region.
        let per_axis: Vec<Vec<usize>> = region
            .iter()
            .zip(&self.block)
            .map(|(r, b)| {
                if r.start >= r.end {
                    vec![]
                } else {
                    (r.start / b..=(r.end - 1) / b).collect()
                }
            })
            .collect();
        for bidx in cartesian(&per_axis) {
            let nblock = bidx.iter().zip(&bpa).fold(0, |acc, (i, n)| acc * n + i);
            // The overlap of this block with the region, in chunk coordinates.
            let lo: Vec<usize> = (0..nd)
                .map(|d| (bidx[d] * self.block[d]).max(region[d].start))
                .collect();
            let hi: Vec<usize> = (0..nd)
                .map(|d| ((bidx[d] + 1) * self.block[d]).min(region[d].end))
                .collect();
            let run = hi[nd - 1] - lo[nd - 1];
            let outer: Vec<Vec<usize>> = (0..nd - 1).map(|d| (lo[d]..hi[d]).collect()).collect();
            for pos in cartesian(&outer) {
                let mut in_block = 0;
                let mut in_region = 0;
                for d in 0..nd {
                    let p = if d + 1 < nd { pos[d] } else { lo[d] };
                    in_block = in_block * self.block[d] + (p - bidx[d] * self.block[d]);
                    in_region = in_region * rshape[d] + (p - region[d].start);
                }
                f(nblock * block_items + in_block, in_region, run);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_with_padding() {
        let l = ChunkLayout::new(&[5, 7], &[2, 3], DType::U16).unwrap();
        assert_eq!(l.blocks_per_axis(), vec![3, 3]);
        let extent = [4, 6];
        let c: Vec<u8> = (0..24u16).flat_map(|v| v.to_le_bytes()).collect();
        let blocked = l.c_to_blocks(&c, &extent).unwrap();
        assert_eq!(blocked.len(), 6 * 9 * 2);
        // Block (0,1) starts at item 6 of the blocked buffer and holds chunk rows 0..2, cols 3..6.
        let item = |i: usize| u16::from_le_bytes([blocked[2 * i], blocked[2 * i + 1]]);
        assert_eq!((item(6), item(7), item(8), item(9)), (3, 4, 5, 9));
        let back = l.blocks_to_c(&blocked, &[0..4, 0..6]).unwrap();
        assert_eq!(back, c);
        let sub = l.blocks_to_c(&blocked, &[1..3, 2..5]).unwrap();
        let want: Vec<u8> = [8u16, 9, 10, 14, 15, 16]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(sub, want);
        let mask = l.blocks_outside(&[1..3, 2..5]);
        assert_eq!(mask.iter().filter(|m| !**m).count(), 4);
    }
}
