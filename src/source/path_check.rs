//! What a source path names, checked before anything opens it: a format stored in one file
//! reads a regular file, a format stored as a folder reads a directory, and anything else (a
//! named pipe, a socket, a device) is refused with an error naming the path. Opening a named
//! pipe for reading blocks until a writer comes, so "open, then look" would hang.
//!
//! [`check_path`] looks at the path (following symbolic links) without opening it;
//! [`open_regular_file`] opens with `O_NONBLOCK` and checks the opened file again, so a file
//! swapped for a pipe between the check and the open cannot hang either.
//!
//! ```
//! use vastarray::source::path_check::{check_path, PathKind};
//! let dir = tempfile::tempdir().unwrap();
//! let e = check_path(dir.path(), "a .npy file", PathKind::File).unwrap_err();
//! assert!(e.to_string().contains("a .npy file"), "{e}");
//! assert!(check_path(dir.path(), "a Zarr array", PathKind::Directory).is_ok());
//! ```

use crate::error::{Error, Result};
use std::fs::{File, FileType, Metadata};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// What a format keeps its data in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathKind {
    /// One regular file (`.npy`, `.b2nd`, HDF5).
    File,
    /// A directory (formats stored as a folder of files).
    Directory,
}

/// Checks that `path` is what a `format` source of `kind` reads (following symbolic links),
/// without opening it, and returns its metadata. The error names the path, what it is, and
/// the format (`"a .npy file"`).
pub fn check_path(path: &Path, format: &str, kind: PathKind) -> Result<Metadata> {
    let meta =
        std::fs::metadata(path).map_err(|e| Error::file(path, "cannot open").caused_by(e))?;
    check_type(path, meta.file_type(), format, kind)?;
    Ok(meta)
}

/// Opens the regular file `path` for reading (a `format` source, as in `"a .npy file"`): checks
/// the path first, opens it without blocking (`O_NONBLOCK`: opening a named pipe would wait for
/// a writer), and checks the opened file too, in case the path changed in between.
pub fn open_regular_file(path: &Path, format: &str) -> Result<File> {
    check_path(path, format, PathKind::File)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::file(path, "cannot open").caused_by(e))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::file(path, "cannot stat").caused_by(e))?;
    check_type(path, meta.file_type(), format, PathKind::File)?;
    Ok(file)
}

fn check_type(path: &Path, t: FileType, format: &str, kind: PathKind) -> Result<()> {
    let ok = match kind {
        PathKind::File => t.is_file(),
        PathKind::Directory => t.is_dir(),
    };
    if ok {
        return Ok(());
    }
    let what = if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    };
    let wanted = match kind {
        PathKind::File => "regular files",
        PathKind::Directory => "directories",
    };
    Err(Error::file(
        path,
        format!("is {what}, not {format} (such sources are read from {wanted} only)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn pipes_directories_and_devices_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("p.npy");
        mkfifo(&fifo);
        // Opening the pipe normally would block for ever: both calls return at once.
        let e = open_regular_file(&fifo, "a .npy file")
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.npy") && e.contains("named pipe"), "{e}");
        let e = check_path(&fifo, "a .b2nd file", PathKind::File)
            .unwrap_err()
            .to_string();
        assert!(e.contains("named pipe") && e.contains(".b2nd"), "{e}");
        let e = check_path(dir.path(), "an HDF5 file", PathKind::File)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a directory, not an HDF5 file"), "{e}");
        let e = open_regular_file(Path::new("/dev/null"), "a .npy file")
            .unwrap_err()
            .to_string();
        assert!(e.contains("character device"), "{e}");
        let e = check_path(&dir.path().join("none.npy"), "a .npy file", PathKind::File)
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.npy") && e.contains("cannot open"), "{e}");
        // What is right passes: a regular file (also through a symbolic link), a directory.
        let f = dir.path().join("f.npy");
        std::fs::write(&f, b"x").unwrap();
        let link = dir.path().join("l.npy");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert!(open_regular_file(&link, "a .npy file").is_ok());
        assert!(check_path(dir.path(), "a folder", PathKind::Directory).is_ok());
        let e = check_path(&f, "a folder", PathKind::Directory)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a regular file, not a folder"), "{e}");
    }
}
