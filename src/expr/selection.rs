//! Selection text (`"1, -3:, ::2, ..., None, [0, 2]"`) as [`SliceArg`]s: the expression
//! parser's indexing ([`parse_selection`]) with constants only, as
//! [`SliceArg::parse`](crate::SliceArg::parse) and `select_str` take it.

use super::{parse_selection, Builder};
use crate::error::{Error, Result};
use crate::{DynArray, SliceArg};
use std::collections::BTreeMap;

/// Parses selection text into one [`SliceArg`] per item (no names but `None`, `newaxis`,
/// `Ellipsis`, `True`, `False`). Errors are [`Error::Index`] naming the selection, the item
/// and what is wrong with it.
pub(crate) fn slice_args(text: &str) -> Result<Vec<SliceArg>> {
    let fail = |m: String| Error::Index(format!("in selection {}: {m}", shown(text.trim())));
    let items = parse_selection(text)
        .map_err(|e| fail(format!("at byte {}: {}", e.span.start, e.message)))?;
    let inputs: BTreeMap<String, DynArray> = BTreeMap::new();
    let b = Builder::new(&inputs).no_inputs_hint("a selection holds only constants");
    items
        .iter()
        .enumerate()
        .map(|(k, item)| {
            b.index_arg(item).map_err(|e| {
                let s = item.span();
                let item_text = text.get(s.start..s.end).unwrap_or("");
                fail(format!("item {k} ({}): {}", shown(item_text), e.message))
            })
        })
        .collect()
}

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
