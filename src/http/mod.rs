//! A robust blocking HTTP client for chunk sources that live on servers.
//!
//! [`HttpClient`] wraps one `reqwest` connection pool and adds what reading array chunks over a
//! network needs: timeouts (connect, each read, each attempt, and one deadline for the whole
//! request across its retries), bounded retries with exponential backoff and jitter, a cap on
//! response size, a client-wide bound on requests in flight, batch fetches that run
//! concurrently ([`HttpClient::fetch_many`]) and statistics ([`HttpStats`]). Besides plain GETs,
//! [`HttpClient::send`] takes an [`HttpRequest`] (extra headers such as a cookie, a form POST,
//! statuses let through) and answers an [`HttpResponse`] with the response headers. Every
//! error is an [`crate::Error::Http`] naming the URL and what happened.
//!
//! The client needs the `http` feature (reqwest, tokio); without it this module keeps its knobs
//! ([`HttpConfig`], which [`crate::OpenOptions`] carries), [`bounded_map`] and the in-flight
//! bound the caching proxy shares.
//!
//! Modules: `config` (the knobs), `client` (one request with retries), `runtime` (the thread
//! that runs requests), `request` (requests and responses), `body` (reading a capped body),
//! `failure` (classifying what went wrong),
//! `backoff` (retry delays), `limiter` (the in-flight bound), `concurrent` (bounded parallel
//! map) and `stats` (counters).
//!
//! ```
//! use vastarray::http::{HttpClient, HttpConfig};
//! // Nothing listens on port 9 of this machine: a clear error naming the URL, no panic.
//! let client = HttpClient::new(HttpConfig { max_retries: 0, ..Default::default() }).unwrap();
//! let e = client.get("http://127.0.0.1:9/tile.png").unwrap_err();
//! assert!(e.to_string().starts_with("http://127.0.0.1:9/tile.png: "), "{e}");
//! assert_eq!(e.http_status(), None);
//! ```

#[cfg(feature = "http")]
mod backoff;
#[cfg(feature = "http")]
mod body;
#[cfg(feature = "http")]
mod client;
mod concurrent;
mod config;
#[cfg(feature = "http")]
mod failure;
#[cfg(any(feature = "http", feature = "b2nd"))]
mod limiter;
#[cfg(feature = "http")]
mod request;
#[cfg(feature = "http")]
mod runtime;
#[cfg(feature = "http")]
mod stats;

#[cfg(feature = "http")]
pub use backoff::backoff_delay;
#[cfg(feature = "http")]
pub use client::{install_tls_provider, HttpClient};
pub use concurrent::bounded_map;
pub use config::{HttpConfig, DEFAULT_DEADLINE};
#[cfg(feature = "http")]
pub use request::{HttpRequest, HttpResponse};
#[cfg(feature = "http")]
pub use stats::HttpStats;

#[cfg(feature = "b2nd")]
pub(crate) use limiter::Limiter;
#[cfg(feature = "caterva2")]
pub(crate) use request::percent_encode;
