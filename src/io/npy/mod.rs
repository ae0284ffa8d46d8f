//! numpy's `.npy` format: [`NpyHeader`] (the crate's one `.npy` header parser), [`NpySource`]
//! (a file read region by region with `pread`), [`store_npy`] (any array written front to
//! back in bounded memory) and [`decode_npy`] / [`encode_npy`] (a whole `.npy` held in
//! memory, as `.npy` tiles arrive).

mod memory;
mod sink;
mod source;

pub use memory::{decode_npy, encode_npy};
pub use sink::{npy_buffers, store_npy, NpyStoreOptions, NpyStoreReport};
pub use source::{contiguous_chunks, descr, FromBytes, NpyHeader, NpySource, DEFAULT_CHUNK_BYTES};
pub(crate) use source::{decode_elements, from_fortran_storage};
