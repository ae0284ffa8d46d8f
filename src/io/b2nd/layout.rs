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
            .map(|(c, b)| c.div_ceil(*b).saturating_mul(*b))
            .collect();
        let bytes = ext_chunk
            .iter()
            .try_fold(dtype.size(), |a, &n| a.checked_mul(n));
        if bytes.is_none_or(|b| b > i32::MAX as usize - 64) {
            return Err(Error::Invalid(format!(
                "chunk shape {chunk:?} of {dtype} is over Blosc2's 2 GiB chunk limit"
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
        self.check_region(region)?;
        let n = region.iter().map(|r| r.end - r.start).product::<usize>() * self.dtype.size();
        let mut out = vec![0u8; n];
        self.blocks_to_c_into(blocked, region, &mut out)?;
        Ok(out)
    }

    /// Like [`ChunkLayout::blocks_to_c`], writing into `out` (exactly the region's bytes).
    pub fn blocks_to_c_into(
        &self,
        blocked: &[u8],
        region: &[Range<usize>],
        out: &mut [u8],
    ) -> Result<()> {
        if blocked.len() < self.chunk_nbytes() {
            return Err(Error::Shape(format!(
                "decompressed chunk has {} bytes, expected {}",
                blocked.len(),
                self.chunk_nbytes()
            )));
        }
        self.check_region(region)?;
        let isz = self.dtype.size();
        let n = region.iter().map(|r| r.end - r.start).product::<usize>() * isz;
        if out.len() != n {
            return Err(Error::Shape(format!(
                "{} bytes cannot hold region {region:?} of {}",
                out.len(),
                self.dtype
            )));
        }
        if n == 0 {
            return Ok(());
        }
        self.for_each_run(region, |block_off, out_off, len| {
            out[out_off * isz..(out_off + len) * isz]
                .copy_from_slice(&blocked[block_off * isz..(block_off + len) * isz]);
        });
        Ok(())
    }

    /// True when a decompressed chunk's block-by-block bytes are already the C-ordered chunk of
    /// shape `extent`: no padding, and every block a contiguous slab (blocks of extent 1 along
    /// the leading axes, whole along the trailing ones).
    pub fn blocks_are_c_order(&self, extent: &[usize]) -> bool {
        if extent != self.chunk.as_slice() || self.ext_chunk != self.chunk {
            return false;
        }
        let first = self.block.iter().position(|&b| b != 1);
        match first {
            None => true,
            Some(d) => (d + 1..self.chunk.len()).all(|k| self.block[k] == self.chunk[k]),
        }
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
    /// every contiguous run where a block meets `region`. Trailing axes along which the
    /// overlap is both the whole block and the whole region are merged into one run, so a
    /// region that covers whole blocks is copied block by block, not row by row.
    fn for_each_run(&self, region: &[Range<usize>], mut f: impl FnMut(usize, usize, usize)) {
        let nd = self.chunk.len();
        if region.iter().any(|r| r.start >= r.end) {
            return;
        }
        let rshape: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        let block_items: usize = self.block.iter().product();
        let bpa = self.blocks_per_axis();
        // Strides (in items) inside a block and inside the region, C order.
        let mut bstride = vec![1usize; nd];
        let mut rstride = vec![1usize; nd];
        for d in (0..nd.saturating_sub(1)).rev() {
            bstride[d] = bstride[d + 1] * self.block[d + 1];
            rstride[d] = rstride[d + 1] * rshape[d + 1];
        }
        // The blocks meeting the region, per axis, walked as an odometer.
        let first: Vec<usize> = region
            .iter()
            .zip(&self.block)
            .map(|(r, b)| r.start / b)
            .collect();
        let last: Vec<usize> = region
            .iter()
            .zip(&self.block)
            .map(|(r, b)| (r.end - 1) / b)
            .collect();
        let mut bidx = first.clone();
        let (mut lo, mut hi) = (vec![0usize; nd], vec![0usize; nd]);
        let mut pos = vec![0usize; nd];
        loop {
            let nblock = bidx.iter().zip(&bpa).fold(0, |acc, (i, n)| acc * n + i);
            for d in 0..nd {
                let b0 = bidx[d] * self.block[d];
                lo[d] = b0.max(region[d].start);
                hi[d] = (b0 + self.block[d]).min(region[d].end);
            }
            // Merge trailing axes that are whole in both the block and the region.
            let mut k = nd - 1;
            while k > 0 {
                let whole = hi[k] - lo[k] == self.block[k] && hi[k] - lo[k] == rshape[k];
                if !whole {
                    break;
                }
                k -= 1;
            }
            let run: usize = (k..nd).map(|d| hi[d] - lo[d]).product();
            pos[..k].copy_from_slice(&lo[..k]);
            loop {
                let mut in_block = 0;
                let mut in_region = 0;
                for d in 0..nd {
                    let p = if d < k { pos[d] } else { lo[d] };
                    in_block += (p - bidx[d] * self.block[d]) * bstride[d];
                    in_region += (p - region[d].start) * rstride[d];
                }
                f(nblock * block_items + in_block, in_region, run);
                // Next position over the axes before k.
                let mut d = k;
                loop {
                    if d == 0 {
                        break;
                    }
                    d -= 1;
                    pos[d] += 1;
                    if pos[d] < hi[d] {
                        break;
                    }
                    pos[d] = lo[d];
                    if d == 0 {
                        d = usize::MAX;
                        break;
                    }
                }
                if k == 0 || d == usize::MAX {
                    break;
                }
            }
            // Next block.
            let mut d = nd;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                bidx[d] += 1;
                if bidx[d] <= last[d] {
                    break;
                }
                bidx[d] = first[d];
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

    /// Every item of `region` taken from the blocked buffer by index arithmetic alone.
    fn naive(l: &ChunkLayout, blocked: &[u8], region: &[Range<usize>]) -> Vec<u8> {
        let nd = region.len();
        let bpa = l.blocks_per_axis();
        let isz = l.dtype().size();
        let per_axis: Vec<Vec<usize>> = region.iter().map(|r| r.clone().collect()).collect();
        let mut out = Vec::new();
        for p in cartesian(&per_axis) {
            let (mut nblock, mut inb) = (0, 0);
            for d in 0..nd {
                nblock = nblock * bpa[d] + p[d] / l.block[d];
                inb = inb * l.block[d] + p[d] % l.block[d];
            }
            let item = nblock * l.block.iter().product::<usize>() + inb;
            out.extend_from_slice(&blocked[item * isz..(item + 1) * isz]);
        }
        out
    }

    #[test]
    fn runs_match_index_arithmetic_for_many_shapes() {
        let shapes: [(&[usize], &[usize]); 7] = [
            (&[7], &[3]),
            (&[4, 6], &[4, 6]),
            (&[4, 6], &[1, 6]),
            (&[5, 7], &[2, 3]),
            (&[3, 4, 5], &[1, 4, 5]),
            (&[3, 4, 5], &[2, 2, 5]),
            (&[3, 4, 5], &[3, 1, 2]),
        ];
        for (chunk, block) in shapes {
            let l = ChunkLayout::new(chunk, block, DType::U16).unwrap();
            let blocked: Vec<u8> = (0..l.chunk_nbytes()).map(|i| (i * 7 % 251) as u8).collect();
            let per_axis: Vec<Vec<usize>> = chunk.iter().map(|&c| (0..=c).collect()).collect();
            for lo in cartesian(&per_axis) {
                for hi in cartesian(&per_axis) {
                    if lo.iter().zip(&hi).any(|(a, b)| a >= b) {
                        continue;
                    }
                    let region: Vec<Range<usize>> =
                        lo.iter().zip(&hi).map(|(&a, &b)| a..b).collect();
                    assert_eq!(
                        l.blocks_to_c(&blocked, &region).unwrap(),
                        naive(&l, &blocked, &region),
                        "chunk {chunk:?} block {block:?} region {region:?}"
                    );
                }
            }
            let whole: Vec<Range<usize>> = chunk.iter().map(|&c| 0..c).collect();
            let c_order = l.blocks_are_c_order(chunk);
            assert_eq!(
                c_order,
                l.blocks_to_c(&blocked, &whole).unwrap() == blocked,
                "chunk {chunk:?} block {block:?}"
            );
        }
        let l = ChunkLayout::new(&[4, 6], &[1, 6], DType::U8).unwrap();
        assert!(l.blocks_are_c_order(&[4, 6]) && !l.blocks_are_c_order(&[3, 6]));
        assert!(!ChunkLayout::new(&[4, 6], &[2, 3], DType::U8)
            .unwrap()
            .blocks_are_c_order(&[4, 6]));
    }
}
