//! [`MemorySource`]: an in-memory ndarray served in chunks of a chosen shape.

use super::ChunkSource;
use crate::data::NdData;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use ndarray::{ArrayD, Slice, SliceInfoElem};
use std::ops::Range;
use std::sync::Arc;

/// An ndarray in memory, served in chunks of a chosen shape.
///
/// ```
/// use vastarray::{ChunkSource, MemorySource};
/// let a = ndarray::Array::from_shape_fn((4, 6), |(i, j)| (i * 6 + j) as f64).into_dyn();
/// let src = MemorySource::new(a, &[2, 4]).unwrap();
/// assert_eq!(src.read_chunk(&[1, 1]).unwrap().shape(), &[2, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct MemorySource {
    data: Arc<NdData>,
    chunks: Vec<usize>,
    label: String,
}

impl MemorySource {
    /// Serves `array` in chunks of `chunks` (one entry per axis, each at least 1).
    pub fn new<T: Element>(array: ArrayD<T>, chunks: &[usize]) -> Result<Self> {
        Self::from_data(NdData::from(array), chunks)
    }

    /// Serves dynamically typed data in chunks of `chunks`.
    pub fn from_data(data: NdData, chunks: &[usize]) -> Result<Self> {
        if chunks.len() != data.shape().len() {
            return Err(Error::Shape(format!(
                "chunk shape {:?} has {} axes, array has {}",
                chunks,
                chunks.len(),
                data.shape().len()
            )));
        }
        if chunks.contains(&0) {
            return Err(Error::Shape(format!(
                "chunk shape {chunks:?} has a zero extent"
            )));
        }
        let label = format!("memory {:?} {}", data.shape(), data.dtype());
        Ok(MemorySource {
            data: Arc::new(data),
            chunks: chunks.to_vec(),
            label,
        })
    }

    /// Gives the source a name for plans and errors.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.label = name.into();
        self
    }

    /// The whole array.
    pub fn data(&self) -> &NdData {
        &self.data
    }
}

impl ChunkSource for MemorySource {
    fn shape(&self) -> &[usize] {
        self.data.shape()
    }
    fn dtype(&self) -> DType {
        self.data.dtype()
    }
    fn chunk_shape(&self) -> &[usize] {
        &self.chunks
    }
    fn name(&self) -> String {
        self.label.clone()
    }
    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        let grid = self.grid();
        grid.checked_linear_index(index)
            .map_err(|e| Error::read(self.name(), Some(index), e))?;
        self.read_region(&grid.chunk_box(index))
    }
    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        self.grid()
            .check_region(region)
            .map_err(|e| Error::read(self.name(), None, e))?;
        let sl: Vec<SliceInfoElem> = region
            .iter()
            .map(|r| Slice::from(r.clone()).into())
            .collect();
        Ok(crate::map_nd!(&*self.data, a: T => a.slice(sl.as_slice()).to_owned()))
    }
    fn prefers_region_reads(&self) -> bool {
        true
    }
    fn cheap_region_reads(&self) -> bool {
        true
    }
    fn shared_whole(&self) -> Option<Arc<NdData>> {
        Some(self.data.clone())
    }
}
