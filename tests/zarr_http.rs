//! A sharded Zarr v3 array served over HTTP by a real server on 127.0.0.1 that honours Range
//! requests (written here: Python's http.server ignores Range): a selection inside one inner
//! chunk fetches only the shard index and that inner chunk's bytes, counted at the server;
//! through `--cache`, a second run makes no request at all, and a partial cache asks only for what it
//! lacks (after checking the metadata still gives its stamp).
#![cfg(all(feature = "zarr", feature = "cli"))]

use crate::common;

use common::run_python;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use vastarray::io::zarr::ZarrStore;
use vastarray::NpySource;
use vastarray::{ChunkSource, NdData};

/// One request the server answered: path, Range header (if any), status, body bytes sent.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Served {
    path: String,
    range: Option<String>,
    status: u16,
    bytes: usize,
}

/// A file server on 127.0.0.1 with `Range: bytes=A-B`, `bytes=A-` and `bytes=-N`, one
/// request per connection, every answer logged. It stops when the test process ends.
struct RangeServer {
    port: u16,
    log: Arc<Mutex<Vec<Served>>>,
}

impl RangeServer {
    fn start(root: PathBuf) -> RangeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let l2 = log.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (root, log) = (root.clone(), l2.clone());
                std::thread::spawn(move || serve(conn, &root, &log));
            }
        });
        RangeServer { port, log }
    }

    fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    fn take(&self) -> Vec<Served> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

fn serve(conn: TcpStream, root: &Path, log: &Mutex<Vec<Served>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("range") {
                range = Some(v.trim().to_string());
            }
        }
    }
    let file = root.join(path.trim_start_matches('/'));
    let data = if path.contains("..") {
        None
    } else {
        std::fs::read(&file).ok().filter(|_| file.is_file())
    };
    let mut out = conn;
    let (status, head, body): (u16, String, Vec<u8>) = match (&data, &range) {
        (None, _) => (404, String::new(), b"not found".to_vec()),
        (Some(d), None) => (200, String::new(), d.clone()),
        (Some(d), Some(r)) => {
            let n = d.len();
            let spec = r.strip_prefix("bytes=").unwrap();
            let (a, b) = spec.split_once('-').unwrap();
            let (start, end) = if a.is_empty() {
                let k: usize = b.parse().unwrap();
                (n.saturating_sub(k), n)
            } else {
                let s: usize = a.parse().unwrap();
                let e = if b.is_empty() {
                    n
                } else {
                    (b.parse::<usize>().unwrap() + 1).min(n)
                };
                (s, e)
            };
            if start >= end {
                (416, format!("Content-Range: bytes */{n}\r\n"), Vec::new())
            } else {
                (
                    206,
                    format!("Content-Range: bytes {start}-{}/{n}\r\n", end - 1),
                    d[start..end].to_vec(),
                )
            }
        }
    };
    let reason = match status {
        200 => "OK",
        206 => "Partial Content",
        404 => "Not Found",
        _ => "Range Not Satisfiable",
    };
    let etag = data
        .as_ref()
        .map(|d| format!("ETag: \"{}\"\r\n", d.len()))
        .unwrap_or_default();
    // Logged before the answer goes out, so a client that has its answer finds it logged.
    log.lock().unwrap().push(Served {
        path,
        range,
        status,
        bytes: body.len(),
    });
    let _ = write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\n{head}{etag}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = out.write_all(&body);
    let _ = out.flush();
    // Let the client read everything before the socket closes.
    let _ = out.shutdown(std::net::Shutdown::Write);
    let mut sink = Vec::new();
    let _ = reader.read_to_end(&mut sink);
}

const WRITE: &str = r#"
import sys, numpy as np, zarr
d = sys.argv[1]
a = zarr.create_array(f"{d}/s.zarr", shape=(64, 64), chunks=(4, 4), shards=(16, 16), dtype="f4", fill_value=-2)
a[:, :40] = np.arange(64 * 40, dtype="f4").reshape(64, 40) / 3
np.save(f"{d}/s.npy", a[...])
from zarr.codecs import ShardingCodec, BytesCodec, GzipCodec
t = zarr.create_array(f"{d}/t.zarr", shape=(30, 30), dtype="i4", fill_value=5, chunks=(10, 10), compressors=None,
                      serializer=ShardingCodec(chunk_shape=(5, 5), codecs=[BytesCodec(), GzipCodec()],
                                               index_codecs=[BytesCodec()], index_location="start"))
t[:, :] = np.arange(900, dtype="i4").reshape(30, 30) * 7 - 3000
np.save(f"{d}/t.npy", t[...])
"#;

fn fixture() -> (tempfile::TempDir, NdData) {
    let dir = tempfile::tempdir().unwrap();
    run_python(WRITE, &[dir.path().to_str().unwrap()]);
    let npy = NpySource::open(dir.path().join("s.npy")).unwrap();
    let want = npy.read_region(&[0..64, 0..64]).unwrap();
    (dir, want)
}

/// The (offset, size) of inner chunk `k` in a shard file whose index (16 inner chunks of
/// 16 bytes, then a crc32c) is at its end.
fn index_entry(shard: &Path, k: usize) -> (u64, u64) {
    let b = std::fs::read(shard).unwrap();
    let index = &b[b.len() - (16 * 16 + 4)..];
    let e = &index[16 * k..16 * k + 16];
    (
        u64::from_le_bytes(e[..8].try_into().unwrap()),
        u64::from_le_bytes(e[8..].try_into().unwrap()),
    )
}

#[test]
fn a_selection_in_one_inner_chunk_fetches_that_chunk_and_the_index() {
    let (dir, want) = fixture();
    let server = RangeServer::start(dir.path().to_path_buf());
    let store = ZarrStore::open_http(&server.url("s.zarr"), Default::default()).unwrap();
    let src = store.array("/").unwrap();
    assert_eq!(src.chunk_shape(), &[4, 4]);
    let opened = server.take();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0].path, "/s.zarr/zarr.json");

    // Rows 21..23, columns 25..27: inner chunk (5, 6), i.e. inner chunk (1, 2) of shard (1, 1).
    let got = src.read_region(&[21..23, 25..27]).unwrap();
    let mut part = NdData::zeros(want.dtype(), &[2, 2]);
    vastarray::source::copy_overlap(&want, &[0..64, 0..64], &mut part, &[21..23, 25..27]).unwrap();
    assert_eq!(got, part);
    let (off, size) = index_entry(&dir.path().join("s.zarr/c/1/1"), 4 + 2);
    let served = server.take();
    assert_eq!(
        served,
        vec![
            Served {
                path: "/s.zarr/c/1/1".into(),
                range: Some("bytes=-260".into()),
                status: 206,
                bytes: 260
            },
            Served {
                path: "/s.zarr/c/1/1".into(),
                range: Some(format!("bytes={off}-{}", off + size - 1)),
                status: 206,
                bytes: size as usize
            },
        ]
    );
    let shard_len = std::fs::metadata(dir.path().join("s.zarr/c/1/1"))
        .unwrap()
        .len();
    // One of the shard's 16 inner chunks (they compress alike): a small part of its data.
    assert!(
        size * 4 < shard_len - 260,
        "inner chunk of {size} bytes in a shard of {shard_len}"
    );

    // Another inner chunk of the same shard: its index is cached, only the chunk is fetched.
    src.read_region(&[16..17, 16..17]).unwrap();
    let served = server.take();
    assert_eq!(served.len(), 1, "{served:?}");
    // An inner chunk never written, in a shard that exists: its (cached) index says so, and
    // nothing more is fetched; values are the fill value.
    let fill = src.read_region(&[60..62, 44..46]).unwrap();
    assert_eq!(
        fill.to_f64().iter().copied().collect::<Vec<_>>(),
        vec![-2.0; 4]
    );
    let served = server.take();
    assert_eq!(served.len(), 1, "{served:?}");
    assert_eq!(
        (served[0].path.as_str(), served[0].bytes),
        ("/s.zarr/c/3/2", 260)
    );
    // A shard never written: its index request answers 404, and that is all.
    let fill = src.read_region(&[10..11, 50..53]).unwrap();
    assert_eq!(
        fill.to_f64().iter().copied().collect::<Vec<_>>(),
        vec![-2.0; 3]
    );
    let served = server.take();
    assert!(
        !served.is_empty()
            && served
                .iter()
                .all(|s| s.status == 404 && s.path == "/s.zarr/c/0/3"),
        "{served:?}"
    );

    // The whole array through the lazy API equals numpy's.
    let all = vastarray::DynArray::from_source(src).ndarray().unwrap();
    assert_eq!(all, want);

    // A whole-array pass of a fresh source asks for each shard's index once and then for its
    // written inner chunks in one range: zarr-python stores them back to back, so the range
    // runs from the first one's offset to the last one's end, what the files hold, no more.
    let src = store.array("/").unwrap();
    server.take();
    let all = vastarray::DynArray::from_source(src).ndarray().unwrap();
    assert_eq!(all, want);
    let mut expected = Vec::new();
    for (r, c) in (0..4).flat_map(|r| (0..4).map(move |c| (r, c))) {
        let path = format!("/s.zarr/c/{r}/{c}");
        let file = dir.path().join(&path[1..]);
        if !file.exists() {
            expected.push((path, Some("bytes=-260".to_string()), 404));
            continue;
        }
        expected.push((path.clone(), Some("bytes=-260".to_string()), 206));
        let written: Vec<(u64, u64)> = (0..16)
            .map(|k| index_entry(&file, k))
            .filter(|&(off, _)| off != u64::MAX)
            .collect();
        let stored: u64 = written.iter().map(|&(_, size)| size).sum();
        let start = written.iter().map(|&(off, _)| off).min().unwrap();
        let end = written.iter().map(|&(off, size)| off + size).max().unwrap();
        assert_eq!(
            end - start,
            stored,
            "{path}: inner chunks stored back to back"
        );
        expected.push((
            path.clone(),
            Some(format!("bytes={start}-{}", end - 1)),
            206,
        ));
    }
    let mut got: Vec<_> = server
        .take()
        .into_iter()
        .map(|s| (s.path, s.range, s.status))
        .filter(|s| s.0 != "/s.zarr/zarr.json")
        .collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
}

/// A whole-array pass over a remote shard whose inner chunk is damaged, or whose index is: the
/// shard's inner chunks come in one range, and the error names the array's inner chunk, its
/// shard and its entry in the shard's index, never a panic.
#[test]
fn damaged_remote_shards_are_errors_naming_the_inner_chunk() {
    let (dir, _) = fixture();
    let shard = dir.path().join("s.zarr/c/1/1");
    let pristine = std::fs::read(&shard).unwrap();
    let server = RangeServer::start(dir.path().to_path_buf());
    // A whole-array pass of a fresh source: its error.
    let pass_error = || {
        let store = ZarrStore::open_http(&server.url("s.zarr"), Default::default()).unwrap();
        vastarray::DynArray::from_source(store.array("/").unwrap())
            .ndarray()
            .unwrap_err()
            .to_string()
    };
    // Entry 5 of shard (1, 1) is inner chunk (5, 5) of the array (4 x 4 inner chunks a shard).
    let (off, size) = index_entry(&shard, 5);
    let mut bad = pristine.clone();
    for b in &mut bad[off as usize + 4..(off + size) as usize] {
        *b ^= 0x5a;
    }
    std::fs::write(&shard, &bad).unwrap();
    let e = pass_error();
    assert!(
        e.contains("inner chunk [5, 5] of shard [1, 1]") && e.contains("entry 5 of its index"),
        "{e}"
    );
    // The index's checksum no longer matching its entries.
    let mut bad = pristine;
    let n = bad.len();
    bad[n - 4 - 16 * 16 + 3] ^= 1;
    std::fs::write(&shard, &bad).unwrap();
    let e = pass_error();
    assert!(
        e.contains("of shard [1, 1]") && e.contains("checksum"),
        "{e}"
    );
}

/// Index at the start of the shard, no checksum, gzip inner chunks: a selection inside one
/// inner chunk asks for the index's first bytes and that chunk's byte range.
#[test]
fn an_index_at_the_start_is_read_from_the_first_bytes() {
    let (dir, _) = fixture();
    let want = NpySource::open(dir.path().join("t.npy"))
        .unwrap()
        .read_region(&[0..30, 0..30])
        .unwrap();
    let server = RangeServer::start(dir.path().to_path_buf());
    let store = ZarrStore::open_http(&server.url("t.zarr"), Default::default()).unwrap();
    let src = store.array("/").unwrap();
    server.take();
    // Rows 12..14, columns 27..29: inner chunk (2, 5), i.e. inner chunk (0, 1) of shard (1, 2).
    let got = src.read_region(&[12..14, 27..29]).unwrap();
    let mut part = NdData::zeros(want.dtype(), &[2, 2]);
    vastarray::source::copy_overlap(&want, &[0..30, 0..30], &mut part, &[12..14, 27..29]).unwrap();
    assert_eq!(got, part);
    let shard = std::fs::read(dir.path().join("t.zarr/c/1/2")).unwrap();
    let e = &shard[16..32];
    let off = u64::from_le_bytes(e[..8].try_into().unwrap());
    let size = u64::from_le_bytes(e[8..].try_into().unwrap());
    let served: Vec<_> = server
        .take()
        .into_iter()
        .map(|s| (s.path, s.range, s.bytes))
        .collect();
    assert_eq!(
        served,
        vec![
            (
                "/t.zarr/c/1/2".to_string(),
                Some("bytes=0-63".to_string()),
                64
            ),
            (
                "/t.zarr/c/1/2".to_string(),
                Some(format!("bytes={off}-{}", off + size - 1)),
                size as usize
            ),
        ]
    );
    assert_eq!(
        vastarray::DynArray::from_source(src).ndarray().unwrap(),
        want
    );
}

/// `vastarray ARGS... --json` with `--cache CACHE` in front of `url`: its JSON output or its
/// failure (exit code and standard error).
fn stats_cached(
    url: &str,
    cache: &Path,
    extra: &[&str],
) -> Result<serde_json::Value, (i32, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_vastarray"))
        .args(["stats", url, "--cache", cache.to_str().unwrap(), "--json"])
        .args(extra)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    Ok(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap())
}

fn paths(served: &[Served]) -> Vec<&str> {
    served.iter().map(|s| s.path.as_str()).collect()
}

#[test]
fn cli_with_cache_makes_no_request_the_second_time() {
    let (dir, want) = fixture();
    let server = RangeServer::start(dir.path().to_path_buf());
    let url = server.url("s.zarr");
    let cache = dir.path().join("c.b2nd");
    let first = stats_cached(&url, &cache, &[]).unwrap();
    let f = want.to_f64();
    let mean = f.iter().sum::<f64>() / f.len() as f64;
    assert!((first["mean"].as_f64().unwrap() - mean).abs() < 1e-3 * mean.abs());
    let served = server.take();
    assert!(served.iter().any(|s| s.path.contains("/c/")), "{served:?}");

    // The cache holds every chunk and the array's metadata: no request at all.
    let second = stats_cached(&url, &cache, &[]).unwrap();
    assert_eq!(first["mean"], second["mean"]);
    assert_eq!(first["std"], second["std"]);
    let served = server.take();
    assert!(served.is_empty(), "the second run asked {served:?}");

    // --revalidate asks for the metadata (the stamp) and nothing else.
    let third = stats_cached(&url, &cache, &["--revalidate"]).unwrap();
    assert_eq!(first["mean"], third["mean"]);
    assert_eq!(paths(&server.take()), vec!["/s.zarr/zarr.json"]);
}

/// A cache holding part of the array: what it holds is served without a request; the first
/// chunk it lacks is read after the server's metadata is checked; and once the array changed
/// on the server, reading a chunk the cache lacks is an error naming the cache, never a chunk
/// of the new version next to chunks of the old one.
#[test]
fn cli_with_a_partial_cache_asks_the_server_only_for_what_it_lacks() {
    let (dir, want) = fixture();
    let server = RangeServer::start(dir.path().to_path_buf());
    let url = server.url("s.zarr");
    let cache = dir.path().join("p.b2nd");
    let inner = |r: &str, c: &str, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>| {
        let sel = format!("{r}, {c}");
        let got = stats_cached(&url, &cache, &["--select", &sel]).unwrap();
        let w = want.to_f64();
        let vals: Vec<f64> = rows
            .flat_map(|i| cols.clone().map(move |j| (i, j)))
            .map(|(i, j)| w[[i, j]])
            .collect();
        let m = vals.iter().sum::<f64>() / vals.len() as f64;
        assert!(
            (got["mean"].as_f64().unwrap() - m).abs() < 1e-4,
            "{sel}: {got}"
        );
    };
    // Inner chunk (5, 6): the metadata, the shard's index and the chunk.
    inner("21:23", "25:27", 21..23, 25..27);
    let served = server.take();
    assert_eq!(paths(&served)[0], "/s.zarr/zarr.json");
    assert_eq!(served.len(), 3, "{served:?}");
    // Again, and another part of the same inner chunk: nothing is asked.
    inner("20:24", "24:28", 20..24, 24..28);
    assert!(server.take().is_empty());
    // Inner chunk (0, 0) is not cached: the metadata is checked, then it is fetched.
    inner("0:2", "0:2", 0..2, 0..2);
    let served = server.take();
    assert_eq!(paths(&served)[0], "/s.zarr/zarr.json", "{served:?}");
    assert!(
        served[1..].iter().all(|s| s.path == "/s.zarr/c/0/0"),
        "{served:?}"
    );

    // The array is written again with another fill value: another array for the cache.
    run_python(
        r#"
import sys, numpy as np, zarr
a = zarr.create_array(f"{sys.argv[1]}/s.zarr", shape=(64, 64), chunks=(4, 4), shards=(16, 16), dtype="f4", fill_value=-20, overwrite=True)
a[:, :40] = 1
"#,
        &[dir.path().to_str().unwrap()],
    );
    // What the cache holds is still served (the cache's own copy, without a request) ...
    inner("20:24", "24:28", 20..24, 24..28);
    assert!(server.take().is_empty());
    // ... but a chunk it lacks is not read with the changed array's metadata.
    let (code, err) = stats_cached(&url, &cache, &["--select", "40:44, 0:4"]).unwrap_err();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("changed since the cache was filled") && err.contains("p.b2nd"),
        "{err}"
    );
    assert_eq!(paths(&server.take()), vec!["/s.zarr/zarr.json"]);
    // --revalidate refuses the cache at once.
    let (code, err) = stats_cached(&url, &cache, &["--revalidate"]).unwrap_err();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("another source"), "{err}");
}

/// A group over HTTP: with consolidated metadata (v3 and v2, as zarr-python writes it) its tree
/// is listed from the root's documents alone, equal to the local listing; without, the error
/// says consolidated metadata is needed.
#[test]
fn a_remote_group_is_listed_from_its_consolidated_metadata() {
    let dir = tempfile::tempdir().unwrap();
    run_python(
        r#"
import sys, warnings, numpy as np, zarr
warnings.simplefilter("ignore")
d = sys.argv[1]
for name, fmt, consolidate in (("c3", 3, True), ("c2", 2, True), ("n3", 3, False)):
    p = f"{d}/{name}.zarr"
    root = zarr.open_group(p, mode="w", zarr_format=fmt)
    g = root.create_group("grp")
    g.create_array("a", shape=(30, 20), chunks=(8, 8), dtype="f4", fill_value=0)[:] = 1
    g.create_group("sub").create_array("deep", shape=(5,), chunks=(2,), dtype="i8")[:] = np.arange(5)
    root.create_array("b", shape=(7,), chunks=(3,), dtype="i2")[:] = 3
    if consolidate:
        zarr.consolidate_metadata(p)
"#,
        &[dir.path().to_str().unwrap()],
    );
    let server = RangeServer::start(dir.path().to_path_buf());
    let info = |what: &str| {
        Command::new(env!("CARGO_BIN_EXE_vastarray"))
            .args(["info", what, "--json"])
            .output()
            .unwrap()
    };
    for name in ["c3.zarr", "c2.zarr"] {
        let local = info(dir.path().join(name).to_str().unwrap());
        assert!(local.status.success());
        server.take();
        let remote = info(&server.url(name));
        assert!(
            remote.status.success(),
            "{}",
            String::from_utf8_lossy(&remote.stderr)
        );
        let tree = |o: &std::process::Output| {
            serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["tree"].clone()
        };
        assert_eq!(tree(&remote), tree(&local), "{name}");
        assert_eq!(tree(&remote)[1]["members"][0]["path"], "/grp/a");
        // Only documents of the root were asked for, none of a member.
        let served = server.take();
        let root = format!("/{name}/");
        assert!(
            served
                .iter()
                .all(|s| s.path.starts_with(&root) && !s.path[root.len()..].contains('/')),
            "{served:?}"
        );
    }
    let out = info(&server.url("n3.zarr"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("consolidated metadata"), "{err}");
}

/// A member of a group with consolidated metadata (v3 and v2) is opened from the root's
/// documents alone: no request for the member's own `zarr.json`, `.zarray` or `.zattrs`,
/// counted at the server. The consolidated copy is trusted as zarr-python trusts it: a member
/// grown after consolidation reads with its consolidated shape, equal to what zarr-python's
/// consolidated open reads (locally too).
#[test]
fn a_member_is_opened_from_the_consolidated_metadata() {
    let dir = tempfile::tempdir().unwrap();
    run_python(
        r#"
import sys, warnings, numpy as np, zarr
warnings.simplefilter("ignore")
d = sys.argv[1]
for name, fmt in (("c3", 3), ("c2", 2)):
    p = f"{d}/{name}.zarr"
    root = zarr.open_group(p, mode="w", zarr_format=fmt)
    g = root.create_group("grp")
    g.create_array("a", shape=(30, 20), chunks=(8, 8), dtype="f4", fill_value=-1)[:] = np.arange(600, dtype="f4").reshape(30, 20) / 4
    g.create_group("sub").create_array("deep", shape=(5,), chunks=(2,), dtype="i8")[:] = np.arange(5) - 2
    zarr.consolidate_metadata(p)
    # Stale: the member grows after consolidation.
    a = zarr.open_array(f"{p}/grp/a", mode="r+", zarr_format=fmt)
    a.resize((40, 20))
    a[30:40] = 7
    c = zarr.open_group(p, mode="r", use_consolidated=True)
    np.save(f"{d}/{name}_a.npy", c["grp/a"][...])
    np.save(f"{d}/{name}_deep.npy", c["grp/sub/deep"][...])
"#,
        &[dir.path().to_str().unwrap()],
    );
    let server = RangeServer::start(dir.path().to_path_buf());
    let npy = |f: &str| {
        let s = NpySource::open(dir.path().join(f)).unwrap();
        let full: Vec<_> = s.shape().iter().map(|n| 0..*n).collect();
        s.read_region(&full).unwrap()
    };
    for name in ["c3", "c2"] {
        let want_a = npy(&format!("{name}_a.npy"));
        assert_eq!(
            want_a.shape(),
            &[30, 20],
            "zarr-python's consolidated shape"
        );
        let want_deep = npy(&format!("{name}_deep.npy"));
        let store =
            ZarrStore::open_http(&server.url(&format!("{name}.zarr")), Default::default()).unwrap();
        server.take();
        for (node, want) in [("/grp/a", &want_a), ("/grp/sub/deep", &want_deep)] {
            let src = store.array(node).unwrap();
            let meta: Vec<String> = server.take().into_iter().map(|s| s.path).collect();
            let root = format!("/{name}.zarr/");
            assert!(
                !meta.is_empty()
                    && meta
                        .iter()
                        .all(|p| p.starts_with(&root) && !p[root.len()..].contains('/')),
                "{name}{node}: {meta:?}"
            );
            let full: Vec<_> = src.shape().iter().map(|n| 0..*n).collect();
            assert_eq!(&src.read_region(&full).unwrap(), want, "{name}{node}");
            // Then only chunks of the member.
            let served = server.take();
            assert!(
                served
                    .iter()
                    .all(|s| s.path.starts_with(&format!("/{name}.zarr{node}/"))
                        && !s.path.ends_with("zarr.json")
                        && !s.path.ends_with(".zarray")),
                "{served:?}"
            );
        }
        // A local store trusts the consolidated copy the same way.
        let local = ZarrStore::open_dir(&dir.path().join(format!("{name}.zarr"))).unwrap();
        let src = local.array("/grp/a").unwrap();
        assert_eq!(src.read_region(&[0..30, 0..20]).unwrap(), want_a);
        assert_eq!(src.shape(), &[30, 20]);
    }
}

/// A cache made the old way (filled through the proxy with no record of the array's metadata)
/// asks for `zarr.json` on its next run, once: that run records the metadata into it, and the
/// run after makes no request at all.
#[test]
fn an_old_cache_records_the_metadata_on_its_next_run() {
    let (dir, want) = fixture();
    let server = RangeServer::start(dir.path().to_path_buf());
    let url = server.url("s.zarr");
    let cache = dir.path().join("old.b2nd");
    {
        let store = ZarrStore::open_http(&url, Default::default()).unwrap();
        let src: Arc<dyn ChunkSource> = Arc::new(store.array("/").unwrap());
        let proxy = vastarray::proxy::Proxy::builder(src)
            .cache_file(&cache)
            .open()
            .unwrap();
        let all = vastarray::DynArray::from_source(proxy).ndarray().unwrap();
        assert_eq!(all, want);
    }
    let old = vastarray::proxy::cached_source(&cache).unwrap().unwrap();
    assert_eq!(old.metadata, None);
    assert_eq!(old.chunks_held, old.chunks_total);
    server.take();

    let first = stats_cached(&url, &cache, &[]).unwrap();
    assert_eq!(paths(&server.take()), vec!["/s.zarr/zarr.json"]);
    let f = want.to_f64();
    let mean = f.iter().sum::<f64>() / f.len() as f64;
    assert!((first["mean"].as_f64().unwrap() - mean).abs() < 1e-3 * mean.abs());
    let recorded = vastarray::proxy::cached_source(&cache).unwrap().unwrap();
    assert!(recorded.metadata.is_some());
    assert_eq!(recorded.chunks_held, old.chunks_held);

    let second = stats_cached(&url, &cache, &[]).unwrap();
    assert!(server.take().is_empty(), "the run after the record asked");
    assert_eq!(first["mean"], second["mean"]);
    assert_eq!(first["std"], second["std"]);
}
