//! Formats read and written by vastarray, one folder per format.

#[cfg(feature = "zarr")]
pub mod zarr;
