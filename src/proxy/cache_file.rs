//! [`CacheFile`]: tier 2 of the chunk cache, one `.b2nd` file with the source's shape, chunk
//! shape and element type, plus two variable-length metadata entries:
//!
//! - `proxy-present`: a bitmap (bytes, chunk `n` is bit `n % 8` of byte `n / 8`, chunks in C
//!   order of the grid) of the chunks fetched. An all-zero chunk that was fetched is present;
//!   a chunk never fetched is a Blosc2 special zero chunk and reads as zeros in python-blosc2.
//! - `proxy-stamp`: the source's identity with credentials removed.
//!
//! Writing a chunk is one transaction under the undo journal ([`FrameJournal`]): chunk data,
//! then the bitmap, then the journal is removed. A process killed at any point leaves a file
//! that reopens as it was before the transaction (the chunk is simply missing).
//!
//! One process at a time: opening takes an exclusive lock (`fs2`) on `<file>.lock` for the
//! cache's whole life. A second process either waits for the first to close the cache
//! ([`LockMode::Wait`], the default) or gets an error at once ([`LockMode::Fail`]).

use super::pool::ChunkBytes;
use crate::blosc::{
    journal_path, B2ndFile, B2ndMeta, ChunkLayout, Compression, FrameJournal, VlValue,
};
use crate::error::{Error, Result};
use fs2::FileExt;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

const PRESENT: &str = "proxy-present";
const STAMP: &str = "proxy-stamp";

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
        }
    }
}

type AfterDataHook = Arc<dyn Fn(usize) + Send + Sync>;

struct Inner {
    file: B2ndFile,
    present: Vec<u8>,
}

/// An open persistent chunk cache.
pub(crate) struct CacheFile {
    path: PathBuf,
    inner: Mutex<Inner>,
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
        let lock = lock_file(&path, opts.lock)?;
        let recovered = FrameJournal::recover(&path)?;
        let nchunks = want.grid().num_chunks();
        let bytes = nchunks.div_ceil(8);
        let (file, present) = if path.exists() {
            let file = B2ndFile::open(&path).map_err(|e| cache_err(&path, e))?;
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
            match (present, old_stamp) {
                (Some(p), Some(s)) if s == stamp => (file, p),
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
                    create(&path, want, stamp, compression, bytes)?
                }
            }
        } else {
            create(&path, want, stamp, compression, bytes)?
        };
        Ok(CacheFile {
            path,
            inner: Mutex::new(Inner { file, present }),
            durable: opts.durable,
            recovered,
            after_data,
            _lock: lock,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// True when opening rolled back an update a killed process left unfinished.
    pub(crate) fn recovered(&self) -> bool {
        self.recovered
    }

    /// The layout of the file's chunks (its own block shape).
    pub(crate) fn layout(&self) -> Result<ChunkLayout> {
        self.lock().file.meta().layout()
    }

    /// True when chunk `n` has been fetched.
    pub(crate) fn contains(&self, n: usize) -> bool {
        bit(&self.lock().present, n)
    }

    /// Number of chunks fetched.
    pub(crate) fn count(&self) -> usize {
        self.lock()
            .present
            .iter()
            .map(|b| b.count_ones() as usize)
            .sum()
    }

    /// The compressed bytes of chunk `n`, if it has been fetched.
    pub(crate) fn read(&self, n: usize) -> Result<Option<ChunkBytes>> {
        let g = self.lock();
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
        let mut g = self.lock();
        if bit(&g.present, n) {
            return Ok(());
        }
        let journal = FrameJournal::begin(&self.path, self.durable)?;
        let result: Result<Vec<u8>> = (|| {
            if !g.file.chunk_is_special(n)? {
                g.file.clear_chunk(n)?;
            }
            g.file.update_chunk(n, raw)?;
            if let Some(hook) = &self.after_data {
                hook(n);
            }
            let mut present = g.present.clone();
            if let Some(b) = present.get_mut(n / 8) {
                *b |= 1 << (n % 8);
            }
            g.file
                .set_vlmeta(PRESENT, &VlValue::Bytes(present.clone()))?;
            Ok(present)
        })();
        match result {
            Ok(present) => {
                g.present = present;
                journal.commit(&self.path, self.durable)
            }
            Err(e) => {
                // Roll the file back to its state before this chunk and reopen the handle, so
                // memory and disk agree again.
                let reopened =
                    FrameJournal::recover(&self.path).and_then(|_| B2ndFile::open(&self.path));
                match reopened {
                    Ok(f) => g.file = f,
                    Err(e2) => {
                        return Err(cache_err(
                            &self.path,
                            format!("writing chunk {n}: {e}; rolling back: {e2}"),
                        ))
                    }
                }
                Err(cache_err(&self.path, format!("writing chunk {n}: {e}")))
            }
        }
    }
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
        f.set_vlmeta(STAMP, &VlValue::Text(stamp.to_string()))?;
        f.set_vlmeta(PRESENT, &VlValue::Bytes(present.clone()))?;
        Ok::<_, Error>(())
    })();
    if let Err(e) = made {
        let _ = std::fs::remove_file(&tmp);
        return Err(cache_err(path, format!("cannot create: {e}")));
    }
    let _ = std::fs::remove_file(journal_path(path));
    std::fs::rename(&tmp, path)
        .map_err(|e| cache_err(path, format!("cannot move the new cache into place: {e}")))?;
    let file = B2ndFile::open(path).map_err(|e| cache_err(path, e))?;
    Ok((file, present))
}
