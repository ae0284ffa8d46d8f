//! `std::ops` operators on lazy arrays, as polars' `Expr` has them: `&a + &b`, `&a * 2.0`,
//! `2.0 - &a`, `-&a`, `!&mask`. Building a node can fail (shapes that do not broadcast, types
//! that do not combine), so each operator gives a [`Result`], as the named methods do:
//!
//! ```
//! use vastarray::DynArray;
//! let a = DynArray::from_ndarray(ndarray::arr1(&[1.0f64, 2.0, 4.0]).into_dyn(), &[2]).unwrap();
//! let y = (2.0 - &((&a * &a)?))?;
//! let v = y.ndarray()?.into_typed::<f64>()?;
//! assert_eq!(v.as_slice().unwrap(), &[1.0, -2.0, -14.0]);
//! # Ok::<(), vastarray::Error>(())
//! ```
//!
//! A scalar takes the array's type (numpy 2's weak scalars): `2 - &a` of an `int8` array is
//! `int8`, and a scalar the type cannot hold is an error, not a wrap.

use super::array::{DynArray, Operand};
use super::elementwise::binary;
use super::ops::BinaryOp;
use super::typed::{Array, Promote};
use crate::dtype::Element;
use crate::error::Result;

macro_rules! array_ops {
    ($($tr:ident $m:ident => $op:ident),*) => {$(
        impl<O: Into<Operand>> std::ops::$tr<O> for &DynArray {
            type Output = Result<DynArray>;
            fn $m(self, rhs: O) -> Result<DynArray> {
                self.binary(BinaryOp::$op, rhs)
            }
        }
        impl<O: Into<Operand>> std::ops::$tr<O> for DynArray {
            type Output = Result<DynArray>;
            fn $m(self, rhs: O) -> Result<DynArray> {
                self.binary(BinaryOp::$op, rhs)
            }
        }
    )*};
}
array_ops!(
    Add add => Add, Sub sub => Sub, Mul mul => Mul, Div div => Div, Rem rem => Rem,
    BitAnd bitand => And, BitOr bitor => Or
);

macro_rules! scalar_left {
    ($($s:ty),*) => {$(
        scalar_left!(@one $s, Add add => Add, Sub sub => Sub, Mul mul => Mul, Div div => Div, Rem rem => Rem);
    )*};
    (@one $s:ty, $($tr:ident $m:ident => $op:ident),*) => {$(
        impl std::ops::$tr<&DynArray> for $s {
            type Output = Result<DynArray>;
            fn $m(self, rhs: &DynArray) -> Result<DynArray> {
                binary(BinaryOp::$op, &Operand::from(self), &Operand::from(rhs))
            }
        }
        impl std::ops::$tr<DynArray> for $s {
            type Output = Result<DynArray>;
            fn $m(self, rhs: DynArray) -> Result<DynArray> {
                binary(BinaryOp::$op, &Operand::from(self), &Operand::from(rhs))
            }
        }
    )*};
}
// One float and one integer type, so that a literal on the left (`2.0 - &a`, `1 - &a`) needs no suffix.
scalar_left!(f64, i64);

impl std::ops::Neg for &DynArray {
    type Output = Result<DynArray>;
    fn neg(self) -> Result<DynArray> {
        DynArray::neg(self)
    }
}

impl std::ops::Not for &DynArray {
    type Output = Result<DynArray>;
    /// numpy's `~`: logical not of booleans.
    fn not(self) -> Result<DynArray> {
        DynArray::invert(self)
    }
}

macro_rules! typed_ops {
    ($($tr:ident $m:ident),*) => {$(
        impl<T: Element + Promote<U>, U: Element> std::ops::$tr<&Array<U>> for &Array<T> {
            type Output = Result<Array<<T as Promote<U>>::Out>>;
            fn $m(self, rhs: &Array<U>) -> Self::Output {
                Array::$m(self, rhs)
            }
        }
    )*};
}
typed_ops!(Add add, Sub sub, Mul mul, Rem rem);

impl<T: Element> std::ops::Neg for &Array<T> {
    type Output = Result<Array<T>>;
    fn neg(self) -> Result<Array<T>> {
        Array::neg(self)
    }
}
