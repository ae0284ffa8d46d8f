//! `vastarray copy SOURCE DEST [--select SEL] [--chunks C0,C1,...] [--codec ...] [--level N]`:
//! stores a source (or a selection of it) in bounded memory.

use super::super::args::CopyArgs;
use super::super::error::CliError;
use super::super::output::outln;
use super::super::output::shape_text;
use super::super::settings::Settings;
use super::super::sinks::{self, parse_chunks, StoreOptions};
use super::super::source_spec::DestSpec;
use super::{open_selected, print_plan};

/// Runs `copy`.
pub(crate) fn run(args: &CopyArgs, settings: &Settings) -> Result<(), CliError> {
    let dest = DestSpec::parse(&args.dest)?;
    let (array, _) = open_selected(
        &args.source,
        args.select.as_deref(),
        args.cache.as_deref(),
        settings,
    )?;
    let chunks = args
        .chunks
        .as_deref()
        .map(|c| parse_chunks(c, array.ndim()))
        .transpose()?;
    let shards = args
        .shards
        .as_deref()
        .map(|c| parse_chunks(c, array.ndim()))
        .transpose()?;
    let opts = StoreOptions {
        chunks,
        codec: args.codec,
        level: args.level,
        overwrite: args.overwrite,
        shards,
        zarr_format: args.zarr_format,
    };
    if settings.explain {
        print_plan(
            "plan (nothing was read or written):",
            &array.explain(&settings.cfg)?,
        )?;
        outln!("  {}", sinks::explain(&dest, &array, settings)?)?;
        return Ok(());
    }
    sinks::check(&dest, &opts)?;
    let Some(stored) = sinks::store(&dest, &array, settings, &opts)? else {
        return Ok(());
    };
    settings.note(&format!(
        "copied {} to {}: shape {} {}, {} buffer(s){}",
        args.source,
        stored.dest,
        shape_text(&stored.shape),
        stored.dtype,
        stored.buffers,
        stored
            .file_bytes
            .map(|b| format!(", {b} bytes"))
            .unwrap_or_default()
    ));
    Ok(())
}
