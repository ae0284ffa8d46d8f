//! [`NdData`]: an in-memory n-dimensional array whose element type is known only at run time.
//! It is what sources return and what the executor passes between nodes. `le_bytes.rs`: the
//! one conversion between an [`NdData`] and its C-ordered little-endian bytes (files, codecs,
//! partial results).
//!
//! ```
//! use vastarray::{DType, NdData};
//! let d = NdData::from(ndarray::arr2(&[[1i16, 2], [3, 4]]).into_dyn());
//! assert_eq!((d.dtype(), d.shape(), d.nbytes()), (DType::I16, &[2usize, 2][..], 8));
//! let f = d.cast(DType::F32).into_typed::<f32>().unwrap();
//! assert_eq!(f[[1, 0]], 3.0);
//! let bytes = vastarray::data::nd_to_bytes(&NdData::from(f.clone()));
//! assert_eq!(vastarray::data::nd_from_bytes(DType::F32, &[2, 2], &bytes).unwrap(), NdData::from(f));
//! ```

mod le_bytes;

#[cfg(feature = "b2nd")]
pub(crate) use le_bytes::nd_written;
pub use le_bytes::{nd_filled, nd_from_bytes, nd_to_bytes};

use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use ndarray::{ArrayD, IxDyn};

/// An owned n-dimensional array of any supported element type.
#[derive(Clone, Debug, PartialEq)]
pub enum NdData {
    /// `bool` elements.
    Bool(ArrayD<bool>),
    /// `i8` elements.
    I8(ArrayD<i8>),
    /// `i16` elements.
    I16(ArrayD<i16>),
    /// `i32` elements.
    I32(ArrayD<i32>),
    /// `i64` elements.
    I64(ArrayD<i64>),
    /// `u8` elements.
    U8(ArrayD<u8>),
    /// `u16` elements.
    U16(ArrayD<u16>),
    /// `u32` elements.
    U32(ArrayD<u32>),
    /// `u64` elements.
    U64(ArrayD<u64>),
    /// `f32` elements.
    F32(ArrayD<f32>),
    /// `f64` elements.
    F64(ArrayD<f64>),
}

/// Binds `$a` to the typed `ArrayD<$T>` inside an [`NdData`] (by value, reference or mutable
/// reference, following the expression given) and evaluates `$body` for it.
#[macro_export]
macro_rules! with_nd {
    ($data:expr, $a:ident : $T:ident => $body:expr) => {
        match $data {
            $crate::NdData::Bool($a) => {
                #[allow(dead_code)]
                type $T = bool;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::NdData::I8($a) => {
                #[allow(dead_code)]
                type $T = i8;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::NdData::I16($a) => {
                #[allow(dead_code)]
                type $T = i16;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::NdData::I32($a) => {
                #[allow(dead_code)]
                type $T = i32;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::NdData::I64($a) => {
                #[allow(dead_code)]
                type $T = i64;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::NdData::U8($a) => {
                #[allow(dead_code)]
                type $T = u8;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::NdData::U16($a) => {
                #[allow(dead_code)]
                type $T = u16;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::NdData::U32($a) => {
                #[allow(dead_code)]
                type $T = u32;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::NdData::U64($a) => {
                #[allow(dead_code)]
                type $T = u64;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::NdData::F32($a) => {
                #[allow(dead_code)]
                type $T = f32;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::NdData::F64($a) => {
                #[allow(dead_code)]
                type $T = f64;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
        }
    };
}

/// Like [`with_nd!`] but wraps the `ArrayD` that `$body` returns (of the same element type) back
/// into an [`NdData`].
#[macro_export]
macro_rules! map_nd {
    ($data:expr, $a:ident : $T:ident => $body:expr) => {
        $crate::with_nd!($data, $a: $T => <$T as $crate::Element>::wrap($body))
    };
}

/// Casts one element type to another as numpy's `astype` does (C `as` semantics; to `bool` is
/// `!= 0`).
pub trait CastTo<U> {
    /// The converted value.
    fn cast_to(self) -> U;
}

macro_rules! impl_cast_numeric {
    ($($from:ty),*) => {
        $(
            impl_cast_numeric!(@to $from; i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);
            impl CastTo<bool> for $from {
                #[inline]
                fn cast_to(self) -> bool {
                    #[allow(clippy::float_cmp)]
                    { self != (0 as $from) }
                }
            }
            impl CastTo<$from> for bool {
                #[inline]
                fn cast_to(self) -> $from {
                    self as u8 as $from
                }
            }
        )*
    };
    (@to $from:ty; $($to:ty),*) => {
        $(
            impl CastTo<$to> for $from {
                #[inline]
                fn cast_to(self) -> $to {
                    self as $to
                }
            }
        )*
    };
}
impl_cast_numeric!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);
impl CastTo<bool> for bool {
    #[inline]
    fn cast_to(self) -> bool {
        self
    }
}

fn cast_array<T: Element + CastTo<U>, U: Element>(a: &ArrayD<T>) -> ArrayD<U> {
    match a.as_slice() {
        // A standard-layout array's buffer is its elements in C order, so the shape fits.
        Some(s) => ArrayD::from_shape_vec(a.raw_dim(), cast_slice(s))
            .unwrap_or_else(|_| a.mapv(|v| v.cast_to())),
        None => a.mapv(|v| v.cast_to()),
    }
}

/// The values of a contiguous buffer converted one by one, compiled for the CPU's vector units
/// and picked at run time (AVX2+FMA, SSE4.1, NEON, else portable), as the elementwise kernels.
#[cfg_attr(
    not(debug_assertions),
    multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))
)]
fn cast_slice<T: Copy + CastTo<U>, U>(src: &[T]) -> Vec<U> {
    src.iter().map(|&v| v.cast_to()).collect()
}

impl NdData {
    /// The element type.
    pub fn dtype(&self) -> DType {
        with_nd!(self, _a: T => T::DTYPE)
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        with_nd!(self, a: T => a.shape())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        with_nd!(self, a: T => a.len())
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when the elements lie in memory in C order, without gaps.
    pub fn is_standard_layout(&self) -> bool {
        crate::with_nd!(self, a: T => a.is_standard_layout())
    }

    /// Bytes held by the elements.
    pub fn nbytes(&self) -> usize {
        self.len() * self.dtype().size()
    }

    /// An array of `shape` filled with zeros (`false`) of type `dtype`.
    pub fn zeros(dtype: DType, shape: &[usize]) -> NdData {
        crate::dispatch_dtype!(dtype, T => T::wrap(ArrayD::<T>::default(IxDyn(shape))))
    }

    /// Converts to another element type (numpy's `astype`). Returns itself when the type is equal.
    pub fn cast(self, to: DType) -> NdData {
        if self.dtype() == to {
            return self;
        }
        with_nd!(&self, a: T => crate::dispatch_dtype!(to, U => U::wrap(cast_array::<T, U>(a))))
    }

    /// Converts to `f64` values (copying).
    pub fn to_f64(&self) -> ArrayD<f64> {
        with_nd!(self, a: T => a.mapv(|v| v.to_f64()))
    }

    /// The typed array inside, or an error if it holds another type.
    pub fn into_typed<T: Element>(self) -> Result<ArrayD<T>> {
        T::unwrap(self)
    }

    /// Checks that the data has the expected shape and type; used on what sources return.
    pub fn expect(&self, dtype: DType, shape: &[usize], what: &dyn Fn() -> String) -> Result<()> {
        if self.dtype() != dtype {
            return Err(Error::DType(format!(
                "{}: returned {} data, expected {}",
                what(),
                self.dtype(),
                dtype
            )));
        }
        if self.shape() != shape {
            return Err(Error::Shape(format!(
                "{}: returned shape {:?}, expected {:?}",
                what(),
                self.shape(),
                shape
            )));
        }
        Ok(())
    }
}

impl<T: Element> From<ArrayD<T>> for NdData {
    fn from(a: ArrayD<T>) -> Self {
        T::wrap(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cast_like_numpy() {
        let a = NdData::from(ndarray::arr1(&[-1.5f64, 0.0, 2.7, 300.0]).into_dyn());
        let i = a.clone().cast(DType::I32).into_typed::<i32>().unwrap();
        assert_eq!(i.as_slice().unwrap(), &[-1, 0, 2, 300]);
        let b = a.cast(DType::Bool).into_typed::<bool>().unwrap();
        assert_eq!(b.as_slice().unwrap(), &[true, false, true, true]);
    }
}
