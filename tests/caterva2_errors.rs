//! Errors of `Caterva2Source`: a missing dataset (404), a chunk number past the end (500), a
//! body that is not a chunk, info that is not an array. Each is an error naming the path (and
//! the chunk), never a panic.

#![cfg(feature = "caterva2")]

use crate::caterva2_support;
use crate::common;

use caterva2_support::{FakeServer, Server};
use std::time::Duration;
use vastarray::http::HttpConfig;
use vastarray::io::caterva2::{Caterva2Client, Caterva2Source};
use vastarray::{ChunkSource, DynArray};

const WRITE: &str = r#"
import sys, numpy as np, blosc2
blosc2.asarray(np.arange(10, dtype="uint16"), chunks=(4,), blocks=(2,),
               urlpath=f"{sys.argv[1]}/small.b2nd", mode="w")
print("ok")
"#;

fn quick() -> HttpConfig {
    HttpConfig {
        max_retries: 1,
        backoff_base: Duration::from_millis(10),
        ..HttpConfig::default()
    }
}

#[test]
fn real_server_errors_name_path_and_chunk() {
    let server = Server::start_public();
    let out = common::run_python(WRITE, &[server.public_dir().to_str().unwrap()]);
    assert_eq!(out.trim(), "ok");
    let client = std::sync::Arc::new(Caterva2Client::new(&server.base, None, quick()).unwrap());

    // A missing dataset: 404, not retried.
    let before = client.stats().requests;
    let e = Caterva2Source::with_client(client.clone(), "@public/nope.b2nd")
        .err()
        .expect("missing dataset")
        .to_string();
    assert!(e.contains("404") && e.contains("@public/nope.b2nd"), "{e}");
    assert_eq!(client.stats().requests - before, 1, "a 404 is not retried");

    // A chunk number past the end: the server fails (retried, then given up).
    let e = client
        .chunk("@public/small.b2nd", 99)
        .unwrap_err()
        .to_string();
    // Depending on its version the server answers 500 or resets the connection: either way
    // the error names the chunk's URL and gives up after the retries.
    assert!(
        (e.contains("500") || e.contains("connection dropped"))
            && e.contains("@public/small.b2nd?nchunk=99"),
        "{e}"
    );
    assert!(e.contains("gave up after 2 attempts"), "{e}");

    // A grid index outside the grid never reaches the server.
    let src = Caterva2Source::with_client(client.clone(), "@public/small.b2nd").unwrap();
    let before = client.stats().requests;
    let e = src.read_chunk(&[3]).unwrap_err().to_string();
    assert!(e.contains("chunk [3]") && e.contains("outside grid"), "{e}");
    assert!(src.read_chunks(&[vec![0], vec![7]]).is_err());
    assert_eq!(client.stats().requests, before);

    // A root that does not exist, a bad path, a server that is not there.
    let e = Caterva2Source::with_client(client.clone(), "@nowhere/x.b2nd")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("404") && e.contains("@nowhere/x.b2nd"), "{e}");
    assert!(Caterva2Source::with_client(client.clone(), "public/x").is_err());
    let port = caterva2_support::free_port();
    let e = Caterva2Client::new(&format!("http://127.0.0.1:{port}"), None, quick())
        .unwrap()
        .roots()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("could not connect") && e.contains(&port.to_string()),
        "{e}"
    );
}

/// A fake server whose info is fine but whose chunks are not.
fn fake(chunk: impl Fn(usize) -> (u16, Vec<u8>) + Send + 'static) -> FakeServer {
    FakeServer::start(move |path| {
        if path.starts_with("/api/info/@public/bad.b2nd") {
            let info = r#"{"shape":[10],"chunks":[4],"blocks":[2],"dtype":"uint16"}"#;
            (200, info.as_bytes().to_vec())
        } else if path.starts_with("/api/info/@public/dir") {
            (200, br#"{"mtime":1.0,"size":10,"nfiles":2}"#.to_vec())
        } else if let Some(n) = path.strip_prefix("/api/chunk/@public/bad.b2nd?nchunk=") {
            chunk(n.parse().unwrap())
        } else {
            (404, br#"{"detail":"Not Found"}"#.to_vec())
        }
    })
}

#[test]
fn garbage_chunks_are_errors_naming_the_chunk() {
    let server = fake(|n| {
        if n == 1 {
            (
                200,
                b"this is not a Blosc2 chunk at all, just text".to_vec(),
            )
        } else {
            (200, Vec::new())
        }
    });
    let src = Caterva2Source::open(&server.base, "@public/bad.b2nd", None).unwrap();
    assert_eq!(src.shape(), &[10]);
    let e = src.read_chunk(&[1]).unwrap_err().to_string();
    assert!(e.contains("chunk [1]") && e.contains("nchunk 1"), "{e}");
    assert!(
        e.contains("@public/bad.b2nd?nchunk=1") && e.contains("not a valid chunk"),
        "{e}"
    );
    let e = src.read_chunk(&[0]).unwrap_err().to_string();
    assert!(e.contains("chunk [0]") && e.contains("too short"), "{e}");
    // Through the executor: an error, not a panic.
    let e = DynArray::from_source(src)
        .ndarray()
        .unwrap_err()
        .to_string();
    assert!(e.contains("@public/bad.b2nd"), "{e}");

    let e = Caterva2Source::open(&server.base, "@public/dir", None)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("directory") && e.contains("@public/dir"), "{e}");
}

#[test]
fn server_errors_on_chunks_are_named() {
    let server = fake(|_| (503, br#"{"detail":"busy"}"#.to_vec()));
    let client = std::sync::Arc::new(Caterva2Client::new(&server.base, None, quick()).unwrap());
    let src = Caterva2Source::with_client(client.clone(), "@public/bad.b2nd").unwrap();
    let e = src.read_chunk(&[2]).unwrap_err().to_string();
    assert!(e.contains("chunk [2]") && e.contains("nchunk 2"), "{e}");
    assert!(e.contains("503") && e.contains("(busy)"), "{e}");
    assert_eq!(client.stats().retries, 1);
}

#[test]
fn hostile_info_is_refused_up_front_and_damaged_chunks_are_errors() {
    // Finding 4: a claimed shape of 2^62 rows, chunks that overflow, or a chunk count that
    // disagrees are refused when the source opens; nothing is sized from them.
    let layout = vastarray::io::b2nd::ChunkLayout::new(&[4], &[2], vastarray::DType::U16).unwrap();
    let good = vastarray::io::b2nd::encode_chunk(
        &vastarray::NdData::from(ndarray::arr1(&[1u16, 2, 3, 4]).into_dyn()),
        &layout,
        vastarray::io::b2nd::Compression::lz4(),
    )
    .unwrap();
    let mut wrong_size = good.clone();
    wrong_size[14] ^= 0x04; // finding 2: the compressed size in the chunk header
    let server = FakeServer::start(move |path| {
        let info = |s: &str| (200, s.as_bytes().to_vec());
        match path {
            p if p.starts_with("/api/info/@public/huge.b2nd") => info(
                r#"{"shape":[4611686018427387904,60,70],"chunks":[1,60,70],"blocks":[1,60,70],"dtype":"uint16"}"#,
            ),
            p if p.starts_with("/api/info/@public/overflow.b2nd") => info(
                r#"{"shape":[10,10],"chunks":[4294967296,4294967296],"blocks":[1,1],"dtype":"uint8"}"#,
            ),
            p if p.starts_with("/api/info/@public/liar.b2nd") => info(
                r#"{"shape":[10],"chunks":[4],"blocks":[2],"dtype":"uint16","schunk":{"nchunks":9000000000}}"#,
            ),
            p if p.starts_with("/api/info/@public/ok.b2nd") => info(
                r#"{"shape":[10],"chunks":[4],"blocks":[2],"dtype":"uint16","schunk":{"nchunks":3}}"#,
            ),
            "/api/chunk/@public/ok.b2nd?nchunk=0" => (200, good.clone()),
            "/api/chunk/@public/ok.b2nd?nchunk=1" => (200, wrong_size.clone()),
            "/api/chunk/@public/ok.b2nd?nchunk=2" => (200, good[..good.len() - 1].to_vec()),
            _ => (404, br#"{"detail":"Not Found"}"#.to_vec()),
        }
    });
    for (name, why) in [
        ("huge", "too large"),
        ("overflow", "2 GiB"),
        ("liar", "makes 3"),
    ] {
        let e = Caterva2Source::open(&server.base, &format!("@public/{name}.b2nd"), None)
            .err()
            .unwrap_or_else(|| panic!("{name} opened"))
            .to_string();
        assert!(
            e.contains(why) && e.contains(&format!("@public/{name}.b2nd")),
            "{e}"
        );
    }
    let src = Caterva2Source::open(&server.base, "@public/ok.b2nd", None).unwrap();
    assert_eq!(
        src.read_chunk(&[0]).unwrap(),
        vastarray::NdData::from(ndarray::arr1(&[1u16, 2, 3, 4]).into_dyn())
    );
    for (n, why) in [(1usize, "nchunk 1"), (2, "truncated")] {
        let e = src.read_chunk(&[n]).unwrap_err().to_string();
        assert!(
            e.contains(&format!("chunk [{n}]")) && e.contains(why),
            "{e}"
        );
    }
}
