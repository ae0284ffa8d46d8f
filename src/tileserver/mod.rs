//! An embedded slippy-map tile server on 127.0.0.1, for tests, benchmarks and the demo.
//!
//! [`TileServer::start`] binds an ephemeral port and serves `/{z}/{x}/{y}.png` (also `.jpg`, lossless `.webp`
//! and `.npy`) with pixels from [`tile_pixel`] / [`tile_value`], so a client's result can be
//! checked against values computed independently. [`TileServerConfig`] adds latency and
//! deterministic faults (500s, dropped connections, 404s, wrong-size tiles); [`ServerStats`]
//! counts requests per path and the most in flight at once. The server stops when its handle
//! is dropped or [`TileServer::stop`]ped, and joins every thread it started.
//!
//! Modules: `config`, `pixels` (content), `routes` (path to answer), `wire` (HTTP/1.1),
//! `counters`.
//!
//! ```
//! use vastarray::http::{HttpClient, HttpConfig};
//! use vastarray::io::tiles::TileFormat;
//! use vastarray::tileserver::{TileServer, TileServerConfig};
//! let server = TileServer::start(TileServerConfig::default()).unwrap();
//! let client = HttpClient::new(HttpConfig::default()).unwrap();
//! let png = client.get(&format!("{}{}", server.base_url(), TileServer::tile_path(3, 1, 2, TileFormat::Png))).unwrap();
//! assert_eq!(&png[1..4], b"PNG");
//! assert_eq!(server.stats().total_requests, 1);
//! ```

mod config;
mod counters;
mod pixels;
mod routes;
mod wire;

pub use config::{TileId, TileServerConfig};
pub use counters::ServerStats;
pub use pixels::{render_tile, tile_pixel, tile_value};

use counters::Counters;
use routes::{route, Reply};
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use vastarray::error::{Error, Result};
use vastarray::io::tiles::TileFormat;
use wire::{read_request, write_response, Next};

/// How often idle threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// Connections served at once; more are closed at once.
const MAX_CONNECTIONS: usize = 256;

/// State shared by the server's threads.
struct Shared {
    config: TileServerConfig,
    stop: AtomicBool,
    counters: Counters,
}

/// A running tile server. Dropping it stops it.
pub struct TileServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl TileServer {
    /// Starts a server on 127.0.0.1 with an ephemeral port.
    pub fn start(config: TileServerConfig) -> Result<TileServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            stop: AtomicBool::new(false),
            counters: Counters::default(),
        });
        let for_thread = Arc::clone(&shared);
        let acceptor = std::thread::Builder::new()
            .name(format!("tileserver-{}", addr.port()))
            .spawn(move || accept_loop(listener, for_thread))
            .map_err(|e| Error::Internal(format!("cannot start the tile server thread: {e}")))?;
        Ok(TileServer {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL template of the server's tiles in `format`: `http://127.0.0.1:PORT/{z}/{x}/{y}.png`.
    pub fn url_template(&self, format: TileFormat) -> String {
        format!(
            "{}/{{z}}/{{x}}/{{y}}.{}",
            self.base_url(),
            format.extension()
        )
    }

    /// The path of tile (`z`, `x`, `y`) in `format`, as counted in [`ServerStats::per_path`].
    pub fn tile_path(z: u32, x: u64, y: u64, format: TileFormat) -> String {
        format!("/{z}/{x}/{y}.{}", format.extension())
    }

    /// The configuration served.
    pub fn config(&self) -> &TileServerConfig {
        &self.shared.config
    }

    /// A snapshot of the request counters.
    pub fn stats(&self) -> ServerStats {
        self.shared.counters.snapshot()
    }

    /// Requests received for `path` so far.
    pub fn requests_for(&self, path: &str) -> u64 {
        self.shared.counters.for_path(path)
    }

    /// Forgets the counts (per-path fault counting starts again too).
    pub fn reset_stats(&self) {
        self.shared.counters.reset()
    }

    /// Stops the server and waits for all its threads to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

impl Drop for TileServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Accepts connections until stopped, one thread per connection; joins them all at the end.
fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                workers.retain(|w| !w.is_finished());
                if workers.len() >= MAX_CONNECTIONS {
                    let _ = stream.shutdown(Shutdown::Both);
                    continue;
                }
                let for_thread = Arc::clone(&shared);
                if let Ok(w) = std::thread::Builder::new()
                    .name("tileserver-conn".into())
                    .spawn(move || serve_connection(stream, &for_thread))
                {
                    workers.push(w);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2))
            }
            Err(_) => std::thread::sleep(POLL),
        }
    }
    for w in workers {
        let _ = w.join();
    }
}

/// Serves the requests of one connection until the client closes it, a fault closes it, or the
/// server stops.
fn serve_connection(mut stream: TcpStream, shared: &Shared) {
    let ready = stream.set_nonblocking(false).is_ok()
        && stream.set_read_timeout(Some(POLL)).is_ok()
        && stream
            .set_write_timeout(Some(Duration::from_secs(10)))
            .is_ok();
    if !ready {
        return;
    }
    let _ = stream.set_nodelay(true);
    let config = &shared.config;
    let mut pending = Vec::new();
    loop {
        let request = match read_request(&mut stream, &mut pending, &shared.stop) {
            Next::Request(r) => r,
            Next::Done => return,
        };
        let (arrival, _in_flight) = shared.counters.arrive(&request.path);
        if !sleep_unless_stopped(config.latency, &shared.stop) {
            return;
        }
        match route(config, &request.path, arrival) {
            Reply::Drop => {
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
            Reply::Answer {
                status,
                content_type,
                body,
            } => {
                let with_length = !config.omit_content_length;
                let pause = || sleep_unless_stopped(config.trickle, &shared.stop);
                let trickle: Option<&dyn Fn() -> bool> = if config.trickle.is_zero() {
                    None
                } else {
                    Some(&pause)
                };
                let written = write_response(
                    &mut stream,
                    status,
                    content_type,
                    &body,
                    request.close,
                    with_length,
                    trickle,
                );
                if written.is_err() || request.close || !with_length {
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
            }
        }
    }
}

/// Sleeps for `d` in short steps; false if the server was stopped meanwhile.
fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) -> bool {
    let end = Instant::now().checked_add(d);
    loop {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        let left = end.map_or(Duration::MAX, |end| end.saturating_duration_since(now));
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_millis(10)));
    }
}
