//! Remote arrays from tile sources: a zoom level of a slippy-map pyramid as one lazy array
//! ([`tile_pyramid`], [`cached_tile_pyramid`]), or, explicitly, as a mosaic of mosaics of
//! one-tile views ([`tile_mosaic`]).
//!
//! A level is one source chunked by tile, so the array has one node however many tiles the
//! level holds (zoom 9 has 262,144), and the chunks a pass needs reach the level's batch read
//! ([`ChunkSource::read_chunks`]) together: all requests in flight at once, within the client's
//! bound, with no object per tile.

use super::{TileFormat, TileLayout, TileLevelConfig, TileLevelSource, TileView, UrlTemplate};
use crate::error::{Error, Result};
use crate::graph::DynArray;
use crate::http::HttpClient;
#[cfg(feature = "b2nd")]
use crate::proxy::{MemoryPool, Proxy};
use crate::source::ChunkSource;
#[cfg(feature = "b2nd")]
use std::path::PathBuf;
use std::sync::Arc;

/// A zoom level as a LinearMosaic (rows) of LinearMosaics (tiles), one [`TileView`] leaf per
/// chunk of `level` (a 3-d source chunked by tile, such as a [`TileLevelSource`], or a
/// caching proxy in front of one). Building it makes no request; a selection of it reaches
/// only the tiles it touches. It builds one view per tile: for small levels, or to join tiles
/// of different sources; [`tile_pyramid`] reads a whole level without them.
pub fn tile_mosaic(level: Arc<dyn ChunkSource>) -> Result<DynArray> {
    let grid = level.grid().grid_shape();
    if grid.len() != 3 || grid[2] != 1 {
        return Err(Error::Shape(format!(
            "{}: a tile level must be 3-d with one chunk along its last axis, not a grid of {:?}",
            level.name(),
            grid
        )));
    }
    let rows = (0..grid[0])
        .map(|y| {
            let tiles = (0..grid[1])
                .map(|x| Ok(DynArray::from_source(TileView::new(level.clone(), y, x)?)))
                .collect::<Result<Vec<_>>>()?;
            DynArray::concatenate(&tiles, 1)
        })
        .collect::<Result<Vec<_>>>()?;
    DynArray::concatenate(&rows, 0)
}

/// The zoom level `z` of the tile pyramid served at `template` (`{z}`, `{x}`, `{y}`, optional
/// `{s}`) as one lazy array of shape `(2^z * h, 2^z * w, c)` chunked by tile (one node, no
/// object per tile). Tiles are PNG (`h`, `w`, `c` from `tile_shape`), fetched through `client`
/// when a result needs them, all the tiles of a pass at once.
pub fn tile_pyramid(
    template: &str,
    z: u32,
    tile_shape: [usize; 3],
    client: Arc<HttpClient>,
) -> Result<DynArray> {
    Ok(DynArray::from_source_arc(level_source(
        template, z, tile_shape, client,
    )?))
}

fn level_source(
    template: &str,
    z: u32,
    tile_shape: [usize; 3],
    client: Arc<HttpClient>,
) -> Result<Arc<dyn ChunkSource>> {
    let mut cfg = TileLevelConfig::new(UrlTemplate::new(template)?, z);
    cfg.format = TileFormat::Png;
    cfg.layout = TileLayout {
        height: tile_shape[0],
        width: tile_shape[1],
        channels: tile_shape[2],
        dtype: crate::DType::U8,
    };
    Ok(Arc::new(TileLevelSource::new(client, cfg)?))
}

/// Where tiles of a pyramid are cached (the proxy needs the `b2nd` feature).
#[cfg(feature = "b2nd")]
#[derive(Clone, Default)]
pub struct TileCache {
    /// A persistent `.b2nd` cache file (python-blosc2 can open it); reopening it serves every
    /// tile fetched before without a request.
    pub file: Option<PathBuf>,
    /// A shared memory pool of compressed tiles.
    pub pool: Option<Arc<MemoryPool>>,
}

/// Like [`tile_pyramid`], with every tile read through a caching [`Proxy`] (compressed tiles in
/// a memory pool and, if asked, a persistent cache file). Returns the array and the proxy (for
/// its statistics: tiles read from the server, from memory, from the file).
#[cfg(feature = "b2nd")]
pub fn cached_tile_pyramid(
    template: &str,
    z: u32,
    tile_shape: [usize; 3],
    client: Arc<HttpClient>,
    cache: &TileCache,
) -> Result<(DynArray, Arc<Proxy>)> {
    let mut b = Proxy::builder(level_source(template, z, tile_shape, client)?);
    if let Some(f) = &cache.file {
        b = b.cache_file(f.clone());
    }
    if let Some(p) = &cache.pool {
        b = b.memory_pool(p.clone());
    }
    let proxy = Arc::new(b.open()?);
    let as_source: Arc<dyn ChunkSource> = proxy.clone();
    Ok((DynArray::from_source_arc(as_source), proxy))
}
