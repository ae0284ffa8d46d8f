//! [`SliceArg`]: one item of a user's selection, as numpy or ndarray's `s![]` spell it.

use crate::error::Result;
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
    /// between digits and may be wrapped in parentheses (`(-1):`), nested less than
    /// [`MAX_NESTING`] deep; a trailing comma is allowed, as in Python. The text is read by the
    /// expression language's parser ([`crate::expr::parse_selection`]) with only constants
    /// allowed: one parser for `select_str`, `--select` and `a[...]` in expressions.
    ///
    /// Integers of any size are accepted where numpy accepts them: a slice's start, stop or
    /// step beyond `isize` is clipped to `isize::MIN`/`isize::MAX`, as numpy does (so a stop
    /// of `10**30` means the end of the axis); an index or a list element beyond `isize` is an
    /// error naming the item. Any input is parsed in linear time and bounded stack.
    pub fn parse(text: &str) -> Result<Vec<SliceArg>> {
        crate::expr::selection::slice_args(text)
    }
}

/// How deep brackets and parentheses may nest in selection text (the expression parser's
/// limit): deeper text is refused with an error.
pub use crate::expr::MAX_NESTING;

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
            "1__0", "_1", "1_", "1:2:3:4", "[1,,2]", "(1, 2)", "[[1]]", "(1", "1)", "[1)", ",",
        ] {
            assert!(SliceArg::parse(bad).is_err(), "{bad}");
        }
        // Python reads `--1` as 1 (the expression parser folds signs as Python does).
        assert_eq!(SliceArg::parse("--1").unwrap(), vec![SliceArg::Index(1)]);
        let deep = format!("{}1{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        let e = SliceArg::parse(&deep).unwrap_err().to_string();
        assert!(e.contains("nests more than") && e.len() < 400, "{e}");
        let ok = format!(
            "{}1{}",
            "(".repeat(MAX_NESTING - 1),
            ")".repeat(MAX_NESTING - 1)
        );
        assert_eq!(SliceArg::parse(&ok).unwrap(), vec![SliceArg::Index(1)]);
        // Names that are not constants are refused; numpy's spellings of the constants are not.
        assert!(SliceArg::parse("n")
            .unwrap_err()
            .to_string()
            .contains("item 0"));
        assert_eq!(
            SliceArg::parse("Ellipsis, np.newaxis, newaxis").unwrap(),
            vec![SliceArg::Ellipsis, SliceArg::NewAxis, SliceArg::NewAxis]
        );
    }
}
