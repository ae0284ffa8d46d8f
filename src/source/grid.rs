//! [`ChunkGrid`]: the arithmetic of a regular chunk grid.

use std::ops::Range;

/// A regular grid of chunks over an array shape. The last chunk along an axis may be partial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkGrid {
    shape: Vec<usize>,
    chunks: Vec<usize>,
}

impl ChunkGrid {
    /// A grid of `chunks`-shaped chunks over `shape`. Zero chunk extents are raised to 1.
    pub fn new(shape: Vec<usize>, chunks: Vec<usize>) -> Self {
        let chunks = chunks.into_iter().map(|c| c.max(1)).collect();
        ChunkGrid { shape, chunks }
    }

    /// The array shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The chunk shape.
    pub fn chunk_shape(&self) -> &[usize] {
        &self.chunks
    }

    /// Number of chunks along each axis.
    pub fn grid_shape(&self) -> Vec<usize> {
        self.shape
            .iter()
            .zip(&self.chunks)
            .map(|(n, c)| n.div_ceil(*c))
            .collect()
    }

    /// Total number of chunks.
    pub fn num_chunks(&self) -> usize {
        self.grid_shape().iter().product()
    }

    /// The box chunk `index` covers.
    pub fn chunk_box(&self, index: &[usize]) -> Vec<Range<usize>> {
        index
            .iter()
            .zip(&self.chunks)
            .zip(&self.shape)
            .map(|((i, c), n)| (i * c).min(*n)..((i + 1) * c).min(*n))
            .collect()
    }

    /// The shape of chunk `index` (clipped at the array's edge).
    pub fn chunk_extent(&self, index: &[usize]) -> Vec<usize> {
        self.chunk_box(index)
            .iter()
            .map(|r| r.end - r.start)
            .collect()
    }

    /// The C-order number of chunk `index` (as Blosc2 and Caterva2 number chunks).
    pub fn linear_index(&self, index: &[usize]) -> usize {
        let g = self.grid_shape();
        index.iter().zip(&g).fold(0, |acc, (i, n)| acc * n + i)
    }

    /// The C-order number of chunk `index`, after checking that `index` names a chunk of the
    /// grid (one entry per axis, each below the number of chunks along its axis). The error
    /// text is meant for [`crate::Error::read`], which names the source and the chunk.
    pub fn checked_linear_index(&self, index: &[usize]) -> Result<usize, String> {
        let g = self.grid_shape();
        if index.len() != g.len() || index.iter().zip(&g).any(|(i, n)| i >= n) {
            return Err(format!("chunk index outside grid {g:?}"));
        }
        Ok(self.linear_index(index))
    }

    /// The chunk index of C-order number `n`.
    pub fn multi_index(&self, mut n: usize) -> Vec<usize> {
        let g = self.grid_shape();
        let mut idx = vec![0; g.len()];
        for d in (0..g.len()).rev() {
            idx[d] = n % g[d].max(1);
            n /= g[d].max(1);
        }
        idx
    }

    /// Checks that a box lies inside the array.
    pub fn check_region(&self, region: &[Range<usize>]) -> Result<(), String> {
        if region.len() != self.shape.len() {
            return Err(format!(
                "region has {} axes, array has {}",
                region.len(),
                self.shape.len()
            ));
        }
        for (d, (r, n)) in region.iter().zip(&self.shape).enumerate() {
            if r.start > r.end || r.end > *n {
                return Err(format!("region {r:?} on axis {d} is outside 0..{n}"));
            }
        }
        Ok(())
    }

    /// The chunk indices (C order) of every chunk that intersects a box.
    pub fn chunks_in_box(&self, region: &[Range<usize>]) -> Vec<Vec<usize>> {
        let per_axis: Vec<Vec<usize>> = region
            .iter()
            .zip(&self.chunks)
            .map(|(r, c)| {
                if r.start >= r.end {
                    vec![]
                } else {
                    (r.start / c..=(r.end - 1) / c).collect()
                }
            })
            .collect();
        cartesian(&per_axis)
    }

    /// Every chunk index of the grid, in C order.
    pub fn all_chunks(&self) -> Vec<Vec<usize>> {
        let per_axis: Vec<Vec<usize>> = self
            .grid_shape()
            .into_iter()
            .map(|n| (0..n).collect())
            .collect();
        cartesian(&per_axis)
    }
}

/// The C-order cartesian product of per-axis lists. An empty list of axes gives one empty index.
pub fn cartesian(per_axis: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for axis in per_axis {
        let mut next = Vec::with_capacity(out.len() * axis.len());
        for prefix in &out {
            for &i in axis {
                let mut p = prefix.clone();
                p.push(i);
                next.push(p);
            }
        }
        out = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_edge_chunks() {
        let g = ChunkGrid::new(vec![10, 7], vec![4, 3]);
        assert_eq!(g.grid_shape(), vec![3, 3]);
        assert_eq!(g.chunk_box(&[2, 2]), vec![8..10, 6..7]);
        assert_eq!(g.chunks_in_box(&[3..5, 0..3]), vec![vec![0, 0], vec![1, 0]]);
        for n in 0..g.num_chunks() {
            assert_eq!(g.linear_index(&g.multi_index(n)), n);
        }
    }

    #[test]
    fn checked_linear_index_accepts_exactly_the_grid() {
        // 3 x 3 chunks; C order: [r, c] is chunk 3 r + c.
        let g = ChunkGrid::new(vec![10, 7], vec![4, 3]);
        let mut seen = vec![];
        for r in 0..3 {
            for c in 0..3 {
                seen.push(g.checked_linear_index(&[r, c]).unwrap());
            }
        }
        assert_eq!(seen, (0..9).collect::<Vec<_>>());
        for bad in [&[3, 0][..], &[0, 3], &[5, 5], &[0], &[0, 0, 0], &[]] {
            let e = g.checked_linear_index(bad).unwrap_err();
            assert_eq!(e, "chunk index outside grid [3, 3]", "{bad:?}");
        }
        // A 0-d array has one chunk, the empty index.
        let scalar = ChunkGrid::new(vec![], vec![]);
        assert_eq!(scalar.checked_linear_index(&[]), Ok(0));
        assert!(scalar.checked_linear_index(&[0]).is_err());
        // An empty axis has no chunk at all.
        let empty = ChunkGrid::new(vec![0, 4], vec![2, 2]);
        assert!(empty.checked_linear_index(&[0, 0]).is_err());
    }
}
