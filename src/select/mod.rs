//! Selections: numpy-style indexing kept as arithmetic.
//!
//! - [`SliceArg`] is what a user writes (`a[1, -3:, ::2, ..., None, [0, 2]]`), also built from
//!   ndarray's `s![]`.
//! - [`Stride`] is a normalized slice: `len` positions `start, start + step, ...`; composing two
//!   strides gives a stride, so chains of slices never become index lists.
//! - [`Dim`] is what one output axis takes from one input axis: a stride or an explicit list
//!   (orthogonal indexing with an integer array or a boolean mask).
//! - [`Selection`] is a whole normalized selection against a known input shape: one
//!   [`SelItem`] per input axis (keep, or index and drop), plus inserted new axes.
//!
//! ```
//! use vastarray::{SliceArg, Stride};
//! // 100:0:-7 of an axis of 120, then ::3 of that: still one stride, never a list.
//! let s = Stride::from_numpy(Some(100), Some(0), -7, 120).unwrap();
//! let t = Stride::from_numpy(None, None, 3, s.len).unwrap().compose(&s);
//! assert_eq!((t.start, t.step, t.len), (100, -21, 5));
//! assert_eq!(SliceArg::parse("1, ::2, ...").unwrap().len(), 3);
//! ```

mod args;
mod dim;
mod selection;
mod stride;

pub use args::{SliceArg, MAX_NESTING};
pub use dim::Dim;
pub use selection::{SelItem, Selection};
pub use stride::{Stride, MAX_AXIS_LEN};

/// A region of an array: one [`Dim`] per axis, the positions to take along it.
pub type Region = Vec<Dim>;

/// The full region of an array of `shape`.
pub fn full_region(shape: &[usize]) -> Region {
    shape.iter().map(|&n| Dim::full(n)).collect()
}

/// The region of a box (one range per axis).
pub fn box_region(ranges: &[std::ops::Range<usize>]) -> Region {
    ranges
        .iter()
        .map(|r| Dim::Stride(Stride::range(r.start, r.end)))
        .collect()
}

/// The shape a region selects.
pub fn region_shape(region: &[Dim]) -> Vec<usize> {
    region.iter().map(|d| d.len()).collect()
}
