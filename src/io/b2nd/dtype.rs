//! numpy dtype strings as `.b2nd` files store them (`"<u2"`, `"|b1"`, `"<f8"`) and vastarray's
//! [`DType`].

use crate::dtype::DType;
use crate::error::{Error, Result};

/// The numpy dtype string python-blosc2 writes for a type (little-endian, `|` for one byte):
/// `.npy`'s own.
pub use crate::io::npy::descr as numpy_dtype_str;

/// Parses the dtype string of a `.b2nd` file. Big-endian multi-byte types, complex numbers,
/// strings, structured and half-precision types are not supported and give an error that
/// names the type.
pub fn parse_numpy_dtype(s: &str) -> Result<DType> {
    let t = s.trim();
    if t.starts_with('>') {
        let dt = DType::parse(t)?;
        if dt.size() > 1 {
            return Err(Error::DType(format!(
                "big-endian element type {s:?} is not supported"
            )));
        }
        return Ok(dt);
    }
    DType::parse(t).map_err(|_| Error::DType(format!("unsupported element type {s:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        for t in DType::ALL {
            assert_eq!(parse_numpy_dtype(numpy_dtype_str(t)).unwrap(), t);
        }
        for bad in ["<c8", "<U5", "|S3", ">f4", "<f2", "[('a', '<i4')]"] {
            assert!(parse_numpy_dtype(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_numpy_dtype(">u1").unwrap(), DType::U8);
    }
}
