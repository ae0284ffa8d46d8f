//! `vastarray info SOURCE [--json]`: shape, type, chunks, codec, logical and stored size.

use super::super::args::InfoArgs;
use super::super::error::CliError;
use super::super::output::shape_text;
use super::super::settings::Settings;
use super::super::source_spec::{open, SourceSpec};
use crate::source::hdf5::{Hdf5File, Hdf5Group, Hdf5Node};
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
fn hdf5_tree(file: &std::path::Path, as_json: bool) -> Result<(), CliError> {
    let f = Hdf5File::open(file)?;
    let root = f.root()?;
    let tree = walk(&root, 0)?;
    if as_json {
        println!(
            "{}",
            json!({"source": file.display().to_string(), "format": "hdf5", "tree": tree})
        );
        return Ok(());
    }
    println!("{}", file.display());
    print_tree(&tree, 1);
    Ok(())
}

/// The members of a group as JSON, recursively (at most 64 levels deep).
fn walk(group: &Hdf5Group, depth: usize) -> Result<Vec<Json>, CliError> {
    let mut out = Vec::new();
    for m in group.members()? {
        out.push(match m {
            Hdf5Node::Group(g) => {
                let members = if depth < 64 { walk(&g, depth + 1)? } else { vec![] };
                json!({"kind": "group", "path": g.path(), "members": members})
            }
            Hdf5Node::Dataset(d) => {
                let filters: Vec<String> = d.filters.iter().map(|f| f.to_string()).collect();
                let nbytes = d.dtype.map(|t| t.size() * d.shape.iter().product::<usize>());
                json!({
                    "kind": "dataset",
                    "path": d.path,
                    "shape": d.shape,
                    "dtype": d.dtype.map(|t| t.name().to_string()).unwrap_or_else(|| d.type_description.clone()),
                    "chunks": d.chunks,
                    "filters": filters,
                    "nbytes": nbytes,
                })
            }
            Hdf5Node::Other { path, description } => {
                json!({"kind": "other", "path": path, "description": description})
            }
        });
    }
    Ok(out)
}

fn print_tree(nodes: &[Json], depth: usize) {
    let pad = "  ".repeat(depth);
    for n in nodes {
        let path = n["path"].as_str().unwrap_or("?");
        match n["kind"].as_str() {
            Some("group") => {
                println!("{pad}{path}/");
                if let Some(m) = n["members"].as_array() {
                    print_tree(m, depth + 1);
                }
            }
            Some("dataset") => {
                let shape: Vec<usize> = n["shape"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_u64().map(|x| x as usize))
                            .collect()
                    })
                    .unwrap_or_default();
                let chunks = match n["chunks"].as_array() {
                    Some(c) => format!(
                        " chunks {}",
                        shape_text(
                            &c.iter()
                                .filter_map(|v| v.as_u64().map(|x| x as usize))
                                .collect::<Vec<_>>()
                        )
                    ),
                    None => String::new(),
                };
                let filters = n["filters"]
                    .as_array()
                    .map(|f| {
                        f.iter()
                            .filter_map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                println!(
                    "{pad}{path}  {} {}{chunks}{}",
                    shape_text(&shape),
                    n["dtype"].as_str().unwrap_or("?"),
                    if filters.is_empty() {
                        String::new()
                    } else {
                        format!(" [{filters}]")
                    }
                );
            }
            _ => println!("{pad}{path}  ({})", n["description"].as_str().unwrap_or("")),
        }
    }
}
