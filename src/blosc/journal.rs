//! [`FrameJournal`]: an undo journal that makes in-place updates of a contiguous `.b2nd` file
//! atomic against a killed process.
//!
//! C-Blosc2 updates a frame in place: it writes the new chunk where the chunk index was, then a
//! new index, then the header and the trailer. A process killed in between leaves a frame whose
//! header points at chunk bytes as if they were the index. Appending a chunk to a frame (and
//! rewriting its variable-length metadata) only ever touches two regions: the header
//! (`0..header_len`) and everything from the end of the chunk data onwards. Before such an
//! update the journal saves both regions and the file length next to the file
//! (`<file>.journal`); after it the journal is removed. Opening a file whose journal is complete
//! restores the saved regions and length, which is exactly the file before the update began.
//! An incomplete journal means the file was not touched yet, and is discarded.
//!
//! Callers must hold an exclusive lock on the file (see [`crate::proxy`]) and must only append
//! (never overwrite a non-special chunk in place: [`super::B2ndFile::clear_chunk`] first).

use super::frame::FrameHeader;
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"VAJRNL1\0";
const END: &[u8; 8] = b"VAJEND1\0";

/// An open undo journal for one update of one frame file.
pub struct FrameJournal {
    journal: PathBuf,
}

/// The journal file that belongs to a frame file.
pub fn journal_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".journal");
    PathBuf::from(s)
}

fn read_range(f: &mut File, start: u64, len: u64) -> std::io::Result<Vec<u8>> {
    f.seek(SeekFrom::Start(start))?;
    let mut v = Vec::with_capacity(len as usize);
    f.take(len).read_to_end(&mut v)?;
    Ok(v)
}

impl FrameJournal {
    /// Saves the regions an append to `file` may rewrite. With `durable`, the journal is
    /// flushed to disk before this returns (needed against power loss, not against a killed
    /// process).
    pub fn begin(file: &Path, durable: bool) -> Result<FrameJournal> {
        let h = FrameHeader::read(file)?;
        let ctx = |e: std::io::Error| Error::file(file, format!("writing undo journal: {e}"));
        let mut f = File::open(file).map_err(ctx)?;
        let len = f.metadata().map_err(ctx)?.len();
        let tail_start = h.data_end().min(len);
        let header = read_range(&mut f, 0, h.header_len.min(len)).map_err(ctx)?;
        let tail = read_range(&mut f, tail_start, len - tail_start).map_err(ctx)?;
        let mut buf = Vec::with_capacity(header.len() + tail.len() + 64);
        buf.extend_from_slice(MAGIC);
        for v in [len, header.len() as u64, tail_start, tail.len() as u64] {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        buf.extend_from_slice(&header);
        buf.extend_from_slice(&tail);
        buf.extend_from_slice(END);
        let journal = journal_path(file);
        let mut j = File::create(&journal).map_err(ctx)?;
        j.write_all(&buf).map_err(ctx)?;
        if durable {
            j.sync_all().map_err(ctx)?;
        }
        Ok(FrameJournal { journal })
    }

    /// Declares the update complete: removes the journal.
    pub fn commit(self, file: &Path, durable: bool) -> Result<()> {
        if durable {
            File::open(file)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::file(file, format!("flushing: {e}")))?;
        }
        std::fs::remove_file(&self.journal)
            .map_err(|e| Error::file(&self.journal, format!("removing undo journal: {e}")))
    }

    /// Restores `file` from a complete journal left by an interrupted update, and removes the
    /// journal. Returns true when the file was rolled back.
    pub fn recover(file: &Path) -> Result<bool> {
        let journal = journal_path(file);
        let buf = match std::fs::read(&journal) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Error::file(&journal, format!("reading undo journal: {e}"))),
        };
        let rolled_back = match parse(&buf) {
            Some(j) => {
                let ctx = |e: std::io::Error| {
                    Error::file(file, format!("rolling back an interrupted update: {e}"))
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
            .map_err(|e| Error::file(&journal, format!("removing undo journal: {e}")))?;
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
