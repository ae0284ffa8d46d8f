//! The lexer: expression text to tokens with byte spans.

use super::ast::Span;
use super::ExprError;

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    /// An integer literal.
    Int(i64),
    /// An integer literal beyond `i64`: its digits (Python integers have no bound; a slice
    /// bound this large is clipped, as numpy does, and anything else is an error).
    BigInt(String),
    /// A float literal.
    Float(f64),
    /// A name.
    Ident(String),
    /// A quoted string.
    Str(String),
    /// An operator or punctuation: `+ - * / // % ** < <= > >= == != & | ~ ( ) [ ] , : = . ...`
    Punct(&'static str),
    /// The end of the text.
    End,
}

/// A token and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Token {
    /// The token.
    pub tok: Tok,
    /// Its bytes in the text.
    pub span: Span,
}

const PUNCT: [&str; 25] = [
    "...", "**", "//", "<=", ">=", "==", "!=", "+", "-", "*", "/", "%", "<", ">", "&", "|", "~",
    "(", ")", "[", "]", ",", ":", "=", ".",
];

/// Splits `text` into tokens; the last is [`Tok::End`].
pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, ExprError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let (tok, end) = number(text, i)?;
            out.push(Token {
                tok,
                span: Span::new(start, end),
            });
            i = end;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(text[start..i].to_string()),
                span: Span::new(start, i),
            });
            continue;
        }
        if c == b'\'' || c == b'"' {
            let end = text[i + 1..]
                .find(c as char)
                .map(|n| i + 1 + n)
                .ok_or_else(|| {
                    ExprError::new("unterminated string", Span::new(start, text.len()))
                })?;
            out.push(Token {
                tok: Tok::Str(text[i + 1..end].to_string()),
                span: Span::new(start, end + 1),
            });
            i = end + 1;
            continue;
        }
        if let Some(p) = PUNCT.iter().find(|p| text[i..].starts_with(**p)) {
            out.push(Token {
                tok: Tok::Punct(p),
                span: Span::new(start, i + p.len()),
            });
            i += p.len();
            continue;
        }
        let ch = text[i..].chars().next().unwrap_or('?');
        let what = match ch {
            '^' => "the operator '^' is not supported".to_string(),
            '!' => "unexpected '!' (use ~ for logical not, != for not equal)".to_string(),
            _ => format!("unexpected character {ch:?}"),
        };
        return Err(ExprError::new(what, Span::new(start, i + ch.len_utf8())));
    }
    out.push(Token {
        tok: Tok::End,
        span: Span::new(text.len(), text.len()),
    });
    Ok(out)
}

/// Reads a number starting at byte `i`: `12`, `1_000`, `1.5`, `.5`, `1.`, `1e-3`, `2E5`.
fn number(text: &str, start: usize) -> Result<(Tok, usize), ExprError> {
    let b = text.as_bytes();
    let digits = |mut i: usize| {
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
        i
    };
    let mut i = digits(start);
    let mut is_float = false;
    if i < b.len() && b[i] == b'.' && !text[i..].starts_with("...") {
        is_float = true;
        i = digits(i + 1);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            is_float = true;
            i = digits(j);
        }
    }
    if i < b.len() && (b[i].is_ascii_alphabetic() || b[i] == b'_') {
        let mut j = i;
        while j < b.len() && b[j].is_ascii_alphanumeric() {
            j += 1;
        }
        return Err(ExprError::new(
            format!("invalid number {:?}", &text[start..j]),
            Span::new(start, j),
        ));
    }
    let span = Span::new(start, i);
    // As in Python, `_` only between digits: `1_000`, not `1__0`, `1_` or `1_.5`.
    let lit = &b[start..i];
    let digit = |k: Option<&u8>| k.is_some_and(u8::is_ascii_digit);
    if (0..lit.len())
        .any(|k| lit[k] == b'_' && !(k > 0 && digit(lit.get(k - 1)) && digit(lit.get(k + 1))))
    {
        return Err(ExprError::new(
            format!("invalid number {:?}", &text[start..i]),
            span,
        ));
    }
    let clean: String = text[start..i].chars().filter(|&c| c != '_').collect();
    if is_float {
        clean
            .parse::<f64>()
            .map(|v| (Tok::Float(v), i))
            .map_err(|_| ExprError::new(format!("invalid number {:?}", &text[start..i]), span))
    } else {
        Ok(match clean.parse::<i64>() {
            Ok(v) => (Tok::Int(v), i),
            Err(_) => (Tok::BigInt(clean), i),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_names_and_operators() {
        assert_eq!(
            toks("a**-2.5e1 // b[..., 1:] != 1_000"),
            vec![
                Tok::Ident("a".into()),
                Tok::Punct("**"),
                Tok::Punct("-"),
                Tok::Float(25.0),
                Tok::Punct("//"),
                Tok::Ident("b".into()),
                Tok::Punct("["),
                Tok::Punct("..."),
                Tok::Punct(","),
                Tok::Int(1),
                Tok::Punct(":"),
                Tok::Punct("]"),
                Tok::Punct("!="),
                Tok::Int(1000),
                Tok::End
            ]
        );
        assert_eq!(
            toks(".5 1. 'f4'")[..3],
            [Tok::Float(0.5), Tok::Float(1.0), Tok::Str("f4".into())]
        );
    }

    #[test]
    fn errors_point_at_the_bad_text() {
        let e = tokenize("a ^ b").unwrap_err();
        assert_eq!(e.span, Span::new(2, 3));
        let e = tokenize("a + 12x").unwrap_err();
        assert_eq!(e.span, Span::new(4, 7));
        assert_eq!(
            toks("99999999999999999999"),
            vec![Tok::BigInt("99999999999999999999".into()), Tok::End]
        );
        for bad in ["1__0", "1_", "1_.5", "1._5", "1e_3"] {
            assert!(tokenize(bad).is_err(), "{bad}");
        }
        assert!(tokenize("astype(a, 'f4)").is_err());
    }
}
