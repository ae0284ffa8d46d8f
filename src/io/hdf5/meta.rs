//! [`Hdf5DatasetInfo`]: what vastarray knows about an HDF5 dataset without reading its values
//! (shape, element type, layout, chunk shape, filters, fill value and attributes), and the
//! mapping from HDF5 types to [`DType`].

use super::attrs::{read_attributes, AttrValue};
use super::filters::PipelineFilter;
use crate::dtype::DType;
use crate::error::{Error, Result};
use hdf5::dataset::Layout;
use hdf5::filters::Filter;
use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How a dataset's values are laid out in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hdf5Layout {
    /// In chunks of a fixed shape, each stored (and filtered) separately.
    Chunked,
    /// One contiguous block of bytes, in C order.
    Contiguous,
    /// Inside the object header (small datasets).
    Compact,
    /// Assembled from other datasets (HDF5 virtual datasets).
    Virtual,
}

/// The byte order of the stored elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hdf5ByteOrder {
    /// Little-endian (what h5py writes on x86 and ARM).
    Little,
    /// Big-endian (`">f4"` and friends).
    Big,
    /// Single-byte types, or an order the raw reader does not handle (VAX, mixed).
    Other,
}

/// Metadata of one HDF5 dataset, read without touching its values.
#[derive(Clone, Debug)]
pub struct Hdf5DatasetInfo {
    /// The file holding the dataset.
    pub file: PathBuf,
    /// The dataset's absolute path inside the file (`"/group/dataset"`).
    pub path: String,
    /// The shape (empty for a scalar dataset).
    pub shape: Vec<usize>,
    /// The element type, or `None` when vastarray cannot hold it (strings, compound, complex).
    pub dtype: Option<DType>,
    /// The HDF5 type as text (`"float32"`, `"compound (2 fields)"`, `"unicode (var len)"`).
    pub type_description: String,
    /// The byte order of the stored elements.
    pub byte_order: Hdf5ByteOrder,
    /// How values are laid out in the file.
    pub layout: Hdf5Layout,
    /// The chunk shape of a chunked dataset.
    pub chunks: Option<Vec<usize>>,
    /// The filter pipeline, in the order filters were applied when writing.
    pub filters: Vec<PipelineFilter>,
    /// The fill value (as `f64`) when the writer set one explicitly.
    pub user_fill_value: Option<f64>,
    /// The dataset's attributes.
    pub attributes: BTreeMap<String, AttrValue>,
}

impl Hdf5DatasetInfo {
    /// Reads the metadata of an open dataset. `file` and `path` are used for messages only.
    pub fn from_dataset(ds: &hdf5::Dataset, file: &Path, path: &str) -> Result<Self> {
        let wrap = |what: &str, e: hdf5::Error| {
            Error::file(file, format!("dataset {path}: reading {what}: {e}"))
        };
        let shape = ds.shape();
        let h5type = ds.dtype().map_err(|e| wrap("element type", e))?;
        let (dtype, type_description) = match h5type.to_descriptor() {
            Ok(desc) => (dtype_of(&desc), desc.to_string()),
            Err(e) => (
                None,
                format!(
                    "of {} bytes that hdf5-metno cannot describe ({e})",
                    h5type.size()
                ),
            ),
        };
        let byte_order = match (dtype.map(DType::size), h5type.byte_order()) {
            (Some(1), _) => Hdf5ByteOrder::Other,
            (_, hdf5::datatype::ByteOrder::LittleEndian) => Hdf5ByteOrder::Little,
            (_, hdf5::datatype::ByteOrder::BigEndian) => Hdf5ByteOrder::Big,
            _ => Hdf5ByteOrder::Other,
        };
        let dcpl = ds
            .create_plist()
            .map_err(|e| wrap("creation properties", e))?;
        let layout = match dcpl.get_layout().map_err(|e| wrap("layout", e))? {
            Layout::Chunked => Hdf5Layout::Chunked,
            Layout::Contiguous => Hdf5Layout::Contiguous,
            Layout::Compact => Hdf5Layout::Compact,
            Layout::Virtual => Hdf5Layout::Virtual,
        };
        let chunks = if layout == Hdf5Layout::Chunked {
            dcpl.get_chunk().map_err(|e| wrap("chunk shape", e))?
        } else {
            None
        };
        let filters = dcpl
            .get_filters()
            .map_err(|e| wrap("filter pipeline", e))?
            .iter()
            .map(pipeline_filter)
            .collect();
        let user_fill_value = match dcpl.get_fill_value_defined() {
            Ok(hdf5::dataset::FillValue::UserDefined) => dcpl
                .get_fill_value_as::<f64>()
                .ok()
                .flatten()
                .filter(|_| dtype.is_some_and(|t| t != DType::Bool)),
            _ => None,
        };
        let attributes = read_attributes(ds).map_err(|e| wrap("attributes", e))?;
        Ok(Hdf5DatasetInfo {
            file: file.to_path_buf(),
            path: path.to_owned(),
            shape,
            dtype,
            type_description,
            byte_order,
            layout,
            chunks,
            filters,
            user_fill_value,
            attributes,
        })
    }

    /// The element type, or a clear error naming the file, the dataset and its HDF5 type.
    pub fn require_dtype(&self) -> Result<DType> {
        self.dtype.ok_or_else(|| {
            Error::DType(format!(
                "{}: dataset {} has HDF5 type {}, which vastarray cannot hold (supported: bool, \
                 signed and unsigned integers of 8 to 64 bits, float32, float64)",
                self.file.display(),
                self.path,
                self.type_description
            ))
        })
    }

    /// True when vastarray can undo every filter of the pipeline itself.
    pub fn filters_decodable(&self) -> bool {
        self.filters.iter().all(PipelineFilter::decodable)
    }

    /// The `vastarray_complete` mark a vastarray store leaves on the datasets it writes:
    /// `Some(false)` while a store is running or after one failed, `Some(true)` when it
    /// finished, `None` for datasets not written by vastarray.
    pub fn vastarray_complete(&self) -> Option<bool> {
        self.attributes
            .get(crate::io::hdf5::COMPLETE_ATTR)
            .and_then(AttrValue::as_f64s)
            .and_then(|v| v.first().map(|&x| x != 0.0))
    }
}

/// The vastarray element type of an HDF5 type, if it has one.
pub fn dtype_of(desc: &TypeDescriptor) -> Option<DType> {
    Some(match desc {
        TypeDescriptor::Boolean => DType::Bool,
        TypeDescriptor::Integer(IntSize::U1) => DType::I8,
        TypeDescriptor::Integer(IntSize::U2) => DType::I16,
        TypeDescriptor::Integer(IntSize::U4) => DType::I32,
        TypeDescriptor::Integer(IntSize::U8) => DType::I64,
        TypeDescriptor::Unsigned(IntSize::U1) => DType::U8,
        TypeDescriptor::Unsigned(IntSize::U2) => DType::U16,
        TypeDescriptor::Unsigned(IntSize::U4) => DType::U32,
        TypeDescriptor::Unsigned(IntSize::U8) => DType::U64,
        TypeDescriptor::Float(FloatSize::U4) => DType::F32,
        TypeDescriptor::Float(FloatSize::U8) => DType::F64,
        _ => return None,
    })
}

/// The raw reader's view of one configured filter.
fn pipeline_filter(f: &Filter) -> PipelineFilter {
    match f {
        Filter::Deflate(level) => PipelineFilter::Deflate(*level),
        Filter::Shuffle => PipelineFilter::Shuffle,
        Filter::Fletcher32 => PipelineFilter::Fletcher32,
        other => {
            let id = other.id();
            let name = match id {
                4 => "szip",
                5 => "n-bit",
                6 => "scale-offset",
                32000 => "LZF",
                32001 => "Blosc",
                32004 => "LZ4",
                32008 => "bitshuffle",
                32013 => "ZFP",
                32015 => "Zstandard",
                32026 => "Blosc2",
                _ => "user-defined filter",
            };
            PipelineFilter::Other {
                id,
                name: name.to_owned(),
            }
        }
    }
}
