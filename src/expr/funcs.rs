//! The functions of the expression language: elementwise math, `minimum`/`maximum`, `where`,
//! `astype`, `transpose`, `concatenate`, `stack` and the reductions, with numpy's argument
//! names (`axis=`, `ddof=`, `keepdims=`) and positions.

use super::ast::{Expr, Keyword, Span};
use super::builder::{
    check_weak_int, closest, lib, operand, to_array, type_name, weak_scalar_array, Builder, Value,
};
use super::scalar::Scalar;
use super::ExprError;
use crate::{Axes, DType, DynArray, ReduceOp, ReduceOptions, UnaryOp};

/// Elementwise functions of one argument.
const UNARY: [(&str, UnaryOp); 14] = [
    ("sqrt", UnaryOp::Sqrt),
    ("exp", UnaryOp::Exp),
    ("log", UnaryOp::Log),
    ("log10", UnaryOp::Log10),
    ("abs", UnaryOp::Abs),
    ("absolute", UnaryOp::Abs),
    ("sin", UnaryOp::Sin),
    ("cos", UnaryOp::Cos),
    ("tan", UnaryOp::Tan),
    ("floor", UnaryOp::Floor),
    ("ceil", UnaryOp::Ceil),
    ("negative", UnaryOp::Neg),
    ("invert", UnaryOp::Not),
    ("logical_not", UnaryOp::Not),
];

/// The other functions.
const OTHERS: [&str; 8] = [
    "minimum",
    "maximum",
    "where",
    "astype",
    "transpose",
    "concatenate",
    "stack",
    "asarray",
];

/// Every reduction's name.
const REDUCTIONS: [&str; 13] = [
    "sum", "mean", "var", "std", "min", "max", "count", "nansum", "nanmean", "nanvar", "nanstd",
    "nanmin", "nanmax",
];

/// True for a function name.
pub(super) fn is_function(name: &str) -> bool {
    UNARY.iter().any(|(n, _)| *n == name) || OTHERS.contains(&name) || is_reduction(name)
}

/// True for a reduction's name (numpy's `amin`/`amax` included).
pub(super) fn is_reduction(name: &str) -> bool {
    REDUCTIONS.contains(&name) || name == "amin" || name == "amax"
}

/// Every function's name, for messages.
pub(super) fn all_names() -> Vec<&'static str> {
    let mut v: Vec<&str> = UNARY.iter().map(|(n, _)| *n).collect();
    v.extend(OTHERS);
    v.extend(REDUCTIONS);
    v
}

/// A function's parameters: names in order, how many are required, how many may be given by
/// position.
struct Params {
    names: &'static [&'static str],
    required: usize,
    positional: usize,
}

/// Matches the arguments of a call to parameters, as Python does.
fn bind<'e>(
    func: &str,
    p: &Params,
    args: &'e [Expr],
    kwargs: &'e [Keyword],
    span: Span,
) -> Result<Vec<Option<&'e Expr>>, ExprError> {
    let mut out: Vec<Option<&Expr>> = vec![None; p.names.len()];
    if args.len() > p.positional {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        return Err(ExprError::new(
            format!(
                "{func}() takes {} positional argument{} but {} {} given",
                p.positional,
                plural(p.positional),
                args.len(),
                if args.len() == 1 { "was" } else { "were" }
            ),
            args[p.positional].span,
        ));
    }
    for (i, a) in args.iter().enumerate() {
        out[i] = Some(a);
    }
    for k in kwargs {
        let Some(i) = p.names.iter().position(|n| *n == k.name) else {
            let mut msg = format!("{func}() got an unexpected keyword argument '{}'", k.name);
            if let Some(s) = closest(&k.name, p.names.iter().copied()) {
                msg.push_str(&format!("; did you mean '{s}'?"));
            }
            return Err(ExprError::new(msg, k.name_span));
        };
        if out[i].is_some() {
            return Err(ExprError::new(
                format!("{func}() got multiple values for argument '{}'", k.name),
                k.name_span,
            ));
        }
        out[i] = Some(&k.value);
    }
    if let Some(i) = (0..p.required).find(|&i| out[i].is_none()) {
        return Err(ExprError::new(
            format!("{func}() is missing the argument '{}'", p.names[i]),
            span,
        ));
    }
    Ok(out)
}

/// Calls the function `func`.
pub(super) fn call(
    b: &Builder,
    func: &str,
    func_span: Span,
    args: &[Expr],
    kwargs: &[Keyword],
    span: Span,
) -> Result<Value, ExprError> {
    if let Some((_, op)) = UNARY.iter().find(|(n, _)| *n == func) {
        let p = Params {
            names: &["x"],
            required: 1,
            positional: 1,
        };
        let a = bind(func, &p, args, kwargs, span)?;
        let x = array_arg(b, a[0])?;
        return lib(x.unary(*op), span).map(Value::Array);
    }
    if is_reduction(func) {
        return reduction(b, func, args, kwargs, span);
    }
    match func {
        "minimum" | "maximum" => {
            let p = Params {
                names: &["x1", "x2"],
                required: 2,
                positional: 2,
            };
            let a = bind(func, &p, args, kwargs, span)?;
            let (e1, e2) = (a[0].unwrap_or(&args[0]), a[1].unwrap_or(&args[0]));
            let (v1, v2) = (b.eval(e1)?, b.eval(e2)?);
            let op = if func == "minimum" {
                crate::BinaryOp::Minimum
            } else {
                crate::BinaryOp::Maximum
            };
            minmax(op, v1, v2, e1.span, e2.span, span)
        }
        "where" => {
            let p = Params {
                names: &["condition", "x", "y"],
                required: 3,
                positional: 3,
            };
            let a = bind(func, &p, args, kwargs, span)?;
            let (ec, ex, ey) = (req(a[0])?, req(a[1])?, req(a[2])?);
            let c = array_arg(b, Some(ec))?;
            let c = if c.dtype() == DType::Bool {
                c
            } else {
                lib(c.ne(0i64), ec.span)?
            };
            let x = operand(b.eval(ex)?, ex.span)?;
            let y = operand(b.eval(ey)?, ey.span)?;
            lib(DynArray::where_(&c, x, y), span).map(Value::Array)
        }
        "astype" | "asarray" => {
            let p = Params {
                names: &["x", "dtype"],
                required: if func == "astype" { 2 } else { 1 },
                positional: 2,
            };
            let a = bind(func, &p, args, kwargs, span)?;
            let x = array_arg(b, a[0])?;
            match a[1] {
                None => Ok(Value::Array(x)),
                Some(e) => {
                    let t = dtype_arg(b, e)?;
                    lib(x.cast(t), span).map(Value::Array)
                }
            }
        }
        "transpose" => transpose(b, args, kwargs, span),
        "concatenate" | "stack" => {
            let p = Params {
                names: &["arrays", "axis"],
                required: 1,
                positional: 2,
            };
            let a = bind(func, &p, args, kwargs, span)?;
            let seq_e = req(a[0])?;
            let Value::Seq { items, .. } = b.eval(seq_e)? else {
                return Err(ExprError::new(
                    format!("{func}() takes a list of arrays, as in {func}([a, b], axis=0)"),
                    seq_e.span,
                ));
            };
            if items.is_empty() {
                return Err(ExprError::new("need at least one array", seq_e.span));
            }
            let arrays = items
                .into_iter()
                .map(|(v, s)| {
                    let a = to_array(v, s)?;
                    if func == "concatenate" && a.ndim() == 0 {
                        return Err(ExprError::new(
                            "zero-dimensional arrays cannot be concatenated",
                            s,
                        ));
                    }
                    Ok(a)
                })
                .collect::<Result<Vec<_>, ExprError>>()?;
            let ndim = arrays[0].ndim() + usize::from(func == "stack");
            let axis = match a[1] {
                None => 0,
                Some(e) => match b.eval(e)? {
                    Value::Scalar(Scalar::Int(v)) => normalize_axis(v, ndim, e.span)?,
                    Value::NoneV => {
                        return Err(ExprError::new(
                            "axis=None (flattening) is not supported",
                            e.span,
                        ))
                    }
                    v => {
                        return Err(ExprError::new(
                            format!("axis must be an integer, not {}", v.kind()),
                            e.span,
                        ))
                    }
                },
            };
            let r = if func == "concatenate" {
                DynArray::concatenate(&arrays, axis)
            } else {
                DynArray::stack(&arrays, axis)
            };
            lib(r, span).map(Value::Array)
        }
        _ if b.has_input(func) => Err(ExprError::new(
            format!("only functions can be called, and '{func}' is an input (an array)"),
            func_span,
        )),
        _ => {
            let mut msg = format!("unknown function '{func}'");
            if let Some(s) = closest(func, all_names().into_iter()) {
                msg.push_str(&format!("; did you mean '{s}'?"));
            } else {
                msg.push_str(&format!(" (functions: {})", all_names().join(", ")));
            }
            Err(ExprError::new(msg, func_span))
        }
    }
}

fn req(e: Option<&Expr>) -> Result<&Expr, ExprError> {
    e.ok_or_else(|| ExprError::new("missing argument", Span::default()))
}

/// An argument that must be an array or a number (numbers become 0-d arrays, as numpy's
/// functions make them).
fn array_arg(b: &Builder, e: Option<&Expr>) -> Result<DynArray, ExprError> {
    let e = req(e)?;
    to_array(b.eval(e)?, e.span)
}

fn dtype_arg(b: &Builder, e: &Expr) -> Result<DType, ExprError> {
    match b.eval(e)? {
        Value::DType(t) => Ok(t),
        Value::Str(s) => type_name(&s).ok_or_else(|| {
            ExprError::new(
                format!("unknown type {s:?} (types: bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64)"),
                e.span,
            )
        }),
        v => Err(ExprError::new(
            format!("expected a type name such as \"float32\", found {}", v.kind()),
            e.span,
        )),
    }
}

/// `minimum`/`maximum` with numpy's promotion of scalars.
fn minmax(
    op: crate::BinaryOp,
    a: Value,
    b: Value,
    sa: Span,
    sb: Span,
    span: Span,
) -> Result<Value, ExprError> {
    match (a, b) {
        (Value::Array(x), y) => {
            if let Value::Scalar(s) = &y {
                check_weak_int(*s, x.dtype(), sb)?;
            }
            let y = operand(y, sb)?;
            lib(x.binary(op, y), span).map(Value::Array)
        }
        (Value::Scalar(x), Value::Array(y)) => {
            let xa = weak_scalar_array(x, y.dtype(), sa)?;
            lib(xa.binary(op, y), span).map(Value::Array)
        }
        (x, y) => {
            // Two scalars: numpy makes arrays of their own types.
            let (x, y) = (to_array(x, sa)?, to_array(y, sb)?);
            lib(x.binary(op, y), span).map(Value::Array)
        }
    }
}

/// An axis number in `-ndim..ndim`, made non-negative.
fn normalize_axis(v: i64, ndim: usize, span: Span) -> Result<usize, ExprError> {
    let n = ndim as i64;
    if v < -n || v >= n {
        return Err(ExprError::new(
            format!("axis {v} is out of bounds for array of dimension {ndim}"),
            span,
        ));
    }
    Ok(if v < 0 { (v + n) as usize } else { v as usize })
}

fn transpose(
    b: &Builder,
    args: &[Expr],
    kwargs: &[Keyword],
    span: Span,
) -> Result<Value, ExprError> {
    // `a.transpose(1, 0)` (method spelling) passes the axes one by one.
    let (a_expr, axes_exprs): (Option<&Expr>, Vec<&Expr>) = if args.len() > 2 {
        (args.first(), args[1..].iter().collect())
    } else {
        let p = Params {
            names: &["a", "axes"],
            required: 1,
            positional: 2,
        };
        let bound = bind("transpose", &p, args, kwargs, span)?;
        (bound[0], bound[1].into_iter().collect())
    };
    let a = array_arg(b, a_expr)?;
    if axes_exprs.is_empty() {
        return Ok(Value::Array(a.t()));
    }
    let mut perm = Vec::new();
    let mut push = |v: &Value, s: Span| -> Result<(), ExprError> {
        match v {
            Value::Scalar(Scalar::Int(i)) => {
                perm.push(normalize_axis(*i, a.ndim(), s)?);
                Ok(())
            }
            other => Err(ExprError::new(
                format!("an axis is an integer, not {}", other.kind()),
                s,
            )),
        }
    };
    let whole = axes_exprs[0].span.to(axes_exprs[axes_exprs.len() - 1].span);
    if axes_exprs.len() == 1 {
        match b.eval(axes_exprs[0])? {
            Value::NoneV => return Ok(Value::Array(a.t())),
            Value::Seq { items, .. } => {
                for (v, s) in &items {
                    push(v, *s)?;
                }
            }
            v => push(&v, axes_exprs[0].span)?,
        }
    } else {
        for e in &axes_exprs {
            push(&b.eval(e)?, e.span)?;
        }
    }
    if perm.len() != a.ndim() {
        return Err(ExprError::new(
            format!(
                "axes don't match array: {} axes given for an array of {} dimensions",
                perm.len(),
                a.ndim()
            ),
            whole,
        ));
    }
    lib(a.permute(&perm), whole).map(Value::Array)
}

fn reduction(
    b: &Builder,
    func: &str,
    args: &[Expr],
    kwargs: &[Keyword],
    span: Span,
) -> Result<Value, ExprError> {
    let name = match func {
        "amin" => "min",
        "amax" => "max",
        n => n,
    };
    let op = ReduceOp::parse(name)
        .ok_or_else(|| ExprError::new(format!("unknown reduction '{func}'"), span))?;
    let with_ddof = matches!(
        op,
        ReduceOp::Var | ReduceOp::Std | ReduceOp::NanVar | ReduceOp::NanStd
    );
    let p = if with_ddof {
        Params {
            names: &["a", "axis", "ddof", "keepdims"],
            required: 1,
            positional: 2,
        }
    } else {
        Params {
            names: &["a", "axis", "keepdims"],
            required: 1,
            positional: 2,
        }
    };
    let bound = bind(func, &p, args, kwargs, span)?;
    let a = array_arg(b, bound[0])?;
    let axis_e = bound[1];
    let axes = match axis_e {
        None => Axes::All,
        Some(e) => match b.eval(e)? {
            Value::NoneV => Axes::All,
            Value::Scalar(Scalar::Int(v)) => Axes::List(vec![v as isize]),
            Value::Seq { items, .. } => Axes::List(
                items
                    .iter()
                    .map(|(v, s)| match v {
                        Value::Scalar(Scalar::Int(i)) => Ok(*i as isize),
                        other => Err(ExprError::new(
                            format!("an axis is an integer, not {}", other.kind()),
                            *s,
                        )),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            v => {
                return Err(ExprError::new(
                    format!(
                        "axis must be None, an integer or a tuple of integers, not {}",
                        v.kind()
                    ),
                    e.span,
                ))
            }
        },
    };
    let mut opts = ReduceOptions::default();
    let kd_index = if with_ddof { 3 } else { 2 };
    if with_ddof {
        if let Some(e) = bound[2] {
            opts.ddof = match b.eval(e)? {
                Value::Scalar(Scalar::Int(v)) => v as f64,
                Value::Scalar(Scalar::Float(v)) => v,
                v => {
                    return Err(ExprError::new(
                        format!("ddof must be a number, not {}", v.kind()),
                        e.span,
                    ))
                }
            };
            if opts.ddof < 0.0 || !opts.ddof.is_finite() {
                return Err(ExprError::new("ddof must be a non-negative number", e.span));
            }
        }
    }
    if let Some(e) = bound[kd_index] {
        opts.keepdims = match b.eval(e)? {
            Value::Scalar(Scalar::Bool(v)) => v,
            Value::Scalar(Scalar::Int(v @ (0 | 1))) => v == 1,
            v => {
                return Err(ExprError::new(
                    format!("keepdims must be True or False, not {}", v.kind()),
                    e.span,
                ))
            }
        };
    }
    let axis_span = axis_e.map(|e| e.span).unwrap_or(span);
    if let Err(e) = axes.resolve(a.ndim()) {
        return Err(ExprError::new(e.to_string(), axis_span));
    }
    lib(a.reduce(op, axes, opts), span).map(Value::Array)
}
