//! [`Stride`]: a normalized slice of one axis, and its arithmetic.
//!
//! Every computation here is exact: bounds are normalized in `i128` (a start, stop or step
//! anywhere in `isize` cannot overflow), lengths are counted without `stop - start + step`, and
//! positions are only computed for elements that exist. Axes longer than [`MAX_AXIS_LEN`]
//! (numpy's limit, `isize::MAX`) are refused, so every position and every composed step fits in
//! an `isize`.

use crate::error::{Error, Result};

/// The longest axis a selection can address: `isize::MAX`, numpy's (and ndarray's) limit.
pub const MAX_AXIS_LEN: usize = isize::MAX as usize;

/// `len` positions `start, start + step, ..., start + (len - 1) * step` along one axis.
/// `step` is never zero; it may be negative. When `len == 0`, `start` is 0 and means nothing;
/// when `len == 1`, `step` means nothing (it may be as large as `isize::MAX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stride {
    /// The first position.
    pub start: usize,
    /// The distance between positions (never zero).
    pub step: isize,
    /// The number of positions.
    pub len: usize,
}

/// Refuses axes longer than [`MAX_AXIS_LEN`].
pub(crate) fn check_axis_len(n: usize) -> Result<()> {
    if n > MAX_AXIS_LEN {
        return Err(Error::Index(format!(
            "an axis of length {n} is longer than a selection can address ({MAX_AXIS_LEN}, isize::MAX)"
        )));
    }
    Ok(())
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
    /// negative bounds count from the end, out-of-range bounds are clipped. A step of
    /// `isize::MIN` is read as `-isize::MAX`, as CPython's `PySlice_Unpack` does (the positions
    /// are the same on every axis). Errors on a zero step or an axis longer than
    /// [`MAX_AXIS_LEN`].
    pub fn from_numpy(
        start: Option<isize>,
        stop: Option<isize>,
        step: isize,
        n: usize,
    ) -> Result<Stride> {
        if step == 0 {
            return Err(Error::Index("slice step cannot be zero".into()));
        }
        check_axis_len(n)?;
        let step = step.max(-isize::MAX);
        let (n, st) = (n as i128, step as i128);
        let norm = |v: isize| {
            let v = v as i128;
            if v < 0 {
                v + n
            } else {
                v
            }
        };
        let (lo, hi) = if st > 0 { (0, n) } else { (-1, n - 1) };
        let (first, end) = if st > 0 { (lo, hi) } else { (hi, lo) };
        let start = start.map_or(first, |s| norm(s).clamp(lo, hi));
        let stop = stop.map_or(end, |s| norm(s).clamp(lo, hi));
        // Counted as 1 + (distance - 1) / |step|: `distance + |step| - 1` could overflow.
        let len = if st > 0 && stop > start {
            (stop - start - 1) / st + 1
        } else if st < 0 && start > stop {
            (start - stop - 1) / -st + 1
        } else {
            0
        };
        // len > 0 implies 0 <= start < n; both fit a usize.
        Ok(Stride::new(
            if len > 0 { start as usize } else { 0 },
            step,
            len as usize,
        ))
    }

    /// ndarray's `Slice { start, end, step }` on an axis of length `n`: the range
    /// `start..end` (negative values count from the end) is taken first, then every
    /// `|step|`-th element, from the back when `step < 0`. Errors when out of range.
    pub fn from_ndarray(start: isize, end: Option<isize>, step: isize, n: usize) -> Result<Stride> {
        if step == 0 {
            return Err(Error::Index("slice step cannot be zero".into()));
        }
        check_axis_len(n)?;
        let ni = n as i128;
        let norm = |v: isize| {
            let v = v as i128;
            if v < 0 {
                v + ni
            } else {
                v
            }
        };
        let s = norm(start);
        let e = end.map(norm).unwrap_or(ni);
        if s < 0 || s > ni || e < 0 || e > ni {
            return Err(Error::Index(format!(
                "slice {start}..{} out of range for axis of length {n}",
                end.map(|e| e.to_string()).unwrap_or_default()
            )));
        }
        // 0 <= s, e <= n <= isize::MAX from here on.
        let (s, e) = (s as usize, (e as usize).max(s as usize));
        let count = (e - s).div_ceil(step.unsigned_abs());
        if step > 0 {
            Ok(Stride::new(s, step, count))
        } else {
            // ndarray counts from the back: the first position is the range's last one.
            Ok(Stride::new(e.saturating_sub(1), step, count))
        }
    }

    /// The whole axis of length `n`.
    pub fn full(n: usize) -> Stride {
        Stride::range(0, n)
    }

    /// The position of the `k`-th element (`k < len`).
    #[inline]
    pub fn at(&self, k: usize) -> usize {
        debug_assert!(
            k < self.len,
            "element {k} of a stride of {} elements",
            self.len
        );
        // Exact for every k < len: the true position lies in 0..=usize::MAX, and modular
        // arithmetic gives it (no intermediate can trap).
        self.start
            .wrapping_add((k as isize).wrapping_mul(self.step) as usize)
    }

    /// The position of the `k`-th element, or `None` when there is no such element.
    pub fn checked_at(&self, k: usize) -> Option<usize> {
        (k < self.len).then(|| self.at(k))
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
        if self.len == 0 || inner.len == 0 {
            return Stride::new(0, self.step, 0);
        }
        debug_assert!(self.bounds().end <= inner.len, "{self:?} of {inner:?}");
        // With two or more elements the product is the distance between two positions of
        // the axis, so it fits; it can only overflow when it means nothing (one element).
        let step = self
            .step
            .checked_mul(inner.step)
            .unwrap_or(self.step.signum() * inner.step.signum());
        Stride::new(inner.at(self.start.min(inner.len - 1)), step, self.len)
    }

    /// True when the positions are `0..n` in order.
    pub fn is_full(&self, n: usize) -> bool {
        self.len == n && (self.start == 0 && (self.step == 1 || n <= 1))
    }

    /// The sub-stride of positions `k0..k1` (element numbers, not positions; `k1 <= len`).
    pub fn sub(&self, k0: usize, k1: usize) -> Stride {
        if k1 <= k0 {
            return Stride::new(0, self.step, 0);
        }
        debug_assert!(k1 <= self.len, "elements {k0}..{k1} of {self:?}");
        Stride::new(self.at(k0), self.step, k1 - k0)
    }

    /// The positions moved down by `offset` (every position must be at least `offset`).
    pub fn shifted(&self, offset: usize) -> Stride {
        if self.len == 0 {
            return *self;
        }
        debug_assert!(
            self.bounds().start >= offset,
            "{self:?} shifted by {offset}"
        );
        Stride::new(self.start - offset.min(self.start), self.step, self.len)
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

    #[test]
    fn extreme_bounds_and_steps() {
        let m = isize::MAX;
        assert_eq!(
            Stride::from_numpy(None, None, m, 4).unwrap(),
            Stride::new(0, m, 1)
        );
        assert_eq!(
            Stride::from_numpy(None, None, isize::MIN, 4).unwrap(),
            Stride::new(3, -m, 1)
        );
        assert_eq!(
            Stride::from_numpy(Some(3), Some(1 << 62), m, 6).unwrap(),
            Stride::new(3, m, 1)
        );
        assert_eq!(
            Stride::from_numpy(Some(isize::MIN), Some(m), 1, 6).unwrap(),
            Stride::full(6)
        );
        assert_eq!(Stride::from_numpy(Some(1), Some(-2), m, 6).unwrap().len, 1);
        assert_eq!(
            Stride::from_numpy(Some(m), Some(isize::MIN), -1, 6)
                .unwrap()
                .len,
            6
        );
        // Longest axis, both ends.
        let n = MAX_AXIS_LEN;
        let s = Stride::from_numpy(Some(-2), None, -(1 << 62), n).unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![n - 2, n - 2 - (1 << 62)]);
        assert!(Stride::from_numpy(None, None, 1, n + 1).is_err());
    }

    #[test]
    fn composing_huge_steps_keeps_the_one_element() {
        // a[::2**62][::4] and a[-1::-2**62][::-(2**63 - 1)] on 40 elements.
        let inner = Stride::from_numpy(None, None, 1 << 62, 40).unwrap();
        let outer = Stride::from_numpy(None, None, 4, inner.len).unwrap();
        let c = outer.compose(&inner);
        assert_eq!((c.start, c.len), (0, 1));
        assert_ne!(c.step, 0);
        let inner = Stride::from_numpy(Some(-1), None, -(1 << 62), 40).unwrap();
        let outer = Stride::from_numpy(None, None, -isize::MAX, inner.len).unwrap();
        assert_eq!(outer.compose(&inner).iter().collect::<Vec<_>>(), vec![39]);
        // Empty sub-strides compute no position.
        let s = Stride::new(5, isize::MAX, 1);
        assert_eq!(s.sub(1, 1).len, 0);
        assert_eq!(s.checked_at(1), None);
        assert_eq!(s.bounds(), 5..6);
    }
}
