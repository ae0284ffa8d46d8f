//! `Caterva2Source` against a real `cat2-server`: arrays written by python-blosc2 (several
//! element types, partial edge chunks, blocks smaller than chunks) read whole and sliced, and
//! compared with what python-blosc2 itself returns.

#![cfg(feature = "caterva2")]

use crate::caterva2_support;
use crate::common;

use caterva2_support::Server;
use ndarray::s;
use std::sync::Arc;
use vastarray::http::HttpConfig;
use vastarray::io::b2nd::nd_from_bytes;
use vastarray::io::caterva2::{parse_c2_url, Caterva2Client, Caterva2Source};
use vastarray::{ChunkSource, DType, DynArray, NdData};

/// Writes the arrays into `public` and dumps, for each, the whole array and a strided slice
/// read back through python-blosc2 into `raw`.
const WRITE: &str = r#"
import sys, numpy as np, blosc2
public, raw = sys.argv[1], sys.argv[2]
shape, chunks, blocks = (13, 17, 5), (4, 6, 5), (2, 3, 2)
rng = np.random.default_rng(11)
for dt in ("int16", "float32", "uint8", "bool", "int64", "float64", "uint32"):
    if dt == "bool":
        a = rng.random(shape) > 0.5
    elif dt.startswith("float"):
        a = rng.standard_normal(shape).astype(dt)
    else:
        a = rng.integers(0, 250, size=shape).astype(dt)
    arr = blosc2.asarray(a, chunks=chunks, blocks=blocks, urlpath=f"{public}/{dt}.b2nd", mode="w")
    back = blosc2.open(f"{public}/{dt}.b2nd")
    open(f"{raw}/{dt}.whole", "wb").write(back[...].tobytes())
    open(f"{raw}/{dt}.slice", "wb").write(back[2:11, 3:16, 1:4][:, ::3, :].tobytes())
big = np.linspace(-1, 1, 300 * 70, dtype="float64").reshape(300, 70)
blosc2.asarray(big, chunks=(64, 32), blocks=(16, 8), urlpath=f"{public}/big.b2nd", mode="w")
open(f"{raw}/big.whole", "wb").write(big.tobytes())
print("ok")
"#;

const DTYPES: [(&str, DType); 7] = [
    ("int16", DType::I16),
    ("float32", DType::F32),
    ("uint8", DType::U8),
    ("bool", DType::Bool),
    ("int64", DType::I64),
    ("float64", DType::F64),
    ("uint32", DType::U32),
];

/// The box `b` of `a`.
fn region(a: &NdData, b: &[std::ops::Range<usize>]) -> NdData {
    use ndarray::{Slice, SliceInfoElem};
    let sl: Vec<SliceInfoElem> = b.iter().map(|r| Slice::from(r.clone()).into()).collect();
    vastarray::map_nd!(a, x: T => x.slice(sl.as_slice()).to_owned())
}

fn serve_fixtures() -> (Server, std::path::PathBuf) {
    let server = Server::start_public();
    let raw = server.scratch();
    let out = common::run_python(
        WRITE,
        &[server.public_dir().to_str().unwrap(), raw.to_str().unwrap()],
    );
    assert_eq!(out.trim(), "ok");
    (server, raw)
}

#[test]
fn whole_and_sliced_reads_match_python_blosc2() {
    let (server, raw) = serve_fixtures();
    let client = Arc::new(Caterva2Client::new(&server.base, None, HttpConfig::default()).unwrap());
    assert_eq!(client.roots().unwrap(), vec!["@public".to_string()]);
    let shape = [13usize, 17, 5];
    for (name, dt) in DTYPES {
        let path = format!("@public/{name}.b2nd");
        let before = client.stats().requests;
        let src = Caterva2Source::with_client(client.clone(), &path).unwrap();
        assert_eq!(src.shape(), &shape);
        assert_eq!(src.chunk_shape(), &[4, 6, 5]);
        assert_eq!(src.block_shape(), &[2, 3, 2]);
        assert_eq!(src.dtype(), dt, "{name}");
        assert!(src.latency_bound());
        let id = src.identity().unwrap();
        assert!(id.contains(&server.base) && id.contains(&path), "{id}");
        assert!(id.contains("etag="), "the server sends an ETag: {id}");

        let whole = std::fs::read(raw.join(format!("{name}.whole"))).unwrap();
        let want = nd_from_bytes(dt, &shape, &whole).unwrap();
        let arr = DynArray::from_source(src);
        assert_eq!(arr.ndarray().unwrap(), want, "{name} whole");
        // One info request, then each of the 4 * 3 * 1 chunks exactly once.
        assert_eq!(client.stats().requests - before, 1 + 12, "{name}");

        let sliced = std::fs::read(raw.join(format!("{name}.slice"))).unwrap();
        let want = nd_from_bytes(dt, &[9, 5, 3], &sliced).unwrap();
        let got = arr
            .slice(s![2..11, 3..16;3, 1..4])
            .unwrap()
            .ndarray()
            .unwrap();
        assert_eq!(got, want, "{name} slice");
    }
    assert_eq!(client.stats().failures, 0);
    assert_eq!(client.stats().retries, 0);
}

#[test]
fn open_by_url_many_chunks_concurrently() {
    let (server, raw) = serve_fixtures();
    let url = format!("c2+{}@public/big.b2nd", server.base);
    let (base, path) = parse_c2_url(&url).unwrap();
    assert_eq!(
        (base.as_str(), path.as_str()),
        (server.base.as_str(), "@public/big.b2nd")
    );
    let src = Caterva2Source::open_url(&url, None).unwrap();
    assert_eq!(src.name(), url);
    let client = src.client().clone();
    let whole = std::fs::read(raw.join("big.whole")).unwrap();
    let want = nd_from_bytes(DType::F64, &[300, 70], &whole).unwrap();

    // A batch of every chunk (5 x 3, the last row and column partial) in grid order.
    let grid = src.grid();
    let all = grid.all_chunks();
    let chunks = src.read_chunks(&all).unwrap();
    for (idx, chunk) in all.iter().zip(&chunks) {
        assert_eq!(chunk, &region(&want, &grid.chunk_box(idx)), "chunk {idx:?}");
    }
    assert_eq!(client.stats().requests, 1 + 15);
    assert_eq!(DynArray::from_source(src).ndarray().unwrap(), want);
}

#[test]
fn cached_chunks_are_kept_as_the_server_sent_them() {
    use vastarray::io::b2nd::B2ndFile;
    use vastarray::proxy::Proxy;
    let (server, raw) = serve_fixtures();
    let url = format!("c2+{}@public/big.b2nd", server.base);
    let cache = server.scratch().join("kept.b2nd");
    let whole = std::fs::read(raw.join("big.whole")).unwrap();
    let want = nd_from_bytes(DType::F64, &[300, 70], &whole).unwrap();

    let src = Arc::new(Caterva2Source::open_url(&url, None).unwrap());
    let client = src.client().clone();
    let proxy = Arc::new(
        Proxy::builder(src.clone())
            .cache_file(&cache)
            .open()
            .unwrap(),
    );
    assert_eq!(
        DynArray::from_source_arc(proxy.clone()).ndarray().unwrap(),
        want
    );
    assert_eq!(proxy.stats().source_reads, 15);
    drop(proxy);

    // Every chunk in the cache file is, byte for byte, the chunk the server sends (its own
    // blocks, its own codec), not a chunk decoded and compressed again.
    let file = B2ndFile::open(&cache).unwrap();
    for n in 0..15 {
        let sent = client.chunk("@public/big.b2nd", n).unwrap();
        assert_eq!(file.chunk_bytes(n).unwrap(), sent.to_vec(), "chunk {n}");
    }
    // python-blosc2 reads the cache file as the array.
    let script = r#"
import sys, numpy as np, blosc2
a = blosc2.open(sys.argv[1])
want = np.linspace(-1, 1, 300 * 70, dtype="float64").reshape(300, 70)
print(a.blocks, bool(np.array_equal(a[...], want)))
"#;
    let out = common::run_python(script, &[cache.to_str().unwrap()]);
    assert_eq!(out.trim(), "(16, 8) True");
    // A second proxy serves everything from the file.
    let again = Arc::new(Proxy::builder(src).cache_file(&cache).open().unwrap());
    assert_eq!(
        DynArray::from_source_arc(again.clone()).ndarray().unwrap(),
        want
    );
    assert_eq!(again.stats().source_reads, 0);
}
