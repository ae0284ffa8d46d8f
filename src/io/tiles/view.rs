//! [`TileView`]: one tile of a shared tiled source as a source of its own.

use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::source::ChunkSource;
use std::ops::Range;
use std::sync::Arc;

/// Exactly one tile (chunk `[y, x, 0]`, or `[y, x]` for 2-d parents) of a shared parent
/// source, as a one-chunk source of the tile's shape. A view is an `Arc` and two integers, so
/// the 262144 leaves of zoom 9 cost a few megabytes; every read goes to the parent, which
/// keeps the connection pool and the concurrency bound.
#[derive(Clone)]
pub struct TileView {
    parent: Arc<dyn ChunkSource>,
    y: u32,
    x: u32,
}

impl TileView {
    /// The view of tile row `y`, tile column `x` of `parent`. The parent must be 2-d or 3-d
    /// with a single chunk along its third axis, and that tile must be a whole chunk.
    pub fn new(parent: Arc<dyn ChunkSource>, y: usize, x: usize) -> Result<Self> {
        let (shape, chunks) = (parent.shape(), parent.chunk_shape());
        let bad = |why: &str| {
            Error::Invalid(format!(
                "TileView of {} at (y={y}, x={x}): {why}",
                parent.name()
            ))
        };
        if chunks.len() != shape.len()
            || !(2..=3).contains(&shape.len())
            || (shape.len() == 3 && chunks[2] < shape[2])
        {
            return Err(bad(
                "the parent must be 2-d, or 3-d with one chunk along axis 2",
            ));
        }
        if y.saturating_add(1).saturating_mul(chunks[0]) > shape[0]
            || x.saturating_add(1).saturating_mul(chunks[1]) > shape[1]
        {
            return Err(bad("the tile is outside the parent or not a whole chunk"));
        }
        let (y, x) = match (u32::try_from(y), u32::try_from(x)) {
            (Ok(y), Ok(x)) => (y, x),
            _ => return Err(bad("tile index does not fit in 32 bits")),
        };
        Ok(TileView { parent, y, x })
    }

    /// Views of every whole tile of `parent`, row by row (`y` major).
    pub fn all(parent: &Arc<dyn ChunkSource>) -> Result<Vec<TileView>> {
        let (shape, chunks) = (parent.shape(), parent.chunk_shape());
        if shape.len() < 2 || chunks.len() != shape.len() {
            return Err(Error::Invalid(format!(
                "TileView::all of {}: the parent is not 2-d or 3-d",
                parent.name()
            )));
        }
        let (rows, cols) = (shape[0] / chunks[0].max(1), shape[1] / chunks[1].max(1));
        let mut views = Vec::with_capacity(rows.saturating_mul(cols));
        for y in 0..rows {
            for x in 0..cols {
                views.push(TileView::new(Arc::clone(parent), y, x)?);
            }
        }
        Ok(views)
    }

    /// The parent source.
    pub fn parent(&self) -> &Arc<dyn ChunkSource> {
        &self.parent
    }

    /// The tile's (row, column) in the parent's chunk grid.
    pub fn tile(&self) -> (usize, usize) {
        (self.y as usize, self.x as usize)
    }

    /// Calls `f` with the parent's chunk index of this tile (no allocation).
    fn with_parent_index<R>(&self, f: impl FnOnce(&[usize]) -> R) -> R {
        let full = [self.y as usize, self.x as usize, 0];
        f(&full[..self.parent.shape().len()])
    }

    /// Checks that `index` is this source's only chunk.
    fn check_index(&self, index: &[usize]) -> Result<()> {
        if index.len() == self.shape().len() && index.iter().all(|&i| i == 0) {
            Ok(())
        } else {
            Err(Error::Index(format!(
                "{}: chunk {index:?} does not exist (one chunk only)",
                self.name()
            )))
        }
    }
}

impl ChunkSource for TileView {
    fn shape(&self) -> &[usize] {
        self.parent.chunk_shape()
    }

    fn dtype(&self) -> DType {
        self.parent.dtype()
    }

    fn chunk_shape(&self) -> &[usize] {
        self.parent.chunk_shape()
    }

    fn name(&self) -> String {
        format!("{} tile (y={}, x={})", self.parent.name(), self.y, self.x)
    }

    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        self.check_index(index)?;
        self.with_parent_index(|i| self.parent.read_chunk(i))
    }

    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        let chunks = self.parent.chunk_shape();
        if region.len() != chunks.len() {
            return Err(Error::Index(format!(
                "{}: region {region:?} has the wrong number of axes",
                self.name()
            )));
        }
        let origin = [self.y as usize * chunks[0], self.x as usize * chunks[1], 0];
        let mut shifted = Vec::with_capacity(region.len());
        for (d, r) in region.iter().enumerate() {
            if r.start > r.end || r.end > chunks[d] {
                return Err(Error::Index(format!(
                    "{}: region {region:?} is outside the tile",
                    self.name()
                )));
            }
            shifted.push(origin[d] + r.start..origin[d] + r.end);
        }
        self.parent.read_region(&shifted)
    }

    fn prefers_region_reads(&self) -> bool {
        self.parent.prefers_region_reads()
    }

    /// Every index must be the one chunk; the parent reads it once and the copies are shared.
    fn read_chunks(&self, indices: &[Vec<usize>]) -> Result<Vec<NdData>> {
        for index in indices {
            self.check_index(index)?;
        }
        match indices.len() {
            0 => Ok(Vec::new()),
            n => {
                let tile = self.with_parent_index(|i| self.parent.read_chunk(i))?;
                Ok(vec![tile; n])
            }
        }
    }

    fn latency_bound(&self) -> bool {
        self.parent.latency_bound()
    }

    fn identity(&self) -> Option<String> {
        self.parent
            .identity()
            .map(|id| format!("{id} tile (y={}, x={})", self.y, self.x))
    }
}
