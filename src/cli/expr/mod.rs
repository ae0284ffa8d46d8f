//! The expression language of `vastarray eval`, spelled as numpy: a lexer ([`lexer`]), a
//! hand-written Pratt parser ([`parser`]) producing a syntax tree with byte spans ([`ast`]),
//! Python-scalar folding ([`scalar`]), and a builder ([`builder`], [`funcs`]) that turns the
//! tree into a lazy [`crate::DynArray`]. Every error carries the span of the text it is about.

pub mod ast;
pub mod builder;
pub mod funcs;
pub mod lexer;
pub mod parser;
pub mod scalar;
pub mod stages;

pub use ast::{Expr, ExprKind, IndexItem, Span};
pub use builder::{Builder, Value};
pub use parser::{parse_expression, parse_selection};

/// An error in an expression (or a `--select` selection), with the span it is about.
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
}
