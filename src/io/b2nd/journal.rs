//! [`FrameJournal`]: rolls back an interrupted update of a cache file written by an older
//! vastarray.
//!
//! Older versions let C-Blosc2 update the frame in place (new chunk where the chunk index was,
//! then a new index, header and trailer) and saved the header and everything after the chunk
//! data in an undo journal next to the file (`<file>.journal`) first. Opening such a cache
//! restores the saved regions and length from a complete journal (the file as it was before
//! the update) and removes the journal; an incomplete journal means the file was not touched,
//! and is discarded. Today's updates append and switch the header in one write
//! ([`super::writer`]), so they need no journal.

use crate::error::{Error, Result};
use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"VAJRNL1\0";
const END: &[u8; 8] = b"VAJEND1\0";

/// The undo journal of a frame file left by an older version.
pub struct FrameJournal;

/// The journal file that belongs to a frame file.
pub fn journal_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".journal");
    PathBuf::from(s)
}

impl FrameJournal {
    /// Restores `file` from a complete journal left by an interrupted update, and removes the
    /// journal. Returns true when the file was rolled back.
    pub fn recover(file: &Path) -> Result<bool> {
        let journal = journal_path(file);
        let buf = match std::fs::read(&journal) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Error::file(&journal, "reading undo journal").caused_by(e)),
        };
        let rolled_back = match parse(&buf) {
            Some(j) => {
                let ctx = |e: std::io::Error| {
                    Error::file(file, "rolling back an interrupted update").caused_by(e)
                };
                let mut f = OpenOptions::new().write(true).open(file).map_err(ctx)?;
                f.seek(SeekFrom::Start(0)).map_err(ctx)?;
                f.write_all(j.header).map_err(ctx)?;
                f.seek(SeekFrom::Start(j.tail_start)).map_err(ctx)?;
                f.write_all(j.tail).map_err(ctx)?;
                f.set_len(j.len).map_err(ctx)?;
                f.sync_all().map_err(ctx)?;
                true
            }
            None => false,
        };
        std::fs::remove_file(&journal)
            .map_err(|e| Error::file(&journal, "removing undo journal").caused_by(e))?;
        Ok(rolled_back)
    }
}

struct Parsed<'a> {
    len: u64,
    tail_start: u64,
    header: &'a [u8],
    tail: &'a [u8],
}

fn parse(buf: &[u8]) -> Option<Parsed<'_>> {
    if buf.get(..8)? != MAGIC || buf.get(buf.len().checked_sub(8)?..)? != END {
        return None;
    }
    let u = |i: usize| -> Option<u64> {
        Some(u64::from_le_bytes(
            buf.get(8 + 8 * i..16 + 8 * i)?.try_into().ok()?,
        ))
    };
    let (len, hlen, tail_start, tlen) = (u(0)?, u(1)? as usize, u(2)?, u(3)? as usize);
    let header = buf.get(40..40 + hlen)?;
    let tail = buf.get(40 + hlen..40 + hlen + tlen)?;
    if 40 + hlen + tlen + 8 != buf.len() {
        return None;
    }
    Some(Parsed {
        len,
        tail_start,
        header,
        tail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(len: u64, header: &[u8], tail_start: u64, tail: &[u8]) -> Vec<u8> {
        let mut j = MAGIC.to_vec();
        for v in [len, header.len() as u64, tail_start, tail.len() as u64] {
            j.extend(v.to_le_bytes());
        }
        j.extend_from_slice(header);
        j.extend_from_slice(tail);
        j.extend_from_slice(END);
        j
    }

    #[test]
    fn a_complete_journal_restores_and_an_incomplete_one_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.b2nd");
        // The "file before the update": 0..10 then 10..16; the update overwrote and grew it.
        std::fs::write(&file, b"HEADER____overwritten-and-longer").unwrap();
        std::fs::write(
            journal_path(&file),
            journal(16, b"HEADERhdr!", 10, b"tail!!"),
        )
        .unwrap();
        assert!(FrameJournal::recover(&file).unwrap());
        assert_eq!(std::fs::read(&file).unwrap(), b"HEADERhdr!tail!!");
        assert!(!journal_path(&file).exists());
        let mut cut = journal(16, b"x", 1, b"y");
        cut.truncate(cut.len() - 3);
        std::fs::write(journal_path(&file), cut).unwrap();
        assert!(!FrameJournal::recover(&file).unwrap());
        assert_eq!(std::fs::read(&file).unwrap(), b"HEADERhdr!tail!!");
        assert!(!FrameJournal::recover(&file).unwrap(), "no journal");
    }
}
