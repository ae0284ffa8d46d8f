//! Storing arrays into HDF5 datasets.

/// The attribute a store sets to 0 when it starts writing a dataset and to 1 when it has
/// written everything.
pub const COMPLETE_ATTR: &str = "vastarray_complete";
