//! [`B2ndFile`]: a contiguous single-file `.b2nd` array read and updated in Rust.
//!
//! Opening parses and checks the whole frame but its chunk data ([`super::frame`]), and the
//! `b2nd` metalayer ([`B2ndMeta::from_metalayer`]); reading a chunk `pread`s exactly the
//! bytes its checked header announces. C-Blosc2 never opens the file: it only decompresses
//! single chunks vastarray has checked, so a damaged file gives an error naming it, never a
//! corrupted heap. Updates are crash-safe appends ([`B2ndFile::commit`], see
//! [`super::writer`]).

use super::chunk::compress_raw;
use super::chunk_header::{ChunkHeader, Special, HEADER_LEN};
use super::codec::Compression;
use super::frame::{open_regular, read_exact_at, ChunkAt, FrameParts, FRAME_LEN_AT};
use super::layout::ChunkLayout;
use super::meta::B2ndMeta;
use super::writer::{index_chunk, new_header, set_lengths, trailer};
use crate::error::{Error, Result};
use blosc2_rs_sys as sys;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// An open `.b2nd` array. Reads take `&self` and may run from any number of threads at once
/// (`pread`); updates take `&mut self`.
pub struct B2ndFile {
    file: File,
    path: PathBuf,
    meta: B2ndMeta,
    layout: ChunkLayout,
    parts: FrameParts,
    writable: bool,
}

/// One update of a [`B2ndFile`], committed atomically by [`B2ndFile::commit`].
#[derive(Default)]
pub struct FrameUpdate<'a> {
    /// Chunks to store: C-order number and compressed bytes (a Blosc2 special zero, NaN or
    /// uninitialised chunk is stored as an index entry only).
    pub chunks: Vec<(usize, &'a [u8])>,
    /// Variable-length metadata to add or replace: name and raw (uncompressed) content.
    pub vlmeta: Vec<(&'a str, &'a [u8])>,
    /// Flush the new bytes to disk before switching the header, and the header after
    /// (survives power loss, not only a killed process).
    pub durable: bool,
    /// Store special chunks' 32 bytes in the data section too, so that a chunk that was
    /// written can be told from one that never was (caches do; C-Blosc2 does not).
    pub store_special: bool,
}

/// What a finished [`B2ndFile::commit`] left behind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitReport {
    /// Bytes of the file no longer referenced (the previous index and trailer, and chunks that
    /// were replaced).
    pub wasted: u64,
}

impl B2ndFile {
    /// Opens an existing contiguous `.b2nd` file for reading. Errors name the file: missing,
    /// not a regular file, truncated or damaged (header, metalayers, chunk index, trailer),
    /// not an n-dimensional array, unsupported element type or geometry.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_mode(path, false)
    }

    /// Opens an existing file for reading and updating. Bytes after the end of the frame (an
    /// update a killed process never committed) are cut off; [`B2ndFile::open_rw_report`] says
    /// whether there were any. The caller must be the only writer (see the lock of [`crate::proxy`]).
    pub fn open_rw(path: &Path) -> Result<Self> {
        Self::open_rw_report(path).map(|(f, _)| f)
    }

    /// Like [`B2ndFile::open_rw`]; also says whether uncommitted bytes were cut off.
    pub fn open_rw_report(path: &Path) -> Result<(Self, bool)> {
        let f = Self::open_mode(path, true)?;
        let len = f
            .file
            .metadata()
            .map_err(|e| Error::file(path, "cannot stat").caused_by(e))?
            .len();
        let end = f.parts.header.frame_len;
        let cut = len > end;
        if cut {
            f.file
                .set_len(end)
                .map_err(|e| Error::file(path, "cannot cut an unfinished update").caused_by(e))?;
        }
        Ok((f, cut))
    }

    fn open_mode(path: &Path, write: bool) -> Result<Self> {
        super::ffi::init();
        let (file, len) = open_regular(path, write)?;
        let bad = |m: String| Error::file(path, format!("not a readable .b2nd array: {m}"));
        let mut parts = FrameParts::read(&file, len).map_err(bad)?;
        let raw_meta = parts.metalayer("b2nd").ok_or_else(|| {
            Error::file(
                path,
                "a Blosc2 frame without a b2nd metalayer (not an n-dimensional array)",
            )
        })?;
        let meta = B2ndMeta::from_metalayer(raw_meta).map_err(|e| Error::file(path, e))?;
        let nchunks = meta.validate().map_err(|e| Error::file(path, e))?;
        let layout = meta.layout().map_err(|e| Error::file(path, e))?;
        let h = &parts.header;
        if h.typesize != meta.dtype.size() {
            return Err(Error::file(
                path,
                format!(
                    "item size {} does not match element type {}",
                    h.typesize, meta.dtype
                ),
            ));
        }
        if h.nchunks != nchunks {
            return Err(Error::file(
                path,
                format!("holds {} chunks, its grid needs {nchunks}", h.nchunks),
            ));
        }
        if nchunks > 0
            && (h.chunksize != layout.chunk_nbytes() || h.nbytes != (nchunks * h.chunksize) as u64)
        {
            return Err(Error::file(
                path,
                format!(
                    "chunks of {} bytes ({} in all), its geometry needs {} each",
                    h.chunksize,
                    h.nbytes,
                    layout.chunk_nbytes()
                ),
            ));
        }
        parts.read_offsets(&file).map_err(bad)?;
        Ok(B2ndFile {
            file,
            path: path.to_path_buf(),
            meta,
            layout,
            parts,
            writable: write,
        })
    }

    /// Creates (or replaces) a contiguous `.b2nd` file whose chunks all read as zero (Blosc2
    /// "special" zero chunks: an index entry each, no data), open for updating.
    pub fn create_zeros(path: &Path, meta: &B2ndMeta, compression: Compression) -> Result<Self> {
        super::ffi::init();
        let nchunks = meta.validate()?;
        let layout = meta.layout()?;
        let bytes = new_frame(meta, &layout, compression, nchunks)?;
        let mut f =
            File::create(path).map_err(|e| Error::file(path, "cannot create").caused_by(e))?;
        f.write_all(&bytes)
            .map_err(|e| Error::file(path, "cannot write").caused_by(e))?;
        drop(f);
        Self::open_rw(path)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The array's geometry.
    pub fn meta(&self) -> &B2ndMeta {
        &self.meta
    }

    /// The layout of one chunk.
    pub fn layout(&self) -> &ChunkLayout {
        &self.layout
    }

    /// Number of chunks.
    pub fn num_chunks(&self) -> usize {
        self.parts.offsets.len()
    }

    /// Bytes of the frame (the file may be longer while an update is under way).
    pub fn frame_len(&self) -> u64 {
        self.parts.header.frame_len
    }

    fn entry(&self, n: usize) -> Result<ChunkAt> {
        self.parts.offsets.get(n).copied().ok_or_else(|| {
            Error::file(
                &self.path,
                format!("chunk {n} does not exist ({} chunks)", self.num_chunks()),
            )
        })
    }

    /// True when chunk `n` is a Blosc2 "special" chunk (zeros, NaNs, uninitialised: no data
    /// stored), as every chunk of a file from [`B2ndFile::create_zeros`] is until written.
    pub fn chunk_is_special(&self, n: usize) -> Result<bool> {
        Ok(matches!(self.entry(n)?, ChunkAt::Special(_)))
    }

    /// The compressed bytes of chunk `n` (C-order number), exactly as stored and checked: its
    /// header is consistent, the file holds all of it inside the data section, and its
    /// uncompressed size is the geometry's. Special chunks come back as the 32-byte chunk
    /// C-Blosc2 would make for them.
    pub fn chunk_bytes(&self, n: usize) -> Result<Vec<u8>> {
        let err = |m: String| Error::file(&self.path, format!("chunk {n}: {m}"));
        let at = match self.entry(n)? {
            ChunkAt::Special(kind) => {
                return self.special_chunk(kind).map_err(|e| err(e.to_string()))
            }
            ChunkAt::Data(at) => at,
        };
        let data_len = self.parts.header.cbytes;
        let start = self.parts.header.header_len + at;
        let head = read_exact_at(&self.file, start, HEADER_LEN, "chunk header")
            .map_err(|e| err(e.to_string()))?;
        let h = ChunkHeader::parse(&head).map_err(err)?;
        if at + h.cbytes as u64 > data_len {
            return Err(err(format!(
                "its header says {} bytes, past the end of the data section",
                h.cbytes
            )));
        }
        if h.nbytes != self.layout.chunk_nbytes() {
            return Err(err(format!(
                "holds {} bytes uncompressed, the geometry needs {}",
                h.nbytes,
                self.layout.chunk_nbytes()
            )));
        }
        let raw =
            read_exact_at(&self.file, start, h.cbytes, "chunk").map_err(|e| err(e.to_string()))?;
        h.check_body(&raw).map_err(err)?;
        Ok(raw)
    }

    /// Where the stored bytes of chunk `n` are in the file (`None` for a special chunk), after
    /// the same checks as [`B2ndFile::chunk_bytes`].
    pub fn chunk_span(&self, n: usize) -> Result<Option<std::ops::Range<u64>>> {
        match self.entry(n)? {
            ChunkAt::Special(_) => Ok(None),
            ChunkAt::Data(at) => {
                let len = self.chunk_bytes(n)?.len() as u64;
                let start = self.parts.header.header_len + at;
                Ok(Some(start..start + len))
            }
        }
    }

    /// The chunk C-Blosc2 makes for a special index entry.
    fn special_chunk(&self, kind: Special) -> Result<Vec<u8>> {
        let mut cparams =
            Compression::lz4().cparams(self.meta.dtype.size(), self.layout.block_nbytes())?;
        cparams.nthreads = 1;
        let mut buf = vec![0u8; HEADER_LEN];
        let nbytes = super::ffi::c_len(self.layout.chunk_nbytes(), "chunk")?;
        let len = buf.len() as i32;
        // SAFETY: `buf` has the length passed; the parameters were checked with the geometry.
        let rc = unsafe {
            match kind {
                Special::Nan if [4, 8].contains(&self.meta.dtype.size()) => {
                    sys::blosc2_chunk_nans(cparams, nbytes, buf.as_mut_ptr().cast(), len)
                }
                Special::Uninit => {
                    sys::blosc2_chunk_uninit(cparams, nbytes, buf.as_mut_ptr().cast(), len)
                }
                _ => sys::blosc2_chunk_zeros(cparams, nbytes, buf.as_mut_ptr().cast(), len),
            }
        };
        if rc < 0 {
            return Err(Error::Internal(format!(
                "making a special chunk: {}",
                super::ffi::error_text(rc as i64)
            )));
        }
        buf.truncate(rc as usize);
        Ok(buf)
    }

    /// The raw (compressed) content of variable-length metadata `name`, if present.
    pub(crate) fn vlmeta_stored(&self, name: &str) -> Option<&[u8]> {
        self.parts
            .vlmeta
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.as_slice())
    }

    /// Bytes no longer referenced by the frame that [`B2ndFile::commit`] of `chunks` would
    /// add: the current index and trailer, and the stored chunks it replaces.
    pub fn waste_of(&self, chunks: &[usize]) -> u64 {
        let mut w = self.parts.header.frame_len - self.parts.header.data_end();
        for &n in chunks {
            if let Ok(ChunkAt::Data(at)) = self.entry(n) {
                let start = self.parts.header.header_len + at;
                if let Ok(h) = read_exact_at(&self.file, start, HEADER_LEN, "chunk header")
                    .map_err(|e| e.to_string())
                    .and_then(|b| ChunkHeader::parse(&b))
                {
                    w += h.cbytes as u64;
                }
            }
        }
        w
    }

    /// Applies `update` as one transaction that a killed process cannot leave half done (see
    /// the `writer` module): the new chunks, chunk index and trailer are appended after the
    /// frame, `before_switch` runs (a test hook), then the header's lengths are switched in one
    /// write inside the first page. Every chunk is checked first (header, sizes, block starts,
    /// uncompressed size of the geometry).
    pub fn commit(
        &mut self,
        update: &FrameUpdate<'_>,
        before_switch: Option<&dyn Fn()>,
    ) -> Result<CommitReport> {
        if !self.writable {
            return Err(Error::file(&self.path, "opened read-only"));
        }
        let ctx = |e: std::io::Error| Error::file(&self.path, "writing").caused_by(e);
        let want = self.layout.chunk_nbytes();
        let header_len = self.parts.header.header_len;
        let mut offsets = self.parts.offsets.clone();
        let mut pos = self.parts.header.frame_len;
        let replaced: Vec<usize> = update.chunks.iter().map(|(n, _)| *n).collect();
        let wasted = self.waste_of(&replaced);
        for &(n, raw) in &update.chunks {
            let bad = |m: String| Error::file(&self.path, format!("chunk {n}: {m}"));
            if n >= offsets.len() {
                return Err(bad(format!("does not exist ({} chunks)", offsets.len())));
            }
            let h = ChunkHeader::parse(raw).map_err(bad)?;
            h.check_body(raw).map_err(bad)?;
            if h.nbytes != want {
                return Err(bad(format!(
                    "{} bytes uncompressed, the geometry needs {want}",
                    h.nbytes
                )));
            }
            offsets[n] = match h.special {
                Special::Zero | Special::Nan | Special::Uninit if !update.store_special => {
                    ChunkAt::Special(h.special)
                }
                _ => {
                    self.file.write_all_at(raw, pos).map_err(ctx)?;
                    let at = ChunkAt::Data(pos - header_len);
                    pos += raw.len() as u64;
                    at
                }
            };
        }
        let vlmeta = merge_vlmeta(&self.parts.vlmeta, &update.vlmeta)?;
        let cbytes = pos - header_len;
        let mut tail = if offsets.is_empty() {
            Vec::new()
        } else {
            index_chunk(&offsets)?
        };
        let trailer = trailer(&vlmeta)?;
        let trailer_len = trailer.len() as u64;
        tail.extend(trailer);
        if offsets.is_empty() {
            // A frame without chunks keeps its trailer right after the header, where readers
            // look for it: rewrite the (tiny) file whole instead.
            return self
                .rewrite_with(&offsets, vlmeta)
                .map(|_| CommitReport { wasted: 0 });
        }
        self.file.write_all_at(&tail, pos).map_err(ctx)?;
        let frame_len = pos + tail.len() as u64;
        if update.durable {
            self.file.sync_data().map_err(ctx)?;
        }
        if let Some(hook) = before_switch {
            hook();
        }
        let mut header = self.parts.header_bytes.clone();
        set_lengths(&mut header, frame_len, cbytes, !vlmeta.is_empty());
        // One write of bytes 16..69: frame length, flags, sizes and the vlmeta flag.
        let span = FRAME_LEN_AT..super::frame::HAS_VLMETA_AT + 1;
        self.file
            .write_all_at(&header[span.clone()], span.start as u64)
            .map_err(ctx)?;
        if update.durable {
            self.file.sync_data().map_err(ctx)?;
        }
        self.parts.header.frame_len = frame_len;
        self.parts.header.cbytes = cbytes;
        self.parts.trailer_start = frame_len - trailer_len;
        self.parts.header_bytes = header;
        self.parts.offsets = offsets;
        self.parts.vlmeta = vlmeta;
        Ok(CommitReport { wasted })
    }

    /// Rewrites the file compactly (only the chunks referenced, then index and trailer), with
    /// the variable-length metadata in `vlmeta` added or replaced, under a temporary name, and
    /// renames it into place: readers see the old file or the new one.
    pub fn compact(&mut self, vlmeta: &[(&str, &[u8])]) -> Result<()> {
        if !self.writable {
            return Err(Error::file(&self.path, "opened read-only"));
        }
        let offsets = self.parts.offsets.clone();
        let merged = merge_vlmeta(&self.parts.vlmeta, vlmeta)?;
        self.rewrite_with(&offsets, merged)
    }

    /// Writes a new file holding this file's header, the chunks `offsets` reference (copied
    /// one at a time), a new index and `vlmeta`; renames it over this file and reopens it.
    fn rewrite_with(&mut self, offsets: &[ChunkAt], vlmeta: Vec<(String, Vec<u8>)>) -> Result<()> {
        let tmp = sibling(&self.path, "rewrite");
        let io = |e: std::io::Error| Error::file(&self.path, "rewriting").caused_by(e);
        let result = (|| -> Result<()> {
            let out = File::create(&tmp).map_err(io)?;
            let mut header = self.parts.header_bytes.clone();
            let header_len = header.len() as u64;
            let mut pos = header_len;
            let mut new_offsets = offsets.to_vec();
            for (n, at) in offsets.iter().enumerate() {
                if let ChunkAt::Data(_) = at {
                    let raw = self.chunk_bytes(n)?;
                    out.write_all_at(&raw, pos).map_err(io)?;
                    new_offsets[n] = ChunkAt::Data(pos - header_len);
                    pos += raw.len() as u64;
                }
            }
            let cbytes = pos - header_len;
            let mut tail = if new_offsets.is_empty() {
                Vec::new()
            } else {
                index_chunk(&new_offsets)?
            };
            tail.extend(trailer(&vlmeta)?);
            out.write_all_at(&tail, pos).map_err(io)?;
            set_lengths(
                &mut header,
                pos + tail.len() as u64,
                cbytes,
                !vlmeta.is_empty(),
            );
            out.write_all_at(&header, 0).map_err(io)?;
            out.sync_data().map_err(io)?;
            drop(out);
            std::fs::rename(&tmp, &self.path).map_err(|e| {
                Error::file(
                    &self.path,
                    format!("cannot move the rewritten file into place: {e}"),
                )
            })
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        *self = Self::open_rw(&self.path.clone())?;
        Ok(())
    }

    /// Replaces chunk `n` by already compressed b2nd chunk bytes (one transaction).
    pub fn update_chunk(&mut self, n: usize, raw: &[u8]) -> Result<()> {
        self.commit(
            &FrameUpdate {
                chunks: vec![(n, raw)],
                ..FrameUpdate::default()
            },
            None,
        )
        .map(|_| ())
    }

    /// Turns chunk `n` back into a special zero chunk (only the chunk index changes).
    pub fn clear_chunk(&mut self, n: usize) -> Result<()> {
        let zero = self.special_chunk(Special::Zero)?;
        self.update_chunk(n, &zero)
    }
}

/// A path next to `path` for a temporary file of this process.
fn sibling(path: &Path, what: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{what}-{}", std::process::id()));
    PathBuf::from(s)
}

/// `old` with the entries of `new` (raw content, compressed here) added or replaced.
fn merge_vlmeta(
    old: &[(String, Vec<u8>)],
    new: &[(&str, &[u8])],
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = old.to_vec();
    for &(name, content) in new {
        let packed = compress_vlmeta(content)?;
        match out.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = packed,
            None => out.push((name.to_string(), packed)),
        }
    }
    Ok(out)
}

/// Compresses variable-length metadata content as C-Blosc2 stores it (a Blosc2 chunk).
fn compress_vlmeta(content: &[u8]) -> Result<Vec<u8>> {
    let mut p = Compression::new(super::Codec::Blosclz, 5).cparams(1, content.len().max(1))?;
    p.filters[5] = 0;
    p.blocksize = 0;
    compress_raw(content, p)
}

/// The bytes of a new frame of `nchunks` special zero chunks: header, index, empty trailer.
fn new_frame(
    meta: &B2ndMeta,
    layout: &ChunkLayout,
    compression: Compression,
    nchunks: usize,
) -> Result<Vec<u8>> {
    let mut bytes = new_header(
        meta,
        compression,
        nchunks,
        layout.chunk_nbytes(),
        layout.block_nbytes(),
    )?;
    if nchunks > 0 {
        bytes.extend(index_chunk(&vec![
            ChunkAt::Special(Special::Zero);
            nchunks
        ])?);
    }
    bytes.extend(trailer(&[])?);
    let frame_len = bytes.len() as u64;
    set_lengths(&mut bytes, frame_len, 0, false);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;
    use crate::io::b2nd::{decode_chunk, encode_chunk, VlValue};
    use crate::NdData;

    fn meta() -> B2ndMeta {
        B2ndMeta {
            shape: vec![10, 7],
            chunks: vec![4, 7],
            blocks: vec![2, 7],
            dtype: DType::I32,
        }
    }

    fn chunk(k: i32, extent: &[usize]) -> NdData {
        NdData::from(
            ndarray::Array::from_shape_fn((extent[0], extent[1]), |(i, j)| {
                k * 1000 + (i * 7 + j) as i32
            })
            .into_dyn(),
        )
    }

    #[test]
    fn commits_reopen_and_every_intermediate_state_is_the_old_frame() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.b2nd");
        let mut f = B2ndFile::create_zeros(&path, &meta(), Compression::lz4()).unwrap();
        assert_eq!(f.num_chunks(), 3);
        assert!(f.chunk_is_special(1).unwrap());
        let layout = f.layout().clone();
        let grid = meta().grid();
        let raws: Vec<Vec<u8>> = (0..3)
            .map(|k| {
                let e = grid.chunk_extent(&[k, 0]);
                encode_chunk(&chunk(k as i32, &e), &layout, Compression::lz4()).unwrap()
            })
            .collect();
        f.update_chunk(0, &raws[0]).unwrap();
        f.set_vlmeta("note", &VlValue::Text("hi".into())).unwrap();
        let before = std::fs::read(&path).unwrap();
        let update = FrameUpdate {
            chunks: vec![(1, &raws[1]), (2, &raws[2])],
            vlmeta: vec![("note", b"\xa3bye")],
            durable: true,
            store_special: false,
        };
        f.commit(&update, None).unwrap();
        let after = std::fs::read(&path).unwrap();
        assert_eq!(
            &after[..16],
            &before[..16],
            "only lengths change in the header"
        );
        // Killed before the header switch: the old header over the new bytes.
        let mut mid = before.clone();
        mid.extend_from_slice(&after[before.len()..]);
        let mid_path = dir.path().join("mid.b2nd");
        std::fs::write(&mid_path, &mid).unwrap();
        let old = B2ndFile::open(&mid_path).unwrap();
        assert!(old.chunk_is_special(1).unwrap() && old.chunk_is_special(2).unwrap());
        assert_eq!(
            old.vlmeta("note").unwrap(),
            Some(VlValue::Text("hi".into()))
        );
        let (rw, cut) = B2ndFile::open_rw_report(&mid_path).unwrap();
        assert!(cut);
        assert_eq!(
            std::fs::metadata(&mid_path).unwrap().len(),
            before.len() as u64
        );
        drop(rw);
        // Every shorter prefix of the appended bytes is the old frame too.
        for end in (before.len()..after.len()).step_by(7) {
            std::fs::write(&mid_path, &mid[..end]).unwrap();
            let g = B2ndFile::open(&mid_path).unwrap();
            assert_eq!(g.chunk_bytes(0).unwrap(), raws[0]);
        }
        let g = B2ndFile::open(&path).unwrap();
        for k in 0..3 {
            let e = grid.chunk_extent(&[k, 0]);
            let back = decode_chunk(&g.chunk_bytes(k).unwrap(), &layout, &e).unwrap();
            assert_eq!(back, chunk(k as i32, &e));
            assert!(g.chunk_span(k).unwrap().is_some());
        }
        assert_eq!(g.vlmeta("note").unwrap(), Some(VlValue::Text("bye".into())));
        // Compaction keeps chunks and metadata and drops what nothing references.
        let mut h = B2ndFile::open_rw(&path).unwrap();
        h.clear_chunk(2).unwrap();
        let big = std::fs::metadata(&path).unwrap().len();
        h.compact(&[("extra", b"\xc4\x01z")]).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() < big);
        assert!(h.chunk_is_special(2).unwrap());
        assert_eq!(h.chunk_bytes(1).unwrap(), raws[1]);
        assert_eq!(h.vlmeta("note").unwrap(), Some(VlValue::Text("bye".into())));
        assert_eq!(
            h.vlmeta("extra").unwrap(),
            Some(VlValue::Bytes(b"z".to_vec()))
        );
        // A chunk of the wrong size is refused before anything is written.
        let other = ChunkLayout::new(&[2, 7], &[2, 7], DType::I32).unwrap();
        let small = encode_chunk(&chunk(9, &[2, 7]), &other, Compression::lz4()).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(h.update_chunk(0, &small).is_err());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
    }
}
