//! Folding input into a [`ReduceState`]: a block as lanes (reduced axes innermost) or rows
//! (reduced axes outermost), several chunk parts of a block in one pass, and the shift kept
//! near the running mean.

use super::ReduceState;
use crate::data::NdData;
use crate::error::{Error, Result};
use crate::exec::fold::{fold_lane, fold_rows, AccElem, LaneSums, RowAcc};
use ndarray::{ArrayViewD, IxDyn};

/// Elements `range` of a state's array, or nothing if the array is not kept.
fn part<T>(v: &mut [T], range: std::ops::Range<usize>) -> &mut [T] {
    if v.is_empty() {
        &mut []
    } else {
        &mut v[range]
    }
}

impl ReduceState {
    /// Folds a sub-block of input into the state. `x` has the input's axes; `reduced` lists the
    /// reduced axes of `x`; the other axes, in order, index the state's elements (C order).
    pub fn update(&mut self, x: &NdData, reduced: &[usize]) -> Result<()> {
        let k_len: usize = (0..x.shape().len())
            .filter(|d| !reduced.contains(d))
            .map(|d| x.shape()[d])
            .product();
        if k_len != self.len() {
            return Err(Error::Internal(format!(
                "reduce state of {} elements fed {} kept elements",
                self.len(),
                k_len
            )));
        }
        self.update_at(x, reduced, 0)
    }

    /// [`ReduceState::update`] for a sub-block whose kept elements are the state's elements
    /// `offset..` (a run of them in C order: a tile of the block, see `exec/tiles.rs`).
    pub fn update_at(&mut self, x: &NdData, reduced: &[usize], offset: usize) -> Result<()> {
        crate::with_nd!(x, a: T => self.update_typed(a.view(), reduced, offset))
    }

    /// Folds sub-blocks that together cover one block of input, all with the same kept extent
    /// (parts split along reduced axes only, such as the chunks of a piece). Rows of every part
    /// are folded in one pass, as if the parts had been copied into one array first.
    pub fn update_parts(
        &mut self,
        parts: &[NdData],
        reduced: &[usize],
        offset: usize,
    ) -> Result<()> {
        let Some(first) = parts.first() else {
            return Ok(());
        };
        if parts.len() == 1 {
            return self.update_at(first, reduced, offset);
        }
        let nd = first.shape().len();
        let kept: Vec<usize> = (0..nd).filter(|d| !reduced.contains(d)).collect();
        let kept_of = |p: &NdData| -> Vec<usize> { kept.iter().map(|&d| p.shape()[d]).collect() };
        let k_shape = kept_of(first);
        let same = parts
            .iter()
            .all(|p| p.dtype() == first.dtype() && p.shape().len() == nd && kept_of(p) == k_shape);
        // Rows need the reduced axes outermost in each part's memory.
        let rows_first = reduced.iter().enumerate().all(|(i, &d)| d == i);
        if !same || !rows_first || parts.iter().any(|p| !p.is_standard_layout()) {
            for p in parts {
                self.update_at(p, reduced, offset)?;
            }
            return Ok(());
        }
        let k: usize = k_shape.iter().product();
        if offset.checked_add(k).is_none_or(|end| end > self.len()) {
            return Err(Error::Internal(format!(
                "reduce state of {} elements fed {k} kept elements at {offset}",
                self.len()
            )));
        }
        if k == 0 {
            return Ok(());
        }
        crate::with_nd!(first, _a: T => {
            let mut rows: Vec<&[T]> = Vec::new();
            for p in parts {
                let a = T::peek(p).ok_or_else(|| Error::Internal("reduce parts of mixed types".into()))?;
                let flat = a.as_slice().ok_or_else(|| Error::Internal("reduce part not contiguous".into()))?;
                rows.extend(flat.chunks(k));
            }
            self.fold_row_slices(&rows, k, offset);
            Ok(())
        })
    }

    fn update_typed<T: AccElem>(
        &mut self,
        x: ArrayViewD<T>,
        reduced: &[usize],
        offset: usize,
    ) -> Result<()> {
        let nd = x.ndim();
        let kept: Vec<usize> = (0..nd).filter(|d| !reduced.contains(d)).collect();
        let k_len: usize = kept.iter().map(|&d| x.shape()[d]).product();
        let r_len: usize = reduced.iter().map(|&d| x.shape()[d]).product();
        if offset.checked_add(k_len).is_none_or(|end| end > self.len()) {
            return Err(Error::Internal(format!(
                "reduce state of {} elements fed {} kept elements at {offset}",
                self.len(),
                k_len
            )));
        }
        if r_len == 0 || k_len == 0 {
            return Ok(());
        }
        let shape_err = |e: ndarray::ShapeError| Error::Internal(e.to_string());
        // Reduced axes last gives lanes (one per output element); reduced axes first gives
        // rows (each row updates every output element). Pick the one that needs no copy.
        let lanes_order: Vec<usize> = kept.iter().chain(reduced).copied().collect();
        let rows_order: Vec<usize> = reduced.iter().chain(&kept).copied().collect();
        let lanes = x.view().permuted_axes(IxDyn(&lanes_order));
        if lanes.is_standard_layout() && (r_len > 1 || k_len == 1) {
            let m = lanes
                .into_shape_with_order((k_len, r_len))
                .map_err(shape_err)?;
            self.update_lanes(m, offset);
            return Ok(());
        }
        let rows = x.view().permuted_axes(IxDyn(&rows_order));
        if rows.is_standard_layout() {
            let m = rows
                .into_shape_with_order((r_len, k_len))
                .map_err(shape_err)?;
            self.update_rows(m, offset);
        } else if r_len >= 16 {
            let owned = lanes.as_standard_layout();
            let m = owned
                .view()
                .into_shape_with_order((k_len, r_len))
                .map_err(shape_err)?;
            self.update_lanes(m, offset);
        } else {
            let owned = rows.as_standard_layout();
            let m = owned
                .view()
                .into_shape_with_order((r_len, k_len))
                .map_err(shape_err)?;
            self.update_rows(m, offset);
        }
        Ok(())
    }

    /// Gives element `i` its shift if it has seen no value yet: the first non-NaN of `values`
    /// (sums of deviations from a value near the mean lose no precision to cancellation,
    /// unlike raw sums of squares).
    fn start_shift<T: AccElem>(&mut self, i: usize, mut values: impl Iterator<Item = T>) {
        if self.count[i] == self.nan[i] {
            if let Some(v) = values.find(|v| !v.is_nan_value()) {
                self.shift[i] = v.to_f64();
                self.s1[i] = 0.0;
                if let Some(s2) = self.s2.get_mut(i) {
                    *s2 = 0.0;
                }
            }
        }
    }

    /// Moves the shift of elements `range` to their running mean where the mean has drifted
    /// more than four standard deviations from it (the sums then start to cancel). A mean alone
    /// keeps its first shift: a sum of deviations does not cancel.
    fn recenter(&mut self, range: std::ops::Range<usize>) {
        if !self.needs.squares {
            return;
        }
        for i in range {
            let n = self.n(i);
            if n == 0.0 {
                continue;
            }
            let (s1, s2) = (self.s1[i], self.s2[i]);
            let d = s1 / n;
            let m2 = s2 - s1 * d;
            if d * d * n > 16.0 * m2 {
                self.shift[i] += d;
                self.s1[i] = 0.0;
                self.s2[i] = m2.max(0.0);
            }
        }
    }

    /// Merges extremes of element `i`.
    fn take_extremes<T: AccElem>(&mut self, i: usize, min: T, max: T) {
        self.fmin[i] = self.fmin[i].min(min.to_f64());
        self.fmax[i] = self.fmax[i].max(max.to_f64());
        if !T::DTYPE.is_float() {
            self.imin[i] = self.imin[i].min(min.to_i128());
            self.imax[i] = self.imax[i].max(max.to_i128());
        }
    }

    /// Folds a `(K, R)` matrix (one lane of `R` values per output element, from element
    /// `offset` of the state on) into the state, each lane in one vectorized pass
    /// ([`fold_lane`]).
    fn update_lanes<T: AccElem>(&mut self, m: ndarray::ArrayView2<T>, offset: usize) {
        let r = m.ncols();
        let needs = self.needs;
        let mut owned: Vec<T> = Vec::new();
        for (k, lane) in m.outer_iter().enumerate() {
            let i = offset + k;
            let values: &[T] = match lane.to_slice() {
                Some(s) => s,
                None => {
                    owned.clear();
                    owned.extend(lane.iter().copied());
                    &owned
                }
            };
            let shift = if needs.moments {
                self.start_shift(i, values.iter().copied());
                self.shift[i]
            } else {
                0.0
            };
            let s: LaneSums<T> = fold_lane(values, shift, needs);
            self.count[i] += r as u64;
            self.nan[i] += s.nan;
            if needs.moments {
                self.s1[i] += s.s1;
                if needs.squares {
                    self.s2[i] += s.s2;
                }
                self.recenter(i..i + 1);
            }
            if needs.sum {
                self.sum[i] += s.sum;
            }
            if needs.isum {
                self.isum[i] = self.isum[i].wrapping_add(s.isum);
            }
            if needs.minmax && s.nan < r as u64 {
                self.take_extremes(i, s.min, s.max);
            }
        }
    }

    /// Folds an `(R, K)` matrix (each of `R` rows holds one value for output elements
    /// `offset..offset + K`) into the state in place, in one pass over the data, straight into
    /// the state's sums. Lanes are taken a tile at a time so the tile's sums stay in cache.
    fn update_rows<T: AccElem>(&mut self, m: ndarray::ArrayView2<T>, offset: usize) {
        let k = m.ncols();
        // Rows as slices of one contiguous buffer (copied once if the view is not one).
        let owned: Vec<T>;
        let flat: &[T] = match m.to_slice() {
            Some(f) => f,
            None => {
                owned = m.iter().copied().collect();
                &owned
            }
        };
        let rows: Vec<&[T]> = flat.chunks(k).collect();
        self.fold_row_slices(&rows, k, offset);
    }

    /// Folds rows (each holding one value for output elements `offset..offset + k`) into the
    /// state, a tile of lanes at a time over all rows.
    fn fold_row_slices<T: AccElem>(&mut self, rows: &[&[T]], k: usize, offset: usize) {
        const LANES: usize = 1024;
        let r = rows.len();
        let needs = self.needs;
        let tile = LANES.min(k);
        let mut mn = vec![T::HIGHEST; if needs.minmax { tile } else { 0 }];
        let mut mx = vec![T::LOWEST; mn.len()];
        for lo in (0..k).step_by(LANES) {
            let w = (lo + LANES).min(k) - lo;
            let range = offset + lo..offset + lo + w;
            if needs.moments {
                for j in 0..w {
                    self.start_shift(offset + lo + j, rows.iter().map(|row| row[lo + j]));
                }
            }
            for c in &mut self.count[range.clone()] {
                *c += r as u64;
            }
            let nm = mn.len().min(w);
            mn[..nm].fill(T::HIGHEST);
            mx[..nm].fill(T::LOWEST);
            let ReduceState {
                nan,
                shift,
                s1,
                s2,
                sum,
                isum,
                ..
            } = self;
            let mut acc = RowAcc {
                shift: if shift.is_empty() {
                    &[]
                } else {
                    &shift[range.clone()]
                },
                nan: &mut nan[range.clone()],
                s1: part(s1, range.clone()),
                s2: part(s2, range.clone()),
                sum: part(sum, range.clone()),
                isum: part(isum, range.clone()),
                min: &mut mn[..nm],
                max: &mut mx[..nm],
            };
            fold_rows(rows, lo, needs, &mut acc);
            if needs.minmax {
                for j in 0..w {
                    let i = offset + lo + j;
                    if self.n(i) > 0.0 {
                        self.take_extremes(i, mn[j], mx[j]);
                    }
                }
            }
            if needs.moments {
                self.recenter(range);
            }
        }
    }
}
