//! Slippy-map tiles over HTTP as lazy sources.
//!
//! A [`UrlTemplate`] names tile (z, x, y); a [`TileLevelSource`] is one whole zoom level as a
//! chunked array, one chunk per tile, fetched through a shared [`crate::http::HttpClient`] and
//! decoded by [`decode_tile`] (PNG, JPEG, WebP, `.npy`); a [`TileView`] is one tile of it as a
//! source of its own, for mosaics built of many leaves. [`tile_pyramid`] opens a level as one
//! array (no object per tile), [`tile_mosaic`] assembles one from one-tile views
//! (`pyramid.rs`); `cached_tile_pyramid` (with the `b2nd` feature) puts the caching proxy in
//! between. [`mercator`] has the Web Mercator geometry of
//! XYZ levels (a longitude/latitude box to pixels, world files), [`colour`] the conversions of
//! decoded pictures (alpha compositing, Rec. 601 grey).
//!
//! JPEG tiles decode within a few units of libjpeg's values, not bit for bit: see
//! [`decode_tile`]'s module notes (`decode.rs`).

pub mod colour;
mod decode;
mod level;
pub mod mercator;
mod pyramid;
mod template;
mod view;

pub use decode::{decode_tile, luma601, TileFormat, TileLayout};
pub use level::{MissingTiles, TileLevelConfig, TileLevelSource, MAX_ZOOM};
#[cfg(feature = "b2nd")]
pub use pyramid::{cached_tile_pyramid, TileCache};
pub use pyramid::{tile_mosaic, tile_pyramid};
pub use template::UrlTemplate;
pub use view::TileView;
