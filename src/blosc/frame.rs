//! The fixed part of a contiguous Blosc2 frame header: enough to tell a truncated or foreign
//! file from a `.b2nd` file before handing it to C, and to locate the regions an in-place chunk
//! update rewrites (see [`super::journal`]).

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Bytes of the fixed frame header (`FRAME_HEADER_MINLEN` in C-Blosc2).
const HEADER_MINLEN: usize = 87;
const MAGIC: &[u8] = b"b2frame\0";

/// The lengths a contiguous frame header records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// Bytes of the header (fixed part and metalayers).
    pub header_len: u64,
    /// Bytes of the whole frame (header, chunks, chunk index, trailer).
    pub frame_len: u64,
    /// Bytes of the compressed chunks.
    pub cbytes: u64,
}

impl FrameHeader {
    /// Parses the fixed header bytes.
    pub(crate) fn parse(h: &[u8]) -> std::result::Result<FrameHeader, String> {
        if h.len() < HEADER_MINLEN {
            return Err(format!(
                "{} bytes, shorter than a Blosc2 frame header",
                h.len()
            ));
        }
        if h.get(2..10) != Some(MAGIC) {
            return Err("not a Blosc2 frame (no b2frame magic)".into());
        }
        if h[26] != 0 {
            return Err("a directory (sparse) frame header, not a contiguous file".into());
        }
        let be32 = |at: usize| {
            h.get(at..at + 4)
                .and_then(|s| s.try_into().ok())
                .map(i32::from_be_bytes)
        };
        let be64 = |at: usize| {
            h.get(at..at + 8)
                .and_then(|s| s.try_into().ok())
                .map(i64::from_be_bytes)
        };
        let (Some(hl), Some(fl), Some(cb)) = (be32(11), be64(16), be64(39)) else {
            return Err("short header".into());
        };
        if hl < HEADER_MINLEN as i32 || fl < hl as i64 || cb < 0 || hl as i64 + cb > fl {
            return Err(format!(
                "inconsistent header (header {hl}, frame {fl}, chunks {cb} bytes)"
            ));
        }
        Ok(FrameHeader {
            header_len: hl as u64,
            frame_len: fl as u64,
            cbytes: cb as u64,
        })
    }

    /// Reads and parses the header of the frame file at `path`.
    pub(crate) fn read(path: &Path) -> Result<FrameHeader> {
        let mut f = File::open(path).map_err(|e| open_error(path, e))?;
        let mut h = vec![0u8; HEADER_MINLEN];
        let mut got = 0;
        while got < HEADER_MINLEN {
            match f.read(&mut h[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => return Err(Error::file(path, format!("cannot read: {e}"))),
            }
        }
        h.truncate(got);
        FrameHeader::parse(&h).map_err(|m| Error::file(path, format!("not a .b2nd file: {m}")))
    }

    /// Where the chunk index starts: the end of the chunk data.
    pub(crate) fn data_end(&self) -> u64 {
        self.header_len + self.cbytes
    }
}

fn open_error(path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::file(path, "no such file")
    } else {
        Error::file(path, format!("cannot open: {e}"))
    }
}

/// Checks that `path` is a whole contiguous Blosc2 frame: it exists, its header parses and the
/// file is at least as long as the header says (a truncated file fails here, not in C).
pub(crate) fn check_frame_file(path: &Path) -> Result<FrameHeader> {
    let h = FrameHeader::read(path)?;
    let len = std::fs::metadata(path)
        .map_err(|e| open_error(path, e))?
        .len();
    if len < h.frame_len {
        return Err(Error::file(
            path,
            format!(
                "truncated: {len} bytes, the frame header says {}",
                h.frame_len
            ),
        ));
    }
    Ok(h)
}
