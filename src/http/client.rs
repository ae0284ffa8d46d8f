//! [`HttpClient`]: one shared connection pool with retries, a size cap and bounded concurrency.

use super::body::{read_capped, BodyLimits};
use super::concurrent::bounded_map;
use super::config::HttpConfig;
use super::failure::Failure;
use super::limiter::Limiter;
use super::stats::{HttpStats, StatsCounters};
use crate::error::{Error, Result};
use bytes::Bytes;
use std::time::Instant;

/// A blocking HTTP client for fetching chunks: one connection pool shared by every caller
/// (wrap it in an `Arc`), with timeouts, retries, a response size cap, a bound on requests in
/// flight and statistics. See [`HttpConfig`] for the knobs.
#[derive(Debug)]
pub struct HttpClient {
    inner: reqwest::blocking::Client,
    config: HttpConfig,
    limiter: Limiter,
    stats: StatsCounters,
}

/// The successful outcome of one attempt.
enum Answer {
    Body(Bytes),
    NotFound,
}

impl HttpClient {
    /// A client with the given configuration. Makes no request.
    pub fn new(config: HttpConfig) -> Result<Self> {
        let inner = reqwest::blocking::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.read_timeout)
            .user_agent(config.user_agent.clone())
            .retry(reqwest::retry::never())
            .pool_max_idle_per_host(config.concurrency.max(1))
            .build()
            .map_err(|e| Error::Invalid(format!("cannot build the HTTP client: {e}")))?;
        let limiter = Limiter::new(config.concurrency);
        Ok(HttpClient {
            inner,
            config,
            limiter,
            stats: StatsCounters::default(),
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
        match self.fetch(url)? {
            Answer::Body(body) => Ok(body),
            Answer::NotFound => {
                self.stats.failure();
                Err(Error::Http {
                    url: url.to_string(),
                    message: "HTTP 404 Not Found".into(),
                })
            }
        }
    }

    /// GETs `url` and returns its body, or `None` when the server answers 404 Not Found (for
    /// sources that treat a missing object as fill values).
    pub fn get_optional(&self, url: &str) -> Result<Option<Bytes>> {
        match self.fetch(url)? {
            Answer::Body(body) => Ok(Some(body)),
            Answer::NotFound => {
                self.stats.missing();
                Ok(None)
            }
        }
    }

    /// One request with its retries: a body, a 404, or an error naming the URL.
    fn fetch(&self, url: &str) -> Result<Answer> {
        let mut retry = 0u32;
        loop {
            let attempt = {
                let _permit = self.limiter.acquire();
                self.attempt(url)
            };
            match attempt {
                Ok(answer) => return Ok(answer),
                Err(f) if f.retryable && retry < self.config.max_retries => {
                    self.stats.retry();
                    let delay = super::backoff_delay(
                        retry,
                        self.config.backoff_base,
                        self.config.backoff_max,
                    );
                    std::thread::sleep(delay);
                    retry += 1;
                }
                Err(f) => {
                    self.stats.failure();
                    let message = if retry > 0 {
                        format!("{} (gave up after {} attempts)", f.message, retry + 1)
                    } else {
                        f.message
                    };
                    return Err(Error::Http {
                        url: url.to_string(),
                        message,
                    });
                }
            }
        }
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

    /// One request, no retry.
    fn attempt(&self, url: &str) -> std::result::Result<Answer, Failure> {
        self.stats.request();
        let started = Instant::now();
        let mut response = self
            .inner
            .get(url)
            .send()
            .map_err(|e| Failure::sending(e, self.config.read_timeout))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(Answer::NotFound);
        }
        if !status.is_success() {
            return Err(Failure::status(status));
        }
        let limits = BodyLimits {
            cap: self.config.max_body_bytes,
            deadline: started.checked_add(self.config.attempt_deadline),
            read_timeout: self.config.read_timeout,
            attempt_deadline: self.config.attempt_deadline,
        };
        let body = read_capped(&mut response, &limits)?;
        self.stats.bytes(body.len());
        Ok(Answer::Body(Bytes::from(body)))
    }
}
