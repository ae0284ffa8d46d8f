//! Elementwise kernels on in-memory blocks: the arithmetic of each element type, as numpy
//! defines it (wrapping integers, Python's floor division and modulo, NaN-propagating
//! minimum and maximum).

use crate::data::NdData;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::graph::{BinaryOp, UnaryOp};
use ndarray::{ArrayD, IxDyn, Zip};
use std::sync::Arc;

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
                map_in_place(&mut a, |v| <T as Arith>::float_fn(op, v));
                return Ok(T::wrap(a));
            }
        };
        map_in_place(&mut a, f);
        a
    }))
}

/// An operand of an elementwise node as the kernels receive it.
pub(crate) enum Operand {
    /// The operand's values at the whole region.
    Full(NdData),
    /// The input of a broadcast, to be stretched to the region by zero strides (a scalar is
    /// one value): never copied to the region's size.
    Stretched(Shared),
}

impl Operand {
    fn dtype(&self) -> DType {
        match self {
            Operand::Full(d) => d.dtype(),
            Operand::Stretched(d) => d.data.dtype(),
        }
    }

    /// The operand's values at the whole region of `shape` (a stretched one is copied out).
    pub(crate) fn into_full(self, shape: &[usize]) -> Result<NdData> {
        match self {
            Operand::Full(d) => Ok(d),
            Operand::Stretched(d) => Ok(crate::dispatch_dtype!(d.data.dtype(), T => {
                T::wrap(stretch(&d.view::<T>()?, shape)?.to_owned())
            })),
        }
    }
}

/// Values held in common (a stage result or an array in memory reaches every task without a
/// copy), seen through a box of their own and with a shape of their own: the box's shape with
/// unit axes inserted.
pub(crate) struct Shared {
    data: Arc<NdData>,
    /// Start and length of the box along each axis of `data` (`None`: all of it).
    part: Option<Vec<(usize, usize)>>,
    shape: Vec<usize>,
}

impl Shared {
    /// Values of one task, seen with their own shape.
    pub(crate) fn new(data: NdData) -> Shared {
        let shape = data.shape().to_vec();
        Shared {
            data: Arc::new(data),
            part: None,
            shape,
        }
    }

    /// The box `part` (start and length per axis) of shared values, seen with `shape`: the
    /// box's shape with unit axes inserted. `None` unless the box lies inside the data and
    /// `shape` is such a shape.
    pub(crate) fn part_of(
        data: Arc<NdData>,
        part: Vec<(usize, usize)>,
        shape: &[usize],
    ) -> Option<Shared> {
        let dims = data.shape();
        let inside = part.len() == dims.len()
            && part
                .iter()
                .zip(dims)
                .all(|(&(a, n), &d)| a.checked_add(n).is_some_and(|e| e <= d));
        let lens: Vec<usize> = part.iter().map(|&(_, n)| n).collect();
        (inside && unit_axes_inserted(&lens, shape).is_some()).then(|| Shared {
            data,
            part: Some(part),
            shape: shape.to_vec(),
        })
    }
    fn len(&self) -> usize {
        self.data.len()
    }

    /// True when these values are `data` itself (shared, not a copy).
    #[cfg(test)]
    pub(crate) fn holds(&self, data: &Arc<NdData>) -> bool {
        Arc::ptr_eq(&self.data, data)
    }

    /// The values stretched to `shape`, copied out.
    #[cfg(test)]
    pub(crate) fn to_full(&self, shape: &[usize]) -> NdData {
        crate::dispatch_dtype!(self.data.dtype(), T => {
            T::wrap(stretch(&self.view::<T>().unwrap(), shape).unwrap().to_owned())
        })
    }

    /// The values as type `T`, with this operand's shape.
    fn view<T: Element>(&self) -> Result<ndarray::ArrayViewD<'_, T>> {
        let a = typed::<T>(&self.data)?;
        let mut v = match &self.part {
            None => a.view(),
            Some(part) => {
                let sl: Vec<ndarray::SliceInfoElem> = part
                    .iter()
                    .map(|&(a, n)| ndarray::Slice::from(a..a + n).into())
                    .collect();
                a.slice(sl.as_slice())
            }
        };
        if v.shape() == self.shape.as_slice() {
            return Ok(v);
        }
        let at = unit_axes_inserted(v.shape(), &self.shape).ok_or_else(|| {
            Error::Internal(format!("operand {:?} seen as {:?}", v.shape(), self.shape))
        })?;
        for k in at {
            v = v.insert_axis(ndarray::Axis(k));
        }
        Ok(v)
    }
}

/// Where unit axes go to make `from` into `to` (positions in `to`, ascending), if inserting
/// unit axes does it.
fn unit_axes_inserted(from: &[usize], to: &[usize]) -> Option<Vec<usize>> {
    let mut at = Vec::new();
    let mut k = 0;
    for (j, &n) in to.iter().enumerate() {
        if k < from.len() && from[k] == n {
            k += 1;
        } else if n == 1 {
            at.push(j);
        } else {
            return None;
        }
    }
    (k == from.len()).then_some(at)
}

/// A typed operand.
enum Arg<T> {
    Full(ArrayD<T>),
    /// Holds data of type `T` (checked by [`Arg::of`]).
    Stretched(Shared, std::marker::PhantomData<T>),
}

/// The values of `d` as type `T`.
fn typed<T: Element>(d: &NdData) -> Result<&ArrayD<T>> {
    T::peek(d).ok_or_else(|| {
        Error::Internal(format!("kernel operand is {}, not {}", d.dtype(), T::DTYPE))
    })
}

impl<T: Element> Arg<T> {
    fn of(op: Operand) -> Result<Arg<T>> {
        Ok(match op {
            Operand::Full(d) => Arg::Full(T::unwrap(d)?),
            Operand::Stretched(d) => {
                typed::<T>(&d.data)?;
                Arg::Stretched(d, std::marker::PhantomData)
            }
        })
    }

    /// The single value of a stretched scalar.
    fn scalar(&self) -> Option<T> {
        match self {
            Arg::Stretched(d, _) if d.len() == 1 => {
                typed::<T>(&d.data).ok()?.iter().next().copied()
            }
            _ => None,
        }
    }

    fn full(self, shape: &[usize]) -> Result<ArrayD<T>> {
        match self {
            Arg::Full(a) => Ok(a),
            Arg::Stretched(d, _) => Ok(stretch(&d.view::<T>()?, shape)?.to_owned()),
        }
    }
}

fn stretch<'b, T>(
    a: &'b ndarray::ArrayViewD<'_, T>,
    shape: &[usize],
) -> Result<ndarray::ArrayViewD<'b, T>> {
    a.broadcast(IxDyn(shape))
        .ok_or_else(|| Error::Internal(format!("broadcast {:?} to {shape:?}", a.shape())))
}

/// `x[i] = f(x[i])` over a contiguous buffer, dispatched as [`with_scalar`].
#[cfg_attr(
    not(debug_assertions),
    multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))
)]
fn each<T: Copy, F: FnMut(T) -> T>(x: &mut [T], f: &mut F) {
    for p in x.iter_mut() {
        *p = f(*p);
    }
}

/// `a[i] = f(a[i])` in place: the dispatched loop where `a` is contiguous.
fn map_in_place<T: Copy>(a: &mut ArrayD<T>, mut f: impl FnMut(T) -> T) {
    match a.as_slice_mut() {
        Some(xs) => each(xs, &mut f),
        None => a.mapv_inplace(f),
    }
}

/// `x[i] = f(x[i], q)` over a contiguous buffer, compiled for the CPU's vector units and
/// picked at run time (AVX2+FMA, SSE4.1, NEON, else portable).
#[cfg_attr(
    not(debug_assertions),
    multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))
)]
fn with_scalar<T: Copy, F: FnMut(T, T) -> T>(x: &mut [T], q: T, f: &mut F) {
    for p in x.iter_mut() {
        *p = f(*p, q);
    }
}

/// `y[i] = f(p, y[i])` over a contiguous buffer (the scalar on the left), dispatched as
/// [`with_scalar`].
#[cfg_attr(
    not(debug_assertions),
    multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))
)]
fn scalar_with<T: Copy, F: FnMut(T, T) -> T>(p: T, y: &mut [T], f: &mut F) {
    for q in y.iter_mut() {
        *q = f(p, *q);
    }
}

/// `x[i] = f(x[i], y[i])` over two contiguous buffers of one length, dispatched as
/// [`with_scalar`].
#[cfg_attr(
    not(debug_assertions),
    multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))
)]
fn pairs<T: Copy, F: FnMut(T, T) -> T>(x: &mut [T], y: &[T], f: &mut F) {
    for (p, &q) in x.iter_mut().zip(y) {
        *p = f(*p, q);
    }
}

/// `y[i] = f(x[i], y[i])` over two contiguous buffers of one length (the buffer written is on
/// the right), dispatched as [`with_scalar`].
#[cfg_attr(
    not(debug_assertions),
    multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))
)]
fn pairs_into_right<T: Copy, F: FnMut(T, T) -> T>(x: &[T], y: &mut [T], f: &mut F) {
    for (&p, q) in x.iter().zip(y.iter_mut()) {
        *q = f(p, *q);
    }
}

/// How a stretched operand's contiguous buffer lines up with a contiguous region in C order.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Lineup {
    /// The operand's values repeat as one block over the region (only leading axes are
    /// stretched, as `x - mean(x, axis=0)`): the region is a sequence of blocks of this length.
    Tiles(usize),
    /// Each of the operand's values covers a run of this many consecutive elements (only
    /// trailing axes are stretched, as `x - mean(x, axis=-1, keepdims=True)`).
    Runs(usize),
}

/// The [`Lineup`] of an operand of shape `small` broadcast to `shape` (numpy's rules: missing
/// leading axes count as 1), if it is one of the two simple ones.
fn lineup(small: &[usize], shape: &[usize]) -> Option<Lineup> {
    if small.len() > shape.len() || shape.contains(&0) {
        return None;
    }
    let pad = shape.len() - small.len();
    let dim = |k: usize| if k < pad { 1 } else { small[k - pad] };
    let stretched: Vec<bool> = (0..shape.len()).map(|k| dim(k) != shape[k]).collect();
    if (0..shape.len()).any(|k| stretched[k] && dim(k) != 1) {
        return None;
    }
    let first_kept = stretched.iter().position(|&s| !s).unwrap_or(shape.len());
    if stretched[first_kept..].iter().all(|&s| !s) {
        return Some(Lineup::Tiles(shape[first_kept..].iter().product()));
    }
    let last_kept = stretched.iter().rposition(|&s| !s)?;
    if stretched[..=last_kept].iter().all(|&s| !s) {
        return Some(Lineup::Runs(shape[last_kept + 1..].iter().product()));
    }
    None
}

/// `x = f(x, y)` (or `f(y, x)` when `y_left`) where `x` is the contiguous region and `y` a
/// contiguous stretched operand lined up as `how` (checked by [`fits`]), dispatched as
/// [`with_scalar`].
fn with_stretched<T: Copy, F: FnMut(T, T) -> T>(
    x: &mut [T],
    y: &[T],
    how: Lineup,
    y_left: bool,
    f: &mut F,
) {
    match how {
        Lineup::Tiles(n) => {
            for xs in x.chunks_exact_mut(n.max(1)) {
                if y_left {
                    pairs_into_right(y, xs, f);
                } else {
                    pairs(xs, y, f);
                }
            }
        }
        Lineup::Runs(n) => {
            for (xs, &q) in x.chunks_exact_mut(n.max(1)).zip(y) {
                if y_left {
                    scalar_with(q, xs, f);
                } else {
                    with_scalar(xs, q, f);
                }
            }
        }
    }
}

/// The lineup of `y` against a region of `shape`, when both buffers are contiguous and it is
/// one of the simple ones (see [`with_stretched`]).
fn fits<T>(x_len: usize, y: &ndarray::ArrayViewD<'_, T>, shape: &[usize]) -> Option<Lineup> {
    y.as_slice()?;
    let how = lineup(y.shape(), shape)?;
    let ok = match how {
        Lineup::Tiles(n) => n == y.len() && n > 0 && x_len.is_multiple_of(n),
        Lineup::Runs(n) => n > 0 && x_len == n * y.len(),
    };
    ok.then_some(how)
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
        map_in_place(&mut x, |v| f(v, v));
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
                    Arg::Stretched(y, _) => {
                        let y = y.view::<T>()?;
                        let n = x.len();
                        match (fits(n, &y, shape), x.as_slice_mut(), y.as_slice()) {
                            (Some(how), Some(xs), Some(ys)) => {
                                with_stretched(xs, ys, how, false, &mut f)
                            }
                            _ => Zip::from(&mut x)
                                .and(stretch(&y, shape)?)
                                .for_each(|p, &q| *p = f(*p, q)),
                        }
                    }
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
            } else if let Arg::Stretched(x, _) = a {
                let x = x.view::<T>()?;
                let n = y.len();
                match (fits(n, &x, shape), y.as_slice_mut(), x.as_slice()) {
                    (Some(how), Some(ys), Some(xs)) => with_stretched(ys, xs, how, true, &mut f),
                    _ => Zip::from(&mut y)
                        .and(stretch(&x, shape)?)
                        .for_each(|q, &p| *q = f(p, *q)),
                }
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
    fn shaped<T: Element>(x: &Arg<T>) -> Result<ndarray::ArrayViewD<'_, T>> {
        match x {
            Arg::Full(a) => Ok(a.view()),
            Arg::Stretched(d, _) => d.view::<T>(),
        }
    }
    let av = shaped(&a)?;
    let x = stretch(&av, shape)?;
    Ok(match &b {
        None => x.map(|&p| f(p, p)),
        Some(b) => {
            let bv = shaped(b)?;
            let y = stretch(&bv, shape)?;
            match (a.scalar(), b.scalar()) {
                (None, Some(q)) => x.map(|&p| f(p, q)),
                (Some(p), None) => y.map(|&q| f(p, q)),
                _ => Zip::from(x).and(y).map_collect(|&p, &q| f(p, q)),
            }
        }
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
    let e = NdData::clone(&e.data).cast(DType::F64);
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
        if a.dtype() != b.dtype() {
            return Err(Error::Internal(format!(
                "binary {}: operands {} and {}",
                op.name(),
                a.dtype(),
                b.dtype(),
            )));
        }
    }
    let dtype = a.dtype();
    if op == BinaryOp::Pow && dtype.is_float() {
        if let Some(e) = fast_exponent(b.as_ref()) {
            let x = a.into_full(shape)?;
            return Ok(match e {
                2.0 => binary(BinaryOp::Mul, Operand::Full(x), None, shape)?,
                0.5 => unary(UnaryOp::Sqrt, x)?,
                -1.0 => crate::map_nd!(x, v: T => {
                    let mut v = v;
                    let one = T::from_f64(1.0);
                    map_in_place(&mut v, |q| <T as Arith>::div(one, q));
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, ArrayD, Dimension, IxDyn, ShapeBuilder};

    fn ramp(shape: &[usize], offset: f64) -> ArrayD<f64> {
        Array::from_shape_fn(IxDyn(shape), |i| {
            let flat = i.as_array_view().iter().fold(0usize, |acc, &k| acc * 7 + k);
            (flat as f64) * 0.25 + offset
        })
    }

    #[test]
    fn lineup_names_the_two_simple_broadcasts() {
        assert_eq!(lineup(&[1, 4, 5], &[3, 4, 5]), Some(Lineup::Tiles(20)));
        assert_eq!(lineup(&[4, 5], &[3, 4, 5]), Some(Lineup::Tiles(20)));
        assert_eq!(lineup(&[1, 1, 5], &[3, 4, 5]), Some(Lineup::Tiles(5)));
        assert_eq!(lineup(&[3, 4, 1], &[3, 4, 5]), Some(Lineup::Runs(5)));
        assert_eq!(lineup(&[3, 1, 1], &[3, 4, 5]), Some(Lineup::Runs(20)));
        assert_eq!(lineup(&[3, 1, 5], &[3, 4, 5]), None);
        assert_eq!(lineup(&[1, 4, 1], &[3, 4, 5]), None);
        assert_eq!(lineup(&[2, 4, 5], &[3, 4, 5]), None);
        assert_eq!(lineup(&[1, 4, 5], &[0, 4, 5]), None);
    }

    /// Every broadcast pattern, with the stretched operand on either side of a subtraction (not
    /// commutative), against ndarray's own broadcasting arithmetic.
    #[test]
    fn stretched_operands_match_ndarray_broadcasting() {
        let shape = [3usize, 4, 5];
        for small in [
            vec![1, 4, 5],
            vec![4, 5],
            vec![5],
            vec![1, 1, 5],
            vec![3, 4, 1],
            vec![3, 1, 1],
            vec![3, 1, 5],
            vec![1, 4, 1],
            vec![3, 4, 5],
        ] {
            let full = ramp(&shape, 1.0);
            let y = ramp(&small, -3.5);
            let want_right = &full - &y;
            let want_left = &y - &full;
            let got = binary(
                BinaryOp::Sub,
                Operand::Full(NdData::F64(full.clone())),
                Some(Operand::Stretched(Shared::new(NdData::F64(y.clone())))),
                &shape,
            )
            .unwrap();
            assert_eq!(f64::peek(&got).unwrap(), &want_right, "x - y{small:?}");
            let got = binary(
                BinaryOp::Sub,
                Operand::Stretched(Shared::new(NdData::F64(y.clone()))),
                Some(Operand::Full(NdData::F64(full.clone()))),
                &shape,
            )
            .unwrap();
            assert_eq!(f64::peek(&got).unwrap(), &want_left, "y{small:?} - x");
        }
    }

    /// A region that is not in C order (a transposed block) takes the general path and agrees.
    #[test]
    fn stretched_operand_of_a_transposed_region() {
        let shape = [5usize, 4];
        let full = ramp(&[4, 5], 2.0).reversed_axes();
        let y = ramp(&[1, 4], 0.5);
        let want = &full - &y;
        let got = binary(
            BinaryOp::Sub,
            Operand::Full(NdData::F64(full.clone())),
            Some(Operand::Stretched(Shared::new(NdData::F64(y)))),
            &shape,
        )
        .unwrap();
        assert_eq!(f64::peek(&got).unwrap(), &want);
    }

    #[test]
    fn casts_of_contiguous_and_strided_blocks_convert_each_value() {
        let a = Array::from_shape_fn(IxDyn(&[6, 7]), |i| i[0] as f64 * 10.5 - i[1] as f64 * 3.25);
        for view in [a.clone(), a.clone().reversed_axes().to_owned(), {
            let t = a.clone().reversed_axes();
            // A non-standard-layout array: the transposed view made owned keeps its strides.
            let mut v = ArrayD::<f64>::zeros(t.raw_dim().f());
            v.assign(&t);
            v
        }] {
            let got = NdData::F64(view.clone()).cast(DType::I16);
            let got = i16::peek(&got).unwrap();
            assert_eq!(got.shape(), view.shape());
            for (g, &w) in got.iter().zip(view.iter()) {
                assert_eq!(*g, w as i16);
            }
        }
    }
}
