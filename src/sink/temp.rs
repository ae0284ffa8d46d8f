//! The temporary files of every sink: one naming and locking scheme, so a store killed with
//! `kill -9` leaves nothing behind for long.
//!
//! A store of `DIR/NAME` writes `DIR/.NAME.vastarray-tmp-PID-N` and renames it to `NAME` when
//! complete. Beside it, `DIR/.NAME.vastarray-tmp-PID-N.lock` is held with an exclusive lock
//! (`flock`) for as long as the writer lives: the kernel releases it when the process dies,
//! however it dies. Before claiming a name, a store of `NAME` removes the temporaries of
//! `NAME` whose lock is free ([`remove_stale`]): those of crashed or killed writers, never
//! those of a live one (in this process or another), nor those of other destinations.
//!
//! The lock is on a file of its own, not on the temporary file, because the HDF5 library
//! locks the files it writes itself.
//!
//! ```
//! use vastarray::sink::temp::TempFile;
//! let dir = tempfile::tempdir().unwrap();
//! let dest = dir.path().join("out.npy");
//! let temp = TempFile::claim(&dest).unwrap();
//! std::fs::write(temp.path(), b"...").unwrap();
//! assert!(!dest.exists(), "nothing at the destination until the writer renames");
//! assert!(temp.path().file_name().unwrap().to_str().unwrap().starts_with(".out.npy.vastarray-tmp-"));
//! ```

use crate::error::{Error, Result};
use fs2::FileExt;
use std::ffi::OsString;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What follows `.NAME` in the name of a temporary file.
const MARK: &str = ".vastarray-tmp-";
/// What follows a temporary file's name in the name of its lock file.
const LOCK_SUFFIX: &str = ".lock";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A claimed temporary name beside a destination, locked while this value lives. The sink
/// creates the file at [`TempFile::path`], writes it and renames it to the destination;
/// dropping the value removes whatever is left (the temporary file if it was not renamed,
/// and the lock file) and releases the lock.
///
/// It dereferences to the temporary [`Path`], so it can be passed wherever a path is.
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
    lock_path: PathBuf,
    _lock: File,
}

impl TempFile {
    /// Claims a new temporary name beside `dest` (whose directory must exist), after removing
    /// the stale temporaries of `dest`. Creates only the lock file, not the temporary file.
    pub fn claim(dest: &Path) -> Result<TempFile> {
        let (dir, name) = split(dest)?;
        if !dir.is_dir() {
            return Err(Error::file(dest, "its directory does not exist"));
        }
        // Best effort: a stale file that cannot be removed does not stop the store.
        let _ = remove_stale(dest);
        let pid = std::process::id();
        for _ in 0..1000 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut base = OsString::from(".");
            base.push(&name);
            base.push(format!("{MARK}{pid}-{n}"));
            let path = dir.join(&base);
            let mut lock_name = base;
            lock_name.push(LOCK_SUFFIX);
            let lock_path = dir.join(lock_name);
            let lock = match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock_path)
            {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(Error::file(
                        &lock_path,
                        format!("cannot create the lock of a temporary file: {e}"),
                    ))
                }
            };
            // Between creating and locking, a cleaner may have taken the free lock and removed
            // the file: then this name is not ours, take another.
            if lock.try_lock_exclusive().is_err() || !same_file(&lock, &lock_path) {
                continue;
            }
            if path.symlink_metadata().is_ok() {
                // Left by an earlier process with this process id: not ours to reuse.
                drop(lock);
                let _ = std::fs::remove_file(&lock_path);
                continue;
            }
            return Ok(TempFile {
                path,
                lock_path,
                _lock: lock,
            });
        }
        Err(Error::file(dest, "cannot find a free temporary file name"))
    }

    /// The temporary file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // The temporary file first: a temporary file never exists without its lock file.
        let _ = remove_any(&self.path);
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

impl std::ops::Deref for TempFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for TempFile {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl From<&TempFile> for PathBuf {
    fn from(t: &TempFile) -> PathBuf {
        t.path.clone()
    }
}

/// Removes the temporary files (and lock files) of `dest` left by writers that are gone: those
/// whose lock nobody holds. Returns how many temporaries were removed. Files of live writers,
/// of other destinations and anything not named by this scheme are left alone.
pub fn remove_stale(dest: &Path) -> Result<usize> {
    let (dir, name) = split(dest)?;
    let mut prefix = OsString::from(".");
    prefix.push(&name);
    prefix.push(MARK);
    let entries =
        std::fs::read_dir(&dir).map_err(|e| Error::file(&dir, "cannot list").caused_by(e))?;
    let mut bases: Vec<OsString> = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name
            .as_encoded_bytes()
            .strip_prefix(prefix.as_encoded_bytes())
        else {
            continue;
        };
        let id = rest.strip_suffix(LOCK_SUFFIX.as_bytes()).unwrap_or(rest);
        // `PID-N` is ASCII, so it is a str and the base name is the prefix followed by it.
        let Some(id) = std::str::from_utf8(id).ok().filter(|id| is_pid_counter(id)) else {
            continue;
        };
        let mut base = prefix.clone();
        base.push(id);
        if !bases.contains(&base) {
            bases.push(base);
        }
    }
    let mut removed = 0;
    for base in bases {
        let path = dir.join(&base);
        let mut lock_name = base;
        lock_name.push(LOCK_SUFFIX);
        let lock_path = dir.join(lock_name);
        match File::open(&lock_path) {
            Ok(lock) => {
                if lock.try_lock_exclusive().is_err() || !same_file(&lock, &lock_path) {
                    continue; // a live writer (or a cleaner at work)
                }
                if remove_any(&path).is_ok() {
                    removed += 1;
                }
                let _ = std::fs::remove_file(&lock_path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A live writer's temporary file always has its lock file: this one is stale.
                if remove_any(&path).is_ok() {
                    removed += 1;
                }
            }
            Err(_) => {}
        }
    }
    Ok(removed)
}

/// Removes a temporary file, or a temporary directory with its contents (sinks of formats
/// stored as a folder, such as Zarr, build one); a symbolic link is removed, not followed.
fn remove_any(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        _ => std::fs::remove_file(path),
    }
}

/// `PID-N`: two decimal numbers joined by a dash.
fn is_pid_counter(id: &str) -> bool {
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    id.split_once('-')
        .is_some_and(|(pid, n)| digits(pid) && digits(n))
}

/// True when the open `file` is still the file at `path` (not removed or replaced).
fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// The directory and file name of a destination.
fn split(dest: &Path) -> Result<(PathBuf, OsString)> {
    let name = dest
        .file_name()
        .ok_or_else(|| Error::file(dest, "is not a file name"))?
        .to_os_string();
    let dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    Ok((dir, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn names_say_what_and_for_which_destination() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.npy");
        let t = TempFile::claim(&dest).unwrap();
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        let pid = std::process::id();
        assert!(
            name.starts_with(&format!(".out.npy.vastarray-tmp-{pid}-")),
            "{name}"
        );
        std::fs::write(t.path(), b"partial").unwrap();
        assert_eq!(
            names(dir.path()),
            vec![name.clone(), format!("{name}.lock")]
        );
        drop(t);
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn stale_temporaries_go_live_ones_and_others_stay() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let dest = d.join("out.b2nd");
        // Left by killed writers: a temporary with a free lock, one whose lock file is gone,
        // and a lock file alone.
        for f in [
            ".out.b2nd.vastarray-tmp-1-0",
            ".out.b2nd.vastarray-tmp-1-0.lock",
            ".out.b2nd.vastarray-tmp-2-7",
            ".out.b2nd.vastarray-tmp-3-1.lock",
        ] {
            std::fs::write(d.join(f), b"x").unwrap();
        }
        // Not stale, or not ours: another destination's, a name of another scheme, the
        // destination itself.
        let keep = [
            ".out.b2nd.vastarray-tmp-x",
            ".other.b2nd.vastarray-tmp-1-0",
            ".out.b2nd.vastarray-tmp-1-0-9",
            "out.b2nd",
        ];
        for f in keep {
            std::fs::write(d.join(f), b"x").unwrap();
        }
        // A live writer of the same destination.
        let live = TempFile::claim(&dest).unwrap();
        std::fs::write(live.path(), b"live").unwrap();
        let live_name = live.file_name().unwrap().to_string_lossy().into_owned();
        // The claim above already cleaned; put back the stale files and clean again.
        std::fs::write(d.join(".out.b2nd.vastarray-tmp-1-0"), b"x").unwrap();
        std::fs::write(d.join(".out.b2nd.vastarray-tmp-1-0.lock"), b"x").unwrap();
        assert_eq!(remove_stale(&dest).unwrap(), 1);
        let mut want: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
        want.push(live_name.clone());
        want.push(format!("{live_name}.lock"));
        want.sort();
        assert_eq!(names(d), want);
        // A second writer in the same process does not remove the first one's file.
        let second = TempFile::claim(&dest).unwrap();
        assert!(live.path().exists());
        assert_ne!(second.path(), live.path());
        drop(second);
        drop(live);
        let mut want: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(names(d), want);
    }
}
