//! The one error type of the crate. Every fallible call returns [`Result`].
//!
//! Errors say *what* went wrong and *where*: which source, which chunk, which URL or file.

use std::path::PathBuf;

/// Errors raised while building or evaluating arrays, or while reading and writing sources.
///
/// New kinds of error may be added: match with a wildcard arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two shapes that had to agree do not (elementwise operands, mosaic tiles, store targets).
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// An axis number outside `0..ndim`, or repeated where it must be unique.
    #[error("axis error: {0}")]
    Axis(String),
    /// An index or slice that does not fit the axis it selects from (out of range, zero step, bad mask).
    #[error("index error: {0}")]
    Index(String),
    /// An element type that is not supported, or two that cannot be combined.
    #[error("dtype error: {0}")]
    DType(String),
    /// An argument that is not valid for reasons other than shape, axis or index.
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// The plan cannot run inside the memory budget.
    #[error("memory budget exceeded: {0}")]
    Budget(String),
    /// A source failed to deliver a chunk or a region.
    #[error("reading {source_name}{}: {message}", chunk.as_ref().map(|c| format!(" chunk {c:?}")).unwrap_or_default())]
    Read {
        /// The source's description (file and dataset, URL, ...).
        source_name: String,
        /// The chunk index in the source's chunk grid, if the failure concerns one chunk.
        chunk: Option<Vec<usize>>,
        /// What went wrong.
        message: String,
    },
    /// A file could not be opened, read or written.
    #[error("{path}: {message}")]
    File {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An HTTP request failed or returned something that is not what was asked for.
    #[error("{url}: {message}")]
    Http {
        /// The URL requested.
        url: String,
        /// What went wrong (status, timeout, bad body).
        message: String,
        /// The HTTP status of the server's answer, when the failure is one (404, 503, ...).
        status: Option<u16>,
    },
    /// The persistent cache does not match the source it is asked to serve.
    #[error("cache {path}: {message}")]
    Cache {
        /// The cache file.
        path: PathBuf,
        /// What does not match.
        message: String,
    },
    /// An I/O error with no better context.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A bug in vastarray: an invariant that should have held did not.
    #[error("internal error (please report): {0}")]
    Internal(String),
    /// A rank of a distributed run failed (every rank of the run returns this error).
    #[error("rank {rank}: {message}")]
    Rank {
        /// The rank that failed.
        rank: usize,
        /// Its error.
        message: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A [`Error::Read`] for one chunk of a named source.
    pub fn read(
        source_name: impl Into<String>,
        chunk: Option<&[usize]>,
        message: impl std::fmt::Display,
    ) -> Self {
        Error::Read {
            source_name: source_name.into(),
            chunk: chunk.map(|c| c.to_vec()),
            message: message.to_string(),
        }
    }

    /// An [`Error::Http`] about `url` that is not an HTTP status (a bad body, a timeout).
    pub fn http(url: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Error::Http {
            url: url.into(),
            message: message.to_string(),
            status: None,
        }
    }

    /// The HTTP status of the answer this error is about, if it is an [`Error::Http`] for one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => *status,
            _ => None,
        }
    }

    /// A [`Error::File`] for a path.
    pub fn file(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Error::File {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
