//! The inner loops of reductions, vectorized: one lane of values folded into sums
//! ([`fold_lane`]), or a run of rows folded into per-lane accumulators ([`fold_rows`]).
//!
//! Values are taken a cache-sized block (or a row) at a time. When extremes are asked for, one
//! loop counts NaNs and finds the extremes in the element's own type, then a block without NaN
//! (the common case) is summed by a loop with no test at all, a block with NaNs by one that
//! masks their bits off (a vector loop too: a branch or a float select there made it scalar). Sums alone take one loop that also notes whether a NaN went by; a block that
//! held one is summed again by the skipping loop. The loops keep several independent
//! accumulators so that additions do not wait on each other.
//!
//! Each loop is its own function compiled for several CPU targets (`multiversion`: AVX2 + FMA,
//! SSE4.1, NEON; the best the running CPU has is chosen at run time, the portable build
//! elsewhere). They must stay separate functions: inlined into one, the compiler no longer
//! keeps their accumulators in vector registers. Debug builds (the test suite) compile the
//! portable version alone: the same source, a third of the code to generate, which keeps a
//! fresh CI build within its time. The numerics are those of
//! [`super::reduce_state`]: `f64` accumulation of deviations from a shift, and wrapping `i64`
//! sums of integers.

use super::reduce_state::Needs;
use crate::dtype::Element;

/// Element types that reductions read.
pub(crate) trait AccElem: Element {
    /// The value that no element compares below (`+inf` for floats, the type's maximum).
    const HIGHEST: Self;
    /// The value that no element compares above (`-inf` for floats, the type's minimum).
    const LOWEST: Self;
    /// True for NaN.
    fn is_nan_value(self) -> bool;
    /// The value's bits as `i64` (for wrapping integer sums).
    fn to_i64_bits(self) -> i64;
    /// The value as `i128` (exact extremes of integers).
    fn to_i128(self) -> i128;
}

macro_rules! acc_int {
    ($($t:ty),*) => {$(
        impl AccElem for $t {
            const HIGHEST: Self = <$t>::MAX;
            const LOWEST: Self = <$t>::MIN;
            #[inline(always)]
            fn is_nan_value(self) -> bool { false }
            #[inline(always)]
            fn to_i64_bits(self) -> i64 { self as i64 }
            #[inline(always)]
            fn to_i128(self) -> i128 { self as i128 }
        }
    )*};
}
acc_int!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! acc_float {
    ($($t:ty),*) => {$(
        impl AccElem for $t {
            const HIGHEST: Self = <$t>::INFINITY;
            const LOWEST: Self = <$t>::NEG_INFINITY;
            #[inline(always)]
            #[allow(clippy::eq_op)]
            fn is_nan_value(self) -> bool { self != self }
            #[inline(always)]
            fn to_i64_bits(self) -> i64 { self as i64 }
            #[inline(always)]
            fn to_i128(self) -> i128 { self as i128 }
        }
    )*};
}
acc_float!(f32, f64);

impl AccElem for bool {
    const HIGHEST: Self = true;
    const LOWEST: Self = false;
    #[inline(always)]
    fn is_nan_value(self) -> bool {
        false
    }
    #[inline(always)]
    fn to_i64_bits(self) -> i64 {
        self as i64
    }
    #[inline(always)]
    fn to_i128(self) -> i128 {
        self as i128
    }
}

/// What folding one lane of values gives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LaneSums<T> {
    /// NaN values seen.
    pub nan: u64,
    /// Sum of the non-NaN values (when a sum is needed).
    pub sum: f64,
    /// Wrapping sum of the values as `i64` (integers, when a sum is needed).
    pub isum: i64,
    /// Sum of deviations of the non-NaN values from the shift (when moments are needed).
    pub s1: f64,
    /// Sum of squared deviations from the shift (when moments are needed).
    pub s2: f64,
    /// Smallest non-NaN value ([`AccElem::HIGHEST`] if none; when extremes are needed).
    pub min: T,
    /// Largest non-NaN value ([`AccElem::LOWEST`] if none; when extremes are needed).
    pub max: T,
}

/// Independent accumulators per loop: enough to keep a core's adders busy.
const W: usize = 8;

/// Independent extremes in [`scan_block`] (comparisons are cheap, so more of them run at once).
const SW: usize = 16;

/// Values scanned at a time (a multiple of `W` and `SW`): a block stays in the L1 cache between the
/// loops over it.
const BLOCK: usize = 2048;

/// NaN count and extremes of a block whose length is a multiple of `SW`, in the element's own
/// type (a NaN compares false, so it never becomes an extreme).
#[cfg_attr(
    not(debug_assertions),
    multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))
)]
fn scan_block<T: AccElem, const MM: bool>(v: &[T], mn: &mut [T; SW], mx: &mut [T; SW]) -> u64 {
    let mut nan = [0u32; SW];
    for c in v.chunks_exact(SW) {
        for j in 0..SW {
            let x = c[j];
            nan[j] += x.is_nan_value() as u32;
            if MM {
                mn[j] = if x < mn[j] { x } else { mn[j] };
                mx[j] = if x > mx[j] { x } else { mx[j] };
            }
        }
    }
    nan.iter().map(|&c| c as u64).sum()
}

/// Moments around `shift` (`acc[0]`, and `acc[1]` when `SQ`) and the plain sum (`acc[2]`) of a
/// block whose length is a multiple of `W`, as if it held no NaN. Returns whether it held one
/// (the sums are then spoiled: the caller folds the block again with [`sums_masked`]).
#[cfg_attr(
    not(debug_assertions),
    multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))
)]
fn sums_clean<T: AccElem, const MOM: bool, const SQ: bool, const SUM: bool>(
    v: &[T],
    shift: f64,
    acc: &mut [[f64; W]; 3],
) -> bool {
    let [s1, s2, sum] = acc;
    let mut nan = [0u32; W];
    for c in v.chunks_exact(W) {
        for j in 0..W {
            let x = c[j];
            nan[j] |= x.is_nan_value() as u32;
            let f = x.to_f64();
            if MOM {
                let d = f - shift;
                s1[j] += d;
                if SQ {
                    s2[j] += d * d;
                }
            }
            if SUM {
                sum[j] += f;
            }
        }
    }
    nan.iter().any(|&f| f != 0)
}

/// `v`, or zero when `x` is NaN: its bits masked off, neither a branch nor a float select,
/// either of which keeps the compiler from vectorizing the loops that skip NaNs (they ran
/// scalar, four times slower than the loops without a test).
#[inline(always)]
fn masked<T: AccElem>(x: T, v: f64) -> f64 {
    let keep = (x.is_nan_value() as u64).wrapping_sub(1);
    f64::from_bits(v.to_bits() & keep)
}

/// [`sums_clean`] for a block that holds NaNs: they contribute nothing.
#[cfg_attr(
    not(debug_assertions),
    multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))
)]
fn sums_masked<T: AccElem, const MOM: bool, const SQ: bool, const SUM: bool>(
    v: &[T],
    shift: f64,
    acc: &mut [[f64; W]; 3],
) {
    let [s1, s2, sum] = acc;
    for c in v.chunks_exact(W) {
        for j in 0..W {
            let x = c[j];
            let f = x.to_f64();
            if MOM {
                let d = masked(x, f - shift);
                s1[j] += d;
                if SQ {
                    s2[j] += d * d;
                }
            }
            if SUM {
                sum[j] += masked(x, f);
            }
        }
    }
}

/// Wrapping `i64` sum of integers (a length that is a multiple of `W`).
#[cfg_attr(
    not(debug_assertions),
    multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))
)]
fn int_sum<T: AccElem>(v: &[T], acc: &mut [i64; W]) {
    for c in v.chunks_exact(W) {
        for j in 0..W {
            acc[j] = acc[j].wrapping_add(c[j].to_i64_bits());
        }
    }
}

fn lane_kernel<T: AccElem, const MOM: bool, const SQ: bool, const SUM: bool, const MM: bool>(
    values: &[T],
    shift: f64,
) -> LaneSums<T> {
    // Vector accumulators, local so that the loops keep them in registers.
    let (mut mn, mut mx) = ([T::HIGHEST; SW], [T::LOWEST; SW]);
    let mut acc = [[0f64; W]; 3];
    let mut iacc = [0i64; W];
    let mut nan = 0u64;
    let whole = values.len() - values.len() % SW;
    let (body, tail) = values.split_at(whole);
    for blk in body.chunks(BLOCK) {
        if MM || !(MOM || SUM) {
            // Extremes (or a NaN count alone) need the scan anyway: it tells which sum loop to run.
            let bad = if MM || T::DTYPE.is_float() {
                scan_block::<T, MM>(blk, &mut mn, &mut mx)
            } else {
                0
            };
            nan += bad;
            if MOM || SUM {
                if bad == 0 {
                    sums_clean::<T, MOM, SQ, SUM>(blk, shift, &mut acc);
                } else {
                    sums_masked::<T, MOM, SQ, SUM>(blk, shift, &mut acc);
                }
            }
        } else {
            // Sums alone: one loop sums and watches for NaN; a block that held one (rare) is
            // counted and summed again without them.
            let before = acc;
            if sums_clean::<T, MOM, SQ, SUM>(blk, shift, &mut acc) {
                acc = before;
                nan += scan_block::<T, false>(blk, &mut mn, &mut mx);
                sums_masked::<T, MOM, SQ, SUM>(blk, shift, &mut acc);
            }
        }
        if SUM && !T::DTYPE.is_float() {
            int_sum(blk, &mut iacc);
        }
    }
    let mut out = LaneSums {
        nan,
        sum: acc[2].iter().sum(),
        isum: iacc.iter().fold(0i64, |a, &b| a.wrapping_add(b)),
        s1: acc[0].iter().sum(),
        s2: acc[1].iter().sum(),
        min: T::HIGHEST,
        max: T::LOWEST,
    };
    for j in 0..SW {
        if mn[j] < out.min {
            out.min = mn[j];
        }
        if mx[j] > out.max {
            out.max = mx[j];
        }
    }
    // The last few values, with accumulators of their own (sharing the vector ones makes the
    // compiler split a lane out of the vector loops).
    for &x in tail {
        if x.is_nan_value() {
            out.nan += 1;
            continue;
        }
        let f = x.to_f64();
        if MOM {
            let d = f - shift;
            out.s1 += d;
            if SQ {
                out.s2 += d * d;
            }
        }
        if SUM {
            out.sum += f;
            out.isum = out.isum.wrapping_add(x.to_i64_bits());
        }
        if MM {
            out.min = if x < out.min { x } else { out.min };
            out.max = if x > out.max { x } else { out.max };
        }
    }
    if T::DTYPE.is_float() {
        out.isum = 0;
    }
    out
}

/// Calls `$f::<T, MOM, SQ, SUM, MM>($args)` with the kernel's flags set from `$needs`.
macro_rules! with_needs {
    ($needs:expr, $f:ident::<$t:ty>($($arg:expr),*)) => {{
        let n: Needs = $needs;
        let sum = n.sum || n.isum;
        match (n.moments, n.moments && n.squares, sum, n.minmax) {
            (false, _, false, false) => $f::<$t, false, false, false, false>($($arg),*),
            (false, _, false, true) => $f::<$t, false, false, false, true>($($arg),*),
            (false, _, true, false) => $f::<$t, false, false, true, false>($($arg),*),
            (false, _, true, true) => $f::<$t, false, false, true, true>($($arg),*),
            (true, false, false, false) => $f::<$t, true, false, false, false>($($arg),*),
            (true, false, false, true) => $f::<$t, true, false, false, true>($($arg),*),
            (true, false, true, false) => $f::<$t, true, false, true, false>($($arg),*),
            (true, false, true, true) => $f::<$t, true, false, true, true>($($arg),*),
            (true, true, false, false) => $f::<$t, true, true, false, false>($($arg),*),
            (true, true, false, true) => $f::<$t, true, true, false, true>($($arg),*),
            (true, true, true, false) => $f::<$t, true, true, true, false>($($arg),*),
            (true, true, true, true) => $f::<$t, true, true, true, true>($($arg),*),
        }
    }};
}

/// Folds one lane of values: NaN count, and what `needs` asks for (moments around `shift`,
/// sums, extremes). Fields that were not needed hold their empty values.
pub(crate) fn fold_lane<T: AccElem>(values: &[T], shift: f64, needs: Needs) -> LaneSums<T> {
    with_needs!(needs, lane_kernel::<T>(values, shift))
}

/// Per-lane accumulators of [`fold_rows`] for a tile of lanes, all of one length.
pub(crate) struct RowAcc<'a, T> {
    /// Shift of each lane's moments (empty when moments are not needed).
    pub shift: &'a [f64],
    /// NaNs seen per lane.
    pub nan: &'a mut [u64],
    /// Sums of deviations from the shift.
    pub s1: &'a mut [f64],
    /// Sums of squared deviations from the shift.
    pub s2: &'a mut [f64],
    /// Plain sums of non-NaN values.
    pub sum: &'a mut [f64],
    /// Wrapping integer sums.
    pub isum: &'a mut [i64],
    /// Smallest non-NaN value per lane.
    pub min: &'a mut [T],
    /// Largest non-NaN value per lane.
    pub max: &'a mut [T],
}

#[inline(always)]
fn rows_kernel<T: AccElem, const MOM: bool, const SQ: bool, const SUM: bool, const MM: bool>(
    rows: &[&[T]],
    lo: usize,
    acc: &mut RowAcc<T>,
) {
    let w = acc.nan.len();
    // `SUM` covers both sums; each is kept only where its accumulators were allocated.
    let float_sum = SUM && acc.sum.len() >= w;
    let int_sum = SUM && !T::DTYPE.is_float() && acc.isum.len() >= w;
    let shift = if MOM { &acc.shift[..w] } else { &[] };
    for row in rows {
        let row = &row[lo..lo + w];
        // A row without NaN (the common case) takes the loops without masks.
        let clean = !T::DTYPE.is_float() || {
            let mut any = false;
            for &x in row {
                any |= x.is_nan_value();
            }
            !any
        };
        if !clean {
            let nan = &mut acc.nan[..w];
            for j in 0..w {
                nan[j] += row[j].is_nan_value() as u64;
            }
        }
        if MOM && SQ {
            let (s1, s2) = (&mut acc.s1[..w], &mut acc.s2[..w]);
            if clean {
                for j in 0..w {
                    let d = row[j].to_f64() - shift[j];
                    s1[j] += d;
                    s2[j] += d * d;
                }
            } else {
                for j in 0..w {
                    let d = masked(row[j], row[j].to_f64() - shift[j]);
                    s1[j] += d;
                    s2[j] += d * d;
                }
            }
        } else if MOM {
            let s1 = &mut acc.s1[..w];
            if clean {
                for j in 0..w {
                    s1[j] += row[j].to_f64() - shift[j];
                }
            } else {
                for j in 0..w {
                    s1[j] += masked(row[j], row[j].to_f64() - shift[j]);
                }
            }
        }
        if float_sum {
            let sum = &mut acc.sum[..w];
            if clean {
                for j in 0..w {
                    sum[j] += row[j].to_f64();
                }
            } else {
                for j in 0..w {
                    sum[j] += masked(row[j], row[j].to_f64());
                }
            }
        }
        if int_sum {
            let isum = &mut acc.isum[..w];
            for j in 0..w {
                isum[j] = isum[j].wrapping_add(row[j].to_i64_bits());
            }
        }
        if MM {
            let (mn, mx) = (&mut acc.min[..w], &mut acc.max[..w]);
            for j in 0..w {
                let x = row[j];
                mn[j] = if x < mn[j] { x } else { mn[j] };
                mx[j] = if x > mx[j] { x } else { mx[j] };
            }
        }
    }
}

#[cfg_attr(
    not(debug_assertions),
    multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))
)]
fn rows_dispatch<T: AccElem, const MOM: bool, const SQ: bool, const SUM: bool, const MM: bool>(
    rows: &[&[T]],
    lo: usize,
    acc: &mut RowAcc<T>,
) {
    rows_kernel::<T, MOM, SQ, SUM, MM>(rows, lo, acc)
}

/// Folds positions `lo..lo + w` of every row into the per-lane accumulators (`w` is the
/// accumulators' length): NaN counts, and what `needs` asks for. Accumulators that are not
/// needed may be empty.
pub(crate) fn fold_rows<T: AccElem>(rows: &[&[T]], lo: usize, needs: Needs, acc: &mut RowAcc<T>) {
    with_needs!(needs, rows_dispatch::<T>(rows, lo, acc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_needs() -> Needs {
        Needs {
            moments: true,
            squares: true,
            sum: true,
            isum: true,
            minmax: true,
        }
    }

    /// The lane fold equals a plain loop, for every length around the accumulator width.
    #[test]
    fn lane_fold_equals_a_plain_loop() {
        for len in [0usize, 1, 7, 8, 9, 31, 1000] {
            let v: Vec<f32> = (0..len)
                .map(|i| {
                    if i % 13 == 5 {
                        f32::NAN
                    } else {
                        ((i * 7919) % 101) as f32 - 50.0
                    }
                })
                .collect();
            let shift = 3.0;
            let s = fold_lane(&v, shift, all_needs());
            let good: Vec<f64> = v
                .iter()
                .filter(|x| !x.is_nan())
                .map(|&x| x as f64)
                .collect();
            assert_eq!(s.nan as usize, len - good.len());
            assert_eq!(s.sum, good.iter().sum::<f64>());
            assert_eq!(s.s1, good.iter().map(|x| x - shift).sum::<f64>());
            assert_eq!(s.s2, good.iter().map(|x| (x - shift).powi(2)).sum::<f64>());
            let lo = good.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = good.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(s.min as f64, lo);
            assert_eq!(s.max as f64, hi);
        }
    }

    /// Without extremes, one loop sums and watches for NaN; a block that held one is summed
    /// again without it. Lanes of several blocks, NaNs in some blocks only, every flag set
    /// that runs that loop, against plain loops.
    #[test]
    fn sums_without_extremes_skip_the_nans_of_the_blocks_that_hold_them() {
        let len = 3 * BLOCK + 37;
        let v: Vec<f32> = (0..len)
            .map(|i| {
                if (BLOCK..2 * BLOCK).contains(&i) && i % 97 == 3 || i == len - 2 {
                    f32::NAN
                } else {
                    ((i * 7919) % 1013) as f32 * 0.25 - 100.0
                }
            })
            .collect();
        let good: Vec<f64> = v
            .iter()
            .filter(|x| !x.is_nan())
            .map(|&x| x as f64)
            .collect();
        let shift = 7.5;
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        for (moments, squares, sum) in [
            (true, false, false),
            (true, true, false),
            (false, false, true),
            (true, true, true),
        ] {
            let needs = Needs {
                moments,
                squares,
                sum,
                ..Default::default()
            };
            let s = fold_lane(&v, shift, needs);
            assert_eq!(s.nan as usize, len - good.len(), "{needs:?}");
            if moments {
                assert!(
                    close(s.s1, good.iter().map(|x| x - shift).sum()),
                    "{needs:?}"
                );
            }
            let s2 = good.iter().map(|x| (x - shift).powi(2)).sum::<f64>();
            assert!(
                if squares {
                    close(s.s2, s2)
                } else {
                    s.s2 == 0.0
                },
                "{needs:?}"
            );
            assert!(
                if sum {
                    close(s.sum, good.iter().sum())
                } else {
                    s.sum == 0.0
                },
                "{needs:?}"
            );
        }
    }

    #[test]
    fn integer_lanes_sum_exactly_and_wrap() {
        let v: Vec<i64> = vec![i64::MAX, 1, -5, 7, i64::MIN + 3, 2, 2, 2, 2, 9];
        let s = fold_lane(&v, 0.0, all_needs());
        let want = v.iter().fold(0i64, |a, &b| a.wrapping_add(b));
        assert_eq!(s.isum, want);
        assert_eq!((s.min, s.max), (i64::MIN + 3, i64::MAX));
        assert_eq!(s.nan, 0);
        let u: Vec<u8> = (0..=255u8).rev().collect();
        let s = fold_lane(&u, 0.0, all_needs());
        assert_eq!(s.isum, (0..=255i64).sum::<i64>());
        assert_eq!((s.min, s.max), (0, 255));
    }

    #[test]
    fn rows_fold_equals_per_lane_loops() {
        let (r, k) = (5, 37);
        let data: Vec<Vec<f64>> = (0..r)
            .map(|i| {
                (0..k)
                    .map(|j| {
                        if (i + j) % 11 == 0 {
                            f64::NAN
                        } else {
                            (i * 31 + j * 17) as f64 * 0.5
                        }
                    })
                    .collect()
            })
            .collect();
        let rows: Vec<&[f64]> = data.iter().map(|r| r.as_slice()).collect();
        let (lo, w) = (3, 30);
        let shift: Vec<f64> = (0..w).map(|j| j as f64).collect();
        let (mut nan, mut s1, mut s2, mut sum, mut isum) = (
            vec![0u64; w],
            vec![0.0; w],
            vec![0.0; w],
            vec![0.0; w],
            vec![0i64; w],
        );
        let (mut mn, mut mx) = (vec![f64::INFINITY; w], vec![f64::NEG_INFINITY; w]);
        let mut acc = RowAcc {
            shift: &shift,
            nan: &mut nan,
            s1: &mut s1,
            s2: &mut s2,
            sum: &mut sum,
            isum: &mut isum,
            min: &mut mn,
            max: &mut mx,
        };
        fold_rows(&rows, lo, all_needs(), &mut acc);
        for j in 0..w {
            let lane: Vec<f64> = (0..r)
                .map(|i| data[i][lo + j])
                .filter(|x| !x.is_nan())
                .collect();
            assert_eq!(nan[j] as usize, r - lane.len());
            assert_eq!(s1[j], lane.iter().map(|x| x - shift[j]).sum::<f64>());
            assert_eq!(
                s2[j],
                lane.iter().map(|x| (x - shift[j]).powi(2)).sum::<f64>()
            );
            assert_eq!(sum[j], lane.iter().sum::<f64>());
            assert_eq!(mn[j], lane.iter().cloned().fold(f64::INFINITY, f64::min));
            assert_eq!(
                mx[j],
                lane.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
            );
        }
    }
}
