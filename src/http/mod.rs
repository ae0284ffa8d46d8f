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
//! Modules: `config` (the knobs), `client` (one request with retries), `runtime` (the thread
//! that runs requests), `request` (requests and responses), `body` (reading a capped body),
//! `failure` (classifying what went wrong),
//! `backoff` (retry delays), `limiter` (the in-flight bound), `concurrent` (bounded parallel
//! map) and `stats` (counters).

mod backoff;
mod body;
mod client;
mod concurrent;
mod config;
mod failure;
mod limiter;
mod request;
mod runtime;
mod stats;

pub use backoff::backoff_delay;
pub use client::HttpClient;
pub use concurrent::bounded_map;
pub use config::{HttpConfig, DEFAULT_DEADLINE};
pub use request::{HttpRequest, HttpResponse};
pub use stats::HttpStats;

pub(crate) use limiter::Limiter;
pub(crate) use request::percent_encode;
