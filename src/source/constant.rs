//! [`ConstantSource`]: an array with one value everywhere (zeros, ones, full).

use super::ChunkSource;
use crate::data::NdData;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use ndarray::{ArrayD, IxDyn};
use std::ops::Range;

/// An array with the same value everywhere; reading it costs no I/O.
#[derive(Clone, Debug)]
pub struct ConstantSource {
    shape: Vec<usize>,
    chunks: Vec<usize>,
    value: NdData,
}

impl ConstantSource {
    /// An array of `shape` filled with `value`, in chunks of `chunks`.
    pub fn full<T: Element>(shape: &[usize], chunks: &[usize], value: T) -> Result<Self> {
        if shape.len() != chunks.len() || chunks.contains(&0) {
            return Err(Error::Shape(format!(
                "chunk shape {chunks:?} does not fit shape {shape:?}"
            )));
        }
        Ok(ConstantSource {
            shape: shape.to_vec(),
            chunks: chunks.to_vec(),
            value: T::wrap(ArrayD::from_elem(IxDyn(&[]), value)),
        })
    }

    /// An array of zeros.
    pub fn zeros<T: Element>(shape: &[usize], chunks: &[usize]) -> Result<Self> {
        Self::full(shape, chunks, T::default())
    }

    /// An array of ones.
    pub fn ones<T: Element>(shape: &[usize], chunks: &[usize]) -> Result<Self> {
        Self::full(shape, chunks, T::from_f64(1.0))
    }
}

impl ChunkSource for ConstantSource {
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn dtype(&self) -> DType {
        self.value.dtype()
    }
    fn chunk_shape(&self) -> &[usize] {
        &self.chunks
    }
    fn name(&self) -> String {
        format!("constant {:?} {}", self.shape, self.value.dtype())
    }
    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        self.read_region(&self.grid().chunk_box(index))
    }
    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        self.grid()
            .check_region(region)
            .map_err(|e| Error::read(self.name(), None, e))?;
        let ext: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        Ok(crate::map_nd!(&self.value, v: T => ArrayD::from_elem(IxDyn(&ext), v[IxDyn(&[])])))
    }
    fn prefers_region_reads(&self) -> bool {
        true
    }
    fn cheap_region_reads(&self) -> bool {
        true
    }
}
