//! The `.npy` format (numpy's one-array file): [`decode_npy`] and [`encode_npy`].
//!
//! Supported: format versions 1, 2 and 3, every [`DType`], C order, little endian (or one-byte
//! types). Anything else is refused with a message saying what.

use crate::data::NdData;
use crate::dtype::{DType, Element};
use ndarray::{ArrayD, IxDyn};

const MAGIC: &[u8] = b"\x93NUMPY";

/// The dictionary at the start of a `.npy` file.
#[derive(Debug, PartialEq, Eq)]
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// Decodes a `.npy` file. The error says what is wrong (it does not know where the bytes came
/// from: callers add the URL or path).
pub fn decode_npy(bytes: &[u8]) -> Result<NdData, String> {
    let (header, data) = split_header(bytes)?;
    let header = parse_header(header)?;
    if header.fortran_order {
        return Err("Fortran-order .npy data is not supported (C order only)".into());
    }
    let dtype = DType::parse(&header.descr)
        .map_err(|_| format!("unsupported .npy dtype {:?}", header.descr))?;
    if header.descr.starts_with('>') && dtype.size() > 1 {
        return Err(format!(
            "big-endian .npy data ({:?}) is not supported",
            header.descr
        ));
    }
    let count = header
        .shape
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .ok_or_else(|| format!("shape {:?} is too large", header.shape))?;
    let want = count
        .checked_mul(dtype.size())
        .ok_or_else(|| format!("shape {:?} is too large", header.shape))?;
    if data.len() != want {
        return Err(format!(
            ".npy data has {} bytes, shape {:?} of {} needs {}",
            data.len(),
            header.shape,
            dtype,
            want
        ));
    }
    crate::dispatch_dtype!(dtype, T => decode_typed::<T>(data, &header.shape))
}

/// Encodes an array as a version 1.0 `.npy` file (little endian, C order).
pub fn encode_npy(data: &NdData) -> Vec<u8> {
    let shape = data.shape();
    let dims: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {tuple}, }}",
        descr(data.dtype())
    );
    // Pad with spaces so that the data starts on a multiple of 64 bytes, then end with '\n'.
    while !(MAGIC.len() + 4 + dict.len() + 1).is_multiple_of(64) {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + dict.len() + data.nbytes());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    crate::with_nd!(data, a: T => a.iter().for_each(|v| v.write_le(&mut out)));
    out
}

/// numpy's type string for a dtype.
fn descr(dtype: DType) -> &'static str {
    match dtype {
        DType::Bool => "|b1",
        DType::I8 => "|i1",
        DType::U8 => "|u1",
        DType::I16 => "<i2",
        DType::U16 => "<u2",
        DType::I32 => "<i4",
        DType::U32 => "<u4",
        DType::I64 => "<i8",
        DType::U64 => "<u8",
        DType::F32 => "<f4",
        DType::F64 => "<f8",
    }
}

/// Splits a file into its header text and its data.
fn split_header(bytes: &[u8]) -> Result<(&str, &[u8]), String> {
    if bytes.len() < 10 || !bytes.starts_with(MAGIC) {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    let major = bytes[6];
    let (len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        2 | 3 => {
            let b = bytes.get(8..12).ok_or("truncated .npy header")?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        }
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    let end = start.checked_add(len).ok_or("bad .npy header length")?;
    let header = bytes
        .get(start..end)
        .ok_or_else(|| format!("truncated .npy header ({len} bytes announced)"))?;
    let text =
        std::str::from_utf8(header).map_err(|_| "the .npy header is not text".to_string())?;
    Ok((text, &bytes[end..]))
}

/// Parses the Python dict literal of a header: `{'descr': '<f4', 'fortran_order': False,
/// 'shape': (2, 3), }`.
fn parse_header(text: &str) -> Result<Header, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    p.expect(b'{')?;
    loop {
        p.skip_ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.skip_ws();
        p.expect(b':')?;
        p.skip_ws();
        match key.as_str() {
            "descr" => descr = Some(p.string()?),
            "fortran_order" => fortran_order = Some(p.boolean()?),
            "shape" => shape = Some(p.tuple()?),
            other => return Err(format!("unexpected key {other:?} in the .npy header")),
        }
        p.skip_ws();
        if !p.eat(b',') {
            p.skip_ws();
            p.expect(b'}')?;
            break;
        }
    }
    Ok(Header {
        descr: descr.ok_or("the .npy header has no 'descr'")?,
        fortran_order: fortran_order.ok_or("the .npy header has no 'fortran_order'")?,
        shape: shape.ok_or("the .npy header has no 'shape'")?,
    })
}

/// A cursor over header text.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.skip_ws();
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "malformed .npy header: expected {:?} at byte {}",
                c as char, self.i
            ))
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => {
                return Err(format!(
                    "malformed .npy header: expected a string at byte {}",
                    self.i
                ))
            }
        };
        let start = self.i + 1;
        let len = self.s[start..]
            .iter()
            .position(|&c| c == quote)
            .ok_or("malformed .npy header: unterminated string")?;
        self.i = start + len + 1;
        Ok(String::from_utf8_lossy(&self.s[start..start + len]).into_owned())
    }

    fn boolean(&mut self) -> Result<bool, String> {
        for (word, value) in [(&b"True"[..], true), (&b"False"[..], false)] {
            if self.s[self.i..].starts_with(word) {
                self.i += word.len();
                return Ok(value);
            }
        }
        Err(format!(
            "malformed .npy header: expected True or False at byte {}",
            self.i
        ))
    }

    fn tuple(&mut self) -> Result<Vec<usize>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(b')') {
                return Ok(dims);
            }
            let start = self.i;
            while self.s.get(self.i).is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
            let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
            let n = digits
                .parse::<usize>()
                .map_err(|_| format!("malformed .npy header: bad dimension at byte {start}"))?;
            dims.push(n);
            self.skip_ws();
            if !self.eat(b',') {
                self.expect(b')')?;
                return Ok(dims);
            }
        }
    }
}

/// Little-endian bytes of one element.
trait LeBytes: Element {
    fn read_le(b: &[u8]) -> Self;
    fn write_le(self, out: &mut Vec<u8>);
}

macro_rules! impl_le_bytes {
    ($($t:ty),*) => {
        $(
            impl LeBytes for $t {
                fn read_le(b: &[u8]) -> Self {
                    b.try_into().map(<$t>::from_le_bytes).unwrap_or_default()
                }
                fn write_le(self, out: &mut Vec<u8>) {
                    out.extend_from_slice(&self.to_le_bytes());
                }
            }
        )*
    };
}
impl_le_bytes!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

impl LeBytes for bool {
    fn read_le(b: &[u8]) -> Self {
        b.first().is_some_and(|&v| v != 0)
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.push(self as u8);
    }
}

/// Builds the typed array from exactly `shape.product() * size_of::<T>()` bytes.
fn decode_typed<T: LeBytes>(data: &[u8], shape: &[usize]) -> Result<NdData, String> {
    let values: Vec<T> = data
        .chunks_exact(std::mem::size_of::<T>())
        .map(T::read_le)
        .collect();
    ArrayD::from_shape_vec(IxDyn(shape), values)
        .map(T::wrap)
        .map_err(|e| format!("shape {shape:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn parses_headers_numpy_writes() {
        let h = parse_header("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }    \n")
            .unwrap();
        assert_eq!(
            h,
            Header {
                descr: "<f8".into(),
                fortran_order: false,
                shape: vec![5]
            }
        );
        let h = parse_header("{\"descr\":\"|u1\",\"fortran_order\":True,\"shape\":()}").unwrap();
        assert_eq!(h.shape, Vec::<usize>::new());
        assert!(h.fortran_order);
    }

    #[test]
    fn refuses_bad_files_with_reasons() {
        assert!(decode_npy(b"hello").unwrap_err().contains("magic"));
        let mut bytes = encode_npy(&NdData::from(ArrayD::<f32>::zeros(IxDyn(&[4]))));
        bytes.pop();
        assert!(decode_npy(&bytes).unwrap_err().contains("needs 16"));
        let dict = "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n";
        let mut file = b"\x93NUMPY\x01\x00".to_vec();
        file.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        file.extend_from_slice(dict.as_bytes());
        file.extend_from_slice(&[0, 0, 0, 0]);
        assert!(decode_npy(&file).unwrap_err().contains("big-endian"));
    }
}
