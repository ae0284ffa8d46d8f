//! [`TileServerConfig`]: what the embedded tile server serves and which faults it injects.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;
use vastarray::dtype::DType;

/// The address of one tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Zoom level.
    pub z: u32,
    /// Tile column.
    pub x: u64,
    /// Tile row.
    pub y: u64,
}

impl TileId {
    /// The tile at zoom `z`, column `x`, row `y`.
    pub fn new(z: u32, x: u64, y: u64) -> Self {
        TileId { z, x, y }
    }
}

/// What a [`super::TileServer`] serves, how slowly, and how it misbehaves. Faults are
/// deterministic so tests can predict every request's fate. For the n-th request of a path
/// (counting from 1) they apply in this order: `drop_first`, `fail_first`, `fail_every`,
/// `always_fail`, `not_found`, `wrong_size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TileServerConfig {
    /// Tiles are `tile_size` x `tile_size` pixels.
    pub tile_size: usize,
    /// Channels of every tile: 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA); JPEG tiles
    /// drop alpha.
    pub channels: usize,
    /// Element type of `.npy` tiles.
    pub npy_dtype: DType,
    /// Deepest zoom served; deeper tiles, and x or y outside `0..2^z`, are 404.
    pub max_zoom: u32,
    /// Time every request waits before it is answered.
    pub latency: Duration,
    /// Pause before sending each KiB of a body (a server that trickles; zero: off).
    pub trickle: Duration,
    /// Close the connection without an answer for the first N requests of each path.
    pub drop_first: u32,
    /// Answer 500 to the next N requests of each path (after the dropped ones).
    pub fail_first: u32,
    /// Answer 500 to every k-th request of the server (0: never).
    pub fail_every: u64,
    /// Tiles that always answer 500.
    pub always_fail: HashSet<TileId>,
    /// Tiles that answer 404.
    pub not_found: HashSet<TileId>,
    /// Tiles served at half the size (a server that lies).
    pub wrong_size: HashSet<TileId>,
    /// Send bodies without `Content-Length`, ending them by closing the connection.
    pub omit_content_length: bool,
    /// Tile rows in paths count from the bottom (TMS numbering): `/{z}/{x}/{row}` serves the
    /// tile whose XYZ row is `2^z - 1 - row`.
    pub tms: bool,
    /// Serve the files under this directory (a tile pyramid on disk, as gdal2tiles writes
    /// one) instead of generated tiles: a path names a file below it, an absent file is 404.
    /// Latency, `drop_first` and `fail_first` still apply; tile faults do not.
    pub root: Option<PathBuf>,
}

impl Default for TileServerConfig {
    fn default() -> Self {
        TileServerConfig {
            tile_size: 256,
            channels: 3,
            npy_dtype: DType::F32,
            max_zoom: 22,
            latency: Duration::ZERO,
            trickle: Duration::ZERO,
            drop_first: 0,
            fail_first: 0,
            fail_every: 0,
            always_fail: HashSet::new(),
            not_found: HashSet::new(),
            wrong_size: HashSet::new(),
            omit_content_length: false,
            tms: false,
            root: None,
        }
    }
}
