//! [`CacheFile`]: tier 2 of the chunk cache, one `.b2nd` file with the source's shape, chunk
//! shape and element type, plus two variable-length metadata entries:
//!
//! - `proxy-present`: a bitmap (bytes, chunk `n` is bit `n % 8` of byte `n / 8`, chunks in C
//!   order of the grid) of the chunks fetched. An all-zero chunk that was fetched is present;
//!   a chunk never fetched is a Blosc2 special zero chunk and reads as zeros in python-blosc2.
//! - `proxy-stamp`: the source's identity with credentials removed.
//!
//! - `proxy-wasted`: bytes of the file no longer referenced (text, a decimal number).
//! - `proxy-source-meta` (optional): the source's own metadata as text (a Zarr array's
//!   `zarr.json`), so a later run can open the source from the cache without asking its server
//!   ([`cached_source`]); recorded when the file is created, or into a file of the same stamp
//!   made without it (by an older version) the next time it is opened with it.
//!
//! Writing a chunk is one transaction ([`B2ndFile::commit`]): the chunk, a new chunk index and a
//! new trailer (with the new bitmap) are appended after the frame, then one small write of the
//! header switches to them. The file is a valid frame at every instant, so python-blosc2 can
//! open it at any time, even right after a killed writer; a chunk whose commit did not finish
//! is simply missing, and its bytes are cut off when vastarray reopens the cache. When the
//! unreferenced bytes outgrow the live ones, the file is rewritten compactly under a temporary
//! name and renamed into place.
//!
//! One process at a time: opening takes an exclusive lock (`fs2`) on `<file>.lock` for the
//! cache's whole life. A second process either waits for the first to close the cache
//! ([`LockMode::Wait`], the default) or gets an error at once ([`LockMode::Fail`]).

use super::pool::ChunkBytes;
use crate::error::{Error, Result};
use crate::io::b2nd::{
    journal_path, B2ndFile, B2ndMeta, ChunkLayout, Compression, FrameJournal, FrameUpdate, VlValue,
};
use fs2::FileExt;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

const PRESENT: &str = "proxy-present";
const STAMP: &str = "proxy-stamp";
const WASTED: &str = "proxy-wasted";
const SOURCE_META: &str = "proxy-source-meta";
/// The file is rewritten when its unreferenced bytes exceed both this and its live bytes.
const COMPACT_ABOVE: u64 = 8 << 20;

/// What a second process does when another one has the cache file open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LockMode {
    /// Wait until the other process closes the cache.
    #[default]
    Wait,
    /// Fail at once with an error naming the file.
    Fail,
}

/// How to open a persistent cache file.
#[derive(Clone, Debug)]
pub struct CacheFileOptions {
    /// The `.b2nd` file.
    pub path: PathBuf,
    /// The stamp to record and check; `None` uses the source's `identity()`.
    pub stamp: Option<String>,
    /// Start afresh (discard cached chunks) when the stamp differs, instead of failing.
    pub start_afresh: bool,
    /// What to do when another process holds the file.
    pub lock: LockMode,
    /// Flush each chunk to disk before marking it present (survives power loss, not only a
    /// killed process; slower).
    pub durable: bool,
    /// The source's metadata as text, recorded when the file is created (see [`cached_source`]).
    pub source_metadata: Option<String>,
}

/// What an existing cache file records about its source, read by [`cached_source`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedSource {
    /// The source's stamp (credential-free).
    pub stamp: String,
    /// The source's metadata as text, if the cache recorded it.
    pub metadata: Option<String>,
    /// Chunks the cache holds.
    pub chunks_held: usize,
    /// Chunks of the whole array.
    pub chunks_total: usize,
}

/// What cache file `path` records about its source (`None` when there is no such file, or it
/// is not a vastarray cache), read without its lock: the file is a valid frame at every
/// instant, and whoever opens it next checks the stamp again under the lock.
pub fn cached_source(path: &Path) -> Result<Option<CachedSource>> {
    if !path.is_file() {
        return Ok(None);
    }
    let file = B2ndFile::open(path).map_err(|e| cache_err(path, e))?;
    let stamp = match file.vlmeta(STAMP).map_err(|e| cache_err(path, e))? {
        Some(VlValue::Text(s)) => s,
        _ => return Ok(None),
    };
    let present = match file.vlmeta(PRESENT).map_err(|e| cache_err(path, e))? {
        Some(VlValue::Bytes(b)) => b,
        _ => return Ok(None),
    };
    let metadata = match file.vlmeta(SOURCE_META).map_err(|e| cache_err(path, e))? {
        Some(VlValue::Text(s)) => Some(s),
        _ => None,
    };
    let chunks_total = file.num_chunks();
    let chunks_held = (0..chunks_total).filter(|&n| bit(&present, n)).count();
    Ok(Some(CachedSource {
        stamp,
        metadata,
        chunks_held,
        chunks_total,
    }))
}

impl CacheFileOptions {
    /// Defaults for a path: source identity as stamp, error on mismatch, wait for the lock,
    /// not durable.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CacheFileOptions {
            path: path.into(),
            stamp: None,
            start_afresh: false,
            lock: LockMode::Wait,
            durable: false,
            source_metadata: None,
        }
    }
}

type AfterDataHook = Arc<dyn Fn(usize) + Send + Sync>;

struct Inner {
    file: B2ndFile,
    present: Vec<u8>,
    wasted: u64,
}

/// An open persistent chunk cache.
pub(crate) struct CacheFile {
    path: PathBuf,
    inner: RwLock<Inner>,
    durable: bool,
    recovered: bool,
    after_data: Option<AfterDataHook>,
    _lock: File,
}

fn bit(bits: &[u8], n: usize) -> bool {
    bits.get(n / 8).is_some_and(|b| b & (1 << (n % 8)) != 0)
}

fn cache_err(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::Cache {
        path: path.to_path_buf(),
        message: msg.to_string(),
    }
}

impl CacheFile {
    /// Opens (or creates) the cache for a source of geometry `want` (its block shape is used
    /// only when the file is created) and a stamp already free of credentials.
    pub(crate) fn open(
        opts: &CacheFileOptions,
        want: &B2ndMeta,
        stamp: &str,
        compression: Compression,
        after_data: Option<AfterDataHook>,
    ) -> Result<CacheFile> {
        let path = opts.path.clone();
        // Checked before anything is allocated per chunk (the bitmap has a bit per chunk).
        let nchunks = want.validate().map_err(|e| cache_err(&path, e))?;
        let lock = lock_file(&path, opts.lock)?;
        // Caches written by older versions updated the frame in place under an undo journal.
        let mut recovered = FrameJournal::recover(&path)?;
        let bytes = nchunks.div_ceil(8);
        let source_meta = opts.source_metadata.clone().unwrap_or_default();
        let (file, present, wasted) = if path.exists() {
            let (file, cut) = B2ndFile::open_rw_report(&path).map_err(|e| cache_err(&path, e))?;
            recovered |= cut;
            let got = file.meta();
            if got.shape != want.shape || got.chunks != want.chunks || got.dtype != want.dtype {
                return Err(cache_err(
                    &path,
                    format!(
                        "geometry differs: the file has shape {:?}, chunks {:?}, {}; the source has shape {:?}, chunks {:?}, {}",
                        got.shape, got.chunks, got.dtype, want.shape, want.chunks, want.dtype
                    ),
                ));
            }
            let present = match file.vlmeta(PRESENT).map_err(|e| cache_err(&path, e))? {
                Some(VlValue::Bytes(b)) if b.len() == bytes => Some(b),
                Some(_) => return Err(cache_err(&path, "its chunk bitmap is damaged")),
                None => None,
            };
            let old_stamp = match file.vlmeta(STAMP).map_err(|e| cache_err(&path, e))? {
                Some(VlValue::Text(s)) => Some(s),
                _ => None,
            };
            let wasted = match file.vlmeta(WASTED) {
                Ok(Some(VlValue::Text(t))) => t.parse().unwrap_or(0),
                _ => 0,
            };
            match (present, old_stamp) {
                (Some(p), Some(s)) if s == stamp => {
                    let mut file = file;
                    let wasted = record_source_meta(&mut file, &path, &source_meta, wasted)?;
                    (file, p, wasted)
                }
                (Some(_), Some(s)) if !opts.start_afresh => {
                    return Err(cache_err(
                        &path,
                        format!("it caches another source (stamp {s:?}, the source is {stamp:?}); ask to start afresh to discard it"),
                    ))
                }
                (None, _) | (_, None) if !opts.start_afresh => {
                    return Err(cache_err(&path, "not a vastarray cache file (no chunk bitmap or stamp); ask to start afresh to replace it"))
                }
                _ => {
                    drop(file);
                    let (f, p) = create(&path, want, stamp, &source_meta, compression, bytes)?;
                    (f, p, 0)
                }
            }
        } else {
            let (f, p) = create(&path, want, stamp, &source_meta, compression, bytes)?;
            (f, p, 0)
        };
        // A chunk marked present holds data (even an all-zero one, see `write`): a bitmap that
        // says otherwise (damage, or a cache of an older version, which stored all-zero chunks
        // as index entries) is corrected, and the chunk read again.
        let mut present = present;
        for n in 0..nchunks {
            if bit(&present, n) && file.chunk_is_special(n).unwrap_or(true) {
                present[n / 8] &= !(1 << (n % 8));
            }
        }
        Ok(CacheFile {
            path,
            inner: RwLock::new(Inner {
                file,
                present,
                wasted,
            }),
            durable: opts.durable,
            recovered,
            after_data,
            _lock: lock,
        })
    }

    fn read_lock(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_lock(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// True when opening found an update a killed process left unfinished (and discarded it).
    pub(crate) fn recovered(&self) -> bool {
        self.recovered
    }

    /// The layout of the file's chunks (its own block shape).
    pub(crate) fn layout(&self) -> Result<ChunkLayout> {
        Ok(self.read_lock().file.layout().clone())
    }

    /// True when chunk `n` has been fetched.
    pub(crate) fn contains(&self, n: usize) -> bool {
        bit(&self.read_lock().present, n)
    }

    /// Number of chunks fetched.
    pub(crate) fn count(&self) -> usize {
        self.read_lock()
            .present
            .iter()
            .map(|b| b.count_ones() as usize)
            .sum()
    }

    /// The compressed bytes of chunk `n`, if it has been fetched (checked as every chunk read
    /// from a file is: header, sizes and block starts).
    pub(crate) fn read(&self, n: usize) -> Result<Option<ChunkBytes>> {
        let g = self.read_lock();
        if !bit(&g.present, n) {
            return Ok(None);
        }
        g.file
            .chunk_bytes(n)
            .map(|b| Some(Arc::new(b)))
            .map_err(|e| cache_err(&self.path, e))
    }

    /// Stores chunk `n` and marks it present, as one transaction.
    pub(crate) fn write(&self, n: usize, raw: &[u8]) -> Result<()> {
        let mut g = self.write_lock();
        if bit(&g.present, n) {
            return Ok(());
        }
        let mut present = g.present.clone();
        if let Some(b) = present.get_mut(n / 8) {
            *b |= 1 << (n % 8);
        }
        let wasted = g.wasted + g.file.waste_of(&[n]);
        let bitmap = VlValue::Bytes(present.clone()).pack();
        let waste_text = VlValue::Text(wasted.to_string()).pack();
        let update = FrameUpdate {
            chunks: vec![(n, raw)],
            vlmeta: vec![(PRESENT, &bitmap), (WASTED, &waste_text)],
            durable: self.durable,
            // An all-zero chunk is stored as data, so "present" always means "holds data".
            store_special: true,
        };
        let hook = self.after_data.as_ref().map(|h| {
            let h = h.clone();
            move || h(n)
        });
        let result = g
            .file
            .commit(&update, hook.as_ref().map(|h| h as &dyn Fn()));
        if let Err(e) = result {
            // The frame on disk is the old one or the new one; reopen to agree with it.
            let reopened = B2ndFile::open_rw(&self.path).and_then(|f| {
                let p = match f.vlmeta(PRESENT)? {
                    Some(VlValue::Bytes(b)) if b.len() == g.present.len() => b,
                    _ => g.present.clone(),
                };
                Ok((f, p))
            });
            return match reopened {
                Ok((f, p)) => {
                    g.file = f;
                    g.present = p;
                    Err(cache_err(&self.path, format!("writing chunk {n}: {e}")))
                }
                Err(e2) => Err(cache_err(
                    &self.path,
                    format!("writing chunk {n}: {e}; reopening: {e2}"),
                )),
            };
        }
        g.present = present;
        g.wasted = wasted;
        let live = g.file.frame_len().saturating_sub(wasted);
        if wasted > COMPACT_ABOVE && wasted > live {
            let zero = VlValue::Text("0".into()).pack();
            g.file
                .compact(&[(WASTED, &zero)])
                .map_err(|e| cache_err(&self.path, format!("compacting: {e}")))?;
            g.wasted = 0;
        }
        Ok(())
    }
}

/// Records `source_meta` (if any) into a cache of the same stamp that lacks it (one made
/// before the metadata was recorded), so that later runs open the source from the cache
/// without asking its server; gives the file's unreferenced bytes after it (`wasted` before).
/// A record already there is kept: the stamp, a digest of the metadata, matched.
fn record_source_meta(
    file: &mut B2ndFile,
    path: &Path,
    source_meta: &str,
    wasted: u64,
) -> Result<u64> {
    if source_meta.is_empty() || file.vlmeta(SOURCE_META).is_ok_and(|v| v.is_some()) {
        return Ok(wasted);
    }
    let wasted = wasted + file.waste_of(&[]);
    let text = VlValue::Text(source_meta.to_string()).pack();
    let waste_text = VlValue::Text(wasted.to_string()).pack();
    let update = FrameUpdate {
        vlmeta: vec![(SOURCE_META, &text), (WASTED, &waste_text)],
        ..FrameUpdate::default()
    };
    file.commit(&update, None)
        .map_err(|e| cache_err(path, format!("recording the source's metadata: {e}")))?;
    Ok(wasted)
}

fn lock_file(path: &Path, mode: LockMode) -> Result<File> {
    let mut s = path.as_os_str().to_owned();
    s.push(".lock");
    let lock_path = PathBuf::from(s);
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| {
            cache_err(
                path,
                format!("cannot open lock file {}: {e}", lock_path.display()),
            )
        })?;
    match mode {
        LockMode::Wait => f
            .lock_exclusive()
            .map_err(|e| cache_err(path, format!("cannot lock: {e}")))?,
        LockMode::Fail => f.try_lock_exclusive().map_err(|e| {
            cache_err(
                path,
                format!(
                    "in use by another process (lock {} is held): {e}",
                    lock_path.display()
                ),
            )
        })?,
    }
    Ok(f)
}

/// Creates a new cache file under a temporary name and renames it into place once its
/// metadata is written, so a half-created file is never taken for a cache.
fn create(
    path: &Path,
    meta: &B2ndMeta,
    stamp: &str,
    source_meta: &str,
    compression: Compression,
    bitmap_bytes: usize,
) -> Result<(B2ndFile, Vec<u8>)> {
    let tmp = {
        let mut s = path.as_os_str().to_owned();
        s.push(format!(".creating-{}", std::process::id()));
        PathBuf::from(s)
    };
    let present = vec![0u8; bitmap_bytes];
    let made = (|| {
        let mut f = B2ndFile::create_zeros(&tmp, meta, compression)?;
        let stamp = VlValue::Text(stamp.to_string()).pack();
        let bitmap = VlValue::Bytes(present.clone()).pack();
        let zero = VlValue::Text("0".into()).pack();
        let source = VlValue::Text(source_meta.to_string()).pack();
        let mut vlmeta = vec![(STAMP, &stamp[..]), (PRESENT, &bitmap), (WASTED, &zero)];
        if !source_meta.is_empty() {
            vlmeta.push((SOURCE_META, &source));
        }
        f.commit(
            &FrameUpdate {
                vlmeta,
                ..FrameUpdate::default()
            },
            None,
        )?;
        Ok::<_, Error>(())
    })();
    if let Err(e) = made {
        let _ = std::fs::remove_file(&tmp);
        return Err(cache_err(path, format!("cannot create: {e}")));
    }
    let _ = std::fs::remove_file(journal_path(path));
    std::fs::rename(&tmp, path)
        .map_err(|e| cache_err(path, format!("cannot move the new cache into place: {e}")))?;
    let file = B2ndFile::open_rw(path).map_err(|e| cache_err(path, e))?;
    Ok((file, present))
}
