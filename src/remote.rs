//! Remote arrays assembled from sources: slippy-map tile pyramids as mosaics of mosaics.

use crate::error::{Error, Result};
use crate::graph::DynArray;
use crate::http::HttpClient;
use crate::source::tiles::{
    TileFormat, TileLayout, TileLevelConfig, TileLevelSource, TileView, UrlTemplate,
};
use crate::source::ChunkSource;
use std::sync::Arc;

/// A zoom level as a LinearMosaic (rows) of LinearMosaics (tiles), one [`TileView`] leaf per
/// chunk of `level` (a 3-d source chunked by tile, such as a [`TileLevelSource`], or a
/// caching proxy in front of one). Building it makes no request; a selection of it reaches
/// only the tiles it touches.
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
/// `{s}`) as one lazy array of shape `(2^z * h, 2^z * w, c)`, built as a mosaic of mosaics.
/// Tiles are PNG (`h`, `w`, `c` from `tile_shape`), fetched through `client` when a result needs
/// them.
pub fn tile_pyramid(
    template: &str,
    z: u32,
    tile_shape: [usize; 3],
    client: Arc<HttpClient>,
) -> Result<DynArray> {
    let mut cfg = TileLevelConfig::new(UrlTemplate::new(template)?, z);
    cfg.format = TileFormat::Png;
    cfg.layout = TileLayout {
        height: tile_shape[0],
        width: tile_shape[1],
        channels: tile_shape[2],
        dtype: crate::DType::U8,
    };
    let level: Arc<dyn ChunkSource> = Arc::new(TileLevelSource::new(client, cfg)?);
    tile_mosaic(level)
}
