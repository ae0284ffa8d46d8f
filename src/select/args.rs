//! [`SliceArg`]: one item of a user's selection, as numpy or ndarray's `s![]` spell it.

use crate::error::{Error, Result};
use ndarray::SliceInfoElem;

/// One item of a selection, numpy style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SliceArg {
    /// An integer index (negative counts from the end); drops the axis.
    Index(isize),
    /// numpy's `start:stop:step` (any part optional; negative steps walk backwards).
    Slice {
        /// First position (default: the start for positive steps, the end for negative ones).
        start: Option<isize>,
        /// Stop position, excluded.
        stop: Option<isize>,
        /// Step, not zero.
        step: isize,
    },
    /// ndarray's `s![start..end;step]`: the range first, then every `|step|`-th element from
    /// the back when `step < 0`. Out-of-range bounds are an error, as in ndarray.
    NdSlice {
        /// First position of the range.
        start: isize,
        /// End of the range, excluded (`None`: the axis end).
        end: Option<isize>,
        /// Step, not zero.
        step: isize,
    },
    /// `None` / `np.newaxis`: a new axis of length 1.
    NewAxis,
    /// `...`: as many full slices as needed.
    Ellipsis,
    /// A 1-D integer array (orthogonal indexing; negative values count from the end).
    List(Vec<isize>),
    /// A boolean mask as long as the axis.
    Mask(Vec<bool>),
}

impl SliceArg {
    /// The full slice `:`.
    pub fn full() -> SliceArg {
        SliceArg::Slice {
            start: None,
            stop: None,
            step: 1,
        }
    }

    /// `start:stop` with step 1.
    pub fn range(start: isize, stop: isize) -> SliceArg {
        SliceArg::Slice {
            start: Some(start),
            stop: Some(stop),
            step: 1,
        }
    }

    /// `start:stop:step`.
    pub fn range_step(start: Option<isize>, stop: Option<isize>, step: isize) -> SliceArg {
        SliceArg::Slice { start, stop, step }
    }

    /// Converts ndarray's `s![]` items (with ndarray's semantics for negative steps).
    pub fn from_ndarray(elems: &[SliceInfoElem]) -> Vec<SliceArg> {
        elems
            .iter()
            .map(|e| match *e {
                SliceInfoElem::Index(i) => SliceArg::Index(i),
                SliceInfoElem::NewAxis => SliceArg::NewAxis,
                SliceInfoElem::Slice { start, end, step } => SliceArg::NdSlice { start, end, step },
            })
            .collect()
    }

    /// Parses numpy's spelling of a selection: `"1, -3:, ::2, ..., None, [0, 2, 5]"`.
    /// Boolean masks are written `[True, False, ...]`. Integers may carry a sign and `_`
    /// between digits and may be wrapped in parentheses (`(-1):`), nested at most
    /// [`MAX_NESTING`] deep; a trailing comma is allowed, as in Python.
    ///
    /// Integers of any size are accepted where numpy accepts them: a slice's start, stop or
    /// step beyond `isize` is clipped to `isize::MIN`/`isize::MAX`, as numpy does (so a stop
    /// of `10**30` means the end of the axis); an index or a list element beyond `isize` is an
    /// error naming the item. The parser does not recurse: any input is parsed in linear time
    /// and bounded stack.
    pub fn parse(text: &str) -> Result<Vec<SliceArg>> {
        let trimmed = text.trim();
        let fail = |msg: String| Error::Index(format!("in selection {}: {msg}", shown(trimmed)));
        if trimmed.is_empty() {
            return Ok(vec![]);
        }
        check_brackets(trimmed).map_err(fail)?;
        let mut items = split_top_level(trimmed, ',');
        if items.len() > 1 && items.last().is_some_and(|s| s.trim().is_empty()) {
            items.pop();
        }
        items
            .into_iter()
            .enumerate()
            .map(|(k, item)| {
                parse_item(item.trim())
                    .map_err(|e| fail(format!("item {k} ({}): {e}", shown(item.trim()))))
            })
            .collect()
    }
}

/// How deep brackets and parentheses may nest in selection text (a list inside parentheses
/// inside ... ): deeper text is refused with an error before it is parsed.
pub const MAX_NESTING: usize = 32;

/// `text` quoted for an error message, shortened when long.
fn shown(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head:?}... ({} bytes)", text.len())
    }
}

/// Checks that `(`/`)` and `[`/`]` pair up and nest at most [`MAX_NESTING`] deep.
fn check_brackets(text: &str) -> std::result::Result<(), String> {
    let mut open: Vec<(char, usize)> = Vec::new();
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' => {
                if open.len() == MAX_NESTING {
                    return Err(format!(
                        "brackets nested more than {MAX_NESTING} deep at byte {i}"
                    ));
                }
                open.push((c, i));
            }
            ')' | ']' => {
                let want = if c == ')' { '(' } else { '[' };
                match open.pop() {
                    Some((o, _)) if o == want => {}
                    Some((o, j)) => {
                        return Err(format!(
                            "{c:?} at byte {i} does not close {o:?} at byte {j}"
                        ))
                    }
                    None => return Err(format!("unbalanced {c:?} at byte {i}")),
                }
            }
            _ => {}
        }
    }
    match open.last() {
        Some((o, j)) => Err(format!("{o:?} at byte {j} is never closed")),
        None => Ok(()),
    }
}

/// Splits at `sep` outside brackets (the text's brackets are balanced).
fn split_top_level(text: &str, sep: char) -> Vec<&str> {
    let mut out = vec![];
    let mut depth = 0usize;
    let mut last = 0;
    for (i, c) in text.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            c if c == sep && depth == 0 => {
                out.push(&text[last..i]);
                last = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&text[last..]);
    out
}

/// `s` without parentheses that wrap all of it (`((3))` -> `3`), trimmed.
fn unwrap_parens(mut s: &str) -> &str {
    loop {
        s = s.trim();
        let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) else {
            return s;
        };
        // The first '(' must close at the last ')' (not in "(1) + (2)"): the inside is balanced
        // and never drops below depth 0.
        let mut depth = 0usize;
        for c in inner.chars() {
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' => match depth.checked_sub(1) {
                    Some(d) => depth = d,
                    None => return s,
                },
                _ => {}
            }
        }
        s = inner;
    }
}

/// An integer literal as Python writes it (sign, digits, `_` between digits), or `None` when
/// `s` is not one. Values beyond `i128` saturate: only whether they fit `isize` matters.
fn int_literal(s: &str) -> Option<i128> {
    let s = unwrap_parens(s);
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, s[1..].trim_start()),
        b'+' => (false, s[1..].trim_start()),
        _ => (false, s),
    };
    let bytes = digits.as_bytes();
    if bytes.is_empty() || !bytes[0].is_ascii_digit() || !bytes[bytes.len() - 1].is_ascii_digit() {
        return None;
    }
    let mut v: i128 = 0;
    let mut prev_underscore = false;
    for &b in bytes {
        match b {
            b'0'..=b'9' => {
                v = v.saturating_mul(10).saturating_add((b - b'0') as i128);
                prev_underscore = false;
            }
            b'_' if !prev_underscore => prev_underscore = true,
            _ => return None,
        }
    }
    Some(if neg { -v } else { v })
}

fn not_an_integer(s: &str) -> String {
    format!("{} is not an integer", shown(s.trim()))
}

/// An index or list element: an integer that fits `isize` (numpy raises beyond it).
fn parse_index(s: &str) -> std::result::Result<isize, String> {
    let v = int_literal(s).ok_or_else(|| not_an_integer(s))?;
    isize::try_from(v).map_err(|_| {
        format!(
            "index {} does not fit in a 64-bit integer (numpy refuses it too)",
            unwrap_parens(s)
        )
    })
}

/// A slice's start, stop or step: `None` or an integer, clipped to `isize` as numpy does.
fn parse_bound(s: &str) -> std::result::Result<Option<isize>, String> {
    let u = unwrap_parens(s);
    if s.trim().is_empty() || u == "None" {
        return Ok(None);
    }
    let v = int_literal(u).ok_or_else(|| not_an_integer(s))?;
    Ok(Some(
        v.clamp(isize::MIN as i128, isize::MAX as i128) as isize
    ))
}

fn parse_item(item: &str) -> std::result::Result<SliceArg, String> {
    if item.is_empty() {
        return Err("empty selection item".into());
    }
    let u = unwrap_parens(item);
    match u {
        "..." | "Ellipsis" => return Ok(SliceArg::Ellipsis),
        "None" | "newaxis" | "np.newaxis" => return Ok(SliceArg::NewAxis),
        _ => {}
    }
    if let Some(inner) = u.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        return parse_list(inner);
    }
    let parts = split_top_level(u, ':');
    if parts.len() > 1 {
        if parts.len() > 3 {
            return Err("a slice has at most two colons".into());
        }
        let start = parse_bound(parts[0])?;
        let stop = parse_bound(parts[1])?;
        let step = match parts.get(2) {
            Some(p) => parse_bound(p)?.unwrap_or(1),
            None => 1,
        };
        if step == 0 {
            return Err("slice step cannot be zero".into());
        }
        return Ok(SliceArg::Slice { start, stop, step });
    }
    if u.contains(',') {
        return Err("a tuple inside a selection is not supported: write its items".into());
    }
    parse_index(u).map(SliceArg::Index)
}

/// The inside of `[...]`: integers (a list) or only `True`/`False` (a mask).
fn parse_list(inner: &str) -> std::result::Result<SliceArg, String> {
    if inner.trim().is_empty() {
        return Ok(SliceArg::List(vec![]));
    }
    let mut parts = split_top_level(inner, ',');
    if parts.len() > 1 && parts.last().is_some_and(|p| p.trim().is_empty()) {
        parts.pop();
    }
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err("empty element in a list".into());
    }
    let is_bool = |p: &str| matches!(unwrap_parens(p), "True" | "False");
    if parts.iter().all(|p| is_bool(p)) {
        return Ok(SliceArg::Mask(
            parts.iter().map(|p| unwrap_parens(p) == "True").collect(),
        ));
    }
    parts
        .iter()
        .map(|p| {
            if unwrap_parens(p).starts_with('[') {
                Err("nested lists are not supported".to_string())
            } else {
                parse_index(p)
            }
        })
        .collect::<std::result::Result<_, _>>()
        .map(SliceArg::List)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numpy_spelling() {
        let got = SliceArg::parse("1, -3:, ::2, ..., None, [0, 2, -1], [True, False]").unwrap();
        assert_eq!(
            got,
            vec![
                SliceArg::Index(1),
                SliceArg::Slice {
                    start: Some(-3),
                    stop: None,
                    step: 1
                },
                SliceArg::Slice {
                    start: None,
                    stop: None,
                    step: 2
                },
                SliceArg::Ellipsis,
                SliceArg::NewAxis,
                SliceArg::List(vec![0, 2, -1]),
                SliceArg::Mask(vec![true, false]),
            ]
        );
        assert!(SliceArg::parse("1:2:0").is_err());
        assert!(SliceArg::parse("[1, 2").is_err());
        assert!(SliceArg::parse("a").is_err());
    }

    #[test]
    fn integers_beyond_i64_and_python_spellings() {
        let slice = |start, stop, step| SliceArg::Slice { start, stop, step };
        // Slice bounds of any size clip to isize, as numpy's PySlice_Unpack does.
        assert_eq!(
            SliceArg::parse("-1000000000000000000000000000000:1000000000000000000000000000000:-99999999999999999999").unwrap(),
            vec![slice(Some(isize::MIN), Some(isize::MAX), isize::MIN)]
        );
        assert_eq!(
            SliceArg::parse("None:(3):None, ((-2)), 1_0,").unwrap(),
            vec![
                slice(None, Some(3), 1),
                SliceArg::Index(-2),
                SliceArg::Index(10)
            ]
        );
        // An index beyond isize is an error naming the item.
        let e = SliceArg::parse("1:2, 9223372036854775808")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("item 1") && e.contains("9223372036854775808"),
            "{e}"
        );
        let e = SliceArg::parse("[0, -9223372036854775809]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("item 0") && e.contains("64-bit"), "{e}");
        for bad in [
            "1__0", "_1", "1_", "--1", "1:2:3:4", "[1,,2]", "(1, 2)", "[[1]]", "(1", "1)", "[1)",
            ",",
        ] {
            assert!(SliceArg::parse(bad).is_err(), "{bad}");
        }
        let deep = format!(
            "{}1{}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        let e = SliceArg::parse(&deep).unwrap_err().to_string();
        assert!(e.contains("nested more than") && e.len() < 300, "{e}");
        let ok = format!("{}1{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert_eq!(SliceArg::parse(&ok).unwrap(), vec![SliceArg::Index(1)]);
    }
}
