//! [`HttpClient`]: one shared connection pool with retries, a size cap and bounded concurrency,
//! for GETs and form POSTs with extra headers.

use super::body::{read_capped, read_start};
use super::concurrent::bounded_map;
use super::config::HttpConfig;
use super::failure::{Failure, Limits};
use super::limiter::Limiter;
use super::request::{HttpRequest, HttpResponse};
use super::runtime::Runtime;
use super::stats::{HttpStats, StatsCounters};
use crate::error::{Cause, Error, Result};
use bytes::Bytes;
use reqwest::header::CONTENT_TYPE;
use std::time::{Duration, Instant};

/// A blocking HTTP client for fetching chunks: one connection pool shared by every caller
/// (wrap it in an `Arc`), with timeouts, retries, a response size cap, a bound on requests in
/// flight and statistics. See [`HttpConfig`] for the knobs.
///
/// Each request has one deadline over all its attempts ([`HttpConfig::deadline`]); each attempt
/// is bounded by [`HttpConfig::attempt_deadline`] (or what is left of the deadline) from the
/// connection to the last byte, and each wait for data by [`HttpConfig::read_timeout`].
#[derive(Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    config: HttpConfig,
    limiter: Limiter,
    stats: StatsCounters,
    runtime: Runtime,
}

/// Makes rustls's `ring` provider the process's default crypto provider unless one is already
/// installed (reqwest is built without a provider of its own; see Cargo.toml). A provider the
/// application installed first is kept.
pub fn install_tls_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another thread's install leaves that one in place: equally good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Bytes of an unsuccessful response's body kept (for the server's `detail` message).
const ERROR_BODY_BYTES: usize = 4096;

impl HttpClient {
    /// A client with the given configuration. Makes no request.
    pub fn new(config: HttpConfig) -> Result<Self> {
        if config.deadline.is_zero() {
            return Err(Error::Invalid("the HTTP deadline must be positive".into()));
        }
        let runtime = Runtime::start()?;
        install_tls_provider();
        let inner = {
            let _context = runtime.enter();
            reqwest::Client::builder()
                .connect_timeout(config.connect_timeout)
                .read_timeout(config.read_timeout)
                .user_agent(config.user_agent.clone())
                .retry(reqwest::retry::never())
                .pool_max_idle_per_host(config.concurrency.max(1))
                .build()
                .map_err(|e| Error::Invalid(format!("cannot build the HTTP client: {e}")))?
        };
        let limiter = Limiter::new(config.concurrency);
        Ok(HttpClient {
            inner,
            config,
            limiter,
            stats: StatsCounters::default(),
            runtime,
        })
    }

    /// A client with the default configuration.
    pub fn with_defaults() -> Result<Self> {
        HttpClient::new(HttpConfig::default())
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// A snapshot of the counters (requests, retries, bytes, failures, missing).
    pub fn stats(&self) -> HttpStats {
        self.stats.snapshot()
    }

    /// GETs `url` and returns its body. A 404 is an error, like every other failure.
    pub fn get(&self, url: &str) -> Result<Bytes> {
        Ok(self.send(&HttpRequest::get(url))?.body)
    }

    /// GETs `url` and returns its body, or `None` when the server answers 404 Not Found (for
    /// sources that treat a missing object as fill values).
    pub fn get_optional(&self, url: &str) -> Result<Option<Bytes>> {
        let response = self.send(&HttpRequest::get(url).passing(404))?;
        if response.status == 404 {
            self.stats.missing();
            return Ok(None);
        }
        Ok(Some(response.body))
    }

    /// Sends `request` with the client's retries, size cap and in-flight bound, and returns
    /// the answer with its headers: a success, or a status the request lets through
    /// ([`HttpRequest::passing`]). Any other outcome is an error naming the URL. The whole call
    /// ends within [`HttpConfig::deadline`] of its first attempt.
    pub fn send(&self, request: &HttpRequest) -> Result<HttpResponse> {
        let mut retry = 0u32;
        let mut deadline: Option<Instant> = None;
        loop {
            let attempt = {
                let _permit = self.limiter.acquire();
                // The clock starts when the first attempt gets its place, not while it waits.
                let end = *deadline.get_or_insert_with(|| {
                    let now = Instant::now();
                    // A deadline too far to represent is a century away.
                    now.checked_add(self.config.deadline)
                        .unwrap_or(now + Duration::from_secs(3_155_760_000))
                });
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Err(Failure::permanent(format!(
                        "no answer within the request's deadline of {:?}",
                        self.config.deadline
                    )))
                } else {
                    self.attempt(request, left)
                }
            };
            match attempt {
                Ok(response) => return Ok(response),
                Err(f) if f.retryable && retry < self.config.max_retries => {
                    let delay = super::backoff_delay(
                        retry,
                        self.config.backoff_base,
                        self.config.backoff_max,
                    );
                    let left = deadline
                        .map(|d| d.saturating_duration_since(Instant::now()))
                        .unwrap_or_default();
                    if delay >= left {
                        return Err(self.give_up(
                            request,
                            f.status,
                            format!(
                                "{} (gave up after {} attempts: the request's deadline of {:?} leaves no time for another)",
                                f.message,
                                retry + 1,
                                self.config.deadline
                            ),
                            f.cause,
                        ));
                    }
                    self.stats.retry();
                    std::thread::sleep(delay);
                    retry += 1;
                }
                Err(f) => {
                    let message = if retry > 0 {
                        format!("{} (gave up after {} attempts)", f.message, retry + 1)
                    } else {
                        f.message
                    };
                    return Err(self.give_up(request, f.status, message, f.cause));
                }
            }
        }
    }

    /// Counts a failed call and makes its error.
    fn give_up(
        &self,
        request: &HttpRequest,
        status: Option<u16>,
        message: String,
        cause: Option<Cause>,
    ) -> Error {
        self.stats.failure();
        Error::Http {
            url: request.url.clone(),
            message,
            status,
            cause,
        }
    }

    /// The error for a `response` to `url` whose status was let through
    /// ([`HttpRequest::passing`]) but that the caller cannot use after all, counted as a failed
    /// call: [`HttpResponse::status_message`] followed by `note` (which may be empty).
    pub fn refused(&self, url: &str, response: &HttpResponse, note: &str) -> Error {
        self.stats.failure();
        Error::http_with_status(
            url,
            response.status,
            format!("{}{note}", response.status_message()),
        )
    }

    /// GETs every URL, up to [`HttpConfig::concurrency`] at once, and returns the bodies (or
    /// errors) in the order of `urls`. 404 is an error.
    pub fn fetch_many<S: AsRef<str> + Sync>(&self, urls: &[S]) -> Vec<Result<Bytes>> {
        self.map_concurrent(urls.len(), |i| self.get(urls[i].as_ref()))
    }

    /// Like [`HttpClient::fetch_many`], but a 404 gives `None` instead of an error.
    pub fn fetch_many_optional<S: AsRef<str> + Sync>(
        &self,
        urls: &[S],
    ) -> Vec<Result<Option<Bytes>>> {
        self.map_concurrent(urls.len(), |i| self.get_optional(urls[i].as_ref()))
    }

    /// Runs `f(i)` for `i` in `0..n` on up to [`HttpConfig::concurrency`] threads and returns
    /// the results in order. For callers that fetch and then decode (tile sources): decoding
    /// then runs in parallel too, while the client's bound still holds for the requests.
    pub fn map_concurrent<T: Send, F: Fn(usize) -> T + Sync>(&self, n: usize, f: F) -> Vec<T> {
        bounded_map(n, self.config.concurrency, f)
    }

    /// One request, no retry, taking at most `left` (what remains of the request's deadline).
    fn attempt(
        &self,
        request: &HttpRequest,
        left: Duration,
    ) -> std::result::Result<HttpResponse, Failure> {
        self.stats.request();
        let by_deadline = left <= self.config.attempt_deadline;
        let limits = Limits {
            started: Instant::now(),
            limit: left.min(self.config.attempt_deadline),
            by_deadline,
            deadline: self.config.deadline,
            read_timeout: self.config.read_timeout,
        };
        let mut builder = match &request.form {
            None => self.inner.get(&request.url),
            Some(form) => self
                .inner
                .post(&request.url)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form.clone()),
        };
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        // The whole attempt, from connecting to the last byte of the body.
        let builder = builder.timeout(limits.limit);
        let passing = request.passing.clone();
        let cap = self.config.max_body_bytes;
        let outcome = self.runtime.run(async move {
            let response = builder
                .send()
                .await
                .map_err(|e| Failure::sending(e, &limits))?;
            let status = response.status();
            let headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            if !status.is_success() {
                // The start of the body, for the server's `detail`; a failed read leaves it out.
                let start = read_start(response, ERROR_BODY_BYTES).await;
                if passing.contains(&status.as_u16()) {
                    return Ok(HttpResponse {
                        status: status.as_u16(),
                        headers,
                        body: Bytes::from(start),
                    });
                }
                return Err(Failure::status(status, &start));
            }
            let body = read_capped(response, cap, &limits).await?;
            Ok(HttpResponse {
                status: status.as_u16(),
                headers,
                body: Bytes::from(body),
            })
        });
        let response = outcome
            .unwrap_or_else(|| Err(Failure::permanent("the HTTP client's thread has stopped")))?;
        if response.is_success() {
            self.stats.bytes(response.body.len());
        }
        Ok(response)
    }
}
