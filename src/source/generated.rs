//! [`GeneratedSource`]: values computed from each chunk's region, so tests and demos can use
//! arrays far larger than memory without any file.

use super::ChunkSource;
use crate::data::NdData;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use ndarray::{ArrayD, IxDyn};
use std::ops::Range;
use std::sync::Arc;

type Generator = dyn Fn(&[Range<usize>]) -> NdData + Send + Sync;

/// A source whose chunks are computed by a function of the region they cover.
///
/// ```
/// use vastarray::{ChunkSource, GeneratedSource};
/// // Element (i, j) is i * 1000 + j, in a (1_000_000, 1000) array that is never held in memory.
/// let src = GeneratedSource::from_index_fn(&[1_000_000, 1000], &[1000, 1000], |ix| {
///     (ix[0] * 1000 + ix[1]) as f64
/// }).unwrap();
/// let chunk = src.read_chunk(&[3, 0]).unwrap().into_typed::<f64>().unwrap();
/// assert_eq!(chunk[[0, 5]], 3_000_005.0);
/// ```
#[derive(Clone)]
pub struct GeneratedSource {
    shape: Vec<usize>,
    chunks: Vec<usize>,
    dtype: DType,
    generate: Arc<Generator>,
    label: String,
}

impl GeneratedSource {
    /// A source whose region `r` is `generate(r)`. The function must return data of type `dtype`
    /// and of the region's shape; a source that does not is reported as an error when read.
    pub fn new(
        shape: &[usize],
        chunks: &[usize],
        dtype: DType,
        generate: impl Fn(&[Range<usize>]) -> NdData + Send + Sync + 'static,
    ) -> Result<Self> {
        if shape.len() != chunks.len() || chunks.contains(&0) {
            return Err(Error::Shape(format!(
                "chunk shape {chunks:?} does not fit shape {shape:?}"
            )));
        }
        Ok(GeneratedSource {
            shape: shape.to_vec(),
            chunks: chunks.to_vec(),
            dtype,
            generate: Arc::new(generate),
            label: format!("generated {shape:?} {dtype}"),
        })
    }

    /// A source whose element at index `ix` is `f(ix)`.
    pub fn from_index_fn<T: Element>(
        shape: &[usize],
        chunks: &[usize],
        f: impl Fn(&[usize]) -> T + Send + Sync + 'static,
    ) -> Result<Self> {
        Self::new(shape, chunks, T::DTYPE, move |region| {
            let ext: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
            let starts: Vec<usize> = region.iter().map(|r| r.start).collect();
            let mut ix = vec![0usize; ext.len()];
            let a = ArrayD::from_shape_fn(IxDyn(&ext), |local| {
                for d in 0..ix.len() {
                    ix[d] = starts[d] + local[d];
                }
                f(&ix)
            });
            T::wrap(a)
        })
    }

    /// Gives the source a name for plans and errors.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.label = name.into();
        self
    }
}

impl ChunkSource for GeneratedSource {
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn dtype(&self) -> DType {
        self.dtype
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
        let data = (self.generate)(region);
        let want: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        data.expect(self.dtype, &want, &|| {
            format!("{} region {:?}", self.label, region)
        })?;
        Ok(data)
    }
    fn prefers_region_reads(&self) -> bool {
        true
    }
}
