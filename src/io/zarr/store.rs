//! [`ZarrStore`]: a Zarr hierarchy (a local `.zarr` directory or one under an `http(s)://` URL)
//! and its nodes: arrays ([`ZarrStore::array`]) and groups ([`ZarrStore::node`]).

use super::http_store::HttpStore;
use super::meta::{ZarrFormat, ZarrMeta, MAX_METADATA_BYTES};
use super::source::{node_prefix, ZarrSource};
use crate::error::{Error, Result};
use crate::http::{HttpClient, HttpConfig};
use crate::source::path_check::{check_path, PathKind};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zarrs::storage::{ReadableStorageTraits, StoreKey};

/// What a node of a hierarchy is.
#[derive(Clone, Debug)]
pub enum ZarrNode {
    /// An array, with its checked metadata.
    Array(Box<ZarrMeta>),
    /// A group, with its attributes.
    Group {
        /// v2 or v3.
        format: super::meta::ZarrFormat,
        /// The group's attributes.
        attributes: Map<String, Value>,
    },
}

/// A Zarr hierarchy, local or remote (a clone shares the store and its HTTP client).
#[derive(Clone)]
pub struct ZarrStore {
    store: Arc<dyn ReadableStorageTraits>,
    location: String,
    local_root: Option<PathBuf>,
    http: Option<Arc<HttpStore>>,
}

impl ZarrStore {
    /// The hierarchy in directory `dir` (a `.zarr` directory).
    pub fn open_dir(dir: &Path) -> Result<ZarrStore> {
        check_path(dir, "a Zarr directory", PathKind::Directory)?;
        let store = zarrs::filesystem::FilesystemStore::new(dir)
            .map_err(|e| Error::file(dir, format!("cannot open as a Zarr store: {e}")))?;
        Ok(ZarrStore {
            store: Arc::new(store),
            location: dir.display().to_string(),
            local_root: Some(dir.to_path_buf()),
            http: None,
        })
    }

    /// The hierarchy under `url` (`http(s)://HOST:PORT/PATH.zarr`), read with a client of
    /// `config` (retries, size cap, requests in flight).
    pub fn open_http(url: &str, config: HttpConfig) -> Result<ZarrStore> {
        let client = Arc::new(HttpClient::new(config)?);
        Ok(Self::open_http_with(url, client))
    }

    /// Like [`ZarrStore::open_http`], over an existing client.
    pub fn open_http_with(url: &str, client: Arc<HttpClient>) -> ZarrStore {
        let http = Arc::new(HttpStore::new(client, url));
        ZarrStore {
            store: http.clone(),
            location: url.trim_end_matches('/').to_string(),
            local_root: None,
            http: Some(http),
        }
    }

    /// The HTTP client of a remote hierarchy (for its statistics).
    pub fn http_client(&self) -> Option<&Arc<HttpClient>> {
        self.http.as_ref().map(|h| h.client())
    }

    /// Where the hierarchy is: its directory or URL.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// How errors name node `node`: `DIR` for the root, `DIR:/group/array` otherwise.
    pub fn node_name(&self, node: &str) -> String {
        let t = node.trim_matches('/');
        if t.is_empty() {
            self.location.clone()
        } else {
            format!("{}:/{t}", self.location)
        }
    }

    /// Reads a metadata document of `node` (`None` if absent), at most
    /// [`MAX_METADATA_BYTES`], parsed as JSON.
    fn read_doc(&self, node: &str, file: &str) -> Result<Option<Value>> {
        let key_text = format!("{}{file}", node_prefix(node));
        let name = self.node_name(node);
        let bad = |m: String| Error::read(&name, None, format!("{file}: {m}"));
        let key = StoreKey::new(key_text.clone()).map_err(|e| bad(e.to_string()))?;
        if let Some(root) = &self.local_root {
            let path = root.join(&key_text);
            match std::fs::metadata(&path) {
                Err(_) => return Ok(None),
                Ok(m) if !m.is_file() => return Err(bad("not a regular file".into())),
                Ok(m) if m.len() > MAX_METADATA_BYTES => {
                    return Err(bad(format!(
                        "{} bytes, more than the {} MiB a metadata document may take",
                        m.len(),
                        MAX_METADATA_BYTES >> 20
                    )))
                }
                Ok(_) => {}
            }
        }
        let Some(bytes) = self.store.get(&key).map_err(|e| bad(e.to_string()))? else {
            return Ok(None);
        };
        if bytes.len() as u64 > MAX_METADATA_BYTES {
            return Err(bad(format!("{} bytes: too large", bytes.len())));
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| bad(format!("not valid JSON: {e}")))
    }

    /// What node `node` (`/`, `/group/array`) is. A node below the root that the root's
    /// consolidated metadata lists is taken from it, with no request for the node's own
    /// documents (and trusted, as zarr-python trusts it: see `consolidated_member`); otherwise
    /// its v3 `zarr.json` first, then v2 `.zarray` and `.zgroup`. A node with none of them is
    /// an error naming what was looked for.
    pub fn node(&self, node: &str) -> Result<ZarrNode> {
        if !node.trim_matches('/').is_empty() {
            if let Some(n) = self.consolidated_member(node)? {
                return Ok(n);
            }
        }
        self.own_node(node)
    }

    /// What node `node` is by its own metadata documents.
    fn own_node(&self, node: &str) -> Result<ZarrNode> {
        let name = self.node_name(node);
        let bad = |m: String| Error::read(&name, None, m);
        if let Some(doc) = self.read_doc(node, "zarr.json")? {
            return match doc.get("node_type").and_then(Value::as_str) {
                Some("group") => Ok(ZarrNode::Group {
                    format: ZarrFormat::V3,
                    attributes: doc
                        .get("attributes")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                }),
                _ => ZarrMeta::from_v3(doc)
                    .map(|m| ZarrNode::Array(Box::new(m)))
                    .map_err(|m| bad(format!("zarr.json: {m}"))),
            };
        }
        if let Some(doc) = self.read_doc(node, ".zarray")? {
            let attrs = self.read_doc(node, ".zattrs")?;
            return ZarrMeta::from_v2(doc, attrs)
                .map(|m| ZarrNode::Array(Box::new(m)))
                .map_err(|m| bad(format!(".zarray: {m}")));
        }
        if self.read_doc(node, ".zgroup")?.is_some() {
            let attrs = self.read_doc(node, ".zattrs")?;
            return Ok(ZarrNode::Group {
                format: ZarrFormat::V2,
                attributes: attrs
                    .and_then(|a| a.as_object().cloned())
                    .unwrap_or_default(),
            });
        }
        Err(bad(
            "no zarr.json (Zarr v3), .zarray or .zgroup (Zarr v2): not a Zarr array or group"
                .into(),
        ))
    }

    /// The array at `node` as a [`ZarrSource`]; a group is an error that says so.
    pub fn array(&self, node: &str) -> Result<ZarrSource> {
        let name = self.node_name(node);
        match self.node(node)? {
            ZarrNode::Array(meta) => {
                let identity = self.identity(node, &meta);
                self.source(node, *meta, identity)
            }
            ZarrNode::Group { .. } => Err(Error::Invalid(format!(
                "{name} is a Zarr group, not an array: name an array in it, as in {}:/NAME (`vastarray info {}` lists them)",
                self.location, self.location
            ))),
        }
    }

    /// The array at `node` from a record of its metadata ([`ZarrSource::cache_record`], as a
    /// cache file keeps it) instead of the store's own metadata: nothing is read. `stamp` is
    /// the stamp recorded with it; `None` when the record is not of this array (another
    /// location or node, a digest that does not match, or not a record at all).
    pub fn array_from_record(
        &self,
        node: &str,
        record: &str,
        stamp: &str,
    ) -> Result<Option<ZarrSource>> {
        let Ok(rec) = serde_json::from_str::<Value>(record) else {
            return Ok(None);
        };
        let doc = rec.get("document").cloned().unwrap_or(Value::Null);
        let meta = match rec.get("zarr_format").and_then(Value::as_u64) {
            Some(3) => ZarrMeta::from_v3(doc),
            Some(2) => {
                let attrs = doc.get("attributes").cloned();
                ZarrMeta::from_v2(doc, attrs)
            }
            _ => return Ok(None),
        };
        let Ok(meta) = meta else { return Ok(None) };
        let Some(base) = self.meta_stamp(node, &meta) else {
            return Ok(None);
        };
        // The stamp names this array and the digest of this very document (then validators).
        let base = crate::proxy::redact_credentials(&base);
        let ours = stamp == base || stamp.starts_with(&format!("{base} "));
        if !ours {
            return Ok(None);
        }
        self.source(node, meta, Some(stamp.to_string())).map(Some)
    }

    /// The stamp the array at `node` has now (its metadata read again; a remote one's server
    /// validators with it), credentials removed: what a cache of it records.
    pub fn current_stamp(&self, node: &str) -> Result<Option<String>> {
        match self.node(node)? {
            ZarrNode::Array(meta) => Ok(self
                .identity(node, &meta)
                .map(|s| crate::proxy::redact_credentials(&s))),
            ZarrNode::Group { .. } => Err(Error::Invalid(format!(
                "{} is now a Zarr group, not an array",
                self.node_name(node)
            ))),
        }
    }

    fn source(&self, node: &str, meta: ZarrMeta, identity: Option<String>) -> Result<ZarrSource> {
        ZarrSource::new(
            self.store.clone(),
            self.local_root.clone(),
            &format!("/{}", node.trim_matches('/')),
            meta,
            self.node_name(node),
            identity,
            self.http.as_ref().map(|h| h.client().clone()),
        )
    }

    /// `zarr NAME meta DIGEST`: where the array is and a digest of its metadata.
    fn meta_stamp(&self, node: &str, meta: &ZarrMeta) -> Option<String> {
        let doc = serde_json::to_string(&meta.document).ok()?;
        Some(format!(
            "zarr {} meta {:016x}",
            self.node_name(node),
            fnv1a(doc.as_bytes())
        ))
    }

    /// The stamp of an array for caches: where it is and a digest of its metadata (the URL of
    /// a remote one carries no credential; the server's validators are added by the opener).
    fn identity(&self, node: &str, meta: &ZarrMeta) -> Option<String> {
        let mut stamp = self.meta_stamp(node, meta)?;
        if let Some(h) = &self.http {
            let prefix = node_prefix(node);
            for f in ["zarr.json", ".zarray"] {
                if let Some(v) = h.validator(&format!("{prefix}{f}")) {
                    stamp.push_str(&format!(" validator {v}"));
                }
            }
        }
        Some(stamp)
    }

    /// The nodes of the hierarchy, the root first, then depth first with names sorted:
    /// (path, node), at most `limit` of them. From the root's consolidated metadata when it
    /// has some (v3: `consolidated_metadata` in the root's `zarr.json`; v2: `.zmetadata`, as
    /// `zarr.consolidate_metadata` writes them), with no request per node; otherwise a local
    /// hierarchy is listed directory by directory, and a remote one, which plain HTTP cannot
    /// list, is an error that says consolidated metadata is needed.
    pub fn tree(&self, limit: usize) -> Result<Vec<(String, ZarrNode)>> {
        let root = self.node("/")?;
        if matches!(root, ZarrNode::Array(_)) {
            return Ok(vec![("/".to_string(), root)]);
        }
        let mut out = vec![("/".to_string(), root.clone())];
        if let Some(mut nodes) = self.consolidated(&root)? {
            // Depth first, names sorted: the order of the paths' components.
            nodes.sort_by(|a, b| a.0.split('/').cmp(b.0.split('/')));
            out.extend(nodes.into_iter().take(limit.saturating_sub(1)));
            return Ok(out);
        }
        let Some(root) = &self.local_root else {
            return Err(Error::Invalid(format!(
                "{} is a Zarr group without consolidated metadata: its members cannot be listed over HTTP (a plain HTTP server lists no directory); consolidate its metadata (zarr.consolidate_metadata) or name an array in it, as in {}:/NAME",
                self.location, self.location
            )));
        };
        let mut stack = vec![(root.clone(), String::new())];
        while let Some((dir, path)) = stack.pop() {
            if !path.is_empty() {
                if out.len() >= limit {
                    break;
                }
                let node = self.own_node(&path)?;
                let is_array = matches!(node, ZarrNode::Array(_));
                out.push((path.clone(), node));
                if is_array {
                    continue; // an array's subdirectories hold chunks, not nodes
                }
            }
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .map_err(|e| Error::file(&dir, format!("cannot list: {e}")))?
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.'))
                .collect();
            names.sort();
            for n in names.into_iter().rev() {
                let d = dir.join(&n);
                if ["zarr.json", ".zarray", ".zgroup"]
                    .iter()
                    .any(|f| d.join(f).is_file())
                {
                    stack.push((d, format!("{path}/{n}")));
                }
            }
        }
        Ok(out)
    }

    /// The nodes below the root group `root` as its consolidated metadata lists them (`None`
    /// when it has none), each checked as its own metadata document would be.
    fn consolidated(&self, root: &ZarrNode) -> Result<Option<Vec<(String, ZarrNode)>>> {
        let ZarrNode::Group { format, .. } = root else {
            return Ok(None);
        };
        let members = match format {
            ZarrFormat::V3 => match self.read_doc("/", "zarr.json")? {
                Some(doc) => self.v3_members(&doc)?,
                None => None,
            },
            ZarrFormat::V2 => self.v2_members()?,
        };
        let Some((format, members)) = members else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for key in members.keys() {
            let dir = match format {
                ZarrFormat::V3 => key.as_str(),
                ZarrFormat::V2 => match key.rsplit_once('/') {
                    // The root's own documents, and the attributes of a member listed below.
                    Some((dir, ".zarray" | ".zgroup")) => dir,
                    _ => continue,
                },
            };
            if let Some(n) = self.member(format, &members, dir)? {
                out.push((
                    consolidated_path(dir).map_err(|m| self.bad_cm(format, m))?,
                    n,
                ));
            }
        }
        Ok(Some(out))
    }

    /// Node `node` (not the root) as the root's consolidated metadata describes it, `None`
    /// when the root has none or does not list the node. Reads the root's `zarr.json`, or
    /// without one its `.zmetadata`, and nothing of the node itself.
    ///
    /// The consolidated copy is trusted, as zarr-python trusts it when it opens a group
    /// consolidated (its default when the group has consolidated metadata): a member changed
    /// since the metadata was consolidated reads with the consolidated metadata until
    /// `zarr.consolidate_metadata` runs again.
    fn consolidated_member(&self, node: &str) -> Result<Option<ZarrNode>> {
        let key = node.trim_matches('/');
        let members = match self.read_doc("/", "zarr.json")? {
            Some(doc) => self.v3_members(&doc)?,
            None => self.v2_members()?,
        };
        match members {
            Some((format, members)) => self.member(format, &members, key),
            None => Ok(None),
        }
    }

    /// The `metadata` object of a v3 root `doc`'s consolidated metadata (`None`: it has none).
    fn v3_members(&self, doc: &Value) -> Result<Option<(ZarrFormat, Map<String, Value>)>> {
        if doc.get("node_type").and_then(Value::as_str) != Some("group") {
            return Ok(None);
        }
        let Some(cm) = doc.get("consolidated_metadata").filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        self.members_of(cm, ZarrFormat::V3).map(Some)
    }

    /// The `metadata` object of the root's v2 `.zmetadata` (`None`: there is none).
    fn v2_members(&self) -> Result<Option<(ZarrFormat, Map<String, Value>)>> {
        let Some(doc) = self.read_doc("/", ".zmetadata")? else {
            return Ok(None);
        };
        self.members_of(&doc, ZarrFormat::V2).map(Some)
    }

    /// The `metadata` object of consolidated metadata `cm` (v3's `consolidated_metadata`, v2's
    /// `.zmetadata`).
    fn members_of(
        &self,
        cm: &Value,
        format: ZarrFormat,
    ) -> Result<(ZarrFormat, Map<String, Value>)> {
        let members = cm
            .get("metadata")
            .and_then(Value::as_object)
            .ok_or_else(|| self.bad_cm(format, "no metadata object".into()))?;
        Ok((format, members.clone()))
    }

    /// The member at `key` (`grp/a`) of consolidated `members`, checked as its own metadata
    /// document would be; `None` when they do not list it.
    fn member(
        &self,
        format: ZarrFormat,
        members: &Map<String, Value>,
        key: &str,
    ) -> Result<Option<ZarrNode>> {
        let bad = |m: String| self.bad_cm(format, format!("/{key}: {m}"));
        let attributes =
            |v: Option<&Value>| v.and_then(Value::as_object).cloned().unwrap_or_default();
        match format {
            ZarrFormat::V3 => {
                let Some(node) = members.get(key) else {
                    return Ok(None);
                };
                match node.get("node_type").and_then(Value::as_str) {
                    Some("group") => Ok(Some(ZarrNode::Group {
                        format,
                        attributes: attributes(node.get("attributes")),
                    })),
                    _ => ZarrMeta::from_v3(node.clone())
                        .map(|m| Some(ZarrNode::Array(Box::new(m))))
                        .map_err(bad),
                }
            }
            ZarrFormat::V2 => {
                let attrs = members.get(&format!("{key}/.zattrs")).cloned();
                if let Some(doc) = members.get(&format!("{key}/.zarray")) {
                    return ZarrMeta::from_v2(doc.clone(), attrs)
                        .map(|m| Some(ZarrNode::Array(Box::new(m))))
                        .map_err(bad);
                }
                if members.contains_key(&format!("{key}/.zgroup")) {
                    return Ok(Some(ZarrNode::Group {
                        format,
                        attributes: attributes(attrs.as_ref()),
                    }));
                }
                Ok(None)
            }
        }
    }

    /// An error about the root's consolidated metadata.
    fn bad_cm(&self, format: ZarrFormat, m: String) -> Error {
        let file = match format {
            ZarrFormat::V3 => "zarr.json consolidated_metadata",
            ZarrFormat::V2 => ".zmetadata",
        };
        Error::read(self.node_name("/"), None, format!("{file}: {m}"))
    }
}

/// `/a/b` for the key `a/b` of consolidated metadata; a key with empty, `.` or `..` parts
/// is an error.
fn consolidated_path(key: &str) -> std::result::Result<String, String> {
    let k = key.trim_matches('/');
    if k.is_empty() || k.split('/').any(|p| p.is_empty() || p == "." || p == "..") {
        return Err(format!("member name {key:?} is not a path of nodes"));
    }
    Ok(format!("/{k}"))
}

/// 64-bit FNV-1a: a digest that is the same in every build (for cache stamps).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
