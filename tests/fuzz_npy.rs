//! Fuzzing `.npy` reading (issue 11): files written here in every variant numpy's format
//! allows (versions 1 to 3, every element type, both byte orders, C and Fortran order, header
//! spellings), then mutated. Both readers, [`NpySource`] (a file, read by regions) and
//! [`decode_npy`] (bytes in memory, as tiles are), must give a clean error or exactly the
//! values a hand-written decoder finds at the header's offsets; never a panic, nor an
//! allocation of what a header merely claims. `VASTARRAY_FUZZ_CASES` sets the number of cases.

use crate::common;

use proptest::prelude::*;
use proptest::test_runner::Config;
use vastarray::io::npy::decode_npy;
use vastarray::io::npy::{NpyHeader, NpySource};
use vastarray::{ChunkSource, DType, NdData};

/// numpy's type codes, with the size of an element and whether byte order matters.
const CODES: &[(&str, usize)] = &[
    ("b1", 1),
    ("i1", 1),
    ("u1", 1),
    ("i2", 2),
    ("u2", 2),
    ("i4", 4),
    ("u4", 4),
    ("i8", 8),
    ("u8", 8),
    ("f4", 4),
    ("f8", 8),
];

/// One file to write: its header's parts and its data bytes.
#[derive(Clone, Debug)]
struct Spec {
    version: u8,
    code: usize,
    big: bool,
    fortran: bool,
    shape: Vec<usize>,
    double_quotes: bool,
    reorder: bool,
    trailing_comma: bool,
    data: Vec<u8>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::sample::select(vec![1u8, 2, 3]),
        0..CODES.len(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(0usize..5, 0..4),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(version, code, big, fortran, shape, dq, reorder, trailing, seed)| {
                let n: usize = shape.iter().product::<usize>() * CODES[code].1;
                let mut rng = fastrand::Rng::with_seed(seed);
                let data = (0..n).map(|_| rng.u8(..)).collect();
                Spec {
                    version,
                    code,
                    big,
                    fortran,
                    shape,
                    double_quotes: dq,
                    reorder,
                    trailing_comma: trailing,
                    data,
                }
            },
        )
}

/// The file's bytes, header written here by hand as numpy (or another writer) could.
fn file(s: &Spec) -> Vec<u8> {
    let (code, size) = CODES[s.code];
    let order = if size == 1 {
        '|'
    } else if s.big {
        '>'
    } else {
        '<'
    };
    let q = if s.double_quotes { '"' } else { '\'' };
    let dims: Vec<String> = s.shape.iter().map(|d| d.to_string()).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let descr = format!("{q}descr{q}: {q}{order}{code}{q}");
    let fortran = format!(
        "{q}fortran_order{q}: {}",
        if s.fortran { "True" } else { "False" }
    );
    let shape = format!("{q}shape{q}: {tuple}");
    let entries = if s.reorder {
        [shape, descr, fortran]
    } else {
        [descr, fortran, shape]
    };
    let mut dict = format!(
        "{{{}{}}}",
        entries.join(", "),
        if s.trailing_comma { ", " } else { "" }
    );
    let prefix = if s.version == 1 { 10 } else { 12 };
    while (prefix + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[s.version, 0]);
    if s.version == 1 {
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(dict.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(&s.data);
    out
}

/// Bit patterns of elements, zero-extended to 64 bits, for exact comparisons of any type.
trait Bits {
    fn bits(self) -> u64;
}
macro_rules! bits_as {
    ($($t:ty => $u:ty),*) => {$(impl Bits for $t { fn bits(self) -> u64 { self as $u as u64 } })*};
}
bits_as!(i8 => u8, u8 => u8, i16 => u16, u16 => u16, i32 => u32, u32 => u32, i64 => u64, u64 => u64);
impl Bits for bool {
    fn bits(self) -> u64 {
        self as u64
    }
}
impl Bits for f32 {
    fn bits(self) -> u64 {
        self.to_bits() as u64
    }
}
impl Bits for f64 {
    fn bits(self) -> u64 {
        self.to_bits()
    }
}

fn bits_of(data: &NdData) -> Vec<u64> {
    vastarray::with_nd!(data, a: T => a.iter().map(|v| v.bits()).collect())
}

/// The elements `h` describes in `bytes`, in C order of numpy's shape, decoded by hand: element
/// at index I sits at `data_offset + size * (I . strides)`, strides of C or Fortran order.
fn expected_bits(h: &NpyHeader, bytes: &[u8]) -> Vec<u64> {
    let size = h.dtype.size();
    let nd = h.shape.len();
    let mut strides = vec![1usize; nd];
    if h.fortran_order {
        for d in 1..nd {
            strides[d] = strides[d - 1] * h.shape[d - 1];
        }
    } else {
        for d in (0..nd.saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * h.shape[d + 1];
        }
    }
    let total: usize = h.shape.iter().product();
    let mut out = Vec::with_capacity(total);
    let mut index = vec![0usize; nd];
    for _ in 0..total {
        let k: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
        let at = h.data_offset as usize + k * size;
        let b = &bytes[at..at + size];
        let v = if h.dtype == DType::Bool {
            u64::from(b[0] != 0)
        } else {
            let mut v = 0u64;
            for i in 0..size {
                let byte = if h.big_endian { b[i] } else { b[size - 1 - i] };
                v = (v << 8) | byte as u64;
            }
            v
        };
        out.push(v);
        for d in (0..nd).rev() {
            index[d] += 1;
            if index[d] < h.shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    out
}

/// Reads `bytes` both ways; each must fail cleanly or give exactly the expected values.
fn check(bytes: &[u8], dir: &std::path::Path) -> Result<Option<NpyHeader>, TestCaseError> {
    let path = dir.join("f.npy");
    std::fs::write(&path, bytes).unwrap();
    let from_file = match NpySource::open(&path) {
        Err(e) => {
            let m = e.to_string();
            prop_assert!(m.contains("f.npy"), "{m}");
            None
        }
        Ok(src) => {
            let h = src.header().clone();
            prop_assert_eq!(src.shape(), &h.shape[..]);
            prop_assert_eq!(src.dtype(), h.dtype);
            let need = h.data_bytes().unwrap() + h.data_offset;
            prop_assert!(need <= bytes.len() as u64);
            let whole: Vec<_> = h.shape.iter().map(|&n| 0..n).collect();
            let got = src.read_region(&whole).unwrap();
            prop_assert_eq!(bits_of(&got), expected_bits(&h, bytes));
            // A region in the middle as well.
            let part: Vec<_> = h.shape.iter().map(|&n| n / 3..n - n / 3).collect();
            let sub = src.read_region(&part).unwrap();
            let sub_shape: Vec<usize> = part.iter().map(|r| r.len()).collect();
            prop_assert_eq!(sub.shape(), &sub_shape[..]);
            Some(h)
        }
    };
    match decode_npy(bytes) {
        Err(m) => prop_assert!(!m.is_empty()),
        Ok(data) => {
            // In memory the data must fill the rest of the bytes exactly.
            let h = NpyHeader::read(&std::fs::File::open(&path).unwrap(), &path).unwrap();
            prop_assert_eq!(h.data_offset + h.data_bytes().unwrap(), bytes.len() as u64);
            prop_assert_eq!(data.shape(), &h.shape[..]);
            prop_assert_eq!(bits_of(&data), expected_bits(&h, bytes));
        }
    }
    Ok(from_file)
}

/// Ways to damage a file.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(prop::sample::Index, u8),
    SetByte(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Delete(prop::sample::Index),
    Truncate(prop::sample::Index),
    /// Replaces a digit of the header by a long number.
    BigNumber(prop::sample::Index, &'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let header_byte = prop_oneof![
        Just(b'('),
        Just(b')'),
        Just(b','),
        Just(b'\''),
        Just(b'"'),
        Just(b'<'),
        Just(b'>'),
        Just(b'|'),
        Just(b'0'),
        Just(b'9'),
        Just(b' '),
        Just(b'{'),
        Just(b'}'),
        Just(b':'),
        Just(0u8),
        Just(0xff),
        any::<u8>(),
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        (any::<prop::sample::Index>(), header_byte.clone())
            .prop_map(|(i, b)| Mutation::SetByte(i, b)),
        (any::<prop::sample::Index>(), header_byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Delete),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        (
            any::<prop::sample::Index>(),
            prop::sample::select(vec![
                "4294967296",
                "18446744073709551615",
                "18446744073709551616",
                "9223372036854775807",
                "1099511627776, 1099511627776",
                "0, 18446744073709551615",
                "-1",
            ])
        )
            .prop_map(|(i, n)| Mutation::BigNumber(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    // Most mutations aim at the header (the first 128 bytes), where the parsing is.
    let head = bytes.len().clamp(1, 128);
    match m {
        Mutation::FlipBit(i, bit) => {
            if !bytes.is_empty() {
                let k = i.index(head.min(bytes.len()));
                bytes[k] ^= 1 << bit;
            }
        }
        Mutation::SetByte(i, b) => {
            if !bytes.is_empty() {
                let k = i.index(head.min(bytes.len()));
                bytes[k] = *b;
            }
        }
        Mutation::Insert(i, b) => {
            let k = i.index(head.min(bytes.len()) + 1);
            bytes.insert(k, *b);
        }
        Mutation::Delete(i) => {
            if !bytes.is_empty() {
                let k = i.index(bytes.len());
                bytes.remove(k);
            }
        }
        Mutation::Truncate(i) => {
            let k = i.index(bytes.len() + 1);
            bytes.truncate(k);
        }
        Mutation::BigNumber(i, n) => {
            let digits: Vec<usize> = (0..head.min(bytes.len()))
                .filter(|&k| bytes[k].is_ascii_digit() && k >= 10)
                .collect();
            if !digits.is_empty() {
                let k = digits[i.index(digits.len())];
                bytes.splice(k..k + 1, n.bytes());
            }
        }
    }
}

fn config() -> Config {
    Config {
        cases: common::fuzz_cases(),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every variant written here reads back exactly, both ways.
    #[test]
    fn valid_files_read_back_exactly(s in spec()) {
        let dir = tempfile::tempdir().unwrap();
        let bytes = file(&s);
        let h = check(&bytes, dir.path())?.expect("a valid file opens");
        prop_assert_eq!(&h.shape, &s.shape);
        prop_assert_eq!(h.fortran_order, s.fortran);
        prop_assert_eq!(h.version, (s.version, 0));
    }

    /// Damaged files give an error or exactly what their (damaged) header describes.
    #[test]
    fn damaged_files_give_errors_or_the_right_data(
        s in spec(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = file(&s);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        check(&bytes, dir.path())?;
    }

    /// Headers claiming huge shapes over a few bytes of data are refused before anything of
    /// that size is allocated.
    #[test]
    fn huge_declared_shapes_are_refused(
        dims in prop::collection::vec(prop::sample::select(vec![
            0usize, 1, 3, 1 << 20, 1 << 31, 1 << 40, 1 << 62, usize::MAX,
        ]), 1..4),
        code in 0..CODES.len(),
        extra in 0usize..64,
    ) {
        let s = Spec {
            version: 1,
            code,
            big: false,
            fortran: false,
            shape: dims.clone(),
            double_quotes: false,
            reorder: false,
            trailing_comma: true,
            data: vec![7u8; extra],
        };
        let dir = tempfile::tempdir().unwrap();
        let bytes = file(&s);
        let total = dims.iter().try_fold(CODES[code].1 as u128, |a, &d| a.checked_mul(d as u128));
        if let Some(h) = check(&bytes, dir.path())? {
            // Only a shape whose data is really there may open.
            prop_assert!(total.is_some_and(|t| t <= extra as u128), "{:?}", h.shape);
        }
    }
}
