//! Chunk boundaries as a result sees them ([`AxisGrid`]): per axis, the positions where a chunk
//! of a source below the node begins, carried exactly through slices of any step, lists,
//! transposes, broadcasts and mosaics of unequal tiles; and the block edges that follow them
//! ([`AxisGrid::edges`]), so no chunk is split between two tasks.
//!
//! Grids are lazy: a slice is arithmetic on its input's grid and a mosaic is a list of its
//! tiles' grids, so an axis of `isize::MAX` positions or a pyramid of many tiles costs no more
//! than its graph. All position arithmetic is in `i128`.

use crate::graph::{NodeRef, Op};
use crate::select::{Dim, SelItem, Stride};
use std::collections::HashMap;
use std::sync::Arc;

/// Where chunks begin along one axis of length `len`: a boundary is a position `0 < b < len`
/// at which a new chunk starts.
#[derive(Clone, Debug)]
pub(crate) struct AxisGrid {
    len: usize,
    /// The largest distance between consecutive boundaries (and the axis ends), at least 1.
    unit: usize,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    /// Every position may begin a block (new or stretched axes, constants).
    Free,
    /// No boundary inside the axis: every task should take all of it (a list that returns to
    /// a chunk it left).
    Whole,
    /// Boundaries at `phase + m * chunk`.
    Regular { chunk: usize, phase: usize },
    /// Explicit sorted boundaries.
    Cuts(Arc<[usize]>),
    /// Parts laid end to end (a mosaic axis): part `i` starts at `starts[i]`; every start is a
    /// boundary too.
    Concat(Arc<[(usize, AxisGrid)]>),
    /// Position `k` is position `start + k * step` of the inner grid.
    Strided {
        inner: Arc<AxisGrid>,
        start: usize,
        step: isize,
    },
}

impl AxisGrid {
    /// An axis with no boundary to respect.
    pub(crate) fn free(len: usize) -> AxisGrid {
        AxisGrid {
            len,
            unit: 1,
            kind: Kind::Free,
        }
    }

    /// An axis to be taken whole.
    pub(crate) fn whole(len: usize) -> AxisGrid {
        AxisGrid {
            len,
            unit: len.max(1),
            kind: Kind::Whole,
        }
    }

    /// Chunks of `chunk` positions, the first whole one starting at `phase`.
    pub(crate) fn regular(len: usize, chunk: usize, phase: usize) -> AxisGrid {
        let chunk = chunk.max(1);
        AxisGrid {
            len,
            unit: chunk.min(len).max(1),
            kind: Kind::Regular {
                chunk,
                phase: phase % chunk,
            },
        }
    }

    /// Axis length.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The largest chunk extent along the axis: blocks at least this long can always end on
    /// a boundary.
    pub(crate) fn unit(&self) -> usize {
        self.unit
    }

    /// The smallest boundary above `x`, or `len` when there is none.
    pub(crate) fn next(&self, x: usize) -> usize {
        if x.saturating_add(1) >= self.len {
            return self.len;
        }
        let b = match &self.kind {
            Kind::Free => x + 1,
            Kind::Whole => self.len,
            Kind::Regular { chunk, phase } => {
                let (x, c, ph) = (x as i128, *chunk as i128, *phase as i128);
                (ph + ((x - ph).div_euclid(c) + 1) * c) as usize
            }
            Kind::Cuts(c) => c
                .get(c.partition_point(|&b| b <= x))
                .copied()
                .unwrap_or(self.len),
            Kind::Concat(parts) => {
                let (s, g) = part_at(parts, x);
                s + g.next(x - s)
            }
            Kind::Strided { inner, start, step } => {
                let p = pos(*start, *step, x);
                let (st, len) = (*start as i128, self.len as i128);
                let k = if *step > 0 {
                    let b = inner.next(p as usize) as i128;
                    if b >= inner.len as i128 {
                        len
                    } else {
                        ceil_div(b - st, *step as i128)
                    }
                } else {
                    let b = inner.prev(p as usize) as i128;
                    if b == 0 {
                        len
                    } else {
                        (st - b) / (step.unsigned_abs() as i128) + 1
                    }
                };
                k.min(len) as usize
            }
        };
        b.min(self.len)
    }

    /// The largest boundary at or below `x`, or 0 when there is none.
    pub(crate) fn prev(&self, x: usize) -> usize {
        if self.len == 0 {
            return 0;
        }
        let x = x.min(self.len - 1);
        match &self.kind {
            Kind::Free => x,
            Kind::Whole => 0,
            Kind::Regular { chunk, phase } => {
                let (xi, c, ph) = (x as i128, *chunk as i128, *phase as i128);
                let b = ph + (xi - ph).div_euclid(c) * c;
                if b <= 0 {
                    0
                } else {
                    b as usize
                }
            }
            Kind::Cuts(c) => match c.partition_point(|&b| b <= x) {
                0 => 0,
                i => c[i - 1],
            },
            Kind::Concat(parts) => {
                let (s, g) = part_at(parts, x);
                s + g.prev(x - s)
            }
            Kind::Strided { inner, start, step } => {
                let p = pos(*start, *step, x);
                let st = *start as i128;
                if *step > 0 {
                    let b = inner.prev(p as usize) as i128;
                    if b <= st {
                        0
                    } else {
                        ceil_div(b - st, *step as i128) as usize
                    }
                } else {
                    let b = inner.next(p as usize) as i128;
                    if b >= inner.len as i128 || b > st {
                        0
                    } else {
                        ((st - b) / (step.unsigned_abs() as i128) + 1) as usize
                    }
                }
            }
        }
    }

    /// The grid of the positions `dim` of this axis.
    pub(crate) fn select(self: &Arc<Self>, dim: &Dim) -> AxisGrid {
        match dim {
            Dim::Stride(s) => self.stride(s),
            Dim::List(l) => self.list(l),
        }
    }

    fn stride(self: &Arc<Self>, s: &Stride) -> AxisGrid {
        if s.len == 0 {
            return AxisGrid::free(0);
        }
        if s.is_full(self.len) {
            return (**self).clone();
        }
        if matches!(self.kind, Kind::Free) {
            return AxisGrid::free(s.len);
        }
        let per = self.unit.div_ceil(s.step.unsigned_abs().max(1));
        AxisGrid {
            len: s.len,
            unit: per.clamp(1, s.len),
            kind: Kind::Strided {
                inner: self.clone(),
                start: s.start,
                step: if s.len == 1 { 1 } else { s.step },
            },
        }
    }

    fn list(&self, l: &[usize]) -> AxisGrid {
        if matches!(self.kind, Kind::Free) {
            return AxisGrid::free(l.len());
        }
        // The chunk of each position, named by the chunk's first position.
        let ids: Vec<usize> = l.iter().map(|&p| self.prev(p)).collect();
        let up = ids.windows(2).all(|w| w[0] <= w[1]);
        let down = ids.windows(2).all(|w| w[0] >= w[1]);
        if !(up || down) {
            return AxisGrid::whole(l.len());
        }
        let cuts: Vec<usize> = (1..ids.len()).filter(|&k| ids[k] != ids[k - 1]).collect();
        AxisGrid::from_cuts(l.len(), cuts)
    }

    fn from_cuts(len: usize, cuts: Vec<usize>) -> AxisGrid {
        let mut unit = 1;
        let mut last = 0;
        for &c in cuts.iter().chain(std::iter::once(&len)) {
            unit = unit.max(c - last);
            last = c;
        }
        AxisGrid {
            len,
            unit,
            kind: Kind::Cuts(cuts.into()),
        }
    }

    /// Grids laid end to end (the axis of a mosaic).
    pub(crate) fn concat(parts: Vec<AxisGrid>) -> AxisGrid {
        let mut start = 0;
        let mut unit = 1;
        let mut out = Vec::with_capacity(parts.len());
        for g in parts {
            if g.len == 0 {
                continue;
            }
            unit = unit.max(g.unit);
            let n = g.len;
            out.push((start, g));
            start += n;
        }
        if out.len() == 1 {
            return out
                .pop()
                .map(|(_, g)| g)
                .unwrap_or_else(|| AxisGrid::free(0));
        }
        AxisGrid {
            len: start,
            unit,
            kind: Kind::Concat(out.into()),
        }
    }

    /// `r` cut at the boundaries inside it, or `None` when the axis has no chunks to follow
    /// (free) or `r` holds more than `max` of them.
    pub(crate) fn cut(
        &self,
        r: std::ops::Range<usize>,
        max: usize,
    ) -> Option<Vec<std::ops::Range<usize>>> {
        if matches!(self.kind, Kind::Free) {
            return None;
        }
        let mut out = Vec::new();
        let mut at = r.start;
        while at < r.end {
            if out.len() == max {
                return None;
            }
            let end = self.next(at).min(r.end).max(at + 1);
            out.push(at..end);
            at = end;
        }
        Some(out)
    }

    /// Block edges for blocks of about `b` positions: `0`, then the end of each block, ending
    /// at `len` (`[0]` for an empty axis). When `b` is at least [`AxisGrid::unit`] every block
    /// ends on a boundary and is at most `b` long; a shorter `b` (a budget too small for one
    /// chunk) cuts every `b` positions.
    pub(crate) fn edges(&self, b: usize) -> Vec<usize> {
        let mut e = vec![0];
        let mut x = 0;
        while x < self.len {
            x = self.block_end(x, b);
            e.push(x);
        }
        e
    }

    /// The number of blocks [`AxisGrid::edges`] makes, counting no further than `cap`.
    pub(crate) fn count(&self, b: usize, cap: usize) -> usize {
        let b = b.max(1);
        match self.kind {
            Kind::Free => return self.len.div_ceil(b),
            Kind::Whole if b >= self.len => return usize::from(self.len > 0),
            _ => {}
        }
        let (mut x, mut n) = (0, 0);
        while x < self.len && n < cap {
            x = self.block_end(x, b);
            n += 1;
        }
        n
    }

    fn block_end(&self, x: usize, b: usize) -> usize {
        let b = b.max(1);
        let t = x.saturating_add(b);
        if t >= self.len {
            return self.len;
        }
        if b < self.unit {
            return t;
        }
        let p = self.prev(t);
        if p > x {
            p
        } else {
            self.next(x)
        }
    }
}

/// Position `x` of a stride (`x` is a valid element number).
fn pos(start: usize, step: isize, x: usize) -> i128 {
    start as i128 + x as i128 * step as i128
}

fn ceil_div(a: i128, b: i128) -> i128 {
    (a + b - 1).div_euclid(b)
}

fn part_at(parts: &[(usize, AxisGrid)], x: usize) -> (usize, &AxisGrid) {
    let i = parts.partition_point(|(s, _)| *s <= x).saturating_sub(1);
    (parts[i].0, &parts[i].1)
}

/// Per axis, the grid with the largest unit among several (ties: the first).
pub(crate) fn widest(grids: &[Vec<AxisGrid>], shape: &[usize]) -> Vec<AxisGrid> {
    (0..shape.len())
        .map(|d| {
            let mut best: Option<&AxisGrid> = None;
            for g in grids.iter().filter_map(|g| g.get(d)) {
                if best.is_none_or(|b| g.unit > b.unit) {
                    best = Some(g);
                }
            }
            best.cloned().unwrap_or_else(|| AxisGrid::free(shape[d]))
        })
        .collect()
}

/// Computes the grids of nodes, each (node, axis) once.
#[derive(Default)]
pub(crate) struct Grids {
    memo: HashMap<(u64, usize), Arc<AxisGrid>>,
}

impl Grids {
    /// Every axis of `node`.
    pub(crate) fn of(&mut self, node: &NodeRef) -> Vec<AxisGrid> {
        (0..node.shape.len())
            .map(|d| (*self.axis(node, d)).clone())
            .collect()
    }

    /// Axis `d` of `node`.
    pub(crate) fn axis(&mut self, node: &NodeRef, d: usize) -> Arc<AxisGrid> {
        if let Some(g) = self.memo.get(&(node.id, d)) {
            return g.clone();
        }
        // Deep graphs: grow the stack instead of overflowing it.
        let g = stacker::maybe_grow(64 << 10, 1 << 20, || self.compute(node, d));
        let g = Arc::new(g);
        self.memo.insert((node.id, d), g.clone());
        g
    }

    fn compute(&mut self, node: &NodeRef, d: usize) -> AxisGrid {
        let n = node.shape[d];
        match &node.op {
            Op::Source(s) => AxisGrid::regular(n, s.chunk_shape()[d], 0),
            Op::Const(_) => AxisGrid::free(n),
            Op::Select(input, sel) => {
                let (mut out, mut inp) = (0, 0);
                for item in sel.items() {
                    match item {
                        SelItem::Keep(dim) => {
                            if out == d {
                                return self.axis(input, inp).select(dim);
                            }
                            out += 1;
                            inp += 1;
                        }
                        SelItem::Index(_) => inp += 1,
                        SelItem::NewAxis => {
                            if out == d {
                                return AxisGrid::free(n);
                            }
                            out += 1;
                        }
                    }
                }
                AxisGrid::free(n)
            }
            Op::Transpose(input, perm) => (*self.axis(input, perm[d])).clone(),
            Op::Broadcast(input) => {
                let lead = node.shape.len() - input.shape.len();
                if d < lead || (input.shape[d - lead] == 1 && n != 1) {
                    AxisGrid::free(n)
                } else {
                    (*self.axis(input, d - lead)).clone()
                }
            }
            Op::Cast(a) | Op::Unary(_, a) => (*self.axis(a, d)).clone(),
            Op::Binary(_, a, b) => self.widest_of(&[a, b], d),
            Op::Where(c, a, b) => self.widest_of(&[c, a, b], d),
            Op::Mosaic { tiles, axis, .. } => {
                if d == *axis {
                    let parts = tiles.iter().map(|t| (*self.axis(t, d)).clone()).collect();
                    AxisGrid::concat(parts)
                } else {
                    // Off the mosaic axis tiles share their extent; sample a few.
                    let picks: Vec<&NodeRef> = [tiles.first(), tiles.get(1), tiles.last()]
                        .into_iter()
                        .flatten()
                        .collect();
                    self.widest_of(&picks, d)
                }
            }
            Op::Reduce(r) => {
                let mut out = 0;
                for k in 0..r.input.shape.len() {
                    let reduced = r.axes.contains(&k);
                    if reduced && !r.keepdims {
                        continue;
                    }
                    if out == d {
                        return if reduced {
                            AxisGrid::free(n)
                        } else {
                            (*self.axis(&r.input, k)).clone()
                        };
                    }
                    out += 1;
                }
                AxisGrid::free(n)
            }
        }
    }

    fn widest_of(&mut self, inputs: &[&NodeRef], d: usize) -> AxisGrid {
        let mut best: Option<Arc<AxisGrid>> = None;
        for i in inputs {
            let g = self.axis(i, d);
            if best.as_ref().is_none_or(|b| g.unit > b.unit) {
                best = Some(g);
            }
        }
        best.map(|g| (*g).clone())
            .unwrap_or_else(|| AxisGrid::free(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Boundaries by brute force: where the chunk of the position changes.
    fn boundaries_of(chunk_of: &dyn Fn(usize) -> usize, len: usize) -> Vec<usize> {
        (1..len)
            .filter(|&k| chunk_of(k) != chunk_of(k - 1))
            .collect()
    }

    /// `next` and `prev` agree with the boundary list at every position.
    fn check(g: &AxisGrid, want: &[usize]) {
        for x in 0..g.len() {
            let next = want.iter().copied().find(|&b| b > x).unwrap_or(g.len());
            let prev = want.iter().copied().rev().find(|&b| b <= x).unwrap_or(0);
            assert_eq!(g.next(x), next, "next({x}) of {g:?}");
            assert_eq!(g.prev(x), prev, "prev({x}) of {g:?}");
        }
        let mut last = 0;
        for &b in want.iter().chain(std::iter::once(&g.len())) {
            assert!(b - last <= g.unit(), "gap {} > unit {}", b - last, g.unit());
            last = b;
        }
    }

    #[test]
    fn regular_grids_with_phase() {
        for (len, c, ph) in [(17, 4, 0), (17, 4, 1), (3, 8, 0), (9, 3, 2), (1, 1, 0)] {
            let g = AxisGrid::regular(len, c, ph);
            check(&g, &boundaries_of(&|p| (p + c - ph) / c, len));
        }
    }

    #[test]
    fn strides_of_any_step_follow_the_chunks() {
        let inner = Arc::new(AxisGrid::regular(40, 7, 3));
        let chunk = |p: usize| (p + 7 - 3) / 7;
        for step in [1isize, 2, 3, 4, 7, 9, 50, -1, -2, -4, -7, -11] {
            for start in [0usize, 1, 5, 39] {
                let n = if step > 0 {
                    (40 - start).div_ceil(step as usize)
                } else {
                    start / step.unsigned_abs() + 1
                };
                let s = Stride::new(start, step, n);
                let g = inner.select(&Dim::Stride(s));
                check(&g, &boundaries_of(&|k| chunk(s.at(k)), n));
            }
        }
    }

    #[test]
    fn strides_of_strides_and_mosaics() {
        let tiles = vec![
            AxisGrid::regular(10, 3, 0),
            AxisGrid::regular(7, 3, 0),
            AxisGrid::regular(9, 4, 0),
        ];
        let m = Arc::new(AxisGrid::concat(tiles));
        // Chunk of a mosaic position: (tile, chunk in tile).
        let chunk = |p: usize| match p {
            0..10 => p / 3,
            10..17 => 100 + (p - 10) / 3,
            _ => 200 + (p - 17) / 4,
        };
        check(&m, &boundaries_of(&chunk, 26));
        let s = Stride::new(25, -3, 9);
        let g = Arc::new(m.select(&Dim::Stride(s)));
        check(&g, &boundaries_of(&|k| chunk(s.at(k)), 9));
        let s2 = Stride::new(1, 2, 4);
        let g2 = g.select(&Dim::Stride(s2));
        check(&g2, &boundaries_of(&|k| chunk(s.at(s2.at(k))), 4));
    }

    #[test]
    fn lists_cut_where_the_chunk_changes_or_stay_whole() {
        let inner = Arc::new(AxisGrid::regular(10, 2, 0));
        let l: Vec<usize> = vec![1, 1, 3, 4, 5, 9];
        let g = inner.select(&Dim::List(l.clone().into()));
        check(&g, &boundaries_of(&|k| l[k] / 2, l.len()));
        let l: Vec<usize> = vec![7, 1, 6, 1];
        let g = inner.select(&Dim::List(l.into()));
        check(&g, &[]);
        assert_eq!(g.unit(), 4);
    }

    #[test]
    fn edges_end_on_boundaries_and_fit_the_block() {
        let g = AxisGrid::concat(vec![
            AxisGrid::regular(10, 3, 0),
            AxisGrid::regular(7, 3, 0),
            AxisGrid::regular(9, 4, 0),
        ]);
        assert_eq!(g.unit(), 4);
        let e = g.edges(4);
        // [6, 10) holds the chunk [6, 9) and the tile's last, short chunk [9, 10).
        assert_eq!(e, vec![0, 3, 6, 10, 13, 17, 21, 25, 26]);
        let e = g.edges(8);
        assert_eq!(e, vec![0, 6, 13, 21, 26]);
        assert_eq!(g.count(8, usize::MAX), 4);
        assert_eq!(g.count(8, 2), 2);
        // Below the unit: plain cuts.
        assert_eq!(g.edges(2)[..4], [0, 2, 4, 6]);
        assert_eq!(AxisGrid::free(5).edges(2), vec![0, 2, 4, 5]);
        assert_eq!(AxisGrid::whole(5).edges(5), vec![0, 5]);
        assert_eq!(AxisGrid::free(0).edges(3), vec![0]);
    }

    #[test]
    fn long_axes_do_not_overflow() {
        let n = isize::MAX as usize;
        let inner = Arc::new(AxisGrid::regular(n, 1000, 0));
        let s = Stride::new(n - 1, -(1 << 40), 5);
        let g = inner.select(&Dim::Stride(s));
        check(&g, &boundaries_of(&|k| s.at(k) / 1000, 5));
        assert_eq!(inner.next(n - 2), n);
        assert_eq!(inner.prev(n - 2), (n - 2) / 1000 * 1000);
        assert_eq!(inner.count(1000, 3), 3);
    }
}
