//! [`ReduceState`]: the mergeable partial state of the reductions of one input over one set of
//! axes, for one block of output elements.
//!
//! Each sub-block of input is folded by the vectorized loops of [`super::fold`] into sums of
//! deviations from a shift near each element's mean, and states merge with Chan's formula, so
//! the result is numerically stable whatever the chunking and order.
//! Floating values accumulate in `f64`; integer sums in wrapping `i64` (numpy's `int64` /
//! `uint64`). States of disjoint parts of the input merge into the state of their union, so a
//! plan can be run in partitions (on many machines) and the partial states merged.
//!
//! `needs.rs`: which statistics a state tracks; `fold_in.rs`: folding input into a state.

mod fold_in;
mod needs;

pub use needs::Needs;

use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::graph::ReduceOp;
use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

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
