//! Slippy-map tiles over HTTP as lazy sources.
//!
//! A [`UrlTemplate`] names tile (z, x, y); a [`TileLevelSource`] is one whole zoom level as a
//! chunked array, one chunk per tile, fetched through a shared [`crate::http::HttpClient`] and
//! decoded by [`decode_tile`] (PNG, JPEG, `.npy`); a [`TileView`] is one tile of it as a
//! source of its own, for mosaics built of many leaves.

mod decode;
mod level;
mod pyramid;
mod template;
mod view;

pub use decode::{decode_tile, TileFormat, TileLayout};
pub use level::{MissingTiles, TileLevelConfig, TileLevelSource, MAX_ZOOM};
pub use pyramid::{cached_tile_pyramid, tile_mosaic, tile_pyramid, TileCache};
pub use template::UrlTemplate;
pub use view::TileView;
