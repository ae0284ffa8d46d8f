//! numpy's `.npy` format: [`NpyHeader`] (the crate's one `.npy` header parser), [`NpySource`]
//! (a file read region by region with `pread`), [`store_npy`] (any array written front to
//! back in bounded memory) and [`decode_npy`] / [`encode_npy`] (a whole `.npy` held in
//! memory, as `.npy` tiles arrive).
//!
//! ```
//! use vastarray::io::npy::{decode_npy, encode_npy};
//! use vastarray::NdData;
//! let d = NdData::from(ndarray::arr2(&[[1u16, 2, 3], [4, 5, 6]]).into_dyn());
//! let bytes = encode_npy(&d);
//! assert_eq!(&bytes[..6], b"\x93NUMPY");
//! assert_eq!(decode_npy(&bytes).unwrap(), d);
//! ```

mod memory;
mod sink;
mod source;

pub use memory::{decode_npy, encode_npy};
pub use sink::{npy_buffers, store_npy, NpyStoreOptions, NpyStoreReport};
pub use source::{contiguous_chunks, descr, FromBytes, NpyHeader, NpySource, DEFAULT_CHUNK_BYTES};
pub(crate) use source::{decode_elements, from_fortran_storage};
