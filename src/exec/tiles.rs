//! Tiles of a block: a block task evaluates its region in cache-sized tiles, so that the
//! intermediates of an elementwise chain (`sqrt(a * a + b * b)`) stay in the core's cache
//! between one operation and the next instead of streaming through main memory once per node.
//!
//! Block shapes follow the sources' chunks (no chunk is split between tasks, see
//! [`super::blocks`]); tiles split a block further, within one task, whose chunks are read once
//! and kept (or, for in-memory sources, read tile by tile at no extra cost).

use crate::select::{Dim, Region, Stride};
use std::ops::Range;

/// Output bytes (summed over the roots of a pass) of one tile: a few tiles' inputs and
/// intermediates fit in a core's L2 cache.
pub(crate) const TILE_BYTES: usize = 128 << 10;

/// One tile of a block: its region in the array and where it lies inside the block.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tile {
    /// The tile's positions in the whole array.
    pub region: Region,
    /// The tile's ranges relative to the block's origin.
    pub within: Vec<Range<usize>>,
}

/// Splits `block` (contiguous ranges, one per axis) into tiles of at most `max_bytes` when each
/// element costs `elem_bytes`, in C order. Tiles cut the outermost axes first, so every tile is
/// a run of whole inner rows where possible. A block that fits is one tile.
pub(crate) fn block_tiles(block: &[Dim], elem_bytes: usize, max_bytes: usize) -> Vec<Tile> {
    let ranges: Vec<Range<usize>> = block.iter().map(|d| d.bounds()).collect();
    let ext: Vec<usize> = ranges.iter().map(|r| r.len()).collect();
    let max_elems = (max_bytes / elem_bytes.max(1)).max(1);
    // Tile extents: whole inner axes while they fit, then a part of the axis that does not,
    // then single positions along the outer axes.
    let mut tile = ext.clone();
    let mut inner = 1usize;
    for d in (0..ext.len()).rev() {
        if inner.saturating_mul(ext[d]) > max_elems {
            tile[d] = (max_elems / inner).max(1);
            for t in tile.iter_mut().take(d) {
                *t = 1;
            }
            break;
        }
        inner *= ext[d];
    }
    let per_axis: Vec<Vec<Range<usize>>> = ext
        .iter()
        .zip(&tile)
        .map(|(&n, &t)| {
            (0..n.div_ceil(t.max(1)))
                .map(|i| i * t..((i + 1) * t).min(n))
                .collect()
        })
        .collect();
    let counts: Vec<Vec<usize>> = per_axis.iter().map(|p| (0..p.len()).collect()).collect();
    crate::source::cartesian(&counts)
        .into_iter()
        .map(|idx| {
            let within: Vec<Range<usize>> = idx
                .iter()
                .enumerate()
                .map(|(d, &i)| per_axis[d][i].clone())
                .collect();
            let region = within
                .iter()
                .zip(&ranges)
                .map(|(w, r)| Dim::Stride(Stride::range(r.start + w.start, r.start + w.end)))
                .collect();
            Tile { region, within }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(r: &[Range<usize>]) -> Vec<Dim> {
        r.iter()
            .map(|r| Dim::Stride(Stride::range(r.start, r.end)))
            .collect()
    }

    /// Every position of the block lies in exactly one tile, at the right offset.
    fn check_cover(b: &[Range<usize>], tiles: &[Tile]) {
        let ext: Vec<usize> = b.iter().map(|r| r.len()).collect();
        let mut hits = ndarray::ArrayD::<u32>::zeros(ndarray::IxDyn(&ext));
        for t in tiles {
            for (d, (reg, w)) in t.region.iter().zip(&t.within).enumerate() {
                assert_eq!(reg.bounds().start, b[d].start + w.start);
                assert_eq!(reg.len(), w.len());
            }
            let sl: Vec<ndarray::SliceInfoElem> = t
                .within
                .iter()
                .map(|w| ndarray::Slice::from(w.clone()).into())
                .collect();
            hits.slice_mut(sl.as_slice()).mapv_inplace(|h| h + 1);
        }
        assert!(hits.iter().all(|&h| h == 1), "{hits:?}");
    }

    #[test]
    fn a_block_that_fits_is_one_tile() {
        let b = [3..7, 10..20];
        let t = block_tiles(&block(&b), 8, 40 * 8);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].within, vec![0..4, 0..10]);
        check_cover(&b, &t);
    }

    #[test]
    fn rows_are_grouped_and_the_last_tile_is_partial() {
        let b = [100..110, 5..25];
        // 3 rows of 20 elements fit in 64 elements.
        let t = block_tiles(&block(&b), 4, 64 * 4);
        assert_eq!(t.len(), 4);
        assert_eq!(t[0].within, vec![0..3, 0..20]);
        assert_eq!(t[3].within, vec![9..10, 0..20]);
        check_cover(&b, &t);
    }

    #[test]
    fn long_inner_axes_are_cut_too() {
        let b = [0..3, 0..4, 0..50];
        let t = block_tiles(&block(&b), 2, 16 * 2);
        assert!(t
            .iter()
            .all(|t| t.within[0].len() == 1 && t.within[1].len() == 1));
        assert_eq!(t.len(), 3 * 4 * 4);
        check_cover(&b, &t);
        let t = block_tiles(&[Dim::Stride(Stride::range(7, 9))], 1, 1);
        assert_eq!(t.len(), 2);
    }
}
