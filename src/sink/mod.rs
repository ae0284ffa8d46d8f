//! Sinks: storing any lazy array (or any source) into a file in bounded memory.
//!
//! A sink walks the target's chunk grid in buffers that cover whole target chunks
//! ([`ChunkAlignedBuffers`]), asks the array to compute each buffer ([`RegionCompute`]) and
//! writes the buffers in order, so no target chunk is written twice. The writers of each format
//! live with the format in [`crate::io`] (`store_hdf5`, `store_b2nd`, `store_npy`); this module
//! holds what they share: the buffers, [`RegionCompute`] and temporary files ([`temp`]).
//!
//! ```
//! use vastarray::sink::RegionCompute;
//! use vastarray::DynArray;
//! let a = DynArray::from_ndarray(ndarray::Array2::<f32>::ones((6, 8)).into_dyn(), &[3, 4]).unwrap();
//! let doubled = a.mul(2.0).unwrap();
//! // What every sink asks for: a box, computed on demand, checked for shape and type.
//! let b = doubled.compute_checked(&[1..3, 0..8]).unwrap();
//! assert_eq!(b.shape(), &[2, 8]);
//! assert_eq!(doubled.region_shape(), vec![6, 8]);
//! ```

mod buffers;
pub mod temp;

pub use buffers::ChunkAlignedBuffers;

use crate::data::NdData;
use crate::dtype::DType;
use crate::error::Result;
use crate::source::ChunkSource;
use std::ops::Range;

/// Anything that can compute an arbitrary box of an n-dimensional array on demand: a lazy
/// array (evaluated by the executor) or any [`ChunkSource`].
pub trait RegionCompute: Send + Sync {
    /// The full shape.
    fn region_shape(&self) -> Vec<usize>;
    /// The element type.
    fn region_dtype(&self) -> DType;
    /// Computes the values of `region` (one range per axis).
    fn compute_region(&self, region: &[Range<usize>]) -> Result<NdData>;
    /// [`RegionCompute::compute_region`], checked to give the region's shape and the element
    /// type, so a sink never encodes a block of the wrong size.
    fn compute_checked(&self, region: &[Range<usize>]) -> Result<NdData> {
        let data = self.compute_region(region)?;
        let want: Vec<usize> = region.iter().map(|r| r.len()).collect();
        data.expect(self.region_dtype(), &want, &|| {
            format!("computing region {region:?}")
        })?;
        Ok(data)
    }
}

impl<S: ChunkSource + ?Sized> RegionCompute for S {
    fn region_shape(&self) -> Vec<usize> {
        self.shape().to_vec()
    }
    fn region_dtype(&self) -> DType {
        self.dtype()
    }
    fn compute_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        self.read_region(region)
    }
}
