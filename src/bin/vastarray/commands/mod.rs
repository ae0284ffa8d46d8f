//! One file per subcommand, and what they share: opening a source with an optional
//! `--select`, printing plans.

pub(crate) mod copy;
pub(crate) mod demo;
pub(crate) mod eval;
pub(crate) mod info;
pub(crate) mod mosaic;
pub(crate) mod stats;

use super::error::CliError;
use super::output::write_stdout;
use super::settings::Settings;
use super::source_spec::{open, Opened, SourceSpec};
use std::collections::BTreeMap;
use std::path::Path;
use vastarray::expr::{parse_selection, Builder, Span};
use vastarray::DynArray;

/// Opens SOURCE and applies `--select SEL` to it.
pub(crate) fn open_selected(
    source: &str,
    select: Option<&str>,
    cache: Option<&Path>,
    settings: &Settings,
) -> Result<(DynArray, Opened), CliError> {
    let spec = SourceSpec::parse(source)?;
    // A bad selection is a usage error: parse it before touching the source.
    let items = match select {
        Some(sel) => Some(parse_selection(sel).map_err(|e| CliError::selection(sel, e))?),
        None => None,
    };
    let opened = open(&spec, cache, settings)?;
    let array = match (select, items) {
        (Some(sel), Some(items)) => {
            let inputs = BTreeMap::new();
            let b = Builder::new(&inputs).no_inputs_hint("a selection holds only constants");
            b.index(&opened.array, &items, Span::new(0, sel.len()))
                .map_err(|e| CliError::selection(sel, e))?
        }
        _ => opened.array.clone(),
    };
    Ok((array, opened))
}

/// Prints a plan, indented, on standard output.
pub(crate) fn print_plan(title: &str, plan: &str) -> Result<(), CliError> {
    let mut text = format!("{title}\n");
    for line in plan.lines() {
        text.push_str(&format!("  {line}\n"));
    }
    write_stdout(&text)
}
