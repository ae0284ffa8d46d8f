//! `vastarray mosaic TEMPLATE --zoom Z (--region Y0:Y1,X0:X1 | --bbox W,S,E,N) --out FILE.png`:
//! one zoom level of a slippy-map tile server as one lazy array chunked by tile; the region's
//! tiles (and only they) are fetched, concurrently, and drawn into a PNG.
//!
//! The drawing is held in memory, so a region whose pixels do not fit the budget (or a PNG) is
//! refused before anything is fetched, with its size in numbers. The level is read as one
//! source rather than a mosaic of one view per tile, which would need 4^zoom objects.
//!
//! As GIS tools do: a missing tile (404) is transparent by default (`--missing`); tiles with
//! alpha give an RGBA picture (`--channels auto`) unless composited over `--background`; grey
//! is Rec. 601 luma as PIL computes it; a region past the level's edge is an error unless
//! `--clip`; `--bbox` takes degrees (Web Mercator XYZ tiling) and writes a world file.

use super::super::args::MosaicArgs;
use super::super::error::CliError;
use super::super::output::outln;
use super::super::png::write_png;
use super::super::settings::Settings;
use super::super::source_spec::check_cache_file;
use super::print_plan;
use ndarray::{ArrayD, IxDyn};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use vastarray::expr::{parse_selection, Builder, Span};
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::io::tiles::mercator::{self, bbox_pixels, LonLatBox};
use vastarray::io::tiles::{
    colour, MissingTiles, TileFormat, TileLayout, TileLevelConfig, TileLevelSource, UrlTemplate,
};
use vastarray::proxy::Proxy;
use vastarray::select::SliceArg;
use vastarray::{ChunkSource, DType, DynArray, NdData};

/// One zoom level of the tile server at `template` (256-pixel tiles of `channels` channels,
/// 404 is an error), as the demo reads it.
pub(crate) fn tile_level(
    template: &str,
    zoom: u32,
    tile_size: usize,
    channels: usize,
    client: Arc<HttpClient>,
) -> Result<Arc<TileLevelSource>, CliError> {
    let template = UrlTemplate::new(template)?;
    level_source(
        template,
        zoom,
        tile_size,
        channels,
        MissingTiles::Error,
        client,
    )
}

/// One zoom level of the tiles at `template`, their format from the template's extension
/// (PNG when it names none).
pub(crate) fn level_source(
    template: UrlTemplate,
    zoom: u32,
    tile_size: usize,
    channels: usize,
    missing: MissingTiles,
    client: Arc<HttpClient>,
) -> Result<Arc<TileLevelSource>, CliError> {
    let ext = template
        .as_str()
        .rsplit('.')
        .next()
        .and_then(|e| e.split(['?', '#']).next())
        .unwrap_or("");
    let format = TileFormat::from_extension(ext).unwrap_or(TileFormat::Png);
    let mut cfg = TileLevelConfig::new(template, zoom);
    cfg.format = format;
    cfg.missing = missing;
    cfg.layout = TileLayout {
        height: tile_size,
        width: tile_size,
        channels,
        dtype: DType::U8,
    };
    Ok(Arc::new(TileLevelSource::new(client, cfg)?))
}

/// The region `text` (`Y0:Y1,X0:X1`, numpy selection syntax) of `level`.
pub(crate) fn select_region(level: &DynArray, text: &str) -> Result<DynArray, CliError> {
    let items = parse_selection(text).map_err(|e| CliError::selection(text, e))?;
    let inputs = BTreeMap::new();
    Builder::new(&inputs)
        .index(level, &items, Span::new(0, text.len()))
        .map_err(|e| CliError::selection(text, e))
}

/// Checks that a drawing of `shape` (rows, columns, channels of `uint8`) can be made: a PNG
/// has at most `u32::MAX` pixels on a side, and the pixels, held `copies` times at the peak
/// (counted in channels: the drawing and its converted or encoded copy), must fit in `budget`
/// bytes.
pub(crate) fn check_drawing_size(
    shape: &[usize],
    region: &str,
    budget: usize,
    copies: usize,
) -> Result<(), CliError> {
    let (h, w, c) = (shape[0], shape[1], shape[2]);
    if u32::try_from(h).is_err() || u32::try_from(w).is_err() {
        return Err(CliError::Usage(format!(
            "--region {region}: {h} x {w} pixels; a PNG has at most {} pixels on a side",
            u32::MAX
        )));
    }
    let bytes = (h as u128) * (w as u128) * (c as u128);
    let held = (h as u128) * (w as u128) * (copies as u128);
    if held > budget as u128 {
        return Err(CliError::Usage(format!(
            "--region {region}: {h} x {w} pixels x {c} channel(s) is {bytes} bytes, drawn in memory ({held} bytes with the copy the PNG is made from): more than the budget of {budget} bytes; choose a smaller region or raise --budget"
        )));
    }
    Ok(())
}

/// What `--missing` says a 404 is.
pub(crate) fn parse_missing(text: &str) -> Result<MissingTiles, CliError> {
    match text {
        "transparent" => Ok(MissingTiles::Fill(0.0)),
        "error" => Ok(MissingTiles::Error),
        v => match v.parse::<u8>() {
            Ok(v) => Ok(MissingTiles::Fill(f64::from(v))),
            Err(_) => Err(CliError::Usage(format!(
                "--missing {text}: write transparent, error, or a value from 0 to 255"
            ))),
        },
    }
}

/// What is done to the decoded pixels before they are written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Finish {
    /// Written as decoded.
    Keep,
    /// RGBA, written as RGB when every pixel is opaque.
    DropOpaqueAlpha,
    /// RGBA composited over a colour; then grey if asked.
    Composite { background: [u8; 3], grey: bool },
}

/// The channels tiles are decoded to and what becomes of them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Colours {
    decode: usize,
    finish: Finish,
}

impl Colours {
    /// From `--channels` and `--background`.
    pub(crate) fn parse(channels: &str, background: Option<&str>) -> Result<Colours, CliError> {
        let background = background.map(parse_colour).transpose()?;
        let n = match channels {
            "auto" => 0,
            c => match c.parse::<usize>() {
                Ok(n @ 1..=4) => n,
                _ => {
                    return Err(CliError::Usage(format!(
                        "--channels {c}: write auto, 1, 2, 3 or 4"
                    )))
                }
            },
        };
        let colours = |decode, finish| Ok(Colours { decode, finish });
        match (n, background) {
            (0, None) => colours(4, Finish::DropOpaqueAlpha),
            (0 | 3, Some(background)) => colours(
                4,
                Finish::Composite {
                    background,
                    grey: false,
                },
            ),
            (1, Some(background)) => colours(
                4,
                Finish::Composite {
                    background,
                    grey: true,
                },
            ),
            (_, Some(_)) => Err(CliError::Usage(format!(
                "--background makes an opaque picture: it goes with --channels auto, 1 or 3, not {n}"
            ))),
            (n, None) => colours(n, Finish::Keep),
        }
    }

    /// Channels each tile is decoded to.
    pub(crate) fn decode_channels(&self) -> usize {
        self.decode
    }

    /// Bytes per pixel held at the peak: the decoded drawing and the copy the PNG is made of.
    pub(crate) fn peak_bytes_per_pixel(&self) -> usize {
        match self.finish {
            Finish::Keep => 2 * self.decode,
            Finish::DropOpaqueAlpha => self.decode + 4,
            Finish::Composite { grey, .. } => self.decode + if grey { 1 } else { 3 },
        }
    }

    /// The drawing as it is written.
    pub(crate) fn apply(&self, data: NdData) -> Result<NdData, CliError> {
        if self.finish == Finish::Keep {
            return Ok(data);
        }
        let a = data
            .into_typed::<u8>()
            .map_err(|e| CliError::Runtime(format!("tiles decode to uint8: {e}")))?;
        let shape = a.shape().to_vec();
        let (h, w, c) = (shape[0], shape[1], shape[2]);
        let raw = a
            .as_standard_layout()
            .into_owned()
            .into_raw_vec_and_offset()
            .0;
        let (pixels, channels) = match self.finish {
            Finish::Keep => (raw, c),
            Finish::DropOpaqueAlpha if colour::is_opaque(&raw, c) => {
                (colour::drop_alpha(&raw, c), c - 1)
            }
            Finish::DropOpaqueAlpha => (raw, c),
            Finish::Composite { background, grey } => {
                let rgb = colour::composite_over(&raw, background);
                if grey {
                    (colour::rgb_to_grey(&rgb), 1)
                } else {
                    (rgb, 3)
                }
            }
        };
        ArrayD::from_shape_vec(IxDyn(&[h, w, channels]), pixels)
            .map(NdData::from)
            .map_err(|e| {
                CliError::Runtime(format!("converted pixels do not fill the picture: {e}"))
            })
    }
}

/// A colour written `R,G,B` (0-255 each) or `#RRGGBB`.
fn parse_colour(text: &str) -> Result<[u8; 3], CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--background {text}: write R,G,B (0-255 each) or #RRGGBB"
        ))
    };
    if let Some(hex) = text.strip_prefix('#') {
        if hex.len() != 6 || !hex.is_ascii() {
            return Err(bad());
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
        return Ok([byte(0)?, byte(2)?, byte(4)?]);
    }
    let parts: Vec<u8> = text
        .split(',')
        .map(|p| p.trim().parse::<u8>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    <[u8; 3]>::try_from(parts).map_err(|_| bad())
}

/// The rows and columns a `--region` of step 1 starts at, and the check that none of its
/// bounds lies past the edge of a level of `rows` x `cols` pixels (numpy would clip them
/// silently). `None` when the region is not two plain slices (steps, lists, indices): numpy's
/// rules apply to it as written.
pub(crate) fn check_region_edges(
    text: &str,
    rows: usize,
    cols: usize,
    clip: bool,
) -> Result<Option<[usize; 2]>, CliError> {
    let Ok(items) = SliceArg::parse(text) else {
        return Ok(None);
    };
    let mut starts = [0usize; 2];
    let mut plain = items.len() == 2;
    for (axis, (item, extent)) in items.iter().zip([rows, cols]).enumerate() {
        let SliceArg::Slice { start, stop, step } = item else {
            plain = false;
            continue;
        };
        let past = |v: isize| v.unsigned_abs() > extent;
        if !clip && (start.is_some_and(past) || stop.is_some_and(past)) {
            let name = ["rows", "columns"][axis];
            return Err(CliError::Usage(format!(
                "--region {text}: {name} {} go past the edge of the level, which has {rows} rows and {cols} columns (pixels 0:{rows}, 0:{cols}); add --clip to clip the region to it",
                describe_slice(*start, *stop)
            )));
        }
        let normal = |v: isize| {
            if v < 0 {
                extent.saturating_sub(v.unsigned_abs())
            } else {
                v.unsigned_abs().min(extent)
            }
        };
        starts[axis] = start.map_or(0, normal);
        plain &= *step == 1;
    }
    Ok(plain.then_some(starts))
}

/// `start:stop` as written.
fn describe_slice(start: Option<isize>, stop: Option<isize>) -> String {
    let show = |v: Option<isize>| v.map(|v| v.to_string()).unwrap_or_default();
    format!("{}:{}", show(start), show(stop))
}

/// Runs `mosaic`.
pub(crate) fn run(args: &MosaicArgs, settings: &Settings) -> Result<(), CliError> {
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
    let colours = Colours::parse(&args.channels, args.background.as_deref())?;
    let missing = parse_missing(&args.missing)?;
    if args.concurrency == 0 {
        return Err(CliError::Usage("--concurrency must be at least 1".into()));
    }
    if args.out.is_dir() {
        return Err(CliError::Usage(format!(
            "--out {}: is a directory",
            args.out.display()
        )));
    }
    let tile_size = args
        .tile_size
        .unwrap_or(if args.retina { 512 } else { 256 });
    let template = UrlTemplate::with_subdomains(&args.template, subdomains(args)?)?
        .with_retina(if args.retina { "@2x" } else { "" });
    let client = Arc::new(HttpClient::new(HttpConfig {
        concurrency: args.concurrency,
        ..settings.http.clone()
    })?);
    let level = level_source(
        template,
        args.zoom,
        tile_size,
        colours.decode_channels(),
        missing,
        client.clone(),
    )?;
    let (rows, cols) = (level.shape()[0], level.shape()[1]);
    // The region in pixels, and its top-left pixel when a world file can place it.
    let (region_text, top_left) = match (&args.region, &args.bbox) {
        (Some(region), None) => (
            region.clone(),
            check_region_edges(region, rows, cols, args.clip)?,
        ),
        (None, Some(bbox)) => {
            let bbox = LonLatBox::parse(bbox, args.clip).map_err(|e| match e {
                vastarray::Error::Invalid(m) => CliError::Usage(format!("--bbox: {m}")),
                other => other.into(),
            })?;
            let [r, c] = bbox_pixels(&bbox, args.zoom, tile_size);
            (
                format!("{}:{}, {}:{}", r.start, r.end, c.start, c.end),
                Some([r.start, c.start]),
            )
        }
        _ => {
            return Err(CliError::Usage(
                "give --region Y0:Y1,X0:X1 or --bbox WEST,SOUTH,EAST,NORTH".into(),
            ))
        }
    };
    let world_file = args.bbox.is_some() || args.world_file;
    if world_file && top_left.is_none() {
        return Err(CliError::Usage(format!(
            "--world-file: the region {region_text} is not two slices of step 1, so no world file can place it"
        )));
    }
    // The region's size is known before any cache is opened or tile requested.
    let level_array = DynArray::from_source_arc(level.clone());
    let probe = select_region(&level_array, &region_text)?;
    if probe.ndim() != 3 {
        return Err(CliError::Usage(format!(
            "--region {}: selects an array of shape {:?}; a PNG needs rows, columns and channels (write Y0:Y1,X0:X1)",
            region_text,
            probe.shape()
        )));
    }
    check_drawing_size(
        probe.shape(),
        &region_text,
        settings.cfg.budget,
        colours.peak_bytes_per_pixel(),
    )?;
    if let Some(c) = &args.cache {
        check_cache_file(c)?;
    }
    let (source, cache) = cached_level(level.clone(), args.cache.as_deref())?;
    let region = select_region(&DynArray::from_source_arc(source), &region_text)?;
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
    let data = colours.apply(data?)?;
    let shape = data.shape().to_vec();
    write_png(data, &args.out, args.overwrite)?;
    let placed = match top_left {
        Some([row0, col0]) if world_file => {
            let pgw = args.out.with_extension("pgw");
            write_side_file(
                &pgw,
                &mercator::world_file(args.zoom, tile_size, row0, col0),
            )?;
            let mut aux = args.out.clone().into_os_string();
            aux.push(".aux.xml");
            write_side_file(Path::new(&aux), mercator::aux_xml())?;
            format!(", placed by {} (EPSG:3857)", pgw.display())
        }
        _ => String::new(),
    };
    let stats = client.stats();
    let fetched = stats.requests - stats.retries;
    let from_cache = cache.map(|c| c.hits()).unwrap_or(0);
    let missing_note = if stats.missing > 0 {
        format!(", {} missing (404)", stats.missing)
    } else {
        String::new()
    };
    outln!(
        "wrote {} ({} x {} pixels, {} channel(s)){placed}: {} tile(s) fetched over HTTP{missing_note}, {} from the cache",
        args.out.display(),
        shape[1],
        shape[0],
        shape[2],
        fetched,
        from_cache
    )?;
    Ok(())
}

/// Writes a small file that goes with the PNG (replacing an older one).
fn write_side_file(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text)
        .map_err(|e| CliError::Runtime(format!("{}: cannot write: {e}", path.display())))
}

/// A tile cache in front of a level: how many tiles it served.
pub(crate) struct CacheCounter {
    proxy: Arc<Proxy>,
}

impl CacheCounter {
    /// Tiles served from the cache (file or memory) so far.
    pub(crate) fn hits(&self) -> u64 {
        let s = self.proxy.stats();
        s.file_hits + s.memory_hits
    }

    /// Tiles read from the server through the cache so far.
    pub(crate) fn misses(&self) -> u64 {
        self.proxy.stats().source_reads
    }
}

/// The level, behind a persistent cache (a caching [`Proxy`] with a `.b2nd` cache file) when
/// `cache` names one.
pub(crate) fn cached_level(
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

/// The subdomains `{s}` stands for: `--subdomains` as a comma-separated list, or one letter
/// each when written without commas (`abc`, as Leaflet takes them), Leaflet's `a,b,c` when the
/// template has `{s}` and the flag is not given; the flag without `{s}` is a usage error.
fn subdomains(args: &MosaicArgs) -> Result<Vec<String>, CliError> {
    let uses = args.template.contains("{s}");
    let Some(list) = &args.subdomains else {
        return Ok(if uses {
            ["a", "b", "c"].map(String::from).to_vec()
        } else {
            Vec::new()
        });
    };
    if !uses {
        return Err(CliError::Usage(format!(
            "--subdomains {list}: the template {} has no {{s}}",
            args.template
        )));
    }
    let names: Vec<String> = if list.contains(',') {
        list.split(',').map(|s| s.trim().to_string()).collect()
    } else {
        list.chars().map(String::from).collect()
    };
    if names.is_empty() || names.iter().any(|n| n.is_empty() || n.contains('/')) {
        return Err(CliError::Usage(format!(
            "--subdomains {list:?}: give names separated by commas (a,b,c), none empty or with a /"
        )));
    }
    Ok(names)
}
