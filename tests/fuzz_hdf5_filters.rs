//! Fuzzing the HDF5 filter decoding (`io::hdf5::filters`) with arbitrary bytes and with
//! real chunks written by h5py (deflate + shuffle float32, the same with Fletcher32, Fletcher32
//! alone, shuffle alone), bit-flipped, truncated, extended and overwritten.
//!
//! What must hold: no panic; a decoded chunk always has the size asked for; a chunk protected
//! by a checksum (deflate's Adler-32, Fletcher32) with one bit flipped decodes to its true
//! values or fails, never to other values; a truncated deflate stream always fails. Through
//! [`Hdf5Source`] (the damaged chunk written into a copy of the h5py file), the error names the
//! file, the dataset and the chunk. `common::fuzz_cases()` sets the number of cases (`make
//! fuzz` runs many more).

#![cfg(feature = "hdf5")]

use crate::common;
use crate::hdf5_helpers;

use hdf5_helpers::Fixture;
use proptest::prelude::*;
use std::path::Path;
use vastarray::io::hdf5::filters::{decode_pipeline, encode_pipeline, PipelineFilter};
use vastarray::io::hdf5::Hdf5Source;
use vastarray::{ChunkSource, Error};

/// Four datasets of shape (128, 64) in chunks of (64, 64); the stored bytes of chunk (0, 0)
/// of each (`NAME.chunk`) and its values (`NAME`).
const SCRIPT: &str = r#"
rng = np.random.default_rng(7)
f4 = np.round(rng.standard_normal((128, 64), dtype=np.float32) * 10 + 280, 2)
i2 = rng.integers(-3000, 3000, size=(128, 64)).astype('i2')
f8 = rng.standard_normal((128, 64))
sets = {
    'deflate_shuffle': (f4, dict(compression='gzip', compression_opts=4, shuffle=True)),
    'deflate_shuffle_fletcher': (f4, dict(compression='gzip', compression_opts=4, shuffle=True, fletcher32=True)),
    'fletcher': (i2, dict(fletcher32=True)),
    'shuffle': (f8, dict(shuffle=True)),
}
with h5py.File(os.path.join(OUT, 'f.h5'), 'w') as f:
    for name, (a, kw) in sets.items():
        d = f.create_dataset(name, data=a, chunks=(64, 64), **kw)
        mask, raw = d.id.read_direct_chunk((0, 0))
        assert mask == 0
        with open(os.path.join(OUT, name + '.chunk'), 'wb') as fh:
            fh.write(raw)
        dump(name, a[0:64, 0:64])
"#;

const NAMES: [&str; 4] = [
    "deflate_shuffle",
    "deflate_shuffle_fletcher",
    "fletcher",
    "shuffle",
];

/// One real chunk: its stored bytes, its dataset's pipeline, element size and decoded bytes.
struct RealChunk {
    name: &'static str,
    stored: Vec<u8>,
    pipeline: Vec<PipelineFilter>,
    elem_size: usize,
    decoded: Vec<u8>,
}

impl RealChunk {
    /// True when the pipeline carries a checksum over all of the stored bytes.
    fn checksummed(&self) -> bool {
        self.pipeline
            .iter()
            .any(|f| matches!(f, PipelineFilter::Deflate(_) | PipelineFilter::Fletcher32))
    }

    fn deflated(&self) -> bool {
        self.pipeline
            .iter()
            .any(|f| matches!(f, PipelineFilter::Deflate(_)))
    }
}

fn real_chunks(fx: &Fixture) -> Vec<RealChunk> {
    NAMES
        .iter()
        .map(|&name| {
            let src = Hdf5Source::open(fx.path("f.h5"), &format!("/{name}")).unwrap();
            let (_, _, decoded) = fx.expected(name);
            let chunk = RealChunk {
                name,
                stored: std::fs::read(fx.path(&format!("{name}.chunk"))).unwrap(),
                pipeline: src.info().filters.clone(),
                elem_size: src.dtype().size(),
                decoded,
            };
            // The undamaged chunk decodes to numpy's values.
            let got = decode_pipeline(
                chunk.stored.clone(),
                &chunk.pipeline,
                0,
                chunk.elem_size,
                chunk.decoded.len(),
            )
            .unwrap();
            assert_eq!(got, chunk.decoded, "{name}");
            chunk
        })
        .collect()
}

/// A way to damage stored bytes.
#[derive(Clone, Debug)]
enum Damage {
    /// Flip these bits (positions taken modulo the length in bits).
    Flip(Vec<usize>),
    /// Keep only the first `n` bytes (taken modulo the length).
    Truncate(usize),
    /// Append these bytes.
    Extend(Vec<u8>),
    /// Overwrite bytes from a position (modulo the length) with these.
    Overwrite(usize, Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        proptest::collection::vec(any::<usize>(), 1..2).prop_map(Damage::Flip),
        proptest::collection::vec(any::<usize>(), 2..9).prop_map(Damage::Flip),
        any::<usize>().prop_map(Damage::Truncate),
        proptest::collection::vec(any::<u8>(), 1..64).prop_map(Damage::Extend),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..64)
        )
            .prop_map(|(at, b)| Damage::Overwrite(at, b)),
    ]
}

impl Damage {
    fn apply(&self, bytes: &[u8]) -> Vec<u8> {
        let mut b = bytes.to_vec();
        match self {
            Damage::Flip(bits) => {
                for &bit in bits {
                    let bit = bit % (b.len() * 8);
                    b[bit / 8] ^= 1 << (bit % 8);
                }
            }
            Damage::Truncate(n) => b.truncate(n % b.len()),
            Damage::Extend(more) => b.extend_from_slice(more),
            Damage::Overwrite(at, with) => {
                let at = at % b.len();
                for (i, &v) in with.iter().enumerate() {
                    if let Some(x) = b.get_mut(at + i) {
                        *x = v;
                    }
                }
            }
        }
        b
    }

    /// Damage that a checksum over every stored byte always detects or that leaves the
    /// decoded values unchanged: one flipped bit.
    fn single_flip(&self) -> bool {
        matches!(self, Damage::Flip(bits) if bits.len() == 1)
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: common::fuzz_cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn filter() -> impl Strategy<Value = PipelineFilter> {
    prop_oneof![
        (0u8..10).prop_map(PipelineFilter::Deflate),
        Just(PipelineFilter::Shuffle),
        Just(PipelineFilter::Fletcher32),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary bytes through an arbitrary pipeline: an error or a chunk of the size asked.
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..3000),
        pipeline in proptest::collection::vec(filter(), 0..4),
        mask in any::<u32>(),
        elem_size in 0usize..10,
        expected in 0usize..20_000,
    ) {
        if let Ok(out) = decode_pipeline(bytes, &pipeline, mask, elem_size, expected) {
            prop_assert_eq!(out.len(), expected);
        }
    }

    /// Any pipeline of deflate, shuffle and Fletcher32 (in any order, repeated, some filters
    /// skipped for the chunk by its filter mask) decodes what it encoded: every way stages
    /// hand bytes to each other (scratch buffers, the output) is exercised.
    #[test]
    fn any_pipeline_round_trips(
        data in proptest::collection::vec(any::<u8>(), 0..5000),
        pipeline in proptest::collection::vec(filter(), 0..5),
        mask in any::<u32>(),
        elem_size in 1usize..9,
    ) {
        let applied: Vec<PipelineFilter> = pipeline
            .iter()
            .enumerate()
            .filter(|(pos, _)| mask & (1 << pos) == 0)
            .map(|(_, f)| f.clone())
            .collect();
        let stored = encode_pipeline(data.clone(), &applied, elem_size).unwrap();
        let back = decode_pipeline(stored, &pipeline, mask, elem_size, data.len()).unwrap();
        prop_assert_eq!(back, data);
    }

    /// Damaged real chunks: an error, or a chunk of the right size; with one bit flipped and
    /// a checksum, the true values or an error; a truncated deflate stream always fails.
    #[test]
    fn damaged_real_chunks_decode_right_or_fail(which in 0usize..4, how in damage()) {
        let chunks = real();
        let chunk = &chunks[which];
        let stored = how.apply(&chunk.stored);
        let got = decode_pipeline(
            stored,
            &chunk.pipeline,
            0,
            chunk.elem_size,
            chunk.decoded.len(),
        );
        if let Ok(out) = &got {
            prop_assert_eq!(out.len(), chunk.decoded.len(), "{}", chunk.name);
            if chunk.checksummed() && how.single_flip() {
                prop_assert!(out == &chunk.decoded, "{}: one flipped bit gave other values", chunk.name);
            }
        }
        if chunk.deflated() && matches!(how, Damage::Truncate(_)) {
            prop_assert!(got.is_err(), "{}: a truncated stream decoded", chunk.name);
        }
    }
}

/// The fixture and its real chunks, made once for the whole test binary.
fn real_set() -> &'static (Fixture, Vec<RealChunk>) {
    use std::sync::OnceLock;
    static SET: OnceLock<(Fixture, Vec<RealChunk>)> = OnceLock::new();
    SET.get_or_init(|| {
        let fx = Fixture::make(SCRIPT);
        let chunks = real_chunks(&fx);
        (fx, chunks)
    })
}

/// The real chunks of [`real_set`].
fn real() -> &'static [RealChunk] {
    &real_set().1
}

/// The h5py file of [`real_set`].
fn fixture_file() -> std::path::PathBuf {
    real_set().0.path("f.h5")
}

/// Writes `bytes` as the stored chunk (1, 0) of `dataset` in `file` (through the library's
/// direct chunk write, filter mask 0).
fn write_chunk(file: &Path, dataset: &str, bytes: &[u8]) {
    let f = hdf5::File::open_rw(file).unwrap();
    let ds = f.dataset(dataset).unwrap();
    let offset: [u64; 2] = [64, 0];
    let status = hdf5::sync::sync(|| {
        // SAFETY: `offset` has one entry per axis; `bytes` is valid for its length.
        unsafe {
            hdf5_sys::h5d::H5Dwrite_chunk(
                ds.id(),
                hdf5_sys::h5p::H5P_DEFAULT,
                0,
                offset.as_ptr(),
                bytes.len(),
                bytes.as_ptr().cast(),
            )
        }
    });
    assert!(status >= 0, "H5Dwrite_chunk");
}

fn source_config() -> ProptestConfig {
    ProptestConfig {
        cases: (common::fuzz_cases() / 4).max(16),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(source_config())]

    /// A damaged chunk inside a file, read by `Hdf5Source`: a read error naming the file, the
    /// dataset and the chunk, or a chunk of the right shape (the true values when one bit of
    /// a checksummed chunk flipped); the undamaged chunk still reads right.
    #[test]
    fn damaged_chunks_in_a_file_are_named(which in 0usize..4, how in damage()) {
        let chunk = &real()[which];
        let stored = how.apply(&chunk.stored);
        prop_assume!(!stored.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("damaged.h5");
        std::fs::copy(fixture_file(), &file).unwrap();
        let dataset = format!("/{}", chunk.name);
        write_chunk(&file, &dataset, &stored);
        let src = Hdf5Source::open(&file, &dataset).unwrap();
        let good = src.read_chunk(&[0, 0]).unwrap();
        prop_assert_eq!(hdf5_helpers::le_bytes(&good), chunk.decoded.clone());
        match src.read_chunk(&[1, 0]) {
            Ok(data) => {
                prop_assert_eq!(data.shape(), &[64, 64]);
                if chunk.checksummed() && how.single_flip() {
                    prop_assert!(hdf5_helpers::le_bytes(&data) == chunk.decoded, "{}", chunk.name);
                }
            }
            Err(e) => {
                let text = e.to_string();
                prop_assert!(matches!(e, Error::Read { .. }), "{:?}", e);
                prop_assert!(
                    text.contains(&format!("damaged.h5:{dataset}")) && text.contains("[1, 0]"),
                    "{}", text
                );
            }
        }
    }
}

/// Regression (found by `any_pipeline_round_trips`): a pipeline declaring deflate twice made
/// the outer inflate expect the chunk's final size, so a valid chunk failed to decode. The
/// size between two inflates is now only bounded.
#[test]
fn a_pipeline_with_two_deflates_decodes() {
    let pipeline = [
        PipelineFilter::Deflate(0),
        PipelineFilter::Shuffle,
        PipelineFilter::Deflate(6),
    ];
    for data in [
        vec![],
        (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect(),
    ] {
        let stored = encode_pipeline(data.clone(), &pipeline, 4).unwrap();
        assert_eq!(
            decode_pipeline(stored, &pipeline, 0, 4, data.len()).unwrap(),
            data
        );
    }
}
