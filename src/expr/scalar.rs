//! Arithmetic of two Python scalars (`2 * 3`, `1 / 4`, `2 ** -1`), folded while building, so
//! the result stays a *weak* Python scalar for numpy 2's promotion rules (NEP 50).

use super::ast::{BinOp, UnOp};

/// A Python scalar: `int`, `float` or `bool`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// `int` (64 bits here; overflow is an error).
    Int(i64),
    /// `float`
    Float(f64),
    /// `bool`
    Bool(bool),
}

impl Scalar {
    fn as_f64(self) -> f64 {
        match self {
            Scalar::Int(v) => v as f64,
            Scalar::Float(v) => v,
            Scalar::Bool(b) => b as u8 as f64,
        }
    }

    /// `bool` counts as `int` in arithmetic, as in Python.
    fn as_int(self) -> Option<i64> {
        match self {
            Scalar::Int(v) => Some(v),
            Scalar::Bool(b) => Some(b as i64),
            Scalar::Float(_) => None,
        }
    }
}

/// `op x` on a Python scalar.
pub(super) fn unary(op: UnOp, x: Scalar) -> Result<Scalar, String> {
    Ok(match (op, x) {
        (UnOp::Pos, Scalar::Bool(b)) => Scalar::Int(b as i64),
        (UnOp::Pos, x) => x,
        (UnOp::Neg, Scalar::Float(v)) => Scalar::Float(-v),
        (UnOp::Neg, x) => Scalar::Int(
            x.as_int()
                .and_then(i64::checked_neg)
                .ok_or("integer overflow")?,
        ),
        (UnOp::Invert, Scalar::Float(_)) => return Err("~ is not defined for a float".into()),
        (UnOp::Invert, x) => Scalar::Int(!x.as_int().unwrap_or(0)),
    })
}

/// `a op b` on Python scalars, with Python's results (`/` gives a float, `//` and `%` floor,
/// `**` with a negative integer exponent gives a float). Division by zero is an error, as in
/// Python.
pub(super) fn binary(op: BinOp, a: Scalar, b: Scalar) -> Result<Scalar, String> {
    use BinOp::*;
    if op.is_comparison() {
        let (x, y) = (a.as_f64(), b.as_f64());
        let r = match (a.as_int(), b.as_int()) {
            (Some(i), Some(j)) => match op {
                Lt => i < j,
                Le => i <= j,
                Gt => i > j,
                Ge => i >= j,
                Eq => i == j,
                _ => i != j,
            },
            _ => match op {
                Lt => x < y,
                Le => x <= y,
                Gt => x > y,
                Ge => x >= y,
                Eq => x == y,
                _ => x != y,
            },
        };
        return Ok(Scalar::Bool(r));
    }
    if let (And | Or, Scalar::Bool(x), Scalar::Bool(y)) = (op, a, b) {
        return Ok(Scalar::Bool(if op == And { x && y } else { x || y }));
    }
    if let (Some(i), Some(j)) = (a.as_int(), b.as_int()) {
        let overflow =
            || "integer overflow (Python integers beyond 64 bits are not supported)".to_string();
        return Ok(match op {
            Add => Scalar::Int(i.checked_add(j).ok_or_else(overflow)?),
            Sub => Scalar::Int(i.checked_sub(j).ok_or_else(overflow)?),
            Mul => Scalar::Int(i.checked_mul(j).ok_or_else(overflow)?),
            Div => {
                if j == 0 {
                    return Err("division by zero".into());
                }
                Scalar::Float(i as f64 / j as f64)
            }
            FloorDiv | Mod => {
                if j == 0 {
                    return Err("integer division or modulo by zero".into());
                }
                let q = i.checked_div(j).ok_or_else(overflow)?;
                let r = i - q * j;
                let (q, r) = if r != 0 && ((r < 0) != (j < 0)) {
                    (q - 1, r + j)
                } else {
                    (q, r)
                };
                Scalar::Int(if op == FloorDiv { q } else { r })
            }
            Pow => {
                if j < 0 {
                    if i == 0 {
                        return Err("0 cannot be raised to a negative power".into());
                    }
                    Scalar::Float((i as f64).powf(j as f64))
                } else {
                    let e = u32::try_from(j).map_err(|_| overflow())?;
                    Scalar::Int(i.checked_pow(e).ok_or_else(overflow)?)
                }
            }
            And => Scalar::Int(i & j),
            Or => Scalar::Int(i | j),
            _ => unreachable_op(op)?,
        });
    }
    let (x, y) = (a.as_f64(), b.as_f64());
    Ok(Scalar::Float(match op {
        Add => x + y,
        Sub => x - y,
        Mul => x * y,
        Div => {
            if y == 0.0 {
                return Err("float division by zero".into());
            }
            x / y
        }
        FloorDiv | Mod => {
            if y == 0.0 {
                return Err("float floor division or modulo by zero".into());
            }
            let mut r = x % y;
            if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
                r += y;
            }
            if op == Mod {
                r
            } else {
                ((x - r) / y).round()
            }
        }
        Pow => {
            if x < 0.0 && y.fract() != 0.0 {
                return Err("a negative number to a fractional power is complex".into());
            }
            if x == 0.0 && y < 0.0 {
                return Err("0.0 cannot be raised to a negative power".into());
            }
            x.powf(y)
        }
        And | Or => return Err(format!("{} is not defined for floats", op.symbol())),
        _ => return unreachable_op(op),
    }))
}

fn unreachable_op(op: BinOp) -> Result<Scalar, String> {
    Err(format!("operator {} is not defined here", op.symbol()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Scalar::*;

    #[test]
    fn follows_python() {
        assert_eq!(binary(BinOp::FloorDiv, Int(-7), Int(2)), Ok(Int(-4)));
        assert_eq!(binary(BinOp::Mod, Int(-7), Int(2)), Ok(Int(1)));
        assert_eq!(binary(BinOp::Mod, Int(7), Int(-3)), Ok(Int(-2)));
        assert_eq!(binary(BinOp::Div, Int(1), Int(4)), Ok(Float(0.25)));
        assert_eq!(binary(BinOp::Pow, Int(2), Int(-1)), Ok(Float(0.5)));
        assert_eq!(binary(BinOp::Pow, Int(2), Int(10)), Ok(Int(1024)));
        assert_eq!(binary(BinOp::Mod, Float(-7.5), Int(2)), Ok(Float(0.5)));
        assert_eq!(
            binary(BinOp::FloorDiv, Float(-7.5), Int(2)),
            Ok(Float(-4.0))
        );
        assert_eq!(binary(BinOp::Add, Bool(true), Int(1)), Ok(Int(2)));
        assert_eq!(binary(BinOp::And, Bool(true), Bool(false)), Ok(Bool(false)));
        assert_eq!(binary(BinOp::Lt, Int(1), Float(1.5)), Ok(Bool(true)));
        assert!(binary(BinOp::Div, Int(1), Int(0)).is_err());
        assert!(binary(BinOp::Mul, Int(i64::MAX), Int(2)).is_err());
        assert_eq!(unary(UnOp::Invert, Int(5)), Ok(Int(-6)));
    }
}
