//! [`store_npy`]: stores any [`RegionCompute`] (a lazy array, any source) as a `.npy` file in
//! bounded memory.
//!
//! The array is walked in [`ChunkAlignedBuffers`] over a grid of C-contiguous pieces, so every
//! buffer is one contiguous stretch of the file and the buffers come in file order: the file is
//! written front to back, one buffer in memory at a time. Everything goes to a temporary file
//! in the target's directory, which is renamed into place only after the last byte was written
//! and synced: a failed or interrupted store leaves no file that looks complete, and the
//! temporary file of a killed store goes at the next store of the same file ([`crate::sink::temp`]).

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::exec::Progress;
use crate::io::npy::{contiguous_chunks, FromBytes, NpyHeader};
use crate::sink::temp::TempFile;
use crate::sink::{ChunkAlignedBuffers, RegionCompute};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Options of [`store_npy`].
#[derive(Clone)]
pub struct NpyStoreOptions {
    /// Largest buffer computed at once, in bytes (at least one element).
    pub buffer_bytes: usize,
    /// Replace an existing file (only once the new one is complete). Off: an existing file is
    /// an error, checked before anything is computed.
    pub overwrite: bool,
    /// Told `(buffers written, buffers in all)` after each buffer.
    pub progress: Option<Progress>,
}

impl Default for NpyStoreOptions {
    /// 64 MiB buffers, no overwriting, no progress.
    fn default() -> Self {
        NpyStoreOptions {
            buffer_bytes: 64 << 20,
            overwrite: false,
            progress: None,
        }
    }
}

/// What a store did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyStoreReport {
    /// The file written.
    pub path: PathBuf,
    /// The array's shape.
    pub shape: Vec<usize>,
    /// The element type.
    pub dtype: DType,
    /// The buffers computed and written, in order.
    pub buffers: Vec<Vec<Range<usize>>>,
    /// Bytes of the file (header and data).
    pub file_bytes: u64,
}

/// The buffers [`store_npy`] computes for an array of `shape` and `dtype` with buffers of at
/// most `buffer_bytes`: C-contiguous boxes in file order.
pub fn npy_buffers(
    shape: &[usize],
    dtype: DType,
    buffer_bytes: usize,
) -> Result<ChunkAlignedBuffers> {
    let pieces = contiguous_chunks(shape, dtype.size(), buffer_bytes.max(dtype.size()));
    ChunkAlignedBuffers::new(shape, &pieces, dtype.size(), buffer_bytes)
}

/// Stores `src` as the `.npy` file `path` (little endian, C order).
pub fn store_npy(
    src: &dyn RegionCompute,
    path: impl AsRef<Path>,
    options: &NpyStoreOptions,
) -> Result<NpyStoreReport> {
    let path = path.as_ref();
    if !options.overwrite && path.exists() {
        return Err(Error::file(
            path,
            "exists already (use overwrite to replace it)",
        ));
    }
    let shape = src.region_shape();
    let dtype = src.region_dtype();
    let buffers = npy_buffers(&shape, dtype, options.buffer_bytes)?;
    // Dropping `temp` removes the temporary file unless it was renamed into place.
    let temp = TempFile::claim(path)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(|e| Error::file(&temp, "cannot create temporary file").caused_by(e))?;
    let (done, file_bytes) = write_all(src, file, &temp, &shape, dtype, buffers, options)?;
    std::fs::rename(&temp, path).map_err(|e| {
        Error::file(
            path,
            format!("cannot rename the finished temporary file into place: {e}"),
        )
    })?;
    Ok(NpyStoreReport {
        path: path.to_path_buf(),
        shape,
        dtype,
        buffers: done,
        file_bytes,
    })
}

/// Writes the header and every buffer into `file`, then syncs it.
fn write_all(
    src: &dyn RegionCompute,
    file: std::fs::File,
    temp: &Path,
    shape: &[usize],
    dtype: DType,
    buffers: ChunkAlignedBuffers,
    options: &NpyStoreOptions,
) -> Result<(Vec<Vec<Range<usize>>>, u64)> {
    let io = |e: std::io::Error| Error::file(temp, "cannot write").caused_by(e);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let header = NpyHeader::encode(shape, dtype);
    out.write_all(&header).map_err(io)?;
    let mut written = header.len() as u64;
    let total = buffers.num_buffers() as u64;
    let mut done = Vec::with_capacity(buffers.num_buffers());
    let mut bytes = Vec::with_capacity(1 << 20);
    for (i, bx) in buffers.enumerate() {
        let data = src.compute_region(&bx)?;
        let want: Vec<usize> = bx.iter().map(|r| r.len()).collect();
        data.expect(dtype, &want, &|| {
            format!("buffer {bx:?} of {}", temp.display())
        })?;
        crate::with_nd!(&data, a: T => {
            for v in a.iter() {
                <T as FromBytes>::put_le(*v, &mut bytes);
                if bytes.len() >= 1 << 20 {
                    out.write_all(&bytes).map_err(io)?;
                    written += bytes.len() as u64;
                    bytes.clear();
                }
            }
        });
        out.write_all(&bytes).map_err(io)?;
        written += bytes.len() as u64;
        bytes.clear();
        done.push(bx);
        if let Some(p) = &options.progress {
            p(i as u64 + 1, total);
        }
    }
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok((done, written))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::npy::NpySource;
    use crate::source::ChunkSource;
    use crate::{DynArray, GeneratedSource, NdData};

    #[test]
    fn buffers_are_contiguous_and_in_file_order() {
        for (shape, max) in [
            (vec![10usize, 7, 3], 4 * 21usize),
            (vec![10, 7, 3], 4 * 5),
            (vec![10, 7, 3], 4 * 50),
            (vec![100], 12),
            (vec![], 1),
        ] {
            let mut next = 0usize;
            for bx in npy_buffers(&shape, DType::F32, max).unwrap() {
                // The box's first element is the next element of the file.
                let mut flat = 0usize;
                for (r, n) in bx.iter().zip(&shape) {
                    flat = flat * n + r.start;
                }
                assert_eq!(flat, next, "{shape:?} {bx:?}");
                let len: usize = bx.iter().map(|r| r.len()).product();
                assert!(len * 4 <= max.max(4), "{bx:?} exceeds {max}");
                // Contiguous: every axis before the last partial one has length 1.
                let last_partial = bx.iter().zip(&shape).rposition(|(r, &n)| r.len() != n);
                if let Some(q) = last_partial {
                    assert!(
                        bx[..q].iter().all(|r| r.len() == 1),
                        "{bx:?} is not contiguous"
                    );
                }
                next += len;
            }
            assert_eq!(next, shape.iter().product::<usize>());
        }
    }

    #[test]
    fn round_trip_through_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let src = GeneratedSource::from_index_fn(&[37, 11, 5], &[4, 4, 5], |ix| {
            (ix[0] * 55 + ix[1] * 5 + ix[2]) as i32 - 1000
        })
        .unwrap();
        let a = DynArray::from_source(src);
        let p = dir.path().join("out.npy");
        let rep = store_npy(
            &a,
            &p,
            &NpyStoreOptions {
                buffer_bytes: 4 * 55 * 3 + 8,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(rep.buffers.len() > 5);
        let back = NpySource::open(&p).unwrap();
        let got = back.read_region(&[0..37, 0..11, 0..5]).unwrap();
        assert_eq!(got, a.ndarray().unwrap());
        assert_eq!(std::fs::metadata(&p).unwrap().len(), rep.file_bytes);
        // No temporary file left behind; an existing file is refused.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(store_npy(&a, &p, &NpyStoreOptions::default()).is_err());
    }

    #[test]
    fn a_failing_buffer_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let src = GeneratedSource::new(&[100, 10], &[10, 10], DType::F64, |r| {
            if r[0].start >= 50 {
                NdData::zeros(DType::F32, &[1])
            } else {
                NdData::zeros(DType::F64, &[r[0].len(), r[1].len()])
            }
        })
        .unwrap();
        let a = DynArray::from_source(src);
        let p = dir.path().join("bad.npy");
        let opts = NpyStoreOptions {
            buffer_bytes: 800,
            ..Default::default()
        };
        assert!(store_npy(&a, &p, &opts).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
