//! [`ReduceState`]: the mergeable partial state of the reductions of one input over one set of
//! axes, for one block of output elements.
//!
//! Each sub-block of input is summarized in two passes (count, sum, NaNs, extremes; then the
//! sum of squared deviations from the sub-block's own mean), and merged into the running state
//! with Chan's formula, so the result is numerically stable whatever the chunking and order.
//! Floating values accumulate in `f64`; integer sums in wrapping `i64` (numpy's `int64` /
//! `uint64`). States of disjoint parts of the input merge into the state of their union, so a
//! plan can be run in partitions (on many machines) and the partial states merged.

use crate::data::NdData;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::graph::ReduceOp;
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};
use serde::{Deserialize, Serialize};

/// Which statistics a state must track.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needs {
    /// Mean and sum of squared deviations (mean, var, std).
    pub moments: bool,
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
            Mean | Var | Std | NanMean | NanVar | NanStd => n.moments = true,
            Min | Max | NanMin | NanMax => n.minmax = true,
            Count => {}
        }
        n
    }

    /// The union of two needs.
    pub fn union(self, o: Needs) -> Needs {
        Needs {
            moments: self.moments | o.moments,
            sum: self.sum | o.sum,
            isum: self.isum | o.isum,
            minmax: self.minmax | o.minmax,
        }
    }

    /// Bytes of state per output element.
    pub fn bytes_per_element(&self) -> usize {
        16 + 16 * self.moments as usize
            + 8 * self.sum as usize
            + 8 * self.isum as usize
            + 32 * self.minmax as usize
    }
}

/// The partial state of reductions for a block of `len` output elements.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReduceState {
    needs: Needs,
    /// Non-NaN elements seen.
    n: Vec<f64>,
    /// NaN elements seen.
    nan: Vec<u64>,
    mean: Vec<f64>,
    m2: Vec<f64>,
    sum: Vec<f64>,
    isum: Vec<i64>,
    fmin: Vec<f64>,
    fmax: Vec<f64>,
    imin: Vec<i128>,
    imax: Vec<i128>,
}

/// Per-thread scratch of `update_rows` for one tile of lanes, reused across pieces.
#[derive(Default)]
struct RowScratch {
    /// Shift of each lane's moments.
    shift: Vec<f64>,
    /// Sums of deviations from the shift, and of their squares.
    s1: Vec<f64>,
    s2: Vec<f64>,
    /// Plain sums (when a sum is needed).
    sum: Vec<f64>,
    /// NaNs seen.
    nan: Vec<u64>,
}

thread_local! {
    static ROW_SCRATCH: std::cell::RefCell<RowScratch> = std::cell::RefCell::new(RowScratch::default());
}

/// Element types that reductions read.
pub trait AccElem: Element {
    /// True for NaN.
    fn is_nan_value(self) -> bool;
    /// The value's bits as `i64` (for wrapping integer sums).
    fn to_i64_bits(self) -> i64;
    /// The value as `i128` (exact extremes of integers).
    fn to_i128(self) -> i128;
}

macro_rules! acc_elem {
    ($is_nan:expr; $($t:ty),*) => {$(
        impl AccElem for $t {
            #[inline]
            fn is_nan_value(self) -> bool {
                let is_nan: fn($t) -> bool = $is_nan;
                is_nan(self)
            }
            #[inline]
            fn to_i64_bits(self) -> i64 {
                self as i64
            }
            #[inline]
            fn to_i128(self) -> i128 {
                self as i128
            }
        }
    )*};
}
acc_elem!(|_| false; bool, i8, i16, i32, i64, u8, u16, u32, u64);
acc_elem!(|v| v.is_nan(); f32, f64);

/// The summary of one sub-block, before it is merged.
struct Partial {
    n: Vec<f64>,
    nan: Vec<u64>,
    sum: Vec<f64>,
    isum: Vec<i64>,
    fmin: Vec<f64>,
    fmax: Vec<f64>,
    imin: Vec<i128>,
    imax: Vec<i128>,
    m2: Vec<f64>,
    /// Means of the sub-block (filled when moments are needed).
    mean: Vec<f64>,
}

impl ReduceState {
    /// An empty state for `len` output elements.
    pub fn new(needs: Needs, len: usize) -> ReduceState {
        let v = |on: bool, x: f64| if on { vec![x; len] } else { vec![] };
        ReduceState {
            needs,
            n: vec![0.0; len],
            nan: vec![0; len],
            mean: v(needs.moments, 0.0),
            m2: v(needs.moments, 0.0),
            sum: v(needs.sum, 0.0),
            isum: if needs.isum { vec![0; len] } else { vec![] },
            fmin: v(needs.minmax, f64::INFINITY),
            fmax: v(needs.minmax, f64::NEG_INFINITY),
            imin: if needs.minmax {
                vec![i128::MAX; len]
            } else {
                vec![]
            },
            imax: if needs.minmax {
                vec![i128::MIN; len]
            } else {
                vec![]
            },
        }
    }

    /// Number of output elements.
    pub fn len(&self) -> usize {
        self.n.len()
    }

    /// True for a state of no output elements.
    pub fn is_empty(&self) -> bool {
        self.n.is_empty()
    }

    /// Folds a sub-block of input into the state. `x` has the input's axes; `reduced` lists the
    /// reduced axes of `x`; the other axes, in order, index the state's elements (C order).
    pub fn update(&mut self, x: &NdData, reduced: &[usize]) -> Result<()> {
        crate::with_nd!(x, a: T => self.update_typed(a.view(), reduced))
    }

    fn update_typed<T: AccElem>(&mut self, x: ArrayViewD<T>, reduced: &[usize]) -> Result<()> {
        let nd = x.ndim();
        let kept: Vec<usize> = (0..nd).filter(|d| !reduced.contains(d)).collect();
        let k_len: usize = kept.iter().map(|&d| x.shape()[d]).product();
        let r_len: usize = reduced.iter().map(|&d| x.shape()[d]).product();
        if k_len != self.len() {
            return Err(Error::Internal(format!(
                "reduce state of {} elements fed {} kept elements",
                self.len(),
                k_len
            )));
        }
        if r_len == 0 {
            return Ok(());
        }
        // Reduced axes last gives lanes (one per output element); reduced axes first gives
        // rows (each row updates every output element). Pick the one that needs no copy.
        let lanes_order: Vec<usize> = kept.iter().chain(reduced).copied().collect();
        let rows_order: Vec<usize> = reduced.iter().chain(&kept).copied().collect();
        let lanes = x.view().permuted_axes(IxDyn(&lanes_order));
        let p = if lanes.is_standard_layout() && (r_len > 1 || k_len == 1) {
            let m = lanes
                .into_shape_with_order((k_len, r_len))
                .map_err(|e| Error::Internal(e.to_string()))?;
            summarize_lanes(m, self.needs)
        } else {
            let rows = x.view().permuted_axes(IxDyn(&rows_order));
            if rows.is_standard_layout() {
                let m = rows
                    .into_shape_with_order((r_len, k_len))
                    .map_err(|e| Error::Internal(e.to_string()))?;
                self.update_rows(m);
                return Ok(());
            } else if r_len >= 16 {
                let owned = lanes.as_standard_layout();
                let m = owned
                    .view()
                    .into_shape_with_order((k_len, r_len))
                    .map_err(|e| Error::Internal(e.to_string()))?;
                summarize_lanes(m, self.needs)
            } else {
                let owned = rows.as_standard_layout();
                let m = owned
                    .view()
                    .into_shape_with_order((r_len, k_len))
                    .map_err(|e| Error::Internal(e.to_string()))?;
                self.update_rows(m);
                return Ok(());
            }
        };
        self.merge_partial(p);
        Ok(())
    }

    /// Folds an `(R, K)` matrix (each of `R` rows holds one value for every output element)
    /// into the state in place, in one pass over the data: the moments of each lane are summed
    /// around a shift (the lane's running mean, or its first value), which loses no precision
    /// to cancellation, and merged with Chan's formula. Lanes are taken a tile at a time so
    /// the tile's sums stay in cache (reused per-thread scratch, no new vectors per piece).
    fn update_rows<T: AccElem>(&mut self, m: ndarray::ArrayView2<T>) {
        const LANES: usize = 1024;
        let (r, k) = m.dim();
        // Rows as slices of one contiguous buffer (copied once if the view is not one).
        let owned: Vec<T>;
        let flat: &[T] = match m.to_slice() {
            Some(f) => f,
            None => {
                owned = m.iter().copied().collect();
                &owned
            }
        };
        let rows: Vec<&[T]> = if k == 0 {
            vec![]
        } else {
            flat.chunks(k).collect()
        };
        let needs = self.needs;
        ROW_SCRATCH.with(|cell| {
            let mut scratch = cell.borrow_mut();
            let sc = &mut *scratch;
            for lo in (0..k).step_by(LANES) {
                let hi = (lo + LANES).min(k);
                let w = hi - lo;
                for v in [&mut sc.s1, &mut sc.s2, &mut sc.sum, &mut sc.shift] {
                    v.clear();
                    v.resize(w, 0.0);
                }
                sc.nan.clear();
                sc.nan.resize(w, 0);
                if needs.moments {
                    for (j, sh) in sc.shift.iter_mut().enumerate() {
                        let i = lo + j;
                        *sh = if self.n[i] > 0.0 {
                            self.mean[i]
                        } else {
                            rows.iter()
                                .map(|row| row[i])
                                .find(|v| !v.is_nan_value())
                                .map_or(0.0, |v| v.to_f64())
                        };
                    }
                }
                for row in &rows {
                    let row = &row[lo..hi];
                    for (c, &v) in sc.nan.iter_mut().zip(row) {
                        *c += v.is_nan_value() as u64;
                    }
                    if needs.moments {
                        let (s1, s2, shift) = (&mut sc.s1[..w], &mut sc.s2[..w], &sc.shift[..w]);
                        for j in 0..w {
                            let v = row[j];
                            let d = if v.is_nan_value() {
                                0.0
                            } else {
                                v.to_f64() - shift[j]
                            };
                            s1[j] += d;
                            s2[j] += d * d;
                        }
                    }
                    if needs.sum {
                        for (a, &v) in sc.sum.iter_mut().zip(row) {
                            *a += if v.is_nan_value() { 0.0 } else { v.to_f64() };
                        }
                    }
                    if needs.isum {
                        for (a, &v) in self.isum[lo..hi].iter_mut().zip(row) {
                            *a = a.wrapping_add(v.to_i64_bits());
                        }
                    }
                    if needs.minmax {
                        // f64::min and max skip NaN, which is counted apart.
                        for ((a, b), &v) in self.fmin[lo..hi]
                            .iter_mut()
                            .zip(&mut self.fmax[lo..hi])
                            .zip(row)
                        {
                            let f = v.to_f64();
                            *a = a.min(f);
                            *b = b.max(f);
                        }
                        if !T::DTYPE.is_float() {
                            for ((a, b), &v) in self.imin[lo..hi]
                                .iter_mut()
                                .zip(&mut self.imax[lo..hi])
                                .zip(row)
                            {
                                let x = v.to_i128();
                                *a = (*a).min(x);
                                *b = (*b).max(x);
                            }
                        }
                    }
                }
                if needs.sum {
                    for (a, b) in self.sum[lo..hi].iter_mut().zip(&sc.sum) {
                        *a += b;
                    }
                }
                for (a, &b) in self.nan[lo..hi].iter_mut().zip(&sc.nan) {
                    *a += b;
                }
                let n = &mut self.n[lo..hi];
                if !needs.moments {
                    for (n, &c) in n.iter_mut().zip(&sc.nan) {
                        *n += (r as u64 - c) as f64;
                    }
                    continue;
                }
                // Chan's merge of each lane's (count, mean, m2) into the state.
                let (mean, m2) = (&mut self.mean[lo..hi], &mut self.m2[lo..hi]);
                for j in 0..w {
                    let nb = (r as u64 - sc.nan[j]) as f64;
                    if nb == 0.0 {
                        continue;
                    }
                    let (s1, s2) = (sc.s1[j], sc.s2[j]);
                    let mean_b = sc.shift[j] + s1 / nb;
                    let m2_b = (s2 - s1 * s1 / nb).max(0.0);
                    let na = n[j];
                    let total = na + nb;
                    let delta = mean_b - mean[j];
                    mean[j] += delta * nb / total;
                    m2[j] += m2_b + delta * delta * na * nb / total;
                    n[j] = total;
                }
            }
        });
    }

    fn merge_partial(&mut self, p: Partial) {
        let means = p.mean;
        let other = ReduceState {
            needs: self.needs,
            n: p.n,
            nan: p.nan,
            mean: means,
            m2: p.m2,
            sum: if self.needs.sum { p.sum } else { vec![] },
            isum: p.isum,
            fmin: p.fmin,
            fmax: p.fmax,
            imin: p.imin,
            imax: p.imax,
        };
        self.merge_unchecked(&other);
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
        self.merge_unchecked(other);
        Ok(())
    }

    fn merge_unchecked(&mut self, o: &ReduceState) {
        let nd = &self.needs;
        for i in 0..self.n.len() {
            let (na, nb) = (self.n[i], o.n[i]);
            let n = na + nb;
            if nd.moments && nb > 0.0 {
                let delta = o.mean[i] - self.mean[i];
                self.mean[i] += delta * nb / n;
                self.m2[i] += o.m2[i] + delta * delta * na * nb / n;
            }
            self.n[i] = n;
            self.nan[i] += o.nan[i];
        }
        if nd.sum {
            self.sum.iter_mut().zip(&o.sum).for_each(|(a, b)| *a += b);
        }
        if nd.isum {
            self.isum
                .iter_mut()
                .zip(&o.isum)
                .for_each(|(a, b)| *a = a.wrapping_add(*b));
        }
        if nd.minmax {
            self.fmin
                .iter_mut()
                .zip(&o.fmin)
                .for_each(|(a, b)| *a = a.min(*b));
            self.fmax
                .iter_mut()
                .zip(&o.fmax)
                .for_each(|(a, b)| *a = a.max(*b));
            self.imin
                .iter_mut()
                .zip(&o.imin)
                .for_each(|(a, b)| *a = (*a).min(*b));
            self.imax
                .iter_mut()
                .zip(&o.imax)
                .for_each(|(a, b)| *a = (*a).max(*b));
        }
    }

    /// The result of `op` for these elements, of type `out` and shape `shape`.
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
        let float_of = |f: &dyn Fn(usize) -> f64| -> Result<NdData> {
            let a = ArrayD::from_shape_vec(IxDyn(shape), (0..len).map(f).collect())
                .map_err(|e| Error::Internal(e.to_string()))?;
            Ok(NdData::F64(a).cast(out))
        };
        let var_of = |i: usize| -> f64 {
            if !op.skips_nan() && self.nan[i] > 0 {
                return f64::NAN;
            }
            let dof = (self.n[i] - ddof).max(0.0);
            self.m2[i] / dof
        };
        match op {
            Count => {
                let a = ArrayD::from_shape_vec(
                    IxDyn(shape),
                    self.n.iter().map(|&n| n as i64).collect(),
                )
                .map_err(|e| Error::Internal(e.to_string()))?;
                Ok(NdData::I64(a))
            }
            Sum | NanSum if !input.is_float() => {
                let a = ArrayD::from_shape_vec(IxDyn(shape), self.isum.clone())
                    .map_err(|e| Error::Internal(e.to_string()))?;
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
                if self.nan[i] > 0 || self.n[i] == 0.0 {
                    f64::NAN
                } else {
                    self.mean[i]
                }
            }),
            NanMean => float_of(&|i| {
                let total = self.n[i] + self.nan[i] as f64;
                if self.n[i] == 0.0 || (self.nan[i] as f64) / total > mdtol {
                    f64::NAN
                } else {
                    self.mean[i]
                }
            }),
            Var | NanVar => float_of(&var_of),
            Std | NanStd => float_of(&|i| var_of(i).sqrt()),
            Min | Max | NanMin | NanMax if !input.is_float() => {
                if self.n.contains(&0.0) {
                    return Err(Error::Invalid(format!(
                        "zero-size array to reduction operation {} which has no identity",
                        op.name()
                    )));
                }
                let src = if matches!(op, Min | NanMin) {
                    &self.imin
                } else {
                    &self.imax
                };
                let a =
                    ArrayD::from_shape_vec(IxDyn(shape), src.iter().map(|&v| v as f64).collect())
                        .map_err(|e| Error::Internal(e.to_string()))?;
                // Exact for every integer type: go through i128 rather than f64 when wide.
                if matches!(input, DType::I64 | DType::U64) {
                    let exact: Vec<i128> = src.clone();
                    return Ok(match input {
                        DType::I64 => NdData::I64(
                            ArrayD::from_shape_vec(
                                IxDyn(shape),
                                exact.iter().map(|&v| v as i64).collect(),
                            )
                            .map_err(|e| Error::Internal(e.to_string()))?,
                        ),
                        _ => NdData::U64(
                            ArrayD::from_shape_vec(
                                IxDyn(shape),
                                exact.iter().map(|&v| v as u64).collect(),
                            )
                            .map_err(|e| Error::Internal(e.to_string()))?,
                        ),
                    });
                }
                Ok(NdData::F64(a).cast(out))
            }
            Min | Max | NanMin | NanMax => {
                let is_min = matches!(op, Min | NanMin);
                float_of(&|i| {
                    if (!op.skips_nan() && self.nan[i] > 0) || self.n[i] == 0.0 {
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

fn empty_partial(k: usize, needs: Needs) -> Partial {
    Partial {
        n: vec![0.0; k],
        nan: vec![0; k],
        sum: vec![0.0; k],
        isum: if needs.isum { vec![0; k] } else { vec![] },
        fmin: if needs.minmax {
            vec![f64::INFINITY; k]
        } else {
            vec![]
        },
        fmax: if needs.minmax {
            vec![f64::NEG_INFINITY; k]
        } else {
            vec![]
        },
        imin: if needs.minmax {
            vec![i128::MAX; k]
        } else {
            vec![]
        },
        imax: if needs.minmax {
            vec![i128::MIN; k]
        } else {
            vec![]
        },
        m2: if needs.moments { vec![0.0; k] } else { vec![] },
        mean: if needs.moments { vec![0.0; k] } else { vec![] },
    }
}

/// Summarizes a `(K, R)` matrix: one lane of `R` values per output element.
fn summarize_lanes<T: AccElem>(m: ndarray::ArrayView2<T>, needs: Needs) -> Partial {
    let k = m.nrows();
    let mut p = empty_partial(k, needs);
    for (i, lane) in m.axis_iter(Axis(0)).enumerate() {
        let owned: Vec<T>;
        let values: &[T] = match lane.to_slice() {
            Some(s) => s,
            None => {
                owned = lane.to_vec();
                &owned
            }
        };
        let (mut n, mut nan, mut s) = (0usize, 0u64, 0.0f64);
        let mut is = 0i64;
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut ilo, mut ihi) = (i128::MAX, i128::MIN);
        // Moments in one pass around a shift (the lane's first value): sums of deviations from
        // a value near the mean lose no precision to cancellation, unlike raw sums of squares.
        let shift = values
            .iter()
            .find(|v| !v.is_nan_value())
            .map(|v| v.to_f64())
            .unwrap_or(0.0);
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for &v in values {
            if v.is_nan_value() {
                nan += 1;
                continue;
            }
            n += 1;
            let f = v.to_f64();
            s += f;
            let d = f - shift;
            s1 += d;
            s2 += d * d;
            if needs.isum {
                is = is.wrapping_add(v.to_i64_bits());
            }
            if needs.minmax {
                lo = lo.min(f);
                hi = hi.max(f);
                if !T::DTYPE.is_float() {
                    let w = v.to_i128();
                    ilo = ilo.min(w);
                    ihi = ihi.max(w);
                }
            }
        }
        p.n[i] = n as f64;
        p.nan[i] = nan;
        p.sum[i] = s;
        if needs.isum {
            p.isum[i] = is;
        }
        if needs.minmax {
            p.fmin[i] = lo;
            p.fmax[i] = hi;
            p.imin[i] = ilo;
            p.imax[i] = ihi;
        }
        if needs.moments && n > 0 {
            let nf = n as f64;
            p.mean[i] = shift + s1 / nf;
            p.m2[i] = (s2 - s1 * s1 / nf).max(0.0);
        }
    }
    p
}

/// The 64 bits of a 64-bit integer element (other types: their value as `i64`).
pub fn bits64<T: Element>(x: T) -> u64 {
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

    /// Rows folded a few at a time, across lane tiles (3000 lanes), with NaNs and large
    /// offsets, give what plain per-lane loops give.
    #[test]
    fn rows_folded_in_place_match_per_lane_loops() {
        let (r, k) = (7, 3000);
        let value = |i: usize, j: usize| -> f64 {
            if (i * 31 + j) % 53 == 0 || (j == 5) {
                f64::NAN
            } else {
                1e6 + ((i * 7919 + j * 104729) % 1013) as f64 * 1e-3
            }
        };
        let all = ArrayD::from_shape_fn(IxDyn(&[r, k]), |ix| value(ix[0], ix[1]));
        let needs = Needs {
            moments: true,
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
