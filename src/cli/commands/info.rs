//! `vastarray info SOURCE [--json]`: shape, type, chunks, codec, logical and stored size.

use super::super::args::InfoArgs;
use super::super::error::CliError;
use super::super::output::shape_text;
use super::super::settings::Settings;
use super::super::source_spec::{open, SourceSpec};
use serde_json::{json, Value as Json};

/// Runs `info`.
pub fn run(args: &InfoArgs, _settings: &Settings) -> Result<(), CliError> {
    let spec = SourceSpec::parse(&args.source)?;
    if let SourceSpec::Hdf5 {
        file,
        dataset: None,
    } = &spec
    {
        return hdf5_tree(file, args.json);
    }
    let opened = open(&spec, args.cache.as_deref())?;
    let src = &opened.source;
    let nbytes = src.shape().iter().product::<usize>() * src.dtype().size();
    let mut obj = serde_json::Map::new();
    obj.insert("source".into(), json!(args.source));
    obj.insert("shape".into(), json!(src.shape()));
    obj.insert("dtype".into(), json!(src.dtype().name()));
    obj.insert("chunks".into(), json!(src.chunk_shape()));
    obj.insert("nchunks".into(), json!(src.grid().num_chunks()));
    obj.insert("nbytes".into(), json!(nbytes));
    for (k, v) in &opened.facts {
        obj.insert(k.clone(), v.clone());
    }
    if let Some(stored) = obj.get("stored_bytes").and_then(Json::as_u64) {
        if stored > 0 {
            obj.insert("ratio".into(), json!(nbytes as f64 / stored as f64));
        }
    }
    if args.json {
        println!("{}", Json::Object(obj));
        return Ok(());
    }
    println!("{}", args.source);
    let line = |k: &str, v: String| println!("  {k:<14} {v}");
    line("shape", shape_text(src.shape()));
    line("dtype", src.dtype().name().to_string());
    line(
        "chunks",
        format!(
            "{} ({} in all)",
            shape_text(src.chunk_shape()),
            src.grid().num_chunks()
        ),
    );
    line("nbytes", human(nbytes as u64));
    for (k, v) in &opened.facts {
        let text = match v {
            Json::String(s) => s.clone(),
            Json::Number(n) if k.ends_with("bytes") => {
                n.as_u64().map(human).unwrap_or_else(|| n.to_string())
            }
            other => other.to_string(),
        };
        line(k, text);
    }
    if let Some(r) = obj.get("ratio").and_then(Json::as_f64) {
        line("ratio", format!("{r:.2}"));
    }
    Ok(())
}

/// Bytes in words: `1.5 MiB (1572864 bytes)`.
pub fn human(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {} ({b} bytes)", UNITS[u])
    }
}

/// The groups and datasets of an HDF5 file.
fn hdf5_tree(file: &std::path::Path, _json: bool) -> Result<(), CliError> {
    Err(CliError::Runtime(format!(
        "{}: this build of vastarray cannot read HDF5 files yet (the HDF5 source has not been merged)",
        file.display()
    )))
}
