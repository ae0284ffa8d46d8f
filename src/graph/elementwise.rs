//! Building elementwise nodes: arithmetic, comparisons, math functions, `where` and casts,
//! with numpy 2's broadcasting and type promotion.

use super::array::{DynArray, Operand};
use super::node::{Node, Op};
use super::ops::{BinaryOp, UnaryOp};
use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};

/// numpy's broadcast of two shapes.
pub(super) fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let x = if i < n - a.len() {
            1
        } else {
            a[i - (n - a.len())]
        };
        let y = if i < n - b.len() {
            1
        } else {
            b[i - (n - b.len())]
        };
        out[i] = match (x, y) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(Error::Shape(format!(
                    "operands could not be broadcast together with shapes {a:?} {b:?}"
                )))
            }
        };
    }
    Ok(out)
}

fn scalar_node(value: &Operand, dtype: DType) -> Result<DynArray> {
    let data = match *value {
        Operand::Int(v) => {
            if dtype.is_int() && !int_fits(v, dtype) {
                return Err(Error::DType(format!(
                    "integer scalar {v} out of bounds for {dtype}"
                )));
            }
            int_scalar(v, dtype)
        }
        Operand::Float(v) => NdData::from(ndarray::arr0(v).into_dyn()).cast(dtype),
        Operand::Bool(v) => NdData::from(ndarray::arr0(v).into_dyn()).cast(dtype),
        Operand::Array(ref a) => return a.cast(dtype),
    };
    Ok(DynArray::from_node(Node::try_new(
        Op::Const(data),
        vec![],
        dtype,
    )?))
}

/// An integer scalar as a 0-d block of `dtype` (it fits when `dtype` is an integer type).
fn int_scalar(v: i128, dtype: DType) -> NdData {
    if let Ok(v) = i64::try_from(v) {
        NdData::from(ndarray::arr0(v).into_dyn()).cast(dtype)
    } else if let Ok(v) = u64::try_from(v) {
        NdData::from(ndarray::arr0(v).into_dyn()).cast(dtype)
    } else {
        // Only a float or bool type takes a value beyond 64 bits (int_fits refused the rest).
        NdData::from(ndarray::arr0(v as f64).into_dyn()).cast(dtype)
    }
}

fn int_fits(v: i128, t: DType) -> bool {
    let (lo, hi): (i128, i128) = match t {
        DType::I8 => (i8::MIN as i128, i8::MAX as i128),
        DType::I16 => (i16::MIN as i128, i16::MAX as i128),
        DType::I32 => (i32::MIN as i128, i32::MAX as i128),
        DType::I64 => (i64::MIN as i128, i64::MAX as i128),
        DType::U8 => (0, u8::MAX as i128),
        DType::U16 => (0, u16::MAX as i128),
        DType::U32 => (0, u32::MAX as i128),
        DType::U64 => (0, u64::MAX as i128),
        _ => return true,
    };
    (lo..=hi).contains(&v)
}

/// The type of a scalar on its own (an operation of two scalars): Python's int, float, bool.
fn scalar_own_dtype(v: &Operand) -> DType {
    match v {
        Operand::Int(_) => DType::I64,
        Operand::Float(_) => DType::F64,
        Operand::Bool(_) => DType::Bool,
        Operand::Array(a) => a.dtype(),
    }
}

/// Resolves two operands into arrays of a common type and shape (numpy 2 rules: a scalar takes
/// the array's type unless a float meets an integer array).
fn promote_operands(a: &Operand, b: &Operand) -> Result<(DynArray, DynArray, DType)> {
    let common = match (a, b) {
        (Operand::Array(x), Operand::Array(y)) => DType::promote(x.dtype(), y.dtype()),
        (Operand::Array(x), s) | (s, Operand::Array(x)) => match s {
            Operand::Float(_) => x.dtype().promote_weak_scalar(true),
            Operand::Int(_) => x.dtype().promote_weak_scalar(false),
            _ => x.dtype(),
        },
        (x, y) => DType::promote(scalar_own_dtype(x), scalar_own_dtype(y)),
    };
    Ok((scalar_node(a, common)?, scalar_node(b, common)?, common))
}

impl DynArray {
    /// Converts to another element type (numpy's `astype`).
    pub fn cast(&self, dtype: DType) -> Result<DynArray> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        Ok(DynArray::from_node(Node::try_new(
            Op::Cast(self.node.clone()),
            self.shape().to_vec(),
            dtype,
        )?))
    }

    /// Applies an elementwise function.
    pub fn unary(&self, op: UnaryOp) -> Result<DynArray> {
        let out = op.result_dtype(self.dtype())?;
        let input = if out.is_float() && !self.dtype().is_float() {
            self.cast(out)?
        } else {
            self.clone()
        };
        Ok(DynArray::from_node(Node::try_new(
            Op::Unary(op, input.node),
            self.shape().to_vec(),
            out,
        )?))
    }

    /// Applies an elementwise function of two operands, broadcasting and promoting as numpy.
    pub fn binary(&self, op: BinaryOp, other: impl Into<Operand>) -> Result<DynArray> {
        binary(op, &Operand::from(self), &other.into())
    }

    /// `where(cond, a, b)`: elements of `a` where `cond` is true, else of `b` (broadcast and
    /// promoted together).
    pub fn where_(
        cond: &DynArray,
        a: impl Into<Operand>,
        b: impl Into<Operand>,
    ) -> Result<DynArray> {
        if cond.dtype() != DType::Bool {
            return Err(Error::DType(format!(
                "where: the condition must be bool, not {}",
                cond.dtype()
            )));
        }
        let (a, b, common) = promote_operands(&a.into(), &b.into())?;
        let shape = broadcast_shapes(&broadcast_shapes(cond.shape(), a.shape())?, b.shape())?;
        let (c, a, b) = (
            cond.broadcast_to(&shape)?,
            a.broadcast_to(&shape)?,
            b.broadcast_to(&shape)?,
        );
        Ok(DynArray::from_node(Node::try_new(
            Op::Where(c.node, a.node, b.node),
            shape,
            common,
        )?))
    }
}

/// Builds `a op b` for operands that may be scalars.
pub(super) fn binary(op: BinaryOp, a: &Operand, b: &Operand) -> Result<DynArray> {
    let (a, b, common) = promote_operands(a, b)?;
    let (compute, out) = op.dtypes(common)?;
    let shape = broadcast_shapes(a.shape(), b.shape())?;
    let a = a.cast(compute)?.broadcast_to(&shape)?;
    let b = b.cast(compute)?.broadcast_to(&shape)?;
    Ok(DynArray::from_node(Node::try_new(
        Op::Binary(op, a.node, b.node),
        shape,
        out,
    )?))
}

macro_rules! unary_methods {
    ($($name:ident => $op:ident, $doc:literal;)*) => {
        impl DynArray {
            $(
                #[doc = $doc]
                pub fn $name(&self) -> Result<DynArray> {
                    self.unary(UnaryOp::$op)
                }
            )*
        }
    };
}

unary_methods! {
    neg => Neg, "`-x`.";
    abs => Abs, "`|x|`.";
    sqrt => Sqrt, "Square root.";
    exp => Exp, "`e^x`.";
    log => Log, "Natural logarithm (numpy's `log`).";
    log10 => Log10, "Base-10 logarithm.";
    sin => Sin, "Sine.";
    cos => Cos, "Cosine.";
    tan => Tan, "Tangent.";
    floor => Floor, "Floor (integers unchanged).";
    ceil => Ceil, "Ceiling (integers unchanged).";
    invert => Not, "Logical not of booleans (numpy's `invert`, `~`).";
}

macro_rules! binary_methods {
    ($($name:ident => $op:ident, $doc:literal;)*) => {
        impl DynArray {
            $(
                #[doc = $doc]
                pub fn $name(&self, other: impl Into<Operand>) -> Result<DynArray> {
                    self.binary(BinaryOp::$op, other)
                }
            )*
        }
    };
}

binary_methods! {
    add => Add, "`self + other`.";
    sub => Sub, "`self - other`.";
    mul => Mul, "`self * other`.";
    div => Div, "`self / other` (true division).";
    floor_div => FloorDiv, "`self // other`.";
    rem => Rem, "`self % other` (sign of the divisor).";
    pow => Pow, "`self ** other`.";
    minimum => Minimum, "Elementwise minimum.";
    maximum => Maximum, "Elementwise maximum.";
    lt => Lt, "`self < other`.";
    le => Le, "`self <= other`.";
    gt => Gt, "`self > other`.";
    ge => Ge, "`self >= other`.";
    eq => Eq, "`self == other`.";
    ne => Ne, "`self != other`.";
    and => And, "`self & other`.";
    or => Or, "`self | other`.";
}
