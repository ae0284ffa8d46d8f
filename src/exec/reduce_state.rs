//! [`ReduceState`]: the mergeable partial state of the reductions of one input over one set of
//! axes, for one block of output elements.
//!
//! Each sub-block of input is folded by the vectorized loops of [`super::fold`] into sums of
//! deviations from a shift near each element's mean, and states merge with Chan's formula, so
//! the result is numerically stable whatever the chunking and order.
//! Floating values accumulate in `f64`; integer sums in wrapping `i64` (numpy's `int64` /
//! `uint64`). States of disjoint parts of the input merge into the state of their union, so a
//! plan can be run in partitions (on many machines) and the partial states merged.

use super::fold::{fold_lane, fold_rows, AccElem, LaneSums, RowAcc};
use crate::data::NdData;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::graph::ReduceOp;
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use serde::{Deserialize, Serialize};

/// Which statistics a state must track.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needs {
    /// The mean, as a sum of deviations from a shift (mean, var, std).
    pub moments: bool,
    /// Sums of squared deviations from the shift too (var, std; implies `moments`).
    pub squares: bool,
    /// A floating sum (sum, nansum of floats).
    pub sum: bool,
    /// An exact integer sum.
    pub isum: bool,
    /// Minimum and maximum.
    pub minmax: bool,
}

impl Needs {
    /// What `op` needs on input of type `dtype`.
    pub fn of(op: ReduceOp, dtype: DType) -> Needs {
        use ReduceOp::*;
        let mut n = Needs::default();
        match op {
            Sum | NanSum if dtype.is_float() => n.sum = true,
            Sum | NanSum => n.isum = true,
            Mean | NanMean => n.moments = true,
            Var | Std | NanVar | NanStd => {
                n.moments = true;
                n.squares = true;
            }
            Min | Max | NanMin | NanMax => n.minmax = true,
            Count => {}
        }
        n
    }

    /// The union of two needs.
    pub fn union(self, o: Needs) -> Needs {
        Needs {
            moments: self.moments | o.moments,
            squares: self.squares | o.squares,
            sum: self.sum | o.sum,
            isum: self.isum | o.isum,
            minmax: self.minmax | o.minmax,
        }
    }

    /// Bytes of state per output element.
    pub fn bytes_per_element(&self) -> usize {
        16 + 16 * self.moments as usize
            + 8 * self.squares as usize
            + 8 * self.sum as usize
            + 8 * self.isum as usize
            + 32 * self.minmax as usize
    }
}

/// The partial state of reductions for a block of `len` output elements.
///
/// Moments are kept as sums of deviations from a per-element shift (the first value seen, moved
/// to the running mean whenever the mean drifts more than a few standard deviations from it),
/// so folding data only adds, and no division runs per element. Two states merge with Chan's
/// formula.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReduceState {
    needs: Needs,
    /// Values seen, NaN included.
    count: Vec<u64>,
    /// NaN values seen.
    nan: Vec<u64>,
    /// The shift of the moments.
    shift: Vec<f64>,
    /// Sums of deviations of non-NaN values from the shift.
    s1: Vec<f64>,
    /// Sums of squared deviations from the shift.
    s2: Vec<f64>,
    sum: Vec<f64>,
    isum: Vec<i64>,
    fmin: Vec<f64>,
    fmax: Vec<f64>,
    imin: Vec<i128>,
    imax: Vec<i128>,
}

/// Elements `range` of a state's array, or nothing if the array is not kept.
fn part<T>(v: &mut [T], range: std::ops::Range<usize>) -> &mut [T] {
    if v.is_empty() {
        &mut []
    } else {
        &mut v[range]
    }
}

impl ReduceState {
    /// An empty state for `len` output elements.
    pub fn new(needs: Needs, len: usize) -> ReduceState {
        fn v<T: Clone>(on: bool, x: T, len: usize) -> Vec<T> {
            if on {
                vec![x; len]
            } else {
                vec![]
            }
        }
        ReduceState {
            needs,
            count: vec![0; len],
            nan: vec![0; len],
            shift: v(needs.moments, 0.0, len),
            s1: v(needs.moments, 0.0, len),
            s2: v(needs.squares, 0.0, len),
            sum: v(needs.sum, 0.0, len),
            isum: v(needs.isum, 0, len),
            fmin: v(needs.minmax, f64::INFINITY, len),
            fmax: v(needs.minmax, f64::NEG_INFINITY, len),
            imin: v(needs.minmax, i128::MAX, len),
            imax: v(needs.minmax, i128::MIN, len),
        }
    }

    /// Number of output elements.
    pub fn len(&self) -> usize {
        self.count.len()
    }

    /// True for a state of no output elements.
    pub fn is_empty(&self) -> bool {
        self.count.is_empty()
    }

    /// Non-NaN values seen for element `i`.
    fn n(&self, i: usize) -> f64 {
        (self.count[i] - self.nan[i]) as f64
    }

    /// Mean and sum of squared deviations from it, of element `i` (moments kept, `n > 0`; the
    /// second is 0 when squares are not kept).
    fn moments(&self, i: usize) -> (f64, f64) {
        let n = self.n(i);
        let d = self.s1[i] / n;
        let m2 = match self.s2.get(i) {
            Some(&s2) => (s2 - self.s1[i] * d).max(0.0),
            None => 0.0,
        };
        (self.shift[i] + d, m2)
    }

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

    /// Merges the state of a disjoint part of the input (Chan et al.'s parallel formula).
    pub fn merge(&mut self, other: &ReduceState) -> Result<()> {
        if other.len() != self.len() || other.needs != self.needs {
            return Err(Error::Invalid(format!(
                "cannot merge a reduce state of {} elements into one of {}",
                other.len(),
                self.len()
            )));
        }
        let nd = self.needs;
        for i in 0..self.len() {
            let (na, nb) = (self.n(i), other.n(i));
            if nd.moments && nb > 0.0 {
                let (mb, m2b) = other.moments(i);
                let (ma, m2a) = if na > 0.0 { self.moments(i) } else { (mb, 0.0) };
                let n = na + nb;
                let delta = mb - ma;
                self.shift[i] = ma + delta * nb / n;
                self.s1[i] = 0.0;
                if nd.squares {
                    self.s2[i] = m2a + m2b + delta * delta * na * nb / n;
                }
            }
            self.count[i] += other.count[i];
            self.nan[i] += other.nan[i];
        }
        if nd.sum {
            self.sum
                .iter_mut()
                .zip(&other.sum)
                .for_each(|(a, b)| *a += b);
        }
        if nd.isum {
            self.isum
                .iter_mut()
                .zip(&other.isum)
                .for_each(|(a, b)| *a = a.wrapping_add(*b));
        }
        if nd.minmax {
            self.fmin
                .iter_mut()
                .zip(&other.fmin)
                .for_each(|(a, b)| *a = a.min(*b));
            self.fmax
                .iter_mut()
                .zip(&other.fmax)
                .for_each(|(a, b)| *a = a.max(*b));
            self.imin
                .iter_mut()
                .zip(&other.imin)
                .for_each(|(a, b)| *a = (*a).min(*b));
            self.imax
                .iter_mut()
                .zip(&other.imax)
                .for_each(|(a, b)| *a = (*a).max(*b));
        }
        Ok(())
    }

    /// The result of `op` for these elements, of type `out` and shape `shape`. As numpy: the
    /// minimum or maximum of no values at all is an error; the mean, variance and standard
    /// deviation of no values are NaN; the sum is 0.
    pub fn finalize(
        &self,
        op: ReduceOp,
        input: DType,
        out: DType,
        shape: &[usize],
        ddof: f64,
        mdtol: f64,
    ) -> Result<NdData> {
        use ReduceOp::*;
        let len = self.len();
        if shape.iter().product::<usize>() != len {
            return Err(Error::Internal(format!(
                "finalize: shape {shape:?} for {len} elements"
            )));
        }
        let shape_err = |e: ndarray::ShapeError| Error::Internal(e.to_string());
        let float_of = |f: &dyn Fn(usize) -> f64| -> Result<NdData> {
            let a = ArrayD::from_shape_vec(IxDyn(shape), (0..len).map(f).collect())
                .map_err(shape_err)?;
            Ok(NdData::F64(a).cast(out))
        };
        let mean_of = |i: usize| -> f64 {
            if self.n(i) == 0.0 {
                f64::NAN
            } else {
                self.moments(i).0
            }
        };
        let var_of = |i: usize| -> f64 {
            if !op.skips_nan() && self.nan[i] > 0 || self.n(i) == 0.0 {
                return f64::NAN;
            }
            let dof = (self.n(i) - ddof).max(0.0);
            self.moments(i).1 / dof
        };
        if matches!(op, Min | Max | NanMin | NanMax) && self.count.contains(&0) {
            return Err(Error::Invalid(format!(
                "zero-size array to reduction operation {} which has no identity",
                if matches!(op, Min | NanMin) {
                    "minimum"
                } else {
                    "maximum"
                }
            )));
        }
        match op {
            Count => {
                let a = ArrayD::from_shape_vec(
                    IxDyn(shape),
                    (0..len).map(|i| self.n(i) as i64).collect(),
                )
                .map_err(shape_err)?;
                Ok(NdData::I64(a))
            }
            Sum | NanSum if !input.is_float() => {
                let a =
                    ArrayD::from_shape_vec(IxDyn(shape), self.isum.clone()).map_err(shape_err)?;
                Ok(if out == DType::U64 {
                    NdData::U64(a.mapv(|v| v as u64))
                } else {
                    NdData::I64(a)
                })
            }
            Sum => float_of(&|i| {
                if self.nan[i] > 0 {
                    f64::NAN
                } else {
                    self.sum[i]
                }
            }),
            NanSum => float_of(&|i| self.sum[i]),
            Mean => float_of(&|i| {
                if self.nan[i] > 0 {
                    f64::NAN
                } else {
                    mean_of(i)
                }
            }),
            NanMean => float_of(&|i| {
                if (self.nan[i] as f64) / (self.count[i] as f64) > mdtol {
                    f64::NAN
                } else {
                    mean_of(i)
                }
            }),
            Var | NanVar => float_of(&var_of),
            Std | NanStd => float_of(&|i| var_of(i).sqrt()),
            Min | Max | NanMin | NanMax if !input.is_float() => {
                let src = if matches!(op, Min | NanMin) {
                    &self.imin
                } else {
                    &self.imax
                };
                // Exact for every integer type: through i128 rather than f64.
                Ok(match input {
                    DType::I64 => NdData::I64(
                        ArrayD::from_shape_vec(
                            IxDyn(shape),
                            src.iter().map(|&v| v as i64).collect(),
                        )
                        .map_err(shape_err)?,
                    ),
                    DType::U64 => NdData::U64(
                        ArrayD::from_shape_vec(
                            IxDyn(shape),
                            src.iter().map(|&v| v as u64).collect(),
                        )
                        .map_err(shape_err)?,
                    ),
                    _ => NdData::F64(
                        ArrayD::from_shape_vec(
                            IxDyn(shape),
                            src.iter().map(|&v| v as f64).collect(),
                        )
                        .map_err(shape_err)?,
                    )
                    .cast(out),
                })
            }
            Min | Max | NanMin | NanMax => {
                let is_min = matches!(op, Min | NanMin);
                float_of(&|i| {
                    if (!op.skips_nan() && self.nan[i] > 0) || self.n(i) == 0.0 {
                        f64::NAN
                    } else if is_min {
                        self.fmin[i]
                    } else {
                        self.fmax[i]
                    }
                })
            }
        }
    }
}

/// The 64 bits of a 64-bit integer element (other types: their value as `i64`).
pub(crate) fn bits64<T: Element>(x: T) -> u64 {
    use std::any::Any;
    let any = &x as &dyn Any;
    if let Some(v) = any.downcast_ref::<i64>() {
        *v as u64
    } else if let Some(v) = any.downcast_ref::<u64>() {
        *v
    } else {
        x.to_f64() as i64 as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chan_merge_equals_one_pass() {
        let data: Vec<f64> = (0..1000)
            .map(|i| ((i * 7919) % 1009) as f64 * 1e-3 + 1e6)
            .collect();
        let whole = NdData::F64(ArrayD::from_shape_vec(IxDyn(&[1000]), data.clone()).unwrap());
        let needs = Needs {
            moments: true,
            squares: true,
            sum: true,
            ..Default::default()
        };
        let mut one = ReduceState::new(needs, 1);
        one.update(&whole, &[0]).unwrap();
        let mut parts = ReduceState::new(needs, 1);
        for c in data.chunks(37) {
            let mut s = ReduceState::new(needs, 1);
            s.update(
                &NdData::F64(ArrayD::from_shape_vec(IxDyn(&[c.len()]), c.to_vec()).unwrap()),
                &[0],
            )
            .unwrap();
            parts.merge(&s).unwrap();
        }
        // Reference: two-pass variance in a plain loop.
        let mean = data.iter().sum::<f64>() / 1000.0;
        let var = data.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 1000.0;
        for st in [&one, &parts] {
            let v = st
                .finalize(ReduceOp::Var, DType::F64, DType::F64, &[], 0.0, 1.0)
                .unwrap()
                .into_typed::<f64>()
                .unwrap();
            assert!((v[[]] - var).abs() <= 1e-9 * var, "{} vs {var}", v[[]]);
        }
    }

    /// A mean alone keeps no squares: folded as lanes, as rows and merged from parts, with
    /// NaNs and values far from zero, it equals a plain loop's mean.
    #[test]
    fn a_mean_alone_keeps_no_squares_and_equals_a_plain_loop() {
        let (r, k) = (4100, 3);
        let value = |i: usize, j: usize| -> f64 {
            if i % 1001 == 7 && j == 1 {
                f64::NAN
            } else {
                -3e7 + ((i * 7919 + j * 104729) % 1013) as f64 * 1e-2
            }
        };
        let all = ArrayD::from_shape_fn(IxDyn(&[r, k]), |ix| value(ix[0], ix[1]));
        let needs = Needs::of(ReduceOp::NanMean, DType::F64);
        assert!(needs.moments && !needs.squares);
        assert_eq!(needs.bytes_per_element(), 32);
        let data = NdData::F64(all.clone().into_dyn());
        // Lanes (axis 1 kept: a lane per column after the transpose), rows, merged parts.
        let mut lanes = ReduceState::new(needs, k);
        let t = NdData::F64(all.t().as_standard_layout().into_owned().into_dyn());
        lanes.update(&t, &[1]).unwrap();
        let mut rows = ReduceState::new(needs, k);
        rows.update(&data, &[0]).unwrap();
        let mut merged = ReduceState::new(needs, k);
        for lo in (0..r).step_by(1000) {
            let hi = (lo + 1000).min(r);
            let mut s = ReduceState::new(needs, k);
            let piece = NdData::F64(all.slice(ndarray::s![lo..hi, ..]).to_owned().into_dyn());
            s.update(&piece, &[0]).unwrap();
            merged.merge(&s).unwrap();
        }
        for st in [&lanes, &rows, &merged] {
            assert!(st.s2.is_empty());
            let got = st
                .finalize(ReduceOp::NanMean, DType::F64, DType::F64, &[k], 0.0, 1.0)
                .unwrap()
                .into_typed::<f64>()
                .unwrap();
            for j in 0..k {
                let lane: Vec<f64> = (0..r)
                    .map(|i| value(i, j))
                    .filter(|v| !v.is_nan())
                    .collect();
                let m = lane.iter().sum::<f64>() / lane.len() as f64;
                assert!(
                    (got[[j]] - m).abs() <= 1e-12 * m.abs(),
                    "lane {j}: {} vs {m}",
                    got[[j]]
                );
            }
        }
    }

    /// Rows folded a few at a time, across lane tiles (3000 lanes), with NaNs and large
    /// offsets, give what plain per-lane loops give.
    #[test]
    fn rows_folded_in_place_match_per_lane_loops() {
        let (r, k) = (7, 3000);
        let value = |i: usize, j: usize| -> f64 {
            if (i * 31 + j).is_multiple_of(53) || (j == 5) {
                f64::NAN
            } else {
                1e6 + ((i * 7919 + j * 104729) % 1013) as f64 * 1e-3
            }
        };
        let all = ArrayD::from_shape_fn(IxDyn(&[r, k]), |ix| value(ix[0], ix[1]));
        let needs = Needs {
            moments: true,
            squares: true,
            sum: true,
            minmax: true,
            ..Default::default()
        };
        let mut st = ReduceState::new(needs, k);
        for (lo, hi) in [(0, 1), (1, 3), (3, 7)] {
            let piece = NdData::F64(all.slice(ndarray::s![lo..hi, ..]).to_owned().into_dyn());
            st.update(&piece, &[0]).unwrap();
        }
        let get = |op: ReduceOp| {
            st.finalize(op, DType::F64, DType::F64, &[k], 0.0, 1.0)
                .unwrap()
                .into_typed::<f64>()
                .unwrap()
        };
        let (mean, var, sum, min, max) = (
            get(ReduceOp::NanMean),
            get(ReduceOp::NanVar),
            get(ReduceOp::NanSum),
            get(ReduceOp::NanMin),
            get(ReduceOp::NanMax),
        );
        let plain_mean = get(ReduceOp::Mean);
        for j in 0..k {
            let lane: Vec<f64> = (0..r)
                .map(|i| value(i, j))
                .filter(|v| !v.is_nan())
                .collect();
            if lane.is_empty() {
                assert!(mean[[j]].is_nan() && plain_mean[[j]].is_nan(), "lane {j}");
                continue;
            }
            let n = lane.len() as f64;
            let m = lane.iter().sum::<f64>() / n;
            let v = lane.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
            assert!((mean[[j]] - m).abs() <= 1e-12 * m, "mean lane {j}");
            assert!(
                (var[[j]] - v).abs() <= 1e-9 * v.max(1e-9),
                "var lane {j}: {} vs {v}",
                var[[j]]
            );
            assert!((sum[[j]] - lane.iter().sum::<f64>()).abs() <= 1e-12 * sum[[j]].abs());
            assert_eq!(min[[j]], lane.iter().cloned().fold(f64::INFINITY, f64::min));
            assert_eq!(
                max[[j]],
                lane.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
            );
            let has_nan = (0..r).any(|i| value(i, j).is_nan());
            assert_eq!(
                plain_mean[[j]].is_nan(),
                has_nan,
                "mean of lane {j} with NaN"
            );
        }
    }
}
