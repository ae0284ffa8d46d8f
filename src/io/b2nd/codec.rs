//! [`Codec`] and [`Compression`]: which Blosc2 codec and level compress chunks, and their
//! translation into C-Blosc2 compression parameters.

use crate::error::{Error, Result};
use blosc2_rs_sys as sys;
use std::fmt;
use std::str::FromStr;

/// A Blosc2 codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// LZ4: fast, the default of vastarray's chunk caches.
    Lz4,
    /// Zstandard: better ratios, the default of python-blosc2.
    Zstd,
    /// zlib (deflate).
    Zlib,
    /// Blosc's own BloscLZ.
    Blosclz,
    /// No compression (level 0; chunks are stored as they are, with the Blosc2 header).
    None,
}

impl Codec {
    /// The C-Blosc2 compressor code (`BLOSC_LZ4`, ...).
    pub(crate) fn code(self) -> u8 {
        let c = match self {
            Codec::Lz4 => sys::BLOSC_LZ4,
            Codec::Zstd => sys::BLOSC_ZSTD,
            Codec::Zlib => sys::BLOSC_ZLIB,
            Codec::Blosclz | Codec::None => sys::BLOSC_BLOSCLZ,
        };
        c as u8
    }

    /// The lower-case name python-blosc2 uses (`"lz4"`, `"zstd"`, `"zlib"`, `"blosclz"`, `"none"`).
    pub fn name(self) -> &'static str {
        match self {
            Codec::Lz4 => "lz4",
            Codec::Zstd => "zstd",
            Codec::Zlib => "zlib",
            Codec::Blosclz => "blosclz",
            Codec::None => "none",
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Codec {
    type Err = Error;
    /// Parses `lz4`, `zstd`, `zlib` (or `deflate`), `blosclz` and `none`, in any case.
    fn from_str(s: &str) -> Result<Codec> {
        match s.to_ascii_lowercase().as_str() {
            "lz4" => Ok(Codec::Lz4),
            "zstd" => Ok(Codec::Zstd),
            "zlib" | "deflate" => Ok(Codec::Zlib),
            "blosclz" => Ok(Codec::Blosclz),
            "none" => Ok(Codec::None),
            other => Err(Error::Invalid(format!(
                "unknown codec {other:?} (expected lz4, zstd, zlib, blosclz or none)"
            ))),
        }
    }
}

/// A codec and a compression level (0-9), as used for every chunk of a file or cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Compression {
    /// The codec.
    pub codec: Codec,
    /// The level, 0 (none) to 9 (most). Ignored for [`Codec::None`].
    pub level: u8,
}

impl Compression {
    /// A codec at a level (checked by [`Compression::validate`] when used).
    pub fn new(codec: Codec, level: u8) -> Self {
        Compression { codec, level }
    }

    /// LZ4 at level 5: fast to write and read; vastarray's default for caches.
    pub fn lz4() -> Self {
        Compression::new(Codec::Lz4, 5)
    }

    /// Zstandard at level 5: python-blosc2's default.
    pub fn zstd() -> Self {
        Compression::new(Codec::Zstd, 5)
    }

    /// Checks the level.
    pub fn validate(&self) -> Result<()> {
        if self.level > 9 {
            return Err(Error::Invalid(format!(
                "compression level {} is outside 0..=9",
                self.level
            )));
        }
        Ok(())
    }

    /// C-Blosc2 compression parameters for items of `typesize` bytes in blocks of `blocksize`
    /// bytes, with the byte shuffle filter where python-blosc2 puts it (last slot).
    pub(crate) fn cparams(&self, typesize: usize, blocksize: usize) -> Result<sys::blosc2_cparams> {
        self.validate()?;
        if typesize == 0 || typesize > sys::BLOSC_MAX_TYPESIZE as usize {
            return Err(Error::DType(format!(
                "item size {typesize} is not supported by Blosc2"
            )));
        }
        let mut p = unsafe { sys::blosc2_get_blosc2_cparams_defaults() };
        p.compcode = self.codec.code();
        p.clevel = if self.codec == Codec::None {
            0
        } else {
            self.level
        };
        p.typesize = typesize as i32;
        p.nthreads = 1;
        p.blocksize = super::ffi::c_len(blocksize, "block")?;
        p.splitmode = sys::BLOSC_AUTO_SPLIT as i32;
        p.filters = [0; 6];
        p.filters_meta = [0; 6];
        p.filters[5] = sys::BLOSC_SHUFFLE as u8;
        Ok(p)
    }
}

impl Default for Compression {
    fn default() -> Self {
        Compression::lz4()
    }
}
