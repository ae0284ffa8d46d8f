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
//!
//! ```
//! use std::sync::Arc;
//! use vastarray::http::{HttpClient, HttpConfig};
//! use vastarray::io::tiles::{tile_pyramid, TileFormat};
//! use vastarray::tileserver::{tile_pixel, TileServer, TileServerConfig};
//! let server = TileServer::start(TileServerConfig::default()).unwrap();
//! let client = Arc::new(HttpClient::new(HttpConfig::default()).unwrap());
//! // Zoom 5: 1024 tiles of 256 x 256 RGB, one lazy array; nothing is requested yet.
//! let level = tile_pyramid(&server.url_template(TileFormat::Png), 5, [256, 256, 3], client).unwrap();
//! assert_eq!(level.shape(), &[8192, 8192, 3]);
//! let px = level.select_str("300:310, 5000:5300").unwrap().ndarray().unwrap().into_typed::<u8>().unwrap();
//! assert_eq!(server.stats().total_requests, 2, "two tiles touched");
//! assert_eq!(px[[0, 0, 1]], tile_pixel(5, 5000 / 256, 300 / 256, 300 % 256, 5000 % 256)[1]);
//! ```

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
