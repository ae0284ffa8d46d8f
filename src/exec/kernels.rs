//! Elementwise kernels on in-memory blocks: the arithmetic of each element type, as numpy
//! defines it (wrapping integers, Python's floor division and modulo, NaN-propagating
//! minimum and maximum).

use crate::data::NdData;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::graph::{BinaryOp, UnaryOp};
use ndarray::{ArrayD, Zip};

/// Per-type arithmetic. Operations a type does not have return `None` (the graph builder
/// rules those out, so reaching one is an internal error).
pub trait Arith: Element {
    /// `a + b`
    fn add(a: Self, b: Self) -> Self;
    /// `a - b`
    fn sub(a: Self, b: Self) -> Self;
    /// `a * b`
    fn mul(a: Self, b: Self) -> Self;
    /// `a / b` (floats only).
    fn div(a: Self, b: Self) -> Self;
    /// `a // b`
    fn floor_div(a: Self, b: Self) -> Self;
    /// `a % b` with the divisor's sign.
    fn rem(a: Self, b: Self) -> Self;
    /// `a ** b`; `None` for a negative integer exponent.
    fn pow(a: Self, b: Self) -> Option<Self>;
    /// NaN-propagating minimum.
    fn minimum(a: Self, b: Self) -> Self;
    /// NaN-propagating maximum.
    fn maximum(a: Self, b: Self) -> Self;
    /// `&`
    fn and(a: Self, b: Self) -> Self;
    /// `|`
    fn or(a: Self, b: Self) -> Self;
    /// `-a`
    fn neg(a: Self) -> Self;
    /// `|a|`
    fn abs(a: Self) -> Self;
    /// Floor.
    fn floor(a: Self) -> Self;
    /// Ceiling.
    fn ceil(a: Self) -> Self;
    /// `~a`
    fn not(a: Self) -> Self;
    /// Float functions (`sqrt`, `exp`, ...): identity for non-floats (never reached).
    fn float_fn(op: UnaryOp, a: Self) -> Self;
}

macro_rules! arith_int {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline] fn add(a: Self, b: Self) -> Self { a.wrapping_add(b) }
            #[inline] fn sub(a: Self, b: Self) -> Self { a.wrapping_sub(b) }
            #[inline] fn mul(a: Self, b: Self) -> Self { a.wrapping_mul(b) }
            #[inline] fn div(a: Self, b: Self) -> Self { if b == 0 { 0 } else { a.wrapping_div(b) } }
            #[inline] fn floor_div(a: Self, b: Self) -> Self {
                if b == 0 { return 0; }
                let q = a.wrapping_div(b);
                #[allow(unused_comparisons)]
                if (a % b != 0) && ((a < 0) != (b < 0)) { q.wrapping_sub(1) } else { q }
            }
            #[inline] fn rem(a: Self, b: Self) -> Self {
                if b == 0 { return 0; }
                let r = a.wrapping_rem(b);
                #[allow(unused_comparisons)]
                if r != 0 && ((r < 0) != (b < 0)) { r.wrapping_add(b) } else { r }
            }
            #[inline] fn pow(a: Self, b: Self) -> Option<Self> {
                #[allow(unused_comparisons)]
                if b < 0 { None } else { Some(a.wrapping_pow(b as u32)) }
            }
            #[inline] fn minimum(a: Self, b: Self) -> Self { a.min(b) }
            #[inline] fn maximum(a: Self, b: Self) -> Self { a.max(b) }
            #[inline] fn and(a: Self, b: Self) -> Self { a & b }
            #[inline] fn or(a: Self, b: Self) -> Self { a | b }
            #[inline] fn neg(a: Self) -> Self { (0 as $t).wrapping_sub(a) }
            #[inline] fn abs(a: Self) -> Self {
                #[allow(unused_comparisons)]
                if a < 0 { (0 as $t).wrapping_sub(a) } else { a }
            }
            #[inline] fn floor(a: Self) -> Self { a }
            #[inline] fn ceil(a: Self) -> Self { a }
            #[inline] fn not(a: Self) -> Self { !a }
            #[inline] fn float_fn(_: UnaryOp, a: Self) -> Self { a }
        }
    )*};
}
arith_int!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! arith_float {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline] fn add(a: Self, b: Self) -> Self { a + b }
            #[inline] fn sub(a: Self, b: Self) -> Self { a - b }
            #[inline] fn mul(a: Self, b: Self) -> Self { a * b }
            #[inline] fn div(a: Self, b: Self) -> Self { a / b }
            #[inline] fn floor_div(a: Self, b: Self) -> Self {
                // Python's float floor division: floor of the exact quotient.
                if b == 0.0 { return a / b; }
                let m = Self::rem(a, b);
                ((a - m) / b).round()
            }
            #[inline] fn rem(a: Self, b: Self) -> Self {
                if b == 0.0 { return <$t>::NAN; }
                let r = a % b;
                if r != 0.0 && ((r < 0.0) != (b < 0.0)) { r + b } else if r == 0.0 { (0.0 as $t).copysign(b) } else { r }
            }
            #[inline] fn pow(a: Self, b: Self) -> Option<Self> { Some(a.powf(b)) }
            #[inline] fn minimum(a: Self, b: Self) -> Self { if a.is_nan() || b.is_nan() { <$t>::NAN } else { a.min(b) } }
            #[inline] fn maximum(a: Self, b: Self) -> Self { if a.is_nan() || b.is_nan() { <$t>::NAN } else { a.max(b) } }
            #[inline] fn and(a: Self, _: Self) -> Self { a }
            #[inline] fn or(a: Self, _: Self) -> Self { a }
            #[inline] fn neg(a: Self) -> Self { -a }
            #[inline] fn abs(a: Self) -> Self { a.abs() }
            #[inline] fn floor(a: Self) -> Self { a.floor() }
            #[inline] fn ceil(a: Self) -> Self { a.ceil() }
            #[inline] fn not(a: Self) -> Self { a }
            #[inline] fn float_fn(op: UnaryOp, a: Self) -> Self {
                match op {
                    UnaryOp::Sqrt => a.sqrt(),
                    UnaryOp::Exp => a.exp(),
                    UnaryOp::Log => a.ln(),
                    UnaryOp::Log10 => a.log10(),
                    UnaryOp::Sin => a.sin(),
                    UnaryOp::Cos => a.cos(),
                    UnaryOp::Tan => a.tan(),
                    _ => a,
                }
            }
        }
    )*};
}
arith_float!(f32, f64);

impl Arith for bool {
    fn add(a: Self, b: Self) -> Self {
        a | b
    }
    fn sub(a: Self, b: Self) -> Self {
        a ^ b
    }
    fn mul(a: Self, b: Self) -> Self {
        a & b
    }
    fn div(a: Self, _: Self) -> Self {
        a
    }
    fn floor_div(a: Self, _: Self) -> Self {
        a
    }
    fn rem(a: Self, _: Self) -> Self {
        a
    }
    fn pow(a: Self, _: Self) -> Option<Self> {
        Some(a)
    }
    fn minimum(a: Self, b: Self) -> Self {
        a & b
    }
    fn maximum(a: Self, b: Self) -> Self {
        a | b
    }
    fn and(a: Self, b: Self) -> Self {
        a & b
    }
    fn or(a: Self, b: Self) -> Self {
        a | b
    }
    fn neg(a: Self) -> Self {
        a
    }
    fn abs(a: Self) -> Self {
        a
    }
    fn floor(a: Self) -> Self {
        a
    }
    fn ceil(a: Self) -> Self {
        a
    }
    fn not(a: Self) -> Self {
        !a
    }
    fn float_fn(_: UnaryOp, a: Self) -> Self {
        a
    }
}

/// Applies a unary operation in place; the input already has the operation's compute type.
pub fn unary(op: UnaryOp, x: NdData) -> Result<NdData> {
    Ok(crate::map_nd!(x, a: T => {
        let mut a = a;
        let f: fn(T) -> T = match op {
            UnaryOp::Neg => <T as Arith>::neg,
            UnaryOp::Abs => <T as Arith>::abs,
            UnaryOp::Floor => <T as Arith>::floor,
            UnaryOp::Ceil => <T as Arith>::ceil,
            UnaryOp::Not => <T as Arith>::not,
            _ => {
                a.mapv_inplace(|v| <T as Arith>::float_fn(op, v));
                return Ok(T::wrap(a));
            }
        };
        a.mapv_inplace(f);
        a
    }))
}

/// `a = f(a, b)` elementwise, in `a`'s buffer (`b` is `None` when it is `a` itself).
fn zip_inplace<T: Element>(
    mut a: ArrayD<T>,
    b: Option<&ArrayD<T>>,
    f: impl Fn(T, T) -> T,
) -> ArrayD<T> {
    match b {
        Some(b) => Zip::from(&mut a).and(b).for_each(|p, &q| *p = f(*p, q)),
        None => a.mapv_inplace(|v| f(v, v)),
    }
    a
}

/// `f(a, b)` elementwise into a new array (`b` is `None` when it is `a` itself).
fn zip_map<T: Element, U: Element>(
    a: &ArrayD<T>,
    b: Option<&ArrayD<T>>,
    mut f: impl FnMut(T, T) -> U,
) -> ArrayD<U> {
    match b {
        Some(b) => Zip::from(a).and(b).map_collect(|&x, &y| f(x, y)),
        None => a.map(|&x| f(x, x)),
    }
}

/// Applies a binary operation to two blocks of equal shape and type. The left operand is
/// consumed: operations whose result has the operands' type write into its buffer, so a
/// chain of arithmetic allocates no intermediates. `b` is `None` when both operands are the
/// same node (`a * a`).
pub fn binary(op: BinaryOp, a: NdData, b: Option<&NdData>) -> Result<NdData> {
    if let Some(b) = b {
        if a.dtype() != b.dtype() || a.shape() != b.shape() {
            return Err(Error::Internal(format!(
                "binary {}: operands {} {:?} and {} {:?}",
                op.name(),
                a.dtype(),
                a.shape(),
                b.dtype(),
                b.shape()
            )));
        }
    }
    crate::with_nd!(a, x: T => {
        let y = match b {
            Some(b) => Some(T::peek(b).ok_or_else(|| Error::Internal("binary operand type".into()))?),
            None => None,
        };
        let out: NdData = match op {
            BinaryOp::Add => T::wrap(zip_inplace(x, y, <T as Arith>::add)),
            BinaryOp::Sub => T::wrap(zip_inplace(x, y, <T as Arith>::sub)),
            BinaryOp::Mul => T::wrap(zip_inplace(x, y, <T as Arith>::mul)),
            BinaryOp::Div => T::wrap(zip_inplace(x, y, <T as Arith>::div)),
            BinaryOp::FloorDiv => T::wrap(zip_inplace(x, y, <T as Arith>::floor_div)),
            BinaryOp::Rem => T::wrap(zip_inplace(x, y, <T as Arith>::rem)),
            BinaryOp::Pow => {
                let mut bad = false;
                let r = zip_map(&x, y, |p, q| <T as Arith>::pow(p, q).unwrap_or_else(|| { bad = true; p }));
                if bad {
                    return Err(Error::Invalid("integers to negative integer powers are not allowed".into()));
                }
                T::wrap(r)
            }
            BinaryOp::Minimum => T::wrap(zip_inplace(x, y, <T as Arith>::minimum)),
            BinaryOp::Maximum => T::wrap(zip_inplace(x, y, <T as Arith>::maximum)),
            BinaryOp::And => T::wrap(zip_inplace(x, y, <T as Arith>::and)),
            BinaryOp::Or => T::wrap(zip_inplace(x, y, <T as Arith>::or)),
            BinaryOp::Lt => NdData::Bool(zip_map(&x, y, |p, q| p.lt(&q))),
            BinaryOp::Le => NdData::Bool(zip_map(&x, y, |p, q| p <= q)),
            BinaryOp::Gt => NdData::Bool(zip_map(&x, y, |p, q| p.gt(&q))),
            BinaryOp::Ge => NdData::Bool(zip_map(&x, y, |p, q| p >= q)),
            BinaryOp::Eq => NdData::Bool(zip_map(&x, y, |p, q| p == q)),
            BinaryOp::Ne => NdData::Bool(zip_map(&x, y, |p, q| p != q)),
        };
        Ok(out)
    })
}

/// `where(cond, a, b)` on blocks of equal shape.
pub fn select_where(cond: &NdData, a: &NdData, b: &NdData) -> Result<NdData> {
    let c =
        bool::peek(cond).ok_or_else(|| Error::Internal("where: condition is not bool".into()))?;
    if a.dtype() != b.dtype() {
        return Err(Error::Internal("where: branches differ in type".into()));
    }
    crate::with_nd!(a, x: T => {
        let y = T::peek(b).ok_or_else(|| Error::Internal("where operand type".into()))?;
        Ok(T::wrap(Zip::from(c).and(x).and(y).map_collect(|&k, &p, &q| if k { p } else { q })))
    })
}

/// Casts a block to `dtype`.
pub fn cast(x: NdData, dtype: DType) -> NdData {
    x.cast(dtype)
}
