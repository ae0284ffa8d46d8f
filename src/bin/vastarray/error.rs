//! [`CliError`]: what the command reports and the exit code it ends with: 2 for usage errors
//! (bad arguments, a bad expression, shown with a caret under the text at fault), 1 for
//! failures while running (I/O, servers), naming the source.

use vastarray::expr::ExprError;

/// An error of the command line tool.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Bad arguments (exit code 2).
    Usage(String),
    /// An error in an expression or a selection, shown with a caret (exit code 2).
    Expr {
        /// What was parsed: "expression" or "selection".
        what: &'static str,
        /// The text.
        text: String,
        /// The error and its span.
        error: ExprError,
    },
    /// A failure while running (exit code 1).
    Runtime(String),
    /// A failure of one rank of a distributed run that every rank knows of (exit code 1;
    /// rank 0 reports it).
    Ranks(String),
    /// Standard output was closed by its reader (`vastarray info x.npy | head -1`): the
    /// command stops quietly, with exit code 0, as Unix tools do.
    Closed,
}

impl CliError {
    /// An error in the expression `text`.
    pub(crate) fn expr(text: &str, error: ExprError) -> CliError {
        CliError::Expr {
            what: "expression",
            text: text.to_string(),
            error,
        }
    }

    /// An error in the selection `text`.
    pub(crate) fn selection(text: &str, error: ExprError) -> CliError {
        CliError::Expr {
            what: "selection",
            text: text.to_string(),
            error,
        }
    }

    /// The process exit code.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Expr { .. } => 2,
            CliError::Runtime(_) | CliError::Ranks(_) => 1,
            CliError::Closed => 0,
        }
    }

    /// The message as printed on standard error.
    pub(crate) fn render(&self) -> String {
        match self {
            CliError::Usage(m) => format!("vastarray: error: {m}\n"),
            CliError::Runtime(m) | CliError::Ranks(m) => format!("vastarray: error: {m}\n"),
            CliError::Closed => String::new(),
            CliError::Expr { what, text, error } => {
                format!("vastarray: error in the {what} {}", error.render(text))
            }
        }
    }
}

impl From<vastarray::Error> for CliError {
    /// Errors about shapes, axes, indices, types and arguments are usage errors; the others
    /// (reading, writing, servers, budget) are failures while running.
    fn from(e: vastarray::Error) -> Self {
        use vastarray::Error::*;
        match e {
            Shape(_) | Axis(_) | Index(_) | DType(_) | Invalid(_) => CliError::Usage(e.to_string()),
            Budget(_) => CliError::Runtime(format!("{e} (raise --budget, or select less)")),
            Rank { .. } => CliError::Ranks(e.to_string()),
            other => CliError::Runtime(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vastarray::expr::Span;

    #[test]
    fn caret_under_the_span() {
        let e = CliError::expr(
            "a + bb * 2",
            ExprError::new("unknown name 'bb'", Span::new(4, 6)),
        );
        let r = e.render();
        assert!(r.contains("at byte 4: unknown name 'bb'"), "{r}");
        assert!(r.contains("\n    a + bb * 2\n        ^^\n"), "{r}");
        assert_eq!(e.exit_code(), 2);
        let e = CliError::expr("é + x", ExprError::new("x", Span::new(5, 6)));
        assert!(e.render().contains("\n        ^\n"), "{}", e.render());
    }
}
