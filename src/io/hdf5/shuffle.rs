//! HDF5's shuffle filter (filter 2): a byte transpose. A shuffled buffer of `n` elements of
//! `k` bytes holds byte 0 of every element, then byte 1 of every element, and so on; the
//! `len % k` trailing bytes that do not make a whole element are stored as they are.
//!
//! This is exactly C-Blosc2's byte shuffle, so the transposes run in C-Blosc2's
//! `blosc2_shuffle`/`blosc2_unshuffle`, which pick SSE2 or AVX2 code at run time (C-Blosc2 is
//! linked anyway for `.b2nd`). Buffers beyond its 2 GiB limit, and the reference the tests
//! compare against, use the portable loops here.

use std::sync::Once;

/// C-Blosc2 picks its SIMD implementation on first use without a lock; doing that once, before
/// any thread can race on it, keeps the first calls well defined.
fn blosc_shuffle_ready() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let (src, mut dst) = ([0u8; 8], [0u8; 8]);
        // SAFETY: both buffers hold the 8 bytes of `blocksize`; they do not overlap.
        unsafe {
            blosc2_rs_sys::blosc2_unshuffle(4, 8, src.as_ptr().cast(), dst.as_mut_ptr().cast());
        }
    });
}

/// The parameters C-Blosc2 accepts: an element size in 2..=255 and a length below 2 GiB.
fn blosc_args(elem_size: usize, len: usize) -> Option<(i32, i32)> {
    if !(2..=255).contains(&elem_size) {
        return None;
    }
    Some((i32::try_from(elem_size).ok()?, i32::try_from(len).ok()?))
}

/// Which way a transpose goes.
#[derive(Clone, Copy)]
enum Direction {
    Shuffle,
    Unshuffle,
}

/// The transpose of `src` into `out` (same length, checked by the caller: panics otherwise)
/// in C-Blosc2 when it takes the sizes, else in the portable loop. Element sizes of 0 or 1, and
/// buffers shorter than one element, are copied.
fn transpose_into(src: &[u8], elem_size: usize, out: &mut [u8], direction: Direction) {
    assert_eq!(src.len(), out.len(), "shuffle: lengths differ");
    if elem_size <= 1 || src.len() < elem_size {
        out.copy_from_slice(src);
        return;
    }
    let Some((typesize, blocksize)) = blosc_args(elem_size, src.len()) else {
        return match direction {
            Direction::Shuffle => shuffle_portable(src, elem_size, out),
            Direction::Unshuffle => unshuffle_portable(src, elem_size, out),
        };
    };
    blosc_shuffle_ready();
    let call = match direction {
        Direction::Shuffle => blosc2_rs_sys::blosc2_shuffle,
        Direction::Unshuffle => blosc2_rs_sys::blosc2_unshuffle,
    };
    // SAFETY: `src` and `out` are distinct slices (one is shared, one exclusive) of
    // `blocksize` bytes each; C-Blosc2 reads and writes exactly that many.
    unsafe {
        call(
            typesize,
            blocksize,
            src.as_ptr().cast(),
            out.as_mut_ptr().cast(),
        );
    }
}

/// Undoes the shuffle of `src` into `out` (same length, checked by the caller: panics
/// otherwise). Element sizes of 0 or 1, and buffers shorter than one element, are copied.
pub fn unshuffle_into(src: &[u8], elem_size: usize, out: &mut [u8]) {
    transpose_into(src, elem_size, out, Direction::Unshuffle)
}

/// Applies the shuffle to `src` into `out` (same length, checked by the caller: panics
/// otherwise): the inverse of [`unshuffle_into`].
pub(super) fn shuffle_into(src: &[u8], elem_size: usize, out: &mut [u8]) {
    transpose_into(src, elem_size, out, Direction::Shuffle)
}

/// [`unshuffle_into`] into a new buffer.
pub fn unshuffle(src: &[u8], elem_size: usize) -> Vec<u8> {
    let mut out = vec![0u8; src.len()];
    unshuffle_into(src, elem_size, &mut out);
    out
}

/// Applies the shuffle to `src` into a new buffer: the inverse of [`unshuffle`].
pub fn shuffle(src: &[u8], elem_size: usize) -> Vec<u8> {
    let mut out = vec![0u8; src.len()];
    shuffle_into(src, elem_size, &mut out);
    out
}

/// The unshuffle in plain Rust, one plane after the other (any element size, any length;
/// `out` as long as `src`).
pub(super) fn unshuffle_portable(src: &[u8], elem_size: usize, out: &mut [u8]) {
    let k = elem_size.max(1);
    let n = src.len() / k;
    for (b, plane) in src.chunks_exact(n.max(1)).take(k).enumerate() {
        if n == 0 {
            break;
        }
        for (o, &v) in out[b..].iter_mut().step_by(k).zip(plane) {
            *o = v;
        }
    }
    out[n * k..].copy_from_slice(&src[n * k..]);
}

/// The shuffle in plain Rust (the inverse of [`unshuffle_portable`]).
pub(super) fn shuffle_portable(src: &[u8], elem_size: usize, out: &mut [u8]) {
    let k = elem_size.max(1);
    let n = src.len() / k;
    for (b, plane) in out.chunks_exact_mut(n.max(1)).take(k).enumerate() {
        if n == 0 {
            break;
        }
        for (v, &s) in plane.iter_mut().zip(src[b..].iter().step_by(k)) {
            *v = s;
        }
    }
    out[n * k..].copy_from_slice(&src[n * k..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition, element by element, as HDF5's `H5Z_filter_shuffle` writes it.
    fn shuffle_by_definition(src: &[u8], k: usize) -> Vec<u8> {
        let n = src.len() / k;
        let mut out = src.to_vec();
        for i in 0..n {
            for b in 0..k {
                out[b * n + i] = src[i * k + b];
            }
        }
        out
    }

    #[test]
    fn small_cases_match_the_definition() {
        assert_eq!(shuffle(&[1, 2, 3, 4, 5, 6], 2), vec![1, 3, 5, 2, 4, 6]);
        assert_eq!(
            shuffle(&[1, 2, 3, 4, 5, 6, 7], 2),
            vec![1, 3, 5, 2, 4, 6, 7]
        );
        assert_eq!(
            unshuffle(&[1, 3, 5, 2, 4, 6, 7], 2),
            vec![1, 2, 3, 4, 5, 6, 7]
        );
        assert_eq!(unshuffle(&[9, 8], 4), vec![9, 8]);
    }

    proptest! {
        /// C-Blosc2's transposes (every SIMD path: lengths around the vector widths) and the
        /// portable ones equal the definition, and unshuffle inverts shuffle.
        #[test]
        fn transposes_match_the_definition(
            k in 1usize..17,
            data in proptest::collection::vec(any::<u8>(), 0..700),
        ) {
            let want = shuffle_by_definition(&data, k);
            prop_assert_eq!(&shuffle(&data, k), &want);
            let mut portable = vec![0u8; data.len()];
            shuffle_portable(&data, k, &mut portable);
            prop_assert_eq!(&portable, &want);
            prop_assert_eq!(&unshuffle(&want, k), &data);
            unshuffle_portable(&want, k, &mut portable);
            prop_assert_eq!(&portable, &data);
        }
    }
}
