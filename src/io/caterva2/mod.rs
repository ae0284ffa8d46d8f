//! Caterva2 servers: datasets served by a Caterva2 server, read as lazy chunk sources (the Rust
//! counterpart of python-blosc2's `C2Array`).
//!
//! [`Caterva2Source`] reads one dataset (`@public/x.b2nd`, `@shared/...`, `@personal/...`);
//! [`Caterva2Client`] makes the calls (`api/roots`, `api/info`, `api/chunk`, the optional login
//! with [`Credentials`]) and can be shared by several sources; [`Caterva2Info`] is the parsed
//! metadata; [`parse_c2_url`] reads the CLI's `c2+http://HOST:PORT/@ROOT/NAME` form.
//!
//! Modules: `url` (base URLs, paths, encodings), `info` (`api/info`), `client` (requests,
//! retries, login cookie, in-flight bound through the HTTP layer's limiter) and `source` (the
//! chunk source).
//!
//! ```no_run
//! // Against a running server (`cat2-server`, see the README).
//! use vastarray::{Caterva2Source, DynArray};
//! let src = Caterva2Source::open_url("c2+http://localhost:8000/@public/examples/ds-1d.b2nd", None)?;
//! let a = DynArray::from_source(src);
//! println!("{:?}", a.select_str("::10")?.mean(0)?.ndarray()?);
//! # Ok::<(), vastarray::Error>(())
//! ```

mod client;
mod info;
mod source;
mod url;

pub use client::{Caterva2Client, Credentials, Fetched};
pub use info::Caterva2Info;
pub use source::Caterva2Source;
pub use url::parse_c2_url;
