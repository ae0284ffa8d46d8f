//! A real Caterva2 server for the tests: `cat2-server` (installed beside the test Python) on a
//! free port of 127.0.0.1, with a fresh state directory, killed when the handle is dropped.
//! Also a tiny fake server that answers with canned bodies, for what a real one never sends.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer `api/roots` after it is started.
const STARTUP: Duration = Duration::from_secs(90);

/// A running `cat2-server`; dropping it kills the process.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT/`.
    pub base: String,
    dir: tempfile::TempDir,
    conf: PathBuf,
    secret: Option<String>,
}

/// A program installed beside the test Python (`cat2-server`, `cat2-admin`).
fn tool(name: &str) -> PathBuf {
    let python = crate::common::python();
    let dir = python
        .parent()
        .expect("python has a directory")
        .to_path_buf();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} not found: install caterva2[server] in the test Python's environment",
        path.display()
    );
    path
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    l.local_addr().unwrap().port()
}

impl Server {
    /// Prepares a state directory and a configuration. With `login`, the server needs a
    /// secret and users (add them with [`Server::add_user`] before [`Server::start`]).
    fn prepare(login: bool) -> (tempfile::TempDir, PathBuf, String, Option<String>) {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}/");
        let state = dir.path().join("state");
        for sub in ["public", "shared", "personal"] {
            std::fs::create_dir_all(state.join(sub)).unwrap();
        }
        let conf = dir.path().join("caterva2-server.toml");
        std::fs::write(
            &conf,
            format!(
                "[server]\nlogin = {login}\nregister = false\nlisten = \"127.0.0.1:{port}\"\n\
                 urlbase = \"http://127.0.0.1:{port}\"\nstatedir = \"{}\"\n",
                state.display()
            ),
        )
        .unwrap();
        let secret = login.then(|| format!("test-secret-{}", fastrand::u64(..)));
        (dir, conf, base, secret)
    }

    /// Starts an open server (no login).
    pub fn start_public() -> Server {
        Self::launch(Self::prepare(false), &[])
    }

    /// Starts a server that needs a login, with the given users (e-mail, password).
    pub fn start_with_users(users: &[(&str, &str)]) -> Server {
        Self::launch(Self::prepare(true), users)
    }

    fn launch(
        (dir, conf, base, secret): (tempfile::TempDir, PathBuf, String, Option<String>),
        users: &[(&str, &str)],
    ) -> Server {
        for (user, password) in users {
            let mut cmd = Command::new(tool("cat2-admin"));
            cmd.arg("--conf")
                .arg(&conf)
                .args(["adduser", user, password]);
            cmd.current_dir(dir.path());
            if let Some(s) = &secret {
                cmd.env("CATERVA2_SECRET", s);
            }
            let out = cmd.output().expect("running cat2-admin");
            assert!(
                out.status.success(),
                "cat2-admin adduser failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut cmd = Command::new(tool("cat2-server"));
        cmd.arg("--conf")
            .arg(&conf)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            // Its access log reaches the file as each request is answered.
            .env("PYTHONUNBUFFERED", "1")
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        match &secret {
            Some(s) => cmd.env("CATERVA2_SECRET", s),
            None => cmd.env_remove("CATERVA2_SECRET"),
        };
        let child = cmd.spawn().expect("starting cat2-server");
        let mut server = Server {
            child,
            base,
            dir,
            conf,
            secret,
        };
        server.wait_ready();
        server
    }

    /// Polls `api/roots` until it answers, or panics with the server's log.
    fn wait_ready(&mut self) {
        vastarray::http::install_tls_provider();
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("cat2-server exited with {status}:\n{}", self.log());
            }
            let url = format!("{}api/roots", self.base);
            if let Ok(r) = http.get(&url).send() {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                started.elapsed() < STARTUP,
                "cat2-server did not answer {url} within {STARTUP:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The server's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The directory served as `@public`.
    pub fn public_dir(&self) -> PathBuf {
        self.dir.path().join("state/public")
    }

    /// The directory served as `@shared` (logged-in users only).
    pub fn shared_dir(&self) -> PathBuf {
        self.dir.path().join("state/shared")
    }

    /// A scratch directory that lives as long as the server.
    pub fn scratch(&self) -> PathBuf {
        let p = self.dir.path().join("scratch");
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// The configuration file.
    pub fn conf(&self) -> &Path {
        &self.conf
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fake HTTP server on a free port answering every request with `answer(path)` (status and
/// body); it stops when the handle is dropped.
pub struct FakeServer {
    /// `http://127.0.0.1:PORT/`.
    pub base: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    port: u16,
}

impl FakeServer {
    /// Starts serving.
    pub fn start(answer: impl Fn(&str) -> (u16, Vec<u8>) + Send + 'static) -> FakeServer {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(s) = stream {
                    let _ = serve_one(s, &answer);
                }
            }
        });
        FakeServer {
            base: format!("http://127.0.0.1:{port}/"),
            stop,
            thread: Some(thread),
            port,
        }
    }
}

fn serve_one(stream: TcpStream, answer: &dyn Fn(&str) -> (u16, Vec<u8>)) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
    }
    let (status, body) = answer(&path);
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(&body)?;
    out.flush()
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
