//! [`HttpConfig`]: timeouts, retries, size cap and concurrency of an [`super::HttpClient`].

use std::time::Duration;

/// The default of [`HttpConfig::deadline`]: 60 seconds per request, retries included.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// How an [`super::HttpClient`] talks to servers. Build one with `HttpConfig::default()` and
/// struct update syntax: `HttpConfig { max_retries: 5, ..HttpConfig::default() }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    /// Longest wait for a TCP connection to be established.
    pub connect_timeout: Duration,
    /// Longest wait for the response headers, and for each read of the body after them (a
    /// stalled connection fails after this long, and may be retried).
    pub read_timeout: Duration,
    /// Longest time one attempt may take from sending the request to the end of its body, so
    /// a server that trickles bytes cannot hold an attempt forever.
    pub attempt_deadline: Duration,
    /// Longest time one request may take over all its attempts, from the start of the first
    /// to the end of the last, the waits between them included (default 60 s): a stuck or
    /// trickling server fails the request within it. The `vastarray` command's `--timeout`.
    pub deadline: Duration,
    /// Retries after the first attempt, for 5xx statuses (and 408, 429), timeouts and dropped
    /// connections. Other 4xx statuses are never retried.
    pub max_retries: u32,
    /// Delay before the first retry; it doubles for every further one (plus jitter).
    pub backoff_base: Duration,
    /// Upper bound of one retry delay.
    pub backoff_max: Duration,
    /// Largest response body accepted, in bytes. A larger one is an error naming the URL; the
    /// client stops reading as soon as more than the cap has arrived (or at once when the
    /// announced `Content-Length` is larger).
    pub max_body_bytes: u64,
    /// Requests in flight at once, over all callers of the client; also the number of workers
    /// of a batch fetch.
    pub concurrency: usize,
    /// The `User-Agent` header sent with every request.
    pub user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            attempt_deadline: Duration::from_secs(120),
            deadline: DEFAULT_DEADLINE,
            max_retries: 3,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            max_body_bytes: 64 << 20,
            concurrency: 16,
            user_agent: format!("vastarray/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}
