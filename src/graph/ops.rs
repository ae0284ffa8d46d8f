//! The operations of elementwise and reduction nodes, and the element type each gives
//! (numpy 2's rules, checked against numpy 2.4).

use crate::dtype::DType;
use crate::error::{Error, Result};

/// Elementwise functions of one operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x` (wraps for unsigned integers, as numpy).
    Neg,
    /// `|x|`
    Abs,
    /// Square root.
    Sqrt,
    /// `e^x`
    Exp,
    /// Natural logarithm.
    Log,
    /// Base-10 logarithm.
    Log10,
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Tangent.
    Tan,
    /// Largest integer not above (integers unchanged).
    Floor,
    /// Smallest integer not below (integers unchanged).
    Ceil,
    /// Logical not (`~` on booleans; bitwise not on integers).
    Not,
}

impl UnaryOp {
    /// numpy's name.
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "negative",
            UnaryOp::Abs => "abs",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Exp => "exp",
            UnaryOp::Log => "log",
            UnaryOp::Log10 => "log10",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Tan => "tan",
            UnaryOp::Floor => "floor",
            UnaryOp::Ceil => "ceil",
            UnaryOp::Not => "invert",
        }
    }

    /// The result type for an operand of type `t`.
    pub fn result_dtype(self, t: DType) -> Result<DType> {
        match self {
            UnaryOp::Neg if t == DType::Bool => Err(Error::DType(
                "negative of a boolean array is not supported (use ~)".into(),
            )),
            UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Floor | UnaryOp::Ceil => Ok(t),
            UnaryOp::Not if t.is_float() => Err(Error::DType(format!("~ is not defined for {t}"))),
            UnaryOp::Not => Ok(t),
            _ => Ok(t.float_result()),
        }
    }
}

/// Elementwise functions of two operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b` (true division: integers give `float64`).
    Div,
    /// `a // b` (floor division).
    FloorDiv,
    /// `a % b` (sign of the divisor, as Python).
    Rem,
    /// `a ** b`
    Pow,
    /// Elementwise minimum (NaN propagates).
    Minimum,
    /// Elementwise maximum (NaN propagates).
    Maximum,
    /// `a < b`
    Lt,
    /// `a <= b`
    Le,
    /// `a > b`
    Gt,
    /// `a >= b`
    Ge,
    /// `a == b`
    Eq,
    /// `a != b`
    Ne,
    /// `a & b` (logical on booleans, bitwise on integers).
    And,
    /// `a | b` (logical on booleans, bitwise on integers).
    Or,
}

impl BinaryOp {
    /// The operator's symbol or numpy's name.
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::FloorDiv => "//",
            BinaryOp::Rem => "%",
            BinaryOp::Pow => "**",
            BinaryOp::Minimum => "minimum",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::And => "&",
            BinaryOp::Or => "|",
        }
    }

    /// True for the comparisons (which give `bool`).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::Eq | BinaryOp::Ne
        )
    }

    /// The type both operands are converted to before the operation (`common`: the promoted
    /// type of the operands), and the type of the result.
    pub fn dtypes(self, common: DType) -> Result<(DType, DType)> {
        use BinaryOp::*;
        match self {
            _ if self.is_comparison() => Ok((common, DType::Bool)),
            Div => {
                let t = if common.is_float() {
                    common
                } else {
                    DType::F64
                };
                Ok((t, t))
            }
            Sub if common == DType::Bool => Err(Error::DType(
                "subtracting booleans is not supported (use ^ or logical operators)".into(),
            )),
            FloorDiv | Rem | Pow if common == DType::Bool => Ok((DType::I8, DType::I8)),
            And | Or if common.is_float() => Err(Error::DType(format!(
                "{} is not defined for {common}",
                self.name()
            ))),
            _ => Ok((common, common)),
        }
    }
}

/// Reductions over one or more axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// Sum (integers in `int64`/`uint64`, floats accumulated in `f64`).
    Sum,
    /// Arithmetic mean.
    Mean,
    /// Variance with `ddof`.
    Var,
    /// Standard deviation with `ddof`.
    Std,
    /// Minimum (NaN propagates).
    Min,
    /// Maximum (NaN propagates).
    Max,
    /// Number of elements that are not NaN.
    Count,
    /// Sum skipping NaN.
    NanSum,
    /// Mean skipping NaN (with `mdtol`).
    NanMean,
    /// Variance skipping NaN.
    NanVar,
    /// Standard deviation skipping NaN.
    NanStd,
    /// Minimum skipping NaN.
    NanMin,
    /// Maximum skipping NaN.
    NanMax,
}

impl ReduceOp {
    /// numpy's name.
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Mean => "mean",
            ReduceOp::Var => "var",
            ReduceOp::Std => "std",
            ReduceOp::Min => "min",
            ReduceOp::Max => "max",
            ReduceOp::Count => "count",
            ReduceOp::NanSum => "nansum",
            ReduceOp::NanMean => "nanmean",
            ReduceOp::NanVar => "nanvar",
            ReduceOp::NanStd => "nanstd",
            ReduceOp::NanMin => "nanmin",
            ReduceOp::NanMax => "nanmax",
        }
    }

    /// Parses numpy's name.
    pub fn parse(name: &str) -> Option<ReduceOp> {
        use ReduceOp::*;
        [
            Sum, Mean, Var, Std, Min, Max, Count, NanSum, NanMean, NanVar, NanStd, NanMin, NanMax,
        ]
        .into_iter()
        .find(|op| op.name() == name)
    }

    /// True for the forms that skip NaN.
    pub fn skips_nan(self) -> bool {
        use ReduceOp::*;
        matches!(
            self,
            NanSum | NanMean | NanVar | NanStd | NanMin | NanMax | Count
        )
    }

    /// The result type for an input of type `t`.
    pub fn result_dtype(self, t: DType) -> DType {
        use ReduceOp::*;
        match self {
            Sum | NanSum => t.sum_result(),
            Mean | Var | Std | NanMean | NanVar | NanStd => t.mean_result(),
            Min | Max | NanMin | NanMax => t,
            Count => DType::I64,
        }
    }
}
