//! [`Failure`]: why one attempt at a request failed, in words, and whether a retry may help;
//! [`Limits`]: the time limits of one attempt, to tell which one a timeout was.

use crate::error::{chain, Cause};
use std::error::Error as StdError;
use std::time::{Duration, Instant};

/// The outcome of one failed attempt.
#[derive(Debug)]
pub(crate) struct Failure {
    /// What happened (status, timeout, dropped connection, body too large), without the URL.
    pub(crate) message: String,
    /// True when the same request may succeed if sent again.
    pub(crate) retryable: bool,
    /// The HTTP status the server answered, when the failure is one.
    pub(crate) status: Option<u16>,
    /// The HTTP library's error, when the failure is one.
    pub(crate) cause: Option<Cause>,
}

/// The time limits of one attempt.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// When the attempt started.
    pub(crate) started: Instant,
    /// How long it may take in all (the attempt deadline, or what is left of the request's
    /// deadline if that is less).
    pub(crate) limit: Duration,
    /// True when `limit` is what is left of the request's deadline.
    pub(crate) by_deadline: bool,
    /// The request's deadline (for messages).
    pub(crate) deadline: Duration,
    /// The wait allowed between reads (for messages).
    pub(crate) read_timeout: Duration,
}

impl Limits {
    /// True when the attempt has used up its time.
    pub(crate) fn over(&self) -> bool {
        self.started.elapsed() >= self.limit
    }

    /// True when a timeout that fired now was the attempt's limit rather than the wait between
    /// reads (both are timer-driven; the attempt's limit fires at `limit` after the start).
    fn whole_attempt(&self) -> bool {
        self.started.elapsed() + Duration::from_millis(2) >= self.limit
    }

    /// The failure of an attempt that ran out of time with `received` bytes of the body.
    pub(crate) fn attempt_over(&self, received: usize) -> Failure {
        if self.by_deadline {
            Failure::permanent(format!(
                "no complete answer within the request's deadline of {:?} ({received} bytes of the body received)",
                self.deadline
            ))
        } else {
            Failure::transient(format!(
                "the response took longer than {:?} ({received} bytes received)",
                self.limit
            ))
        }
    }
}

impl Failure {
    /// A failure worth retrying.
    pub(crate) fn transient(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retryable: true,
            status: None,
            cause: None,
        }
    }

    /// A failure that a retry cannot fix.
    pub(crate) fn permanent(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retryable: false,
            status: None,
            cause: None,
        }
    }

    /// An unsuccessful HTTP status: 5xx, 408 and 429 are transient, everything else permanent.
    /// The message adds the server's JSON `detail`, if the (start of the) body has one.
    pub(crate) fn status(status: reqwest::StatusCode, body: &[u8]) -> Self {
        let message = super::request::status_message(status, body);
        let mut f = if status.is_server_error()
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            Failure::transient(message)
        } else {
            Failure::permanent(message)
        };
        f.status = Some(status.as_u16());
        f
    }

    /// A failure to send the request or to receive the response headers.
    pub(crate) fn sending(e: reqwest::Error, limits: &Limits) -> Self {
        if e.is_timeout() {
            if limits.whole_attempt() {
                limits.attempt_over(0)
            } else {
                Failure::transient(format!(
                    "timed out after {:?} waiting for the response",
                    limits.read_timeout
                ))
            }
        } else if e.is_builder() {
            Failure::permanent("invalid request").caused_by(e.without_url())
        } else if e.is_connect() {
            Failure::transient("could not connect").caused_by(e.without_url())
        } else {
            Failure::transient("connection dropped before a response").caused_by(e.without_url())
        }
    }

    /// A failure while reading the response body, after `received` bytes of it.
    pub(crate) fn reading_body(e: &reqwest::Error, limits: &Limits, received: usize) -> Self {
        if is_timeout(e) {
            if limits.whole_attempt() {
                limits.attempt_over(received)
            } else {
                Failure::transient(format!(
                    "timed out after {:?} reading the response body",
                    limits.read_timeout
                ))
            }
        } else {
            Failure::transient(format!(
                "connection dropped while reading the response body: {}",
                chain(e)
            ))
        }
    }

    /// This failure with the HTTP library's error as its cause.
    fn caused_by(mut self, cause: reqwest::Error) -> Self {
        self.cause = Some(Box::new(cause));
        self
    }
}

/// True when an error of a body read is (or wraps) a timeout.
fn is_timeout(e: &reqwest::Error) -> bool {
    if e.is_timeout() {
        return true;
    }
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return true;
            }
        }
        if s.downcast_ref::<reqwest::Error>()
            .is_some_and(|r| r.is_timeout())
        {
            return true;
        }
        source = s.source();
    }
    false
}
