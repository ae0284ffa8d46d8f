//! [`store_zarr_node`]: stores an array at `/group/array` of a hierarchy, creating the root
//! and the groups on the way, and keeping the root's consolidated metadata (if it has some)
//! true for what was added.

use super::meta::ZarrFormat;
use super::sink::{store_zarr, ZarrStoreOptions, ZarrStoreReport};
use crate::error::{Error, Result};
use crate::sink::RegionCompute;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Stores `src` as the array at `node` (`/group/array`; `/` is the root itself) of the
/// hierarchy in directory `root`, as [`store_zarr`] stores an array.
///
/// The root and the groups on the way that do not exist yet are created first (groups of
/// `options.format` without attributes: `zarr.json` of v3, `.zgroup` of v2); an existing one
/// must be a Zarr group of that format. When the root group has consolidated metadata (v3
/// `consolidated_metadata` in its `zarr.json`, v2 `.zmetadata`), the new groups and the array
/// are added to it once the array is complete, so readers of the consolidated metadata
/// (zarr-python by default) see them. A failed store leaves no array (groups it created stay).
pub fn store_zarr_node(
    src: &dyn RegionCompute,
    root: &Path,
    node: &str,
    options: &ZarrStoreOptions,
) -> Result<ZarrStoreReport> {
    let parts: Vec<&str> = node.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return store_zarr(src, root, options);
    }
    if let Some(p) = parts
        .iter()
        .find(|p| **p == "." || **p == ".." || p.contains('\\') || p.starts_with("__"))
    {
        return Err(Error::Invalid(format!(
            "{}:{node}: {p:?} is not a name a Zarr node can have",
            root.display()
        )));
    }
    let format = options.format;
    let mut created: Vec<String> = Vec::new();
    ensure_group(root, root, "", format, &mut created)?;
    let mut dir = root.to_path_buf();
    for (i, p) in parts[..parts.len() - 1].iter().enumerate() {
        dir = dir.join(p);
        ensure_group(root, &dir, &parts[..=i].join("/"), format, &mut created)?;
    }
    let key = parts.join("/");
    let report = store_zarr(src, &root.join(&key), options)?;
    update_consolidated(root, format, &created, &key)?;
    Ok(report)
}

/// What a directory of a hierarchy holds.
fn kind_of(dir: &Path) -> Option<(ZarrFormat, bool)> {
    if let Ok(text) = std::fs::read(dir.join("zarr.json")) {
        let doc: Value = serde_json::from_slice(&text).unwrap_or(Value::Null);
        return Some((ZarrFormat::V3, doc["node_type"] == "group"));
    }
    if dir.join(".zarray").is_file() {
        return Some((ZarrFormat::V2, false));
    }
    if dir.join(".zgroup").is_file() {
        return Some((ZarrFormat::V2, true));
    }
    None
}

fn format_name(f: ZarrFormat) -> &'static str {
    match f {
        ZarrFormat::V2 => "Zarr v2",
        ZarrFormat::V3 => "Zarr v3",
    }
}

/// Makes `dir` (node `key` of the hierarchy at `root`) a group of `format` if it does not exist;
/// checks that it is one if it does. Created groups' keys go into `created`.
fn ensure_group(
    root: &Path,
    dir: &Path,
    key: &str,
    format: ZarrFormat,
    created: &mut Vec<String>,
) -> Result<()> {
    let name = if key.is_empty() {
        root.display().to_string()
    } else {
        format!("{}:/{key}", root.display())
    };
    match std::fs::symlink_metadata(dir) {
        Err(_) => {
            std::fs::create_dir(dir)
                .map_err(|e| Error::file(dir, format!("cannot create the group: {e}")))?;
            let (file, doc) = match format {
                ZarrFormat::V3 => (
                    "zarr.json",
                    json!({"zarr_format": 3, "node_type": "group", "attributes": {}}),
                ),
                ZarrFormat::V2 => (".zgroup", json!({"zarr_format": 2})),
            };
            write_json(&dir.join(file), &doc)?;
            created.push(key.to_string());
            Ok(())
        }
        Ok(m) if !m.is_dir() => Err(Error::Invalid(format!(
            "{name} exists and is not a directory: it cannot hold a Zarr array"
        ))),
        Ok(_) => match kind_of(dir) {
            Some((f, true)) if f == format => Ok(()),
            Some((f, true)) => Err(Error::Invalid(format!(
                "{name} is a {} group: a {} array cannot go in it (give --zarr-format {})",
                format_name(f),
                format_name(format),
                if f == ZarrFormat::V2 { 2 } else { 3 }
            ))),
            Some((_, false)) => Err(Error::Invalid(format!(
                "{name} is a Zarr array, not a group: it cannot hold another array"
            ))),
            None => Err(Error::Invalid(format!(
                "{name} exists and is not a Zarr group (no zarr.json or .zgroup): it is not made one"
            ))),
        },
    }
}

/// Writes `doc` to `path` through a temporary file renamed into place.
fn write_json(path: &Path, doc: &Value) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".vastarray-tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let text = serde_json::to_vec_pretty(doc)
        .map_err(|e| Error::Internal(format!("metadata as JSON: {e}")))?;
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::file(path, format!("cannot write: {e}"))
        })
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read(path).map_err(|e| Error::file(path, format!("cannot read: {e}")))?;
    serde_json::from_slice(&text).map_err(|e| Error::file(path, format!("not valid JSON: {e}")))
}

/// Adds the groups `created` and the array at `key` to the root's consolidated metadata, if
/// it has some.
fn update_consolidated(
    root: &Path,
    format: ZarrFormat,
    created: &[String],
    key: &str,
) -> Result<()> {
    let bad = |path: &Path, m: &str| Error::file(path, format!("consolidated metadata: {m}"));
    match format {
        ZarrFormat::V3 => {
            let path = root.join("zarr.json");
            let mut doc = read_json(&path)?;
            let Some(members) = doc
                .pointer_mut("/consolidated_metadata/metadata")
                .filter(|m| !m.is_null())
            else {
                return Ok(());
            };
            let members = members
                .as_object_mut()
                .ok_or_else(|| bad(&path, "metadata is not an object"))?;
            for g in created.iter().filter(|g| !g.is_empty()) {
                members.insert(
                    g.clone(),
                    json!({"zarr_format": 3, "node_type": "group", "attributes": {},
                           "consolidated_metadata": null}),
                );
            }
            members.insert(
                key.to_string(),
                read_json(&root.join(key).join("zarr.json"))?,
            );
            write_json(&path, &doc)
        }
        ZarrFormat::V2 => {
            let path = root.join(".zmetadata");
            if !path.is_file() {
                return Ok(());
            }
            let mut doc = read_json(&path)?;
            let members = doc
                .get_mut("metadata")
                .and_then(Value::as_object_mut)
                .ok_or_else(|| bad(&path, "no metadata object"))?;
            for g in created.iter().filter(|g| !g.is_empty()) {
                members.insert(format!("{g}/.zgroup"), json!({"zarr_format": 2}));
            }
            let dir = root.join(key);
            members.insert(format!("{key}/.zarray"), read_json(&dir.join(".zarray"))?);
            let attrs = dir.join(".zattrs");
            if attrs.is_file() {
                members.insert(format!("{key}/.zattrs"), read_json(&attrs)?);
            }
            write_json(&path, &doc)
        }
    }
}
