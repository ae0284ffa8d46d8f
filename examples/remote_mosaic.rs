//! A region of a zoom-9 slippy-map pyramid, drawn to a PNG through the tile cache.
//!
//! `cargo run --release --example remote_mosaic [TEMPLATE]`
//!
//! Without a template it starts the embedded tile server on 127.0.0.1 (generated tiles), so
//! it needs no network. It builds the level as a mosaic of mosaics (no request), slices
//! `[54600:55000, 59300:59850]`, writes `demo-output/region.png`, and prints how many tiles
//! came from the server and how many from the cache; then draws again: nothing is requested.

use std::sync::Arc;
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::io::tiles::TileFormat;
use vastarray::io::tiles::{cached_tile_pyramid, TileCache};
use vastarray::tileserver::{TileServer, TileServerConfig};

fn main() -> vastarray::Result<()> {
    let out = std::path::Path::new("demo-output");
    std::fs::create_dir_all(out)?;
    let server;
    let template = match std::env::args().nth(1) {
        Some(t) => t,
        None => {
            server = TileServer::start(TileServerConfig::default())?;
            println!("tile server on {}", server.base_url());
            server.url_template(TileFormat::Png)
        }
    };
    let cache_path = out.join("z9-tiles.b2nd");
    let _ = std::fs::remove_file(&cache_path);
    let cache = TileCache {
        file: Some(cache_path.clone()),
        pool: None,
    };
    for run in 1..=2 {
        let client = Arc::new(HttpClient::new(HttpConfig::default())?);
        let (level, proxy) =
            cached_tile_pyramid(&template, 9, [256, 256, 3], client.clone(), &cache)?;
        let region = level.select_str("54600:55000, 59300:59850")?;
        let px = region.ndarray()?.into_typed::<u8>()?;
        let (h, w) = (px.shape()[0] as u32, px.shape()[1] as u32);
        let img = image::RgbImage::from_raw(w, h, px.iter().copied().collect())
            .ok_or_else(|| vastarray::Error::Internal("region is not an RGB image".into()))?;
        let png = out.join("region.png");
        img.save(&png)
            .map_err(|e| vastarray::Error::file(&png, e))?;
        let s = proxy.stats();
        println!(
            "draw {run}: {}x{} pixels -> {}; tiles from the server {}, from the cache file {}, from memory {}; HTTP requests {}",
            w,
            h,
            png.display(),
            s.source_reads,
            s.file_hits,
            s.memory_hits,
            client.stats().requests
        );
    }
    println!(
        "tile cache: {} (python-blosc2 can open it)",
        cache_path.display()
    );
    Ok(())
}
