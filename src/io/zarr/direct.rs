//! [`DirectChain`]: the codec chains of unsharded chunks that vastarray decodes itself, once,
//! straight into the chunk's buffer: `bytes` (little endian, or one-byte elements) alone or
//! followed by `zstd` or `gzip` (zarr-python's default chain is `bytes` + `zstd`), v3 or v2 in C
//! order. zarrs would decode into a buffer of its own and the guard
//! ([`super::guard`]) would decode gzip (and undeclared-size zstd frames) a first time to check
//! them; here the one decoding is the check: it writes into a buffer of exactly the chunk's
//! bytes and fails on anything that does not fill it exactly. The inner chunks of a sharded
//! array with such a chain are decoded the same way ([`super::sharded`]).

use super::meta::{codec_name, Compressor, ZarrFormat, ZarrMeta};
use std::cell::RefCell;
use std::io::Read;
use zstd::zstd_safe::DCtx;

/// An unsharded chunk codec chain decoded without zarrs (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DirectChain {
    /// The compressor after `bytes`, if any.
    pub(crate) compressor: Option<Compressor>,
    /// Bytes of one decoded chunk.
    pub(crate) decoded_bytes: u64,
}

impl DirectChain {
    /// The direct chain of an unsharded array, when its chunks have one (`None`: zarrs decodes
    /// them).
    pub(crate) fn of(meta: &ZarrMeta) -> Option<DirectChain> {
        if meta.shards.is_some() {
            return None;
        }
        let decoded = meta.chunk_check.decoded_bytes;
        match meta.format {
            ZarrFormat::V3 => Self::of_v3(meta.document.get("codecs")?.as_array()?, meta, decoded),
            ZarrFormat::V2 => {
                if !plain_dtype(meta) {
                    return None;
                }
                let one_byte = meta.dtype.size() == 1;
                let little = meta.order == 'C'
                    && (meta.dtype_name.starts_with('<')
                        || (one_byte && !meta.dtype_name.starts_with('>')));
                let names: Vec<&str> = meta.codecs.iter().map(String::as_str).collect();
                let compressor = compressor_of(&names)?;
                little.then_some(DirectChain {
                    compressor,
                    decoded_bytes: decoded,
                })
            }
        }
    }

    /// The direct chain of the v3 codec list `codecs` (an array's, or a shard's inner chunks')
    /// over chunks of `decoded_bytes` of `meta`'s data type, when it is one.
    pub(crate) fn of_v3(
        codecs: &[serde_json::Value],
        meta: &ZarrMeta,
        decoded_bytes: u64,
    ) -> Option<DirectChain> {
        if !plain_dtype(meta) {
            return None;
        }
        let little = match codecs
            .first()?
            .pointer("/configuration/endian")
            .and_then(|e| e.as_str())
        {
            Some("little") => true,
            None => meta.dtype.size() == 1,
            Some(_) => false,
        };
        let names: Vec<&str> = codecs
            .iter()
            .map(codec_name)
            .collect::<Result<_, _>>()
            .ok()?;
        let compressor = compressor_of(&names)?;
        little.then_some(DirectChain {
            compressor,
            decoded_bytes,
        })
    }

    /// Decodes the stored bytes of one chunk into `out` (exactly one decoded chunk). An error
    /// says what is wrong with the bytes (truncated, damaged, the wrong size).
    pub(crate) fn decode_into(&self, stored: &[u8], out: &mut [u8]) -> Result<(), String> {
        if out.len() as u64 != self.decoded_bytes {
            return Err(format!(
                "internal: a buffer of {} bytes for a chunk of {}",
                out.len(),
                self.decoded_bytes
            ));
        }
        match self.compressor {
            None => {
                if stored.len() != out.len() {
                    return Err(format!(
                        "{} bytes stored, a chunk holds {} (truncated or damaged)",
                        stored.len(),
                        out.len()
                    ));
                }
                out.copy_from_slice(stored);
                Ok(())
            }
            Some(Compressor::Zstd) => {
                if stored.len() < 4 || stored[..4] != [0x28, 0xB5, 0x2F, 0xFD] {
                    return Err(format!(
                        "{} bytes: not a Zstandard frame (truncated or damaged)",
                        stored.len()
                    ));
                }
                if let Ok(Some(n)) = zstd::zstd_safe::get_frame_content_size(stored) {
                    if n > out.len() as u64 {
                        return Err(format!(
                            "zstd data declares {n} decoded bytes, a chunk holds {}",
                            out.len()
                        ));
                    }
                }
                let want = out.len();
                // Writes at most `out.len()` bytes: a frame that holds more fails.
                let n = zstd_decompress(stored, out)?;
                exact(n, want, "zstd")
            }
            Some(Compressor::Gzip) => gunzip(stored, out),
            Some(Compressor::Blosc) => Err("internal: blosc is decoded by zarrs".into()),
        }
    }
}

thread_local! {
    /// One Zstandard decompression context per thread, reused for every chunk it decodes.
    static DCTX: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

/// Decodes the Zstandard frame(s) `src` into `out` with this thread's context, giving the
/// bytes written (at most `out.len()`: a frame that holds more is an error).
fn zstd_decompress(src: &[u8], out: &mut [u8]) -> Result<usize, String> {
    let failed = |code: usize| {
        format!(
            "zstd: {} (truncated, damaged or larger than a chunk)",
            zstd::zstd_safe::get_error_name(code)
        )
    };
    DCTX.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = DCtx::try_create();
        }
        let dctx = slot
            .as_mut()
            .ok_or("zstd: cannot allocate a decompression context")?;
        dctx.decompress(out, src).map_err(failed)
    })
}

/// Decodes gzip data `stored` into `out`, which it must fill exactly.
fn gunzip(stored: &[u8], out: &mut [u8]) -> Result<(), String> {
    let mut dec = flate2::read::GzDecoder::new(stored);
    let mut filled = 0;
    while filled < out.len() {
        match dec.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) => return Err(format!("gzip: {e} (truncated or damaged)")),
        }
    }
    exact(filled, out.len(), "gzip")?;
    let mut extra = [0u8; 1];
    match dec.read(&mut extra) {
        Ok(0) => Ok(()),
        Ok(_) => Err(format!(
            "gzip data decodes to more than the {} bytes of a chunk",
            out.len()
        )),
        Err(e) => Err(format!("gzip: {e} (truncated or damaged)")),
    }
}

/// Elements vastarray decodes itself: numeric, on a little-endian machine (not `bool`).
fn plain_dtype(meta: &ZarrMeta) -> bool {
    meta.dtype != crate::DType::Bool && cfg!(target_endian = "little")
}

/// The compressor of a chain of codec `names` made of `bytes` and at most one of `zstd` and
/// `gzip` (`Some(None)`: `bytes` alone; `None`: another chain).
fn compressor_of(names: &[&str]) -> Option<Option<Compressor>> {
    match names {
        ["bytes"] => Some(None),
        ["bytes", "zstd"] => Some(Some(Compressor::Zstd)),
        ["bytes", "gzip"] => Some(Some(Compressor::Gzip)),
        _ => None,
    }
}

fn exact(got: usize, want: usize, codec: &str) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{codec} data decodes to {got} bytes, a chunk holds {want} (truncated or damaged)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn chain(compressor: Option<Compressor>, n: u64) -> DirectChain {
        DirectChain {
            compressor,
            decoded_bytes: n,
        }
    }

    #[test]
    fn zstd_exact_size_only() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let z = zstd::bulk::compress(&data, 3).unwrap();
        let mut out = vec![0u8; 1000];
        chain(Some(Compressor::Zstd), 1000)
            .decode_into(&z, &mut out)
            .unwrap();
        assert_eq!(out, data);
        // A frame of more bytes than a chunk does not fit; one of fewer does not fill it.
        let mut small = vec![0u8; 999];
        assert!(chain(Some(Compressor::Zstd), 999)
            .decode_into(&z, &mut small)
            .is_err());
        let mut big = vec![0u8; 1001];
        let e = chain(Some(Compressor::Zstd), 999)
            .decode_into(&z, &mut small)
            .unwrap_err();
        assert!(e.contains("declares 1000 decoded bytes"), "{e}");
        let e = chain(Some(Compressor::Zstd), 1001)
            .decode_into(&z, &mut big)
            .unwrap_err();
        assert!(e.contains("1000 bytes"), "{e}");
        assert!(chain(Some(Compressor::Zstd), 1000)
            .decode_into(&z[..z.len() - 3], &mut out)
            .is_err());
        // A frame without a declared size (streamed) decodes too.
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        enc.write_all(&data).unwrap();
        let s = enc.finish().unwrap();
        let mut out2 = vec![0u8; 1000];
        chain(Some(Compressor::Zstd), 1000)
            .decode_into(&s, &mut out2)
            .unwrap();
        assert_eq!(out2, data);
    }

    #[test]
    fn gzip_and_raw() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 13) as u8).collect();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&data).unwrap();
        let g = enc.finish().unwrap();
        let mut out = vec![0u8; 5000];
        chain(Some(Compressor::Gzip), 5000)
            .decode_into(&g, &mut out)
            .unwrap();
        assert_eq!(out, data);
        let mut small = vec![0u8; 4000];
        let e = chain(Some(Compressor::Gzip), 4000)
            .decode_into(&g, &mut small)
            .unwrap_err();
        assert!(e.contains("more than"), "{e}");
        assert!(chain(Some(Compressor::Gzip), 5000)
            .decode_into(&g[..g.len() / 2], &mut out)
            .is_err());
        let mut raw = vec![0u8; 5000];
        chain(None, 5000).decode_into(&data, &mut raw).unwrap();
        assert_eq!(raw, data);
        assert!(chain(None, 5000)
            .decode_into(&data[..4999], &mut raw)
            .is_err());
    }
}
