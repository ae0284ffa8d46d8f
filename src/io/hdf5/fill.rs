//! Fill values and missing values: what chunks that were never written hold, and the option to
//! turn a dataset's "no data" markers into NaN so NaN-skipping reductions skip them.

use super::meta::Hdf5DatasetInfo;
use crate::data::NdData;
use crate::dtype::DType;
use ndarray::{ArrayD, IxDyn};

/// The dataset's fill value (the library default, 0, when none was set) as a 0-d array of
/// the stored element type.
pub(super) fn dataset_fill_value(ds: &hdf5::Dataset, dtype: DType) -> hdf5::Result<NdData> {
    let dcpl = ds.create_plist()?;
    crate::dispatch_dtype!(dtype, T => {
        let v: T = dcpl.get_fill_value_as::<T>()?.unwrap_or_default();
        Ok(T::wrap(ArrayD::from_elem(IxDyn(&[]), v)))
    })
}

/// An array of `shape` holding the 0-d `fill` everywhere.
pub(super) fn filled(fill: &NdData, shape: &[usize]) -> NdData {
    crate::with_nd!(fill, a: T => {
        let v = a.iter().next().copied().unwrap_or_default();
        T::wrap(ArrayD::from_elem(IxDyn(shape), v))
    })
}

/// The values that mark missing data in a dataset, replaced by NaN when read with
/// [`crate::io::hdf5::Hdf5Options::missing_as_nan`].
///
/// They are: the fill value, when the writer set one explicitly (the library default 0 is a
/// real value, not a marker), and the values of the attributes `_FillValue` and
/// `missing_value` (netCDF-4 and CF conventions), which may hold several values.
///
/// Float datasets keep their type; integer datasets that have markers are delivered as
/// `float64` (NaN needs a float; integers beyond 2^53 lose precision). Boolean datasets and
/// datasets without markers are delivered unchanged.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MissingValues {
    values: Vec<f64>,
}

impl MissingValues {
    /// The markers of a dataset.
    pub fn of(info: &Hdf5DatasetInfo) -> Self {
        let mut values: Vec<f64> = info.user_fill_value.into_iter().collect();
        for name in ["_FillValue", "missing_value"] {
            if let Some(v) = info.attributes.get(name).and_then(|a| a.as_f64s()) {
                values.extend(v);
            }
        }
        values.retain(|v| !v.is_nan());
        values.sort_by(f64::total_cmp);
        values.dedup();
        MissingValues { values }
    }

    /// The marker values (NaN markers are left out: they are NaN already).
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The type of the data after markers become NaN.
    pub fn output_dtype(&self, dtype: DType) -> DType {
        if self.values.is_empty() || dtype == DType::Bool || dtype.is_float() {
            dtype
        } else {
            DType::F64
        }
    }

    /// Replaces the markers in `data` by NaN (converting integers to `float64` first).
    pub fn apply(&self, data: NdData) -> NdData {
        if self.values.is_empty() {
            return data;
        }
        match data {
            NdData::F32(mut a) => {
                let marks: Vec<f32> = self.values.iter().map(|&v| v as f32).collect();
                a.mapv_inplace(|x| if marks.contains(&x) { f32::NAN } else { x });
                NdData::F32(a)
            }
            NdData::F64(mut a) => {
                a.mapv_inplace(|x| {
                    if self.values.contains(&x) {
                        f64::NAN
                    } else {
                        x
                    }
                });
                NdData::F64(a)
            }
            NdData::Bool(a) => NdData::Bool(a),
            other => {
                let a = other.to_f64().mapv(|x| {
                    if self.values.contains(&x) {
                        f64::NAN
                    } else {
                        x
                    }
                });
                NdData::F64(a)
            }
        }
    }
}
