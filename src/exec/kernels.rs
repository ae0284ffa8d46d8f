//! Elementwise kernels on in-memory blocks: the arithmetic of each element type, as numpy
//! defines it (wrapping integers, Python's floor division and modulo, NaN-propagating
//! minimum and maximum).

use crate::data::NdData;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::graph::{BinaryOp, UnaryOp};
use ndarray::{ArrayD, IxDyn, Zip};

/// Per-type arithmetic. Operations a type does not have return `None` (the graph builder
/// rules those out, so reaching one is an internal error).
pub(crate) trait Arith: Element {
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
                if (a.wrapping_rem(b) != 0) && ((a < 0) != (b < 0)) { q.wrapping_sub(1) } else { q }
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
pub(crate) fn unary(op: UnaryOp, x: NdData) -> Result<NdData> {
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

/// An operand of an elementwise node as the kernels receive it.
pub(crate) enum Operand {
    /// The operand's values at the whole region.
    Full(NdData),
    /// The input of a broadcast, to be stretched to the region by zero strides (a scalar is
    /// one value): never copied to the region's size.
    Stretched(NdData),
}

impl Operand {
    fn data(&self) -> &NdData {
        match self {
            Operand::Full(d) | Operand::Stretched(d) => d,
        }
    }

    /// The operand's values at the whole region of `shape` (a stretched one is copied out).
    pub(crate) fn into_full(self, shape: &[usize]) -> Result<NdData> {
        match self {
            Operand::Full(d) => Ok(d),
            Operand::Stretched(d) => Ok(crate::map_nd!(d, a: T => {
                a.broadcast(IxDyn(shape))
                    .ok_or_else(|| Error::Internal(format!("broadcast {:?} to {shape:?}", a.shape())))?
                    .to_owned()
            })),
        }
    }
}

/// A typed operand.
enum Arg<T> {
    Full(ArrayD<T>),
    Stretched(ArrayD<T>),
}

impl<T: Element> Arg<T> {
    fn of(op: Operand) -> Result<Arg<T>> {
        Ok(match op {
            Operand::Full(d) => Arg::Full(T::unwrap(d)?),
            Operand::Stretched(d) => Arg::Stretched(T::unwrap(d)?),
        })
    }

    /// The single value of a stretched scalar.
    fn scalar(&self) -> Option<T> {
        match self {
            Arg::Stretched(a) if a.len() == 1 => a.iter().next().copied(),
            _ => None,
        }
    }

    fn full(self, shape: &[usize]) -> Result<ArrayD<T>> {
        match self {
            Arg::Full(a) => Ok(a),
            Arg::Stretched(a) => Ok(a
                .broadcast(IxDyn(shape))
                .ok_or_else(|| Error::Internal(format!("broadcast {:?} to {shape:?}", a.shape())))?
                .to_owned()),
        }
    }
}

fn stretch<'a, T>(a: &'a ArrayD<T>, shape: &[usize]) -> Result<ndarray::ArrayViewD<'a, T>> {
    a.broadcast(IxDyn(shape))
        .ok_or_else(|| Error::Internal(format!("broadcast {:?} to {shape:?}", a.shape())))
}

/// `x[i] = f(x[i], q)` over a contiguous buffer, compiled for the CPU's vector units and
/// picked at run time (AVX2+FMA, SSE4.1, NEON, else portable).
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))]
fn with_scalar<T: Copy, F: FnMut(T, T) -> T>(x: &mut [T], q: T, f: &mut F) {
    for p in x.iter_mut() {
        *p = f(*p, q);
    }
}

/// `y[i] = f(p, y[i])` over a contiguous buffer (the scalar on the left), dispatched as
/// [`with_scalar`].
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))]
fn scalar_with<T: Copy, F: FnMut(T, T) -> T>(p: T, y: &mut [T], f: &mut F) {
    for q in y.iter_mut() {
        *q = f(p, *q);
    }
}

/// `x[i] = f(x[i], y[i])` over two contiguous buffers of one length, dispatched as
/// [`with_scalar`].
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))]
fn pairs<T: Copy, F: FnMut(T, T) -> T>(x: &mut [T], y: &[T], f: &mut F) {
    for (p, &q) in x.iter_mut().zip(y) {
        *p = f(*p, q);
    }
}

/// `f(a, b)` elementwise where the result has the operands' type: written into the buffer of a
/// full operand (a scalar stays a scalar inside the loop; a stretched operand is a view with
/// zero strides). `b` is `None` when it is `a` itself.
fn arith<T: Element>(
    a: Arg<T>,
    b: Option<Arg<T>>,
    shape: &[usize],
    mut f: impl FnMut(T, T) -> T,
) -> Result<ArrayD<T>> {
    let Some(b) = b else {
        let mut x = a.full(shape)?;
        x.mapv_inplace(|v| f(v, v));
        return Ok(x);
    };
    Ok(match (a, b) {
        (Arg::Full(mut x), b) => {
            if let Some(q) = b.scalar() {
                match x.as_slice_mut() {
                    Some(xs) => with_scalar(xs, q, &mut f),
                    None => x.mapv_inplace(|p| f(p, q)),
                }
            } else {
                match b {
                    Arg::Full(y) => match (x.as_slice_mut(), y.as_slice()) {
                        (Some(xs), Some(ys)) if xs.len() == ys.len() => pairs(xs, ys, &mut f),
                        _ => Zip::from(&mut x).and(&y).for_each(|p, &q| *p = f(*p, q)),
                    },
                    Arg::Stretched(y) => Zip::from(&mut x)
                        .and(stretch(&y, shape)?)
                        .for_each(|p, &q| *p = f(*p, q)),
                }
            }
            x
        }
        (a, Arg::Full(mut y)) => {
            if let Some(p) = a.scalar() {
                match y.as_slice_mut() {
                    Some(ys) => scalar_with(p, ys, &mut f),
                    None => y.mapv_inplace(|q| f(p, q)),
                }
            } else if let Arg::Stretched(x) = a {
                Zip::from(&mut y)
                    .and(stretch(&x, shape)?)
                    .for_each(|q, &p| *q = f(p, *q));
            }
            y
        }
        (a, b) => arith(Arg::Full(a.full(shape)?), Some(b), shape, f)?,
    })
}

/// `f(a, b)` elementwise into a new array of another type (comparisons).
fn map2<T: Element, U: Element>(
    a: Arg<T>,
    b: Option<Arg<T>>,
    shape: &[usize],
    mut f: impl FnMut(T, T) -> U,
) -> Result<ArrayD<U>> {
    fn view<'a, T>(x: &'a Arg<T>, shape: &[usize]) -> Result<ndarray::ArrayViewD<'a, T>> {
        match x {
            Arg::Full(a) => Ok(a.view()),
            Arg::Stretched(a) => stretch(a, shape),
        }
    }
    let x = view(&a, shape)?;
    Ok(match &b {
        None => x.map(|&p| f(p, p)),
        Some(b) => match (a.scalar(), b.scalar()) {
            (None, Some(q)) => x.map(|&p| f(p, q)),
            (Some(p), None) => view(b, shape)?.map(|&q| f(p, q)),
            _ => Zip::from(x)
                .and(view(b, shape)?)
                .map_collect(|&p, &q| f(p, q)),
        },
    })
}

/// numpy's fast paths of `x ** e` for a scalar exponent of floats (as numpy's
/// `fast_scalar_power`): `e` of 2 is `x * x`, 0.5 the square root, 1 the value itself, -1 the
/// reciprocal. The exponent, if it is one of these.
fn fast_exponent(b: Option<&Operand>) -> Option<f64> {
    let Some(Operand::Stretched(e)) = b else {
        return None;
    };
    if e.len() != 1 {
        return None;
    }
    let e = e.clone().cast(DType::F64);
    let e = f64::peek(&e).and_then(|v| v.iter().next().copied())?;
    [2.0, 1.0, 0.5, -1.0].contains(&e).then_some(e)
}

/// Applies a binary operation to two operands of one type, each the whole region of `shape`
/// or a broadcast input stretched to it (see [`Operand`]). Operations whose result has the
/// operands' type write into a full operand's buffer, so a chain of arithmetic allocates no
/// intermediates. `b` is `None` when both operands are the same node (`a * a`).
pub(crate) fn binary(
    op: BinaryOp,
    a: Operand,
    b: Option<Operand>,
    shape: &[usize],
) -> Result<NdData> {
    if let Some(b) = &b {
        if a.data().dtype() != b.data().dtype() {
            return Err(Error::Internal(format!(
                "binary {}: operands {} and {}",
                op.name(),
                a.data().dtype(),
                b.data().dtype(),
            )));
        }
    }
    let dtype = a.data().dtype();
    if op == BinaryOp::Pow && dtype.is_float() {
        if let Some(e) = fast_exponent(b.as_ref()) {
            let x = a.into_full(shape)?;
            return Ok(match e {
                2.0 => binary(BinaryOp::Mul, Operand::Full(x), None, shape)?,
                0.5 => unary(UnaryOp::Sqrt, x)?,
                -1.0 => crate::map_nd!(x, v: T => {
                    let mut v = v;
                    let one = T::from_f64(1.0);
                    v.mapv_inplace(|q| <T as Arith>::div(one, q));
                    v
                }),
                _ => x,
            });
        }
    }
    crate::dispatch_dtype!(dtype, T => {
        let x = Arg::<T>::of(a)?;
        let y = b.map(Arg::<T>::of).transpose()?;
        let out: NdData = match op {
            BinaryOp::Add => T::wrap(arith(x, y, shape, <T as Arith>::add)?),
            BinaryOp::Sub => T::wrap(arith(x, y, shape, <T as Arith>::sub)?),
            BinaryOp::Mul => T::wrap(arith(x, y, shape, <T as Arith>::mul)?),
            BinaryOp::Div => T::wrap(arith(x, y, shape, <T as Arith>::div)?),
            BinaryOp::FloorDiv => T::wrap(arith(x, y, shape, <T as Arith>::floor_div)?),
            BinaryOp::Rem => T::wrap(arith(x, y, shape, <T as Arith>::rem)?),
            BinaryOp::Pow => {
                let mut bad = false;
                let r = arith(x, y, shape, |p, q| <T as Arith>::pow(p, q).unwrap_or_else(|| { bad = true; p }))?;
                if bad {
                    return Err(Error::Invalid("integers to negative integer powers are not allowed".into()));
                }
                T::wrap(r)
            }
            BinaryOp::Minimum => T::wrap(arith(x, y, shape, <T as Arith>::minimum)?),
            BinaryOp::Maximum => T::wrap(arith(x, y, shape, <T as Arith>::maximum)?),
            BinaryOp::And => T::wrap(arith(x, y, shape, <T as Arith>::and)?),
            BinaryOp::Or => T::wrap(arith(x, y, shape, <T as Arith>::or)?),
            BinaryOp::Lt => NdData::Bool(map2(x, y, shape, |p, q| p.lt(&q))?),
            BinaryOp::Le => NdData::Bool(map2(x, y, shape, |p, q| p <= q)?),
            BinaryOp::Gt => NdData::Bool(map2(x, y, shape, |p, q| p.gt(&q))?),
            BinaryOp::Ge => NdData::Bool(map2(x, y, shape, |p, q| p >= q)?),
            BinaryOp::Eq => NdData::Bool(map2(x, y, shape, |p, q| p == q)?),
            BinaryOp::Ne => NdData::Bool(map2(x, y, shape, |p, q| p != q)?),
        };
        Ok(out)
    })
}

/// `where(cond, a, b)` on blocks of equal shape.
pub(crate) fn select_where(cond: &NdData, a: &NdData, b: &NdData) -> Result<NdData> {
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
pub(crate) fn cast(x: NdData, dtype: DType) -> NdData {
    x.cast(dtype)
}
