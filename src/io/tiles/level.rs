//! [`TileLevelSource`]: one zoom level of a slippy-map tile server as one chunked array.

use super::decode::{decode_tile, TileFormat, TileLayout};
use super::template::UrlTemplate;
use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::source::{copy_overlap, ChunkSource};
use ndarray::{ArrayD, IxDyn};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The deepest zoom level accepted (2^30 tiles per side).
pub const MAX_ZOOM: u32 = 30;

/// What a tile source does when the server answers 404 for a tile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MissingTiles {
    /// The read fails with an error naming the URL.
    Error,
    /// The tile reads as this value everywhere (converted to the element type as `as` does).
    Fill(f64),
}

/// Everything that defines a [`TileLevelSource`] besides its HTTP client.
#[derive(Clone, Debug, PartialEq)]
pub struct TileLevelConfig {
    /// Where tile (z, x, y) is.
    pub template: UrlTemplate,
    /// The zoom level z: the level has 2^z x 2^z tiles.
    pub zoom: u32,
    /// How tiles are encoded.
    pub format: TileFormat,
    /// Shape and type of one decoded tile.
    pub layout: TileLayout,
    /// What a 404 means.
    pub missing: MissingTiles,
}

impl TileLevelConfig {
    /// 256x256 RGB PNG tiles of `u8`, 404 is an error.
    pub fn new(template: UrlTemplate, zoom: u32) -> Self {
        TileLevelConfig {
            template,
            zoom,
            format: TileFormat::Png,
            layout: TileLayout {
                height: 256,
                width: 256,
                channels: 3,
                dtype: DType::U8,
            },
            missing: MissingTiles::Error,
        }
    }
}

/// Zoom level z of a tile server as one array of shape `(2^z * th, 2^z * tw, C)`, chunked by
/// tile: chunk `[y, x, 0]` is the tile at `{x}`, `{y}`. Constructing it makes no request;
/// each read fetches and decodes just the tiles it needs, concurrently for batches, through a
/// shared [`HttpClient`].
pub struct TileLevelSource {
    client: Arc<HttpClient>,
    config: TileLevelConfig,
    tiles_per_side: usize,
    shape: [usize; 3],
    chunk_shape: [usize; 3],
}

impl TileLevelSource {
    /// A source for one zoom level. Checks the configuration; makes no request.
    pub fn new(client: Arc<HttpClient>, config: TileLevelConfig) -> Result<Self> {
        let TileLayout {
            height,
            width,
            channels,
            dtype,
        } = config.layout;
        if config.zoom > MAX_ZOOM {
            return Err(Error::Invalid(format!(
                "zoom {} is deeper than the maximum {MAX_ZOOM}",
                config.zoom
            )));
        }
        if height == 0 || width == 0 || channels == 0 {
            return Err(Error::Invalid(format!(
                "tile shape {:?} has an empty axis",
                config.layout.shape()
            )));
        }
        if config.format.is_image() && (dtype != DType::U8 || channels > 4) {
            return Err(Error::Invalid(format!(
                "{:?} tiles decode to uint8 with 1 to 4 channels, not {dtype} with {channels}",
                config.format
            )));
        }
        let tiles_per_side = 1usize << config.zoom;
        let too_big = || {
            Error::Invalid(format!(
                "zoom {} with {height}x{width} tiles overflows",
                config.zoom
            ))
        };
        let shape = [
            tiles_per_side.checked_mul(height).ok_or_else(too_big)?,
            tiles_per_side.checked_mul(width).ok_or_else(too_big)?,
            channels,
        ];
        Ok(TileLevelSource {
            client,
            config,
            tiles_per_side,
            shape,
            chunk_shape: [height, width, channels],
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TileLevelConfig {
        &self.config
    }

    /// The zoom level.
    pub fn zoom(&self) -> u32 {
        self.config.zoom
    }

    /// Tiles along each side (2^z).
    pub fn tiles_per_side(&self) -> usize {
        self.tiles_per_side
    }

    /// The HTTP client the tiles are fetched with.
    pub fn client(&self) -> &Arc<HttpClient> {
        &self.client
    }

    /// The URL of the tile in tile row `y`, tile column `x`.
    pub fn tile_url(&self, y: usize, x: usize) -> String {
        self.config
            .template
            .url(self.config.zoom, x as u64, y as u64)
    }

    /// Fetches and decodes the tile in row `y`, column `x`.
    pub fn read_tile(&self, y: usize, x: usize) -> Result<NdData> {
        let n = self.tiles_per_side;
        if y >= n || x >= n {
            return Err(Error::Index(format!(
                "{}: tile (y={y}, x={x}) is outside the {n}x{n} grid",
                self.name()
            )));
        }
        let url = self.tile_url(y, x);
        let body = match self.config.missing {
            MissingTiles::Error => self.client.get(&url)?,
            MissingTiles::Fill(value) => match self.client.get_optional(&url)? {
                Some(body) => body,
                None => return Ok(self.fill_tile(value)),
            },
        };
        decode_tile(self.config.format, &body, &self.config.layout)
            .map_err(|message| Error::http(url, format!("bad tile: {message}")))
    }

    /// A tile of `value` everywhere.
    fn fill_tile(&self, value: f64) -> NdData {
        let shape = self.chunk_shape;
        crate::dispatch_dtype!(self.config.layout.dtype, T => T::wrap(ArrayD::from_elem(IxDyn(&shape), T::from_f64(value))))
    }

    /// The tile `(y, x)` of a chunk index `[y, x, 0]`, or an error naming the source.
    fn tile_of(&self, index: &[usize]) -> Result<(usize, usize)> {
        match index {
            [y, x, 0] if *y < self.tiles_per_side && *x < self.tiles_per_side => Ok((*y, *x)),
            _ => Err(Error::Index(format!(
                "{}: chunk {index:?} is not a tile of the {n}x{n} grid (expected [y, x, 0])",
                self.name(),
                n = self.tiles_per_side
            ))),
        }
    }
}

impl ChunkSource for TileLevelSource {
    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn dtype(&self) -> DType {
        self.config.layout.dtype
    }

    fn chunk_shape(&self) -> &[usize] {
        &self.chunk_shape
    }

    fn name(&self) -> String {
        format!("tiles {} z={}", self.config.template, self.config.zoom)
    }

    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        let (y, x) = self.tile_of(index)?;
        self.read_tile(y, x)
    }

    /// Reads the tiles a box touches, concurrently, and copies the box out of them.
    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        let grid = self.grid();
        grid.check_region(region)
            .map_err(|e| Error::read(self.name(), None, e))?;
        let out_shape: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        let mut out = NdData::zeros(self.dtype(), &out_shape);
        if out.is_empty() {
            return Ok(out);
        }
        let indices = grid.chunks_in_box(region);
        let tiles = self.read_chunks(&indices)?;
        for (index, tile) in indices.iter().zip(&tiles) {
            copy_overlap(tile, &grid.chunk_box(index), &mut out, region)?;
        }
        Ok(out)
    }

    /// Fetches and decodes the tiles concurrently (up to the client's concurrency). After the
    /// first failure no further tile is requested; the error of the first failed tile (in the
    /// order given) is returned.
    fn read_chunks(&self, indices: &[Vec<usize>]) -> Result<Vec<NdData>> {
        let tiles = indices
            .iter()
            .map(|i| self.tile_of(i))
            .collect::<Result<Vec<_>>>()?;
        let failed = AtomicBool::new(false);
        let results = self.client.map_concurrent(tiles.len(), |i| {
            if failed.load(Ordering::Relaxed) {
                return None;
            }
            let (y, x) = tiles[i];
            let result = self.read_tile(y, x);
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            Some(result)
        });
        let mut read = Vec::with_capacity(results.len());
        let mut first_error = None;
        for result in results {
            match result {
                Some(Ok(tile)) => read.push(tile),
                Some(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                None => {}
            }
        }
        match first_error {
            Some(e) => Err(e),
            None if read.len() == indices.len() => Ok(read),
            None => Err(Error::Internal(format!(
                "{}: a tile was skipped without an error",
                self.name()
            ))),
        }
    }

    fn latency_bound(&self) -> bool {
        true
    }

    fn identity(&self) -> Option<String> {
        let c = &self.config;
        let missing = match c.missing {
            MissingTiles::Error => "404=error".to_string(),
            MissingTiles::Fill(v) => format!("404=fill({v})"),
        };
        Some(format!(
            "tiles {} z={} {} {}x{}x{} {} {missing}",
            c.template,
            c.zoom,
            c.format.extension(),
            c.layout.height,
            c.layout.width,
            c.layout.channels,
            c.layout.dtype
        ))
    }
}
