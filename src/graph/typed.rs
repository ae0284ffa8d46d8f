//! [`Array<T>`]: a lazy array whose element type is known at compile time. A thin, checked
//! layer over [`DynArray`]: the result types of arithmetic and reductions follow numpy 2 and
//! are computed by the type system (traits [`Promote`], [`FloatOut`], [`SumOut`], [`MeanOut`]).

use super::array::DynArray;
use super::axes::{Axes, AxisArg, Over};
use super::ops::{BinaryOp, ReduceOp};
use super::reduce::ReduceOptions;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::select::SliceArg;
use crate::source::ChunkSource;
use ndarray::{ArrayD, SliceInfoElem};
use std::marker::PhantomData;

/// A lazy n-dimensional array of `T`. Cloning is cheap: it shares the expression graph.
///
/// ```
/// use vastarray::{Array, GeneratedSource};
/// let src = GeneratedSource::from_index_fn(&[2000, 300], &[500, 300], |ix| ix[0] as f32).unwrap();
/// let a: Array<f32> = Array::from_source(src).unwrap();
/// let centred = a.sub(&a.mean(0).unwrap()).unwrap();        // broadcasts (300,) over (2000, 300)
/// let col = centred.select_str(":, 7").unwrap().ndarray().unwrap();
/// assert_eq!(col[[0]], -999.5);
/// ```
pub struct Array<T: Element> {
    inner: DynArray,
    _t: PhantomData<T>,
}

impl<T: Element> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            inner: self.inner.clone(),
            _t: PhantomData,
        }
    }
}

impl<T: Element> std::fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Array<{}>({:?})", T::DTYPE, self.inner)
    }
}

/// The type numpy gives two arrays of types `Self` and `U` combined.
pub trait Promote<U: Element>: Element {
    /// The promoted type.
    type Out: Element + TrueDiv;
}

/// The type of true division (`/`) in a promoted type: floats keep theirs, others give `f64`.
pub trait TrueDiv: Element {
    /// The result type.
    type Out: Element;
}

/// The type float-valued math (`sqrt`, `exp`, ...) gives.
pub trait FloatOut: Element {
    /// The result type.
    type Out: Element;
}

/// The type `sum` gives.
pub trait SumOut: Element {
    /// The result type.
    type Out: Element;
}

/// The type `mean`, `var` and `std` give.
pub trait MeanOut: Element {
    /// The result type.
    type Out: Element;
}

macro_rules! out_types {
    ($($t:ty => div $d:ty, float $f:ty, sum $s:ty, mean $m:ty;)*) => {
        $(
            impl TrueDiv for $t { type Out = $d; }
            impl FloatOut for $t { type Out = $f; }
            impl SumOut for $t { type Out = $s; }
            impl MeanOut for $t { type Out = $m; }
        )*
    };
}

out_types! {
    bool => div f64, float f32, sum i64, mean f64;
    i8 => div f64, float f32, sum i64, mean f64;
    i16 => div f64, float f32, sum i64, mean f64;
    i32 => div f64, float f64, sum i64, mean f64;
    i64 => div f64, float f64, sum i64, mean f64;
    u8 => div f64, float f32, sum u64, mean f64;
    u16 => div f64, float f32, sum u64, mean f64;
    u32 => div f64, float f64, sum u64, mean f64;
    u64 => div f64, float f64, sum u64, mean f64;
    f32 => div f32, float f32, sum f32, mean f32;
    f64 => div f64, float f64, sum f64, mean f64;
}

include!("promote_table.rs");

fn typed<U: Element>(d: DynArray) -> Result<Array<U>> {
    Array::from_dyn(d)
}

impl<T: Element> Array<T> {
    /// A typed handle on a dynamic array; an error if its element type is not `T`.
    pub fn from_dyn(inner: DynArray) -> Result<Self> {
        if inner.dtype() != T::DTYPE {
            return Err(Error::DType(format!(
                "the array holds {}, not {}",
                inner.dtype(),
                T::DTYPE
            )));
        }
        Ok(Array {
            inner,
            _t: PhantomData,
        })
    }

    /// A lazy array over a chunk source of element type `T`.
    pub fn from_source(source: impl ChunkSource + 'static) -> Result<Self> {
        Self::from_dyn(DynArray::from_source(source))
    }

    /// A lazy array over an ndarray in memory, served in chunks of `chunks`.
    pub fn from_ndarray(array: ArrayD<T>, chunks: &[usize]) -> Result<Self> {
        Self::from_dyn(DynArray::from_ndarray(array, chunks)?)
    }

    /// The dynamic handle.
    pub fn as_dyn(&self) -> &DynArray {
        &self.inner
    }

    /// Into the dynamic handle.
    pub fn into_dyn(self) -> DynArray {
        self.inner
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        self.inner.shape()
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.inner.ndim()
    }

    /// The element type (`T::DTYPE`).
    pub fn dtype(&self) -> DType {
        T::DTYPE
    }

    /// numpy indexing (see [`DynArray::select`]).
    pub fn select(&self, args: &[SliceArg]) -> Result<Self> {
        typed(self.inner.select(args)?)
    }

    /// numpy indexing spelled as numpy does (`"1, -3:, ::2"`).
    pub fn select_str(&self, text: &str) -> Result<Self> {
        typed(self.inner.select_str(text)?)
    }

    /// Indexing with ndarray's `s![]`.
    pub fn slice<I: AsRef<[SliceInfoElem]>>(&self, info: I) -> Result<Self> {
        typed(self.inner.slice(info)?)
    }

    /// Permutes the axes.
    pub fn permute<A: Into<AxisArg> + Copy>(&self, perm: &[A]) -> Result<Self> {
        typed(self.inner.permute(perm)?)
    }

    /// Reverses the axes.
    pub fn t(&self) -> Self {
        Array {
            inner: self.inner.t(),
            _t: PhantomData,
        }
    }

    /// Broadcasts to `shape`.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Self> {
        typed(self.inner.broadcast_to(shape)?)
    }

    /// Inserts an axis of length 1.
    pub fn insert_axis(&self, axis: impl Into<AxisArg>) -> Result<Self> {
        typed(self.inner.insert_axis(axis)?)
    }

    /// Joins arrays along an existing axis (a LinearMosaic).
    pub fn concatenate(tiles: &[Array<T>], axis: impl Into<AxisArg>) -> Result<Self> {
        let d: Vec<DynArray> = tiles.iter().map(|t| t.inner.clone()).collect();
        typed(DynArray::concatenate(&d, axis)?)
    }

    /// Joins arrays along a new axis.
    pub fn stack(arrays: &[Array<T>], axis: impl Into<AxisArg>) -> Result<Self> {
        let d: Vec<DynArray> = arrays.iter().map(|t| t.inner.clone()).collect();
        typed(DynArray::stack(&d, axis)?)
    }

    /// Converts to element type `U`.
    pub fn cast<U: Element>(&self) -> Result<Array<U>> {
        typed(self.inner.cast(U::DTYPE)?)
    }

    /// `-x`.
    pub fn neg(&self) -> Result<Self> {
        typed(self.inner.neg()?)
    }
    /// `|x|`.
    pub fn abs(&self) -> Result<Self> {
        typed(self.inner.abs()?)
    }
    /// Floor.
    pub fn floor(&self) -> Result<Self> {
        typed(self.inner.floor()?)
    }
    /// Ceiling.
    pub fn ceil(&self) -> Result<Self> {
        typed(self.inner.ceil()?)
    }

    /// `self op scalar`, the scalar taken as `T`.
    pub fn op_scalar(&self, op: BinaryOp, value: T) -> Result<Self> {
        let s = DynArray::scalar(value);
        typed(self.inner.binary(op, &s)?)
    }

    /// `self * value`.
    pub fn mul_scalar(&self, value: T) -> Result<Self> {
        self.op_scalar(BinaryOp::Mul, value)
    }

    /// `self + value`.
    pub fn add_scalar(&self, value: T) -> Result<Self> {
        self.op_scalar(BinaryOp::Add, value)
    }

    /// `where(cond, a, b)`.
    pub fn where_(cond: &Array<bool>, a: &Array<T>, b: &Array<T>) -> Result<Self> {
        typed(DynArray::where_(&cond.inner, &a.inner, &b.inner)?)
    }

    /// `count` over `over`: the number of non-NaN elements.
    pub fn count(&self, over: impl Into<Over>) -> Result<Array<i64>> {
        typed(self.inner.count(over)?)
    }
    /// Minimum over `over`.
    pub fn min(&self, over: impl Into<Over>) -> Result<Self> {
        typed(self.inner.min(over)?)
    }
    /// Maximum over `over`.
    pub fn max(&self, over: impl Into<Over>) -> Result<Self> {
        typed(self.inner.max(over)?)
    }
    /// Minimum skipping NaN.
    pub fn nanmin(&self, over: impl Into<Over>) -> Result<Self> {
        typed(self.inner.nanmin(over)?)
    }
    /// Maximum skipping NaN.
    pub fn nanmax(&self, over: impl Into<Over>) -> Result<Self> {
        typed(self.inner.nanmax(over)?)
    }

    /// Evaluates the array into memory (with the default configuration).
    pub fn ndarray(&self) -> Result<ArrayD<T>> {
        self.inner.ndarray()?.into_typed()
    }
}

macro_rules! typed_binary {
    ($($name:ident => $op:ident, $doc:literal;)*) => {
        impl<T: Element> Array<T> {
            $(
                #[doc = $doc]
                pub fn $name<U: Element>(&self, other: &Array<U>) -> Result<Array<<T as Promote<U>>::Out>>
                where
                    T: Promote<U>,
                {
                    typed(self.inner.binary(BinaryOp::$op, &other.inner)?)
                }
            )*
        }
    };
}

typed_binary! {
    add => Add, "`self + other` (broadcast, promoted).";
    sub => Sub, "`self - other` (broadcast, promoted).";
    mul => Mul, "`self * other` (broadcast, promoted).";
    rem => Rem, "`self % other` (broadcast, promoted).";
    floor_div => FloorDiv, "`self // other` (broadcast, promoted).";
    pow => Pow, "`self ** other` (broadcast, promoted).";
    minimum => Minimum, "Elementwise minimum (broadcast, promoted).";
    maximum => Maximum, "Elementwise maximum (broadcast, promoted).";
}

macro_rules! typed_compare {
    ($($name:ident => $op:ident, $doc:literal;)*) => {
        impl<T: Element> Array<T> {
            $(
                #[doc = $doc]
                pub fn $name<U: Element>(&self, other: &Array<U>) -> Result<Array<bool>> {
                    typed(self.inner.binary(BinaryOp::$op, &other.inner)?)
                }
            )*
        }
    };
}

typed_compare! {
    lt => Lt, "`self < other`.";
    le => Le, "`self <= other`.";
    gt => Gt, "`self > other`.";
    ge => Ge, "`self >= other`.";
    eq => Eq, "`self == other`.";
    ne => Ne, "`self != other`.";
}

impl<T: Element> Array<T> {
    /// `self / other` (true division: integers give `f64`).
    pub fn div<U: Element>(
        &self,
        other: &Array<U>,
    ) -> Result<Array<<<T as Promote<U>>::Out as TrueDiv>::Out>>
    where
        T: Promote<U>,
    {
        typed(self.inner.binary(BinaryOp::Div, &other.inner)?)
    }
}

macro_rules! typed_float_unary {
    ($($name:ident, $doc:literal;)*) => {
        impl<T: FloatOut> Array<T> {
            $(
                #[doc = $doc]
                pub fn $name(&self) -> Result<Array<T::Out>> {
                    typed(self.inner.$name()?)
                }
            )*
        }
    };
}

typed_float_unary! {
    sqrt, "Square root.";
    exp, "`e^x`.";
    log, "Natural logarithm (numpy's `log`).";
    log10, "Base-10 logarithm.";
    sin, "Sine.";
    cos, "Cosine.";
    tan, "Tangent.";
}

impl<T: SumOut> Array<T> {
    /// Sum over `over`.
    pub fn sum(&self, over: impl Into<Over>) -> Result<Array<T::Out>> {
        typed(self.inner.sum(over)?)
    }
    /// Sum skipping NaN.
    pub fn nansum(&self, over: impl Into<Over>) -> Result<Array<T::Out>> {
        typed(self.inner.nansum(over)?)
    }
}

impl<T: MeanOut> Array<T> {
    /// Mean over `over` (accumulated in `f64`).
    pub fn mean(&self, over: impl Into<Over>) -> Result<Array<T::Out>> {
        typed(self.inner.mean(over)?)
    }
    /// Variance over `over`, with its `ddof` ([`Over::ddof`], 0 by default).
    pub fn var(&self, over: impl Into<Over>) -> Result<Array<T::Out>> {
        typed(self.inner.var(over)?)
    }
    /// Standard deviation over `over`, with its `ddof` ([`Over::ddof`], 0 by default).
    pub fn std(&self, over: impl Into<Over>) -> Result<Array<T::Out>> {
        typed(self.inner.std(over)?)
    }
    /// Mean skipping NaN, NaN where more than `mdtol` ([`Over::mdtol`]) of the inputs are NaN.
    pub fn nanmean(&self, over: impl Into<Over>) -> Result<Array<T::Out>> {
        typed(self.inner.nanmean(over)?)
    }
    /// Variance skipping NaN.
    pub fn nanvar(&self, over: impl Into<Over>) -> Result<Array<T::Out>> {
        typed(self.inner.nanvar(over)?)
    }
    /// Standard deviation skipping NaN.
    pub fn nanstd(&self, over: impl Into<Over>) -> Result<Array<T::Out>> {
        typed(self.inner.nanstd(over)?)
    }
    /// Any reduction with full options, as a dynamic array.
    pub fn reduce(
        &self,
        op: ReduceOp,
        axes: impl Into<Axes>,
        opts: ReduceOptions,
    ) -> Result<DynArray> {
        self.inner.reduce(op, axes, opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt<T: Element>() -> DType {
        T::DTYPE
    }

    macro_rules! check_pairs {
        ($($a:ty),*) => {{
            $( check_pairs!(@row $a; bool, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64); )*
        }};
        (@row $a:ty; $($b:ty),*) => {
            $( assert_eq!(dt::<<$a as Promote<$b>>::Out>(), DType::promote(dt::<$a>(), dt::<$b>()), "{} {}", stringify!($a), stringify!($b)); )*
        };
    }

    #[test]
    fn typed_promotion_matches_runtime() {
        check_pairs!(bool, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);
    }
}
