//! Fuzzing of what a Caterva2 server sends (issue 11), no server needed: arbitrary and
//! nearly-right `api/info` JSON into `Caterva2Info::parse`, and arbitrary or damaged chunk
//! bytes (`api/chunk`) into the chunk decoders. Parsing either refuses with a message or gives
//! a geometry whose chunk count and chunk size are checked (nothing is then allocated from an
//! unchecked size); decoding gives an error or an array of the right shape and type (the right
//! values when the bytes are intact). Never a panic or a signal: the cases run in a child
//! process, which prints each case before running it. `VASTARRAY_FUZZ_CASES` sets how many.

#![cfg(feature = "caterva2")]

use crate::common;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use vastarray::io::b2nd::{
    decode_chunk, decode_chunk_region, encode_chunk, ChunkLayout, Codec, Compression,
};
use vastarray::io::caterva2::Caterva2Info;
use vastarray::{DType, NdData};

const CHILD_ENV: &str = "VASTARRAY_FUZZ_CATERVA2_CHILD";

fn config() -> Config {
    Config {
        cases: common::fuzz_cases(),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|v| json!(v)),
        any::<u64>().prop_map(|v| json!(v)),
        any::<f64>().prop_map(|v| json!(v)),
        "[a-z0-9<>|]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,7}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Extents a hostile server might claim: small, zero, huge, at the edges of the integer types.
fn extent() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (0u64..40).prop_map(|v| json!(v)),
        1 => prop::sample::select(vec![
            json!(0), json!(1), json!(1u64 << 31), json!(1u64 << 32), json!(1u64 << 62),
            json!(u64::MAX), json!(i64::MAX), json!(-1), json!(2.5), json!("7"),
        ]),
        1 => any::<u64>().prop_map(|v| json!(v)),
    ]
}

/// An `api/info` answer close to a real one, with claimed shapes and counts of any size.
fn near_info() -> impl Strategy<Value = Value> {
    (
        1usize..5,
        prop::collection::vec(extent(), 12),
        prop::sample::select(vec![
            "uint8",
            "int16",
            "float32",
            "<f8",
            "bool",
            "complex64",
            "|S3",
            "",
        ]),
        prop::option::of(extent()),
        any::<u8>(),
    )
        .prop_map(|(nd, e, dtype, nchunks, drop)| {
            let mut v = json!({
                "shape": e[0..nd],
                "chunks": e[4..4 + nd],
                "blocks": e[8..8 + nd],
                "dtype": dtype,
                "schunk": {"nchunks": nchunks, "cparams": {"codec": 5}},
                "mtime": "2026-01-01T00:00:00Z",
            });
            let keys = ["shape", "chunks", "blocks", "dtype", "schunk"];
            if drop < 40 {
                if let Some(o) = v.as_object_mut() {
                    o.remove(keys[drop as usize % keys.len()]);
                }
            }
            v
        })
}

/// What a parsed info must satisfy before any of it sizes an allocation.
fn check_info(body: &[u8]) {
    let Ok(info) = Caterva2Info::parse(body) else {
        return;
    };
    let nd = info.shape.len();
    assert!(nd >= 1 && info.chunks.len() == nd && info.blocks.len() == nd);
    let layout = info.layout().expect("a parsed info has a valid layout");
    assert!(layout.chunk_nbytes() < i32::MAX as usize);
    let grid = info.grid();
    let n = info
        .shape
        .iter()
        .zip(&info.chunks)
        .try_fold(1usize, |a, (s, c)| a.checked_mul(s.div_ceil(*c)))
        .expect("the chunk count of a parsed info fits");
    assert!(n <= vastarray::io::b2nd::MAX_CHUNKS);
    assert_eq!(grid.num_chunks(), n);
    if let Some(claimed) = info.nchunks {
        assert!(claimed == n || info.shape.contains(&0));
    }
}

/// A damage to chunk bytes.
#[derive(Clone, Debug)]
enum Damage {
    Flip(usize, u8),
    Set(usize, u8),
    Truncate(usize),
    Extend(u8),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Damage::Flip(p, b)),
        (0usize..40, any::<u8>()).prop_map(|(p, b)| Damage::Set(p, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Damage::Set(p, b)),
        any::<usize>().prop_map(Damage::Truncate),
        any::<u8>().prop_map(Damage::Extend),
    ]
}

fn apply(raw: &mut Vec<u8>, d: &Damage) {
    let n = raw.len().max(1);
    match *d {
        Damage::Flip(p, b) => {
            if let Some(x) = raw.get_mut(p % n) {
                *x ^= 1 << (b % 8)
            }
        }
        Damage::Set(p, b) => {
            if let Some(x) = raw.get_mut(p % n) {
                *x = b
            }
        }
        Damage::Truncate(p) => raw.truncate(p % n),
        Damage::Extend(b) => raw.push(b),
    }
}

/// A chunk of a small random geometry, its layout and its extent.
fn chunk_case() -> impl Strategy<Value = (ChunkLayout, Vec<usize>, NdData, Compression)> {
    (
        prop::collection::vec((1usize..9, 1usize..9, 0usize..9), 1..4),
        prop::sample::select(vec![
            DType::U8,
            DType::I16,
            DType::F32,
            DType::F64,
            DType::Bool,
        ]),
        prop::sample::select(vec![
            Codec::Lz4,
            Codec::Zstd,
            Codec::Zlib,
            Codec::Blosclz,
            Codec::None,
        ]),
    )
        .prop_map(|(axes, dtype, codec)| {
            let chunk: Vec<usize> = axes.iter().map(|a| a.0).collect();
            let block: Vec<usize> = axes.iter().map(|a| a.1.min(a.0)).collect();
            let extent: Vec<usize> = axes.iter().map(|a| (a.2 % a.0) + 1).collect();
            let layout = ChunkLayout::new(&chunk, &block, dtype).unwrap();
            let n: usize = extent.iter().product();
            let data = NdData::from(
                ndarray::Array::from_shape_fn(n, |i| (i * 37 % 101) as f64)
                    .into_shape_with_order(ndarray::IxDyn(&extent))
                    .unwrap(),
            )
            .cast(dtype);
            (layout, extent, data, Compression::new(codec, 5))
        })
}

fn run_child() {
    let case = std::cell::Cell::new(0u64);
    let say = |what: &str| {
        case.set(case.get() + 1);
        eprintln!("case {}: {what}", case.get());
        std::io::stderr().flush().ok();
    };
    TestRunner::new(config())
        .run(&any_json(), |v| {
            let body = v.to_string();
            say(&body);
            check_info(body.as_bytes());
            Ok(())
        })
        .unwrap();
    TestRunner::new(config())
        .run(&near_info(), |v| {
            let body = v.to_string();
            say(&body);
            check_info(body.as_bytes());
            Ok(())
        })
        .unwrap();
    TestRunner::new(config())
        .run(&prop::collection::vec(any::<u8>(), 0..200), |bytes| {
            say(&format!("info bytes {bytes:?}"));
            check_info(&bytes);
            Ok(())
        })
        .unwrap();
    TestRunner::new(config())
        .run(
            &(
                chunk_case(),
                prop::collection::vec(damage(), 0..4),
                any::<u64>(),
            ),
            |((layout, extent, data, compression), damages, r)| {
                say(&format!(
                    "{layout:?} {extent:?} {compression:?} {damages:?}"
                ));
                let mut raw = encode_chunk(&data, &layout, compression).unwrap();
                let intact = damages.is_empty();
                for d in &damages {
                    apply(&mut raw, d);
                }
                match decode_chunk(&raw, &layout, &extent) {
                    Ok(got) => {
                        assert_eq!(
                            (got.shape(), got.dtype()),
                            (extent.as_slice(), layout.dtype())
                        );
                        if intact {
                            assert_eq!(got, data);
                        }
                    }
                    Err(e) => assert!(!intact, "an intact chunk failed: {e}"),
                }
                // A sub-box, decoded from only the blocks it needs.
                let region: Vec<std::ops::Range<usize>> = extent
                    .iter()
                    .enumerate()
                    .map(|(d, &e)| {
                        let a = (r >> (8 * d)) as usize % e;
                        let b = a + 1 + (r >> (8 * d + 4)) as usize % (e - a);
                        a..b
                    })
                    .collect();
                if let Ok(got) = decode_chunk_region(&raw, &layout, &region) {
                    let want: Vec<usize> = region.iter().map(|x| x.len()).collect();
                    assert_eq!(got.shape(), want.as_slice());
                }
                Ok(())
            },
        )
        .unwrap();
    TestRunner::new(config())
        .run(
            &(chunk_case(), prop::collection::vec(any::<u8>(), 0..120)),
            |((layout, extent, _, _), bytes)| {
                say(&format!("{layout:?} raw {bytes:?}"));
                if let Ok(got) = decode_chunk(&bytes, &layout, &extent) {
                    assert_eq!(got.shape(), extent.as_slice());
                }
                Ok(())
            },
        )
        .unwrap();
    println!("FUZZ-DONE");
}

/// The child's main: does nothing unless this binary was started as the fuzz child.
#[test]
fn fuzz_child_process() {
    if std::env::var(CHILD_ENV).is_ok() {
        run_child();
    }
}

#[test]
fn caterva2_info_and_chunks_give_clean_errors_or_checked_results() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let out = common::child_test(module_path!(), "fuzz_child_process")
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last: Vec<&str> = stderr.lines().rev().take(8).collect();
    assert_eq!(
        out.status.signal(),
        None,
        "the fuzz child died of a signal; last lines:\n{}",
        last.join("\n")
    );
    assert!(out.status.success(), "fuzz child failed:\n{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("FUZZ-DONE"));
}

#[test]
fn a_claimed_shape_of_2_62_rows_is_refused_up_front() {
    // Finding 4: nothing may be sized from this before it is refused.
    let body = br#"{"shape":[4611686018427387904,60,70],"chunks":[1,60,70],"blocks":[1,60,70],
        "dtype":"uint16","schunk":{"nchunks":4611686018427387904}}"#;
    let e = Caterva2Info::parse(body).unwrap_err();
    assert!(e.contains("too large"), "{e}");
    let body = br#"{"shape":[4611686018427387904],"chunks":[60],"blocks":[60],"dtype":"uint8"}"#;
    let e = Caterva2Info::parse(body).unwrap_err();
    assert!(e.contains("chunks"), "{e}");
    let body = br#"{"shape":[600,60,70],"chunks":[10,60,70],"blocks":[10,60,70],
        "dtype":"uint16","schunk":{"nchunks":7}}"#;
    let e = Caterva2Info::parse(body).unwrap_err();
    assert!(e.contains("60"), "{e}");
}
