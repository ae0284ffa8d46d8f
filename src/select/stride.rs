//! [`Stride`]: a normalized slice of one axis, and its arithmetic.

use crate::error::{Error, Result};

/// `len` positions `start, start + step, ..., start + (len - 1) * step` along one axis.
/// `step` is never zero; it may be negative. When `len == 0`, `start` is 0 and means nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stride {
    /// The first position.
    pub start: usize,
    /// The distance between positions (never zero).
    pub step: isize,
    /// The number of positions.
    pub len: usize,
}

impl Stride {
    /// The positions `start..stop` with step 1.
    pub fn range(start: usize, stop: usize) -> Stride {
        Stride {
            start,
            step: 1,
            len: stop.saturating_sub(start),
        }
    }

    /// The positions `start, start + step, ...` below `len` (no bounds check).
    pub fn new(start: usize, step: isize, len: usize) -> Stride {
        if len == 0 {
            Stride {
                start: 0,
                step,
                len: 0,
            }
        } else {
            Stride { start, step, len }
        }
    }

    /// numpy's `slice(start, stop, step)` on an axis of length `n` (Python's `slice.indices`):
    /// negative bounds count from the end, out-of-range bounds are clipped.
    pub fn from_numpy(
        start: Option<isize>,
        stop: Option<isize>,
        step: isize,
        n: usize,
    ) -> Result<Stride> {
        if step == 0 {
            return Err(Error::Index("slice step cannot be zero".into()));
        }
        let n = n as isize;
        let clip = |v: isize, lo: isize, hi: isize| v.max(lo).min(hi);
        let norm = |v: isize| if v < 0 { v + n } else { v };
        let (lo, hi) = if step > 0 { (0, n) } else { (-1, n - 1) };
        let start = match start {
            None => {
                if step > 0 {
                    lo
                } else {
                    hi
                }
            }
            Some(s) => clip(norm(s), lo, hi),
        };
        let stop = match stop {
            None => {
                if step > 0 {
                    hi
                } else {
                    lo
                }
            }
            Some(s) => clip(norm(s), lo, hi),
        };
        let len = if step > 0 {
            if stop > start {
                (stop - start + step - 1) / step
            } else {
                0
            }
        } else if start > stop {
            (start - stop + (-step) - 1) / (-step)
        } else {
            0
        };
        Ok(Stride::new(start.max(0) as usize, step, len as usize))
    }

    /// ndarray's `Slice { start, end, step }` on an axis of length `n`: the range
    /// `start..end` (negative values count from the end) is taken first, then every
    /// `|step|`-th element, from the back when `step < 0`. Errors when out of range.
    pub fn from_ndarray(start: isize, end: Option<isize>, step: isize, n: usize) -> Result<Stride> {
        if step == 0 {
            return Err(Error::Index("slice step cannot be zero".into()));
        }
        let ni = n as isize;
        let norm = |v: isize| if v < 0 { v + ni } else { v };
        let s = norm(start);
        let e = end.map(norm).unwrap_or(ni);
        if s < 0 || s > ni || e < 0 || e > ni {
            return Err(Error::Index(format!(
                "slice {start}..{} out of range for axis of length {n}",
                end.map(|e| e.to_string()).unwrap_or_default()
            )));
        }
        let e = e.max(s);
        let count = ((e - s) as usize).div_ceil(step.unsigned_abs());
        if step > 0 {
            Ok(Stride::new(s as usize, step, count))
        } else {
            // ndarray counts from the back: the first position is the range's last one.
            let last = e - 1;
            Ok(Stride::new(last as usize, step, count))
        }
    }

    /// The whole axis of length `n`.
    pub fn full(n: usize) -> Stride {
        Stride::range(0, n)
    }

    /// The position of the `k`-th element.
    #[inline]
    pub fn at(&self, k: usize) -> usize {
        (self.start as isize + k as isize * self.step) as usize
    }

    /// The last position (if any).
    pub fn last(&self) -> Option<usize> {
        (self.len > 0).then(|| self.at(self.len - 1))
    }

    /// The smallest and one past the largest position (an empty range if `len == 0`).
    pub fn bounds(&self) -> std::ops::Range<usize> {
        match self.last() {
            None => 0..0,
            Some(last) => self.start.min(last)..self.start.max(last) + 1,
        }
    }

    /// `self` applied after `inner`: the positions `inner.at(self.at(k))`. `self` must select
    /// positions below `inner.len`.
    pub fn compose(&self, inner: &Stride) -> Stride {
        Stride::new(
            inner.at(self.start.min(inner.len.saturating_sub(1))),
            self.step * inner.step,
            self.len,
        )
    }

    /// True when the positions are `0..n` in order.
    pub fn is_full(&self, n: usize) -> bool {
        self.len == n && (self.start == 0 && (self.step == 1 || n <= 1))
    }

    /// The sub-stride of positions `k0..k1` (element numbers, not positions).
    pub fn sub(&self, k0: usize, k1: usize) -> Stride {
        Stride::new(self.at(k0), self.step, k1.saturating_sub(k0))
    }

    /// An iterator over the positions.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).map(move |k| self.at(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numpy_positions(
        start: Option<isize>,
        stop: Option<isize>,
        step: isize,
        n: usize,
    ) -> Vec<usize> {
        // Reference: Python's slice semantics written out as a loop.
        let ni = n as isize;
        let adj = |v: isize, dflt: isize, lo: isize, hi: isize| {
            let v = if v < 0 { v + ni } else { v };
            if v < lo {
                lo
            } else if v > hi {
                hi
            } else {
                let _ = dflt;
                v
            }
        };
        let (s, e) = if step > 0 {
            (
                start.map_or(0, |v| adj(v, 0, 0, ni)),
                stop.map_or(ni, |v| adj(v, ni, 0, ni)),
            )
        } else {
            (
                start.map_or(ni - 1, |v| adj(v, ni - 1, -1, ni - 1)),
                stop.map_or(-1, |v| adj(v, -1, -1, ni - 1)),
            )
        };
        let mut out = vec![];
        let mut i = s;
        while (step > 0 && i < e) || (step < 0 && i > e) {
            out.push(i as usize);
            i += step;
        }
        out
    }

    #[test]
    fn numpy_slices_match_reference_loop() {
        for n in 0..7usize {
            for step in [-3isize, -2, -1, 1, 2, 3] {
                for start in [None, Some(-8), Some(-2), Some(0), Some(1), Some(3), Some(9)] {
                    for stop in [
                        None,
                        Some(-9),
                        Some(-1),
                        Some(0),
                        Some(2),
                        Some(5),
                        Some(10),
                    ] {
                        let s = Stride::from_numpy(start, stop, step, n).unwrap();
                        let got: Vec<usize> = s.iter().collect();
                        assert_eq!(
                            got,
                            numpy_positions(start, stop, step, n),
                            "{start:?}:{stop:?}:{step} n={n}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn compose_is_position_composition() {
        let inner = Stride::from_numpy(Some(100), Some(900), 1, 1000).unwrap();
        let mid = Stride::from_numpy(None, None, 2, inner.len)
            .unwrap()
            .compose(&inner);
        let outer = Stride::from_numpy(Some(5), Some(10), 1, mid.len)
            .unwrap()
            .compose(&mid);
        assert_eq!(outer, Stride::new(110, 2, 5));
        let rev = Stride::from_numpy(None, None, -3, outer.len)
            .unwrap()
            .compose(&outer);
        assert_eq!(rev.iter().collect::<Vec<_>>(), vec![118, 112]);
    }

    #[test]
    fn ndarray_negative_steps() {
        // ndarray: s![1..6;-2] on 0..8 gives [5, 3, 1].
        let s = Stride::from_ndarray(1, Some(6), -2, 8).unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![5, 3, 1]);
        let a = ndarray::Array1::from_iter(0..8usize);
        let want: Vec<usize> = a.slice(ndarray::s![1..6;-2]).to_vec();
        assert_eq!(s.iter().collect::<Vec<_>>(), want);
        for (lo, hi, st) in [
            (0isize, 8isize, -3isize),
            (2, 7, -2),
            (0, 8, -5),
            (3, 4, -1),
            (0, 8, 3),
        ] {
            let s = Stride::from_ndarray(lo, Some(hi), st, 8).unwrap();
            let want: Vec<usize> = a.slice(ndarray::s![lo..hi;st]).to_vec();
            assert_eq!(s.iter().collect::<Vec<_>>(), want, "{lo}..{hi};{st}");
        }
        assert!(Stride::from_ndarray(0, Some(9), 1, 8).is_err());
    }
}
