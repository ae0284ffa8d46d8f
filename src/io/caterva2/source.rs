//! [`Caterva2Source`]: a dataset on a Caterva2 server as a lazy chunk source.

use super::client::{chunk_endpoint, Caterva2Client, Credentials};
use super::info::Caterva2Info;
use super::url::{normalize_path, parse_c2_url};
use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::http::HttpConfig;
use crate::io::b2nd::{decode_chunk, ChunkLayout};
use crate::source::ChunkSource;
use std::sync::Arc;

/// An n-dimensional Blosc2 array on a Caterva2 server (python-blosc2's `C2Array`), read chunk
/// by chunk.
///
/// Opening asks `api/info/{path}` for the shape, chunk and block shapes and element type;
/// each chunk is one `api/chunk/{path}?nchunk=N` request (chunks numbered in C order of the
/// chunk grid), decoded with Blosc2 (blocks reordered, padding of edge chunks dropped).
/// [`ChunkSource::read_chunks`] fetches and decodes concurrently, up to the client's bound.
///
/// ```no_run
/// use vastarray::io::caterva2::{Caterva2Source, Credentials};
/// use vastarray::DynArray;
/// let src = Caterva2Source::open("http://127.0.0.1:8000", "@public/x.b2nd", None).unwrap();
/// let all = DynArray::from_source(src).ndarray().unwrap();
/// let login = Some(Credentials::new("user@example.com", "secret"));
/// let private = Caterva2Source::open_url("c2+http://127.0.0.1:8000/@shared/y.b2nd", login);
/// ```
pub struct Caterva2Source {
    client: Arc<Caterva2Client>,
    path: String,
    info: Caterva2Info,
    layout: ChunkLayout,
    identity: String,
}

impl Caterva2Source {
    /// Opens dataset `path` (such as `@public/x.b2nd`) on the server at `base_url`, logging in
    /// first when credentials are given. Uses the default [`HttpConfig`].
    pub fn open(base_url: &str, path: &str, credentials: Option<Credentials>) -> Result<Self> {
        let client = Caterva2Client::new(base_url, credentials, HttpConfig::default())?;
        Self::with_client(Arc::new(client), path)
    }

    /// Opens a `c2+http://HOST:PORT/@ROOT/NAME` URL (the CLI's form; see
    /// [`super::parse_c2_url`]).
    pub fn open_url(url: &str, credentials: Option<Credentials>) -> Result<Self> {
        let (base, path) = parse_c2_url(url)?;
        Self::open(&base, &path, credentials)
    }

    /// Opens dataset `path` through an existing client (sharing its connections, login and
    /// statistics with other sources).
    pub fn with_client(client: Arc<Caterva2Client>, path: &str) -> Result<Self> {
        let path = normalize_path(path)?;
        let (info, fetched) = client.info(&path)?;
        let layout = info
            .layout()
            .map_err(|e| Error::http(format!("{}api/info/{path}", client.base_url()), e))?;
        let mut identity = format!("caterva2:{}{path}", client.base_url());
        for (key, value) in [
            ("etag", &fetched.etag),
            ("last-modified", &fetched.last_modified),
            ("mtime", &info.mtime),
        ] {
            if let Some(v) = value {
                identity.push_str(&format!("|{key}={v}"));
            }
        }
        Ok(Caterva2Source {
            client,
            path,
            info,
            layout,
            identity,
        })
    }

    /// The client (for its statistics, or to open more datasets on the same server).
    pub fn client(&self) -> &Arc<Caterva2Client> {
        &self.client
    }

    /// The dataset path, such as `@public/x.b2nd`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What the server said about the dataset.
    pub fn info(&self) -> &Caterva2Info {
        &self.info
    }

    /// The block shape inside a chunk.
    pub fn block_shape(&self) -> &[usize] {
        &self.info.blocks
    }

    /// The linear chunk number of a grid index, or an error naming it.
    fn nchunk(&self, index: &[usize]) -> Result<usize> {
        self.grid()
            .checked_linear_index(index)
            .map_err(|e| Error::read(self.name(), Some(index), e))
    }
}

impl ChunkSource for Caterva2Source {
    fn shape(&self) -> &[usize] {
        &self.info.shape
    }
    fn dtype(&self) -> DType {
        self.info.dtype
    }
    fn chunk_shape(&self) -> &[usize] {
        &self.info.chunks
    }
    fn name(&self) -> String {
        format!("c2+{}{}", self.client.base_url(), self.path)
    }
    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        let n = self.nchunk(index)?;
        let raw = self
            .client
            .chunk(&self.path, n)
            .map_err(|e| Error::read(self.name(), Some(index), format!("nchunk {n}: {e}")))?;
        let extent = self.grid().chunk_extent(index);
        decode_chunk(&raw, &self.layout, &extent).map_err(|e| {
            let url = format!(
                "{}{}",
                self.client.base_url(),
                chunk_endpoint(&self.path, n)
            );
            Error::read(
                self.name(),
                Some(index),
                format!("nchunk {n}: {url}: not a valid chunk: {e}"),
            )
        })
    }
    fn read_chunks(&self, indices: &[Vec<usize>]) -> Result<Vec<NdData>> {
        for index in indices {
            self.nchunk(index)?;
        }
        self.client
            .map_concurrent(indices.len(), |i| self.read_chunk(&indices[i]))
            .into_iter()
            .collect()
    }
    fn latency_bound(&self) -> bool {
        true
    }
    fn identity(&self) -> Option<String> {
        Some(self.identity.clone())
    }
    fn blosc2_blocks(&self) -> Option<&[usize]> {
        Some(&self.info.blocks)
    }
    /// The chunk as the server sent it (checked when the proxy decodes it once).
    fn read_chunk_blosc2(&self, index: &[usize]) -> Option<Result<Vec<u8>>> {
        Some(self.nchunk(index).and_then(|n| {
            self.client
                .chunk(&self.path, n)
                .map(|raw| raw.to_vec())
                .map_err(|e| {
                    Error::read(self.name(), Some(index), format!("nchunk {n}")).caused_by(e)
                })
        }))
    }
}
