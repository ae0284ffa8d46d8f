//! `vastarray info SOURCE [--json]`: shape, type, chunks, codec, logical and stored size; for
//! netCDF-4 / HDF5 variables also dimension names, coordinate ranges, `units`, `long_name`
//! and the CF decoding applied.

use super::super::args::InfoArgs;
use super::super::error::CliError;
use super::super::output::outln;
use super::super::output::shape_text;
use super::super::settings::Settings;
use super::super::source_spec::{check_hdf5_file, open, SourceSpec};
use serde_json::{json, Value as Json};
use vastarray::io::hdf5::{Hdf5File, Hdf5Group, Hdf5Node};

/// Runs `info`.
pub(crate) fn run(args: &InfoArgs, settings: &Settings) -> Result<(), CliError> {
    let spec = SourceSpec::parse(&args.source)?;
    if let SourceSpec::Hdf5 {
        file,
        dataset: None,
    } = &spec
    {
        return hdf5_tree(file, args.json);
    }
    if let SourceSpec::Zarr { location, node } = &spec {
        if let Some(tree) = zarr_group_tree(location, node, settings)? {
            if args.json {
                outln!(
                    "{}",
                    json!({"source": args.source, "format": "zarr", "tree": tree})
                )?;
                return Ok(());
            }
            outln!("{}", args.source)?;
            return print_tree(&tree, 1);
        }
    }
    let opened = open(&spec, args.cache.as_deref(), settings)?;
    let src = &opened.source;
    // Checked: a file may declare a shape whose size does not fit in 64 bits.
    let nbytes = src
        .shape()
        .iter()
        .try_fold(src.dtype().size() as u64, |acc, &n| {
            acc.checked_mul(n as u64)
        });
    let nchunks = src
        .grid()
        .grid_shape()
        .iter()
        .try_fold(1u64, |acc, &n| acc.checked_mul(n as u64));
    let mut obj = serde_json::Map::new();
    obj.insert("source".into(), json!(args.source));
    obj.insert("shape".into(), json!(src.shape()));
    obj.insert("dtype".into(), json!(src.dtype().name()));
    obj.insert("chunks".into(), json!(src.chunk_shape()));
    obj.insert("nchunks".into(), json!(nchunks));
    obj.insert("nbytes".into(), json!(nbytes));
    for (k, v) in &opened.facts {
        obj.insert(k.clone(), v.clone());
    }
    if let (Some(stored), Some(n)) = (obj.get("stored_bytes").and_then(Json::as_u64), nbytes) {
        if stored > 0 {
            obj.insert("ratio".into(), json!(n as f64 / stored as f64));
        }
    }
    if args.json {
        outln!("{}", Json::Object(obj))?;
        return Ok(());
    }
    outln!("{}", args.source)?;
    let line = |k: &str, v: String| outln!("  {k:<14} {v}");
    line("shape", shape_text(src.shape()))?;
    line("dtype", src.dtype().name().to_string())?;
    line(
        "chunks",
        format!(
            "{} ({} in all)",
            shape_text(src.chunk_shape()),
            count_text(nchunks)
        ),
    )?;
    line("nbytes", nbytes.map(human).unwrap_or_else(too_many))?;
    for (k, v) in &opened.facts {
        let text = match v {
            Json::String(s) => s.clone(),
            Json::Number(n) if k.ends_with("bytes") => {
                n.as_u64().map(human).unwrap_or_else(|| n.to_string())
            }
            Json::Object(coords) if k == "coordinates" => {
                line(k, String::new())?;
                for (name, c) in coords {
                    line(&format!("  {name}"), coordinate_text(c))?;
                }
                continue;
            }
            other => other.to_string(),
        };
        line(k, text)?;
    }
    if let Some(r) = obj.get("ratio").and_then(Json::as_f64) {
        line("ratio", format!("{r:.2}"))?;
    }
    Ok(())
}

/// One coordinate variable in words: `10 .. 30 degrees_north (3 values)`.
fn coordinate_text(c: &Json) -> String {
    let range = match (c["min"].as_f64(), c["max"].as_f64()) {
        (Some(lo), Some(hi)) => format!("{lo} .. {hi}"),
        _ => "no values".into(),
    };
    let units = c["units"]
        .as_str()
        .map(|u| format!(" {u}"))
        .unwrap_or_default();
    format!("{range}{units} ({} values)", c["length"])
}

/// What is printed for a count that does not fit in 64 bits.
fn too_many() -> String {
    "more than 2^64".into()
}

/// A count, or [`too_many`].
fn count_text(n: Option<u64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_else(too_many)
}

/// Bytes in words: `1.5 MiB (1572864 bytes)`.
pub(crate) fn human(b: u64) -> String {
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

/// The members of a Zarr group as the HDF5 tree shows them (arrays as datasets, their codecs
/// as filters); `None` when the node is an array. From the root's consolidated metadata when
/// it has some (the only way to list a remote group: plain HTTP lists no directory).
fn zarr_group_tree(
    location: &str,
    node: &str,
    settings: &Settings,
) -> Result<Option<Vec<Json>>, CliError> {
    use vastarray::io::zarr::{ZarrNode, ZarrStore};
    let lower = location.to_ascii_lowercase();
    let store = if lower.starts_with("http://") || lower.starts_with("https://") {
        ZarrStore::open_http(location, settings.http.clone())?
    } else {
        ZarrStore::open_dir(std::path::Path::new(location))?
    };
    if let ZarrNode::Array(_) = store.node(node)? {
        return Ok(None);
    }
    let base = node.trim_end_matches('/').to_string();
    let nodes: Vec<(String, ZarrNode)> = store
        .tree(4096)?
        .into_iter()
        .filter(|(p, _)| p.starts_with(&format!("{base}/")) && p.len() > base.len() + 1)
        .collect();
    fn members(parent: &str, nodes: &[(String, ZarrNode)]) -> Vec<Json> {
        nodes
            .iter()
            .filter(|(p, _)| p.rsplit_once('/').map(|(d, _)| d) == Some(parent))
            .map(|(p, n)| match n {
                ZarrNode::Group { .. } => {
                    json!({"kind": "group", "path": p, "members": members(p, nodes)})
                }
                ZarrNode::Array(m) => json!({
                    "kind": "dataset",
                    "path": p,
                    "shape": m.shape,
                    "dtype": m.dtype.name(),
                    "chunks": m.read_chunks(),
                    "filters": m.codecs,
                }),
            })
            .collect()
    }
    Ok(Some(members(&base, &nodes)))
}

/// The groups and datasets of an HDF5 file.
fn hdf5_tree(file: &std::path::Path, as_json: bool) -> Result<(), CliError> {
    check_hdf5_file(file)?;
    let f = Hdf5File::open(file)?;
    let root = f.root()?;
    let tree = walk(&root, 0)?;
    if as_json {
        outln!(
            "{}",
            json!({"source": file.display().to_string(), "format": "hdf5", "tree": tree})
        )?;
        return Ok(());
    }
    outln!("{}", file.display())?;
    print_tree(&tree, 1)
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
                let nbytes = d.dtype.and_then(|t| {
                    d.shape
                        .iter()
                        .try_fold(t.size() as u64, |acc, &n| acc.checked_mul(n as u64))
                });
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

fn print_tree(nodes: &[Json], depth: usize) -> Result<(), CliError> {
    let pad = "  ".repeat(depth);
    for n in nodes {
        let path = n["path"].as_str().unwrap_or("?");
        match n["kind"].as_str() {
            Some("group") => {
                outln!("{pad}{path}/")?;
                if let Some(m) = n["members"].as_array() {
                    print_tree(m, depth + 1)?;
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
                outln!(
                    "{pad}{path}  {} {}{chunks}{}",
                    shape_text(&shape),
                    n["dtype"].as_str().unwrap_or("?"),
                    if filters.is_empty() {
                        String::new()
                    } else {
                        format!(" [{filters}]")
                    }
                )?;
            }
            _ => outln!("{pad}{path}  ({})", n["description"].as_str().unwrap_or(""))?,
        }
    }
    Ok(())
}
