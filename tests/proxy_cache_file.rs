//! The persistent cache file: stamps, geometry, credentials, all-zero chunks, foreign files.

#![cfg(feature = "b2nd")]
// Selections name the leading axes only, as in python-blosc2 (`fetch(&[0..2])`); sources
// without Debug are checked with `.err().expect(..)`.
#![allow(clippy::single_range_in_vec_init, clippy::err_expect)]

use crate::proxy_support;

use proxy_support::{expected_u16, generated_u16, SlowSource};
use std::time::Duration;
use vastarray::io::b2nd::B2ndSource;
use vastarray::proxy::Proxy;
use vastarray::{ChunkSource, ConstantSource, DType, Error, NdData};

#[test]
fn stamp_mismatch_is_an_error_unless_starting_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.b2nd");
    let slow = SlowSource::new(generated_u16(&[20, 20], &[10, 10]), Duration::ZERO);
    let p = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("v1")
        .open()
        .unwrap();
    p.fetch_all().unwrap();
    drop(p);
    let err = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("v2")
        .open()
        .err()
        .expect("stamp differs");
    assert!(matches!(err, Error::Cache { .. }), "{err}");
    assert!(
        err.to_string().contains("v1") && err.to_string().contains("v2"),
        "{err}"
    );
    // Start afresh: nothing cached any more, chunks are read again.
    let p = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("v2")
        .start_afresh(true)
        .open()
        .unwrap();
    assert_eq!(p.chunks_in_file(), 0);
    assert_eq!(p.fetch_all().unwrap().chunks_read, 4);
    assert_eq!(slow.reads(), 8);
    drop(p);
    let p = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("v2")
        .open()
        .unwrap();
    assert_eq!(
        p.get(&[0..20, 0..20]).unwrap(),
        expected_u16(&[0..20, 0..20])
    );
    assert_eq!(slow.reads(), 8);
}

#[test]
fn geometry_mismatch_is_always_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.b2nd");
    let p = Proxy::builder(SlowSource::new(
        generated_u16(&[20, 20], &[10, 10]),
        Duration::ZERO,
    ))
    .cache_file(&path)
    .stamp("s")
    .open()
    .unwrap();
    p.fetch(&[0..5]).unwrap();
    drop(p);
    for (shape, chunks) in [
        ([20usize, 21usize], [10usize, 10usize]),
        ([20, 20], [10, 5]),
    ] {
        for afresh in [false, true] {
            let src = SlowSource::new(generated_u16(&shape, &chunks), Duration::ZERO);
            let err = Proxy::builder(src)
                .cache_file(&path)
                .stamp("s")
                .start_afresh(afresh)
                .open()
                .err();
            let err = err.expect("geometry differs");
            assert!(err.to_string().contains("geometry"), "{err}");
        }
    }
    let f32src =
        vastarray::GeneratedSource::from_index_fn(&[20, 20], &[10, 10], |ix| ix[0] as f32).unwrap();
    let err = Proxy::builder(std::sync::Arc::new(f32src))
        .cache_file(&path)
        .stamp("s")
        .open()
        .err()
        .unwrap();
    assert!(err.to_string().contains("float32"), "{err}");
    // The file is untouched and still serves its chunk.
    let src = SlowSource::new(generated_u16(&[20, 20], &[10, 10]), Duration::ZERO);
    let p = Proxy::builder(src.clone())
        .cache_file(&path)
        .stamp("s")
        .open()
        .unwrap();
    assert_eq!(p.get(&[0..5, 0..10]).unwrap(), expected_u16(&[0..5, 0..10]));
    assert_eq!(src.reads(), 0);
}

#[test]
fn no_credential_is_written_into_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.b2nd");
    let stamp = "https://alice:pa55word@cat2.example.org/api/chunk/x.b2nd?token=S3CR3T-TOKEN&v=3 Cookie: c2subauth=COOKIE-VALUE";
    let slow =
        SlowSource::with_identity(generated_u16(&[20, 20], &[10, 10]), Duration::ZERO, stamp);
    let p = Proxy::builder(slow.clone())
        .cache_file(&path)
        .open()
        .unwrap();
    p.fetch_all().unwrap();
    drop(p);
    let bytes = std::fs::read(&path).unwrap();
    for secret in ["pa55word", "alice", "S3CR3T-TOKEN", "COOKIE-VALUE"] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the cache file"
        );
    }
    assert!(
        bytes.windows(20).any(|w| w == b"cat2.example.org/api"),
        "the stamp keeps the URL"
    );
    // The same source with another token is the same data: the cache is reused.
    let other = stamp.replace("S3CR3T-TOKEN", "NEW-TOKEN");
    let slow2 =
        SlowSource::with_identity(generated_u16(&[20, 20], &[10, 10]), Duration::ZERO, &other);
    let p = Proxy::builder(slow2.clone())
        .cache_file(&path)
        .open()
        .unwrap();
    p.fetch_all().unwrap();
    assert_eq!(slow2.reads(), 0);
}

#[test]
fn an_all_zero_chunk_is_fetched_once_and_stays_cached() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zeros.b2nd");
    let zeros = ConstantSource::zeros::<f64>(&[30, 30], &[10, 10]).unwrap();
    let slow = SlowSource::new(zeros, Duration::ZERO);
    let p = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("z")
        .open()
        .unwrap();
    assert_eq!(p.fetch_all().unwrap().chunks_read, 9);
    drop(p);
    let p = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("z")
        .open()
        .unwrap();
    assert_eq!(p.chunks_in_file(), 9);
    let r = p.fetch_all().unwrap();
    assert_eq!((r.chunks_read, r.chunks_cached), (0, 9));
    assert_eq!(
        p.get(&[0..30, 0..30]).unwrap(),
        NdData::zeros(DType::F64, &[30, 30])
    );
    assert_eq!(slow.reads(), 9);
}

#[test]
fn a_foreign_b2nd_file_is_not_taken_for_a_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.b2nd");
    let opts = vastarray::io::b2nd::B2ndOptions {
        chunks: Some(vec![10, 10]),
        ..Default::default()
    };
    vastarray::io::b2nd::store_b2nd(&generated_u16(&[20, 20], &[10, 10]), &path, &opts).unwrap();
    let src = SlowSource::new(generated_u16(&[20, 20], &[10, 10]), Duration::ZERO);
    let err = Proxy::builder(src.clone())
        .cache_file(&path)
        .stamp("s")
        .open()
        .err()
        .expect("not a cache");
    assert!(err.to_string().contains("not a vastarray cache"), "{err}");
    // The identity of a .b2nd source is its path, size and mtime: a cache of it opens again.
    let b2 = std::sync::Arc::new(B2ndSource::open(&path).unwrap());
    let cache = dir.path().join("cache.b2nd");
    let p = Proxy::builder(b2.clone())
        .cache_file(&cache)
        .open()
        .unwrap();
    p.fetch_all().unwrap();
    drop(p);
    let p = Proxy::builder(b2.clone())
        .cache_file(&cache)
        .open()
        .unwrap();
    assert_eq!(p.chunks_in_file(), 4);
    assert_eq!(
        p.read_region(&[3..17, 2..19]).unwrap(),
        expected_u16(&[3..17, 2..19])
    );
    assert_eq!(p.identity(), b2.identity());
}

#[test]
fn a_bitmap_that_claims_unfetched_chunks_is_corrected_and_they_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.b2nd");
    let slow = SlowSource::new(generated_u16(&[30, 30], &[10, 10]), Duration::ZERO);
    let p = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("c")
        .open()
        .unwrap();
    p.fetch(&[0..10]).unwrap();
    drop(p);
    // Damage: every bit set, though only chunks (0, 0..3) hold data.
    let mut f = vastarray::io::b2nd::B2ndFile::open_rw(&path).unwrap();
    f.set_vlmeta(
        "proxy-present",
        &vastarray::io::b2nd::VlValue::Bytes(vec![0xff, 0x01]),
    )
    .unwrap();
    drop(f);
    let p = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("c")
        .open()
        .unwrap();
    assert_eq!(p.chunks_in_file(), 3);
    assert_eq!(p.get(&[0..30]).unwrap(), expected_u16(&[0..30, 0..30]));
    assert_eq!(
        slow.reads(),
        9,
        "the 6 chunks never fetched were read, the 3 others not again"
    );
}

#[test]
fn a_cached_chunk_with_a_wrong_compressed_size_is_an_error_naming_the_cache() {
    // Finding 2 for chunks from the cache file: checked before C-Blosc2 sees them.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sizes.b2nd");
    let slow = SlowSource::new(generated_u16(&[30, 30], &[10, 10]), Duration::ZERO);
    let p = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("s")
        .open()
        .unwrap();
    p.fetch_all().unwrap();
    drop(p);
    let span = vastarray::io::b2nd::B2ndFile::open(&path)
        .unwrap()
        .chunk_span(4)
        .unwrap()
        .unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[span.start as usize + 14] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let p = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("s")
        .open()
        .unwrap();
    let e = p.get(&[10..20, 10..20]).unwrap_err().to_string();
    assert!(
        e.contains("[1, 1]") && e.contains(&path.display().to_string()),
        "{e}"
    );
    assert_eq!(p.get(&[0..10]).unwrap(), expected_u16(&[0..10, 0..30]));
    assert_eq!(slow.reads(), 9, "nothing read again");
}
