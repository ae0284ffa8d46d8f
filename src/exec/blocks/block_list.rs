//! [`BlockList`]: the blocks (or pieces) of a pass, numbered in C order and computed from
//! their number, so no list of blocks is ever built: a pass over an array of many tiny chunks
//! holds only its per-axis edges, and those are refused up front when they would not fit the
//! memory budget ([`checked_edges`]).

use super::grid::AxisGrid;
use crate::error::{Error, Result};
use crate::select::{Dim, Region, Stride};
use std::ops::Range;

/// Bytes of the memory budget the per-axis block edges of one pass may take, as a divisor.
const EDGES_SHARE: usize = 16;

/// The block edges of about `block` (per axis) over `grids` (see [`AxisGrid::edges`]); an error
/// naming the shapes when they would take more than a 16th of `budget`.
pub(crate) fn checked_edges(
    grids: &[AxisGrid],
    block: &[usize],
    budget: usize,
    what: &str,
) -> Result<Vec<Vec<usize>>> {
    let cap = (budget / EDGES_SHARE / std::mem::size_of::<usize>()).max(1 << 16);
    let mut left = cap;
    for (g, &b) in grids.iter().zip(block) {
        let n = g.count(b, left.saturating_add(1));
        if n > left {
            let shape: Vec<usize> = grids.iter().map(|g| g.len()).collect();
            return Err(Error::Budget(format!(
                "{what} of shape {shape:?} in blocks of at most {block:?} make more than {cap} \
                 block edges, more than the memory budget of {budget} bytes can plan; select a \
                 smaller part or raise the budget"
            )));
        }
        left -= n;
    }
    Ok(grids.iter().zip(block).map(|(g, &b)| g.edges(b)).collect())
}

/// The blocks between per-axis edges (`0`, the cuts, the axis length), numbered in C order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BlockList {
    edges: Vec<Vec<usize>>,
    total: usize,
}

impl BlockList {
    /// The blocks between `edges`; an error when their number does not fit in a `usize`.
    pub(crate) fn new(edges: Vec<Vec<usize>>) -> Result<BlockList> {
        let total = edges
            .iter()
            .try_fold(1usize, |acc, e| acc.checked_mul(e.len().saturating_sub(1)))
            .ok_or_else(|| {
                let counts: Vec<usize> = edges.iter().map(|e| e.len() - 1).collect();
                Error::Budget(format!(
                    "{counts:?} blocks per axis are more than can be numbered"
                ))
            })?;
        Ok(BlockList { edges, total })
    }

    /// Number of blocks.
    pub(crate) fn len(&self) -> usize {
        self.total
    }

    /// True when there is no block (an empty array).
    pub(crate) fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The per-axis edges.
    pub(crate) fn edges(&self) -> &[Vec<usize>] {
        &self.edges
    }

    /// The ranges of block `i` (C order), one per axis.
    pub(crate) fn ranges(&self, i: usize) -> Vec<Range<usize>> {
        let mut rest = i;
        let mut out = vec![0..0; self.edges.len()];
        for (d, e) in self.edges.iter().enumerate().rev() {
            let c = e.len().saturating_sub(1).max(1);
            let k = rest % c;
            out[d] = e[k]..e.get(k + 1).copied().unwrap_or(e[k]);
            rest /= c;
        }
        out
    }

    /// Block `i` as a region.
    pub(crate) fn region(&self, i: usize) -> Region {
        self.ranges(i)
            .into_iter()
            .map(|r| Dim::Stride(Stride::range(r.start, r.end)))
            .collect()
    }

    /// Elements in block `i`.
    pub(crate) fn block_len(&self, i: usize) -> usize {
        self.ranges(i).iter().map(|r| r.len()).product()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every block by a nested loop, against the numbered ones.
    #[test]
    fn blocks_by_number_match_a_nested_loop() {
        let edges = vec![vec![0, 3, 5], vec![0], vec![0, 1, 4, 9]];
        assert_eq!(BlockList::new(edges.clone()).unwrap().len(), 0);
        let edges = vec![vec![0, 3, 5], vec![0, 2], vec![0, 1, 4, 9]];
        let list = BlockList::new(edges.clone()).unwrap();
        let mut want = Vec::new();
        for a in 0..2 {
            for b in 0..1 {
                for c in 0..3 {
                    want.push(vec![
                        edges[0][a]..edges[0][a + 1],
                        edges[1][b]..edges[1][b + 1],
                        edges[2][c]..edges[2][c + 1],
                    ]);
                }
            }
        }
        assert_eq!(list.len(), want.len());
        for (i, w) in want.iter().enumerate() {
            assert_eq!(&list.ranges(i), w);
            assert_eq!(
                list.block_len(i),
                w.iter().map(|r| r.len()).product::<usize>()
            );
        }
        let scalar = BlockList::new(vec![]).unwrap();
        assert_eq!(scalar.len(), 1);
        assert!(scalar.region(0).is_empty());
    }

    /// Edges beyond the budget's share are refused before they are listed; a count of blocks
    /// past `usize` is refused too.
    #[test]
    fn huge_grids_are_refused() {
        let g = vec![
            AxisGrid::regular(1 << 40, 1024, 0),
            AxisGrid::regular(1 << 20, 1024, 0),
        ];
        let e = checked_edges(&g, &[1024, 1024], 256 << 20, "the input").unwrap_err();
        assert!(matches!(e, Error::Budget(_)), "{e}");
        assert!(e.to_string().contains("[1099511627776, 1048576]"), "{e}");
        let ok = checked_edges(&g[1..], &[1024], 256 << 20, "x").unwrap();
        assert_eq!(ok[0].len(), 1025);
        let wide = vec![(0..=(1usize << 33)).step_by(1 << 16).collect::<Vec<_>>(); 5];
        assert!(BlockList::new(wide).is_err());
    }
}
