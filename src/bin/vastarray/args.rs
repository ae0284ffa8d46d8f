//! The command line, as clap derive definitions.

use super::settings::{parse_bytes, parse_duration};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Lazy, chunked, out-of-core arrays from the command line: inspect, summarise, compute with
/// numpy expressions and copy arrays far larger than memory, in bounded memory.
///
/// SOURCE is FILE.npy, FILE.b2nd, FILE.h5:/group/dataset (also .hdf5, .nc) or
/// c2+http://HOST:PORT/ROOT/PATH.b2nd (a Caterva2 server).
#[derive(Debug, Parser)]
#[command(name = "vastarray", version, max_term_width = 100)]
pub(crate) struct Cli {
    /// Options of every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Memory budget for evaluation: 268435456, 256MiB, 1GiB, 500MB (default 512MiB).
    #[arg(long, global = true, value_name = "BYTES", value_parser = parse_bytes)]
    pub budget: Option<usize>,
    /// Worker threads (default: one per core).
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// Print the plan and its projected memory; read, compute and write nothing.
    #[arg(long, global = true)]
    pub explain: bool,
    /// Print only results and errors (no progress bar, no notes).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Longest time one HTTP request (a tile, a Caterva2 chunk) may take, retries included:
    /// 60s, 500ms, 2m, or seconds (default 60s). A stuck server fails within it.
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Read HDF5 datasets that a vastarray store did not finish (marked incomplete): the
    /// chunks it did not write read as the fill value.
    #[arg(long, global = true)]
    pub allow_incomplete: bool,
    /// HDF5 / netCDF-4 sources: the stored values, without CF decoding (by default
    /// _FillValue, missing_value and values outside valid_range are missing (NaN), and
    /// scale_factor / add_offset unpack).
    #[arg(long, global = true)]
    pub raw: bool,
    /// With --cache in front of a remote Zarr array: ask the server for the array's metadata
    /// when opening and check the cache against it. By default a cache that recorded the
    /// metadata opens without a request, and the server is asked only before the first chunk
    /// the cache lacks.
    #[arg(long, global = true)]
    pub revalidate: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Shape, type, chunks, codec and sizes of a source (the tree of an HDF5 file given
    /// without a dataset).
    Info(InfoArgs),
    /// Count, mean, std, var, min, max and NaN count of a source in one streaming pass.
    Stats(StatsArgs),
    /// Evaluate a numpy expression over named sources, in bounded memory.
    Eval(EvalArgs),
    /// Copy a source (or a selection of it) into a file, in bounded memory.
    Copy(CopyArgs),
    /// Draw a region of a slippy-map tile pyramid into a PNG.
    Mosaic(MosaicArgs),
    /// Show what vastarray does, on generated data and an embedded tile server.
    Demo(DemoArgs),
}

/// `vastarray info`
#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// The source.
    pub source: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// A persistent cache file (.b2nd) in front of a remote source.
    #[arg(long, value_name = "FILE.b2nd")]
    pub cache: Option<PathBuf>,
}

/// `vastarray stats`
#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    /// The source.
    pub source: String,
    /// A numpy selection of the source, as in "100:200, ::2" or "..., 0".
    #[arg(long, value_name = "SEL", allow_hyphen_values = true)]
    pub select: Option<String>,
    /// Delta degrees of freedom of std and var.
    #[arg(long, default_value_t = 0.0, value_name = "N")]
    pub ddof: f64,
    /// Leave NaN out of every figure (nanmean, nanstd, ...).
    #[arg(long)]
    pub skipna: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// A persistent cache file (.b2nd) in front of a remote source.
    #[arg(long, value_name = "FILE.b2nd")]
    pub cache: Option<PathBuf>,
}

/// `vastarray eval`
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The expression, spelled as numpy: "sqrt(a**2 + b**2)[::2].mean(axis=0)".
    #[arg(allow_hyphen_values = true)]
    pub expr: String,
    /// An input of the expression (repeatable).
    #[arg(long = "input", short = 'i', value_name = "NAME=SOURCE")]
    pub inputs: Vec<String>,
    /// Write the result to DEST (FILE.npy, FILE.b2nd, FILE.h5:/path) instead of printing it.
    #[arg(long, short, value_name = "DEST")]
    pub out: Option<String>,
    /// Replace DEST if it exists (only once the new result is complete).
    #[arg(long)]
    pub overwrite: bool,
    /// Print JSON: {"shape", "dtype", "data"} (NaN and infinities as "nan", "inf", "-inf").
    #[arg(long)]
    pub json: bool,
    /// A persistent cache file (.b2nd) in front of the (one) remote input.
    #[arg(long, value_name = "FILE.b2nd")]
    pub cache: Option<PathBuf>,
}

/// Compression of a stored copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Codec {
    /// No compression.
    None,
    /// Deflate (gzip).
    Deflate,
    /// LZ4 (Blosc2 targets).
    Lz4,
    /// Zstandard (Blosc2 targets).
    Zstd,
}

/// `vastarray copy`
#[derive(Debug, Args)]
pub(crate) struct CopyArgs {
    /// The source.
    pub source: String,
    /// Where to write: FILE.npy, FILE.b2nd, FILE.h5:/path, DIR.zarr or DIR.zarr:/group/array.
    pub dest: String,
    /// A numpy selection of the source, as in "100:200, ::2".
    #[arg(long, value_name = "SEL", allow_hyphen_values = true)]
    pub select: Option<String>,
    /// Chunk shape of the copy, as in 100,200 (chunked targets; the inner chunks of a sharded
    /// Zarr array).
    #[arg(long, value_name = "C0,C1,...")]
    pub chunks: Option<String>,
    /// Shard shape of a Zarr v3 copy, each a multiple of the chunk shape, as in 1000,2000.
    #[arg(long, value_name = "S0,S1,...")]
    pub shards: Option<String>,
    /// Zarr format of a .zarr copy (3 or 2).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub zarr_format: u8,
    /// Compression of the copy.
    #[arg(long, value_enum)]
    pub codec: Option<Codec>,
    /// Compression level.
    #[arg(long, value_name = "N")]
    pub level: Option<u8>,
    /// Replace DEST if it exists (only once the copy is complete).
    #[arg(long)]
    pub overwrite: bool,
    /// A persistent cache file (.b2nd) in front of a remote source.
    #[arg(long, value_name = "FILE.b2nd")]
    pub cache: Option<PathBuf>,
}

/// `vastarray mosaic`
#[derive(Debug, Args)]
pub(crate) struct MosaicArgs {
    /// URL template of the tiles: http://HOST/{z}/{x}/{y}.png ({-y}: TMS rows, counted from
    /// the bottom; {q}: quadkey; {r}: "@2x" with --retina; {s}: one of --subdomains)
    pub template: String,
    /// What {s} in the template stands for, one per tile in turn (the tile's x + y picks it),
    /// as Leaflet's `subdomains`: a,b,c (the default when the template has {s}) or abc.
    #[arg(long, value_name = "a,b,c")]
    pub subdomains: Option<String>,
    /// Zoom level.
    #[arg(long, short)]
    pub zoom: u32,
    /// Pixel rows and columns at that zoom: Y0:Y1,X0:X1
    #[arg(
        long,
        short,
        value_name = "Y0:Y1,X0:X1",
        required_unless_present = "bbox",
        allow_hyphen_values = true
    )]
    pub region: Option<String>,
    /// The region as a box in degrees, Web Mercator XYZ tiling: WEST,SOUTH,EAST,NORTH
    #[arg(
        long,
        value_name = "W,S,E,N",
        conflicts_with = "region",
        allow_hyphen_values = true
    )]
    pub bbox: Option<String>,
    /// The PNG to write.
    #[arg(long, short, value_name = "FILE.png")]
    pub out: PathBuf,
    /// A persistent tile cache (.b2nd): tiles fetched once are never fetched again.
    #[arg(long, value_name = "FILE.b2nd")]
    pub cache: Option<PathBuf>,
    /// Tile requests in flight at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: usize,
    /// Tile edge in pixels (default 256, 512 with --retina).
    #[arg(long, value_name = "PIXELS")]
    pub tile_size: Option<usize>,
    /// High-resolution tiles: {r} in the template becomes "@2x".
    #[arg(long)]
    pub retina: bool,
    /// Channels: auto (RGBA if any pixel is not opaque, else RGB), 1 (grey, Rec. 601 as PIL),
    /// 2 (grey, alpha), 3 (RGB) or 4 (RGBA).
    #[arg(long, default_value = "auto", value_name = "auto|1|2|3|4")]
    pub channels: String,
    /// Composite the tiles over this colour (R,G,B or #RRGGBB): an opaque picture.
    #[arg(long, value_name = "R,G,B")]
    pub background: Option<String>,
    /// A missing tile (404): transparent, a VALUE (0-255) in every channel, or error.
    #[arg(
        long,
        default_value = "transparent",
        value_name = "transparent|VALUE|error"
    )]
    pub missing: String,
    /// Clip a region (or box) past the edge of the level to the level instead of failing.
    #[arg(long)]
    pub clip: bool,
    /// Write a world file (FILE.pgw) and FILE.png.aux.xml (Web Mercator) beside the PNG
    /// (always with --bbox).
    #[arg(long)]
    pub world_file: bool,
    /// Replace the PNG if it exists.
    #[arg(long)]
    pub overwrite: bool,
}

/// `vastarray demo`
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// The folder to write into (created).
    #[arg(long, default_value = "vastarray-demo", value_name = "DIR")]
    pub dir: PathBuf,
    /// Size of the generated array streamed in step 2 (default 8GiB; also
    /// VASTARRAY_DEMO_SIZE). Its budget is --budget (default 256MiB).
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub size: Option<usize>,
}
