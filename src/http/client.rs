//! [`HttpClient`]: one shared connection pool with retries, a size cap and bounded concurrency,
//! for GETs and form POSTs with extra headers.

use super::body::{read_capped, BodyLimits};
use super::concurrent::bounded_map;
use super::config::HttpConfig;
use super::failure::Failure;
use super::limiter::Limiter;
use super::request::{HttpRequest, HttpResponse};
use super::stats::{HttpStats, StatsCounters};
use crate::error::{Error, Result};
use bytes::Bytes;
use reqwest::header::CONTENT_TYPE;
use std::io::Read;
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

/// Bytes of an unsuccessful response's body kept (for the server's `detail` message).
const ERROR_BODY_BYTES: u64 = 4096;

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
    /// ([`HttpRequest::passing`]). Any other outcome is an error naming the URL.
    pub fn send(&self, request: &HttpRequest) -> Result<HttpResponse> {
        let mut retry = 0u32;
        loop {
            let attempt = {
                let _permit = self.limiter.acquire();
                self.attempt(request)
            };
            match attempt {
                Ok(response) => return Ok(response),
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
                        url: request.url.clone(),
                        message,
                    });
                }
            }
        }
    }

    /// The error for a `response` to `url` whose status was let through
    /// ([`HttpRequest::passing`]) but that the caller cannot use after all, counted as a failed
    /// call: [`HttpResponse::status_message`] followed by `note` (which may be empty).
    pub fn refused(&self, url: &str, response: &HttpResponse, note: &str) -> Error {
        self.stats.failure();
        Error::Http {
            url: url.to_string(),
            message: format!("{}{note}", response.status_message()),
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
    fn attempt(&self, request: &HttpRequest) -> std::result::Result<HttpResponse, Failure> {
        self.stats.request();
        let started = Instant::now();
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
        let mut response = builder
            .send()
            .map_err(|e| Failure::sending(e, self.config.read_timeout))?;
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
            let mut start = Vec::new();
            let _ = (&mut response)
                .take(ERROR_BODY_BYTES)
                .read_to_end(&mut start);
            if request.passing.contains(&status.as_u16()) {
                return Ok(HttpResponse {
                    status: status.as_u16(),
                    headers,
                    body: Bytes::from(start),
                });
            }
            return Err(Failure::status(status, &start));
        }
        let limits = BodyLimits {
            cap: self.config.max_body_bytes,
            deadline: started.checked_add(self.config.attempt_deadline),
            read_timeout: self.config.read_timeout,
            attempt_deadline: self.config.attempt_deadline,
        };
        let body = read_capped(&mut response, &limits)?;
        self.stats.bytes(body.len());
        Ok(HttpResponse {
            status: status.as_u16(),
            headers,
            body: Bytes::from(body),
        })
    }
}
