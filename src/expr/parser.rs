//! A hand-written Pratt parser with Python's precedence, from lowest to highest:
//! comparisons (not chained), `|`, `&`, `+ -`, `* / // %`, unary `- + ~`, `**` (right
//! associative; binds tighter than a unary operator on its left), then indexing, calls and
//! attributes (`a[...]`, `f(...)`, `a.f(...)`, `a.T`, `np.f`).
//!
//! Nesting (parentheses, brackets, calls, unary operators, `**` chains) is limited to
//! [`MAX_NESTING`] levels, so absurd input is an error with a position, never a stack
//! overflow. Chains at one level (`a + b + c + ...`, `a.T.T`, `a[0][1]`) are parsed in a loop
//! and may be as long as the text.

use super::ast::{BinOp, Expr, ExprKind, IndexItem, Keyword, Span, UnOp};
use super::lexer::{tokenize, Tok, Token};
use super::ExprError;

/// Parses a whole expression.
pub fn parse_expression(text: &str) -> Result<Expr, ExprError> {
    let mut p = Parser::new(text)?;
    if p.peek() == &Tok::End {
        return Err(ExprError::new(
            "the expression is empty",
            Span::new(0, text.len()),
        ));
    }
    let e = p.expr(0)?;
    p.expect_end()?;
    Ok(e)
}

/// Parses the inside of an indexing, as `--select` takes it: `"10:20, ::-1, None"`.
pub fn parse_selection(text: &str) -> Result<Vec<IndexItem>, ExprError> {
    let mut p = Parser::new(text)?;
    if p.peek() == &Tok::End {
        return Ok(vec![]);
    }
    let items = p.index_items(&Tok::End)?;
    p.expect_end()?;
    Ok(items)
}

/// Binding powers (left, right) of the infix operators.
fn infix(tok: &Tok) -> Option<(BinOp, u8, u8)> {
    let op = match tok {
        Tok::Punct(p) => match *p {
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "==" => BinOp::Eq,
            "!=" => BinOp::Ne,
            "|" => BinOp::Or,
            "&" => BinOp::And,
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "//" => BinOp::FloorDiv,
            "%" => BinOp::Mod,
            "**" => BinOp::Pow,
            _ => return None,
        },
        _ => return None,
    };
    let (l, r) = match op {
        _ if op.is_comparison() => (2, 3),
        BinOp::Or => (4, 5),
        BinOp::And => (6, 7),
        BinOp::Add | BinOp::Sub => (8, 9),
        BinOp::Mul | BinOp::Div | BinOp::FloorDiv | BinOp::Mod => (10, 11),
        // Right associative, and its right side may start with a unary operator.
        BinOp::Pow => (14, 13),
        _ => return None,
    };
    Some((op, l, r))
}

/// The deepest nesting the parser accepts: parentheses, brackets, calls, unary operators and
/// `**` chains inside one another. Beyond it the expression is refused with an error pointing
/// at the token that went one level too deep.
pub const MAX_NESTING: usize = 256;

/// The binding power of a unary operator's operand.
const UNARY_BP: u8 = 12;
/// The binding power of postfix indexing, calls and attributes.
const POSTFIX_BP: u8 = 16;

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    next_id: usize,
    /// Calls of [`Parser::expr`] in progress (the nesting level).
    depth: usize,
}

impl Parser {
    fn new(text: &str) -> Result<Parser, ExprError> {
        Ok(Parser {
            toks: tokenize(text)?,
            pos: 0,
            next_id: 0,
            depth: 0,
        })
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn peek_at(&self, k: usize) -> &Tok {
        &self.toks[(self.pos + k).min(self.toks.len() - 1)].tok
    }

    fn span(&self) -> Span {
        self.toks[self.pos].span
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    fn eat(&mut self, p: &str) -> Option<Span> {
        if self.is(p) {
            Some(self.bump().span)
        } else {
            None
        }
    }

    fn expect(&mut self, p: &str, context: &str) -> Result<Span, ExprError> {
        self.eat(p).ok_or_else(|| {
            ExprError::new(
                format!("expected '{p}' {context}, found {}", describe(self.peek())),
                self.span(),
            )
        })
    }

    fn expect_end(&mut self) -> Result<(), ExprError> {
        if self.peek() == &Tok::End {
            return Ok(());
        }
        let what = match self.peek() {
            Tok::Punct(p @ (")" | "]")) => format!("unmatched '{p}'"),
            t => format!("unexpected {} after a complete expression", describe(t)),
        };
        Err(ExprError::new(what, self.span()))
    }

    fn node(&mut self, kind: ExprKind, span: Span) -> Expr {
        self.next_id += 1;
        Expr {
            kind,
            span,
            id: self.next_id,
        }
    }

    /// An expression whose operators bind at least as tightly as `min_bp`, one nesting level
    /// deeper than the caller's (refused beyond [`MAX_NESTING`]).
    fn expr(&mut self, min_bp: u8) -> Result<Expr, ExprError> {
        if self.depth >= MAX_NESTING {
            return Err(ExprError::new(
                format!(
                    "the expression nests more than {MAX_NESTING} levels deep (parentheses, brackets, calls, unary operators or ** nested inside one another)"
                ),
                self.span(),
            ));
        }
        self.depth += 1;
        let result = self.expr_at_level(min_bp);
        self.depth -= 1;
        result
    }

    fn expr_at_level(&mut self, min_bp: u8) -> Result<Expr, ExprError> {
        let mut lhs = self.prefix()?;
        loop {
            lhs = match self.peek() {
                Tok::Punct("[" | "(" | ".") => self.postfix(lhs)?,
                t => {
                    let Some((op, l, r)) = infix(t) else { break };
                    if l < min_bp {
                        break;
                    }
                    let op_span = self.bump().span;
                    if matches!(self.peek(), Tok::End) {
                        return Err(ExprError::new(
                            format!("'{}' needs a right operand", op.symbol()),
                            op_span,
                        ));
                    }
                    let rhs = self.expr(r)?;
                    if op.is_comparison() {
                        if let Some((next, _, _)) =
                            infix(self.peek()).filter(|(o, _, _)| o.is_comparison())
                        {
                            return Err(ExprError::new(
                                format!(
                                    "chained comparisons (x {} y {} z) are not supported on arrays; note that & and | bind tighter than comparisons, as in Python: write (a > 0) & (b < 1), not a > 0 & b < 1",
                                    op.symbol(), next.symbol()
                                ),
                                self.span(),
                            ));
                        }
                    }
                    let span = lhs.span.to(rhs.span);
                    self.node(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span)
                }
            };
        }
        Ok(lhs)
    }

    fn prefix(&mut self) -> Result<Expr, ExprError> {
        let t = self.bump();
        match t.tok {
            Tok::Int(v) => Ok(self.node(ExprKind::Int(v), t.span)),
            Tok::BigInt(d) => Ok(self.node(ExprKind::BigInt(d), t.span)),
            Tok::Float(v) => Ok(self.node(ExprKind::Float(v), t.span)),
            Tok::Str(s) => Ok(self.node(ExprKind::Str(s), t.span)),
            Tok::Ident(name) => {
                // `np.sqrt`, `numpy.sqrt`: the namespace is dropped.
                if (name == "np" || name == "numpy") && self.is(".") {
                    self.bump();
                    let t2 = self.bump();
                    return match t2.tok {
                        Tok::Ident(n) => Ok(self.node(ExprKind::Name(n), t.span.to(t2.span))),
                        other => Err(ExprError::new(
                            format!(
                                "expected a name after '{name}.', found {}",
                                describe(&other)
                            ),
                            t2.span,
                        )),
                    };
                }
                Ok(self.node(ExprKind::Name(name), t.span))
            }
            Tok::Punct(p @ ("-" | "+" | "~")) => {
                let op = match p {
                    "-" => UnOp::Neg,
                    "+" => UnOp::Pos,
                    _ => UnOp::Invert,
                };
                if matches!(self.peek(), Tok::End) {
                    return Err(ExprError::new(format!("'{p}' needs an operand"), t.span));
                }
                let x = self.expr(UNARY_BP)?;
                let span = t.span.to(x.span);
                Ok(self.node(ExprKind::Unary(op, Box::new(x)), span))
            }
            Tok::Punct("(") => {
                if let Some(close) = self.eat(")") {
                    return Ok(self.node(ExprKind::Tuple(vec![]), t.span.to(close)));
                }
                let first = self.expr(0)?;
                if self.eat(",").is_none() {
                    self.expect(")", "to close '('")
                        .map_err(|e| e.with_note_at("'(' opened here", t.span))?;
                    // Parentheses only group: the node keeps its own span.
                    return Ok(first);
                }
                let mut items = vec![first];
                while !self.is(")") {
                    items.push(self.expr(0)?);
                    if self.eat(",").is_none() {
                        break;
                    }
                }
                let close = self
                    .expect(")", "to close the tuple")
                    .map_err(|e| e.with_note_at("'(' opened here", t.span))?;
                Ok(self.node(ExprKind::Tuple(items), t.span.to(close)))
            }
            Tok::Punct("[") => {
                let mut items = vec![];
                while !self.is("]") {
                    items.push(self.expr(0)?);
                    if self.eat(",").is_none() {
                        break;
                    }
                }
                let close = self
                    .expect("]", "to close the list")
                    .map_err(|e| e.with_note_at("'[' opened here", t.span))?;
                Ok(self.node(ExprKind::List(items), t.span.to(close)))
            }
            Tok::Punct("...") => Err(ExprError::new("'...' is only allowed inside [ ]", t.span)),
            Tok::End => Err(ExprError::new("unexpected end of the expression", t.span)),
            other => Err(ExprError::new(
                format!("unexpected {}", describe(&other)),
                t.span,
            )),
        }
    }

    fn postfix(&mut self, lhs: Expr) -> Result<Expr, ExprError> {
        let _ = POSTFIX_BP;
        let open = self.bump();
        match open.tok {
            Tok::Punct("[") => {
                if self.is("]") {
                    return Err(ExprError::new("empty index [ ]", open.span.to(self.span())));
                }
                let items = self.index_items(&Tok::Punct("]"))?;
                let close = self
                    .expect("]", "to close the index")
                    .map_err(|e| e.with_note_at("'[' opened here", open.span))?;
                let span = lhs.span.to(close);
                Ok(self.node(
                    ExprKind::Index {
                        target: Box::new(lhs),
                        items,
                    },
                    span,
                ))
            }
            Tok::Punct("(") => {
                let ExprKind::Name(func) = &lhs.kind else {
                    return Err(ExprError::new(
                        "only functions can be called (write f(x), x.sum(), np.sqrt(x))",
                        lhs.span,
                    ));
                };
                let func = func.clone();
                let (args, kwargs, close) = self.call_args(open.span)?;
                let span = lhs.span.to(close);
                Ok(self.node(
                    ExprKind::Call {
                        func,
                        func_span: lhs.span,
                        args,
                        kwargs,
                    },
                    span,
                ))
            }
            Tok::Punct(".") => {
                let name = self.bump();
                let Tok::Ident(attr) = name.tok else {
                    return Err(ExprError::new(
                        format!("expected a name after '.', found {}", describe(&name.tok)),
                        name.span,
                    ));
                };
                if attr == "T" {
                    let span = lhs.span.to(name.span);
                    return Ok(self.node(
                        ExprKind::Call {
                            func: "transpose".into(),
                            func_span: name.span,
                            args: vec![lhs],
                            kwargs: vec![],
                        },
                        span,
                    ));
                }
                let open = self.expect("(", &format!("to call the method '{attr}'"))?;
                let (mut args, kwargs, close) = self.call_args(open)?;
                args.insert(0, lhs);
                let span = args[0].span.to(close);
                Ok(self.node(
                    ExprKind::Call {
                        func: attr,
                        func_span: name.span,
                        args,
                        kwargs,
                    },
                    span,
                ))
            }
            _ => Err(ExprError::new("unexpected token", open.span)),
        }
    }

    /// Arguments after `(` up to and including `)`.
    fn call_args(&mut self, open: Span) -> Result<(Vec<Expr>, Vec<Keyword>, Span), ExprError> {
        let mut args = vec![];
        let mut kwargs: Vec<Keyword> = vec![];
        while !self.is(")") {
            if let (Tok::Ident(name), Tok::Punct("=")) = (self.peek().clone(), self.peek_at(1)) {
                let name_span = self.bump().span;
                self.bump();
                if kwargs.iter().any(|k| k.name == name) {
                    return Err(ExprError::new(
                        format!("keyword argument '{name}' repeated"),
                        name_span,
                    ));
                }
                let value = self.expr(0)?;
                kwargs.push(Keyword {
                    name,
                    name_span,
                    value,
                });
            } else {
                let e = self.expr(0)?;
                if let Some(k) = kwargs.first() {
                    return Err(ExprError::new(
                        "positional argument after a keyword argument",
                        e.span,
                    )
                    .with_note_at("keyword argument here", k.name_span));
                }
                args.push(e);
            }
            if self.eat(",").is_none() {
                break;
            }
        }
        let close = self
            .expect(")", "to close the call")
            .map_err(|e| e.with_note_at("'(' opened here", open))?;
        Ok((args, kwargs, close))
    }

    /// Comma-separated index items up to (not including) `end`.
    fn index_items(&mut self, end: &Tok) -> Result<Vec<IndexItem>, ExprError> {
        let mut items = vec![];
        loop {
            if self.peek() == end {
                break;
            }
            items.push(self.index_item()?);
            if self.eat(",").is_none() {
                break;
            }
        }
        Ok(items)
    }

    fn index_item(&mut self) -> Result<IndexItem, ExprError> {
        if let Some(s) = self.eat("...") {
            return Ok(IndexItem::Ellipsis(s));
        }
        let begin = self.span();
        let stops = |p: &Parser| p.is(":") || p.is(",") || p.is("]") || p.peek() == &Tok::End;
        let start = if stops(self) {
            None
        } else {
            Some(self.expr(0)?)
        };
        if !self.is(":") {
            return match start {
                Some(e) => Ok(IndexItem::Expr(e)),
                None => Err(ExprError::new(
                    format!("expected an index, found {}", describe(self.peek())),
                    self.span(),
                )),
            };
        }
        let mut end = self.bump().span;
        let stop = if stops(self) {
            None
        } else {
            Some(self.expr(0)?)
        };
        if let Some(s) = &stop {
            end = s.span;
        }
        let mut step = None;
        if let Some(c) = self.eat(":") {
            end = c;
            if !stops(self) {
                let s = self.expr(0)?;
                end = s.span;
                step = Some(s);
            }
        }
        if self.is(":") {
            return Err(ExprError::new("a slice has at most two ':'", self.span()));
        }
        Ok(IndexItem::Slice {
            start,
            stop,
            step,
            span: begin.to(end),
        })
    }
}

/// A token in words, for messages.
fn describe(t: &Tok) -> String {
    match t {
        Tok::Int(v) => format!("the number {v}"),
        Tok::BigInt(d) => format!("the number {d}"),
        Tok::Float(v) => format!("the number {v}"),
        Tok::Ident(n) => format!("the name '{n}'"),
        Tok::Str(s) => format!("the string {s:?}"),
        Tok::Punct(p) => format!("'{p}'"),
        Tok::End => "the end of the expression".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree in prefix notation, for checking precedence.
    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Int(v) => v.to_string(),
            ExprKind::BigInt(d) => d.clone(),
            ExprKind::Float(v) => format!("{v:?}"),
            ExprKind::Str(s) => format!("{s:?}"),
            ExprKind::Name(n) => n.clone(),
            ExprKind::Unary(op, x) => format!("({op:?} {})", show(x)),
            ExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), show(a), show(b)),
            ExprKind::Call {
                func, args, kwargs, ..
            } => {
                let mut parts: Vec<String> = args.iter().map(show).collect();
                parts.extend(
                    kwargs
                        .iter()
                        .map(|k| format!("{}={}", k.name, show(&k.value))),
                );
                format!("{func}({})", parts.join(", "))
            }
            ExprKind::Index { target, items } => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| match i {
                        IndexItem::Expr(e) => show(e),
                        IndexItem::Ellipsis(_) => "...".into(),
                        IndexItem::Slice {
                            start, stop, step, ..
                        } => {
                            let o = |x: &Option<Expr>| x.as_ref().map(show).unwrap_or_default();
                            format!("{}:{}:{}", o(start), o(stop), o(step))
                        }
                    })
                    .collect();
                format!("{}[{}]", show(target), parts.join(", "))
            }
            ExprKind::Tuple(xs) => format!(
                "tuple({})",
                xs.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
            ExprKind::List(xs) => format!(
                "list({})",
                xs.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    fn p(s: &str) -> String {
        show(&parse_expression(s).unwrap())
    }

    #[test]
    fn python_precedence() {
        assert_eq!(p("a + b * c"), "(+ a (* b c))");
        assert_eq!(p("-a ** 2"), "(Neg (** a 2))");
        assert_eq!(p("a ** -b"), "(** a (Neg b))");
        assert_eq!(p("a ** b ** c"), "(** a (** b c))");
        assert_eq!(p("-a * b"), "(* (Neg a) b)");
        assert_eq!(p("a - b - c"), "(- (- a b) c)");
        // As in Python, & binds tighter than >: this is a chained comparison, refused.
        let e = parse_expression("a > 0 & b < 1").unwrap_err();
        assert!(e.message.contains("(a > 0) & (b < 1)"), "{}", e.message);
        assert_eq!(
            p("(a > 0) & (b < 1) | ~c"),
            "(| (& (> a 0) (< b 1)) (Invert c))"
        );
        assert_eq!(p("a // 2 % 3 / 4"), "(/ (% (// a 2) 3) 4)");
        assert_eq!(p("np.sqrt(x)[1:, ::-1]"), "sqrt(x)[1::, ::(Neg 1)]");
        assert_eq!(
            p("a.sum(axis=(0, 1)).T"),
            "transpose(sum(a, axis=tuple(0, 1)))"
        );
        assert_eq!(
            p("a[[0, 2], ..., None, -1]"),
            "a[list(0, 2), ..., None, (Neg 1)]"
        );
        assert_eq!(
            p("concatenate([a, b], axis=0)"),
            "concatenate(list(a, b), axis=0)"
        );
    }

    #[test]
    fn chained_comparison_is_refused() {
        let e = parse_expression("a < b < c").unwrap_err();
        assert!(e.message.contains("chained"), "{}", e.message);
        assert_eq!(e.span, Span::new(6, 7));
    }

    #[test]
    fn errors_have_positions() {
        let e = parse_expression("a + (b * 2").unwrap_err();
        assert_eq!(e.span, Span::new(10, 10));
        let e = parse_expression("a + ").unwrap_err();
        assert_eq!(e.span, Span::new(2, 3));
        let e = parse_expression("a b").unwrap_err();
        assert_eq!(e.span, Span::new(2, 3));
        let e = parse_expression("f(x=1, 2)").unwrap_err();
        assert_eq!(e.span, Span::new(7, 8));
        let e = parse_expression("a[1:2:3:4]").unwrap_err();
        assert_eq!(e.span, Span::new(7, 8));
        let e = parse_expression("a)").unwrap_err();
        assert!(e.message.contains("unmatched"));
    }

    #[test]
    fn nesting_is_limited_and_long_chains_are_not() {
        let ok = format!(
            "{}a{}",
            "(".repeat(MAX_NESTING - 1),
            ")".repeat(MAX_NESTING - 1)
        );
        assert_eq!(p(&ok), "a");
        for deep in [
            format!("{}a{}", "(".repeat(5000), ")".repeat(5000)),
            "(".repeat(10_000),
            format!("{}a", "-".repeat(1500)),
            format!("{}x{}", "sqrt(".repeat(5000), ")".repeat(5000)),
            format!("{}1{}", "[".repeat(400), "]".repeat(400)),
            vec!["a"; 400].join(" ** "),
            format!("a[{}0{}]", "(".repeat(300), ")".repeat(300)),
        ] {
            let e = parse_expression(&deep).unwrap_err();
            assert!(e.message.contains("nests more than 256"), "{}", e.message);
            assert!(e.span.start < deep.len(), "{:?}", e.span);
        }
        let e = parse_selection(&"(".repeat(5000)).unwrap_err();
        assert!(e.message.contains("nests"), "{}", e.message);
        // The first '(' too many is the one pointed at.
        let e = parse_expression(&"(".repeat(300)).unwrap_err();
        assert_eq!(e.span, Span::new(MAX_NESTING, MAX_NESTING + 1));
        // Long chains at one level parse, left-associated.
        let sum = vec!["a"; 5000].join(" + ");
        let e = parse_expression(&sum).unwrap();
        assert!(matches!(e.kind, ExprKind::Binary(BinOp::Add, _, _)));
        let t = format!("a{}", ".T".repeat(3000));
        assert!(parse_expression(&t).is_ok());
    }

    #[test]
    fn selections() {
        let items = parse_selection("10:20, ::-1, None, ...").unwrap();
        assert_eq!(items.len(), 4);
        assert!(parse_selection("").unwrap().is_empty());
    }
}
