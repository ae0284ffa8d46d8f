//! numpy dtype strings as `.b2nd` files store them (`"<u2"`, `"|b1"`, `"<f8"`) and vastarray's
//! [`DType`].

use crate::dtype::DType;
use crate::error::{Error, Result};

/// The numpy dtype string python-blosc2 writes for a type (little-endian, `|` for one byte).
pub fn numpy_dtype_str(dtype: DType) -> &'static str {
    match dtype {
        DType::Bool => "|b1",
        DType::I8 => "|i1",
        DType::I16 => "<i2",
        DType::I32 => "<i4",
        DType::I64 => "<i8",
        DType::U8 => "|u1",
        DType::U16 => "<u2",
        DType::U32 => "<u4",
        DType::U64 => "<u8",
        DType::F32 => "<f4",
        DType::F64 => "<f8",
    }
}

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
