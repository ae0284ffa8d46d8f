//! The expression language, spelled as numpy: text over named arrays to a lazy [`DynArray`].
//!
//! ```
//! use vastarray::{expr, DynArray};
//! use ndarray::{array, ArrayD};
//!
//! let x = DynArray::from_ndarray(array![[1.0f32, 4.0], [9.0, 16.0]].into_dyn(), &[1, 2]).unwrap();
//! let y = DynArray::from_ndarray(array![10.0f32, 20.0].into_dyn(), &[2]).unwrap();
//! // Lazy: nothing is read until the result is asked for.
//! let z = expr::parse("sqrt(x) + y[::-1] * 2", [("x", &x), ("y", &y)]).unwrap();
//! assert_eq!(z.dtype(), vastarray::DType::F32); // numpy 2: the literal 2 is a weak scalar
//! let v = z.ndarray().unwrap().into_typed::<f32>().unwrap();
//! assert_eq!(v, array![[41.0f32, 22.0], [43.0, 24.0]].into_dyn());
//!
//! // Errors say where: a byte span of the text, shown with a caret by `render`.
//! let e = expr::parse("sqrt(x) + w", [("x", &x)]).unwrap_err();
//! assert_eq!((e.span.start, e.span.end), (10, 11));
//! assert!(e.render("sqrt(x) + w").contains("^"));
//! ```
//!
//! The parts (private modules; what users need is re-exported here): a lexer (`lexer.rs`), a
//! hand-written Pratt parser ([`parse_expression`], `parser.rs`) producing a syntax tree with
//! byte spans ([`Expr`], `ast.rs`), Python-scalar folding (`scalar.rs`), a [`Builder`]
//! (`builder.rs`, `funcs.rs`) that turns the tree into a lazy [`DynArray`], and
//! [`compute_stages`] (`stages.rs`: reductions inside a larger expression computed first, for
//! sinks that compute their target in pieces). The same
//! parser reads selection text: [`crate::SliceArg::parse`] and [`DynArray::select_str`] are
//! [`parse_selection`] with only constants allowed.

mod ast;
mod builder;
mod funcs;
mod lexer;
mod parser;
mod scalar;
pub(crate) mod selection;
mod stages;

pub use ast::{Expr, ExprKind, IndexItem, Span};
pub use builder::{Builder, Value};
pub use parser::{parse_expression, parse_selection, MAX_NESTING};
pub use stages::{compute_stages, compute_stages_on, StageError};

use crate::DynArray;
use std::collections::BTreeMap;

/// Parses `text`, a numpy-spelled expression over the named `inputs`, into a lazy array.
///
/// Names are the inputs, numpy's functions (`sqrt`, `where`, `mean(a, axis=0)`, also as
/// `np.sqrt` and methods `a.sum()`), constants (`pi`, `nan`, `True`) and type names
/// (`a.astype('f4')`); literals are weak scalars (numpy 2), indexing is numpy's (`a[1:, ::2]`,
/// `a[[0, 2]]`, `a[..., None]`). See the module's example.
pub fn parse<'a, K: AsRef<str>>(
    text: &str,
    inputs: impl IntoIterator<Item = (K, &'a DynArray)>,
) -> Result<DynArray, ExprError> {
    let inputs: BTreeMap<String, DynArray> = inputs
        .into_iter()
        .map(|(k, v)| (k.as_ref().to_string(), v.clone()))
        .collect();
    let tree = parse_expression(text)?;
    Builder::new(&inputs).build(&tree)
}

/// An error in an expression (or a selection), with the span it is about.
#[derive(Clone, Debug, PartialEq)]
pub struct ExprError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
    /// A second place worth pointing at (where a bracket was opened, ...).
    pub note: Option<(String, Span)>,
}

impl ExprError {
    /// An error about `span`.
    pub fn new(message: impl Into<String>, span: Span) -> ExprError {
        ExprError {
            message: message.into(),
            span,
            note: None,
        }
    }

    /// The same error with a note about another place.
    pub fn with_note_at(mut self, note: impl Into<String>, span: Span) -> ExprError {
        self.note = Some((note.into(), span));
        self
    }

    /// The error as shown under `text` (the text it is about): the message, the text, a caret
    /// line under the span and, if there is a note, a line under its place.
    ///
    /// ```
    /// let text = "a + bb * 2";
    /// let e = vastarray::expr::ExprError::new("unknown name 'bb'", vastarray::expr::Span::new(4, 6));
    /// assert_eq!(e.render(text), "at byte 4: unknown name 'bb'\n    a + bb * 2\n        ^^\n");
    /// ```
    pub fn render(&self, text: &str) -> String {
        let mut out = format!("at byte {}: {}\n", self.span.start, self.message);
        let shown: String = text
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .collect();
        out.push_str(&format!("    {shown}\n"));
        out.push_str(&format!("    {}\n", underline(text, self.span, '^', "")));
        if let Some((note, span)) = &self.note {
            out.push_str(&format!("    {}\n", underline(text, *span, '-', note)));
        }
        out
    }
}

impl std::fmt::Display for ExprError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "at bytes {}..{}: {}",
            self.span.start, self.span.end, self.message
        )
    }
}

impl std::error::Error for ExprError {}

/// A line of spaces with `mark` under the characters of `span` (at least one), then `label`.
fn underline(text: &str, span: Span, mark: char, label: &str) -> String {
    let clamp = |b: usize| {
        let mut b = b.min(text.len());
        while !text.is_char_boundary(b) {
            b -= 1;
        }
        b
    };
    let (s, e) = (clamp(span.start), clamp(span.end.max(span.start)));
    let col = text[..s].chars().count();
    let width = text[s..e].chars().count().max(1);
    let mut line = " ".repeat(col);
    line.extend(std::iter::repeat_n(mark, width));
    if !label.is_empty() {
        line.push(' ');
        line.push_str(label);
    }
    line
}
