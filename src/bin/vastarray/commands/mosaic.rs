//! `vastarray mosaic TEMPLATE --zoom Z --region Y0:Y1,X0:X1 --out FILE.png`: one zoom level of
//! a slippy-map tile server as one lazy array chunked by tile; the region's tiles (and only
//! they) are fetched, concurrently, and drawn into a PNG.
//!
//! The drawing is held in memory, so a region whose pixels do not fit the budget (or a PNG) is
//! refused before anything is fetched, with its size in numbers. The level is read as one
//! source rather than a mosaic of one view per tile, which would need 4^zoom objects.

use super::super::args::MosaicArgs;
use super::super::error::CliError;
use super::super::output::outln;
use super::super::png::write_png;
use super::super::settings::Settings;
use super::super::source_spec::check_cache_file;
use super::print_plan;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use vastarray::expr::{parse_selection, Builder, Span};
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::io::tiles::{TileFormat, TileLayout, TileLevelConfig, TileLevelSource, UrlTemplate};
use vastarray::proxy::Proxy;
use vastarray::{ChunkSource, DType, DynArray};

/// One zoom level of the tile server at `template`.
pub fn tile_level(
    template: &str,
    zoom: u32,
    tile_size: usize,
    channels: usize,
    client: Arc<HttpClient>,
) -> Result<Arc<TileLevelSource>, CliError> {
    let ext = template
        .rsplit('.')
        .next()
        .and_then(|e| e.split(['?', '#']).next())
        .unwrap_or("");
    let format = TileFormat::from_extension(ext).unwrap_or(TileFormat::Png);
    let mut cfg = TileLevelConfig::new(UrlTemplate::new(template)?, zoom);
    cfg.format = format;
    cfg.layout = TileLayout {
        height: tile_size,
        width: tile_size,
        channels,
        dtype: DType::U8,
    };
    Ok(Arc::new(TileLevelSource::new(client, cfg)?))
}

/// The region `text` (`Y0:Y1,X0:X1`, numpy selection syntax) of `level`.
pub fn select_region(level: &DynArray, text: &str) -> Result<DynArray, CliError> {
    let items = parse_selection(text).map_err(|e| CliError::selection(text, e))?;
    let inputs = BTreeMap::new();
    Builder::new(&inputs)
        .index(level, &items, Span::new(0, text.len()))
        .map_err(|e| CliError::selection(text, e))
}

/// Checks that a drawing of `shape` (rows, columns, channels of `uint8`) can be made: a PNG
/// has at most `u32::MAX` pixels on a side, and the pixels (held twice while the PNG is
/// encoded) must fit in `budget` bytes.
pub fn check_drawing_size(shape: &[usize], region: &str, budget: usize) -> Result<(), CliError> {
    let (h, w, c) = (shape[0], shape[1], shape[2]);
    if u32::try_from(h).is_err() || u32::try_from(w).is_err() {
        return Err(CliError::Usage(format!(
            "--region {region}: {h} x {w} pixels; a PNG has at most {} pixels on a side",
            u32::MAX
        )));
    }
    let bytes = (h as u128) * (w as u128) * (c as u128);
    if bytes.saturating_mul(2) > budget as u128 {
        return Err(CliError::Usage(format!(
            "--region {region}: {h} x {w} pixels x {c} channel(s) is {bytes} bytes, drawn in memory (twice that while the PNG is encoded): more than the budget of {budget} bytes; choose a smaller region or raise --budget"
        )));
    }
    Ok(())
}

/// Runs `mosaic`.
pub fn run(args: &MosaicArgs, settings: &Settings) -> Result<(), CliError> {
    if !args
        .out
        .to_string_lossy()
        .to_ascii_lowercase()
        .ends_with(".png")
    {
        return Err(CliError::Usage(format!(
            "--out {}: mosaic writes PNG files (FILE.png)",
            args.out.display()
        )));
    }
    if !(1..=4).contains(&args.channels) {
        return Err(CliError::Usage("--channels is 1, 2, 3 or 4".into()));
    }
    if args.concurrency == 0 {
        return Err(CliError::Usage("--concurrency must be at least 1".into()));
    }
    if args.out.is_dir() {
        return Err(CliError::Usage(format!(
            "--out {}: is a directory",
            args.out.display()
        )));
    }
    let client = Arc::new(HttpClient::new(HttpConfig {
        concurrency: args.concurrency,
        ..settings.http.clone()
    })?);
    let level = tile_level(
        &args.template,
        args.zoom,
        args.tile_size,
        args.channels,
        client.clone(),
    )?;
    // The region's size is known before any cache is opened or tile requested.
    let level_array = DynArray::from_source_arc(level.clone());
    let probe = select_region(&level_array, &args.region)?;
    if probe.ndim() != 3 {
        return Err(CliError::Usage(format!(
            "--region {}: selects an array of shape {:?}; a PNG needs rows, columns and channels (write Y0:Y1,X0:X1)",
            args.region,
            probe.shape()
        )));
    }
    check_drawing_size(probe.shape(), &args.region, settings.cfg.budget)?;
    if let Some(c) = &args.cache {
        check_cache_file(c)?;
    }
    let (source, cache) = cached_level(level.clone(), args.cache.as_deref())?;
    let region = select_region(&DynArray::from_source_arc(source), &args.region)?;
    let mut cfg = settings.cfg.clone();
    cfg.io_concurrency = args.concurrency;
    if settings.explain {
        print_plan("plan (no tile was requested):", &region.explain(&cfg)?)?;
        return Ok(());
    }
    if args.out.exists() && !args.overwrite {
        return Err(CliError::Runtime(format!(
            "{}: exists already (add --overwrite to replace it)",
            args.out.display()
        )));
    }
    let bar = settings.progress_bar("tiles");
    let cfg = {
        let mut c = settings.cfg_with(&bar);
        c.io_concurrency = args.concurrency;
        c
    };
    let data = region.ndarray_with(&cfg);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let data = data?;
    let shape = data.shape().to_vec();
    write_png(data, &args.out, args.overwrite)?;
    let stats = client.stats();
    let fetched = stats.requests - stats.retries;
    let from_cache = cache.map(|c| c.hits()).unwrap_or(0);
    outln!(
        "wrote {} ({} x {} pixels, {} channel(s)): {} tile(s) fetched over HTTP, {} from the cache",
        args.out.display(),
        shape[1],
        shape[0],
        shape[2],
        fetched,
        from_cache
    )?;
    Ok(())
}

/// A tile cache in front of a level: how many tiles it served.
pub struct CacheCounter {
    proxy: Arc<Proxy>,
}

impl CacheCounter {
    /// Tiles served from the cache (file or memory) so far.
    pub fn hits(&self) -> u64 {
        let s = self.proxy.stats();
        s.file_hits + s.memory_hits
    }

    /// Tiles read from the server through the cache so far.
    pub fn misses(&self) -> u64 {
        self.proxy.stats().source_reads
    }
}

/// The level, behind a persistent cache (a caching [`Proxy`] with a `.b2nd` cache file) when
/// `cache` names one.
pub fn cached_level(
    level: Arc<TileLevelSource>,
    cache: Option<&Path>,
) -> Result<(Arc<dyn ChunkSource>, Option<CacheCounter>), CliError> {
    match cache {
        None => Ok((level, None)),
        Some(path) => {
            if !path
                .to_string_lossy()
                .to_ascii_lowercase()
                .ends_with(".b2nd")
            {
                return Err(CliError::Usage(format!(
                    "--cache {}: the cache is a .b2nd file",
                    path.display()
                )));
            }
            let proxy = Arc::new(Proxy::builder(level).cache_file(path).open()?);
            let source: Arc<dyn ChunkSource> = proxy.clone();
            Ok((source, Some(CacheCounter { proxy })))
        }
    }
}
