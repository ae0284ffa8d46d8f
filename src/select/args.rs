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
    /// Boolean masks are written `[True, False, ...]`.
    pub fn parse(text: &str) -> Result<Vec<SliceArg>> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(vec![]);
        }
        split_top_level(text)?
            .into_iter()
            .map(|item| {
                parse_item(item.trim())
                    .map_err(|e| Error::Index(format!("in selection {text:?}: {e}")))
            })
            .collect()
    }
}

fn split_top_level(text: &str) -> Result<Vec<&str>> {
    let mut out = vec![];
    let mut depth = 0i32;
    let mut last = 0;
    for (i, c) in text.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&text[last..i]);
                last = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err(Error::Index(format!(
                "unbalanced brackets in selection {text:?}"
            )));
        }
    }
    if depth != 0 {
        return Err(Error::Index(format!(
            "unbalanced brackets in selection {text:?}"
        )));
    }
    out.push(&text[last..]);
    Ok(out)
}

fn parse_int(s: &str) -> std::result::Result<isize, String> {
    s.trim()
        .parse::<isize>()
        .map_err(|_| format!("{:?} is not an integer", s.trim()))
}

fn parse_item(item: &str) -> std::result::Result<SliceArg, String> {
    match item {
        "..." | "Ellipsis" => return Ok(SliceArg::Ellipsis),
        "None" | "newaxis" | "np.newaxis" => return Ok(SliceArg::NewAxis),
        "" => return Err("empty selection item".into()),
        _ => {}
    }
    if let Some(inner) = item.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let parts: Vec<&str> = inner
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if !parts.is_empty() && parts.iter().all(|p| *p == "True" || *p == "False") {
            return Ok(SliceArg::Mask(parts.iter().map(|p| *p == "True").collect()));
        }
        return parts
            .iter()
            .map(|p| parse_int(p))
            .collect::<std::result::Result<_, _>>()
            .map(SliceArg::List);
    }
    if item.contains(':') {
        let parts: Vec<&str> = item.split(':').collect();
        if parts.len() > 3 {
            return Err(format!("{item:?} has too many colons"));
        }
        let opt = |s: Option<&&str>| -> std::result::Result<Option<isize>, String> {
            match s.map(|s| s.trim()) {
                None | Some("") => Ok(None),
                Some(v) => parse_int(v).map(Some),
            }
        };
        let start = opt(parts.first())?;
        let stop = opt(parts.get(1))?;
        let step = opt(parts.get(2))?.unwrap_or(1);
        if step == 0 {
            return Err("slice step cannot be zero".into());
        }
        return Ok(SliceArg::Slice { start, stop, step });
    }
    parse_int(item).map(SliceArg::Index)
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
}
