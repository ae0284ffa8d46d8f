//! Temporary files after `kill -9` (issue 11, finding 10): a `copy` killed while it writes
//! leaves its temporary file and lock file; the next store of the same destination removes
//! them, and never those of a store still running.
//!
//! The killed copies read from a fake Caterva2 server that describes a dataset and then never
//! answers a chunk request, so the copy is reliably in the middle of writing when it is
//! killed (its temporary file exists), however loaded the machine is.

// Runs the `vastarray` binary (the `cli` feature).
#![cfg(feature = "cli")]

use crate::cli_support;

use cli_support::{fixtures, scratch, vastarray};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fake Caterva2 server on 127.0.0.1 serving `api/info` of `@public/slow.b2nd` (100,000
/// float32 in 10 chunks) and holding every other request open until the client goes away.
/// Returns the source argument naming the dataset.
fn stalling_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let line = String::from_utf8_lossy(&head);
                if line.starts_with("GET /api/info/") {
                    let body = r#"{"shape": [100000], "chunks": [10000], "blocks": [1000], "dtype": "float32", "schunk": {"nchunks": 10}}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(answer.as_bytes());
                }
                // Hold the connection (a chunk never comes) until the client closes it.
                let mut sink = [0u8; 256];
                while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            });
        }
    });
    format!("c2+http://{addr}/@public/slow.b2nd")
}

/// Entries of `dir` whose name is a temporary (or lock) file of the sinks.
fn temporaries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".vastarray-tmp-"))
        .collect();
    v.sort();
    v
}

/// Starts `vastarray copy SOURCE DEST` and waits until its temporary file exists (not just
/// the lock file): the copy is then writing, blocked on a chunk that never comes.
fn start_stuck_copy(source: &str, dest: &str, dir: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vastarray"))
        .args(["copy", source, dest, "--quiet", "--timeout", "10m"])
        .current_dir(fixtures())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting vastarray");
    let start = Instant::now();
    loop {
        if temporaries(dir).iter().any(|n| !n.ends_with(".lock")) {
            return child;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the copy to {dest} ended ({status}) before writing anything");
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("the copy to {dest} wrote no temporary file in 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills a child with SIGKILL, as `kill -9` does.
fn kill_9(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_copy_killed_while_writing_leaves_temporaries_that_the_next_store_removes() {
    let source = stalling_server();
    for (file, dest_arg) in [
        ("x.npy", "x.npy"),
        ("x.b2nd", "x.b2nd"),
        ("x.h5", "x.h5:/d"),
    ] {
        let (dir, name) = scratch();
        let dest = format!("{name}/{dest_arg}");
        kill_9(start_stuck_copy(&source, &dest, dir.path()));
        // What the finding saw: the killed copy's temporary (and here, its lock) remain.
        let left = temporaries(dir.path());
        assert!(
            left.iter()
                .any(|n| n.starts_with(&format!(".{file}.vastarray-tmp-"))),
            "{left:?}"
        );
        // The next store of the same destination removes them, and writes the file.
        vastarray(&["copy", "c.npy", &dest]).ok();
        assert_eq!(temporaries(dir.path()), Vec::<String>::new(), "{file}");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![file.to_string()]);
        // And the file holds c.npy's values.
        let ours = vastarray(&["eval", "y", "-i", &format!("y={dest}"), "--json"])
            .ok()
            .json();
        let theirs = vastarray(&["eval", "y", "-i", "y=c.npy", "--json"])
            .ok()
            .json();
        assert_eq!(ours, theirs);
    }
}

#[test]
fn a_running_store_keeps_its_temporary_while_another_store_of_the_same_file_cleans() {
    let source = stalling_server();
    let (dir, name) = scratch();
    let dest = format!("{name}/y.npy");
    let running = start_stuck_copy(&source, &dest, dir.path());
    let theirs = temporaries(dir.path());
    assert_eq!(theirs.len(), 2, "{theirs:?}");
    // A second copy to the same file runs to the end beside it and leaves the live one's
    // files alone.
    vastarray(&["copy", "c.npy", &dest]).ok();
    assert_eq!(temporaries(dir.path()), theirs);
    assert!(dir.path().join("y.npy").exists());
    // Once the first is killed, the next store removes what it left.
    kill_9(running);
    vastarray(&["copy", "a.npy", &dest, "--overwrite"]).ok();
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
}
