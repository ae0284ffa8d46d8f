//! Conversions between [`NdData`] and its raw little-endian, C-ordered bytes (what Blosc2
//! compresses, `.npy` and HDF5 store, and partial results carry).

use super::NdData;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use ndarray::{ArrayD, IxDyn};

/// Builds an array of `shape` and `dtype` from C-ordered little-endian bytes. For `bool`,
/// any non-zero byte is `true`.
pub fn nd_from_bytes(dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<NdData> {
    let n: usize = shape.iter().product();
    let want = n * dtype.size();
    if bytes.len() != want {
        return Err(Error::Shape(format!(
            "{} bytes cannot hold a {dtype} array of shape {shape:?} ({want} bytes)",
            bytes.len()
        )));
    }
    fn build<T: Element>(shape: &[usize], v: Vec<T>) -> Result<NdData> {
        ArrayD::from_shape_vec(IxDyn(shape), v)
            .map(T::wrap)
            .map_err(|e| Error::Internal(format!("array from bytes: {e}")))
    }
    macro_rules! pod {
        ($t:ty) => {{
            const S: usize = std::mem::size_of::<$t>();
            let v: Vec<$t> = bytes
                .chunks_exact(S)
                .map(|c| {
                    let mut a = [0u8; S];
                    a.copy_from_slice(c);
                    <$t>::from_le_bytes(a)
                })
                .collect();
            build(shape, v)
        }};
    }
    match dtype {
        DType::Bool => build(shape, bytes.iter().map(|&b| b != 0).collect()),
        DType::I8 => pod!(i8),
        DType::I16 => pod!(i16),
        DType::I32 => pod!(i32),
        DType::I64 => pod!(i64),
        DType::U8 => build(shape, bytes.to_vec()),
        DType::U16 => pod!(u16),
        DType::U32 => pod!(u32),
        DType::U64 => pod!(u64),
        DType::F32 => pod!(f32),
        DType::F64 => pod!(f64),
    }
}

/// A new array of `dtype` and `shape` whose C-ordered little-endian bytes `fill` writes (it is
/// given exactly `len * itemsize` bytes, zeroed). On little-endian machines numeric arrays are
/// filled in place (no copy); `bool` arrays, and every array on big-endian machines, go through
/// a byte buffer and [`nd_from_bytes`].
pub fn nd_filled(
    dtype: DType,
    shape: &[usize],
    fill: impl FnOnce(&mut [u8]) -> Result<()>,
) -> Result<NdData> {
    let n = shape
        .iter()
        .try_fold(dtype.size(), |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::Shape(format!("shape {shape:?} is too large")))?;
    if cfg!(target_endian = "big") || dtype == DType::Bool {
        let mut bytes = vec![0u8; n];
        fill(&mut bytes)?;
        return nd_from_bytes(dtype, shape, &bytes);
    }
    let mut out = NdData::zeros(dtype, shape);
    macro_rules! pod {
        ($a:expr, $t:ty) => {{
            let s = $a
                .as_slice_mut()
                .ok_or_else(|| Error::Internal("a new array is not contiguous".into()))?;
            let len = std::mem::size_of_val::<[$t]>(s);
            // SAFETY: `s` is a live, exclusively borrowed slice of a plain numeric type (every
            // bit pattern is a valid value), viewed as its `len` bytes for the call only.
            let bytes = unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<u8>(), len) };
            fill(bytes)?;
        }};
    }
    match &mut out {
        NdData::Bool(_) => unreachable!("bool arrays go through bytes"),
        NdData::I8(a) => pod!(a, i8),
        NdData::I16(a) => pod!(a, i16),
        NdData::I32(a) => pod!(a, i32),
        NdData::I64(a) => pod!(a, i64),
        NdData::U8(a) => pod!(a, u8),
        NdData::U16(a) => pod!(a, u16),
        NdData::U32(a) => pod!(a, u32),
        NdData::U64(a) => pod!(a, u64),
        NdData::F32(a) => pod!(a, f32),
        NdData::F64(a) => pod!(a, f64),
    }
    Ok(out)
}

/// Like [`nd_filled`], but `fill` gets a pointer to `len` bytes that are not initialised (no
/// zeroing pass over memory the fill overwrites anyway).
///
/// # Safety
/// When `fill` returns `Ok`, it must have written all `len` bytes at the pointer.
#[cfg(feature = "b2nd")]
pub(crate) unsafe fn nd_written(
    dtype: DType,
    shape: &[usize],
    fill: impl FnOnce(*mut u8, usize) -> Result<()>,
) -> Result<NdData> {
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|n| n.checked_mul(dtype.size()).is_some())
        .ok_or_else(|| Error::Shape(format!("shape {shape:?} is too large")))?;
    if cfg!(target_endian = "big") || dtype == DType::Bool {
        return nd_filled(dtype, shape, |b| fill(b.as_mut_ptr(), b.len()));
    }
    fn build<T: Element>(
        shape: &[usize],
        n: usize,
        fill: impl FnOnce(*mut u8, usize) -> Result<()>,
    ) -> Result<NdData> {
        let mut v: Vec<T> = Vec::with_capacity(n);
        fill(v.as_mut_ptr().cast::<u8>(), n * std::mem::size_of::<T>())?;
        // SAFETY: `fill` wrote all `n` elements' bytes (the caller's contract), and every
        // bit pattern is a valid value of the plain numeric types built here.
        unsafe { v.set_len(n) };
        ArrayD::from_shape_vec(IxDyn(shape), v)
            .map(T::wrap)
            .map_err(|e| Error::Internal(format!("array from bytes: {e}")))
    }
    match dtype {
        DType::Bool => unreachable!("bool arrays go through bytes"),
        DType::I8 => build::<i8>(shape, n, fill),
        DType::I16 => build::<i16>(shape, n, fill),
        DType::I32 => build::<i32>(shape, n, fill),
        DType::I64 => build::<i64>(shape, n, fill),
        DType::U8 => build::<u8>(shape, n, fill),
        DType::U16 => build::<u16>(shape, n, fill),
        DType::U32 => build::<u32>(shape, n, fill),
        DType::U64 => build::<u64>(shape, n, fill),
        DType::F32 => build::<f32>(shape, n, fill),
        DType::F64 => build::<f64>(shape, n, fill),
    }
}

/// The C-ordered little-endian bytes of an array (whatever its memory layout).
pub fn nd_to_bytes(data: &NdData) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.nbytes());
    macro_rules! pod {
        ($a:expr) => {{
            for v in $a.iter() {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }};
    }
    match data {
        NdData::Bool(a) => out.extend(a.iter().map(|&b| b as u8)),
        NdData::I8(a) => pod!(a),
        NdData::I16(a) => pod!(a),
        NdData::I32(a) => pod!(a),
        NdData::I64(a) => pod!(a),
        NdData::U8(a) => match a.as_slice() {
            Some(s) => out.extend_from_slice(s),
            None => out.extend(a.iter().copied()),
        },
        NdData::U16(a) => pod!(a),
        NdData::U32(a) => pod!(a),
        NdData::U64(a) => pod!(a),
        NdData::F32(a) => pod!(a),
        NdData::F64(a) => pod!(a),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_type() {
        for t in DType::ALL {
            let a = NdData::from(
                ndarray::Array::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64).into_dyn(),
            )
            .cast(t);
            let b = nd_to_bytes(&a);
            assert_eq!(b.len(), 12 * t.size());
            assert_eq!(nd_from_bytes(t, &[3, 4], &b).unwrap(), a);
        }
        assert!(nd_from_bytes(DType::U16, &[3], &[0u8; 5]).is_err());
    }
}
