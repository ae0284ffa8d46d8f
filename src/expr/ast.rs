//! The syntax tree of an expression. Every node carries the byte span of its text, so errors
//! can point at it, and a number unique within its expression.
//!
//! A chain of terms (`a + b + c + ...`) is a tree as deep as it is long, so nothing walks a
//! tree by plain recursion: dropping is a loop ([`Expr`]'s `Drop`), the builder grows its stack
//! as needed, and the other walks use explicit stacks.

/// A byte range `start..end` of the expression text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-x`
    Neg,
    /// `+x`
    Pos,
    /// `~x`
    Invert,
}

/// Binary operators (arithmetic, bitwise and comparisons), as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `//`
    FloorDiv,
    /// `%`
    Mod,
    /// `**`
    Pow,
    /// `&`
    And,
    /// `|`
    Or,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
            BinOp::And => "&",
            BinOp::Or => "|",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
        }
    }

    /// True for the comparisons.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne
        )
    }
}

/// A node of the syntax tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
    /// Unique within one parsed expression.
    pub id: usize,
}

/// A keyword argument `name=value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Keyword {
    /// The keyword.
    pub name: String,
    /// Where the keyword is written.
    pub name_span: Span,
    /// The value.
    pub value: Expr,
}

/// One item between the brackets of an indexing.
#[derive(Clone, Debug, PartialEq)]
// A handful per indexing, short-lived: boxing the slice bounds would allocate for each.
#[allow(clippy::large_enum_variant)]
pub enum IndexItem {
    /// An integer, `None`, or a list (orthogonal index or boolean mask).
    Expr(Expr),
    /// `start:stop:step`, each optional.
    Slice {
        /// Start.
        start: Option<Expr>,
        /// Stop.
        stop: Option<Expr>,
        /// Step.
        step: Option<Expr>,
        /// The whole slice's text.
        span: Span,
    },
    /// `...`
    Ellipsis(Span),
}

impl IndexItem {
    /// Where the item is written.
    pub fn span(&self) -> Span {
        match self {
            IndexItem::Expr(e) => e.span,
            IndexItem::Slice { span, .. } | IndexItem::Ellipsis(span) => *span,
        }
    }
}

/// The kinds of node.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An integer literal (a weak Python int).
    Int(i64),
    /// An integer literal beyond `i64`, its digits: only a slice bound may be one (clipped).
    BigInt(String),
    /// A float literal (a weak Python float).
    Float(f64),
    /// A string literal (type names).
    Str(String),
    /// A name: an input, a constant (`True`, `nan`, `None`, ...) or a type name.
    Name(String),
    /// `op x`
    Unary(UnOp, Box<Expr>),
    /// `x op y`
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `f(args, key=value)`; `x.f(args)` is `f(x, args)`.
    Call {
        /// The function's name.
        func: String,
        /// Where the name is written.
        func_span: Span,
        /// Positional arguments.
        args: Vec<Expr>,
        /// Keyword arguments.
        kwargs: Vec<Keyword>,
    },
    /// `x[items]`
    Index {
        /// The indexed expression.
        target: Box<Expr>,
        /// The items.
        items: Vec<IndexItem>,
    },
    /// `(a, b)`
    Tuple(Vec<Expr>),
    /// `[a, b]`
    List(Vec<Expr>),
}

impl Drop for Expr {
    /// Drops the tree with a loop rather than recursion (a long chain is a deep tree).
    fn drop(&mut self) {
        let mut stack = Vec::new();
        take_children(&mut self.kind, &mut stack);
        while let Some(mut e) = stack.pop() {
            take_children(&mut e.kind, &mut stack);
        }
    }
}

/// Moves the children of a node into `out`, leaving the node a leaf.
fn take_children(kind: &mut ExprKind, out: &mut Vec<Expr>) {
    let has_children = matches!(
        kind,
        ExprKind::Unary(..)
            | ExprKind::Binary(..)
            | ExprKind::Call { .. }
            | ExprKind::Index { .. }
            | ExprKind::Tuple(_)
            | ExprKind::List(_)
    );
    if !has_children {
        return;
    }
    match std::mem::replace(kind, ExprKind::Int(0)) {
        ExprKind::Unary(_, x) => out.push(*x),
        ExprKind::Binary(_, a, b) => {
            out.push(*a);
            out.push(*b);
        }
        ExprKind::Call { args, kwargs, .. } => {
            out.extend(args);
            out.extend(kwargs.into_iter().map(|k| k.value));
        }
        ExprKind::Index { target, items } => {
            out.push(*target);
            for item in items {
                match item {
                    IndexItem::Expr(e) => out.push(e),
                    IndexItem::Slice {
                        start, stop, step, ..
                    } => out.extend([start, stop, step].into_iter().flatten()),
                    IndexItem::Ellipsis(_) => {}
                }
            }
        }
        ExprKind::Tuple(xs) | ExprKind::List(xs) => out.extend(xs),
        ExprKind::Int(_)
        | ExprKind::BigInt(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Name(_) => {}
    }
}

impl Expr {
    /// The direct children of the node.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Int(_)
            | ExprKind::BigInt(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Name(_) => vec![],
            ExprKind::Unary(_, x) => vec![x],
            ExprKind::Binary(_, a, b) => vec![a, b],
            ExprKind::Call { args, kwargs, .. } => {
                args.iter().chain(kwargs.iter().map(|k| &k.value)).collect()
            }
            ExprKind::Index { target, items } => {
                let mut v: Vec<&Expr> = vec![target];
                for it in items {
                    match it {
                        IndexItem::Expr(e) => v.push(e),
                        IndexItem::Slice {
                            start, stop, step, ..
                        } => v.extend([start, stop, step].into_iter().flatten()),
                        IndexItem::Ellipsis(_) => {}
                    }
                }
                v
            }
            ExprKind::Tuple(xs) | ExprKind::List(xs) => xs.iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_very_deep_tree_drops_without_recursion() {
        // A chain of a million unary nodes: recursive dropping would overflow any stack.
        let leaf = |id| Expr {
            kind: ExprKind::Name("a".into()),
            span: Span::default(),
            id,
        };
        let mut e = leaf(0);
        for id in 1..1_000_000 {
            e = Expr {
                kind: ExprKind::Unary(UnOp::Neg, Box::new(e)),
                span: Span::default(),
                id,
            };
        }
        assert_eq!(e.children().len(), 1);
        // Run in a thread with a small stack, so a recursive drop would certainly fail.
        std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(move || drop(e))
            .unwrap()
            .join()
            .unwrap();
    }
}
