//! From syntax tree to lazy array: names, literals, operators and indexing. Functions are in
//! [`super::funcs`].
//!
//! Python literals stay *weak* scalars (numpy 2, NEP 50): `a_f32 * 2.5` is `float32`, and
//! arithmetic of two literals is folded with Python's rules ([`super::scalar`]). A literal on
//! the left of an array (`1 - a`) becomes a 0-d array of the type the weak scalar takes.

use super::ast::{BinOp, Expr, ExprKind, IndexItem, Span, UnOp};
use super::funcs;
use super::scalar::{self, Scalar};
use super::ExprError;
use crate::{BinaryOp, DType, DynArray, NdData, Operand, SliceArg};
use std::collections::{BTreeMap, HashMap};

/// The value of a sub-expression while building.
#[derive(Clone, Debug)]
pub enum Value {
    /// A lazy array.
    Array(DynArray),
    /// A Python scalar.
    Scalar(Scalar),
    /// A string (type names).
    Str(String),
    /// A tuple (`list: false`) or list, with the span of each item.
    Seq {
        /// The items and their spans.
        items: Vec<(Value, Span)>,
        /// True for `[...]`.
        list: bool,
    },
    /// `None`
    NoneV,
    /// A type name written bare (`float32`).
    DType(DType),
}

impl Value {
    /// The kind of value in words, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Array(_) => "an array",
            Value::Scalar(Scalar::Int(_)) => "an integer",
            Value::Scalar(Scalar::Float(_)) => "a float",
            Value::Scalar(Scalar::Bool(_)) => "a boolean",
            Value::Str(_) => "a string",
            Value::Seq { list: true, .. } => "a list",
            Value::Seq { list: false, .. } => "a tuple",
            Value::NoneV => "None",
            Value::DType(_) => "a type",
        }
    }
}

/// Builds lazy arrays from syntax trees over named inputs.
pub struct Builder<'a> {
    inputs: &'a BTreeMap<String, DynArray>,
    computed: HashMap<usize, DynArray>,
    /// Said after "unknown name 'x' (no inputs were given" (`{name}`: the unknown name).
    no_inputs_hint: Option<String>,
}

/// Stack left below which [`Builder::eval`] continues on a new stack segment.
const STACK_RED_ZONE: usize = 256 << 10;
/// Size of each new stack segment.
const STACK_GROWTH: usize = 4 << 20;

/// Turns a library error into an error about `span`.
pub(super) fn lib<T>(r: crate::Result<T>, span: Span) -> Result<T, ExprError> {
    r.map_err(|e| ExprError::new(e.to_string(), span))
}

impl<'a> Builder<'a> {
    /// A builder over `inputs` (name to array).
    pub fn new(inputs: &'a BTreeMap<String, DynArray>) -> Self {
        Builder {
            inputs,
            computed: HashMap::new(),
            no_inputs_hint: None,
        }
    }

    /// Adds `hint` to the message about an unknown name when no inputs were given, `{name}`
    /// replaced by the name (the command says how to give one: `use --input {name}=SOURCE`).
    pub fn no_inputs_hint(mut self, hint: impl Into<String>) -> Self {
        self.no_inputs_hint = Some(hint.into());
        self
    }

    /// Uses `value` for the node numbered `id` from now on (a computed stage).
    pub fn set_computed(&mut self, id: usize, value: DynArray) {
        self.computed.insert(id, value);
    }

    /// True when `name` is an input.
    pub fn has_input(&self, name: &str) -> bool {
        self.inputs.contains_key(name)
    }

    /// True when the node numbered `id` has a computed value.
    pub fn is_computed(&self, id: usize) -> bool {
        self.computed.contains_key(&id)
    }

    /// Builds the array of an expression (a scalar result becomes a 0-d array).
    pub fn build(&self, e: &Expr) -> Result<DynArray, ExprError> {
        let v = self.eval(e)?;
        to_array(v, e.span)
    }

    /// The value of a node. Recursive over the tree, so the stack grows as needed: a chain of
    /// thousands of terms is a tree thousands of levels deep.
    pub fn eval(&self, e: &Expr) -> Result<Value, ExprError> {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || self.eval_node(e))
    }

    fn eval_node(&self, e: &Expr) -> Result<Value, ExprError> {
        if let Some(a) = self.computed.get(&e.id) {
            return Ok(Value::Array(a.clone()));
        }
        match &e.kind {
            ExprKind::Int(v) => Ok(Value::Scalar(Scalar::Int(*v))),
            ExprKind::BigInt(_) => Err(beyond_i64(e)),
            ExprKind::Float(v) => Ok(Value::Scalar(Scalar::Float(*v))),
            ExprKind::Str(s) => Ok(Value::Str(s.clone())),
            ExprKind::Name(n) => self.name(n, e.span),
            // `-9223372036854775808` is a literal beyond i64 negated into it.
            ExprKind::Unary(UnOp::Neg, x) if matches!(x.kind, ExprKind::BigInt(_)) => {
                match int_literal(e).and_then(|(v, _)| i64::try_from(v).ok()) {
                    Some(v) => Ok(Value::Scalar(Scalar::Int(v))),
                    None => Err(beyond_i64(e)),
                }
            }
            ExprKind::Unary(op, x) => {
                let v = self.eval(x)?;
                unary(*op, v, x.span, e.span)
            }
            ExprKind::Binary(op, a, b) => {
                let (va, vb) = (self.eval(a)?, self.eval(b)?);
                binary(*op, va, vb, a.span, b.span, e.span)
            }
            ExprKind::Call {
                func,
                func_span,
                args,
                kwargs,
            } => funcs::call(self, func, *func_span, args, kwargs, e.span),
            ExprKind::Index { target, items } => {
                let t = self.eval(target)?;
                let Value::Array(a) = t else {
                    return Err(ExprError::new(
                        format!("only arrays can be indexed, this is {}", t.kind()),
                        target.span,
                    ));
                };
                self.index(&a, items, e.span).map(Value::Array)
            }
            ExprKind::Tuple(xs) | ExprKind::List(xs) => Ok(Value::Seq {
                items: xs
                    .iter()
                    .map(|x| Ok((self.eval(x)?, x.span)))
                    .collect::<Result<_, ExprError>>()?,
                list: matches!(e.kind, ExprKind::List(_)),
            }),
        }
    }

    fn name(&self, n: &str, span: Span) -> Result<Value, ExprError> {
        if let Some(a) = self.inputs.get(n) {
            return Ok(Value::Array(a.clone()));
        }
        let v = match n {
            "True" => Value::Scalar(Scalar::Bool(true)),
            "False" => Value::Scalar(Scalar::Bool(false)),
            "None" | "newaxis" => Value::NoneV,
            "nan" | "NaN" | "NAN" => Value::Scalar(Scalar::Float(f64::NAN)),
            "inf" | "Inf" | "infty" => Value::Scalar(Scalar::Float(f64::INFINITY)),
            "pi" => Value::Scalar(Scalar::Float(std::f64::consts::PI)),
            "e" => Value::Scalar(Scalar::Float(std::f64::consts::E)),
            _ => {
                if let Some(t) = type_name(n) {
                    return Ok(Value::DType(t));
                }
                if funcs::is_function(n) {
                    return Err(ExprError::new(
                        format!("'{n}' is a function: call it, as in {n}(x)"),
                        span,
                    ));
                }
                let names: Vec<&str> = self.inputs.keys().map(String::as_str).collect();
                let mut msg = if names.is_empty() {
                    match &self.no_inputs_hint {
                        Some(h) => format!(
                            "unknown name '{n}' (no inputs were given: {})",
                            h.replace("{name}", n)
                        ),
                        None => format!("unknown name '{n}' (no inputs were given)"),
                    }
                } else {
                    format!("unknown name '{n}' (inputs: {})", names.join(", "))
                };
                if let Some(s) = closest(n, names.iter().copied()) {
                    msg.push_str(&format!("; did you mean '{s}'?"));
                }
                return Err(ExprError::new(msg, span));
            }
        };
        Ok(v)
    }

    /// numpy indexing of `a` by `items` (`span`: the whole indexing, for errors).
    pub fn index(
        &self,
        a: &DynArray,
        items: &[IndexItem],
        span: Span,
    ) -> Result<DynArray, ExprError> {
        let mut args = Vec::with_capacity(items.len());
        let mut spans = Vec::with_capacity(items.len());
        for item in items {
            args.push(self.index_arg(item)?);
            spans.push(item.span());
        }
        check_index(a.shape(), &args, &spans)?;
        let out = lib(a.select(&args), span)?;
        // numpy puts the axis of a list index first when integer indices are separated from it
        // by a slice (advanced indices that are not adjacent).
        match advanced_axis_moves_first(&args, a.ndim()) {
            Some(p) if p > 0 => {
                let mut perm: Vec<usize> = vec![p];
                perm.extend((0..out.ndim()).filter(|&d| d != p));
                lib(out.permute(&perm), span)
            }
            _ => Ok(out),
        }
    }

    /// One index item as a [`SliceArg`] (integers, slices, `...`, `None`, lists, masks).
    pub fn index_arg(&self, item: &IndexItem) -> Result<SliceArg, ExprError> {
        match item {
            IndexItem::Ellipsis(_) => Ok(SliceArg::Ellipsis),
            IndexItem::Slice {
                start, stop, step, ..
            } => {
                let opt = |e: &Option<Expr>, what: &str| -> Result<Option<isize>, ExprError> {
                    match e {
                        None => Ok(None),
                        // Integers of any size, clipped to isize as numpy's PySlice_Unpack does
                        // (a stop of 10**30 is the end of the axis).
                        Some(e) if int_literal(e).is_some() => {
                            let (v, _) = int_literal(e).unwrap_or_default();
                            Ok(Some(
                                v.clamp(isize::MIN as i128, isize::MAX as i128) as isize
                            ))
                        }
                        Some(e) => match self.eval(e)? {
                            Value::NoneV => Ok(None),
                            Value::Scalar(Scalar::Int(v)) => Ok(Some(v as isize)),
                            v => Err(ExprError::new(
                                format!(
                                    "slice {what} must be an integer or None, not {}",
                                    v.kind()
                                ),
                                e.span,
                            )),
                        },
                    }
                };
                let st = opt(step, "step")?.unwrap_or(1);
                if st == 0 {
                    let s = step.as_ref().map(|e| e.span).unwrap_or_else(|| item.span());
                    return Err(ExprError::new("slice step cannot be zero", s));
                }
                Ok(SliceArg::Slice {
                    start: opt(start, "start")?,
                    stop: opt(stop, "stop")?,
                    step: st,
                })
            }
            IndexItem::Expr(e) => {
                // An index (or a list element) beyond isize is refused by numpy too.
                let elems: Vec<&Expr> = match &e.kind {
                    ExprKind::List(xs) => xs.iter().collect(),
                    _ => vec![e],
                };
                for x in elems {
                    if let Some((v, shown)) = int_literal(x) {
                        if isize::try_from(v).is_err() {
                            return Err(ExprError::new(
                                format!("index {shown} does not fit in a 64-bit integer (numpy refuses it too)"),
                                x.span,
                            ));
                        }
                    }
                }
                if matches!(&e.kind, ExprKind::Name(n) if n == "Ellipsis" && !self.has_input(n)) {
                    return Ok(SliceArg::Ellipsis);
                }
                self.index_value(e)
            }
        }
    }

    /// An index item that is an expression: an integer, `None` or a list.
    fn index_value(&self, e: &Expr) -> Result<SliceArg, ExprError> {
        match self.eval(e)? {
                Value::Scalar(Scalar::Int(v)) => Ok(SliceArg::Index(v as isize)),
                Value::NoneV => Ok(SliceArg::NewAxis),
                Value::Seq { items, list: true } => {
                    if !items.is_empty() && items.iter().all(|(v, _)| matches!(v, Value::Scalar(Scalar::Bool(_)))) {
                        return Ok(SliceArg::Mask(
                            items
                                .iter()
                                .map(|(v, _)| matches!(v, Value::Scalar(Scalar::Bool(true))))
                                .collect(),
                        ));
                    }
                    items
                        .iter()
                        .map(|(v, s)| match v {
                            Value::Scalar(Scalar::Int(i)) => Ok(*i as isize),
                            other => Err(ExprError::new(
                                format!(
                                    "an index list holds integers (or only booleans, a mask), not {}",
                                    other.kind()
                                ),
                                *s,
                            )),
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map(SliceArg::List)
                }
                Value::Array(_) => Err(ExprError::new(
                    "indexing with an array is not supported (positions must be known before anything is read): use where(cond, a, b), a slice or an integer list",
                    e.span,
                )),
                Value::Scalar(Scalar::Bool(_)) => Err(ExprError::new(
                    "a boolean scalar index is not supported",
                    e.span,
                )),
                v => Err(ExprError::new(
                    format!(
                        "an index is an integer, a slice, ..., None or a list of integers, not {}",
                        v.kind()
                    ),
                    e.span,
                )),
        }
    }
}

/// The error about an integer literal beyond `i64` used as a number.
fn beyond_i64(e: &Expr) -> ExprError {
    let shown = int_literal(e).map(|(_, s)| s).unwrap_or_default();
    ExprError::new(format!("integer {shown} does not fit in 64 bits"), e.span)
}

/// An integer literal with at most one sign (`7`, `-3`, `+(12)`, digits beyond `i64`): its
/// value (saturated at the `i128` range: only whether it fits `isize` matters) and its
/// spelling for messages. `None` for anything else.
pub(super) fn int_literal(e: &Expr) -> Option<(i128, String)> {
    let (neg, x) = match &e.kind {
        ExprKind::Unary(UnOp::Neg, x) => (true, &**x),
        ExprKind::Unary(UnOp::Pos, x) => (false, &**x),
        _ => (false, e),
    };
    let (v, digits) = match &x.kind {
        ExprKind::Int(v) => (*v as i128, v.to_string()),
        ExprKind::BigInt(d) => (
            d.bytes().fold(0i128, |acc, b| {
                acc.saturating_mul(10).saturating_add((b - b'0') as i128)
            }),
            d.clone(),
        ),
        _ => return None,
    };
    Some(if neg {
        (-v, format!("-{digits}"))
    } else {
        (v, digits)
    })
}

/// Checks indices against the shape, so an error points at the item at fault.
fn check_index(shape: &[usize], args: &[SliceArg], spans: &[Span]) -> Result<(), ExprError> {
    let consumes = |a: &SliceArg| !matches!(a, SliceArg::NewAxis | SliceArg::Ellipsis);
    let ndim = shape.len();
    let total = args.iter().filter(|a| consumes(a)).count();
    let mut ellipsis = None;
    let mut lists = None;
    for (i, a) in args.iter().enumerate() {
        if matches!(a, SliceArg::Ellipsis) {
            if ellipsis.is_some() {
                return Err(ExprError::new(
                    "an index can only have a single ellipsis ('...')",
                    spans[i],
                ));
            }
            ellipsis = Some(i);
        }
        if matches!(a, SliceArg::List(_) | SliceArg::Mask(_)) {
            if let Some(first) = lists {
                return Err(ExprError::new(
                    "only one list (or mask) per indexing: numpy would pair the lists up, vastarray indexes each axis on its own; index twice instead, as in a[[0, 2]][:, [1, 3]]",
                    spans[i],
                )
                .with_note_at("first list here", spans[first]));
            }
            lists = Some(i);
        }
    }
    let mut axis = 0usize;
    let mut seen = 0usize;
    for (i, a) in args.iter().enumerate() {
        if matches!(a, SliceArg::Ellipsis) {
            axis = ndim.saturating_sub(total - seen);
            continue;
        }
        if !consumes(a) {
            continue;
        }
        seen += 1;
        if axis >= ndim {
            return Err(ExprError::new(
                format!(
                    "too many indices: the array has {ndim} dimension{}",
                    if ndim == 1 { "" } else { "s" }
                ),
                spans[i],
            ));
        }
        let n = shape[axis];
        let bad = |v: isize| v >= n as isize || v < -(n as isize);
        match a {
            SliceArg::Index(v) if bad(*v) => {
                return Err(ExprError::new(
                    format!("index {v} is out of bounds for axis {axis} with size {n}"),
                    spans[i],
                ))
            }
            SliceArg::List(l) => {
                if let Some(v) = l.iter().find(|v| bad(**v)) {
                    return Err(ExprError::new(
                        format!("index {v} is out of bounds for axis {axis} with size {n}"),
                        spans[i],
                    ));
                }
            }
            SliceArg::Mask(m) if m.len() != n => {
                return Err(ExprError::new(
                    format!(
                        "boolean index of length {} does not match axis {axis} of length {n}",
                        m.len()
                    ),
                    spans[i],
                ))
            }
            _ => {}
        }
        axis += 1;
    }
    Ok(())
}

/// When the integer indices and the list of an indexing are not adjacent, numpy moves the
/// list's axis to the front of the result: the output axis where orthogonal indexing leaves it.
fn advanced_axis_moves_first(args: &[SliceArg], ndim: usize) -> Option<usize> {
    let list = args
        .iter()
        .position(|a| matches!(a, SliceArg::List(_) | SliceArg::Mask(_)))?;
    let advanced: Vec<usize> = args
        .iter()
        .enumerate()
        .filter(|(_, a)| {
            matches!(
                a,
                SliceArg::List(_) | SliceArg::Mask(_) | SliceArg::Index(_)
            )
        })
        .map(|(i, _)| i)
        .collect();
    let (lo, hi) = (advanced[0], advanced[advanced.len() - 1]);
    if hi - lo + 1 == advanced.len() {
        return None;
    }
    let consumed = args
        .iter()
        .filter(|a| !matches!(a, SliceArg::NewAxis | SliceArg::Ellipsis))
        .count();
    let out_axes_before: usize = args[..list]
        .iter()
        .map(|a| match a {
            SliceArg::Index(_) => 0,
            SliceArg::Ellipsis => ndim.saturating_sub(consumed),
            _ => 1,
        })
        .sum();
    Some(out_axes_before)
}

/// A type name written bare or quoted: numpy's names and codes, and `int`, `float`, `bool`.
pub(super) fn type_name(n: &str) -> Option<DType> {
    match n {
        "int" => Some(DType::I64),
        "float" | "double" => Some(DType::F64),
        "single" => Some(DType::F32),
        _ => DType::parse(n).ok(),
    }
}

/// A scalar or array value as an array (scalars become 0-d arrays of their own type: `int64`,
/// `float64`, `bool`).
pub(super) fn to_array(v: Value, span: Span) -> Result<DynArray, ExprError> {
    match v {
        Value::Array(a) => Ok(a),
        Value::Scalar(Scalar::Int(i)) => Ok(DynArray::scalar(i)),
        Value::Scalar(Scalar::Float(f)) => Ok(DynArray::scalar(f)),
        Value::Scalar(Scalar::Bool(b)) => Ok(DynArray::scalar(b)),
        other => Err(ExprError::new(
            format!("expected an array or a number, found {}", other.kind()),
            span,
        )),
    }
}

/// An operand of arithmetic.
pub(super) fn operand(v: Value, span: Span) -> Result<Operand, ExprError> {
    match v {
        Value::Array(a) => Ok(Operand::Array(a)),
        Value::Scalar(Scalar::Int(i)) => Ok(Operand::Int(i.into())),
        Value::Scalar(Scalar::Float(f)) => Ok(Operand::Float(f)),
        Value::Scalar(Scalar::Bool(b)) => Ok(Operand::Bool(b)),
        other => Err(ExprError::new(
            format!("expected an array or a number, found {}", other.kind()),
            span,
        )),
    }
}

/// Checks that a Python integer fits the integer type it takes next to an array of type `t`
/// (numpy 2 refuses `uint8_array + 300`).
pub(super) fn check_weak_int(s: Scalar, t: DType, span: Span) -> Result<(), ExprError> {
    if let Scalar::Int(v) = s {
        let d = t.promote_weak_scalar(false);
        if d.is_int() && !int_fits(v, d) {
            return Err(ExprError::new(
                format!("Python integer {v} out of bounds for {d}"),
                span,
            ));
        }
    }
    Ok(())
}

/// A weak Python scalar as a 0-d array of the type it takes next to an array of type `t`.
pub(super) fn weak_scalar_array(s: Scalar, t: DType, span: Span) -> Result<DynArray, ExprError> {
    let (data, dtype) = match s {
        Scalar::Int(v) => {
            let d = t.promote_weak_scalar(false);
            if d.is_int() && !int_fits(v, d) {
                return Err(ExprError::new(
                    format!("Python integer {v} out of bounds for {d}"),
                    span,
                ));
            }
            (NdData::from(ndarray::arr0(v).into_dyn()), d)
        }
        Scalar::Float(v) => (
            NdData::from(ndarray::arr0(v).into_dyn()),
            t.promote_weak_scalar(true),
        ),
        Scalar::Bool(v) => (NdData::from(ndarray::arr0(v).into_dyn()), t),
    };
    let data = data.cast(dtype);
    Ok(crate::dispatch_dtype!(dtype, T => {
        let v: T = T::peek(&data).and_then(|a| a.iter().next().copied()).unwrap_or_default();
        DynArray::scalar(v)
    }))
}

fn int_fits(v: i64, t: DType) -> bool {
    let (lo, hi): (i128, i128) = match t {
        DType::I8 => (i8::MIN.into(), i8::MAX.into()),
        DType::I16 => (i16::MIN.into(), i16::MAX.into()),
        DType::I32 => (i32::MIN.into(), i32::MAX.into()),
        DType::U8 => (0, u8::MAX.into()),
        DType::U16 => (0, u16::MAX.into()),
        DType::U32 => (0, u32::MAX.into()),
        DType::U64 => (0, u64::MAX.into()),
        _ => (i64::MIN.into(), i64::MAX.into()),
    };
    (lo..=hi).contains(&i128::from(v))
}

/// The library's operator for a binary operator.
pub(super) fn binary_op(op: BinOp) -> BinaryOp {
    match op {
        BinOp::Add => BinaryOp::Add,
        BinOp::Sub => BinaryOp::Sub,
        BinOp::Mul => BinaryOp::Mul,
        BinOp::Div => BinaryOp::Div,
        BinOp::FloorDiv => BinaryOp::FloorDiv,
        BinOp::Mod => BinaryOp::Rem,
        BinOp::Pow => BinaryOp::Pow,
        BinOp::And => BinaryOp::And,
        BinOp::Or => BinaryOp::Or,
        BinOp::Lt => BinaryOp::Lt,
        BinOp::Le => BinaryOp::Le,
        BinOp::Gt => BinaryOp::Gt,
        BinOp::Ge => BinaryOp::Ge,
        BinOp::Eq => BinaryOp::Eq,
        BinOp::Ne => BinaryOp::Ne,
    }
}

/// `op x`.
pub(super) fn unary(op: UnOp, x: Value, xs: Span, span: Span) -> Result<Value, ExprError> {
    match x {
        Value::Scalar(s) => scalar::unary(op, s)
            .map(Value::Scalar)
            .map_err(|m| ExprError::new(m, span)),
        Value::Array(a) => lib(
            match op {
                UnOp::Neg => a.neg(),
                UnOp::Pos => Ok(a),
                UnOp::Invert => a.invert(),
            },
            span,
        )
        .map(Value::Array),
        other => Err(ExprError::new(
            format!("bad operand for unary operator: {}", other.kind()),
            xs,
        )),
    }
}

/// `a op b` with numpy's broadcasting and promotion (two scalars: Python's arithmetic).
pub(super) fn binary(
    op: BinOp,
    a: Value,
    b: Value,
    sa: Span,
    sb: Span,
    span: Span,
) -> Result<Value, ExprError> {
    match (a, b) {
        (Value::Scalar(x), Value::Scalar(y)) => scalar::binary(op, x, y)
            .map(Value::Scalar)
            .map_err(|m| ExprError::new(m, span)),
        (Value::Array(x), y) => {
            if let Value::Scalar(s) = &y {
                check_weak_int(*s, x.dtype(), sb)?;
            }
            let y = operand(y, sb)?;
            lib(x.binary(binary_op(op), y), span).map(Value::Array)
        }
        (Value::Scalar(x), Value::Array(y)) => {
            let xa = weak_scalar_array(x, y.dtype(), sa)?;
            lib(xa.binary(binary_op(op), y), span).map(Value::Array)
        }
        (Value::Scalar(_), other) => Err(ExprError::new(
            format!("unsupported operand for {}: {}", op.symbol(), other.kind()),
            sb,
        )),
        (other, _) => Err(ExprError::new(
            format!("unsupported operand for {}: {}", op.symbol(), other.kind()),
            sa,
        )),
    }
}

/// The closest of `candidates` to `name` (edit distance at most 2), for "did you mean".
pub(super) fn closest<'c>(
    name: &str,
    candidates: impl Iterator<Item = &'c str>,
) -> Option<&'c str> {
    candidates
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= 2 && *d < c.len().max(name.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
