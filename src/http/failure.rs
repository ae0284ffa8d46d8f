//! [`Failure`]: why one attempt at a request failed, in words, and whether a retry may help.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

/// The outcome of one failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// What happened (status, timeout, dropped connection, body too large), without the URL.
    pub(crate) message: String,
    /// True when the same request may succeed if sent again.
    pub(crate) retryable: bool,
}

impl Failure {
    /// A failure worth retrying.
    pub(crate) fn transient(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retryable: true,
        }
    }

    /// A failure that a retry cannot fix.
    pub(crate) fn permanent(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retryable: false,
        }
    }

    /// An unsuccessful HTTP status: 5xx, 408 and 429 are transient, everything else permanent.
    /// The message adds the server's JSON `detail`, if the (start of the) body has one.
    pub(crate) fn status(status: reqwest::StatusCode, body: &[u8]) -> Self {
        let message = super::request::status_message(status, body);
        if status.is_server_error()
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            Failure::transient(message)
        } else {
            Failure::permanent(message)
        }
    }

    /// A failure to send the request or to receive the response headers.
    pub(crate) fn sending(e: reqwest::Error, read_timeout: Duration) -> Self {
        if e.is_timeout() {
            Failure::transient(format!(
                "timed out after {read_timeout:?} waiting for the response"
            ))
        } else if e.is_builder() {
            Failure::permanent(format!("invalid request: {}", chain(&e.without_url())))
        } else if e.is_connect() {
            Failure::transient(format!("could not connect: {}", chain(&e.without_url())))
        } else {
            Failure::transient(format!(
                "connection dropped before a response: {}",
                chain(&e.without_url())
            ))
        }
    }

    /// A failure while reading the response body.
    pub(crate) fn reading_body(e: &io::Error, read_timeout: Duration) -> Self {
        if is_timeout(e) {
            Failure::transient(format!(
                "timed out after {read_timeout:?} reading the response body"
            ))
        } else {
            Failure::transient(format!(
                "connection dropped while reading the response body: {}",
                chain(e)
            ))
        }
    }
}

/// True when an I/O error from a body read is (or wraps) a timeout.
fn is_timeout(e: &io::Error) -> bool {
    if matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) {
        return true;
    }
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
        .is_some_and(|r| r.is_timeout())
}

/// An error and its sources, joined by ": ", skipping repeats.
fn chain(e: &dyn StdError) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
