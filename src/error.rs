//! The one error type of the crate. Every fallible call returns [`Result`].
//!
//! Errors say *what* went wrong and *where*: which source, which chunk, which URL or file.
//!
//! ```
//! use vastarray::{DynArray, Error};
//! let a = DynArray::from_ndarray(ndarray::Array2::<f32>::zeros((3, 4)).into_dyn(), &[3, 4]).unwrap();
//! match a.select_str("5, :") {
//!     Err(Error::Index(message)) => assert!(message.contains("5"), "{message}"),
//!     other => panic!("{:?}", other.map(|a| a.shape().to_vec())),
//! }
//! ```

use std::path::PathBuf;

/// The lower-level error an [`Error`] was caused by (an I/O error, the HTTP library's error,
/// HDF5's, Zarr's, or another [`Error`]), as [`std::error::Error::source`] returns it.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

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
    #[error("reading {source_name}{}: {message}{}", chunk.as_ref().map(|c| format!(" chunk {c:?}")).unwrap_or_default(), because(cause))]
    Read {
        /// The source's description (file and dataset, URL, ...).
        source_name: String,
        /// The chunk index in the source's chunk grid, if the failure concerns one chunk.
        chunk: Option<Vec<usize>>,
        /// What went wrong.
        message: String,
        /// The lower-level error, if any ([`std::error::Error::source`]).
        #[source]
        cause: Option<Cause>,
    },
    /// A file could not be opened, read or written.
    #[error("{path}: {message}{}", because(cause))]
    File {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        message: String,
        /// The lower-level error, if any ([`std::error::Error::source`]).
        #[source]
        cause: Option<Cause>,
    },
    /// An HTTP request failed or returned something that is not what was asked for.
    #[error("{url}: {message}{}", because(cause))]
    Http {
        /// The URL requested.
        url: String,
        /// What went wrong (status, timeout, bad body).
        message: String,
        /// The HTTP status of the server's answer, when the failure is one (404, 503, ...).
        status: Option<u16>,
        /// The lower-level error, if any ([`std::error::Error::source`]).
        #[source]
        cause: Option<Cause>,
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

/// `": {cause}: {its cause}..."`, or nothing: how a message ends with its causes' text.
fn because(cause: &Option<Cause>) -> String {
    match cause {
        Some(c) => format!(": {}", chain(c.as_ref())),
        None => String::new(),
    }
}

/// An error and its sources, joined by `": "`, skipping a source whose text repeats the one
/// before it.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
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
            cause: None,
        }
    }

    /// An [`Error::Http`] about `url` that is not an HTTP status (a bad body, a timeout).
    pub fn http(url: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Error::Http {
            url: url.into(),
            message: message.to_string(),
            status: None,
            cause: None,
        }
    }

    /// An [`Error::Http`] about `url` for the HTTP status `status` of the server's answer.
    pub fn http_with_status(
        url: impl Into<String>,
        status: u16,
        message: impl std::fmt::Display,
    ) -> Self {
        Error::Http {
            url: url.into(),
            message: message.to_string(),
            status: Some(status),
            cause: None,
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
            cause: None,
        }
    }

    /// This error with `cause` as its [`source`](std::error::Error::source), for a
    /// [`Error::Read`], [`Error::File`] or [`Error::Http`] (any other error is returned as it
    /// is). Write the message without the cause's text: the error's message is its own words
    /// followed by the cause's, so printing the error alone says everything, and `source()`
    /// gives the cause itself (an [`std::io::Error`] and its kind, say).
    ///
    /// ```
    /// use vastarray::Error;
    /// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
    /// let e = Error::file("/data/x.h5", "cannot open").caused_by(io);
    /// assert_eq!(e.to_string(), "/data/x.h5: cannot open: no such file");
    /// let cause = std::error::Error::source(&e).unwrap();
    /// let io = cause.downcast_ref::<std::io::Error>().unwrap();
    /// assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    /// ```
    pub fn caused_by(mut self, cause: impl Into<Cause>) -> Self {
        match &mut self {
            Error::Read { cause: c, .. }
            | Error::File { cause: c, .. }
            | Error::Http { cause: c, .. } => *c = Some(cause.into()),
            _ => {}
        }
        self
    }

    /// The same kind of error, its message preceded by `context` (`"axis 2"`), so that a
    /// message that passes up through a caller keeps one kind prefix ("index error: axis 2:
    /// step 0 ...", never "index error: axis 2: index error: ...").
    pub fn context(self, context: impl std::fmt::Display) -> Self {
        let pre = |m: String| format!("{context}: {m}");
        match self {
            Error::Shape(m) => Error::Shape(pre(m)),
            Error::Axis(m) => Error::Axis(pre(m)),
            Error::Index(m) => Error::Index(pre(m)),
            Error::DType(m) => Error::DType(pre(m)),
            Error::Invalid(m) => Error::Invalid(pre(m)),
            Error::Budget(m) => Error::Budget(pre(m)),
            Error::Internal(m) => Error::Internal(pre(m)),
            Error::Read {
                source_name,
                chunk,
                message,
                cause,
            } => Error::Read {
                source_name,
                chunk,
                message: pre(message),
                cause,
            },
            Error::File {
                path,
                message,
                cause,
            } => Error::File {
                path,
                message: pre(message),
                cause,
            },
            Error::Http {
                url,
                message,
                status,
                cause,
            } => Error::Http {
                url,
                message: pre(message),
                status,
                cause,
            },
            Error::Cache { path, message } => Error::Cache {
                path,
                message: pre(message),
            },
            Error::Io(e) => Error::Io(std::io::Error::new(e.kind(), pre(e.to_string()))),
            Error::Rank { rank, message } => Error::Rank {
                rank,
                message: pre(message),
            },
        }
    }
}
