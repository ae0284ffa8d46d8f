//! `.npy` tiles (numpy's one-array file in a response body): [`decode_npy`] and [`encode_npy`].
//!
//! The header is parsed by [`crate::io::npy::NpyHeader`], the crate's one `.npy` parser, so
//! tiles accept what `.npy` files do: format versions 1, 2 and 3, every [`DType`], little- or
//! big-endian data, C or Fortran order. Anything else is refused with a message saying what.

use crate::data::NdData;
use crate::io::npy::{decode_elements, from_fortran_storage, FromBytes, NpyHeader};

/// Decodes a `.npy` file held in memory. The error says what is wrong (it does not know where
/// the bytes came from: callers add the URL or path).
pub fn decode_npy(bytes: &[u8]) -> Result<NdData, String> {
    let header = NpyHeader::parse(bytes)?;
    let data = &bytes[header.data_offset as usize..];
    let want = header
        .data_bytes()
        .ok_or_else(|| format!("shape {:?} is too large", header.shape))?;
    if data.len() as u64 != want {
        return Err(format!(
            ".npy data has {} bytes, shape {:?} of {} needs {}",
            data.len(),
            header.shape,
            header.dtype,
            want
        ));
    }
    let stored = decode_elements(
        header.dtype,
        header.big_endian,
        data,
        &header.storage_shape(),
    )?;
    Ok(if header.fortran_order {
        from_fortran_storage(stored)
    } else {
        stored
    })
}

/// Encodes an array as a `.npy` file (little endian, C order; version 1.0 unless the header
/// needs more room).
pub fn encode_npy(data: &NdData) -> Vec<u8> {
    let mut out = NpyHeader::encode(data.shape(), data.dtype());
    out.reserve(data.nbytes());
    crate::with_nd!(data, a: T => a.iter().for_each(|v| v.put_le(&mut out)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn round_trips_every_dtype() {
        for dtype in DType::ALL {
            let a = crate::dispatch_dtype!(dtype, T => T::wrap(
                ArrayD::from_shape_fn(IxDyn(&[3, 4, 2]), |i| T::from_f64((i[0] * 8 + i[1] * 2 + i[2]) as f64 - 7.0))
            ));
            let bytes = encode_npy(&a);
            assert_eq!(bytes.len() % 64, (a.nbytes()) % 64);
            assert_eq!(decode_npy(&bytes).unwrap(), a, "{dtype}");
        }
    }

    /// A version-1 file of `dict` followed by `data`.
    fn file(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut f = b"\x93NUMPY\x01\x00".to_vec();
        f.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        f.extend_from_slice(dict.as_bytes());
        f.extend_from_slice(data);
        f
    }

    #[test]
    fn decodes_big_endian_fortran_order_and_double_quoted_headers() {
        // numpy's [[0, 1, 2], [3, 4, 5]] as int16, stored big-endian in Fortran order.
        let data: Vec<u8> = [0i16, 3, 1, 4, 2, 5]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let f = file(
            "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 3), }",
            &data,
        );
        let got = decode_npy(&f).unwrap().into_typed::<i16>().unwrap();
        assert_eq!(got.shape(), &[2, 3]);
        assert_eq!(
            got.iter().copied().collect::<Vec<_>>(),
            vec![0, 1, 2, 3, 4, 5]
        );
        let f = file(
            "{\"descr\":\"|u1\",\"fortran_order\":False,\"shape\":()}",
            &[7],
        );
        let got = decode_npy(&f).unwrap().into_typed::<u8>().unwrap();
        assert_eq!((got.ndim(), got[IxDyn(&[])]), (0, 7));
    }

    #[test]
    fn refuses_bad_files_with_reasons() {
        assert!(decode_npy(b"hello").unwrap_err().contains("magic"));
        let mut bytes = encode_npy(&NdData::from(ArrayD::<f32>::zeros(IxDyn(&[4]))));
        bytes.pop();
        assert!(decode_npy(&bytes).unwrap_err().contains("needs 16"));
        let e = decode_npy(&file(
            "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
            &[0; 8],
        ))
        .unwrap_err();
        assert!(e.contains("unsupported .npy element type"), "{e}");
        let e = decode_npy(&file("{'descr': '<f4', 'shape': (1,), }", &[0; 4])).unwrap_err();
        assert!(e.contains("no 'fortran_order'"), "{e}");
        let mut v9 = encode_npy(&NdData::from(ArrayD::<u8>::zeros(IxDyn(&[1]))));
        v9[6] = 9;
        assert!(decode_npy(&v9).unwrap_err().contains("version 9"));
    }
}
