//! CF decoding of netCDF-4 / HDF5 variables, as xarray's `decode_cf` and netCDF4-python's
//! auto mask-and-scale do, applied lazily to each chunk as it is read.
//!
//! - [`CfDecoding`]: what a variable's attributes ask for: `_FillValue` and `missing_value`
//!   (one value or several) and values outside `valid_min` / `valid_max` / `valid_range`
//!   become NaN; `scale_factor` and `add_offset` unpack. The result type follows xarray's
//!   `_choose_float_dtype`: with both `scale_factor` and `add_offset` of one float type, that
//!   type (but float64 for 32-bit integers); an `add_offset` alone or of mixed types, float64;
//!   a `scale_factor` alone, its type; without either, float32 for floats of 4 bytes and
//!   integers of at most 2 bytes, float64 for the rest.
//! - [`CfSource`]: an [`Hdf5Source`] (which returns stored values) with that decoding applied
//!   in one pass over each chunk or region read, and with the netCDF length of unlimited
//!   dimensions: positions past the dataset's extent were never written and read as its fill
//!   value (then missing, when the fill value is a marker). [`CfSource::open_with`] with `raw`
//!   set keeps the stored values (the netCDF shape still applies).

use super::attrs::AttrValue;
use super::dims::{dimensions_of, netcdf_lengths, Dimension};
use super::fill::{dataset_fill_value, filled};
use super::meta::Hdf5DatasetInfo;
use super::source::{open_h5_dataset, open_h5_file, Hdf5Options, Hdf5Source};
use crate::data::{CastTo, NdData};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::source::{copy_overlap, read_checked, ChunkGrid, ChunkSource};
use ndarray::ArrayD;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

/// The attributes that make a dataset CF-encoded.
pub const CF_ATTRIBUTES: [&str; 7] = [
    "_FillValue",
    "missing_value",
    "valid_min",
    "valid_max",
    "valid_range",
    "scale_factor",
    "add_offset",
];

/// Coordinate variables up to this length are read whole for their range; longer ones only
/// at their ends (coordinates are monotonic in CF), so opening a variable stays cheap.
const MAX_COORDINATE_READ: usize = 1 << 16;

/// How a CF-encoded variable's stored values become its values.
#[derive(Clone, Debug, PartialEq)]
pub struct CfDecoding {
    stored: DType,
    output: DType,
    markers: Vec<f64>,
    valid_min: Option<f64>,
    valid_max: Option<f64>,
    scale: Option<f64>,
    offset: Option<f64>,
}

impl CfDecoding {
    /// The decoding a variable of stored type `stored` with `attributes` asks for; `None`
    /// when it carries none of [`CF_ATTRIBUTES`] (or is boolean). `float32_attr` says whether
    /// the named attribute is stored as float32 (xarray picks the result type from it).
    pub fn from_attributes(
        stored: DType,
        attributes: &BTreeMap<String, AttrValue>,
        float32_attr: &dyn Fn(&str) -> bool,
    ) -> Option<Self> {
        if stored == DType::Bool || !CF_ATTRIBUTES.iter().any(|a| attributes.contains_key(*a)) {
            return None;
        }
        let numbers = |name: &str| attributes.get(name).and_then(AttrValue::as_f64s);
        let first = |name: &str| numbers(name).and_then(|v| v.first().copied());
        let mut markers: Vec<f64> = ["_FillValue", "missing_value"]
            .iter()
            .filter_map(|n| numbers(n))
            .flatten()
            .filter(|v| !v.is_nan())
            .collect();
        markers.sort_by(f64::total_cmp);
        markers.dedup();
        let range = numbers("valid_range").filter(|v| v.len() == 2);
        let valid_min = first("valid_min").or(range.as_ref().map(|r| r[0]));
        let valid_max = first("valid_max").or(range.as_ref().map(|r| r[1]));
        let scale = first("scale_factor");
        let offset = first("add_offset");
        let output = choose_float_dtype(stored, attributes, scale, offset, float32_attr);
        Some(CfDecoding {
            stored,
            output,
            markers,
            valid_min: valid_min.filter(|v| !v.is_nan()),
            valid_max: valid_max.filter(|v| !v.is_nan()),
            scale,
            offset,
        })
    }

    /// The stored element type.
    pub fn stored_dtype(&self) -> DType {
        self.stored
    }

    /// The element type of decoded values (float32 or float64).
    pub fn output_dtype(&self) -> DType {
        self.output
    }

    /// The values that mark missing data (`_FillValue`, `missing_value`; NaN left out).
    pub fn markers(&self) -> &[f64] {
        &self.markers
    }

    /// The valid range (`valid_min`, `valid_max`, or `valid_range`); values outside are missing.
    pub fn valid_range(&self) -> (Option<f64>, Option<f64>) {
        (self.valid_min, self.valid_max)
    }

    /// `scale_factor` and `add_offset`, if given.
    pub fn packing(&self) -> (Option<f64>, Option<f64>) {
        (self.scale, self.offset)
    }

    /// A one-line description: `mask [-9999], valid [0, 400], x * 0.01 + 273.15 -> float32`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.markers.is_empty() {
            parts.push(format!("mask {:?}", self.markers));
        }
        match (self.valid_min, self.valid_max) {
            (None, None) => {}
            (lo, hi) => parts.push(format!(
                "valid [{}, {}]",
                lo.map_or("-inf".into(), |v| v.to_string()),
                hi.map_or("inf".into(), |v| v.to_string())
            )),
        }
        match (self.scale, self.offset) {
            (None, None) => {}
            (s, o) => parts.push(format!("x * {} + {}", s.unwrap_or(1.0), o.unwrap_or(0.0))),
        }
        parts.push(format!("{} -> {}", self.stored, self.output));
        parts.join(", ")
    }

    /// Decodes stored values: markers and values outside the valid range become NaN, the rest
    /// are unpacked, in one pass (in place when the stored type is the result type).
    pub fn decode(&self, data: NdData) -> NdData {
        match self.output {
            DType::F32 => NdData::F32(self.decode_as::<f32>(data)),
            _ => NdData::F64(self.decode_as::<f64>(data)),
        }
    }

    fn decode_as<O: Unpacked>(&self, data: NdData) -> ArrayD<O> {
        let p = Params::<O>::new(self);
        match O::take_same(data) {
            Ok(mut a) => {
                match a.as_slice_memory_order_mut() {
                    Some(s) => p.run_in_place(s),
                    None => a.mapv_inplace(|x| p.one(x)),
                }
                a
            }
            Err(data) => crate::with_nd!(data, a: T => {
                let a = if a.is_standard_layout() { a } else { a.as_standard_layout().into_owned() };
                let src = a.as_slice().unwrap_or(&[]);
                let mut out: Vec<O> = Vec::with_capacity(src.len());
                p.run_into(src, &mut out);
                ArrayD::from_shape_vec(a.raw_dim(), out).unwrap_or_else(|_| ArrayD::zeros(a.raw_dim()))
            }),
        }
    }
}

/// xarray's `_choose_float_dtype` (coding/variables.py).
fn choose_float_dtype(
    stored: DType,
    attributes: &BTreeMap<String, AttrValue>,
    scale: Option<f64>,
    offset: Option<f64>,
    float32_attr: &dyn Fn(&str) -> bool,
) -> DType {
    let attr_type = |name: &str| match attributes.get(name) {
        Some(AttrValue::Float(_)) if float32_attr(name) => Some(DType::F32),
        Some(AttrValue::Float(_)) => Some(DType::F64),
        Some(_) => None,
        None => None,
    };
    if scale.is_some() || offset.is_some() {
        let st = attr_type("scale_factor");
        let ot = attr_type("add_offset");
        if scale.is_some() && offset.is_some() && st.is_some() && st == ot {
            if stored.size() == 4 && !stored.is_float() {
                return DType::F64;
            }
            return st.unwrap_or(DType::F64);
        }
        if offset.is_some() {
            return DType::F64;
        }
        return st.unwrap_or(DType::F64);
    }
    if stored.is_float() && stored.size() <= 4 {
        return DType::F32;
    }
    if !stored.is_float() && stored.size() <= 2 {
        return DType::F32;
    }
    DType::F64
}

/// float32 or float64: the types decoded values have.
trait Unpacked: num_traits::Float + crate::Element + Send + Sync + std::fmt::Debug + 'static {
    /// `t` converted as numpy's `astype` does.
    fn cast_from<T: CastTo<f32> + CastTo<f64>>(t: T) -> Self;
    /// The array itself when `data` already has this type.
    fn take_same(data: NdData) -> std::result::Result<ArrayD<Self>, NdData>;
}

impl Unpacked for f32 {
    fn cast_from<T: CastTo<f32> + CastTo<f64>>(t: T) -> Self {
        CastTo::<f32>::cast_to(t)
    }
    fn take_same(data: NdData) -> std::result::Result<ArrayD<Self>, NdData> {
        match data {
            NdData::F32(a) => Ok(a),
            other => Err(other),
        }
    }
}

impl Unpacked for f64 {
    fn cast_from<T: CastTo<f32> + CastTo<f64>>(t: T) -> Self {
        CastTo::<f64>::cast_to(t)
    }
    fn take_same(data: NdData) -> std::result::Result<ArrayD<Self>, NdData> {
        match data {
            NdData::F64(a) => Ok(a),
            other => Err(other),
        }
    }
}

/// Markers held inline (padded with NaN, which equals nothing) so the loop has no inner loop
/// and vectorises; more markers than this take a slower loop.
const INLINE_MARKERS: usize = 4;

/// The decoding in the result type.
struct Params<O> {
    marks: [O; INLINE_MARKERS],
    extra: Vec<O>,
    lo: O,
    hi: O,
    scale: Option<O>,
    offset: Option<O>,
}

impl<O: Unpacked> Params<O> {
    fn new(d: &CfDecoding) -> Self {
        let mut marks = [O::nan(); INLINE_MARKERS];
        let all: Vec<O> = d
            .markers
            .iter()
            .map(|&v| <O as Unpacked>::cast_from::<f64>(v))
            .collect();
        let extra = if all.len() > INLINE_MARKERS {
            all.clone()
        } else {
            marks[..all.len()].copy_from_slice(&all);
            Vec::new()
        };
        Params {
            marks,
            extra,
            lo: d
                .valid_min
                .map_or(O::neg_infinity(), <O as Unpacked>::cast_from::<f64>),
            hi: d
                .valid_max
                .map_or(O::infinity(), <O as Unpacked>::cast_from::<f64>),
            scale: d.scale.map(<O as Unpacked>::cast_from::<f64>),
            offset: d.offset.map(<O as Unpacked>::cast_from::<f64>),
        }
    }

    #[inline(always)]
    fn missing(&self, x: O) -> bool {
        let [a, b, c, d] = self.marks;
        (x == a) | (x == b) | (x == c) | (x == d) | (x < self.lo) | (x > self.hi)
    }

    /// One value, any path.
    fn one(&self, x: O) -> O {
        if self.missing(x) || self.extra.contains(&x) {
            O::nan()
        } else {
            let x = self.scale.map_or(x, |s| x * s);
            self.offset.map_or(x, |o| x + o)
        }
    }

    fn run_in_place(&self, s: &mut [O]) {
        if !self.extra.is_empty() {
            s.iter_mut().for_each(|x| *x = self.one(*x));
            return;
        }
        // One loop per packing, so none tests for it per element (and -0.0 stays -0.0 when
        // nothing is added).
        match (self.scale, self.offset) {
            (None, None) => self.fill_in_place(s, |x| x),
            (Some(k), None) => self.fill_in_place(s, |x| x * k),
            (None, Some(b)) => self.fill_in_place(s, |x| x + b),
            (Some(k), Some(b)) => self.fill_in_place(s, |x| x * k + b),
        }
    }

    #[inline(always)]
    fn fill_in_place(&self, s: &mut [O], f: impl Fn(O) -> O) {
        let nan = O::nan();
        for x in s {
            let v = *x;
            *x = if self.missing(v) { nan } else { f(v) };
        }
    }

    fn run_into<T: CastTo<f32> + CastTo<f64> + Copy>(&self, src: &[T], out: &mut Vec<O>) {
        if !self.extra.is_empty() {
            out.extend(src.iter().map(|&x| self.one(O::cast_from(x))));
            return;
        }
        match (self.scale, self.offset) {
            (None, None) => self.map_into(src, out, |x| x),
            (Some(k), None) => self.map_into(src, out, |x| x * k),
            (None, Some(b)) => self.map_into(src, out, |x| x + b),
            (Some(k), Some(b)) => self.map_into(src, out, |x| x * k + b),
        }
    }

    #[inline(always)]
    fn map_into<T: CastTo<f32> + CastTo<f64> + Copy>(
        &self,
        src: &[T],
        out: &mut Vec<O>,
        f: impl Fn(O) -> O,
    ) {
        let nan = O::nan();
        out.extend(src.iter().map(|&s| {
            let v = O::cast_from(s);
            if self.missing(v) {
                nan
            } else {
                f(v)
            }
        }));
    }
}

/// The range of a coordinate variable, for `info`.
#[derive(Clone, Debug, PartialEq)]
pub struct CoordinateRange {
    /// The dimension (and coordinate variable) name.
    pub name: String,
    /// Its length.
    pub length: usize,
    /// Smallest and largest decoded value (NaN left out; `None` when all are missing).
    pub range: Option<(f64, f64)>,
    /// Its `units` attribute.
    pub units: Option<String>,
}

/// What netCDF and CF say about a variable (what `info` shows).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct NetcdfVariable {
    /// The dimension of each axis (`None` where the dataset has no dimension scale).
    pub dimensions: Vec<Option<Dimension>>,
    /// The dataset's extent in the file (smaller than the shape where an unlimited dimension
    /// grew beyond what this variable was written for).
    pub stored_shape: Vec<usize>,
    /// The decoding applied (`None`: stored values, because the variable has no CF attribute
    /// or `raw` was asked for).
    pub decoding: Option<CfDecoding>,
    /// The `units` attribute.
    pub units: Option<String>,
    /// The `long_name` attribute.
    pub long_name: Option<String>,
    /// The coordinate variables of the axes, with their ranges.
    pub coordinates: Vec<CoordinateRange>,
}

/// An HDF5 dataset with netCDF dimension lengths and CF decoding, read lazily chunk by chunk.
///
/// ```no_run
/// use vastarray::io::hdf5::{CfSource, Hdf5Options};
/// use vastarray::ChunkSource;
/// let tas = CfSource::open_with("era.nc", "/tas", &Hdf5Options::default(), false).unwrap();
/// println!("{:?} {} (stored {})", tas.shape(), tas.dtype(), tas.hdf5().dtype());
/// ```
pub struct CfSource {
    inner: Hdf5Source,
    grid: ChunkGrid,
    fill: NdData,
    decoding: Option<CfDecoding>,
    variable: NetcdfVariable,
    name: String,
}

impl std::fmt::Debug for CfSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CfSource")
            .field("inner", &self.inner)
            .field("shape", &self.grid.shape())
            .field("decoding", &self.decoding)
            .finish()
    }
}

/// True when the attribute `name` of `ds` is stored as a 4-byte float.
fn attr_is_float32(ds: &hdf5::Dataset, name: &str) -> bool {
    ds.attr(name)
        .and_then(|a| a.dtype())
        .map(|t| t.size() == 4)
        .unwrap_or(false)
}

/// A text attribute.
fn text_attr(info: &Hdf5DatasetInfo, name: &str) -> Option<String> {
    info.attributes
        .get(name)
        .and_then(AttrValue::as_str)
        .map(str::to_owned)
}

impl CfSource {
    /// Opens `dataset` of the HDF5 / netCDF-4 file at `path`: CF-decoded unless `raw`, with
    /// netCDF's length for unlimited dimensions either way.
    pub fn open_with(
        path: impl AsRef<Path>,
        dataset: &str,
        options: &Hdf5Options,
        raw: bool,
    ) -> Result<Self> {
        let path = path.as_ref();
        let file = open_h5_file(path)?;
        let ds = open_h5_dataset(&file, path, dataset)?;
        let mut dims = dimensions_of(&file, &ds);
        netcdf_lengths(&file, &mut dims);
        let float32 = |name: &str| attr_is_float32(&ds, name);
        let mut options = options.clone();
        if !raw {
            // The decoding here replaces the source's own markers-to-NaN.
            options.missing_as_nan = false;
        }
        let inner = Hdf5Source::from_handles(file.clone(), ds.clone(), path, dataset, &options)?;
        let stored = inner.dtype();
        let info = inner.info();
        let decoding = if raw {
            None
        } else {
            CfDecoding::from_attributes(stored, &info.attributes, &float32)
        };
        let stored_shape = inner.shape().to_vec();
        let shape: Vec<usize> = stored_shape
            .iter()
            .zip(&dims)
            .map(|(&n, d)| match d {
                Some(d) if d.unlimited => n.max(d.length),
                _ => n,
            })
            .collect();
        let elements = shape
            .iter()
            .try_fold(stored.size() as u64, |acc, &n| acc.checked_mul(n as u64));
        if elements.is_none() {
            return Err(Error::file(
                path,
                format!(
                    "dataset {dataset}: its dimensions give it the shape {shape:?}, which holds more than 2^64 bytes"
                ),
            ));
        }
        let grid = ChunkGrid::new(shape, inner.chunk_shape().to_vec());
        let fill = dataset_fill_value(&ds, stored).map_err(|e| {
            Error::file(
                path,
                format!("dataset {dataset}: reading the fill value: {e}"),
            )
        })?;
        let variable = NetcdfVariable {
            dimensions: dims,
            stored_shape,
            decoding: decoding.clone(),
            units: text_attr(info, "units"),
            long_name: text_attr(info, "long_name"),
            coordinates: Vec::new(),
        };
        Ok(CfSource {
            name: inner.name(),
            inner,
            grid,
            fill,
            decoding,
            variable,
        })
    }

    /// The HDF5 dataset underneath (stored values, stored extent).
    pub fn hdf5(&self) -> &Hdf5Source {
        &self.inner
    }

    /// The decoding applied (`None`: stored values).
    pub fn decoding(&self) -> Option<&CfDecoding> {
        self.decoding.as_ref()
    }

    /// Dimensions, units, long name and decoding (coordinates not read: see
    /// [`CfSource::variable_with_coordinates`]).
    pub fn variable(&self) -> &NetcdfVariable {
        &self.variable
    }

    /// [`CfSource::variable`] with the range of each axis's coordinate variable, read and
    /// decoded now (coordinates longer than 65536 values: from their first and last values).
    pub fn variable_with_coordinates(&self) -> NetcdfVariable {
        let mut v = self.variable.clone();
        let path = self.inner.file_path();
        for d in v.dimensions.iter().flatten() {
            if !d.is_coordinate {
                continue;
            }
            let Ok(c) = CfSource::open_with(path, &d.scale_path, &Hdf5Options::default(), false)
            else {
                continue;
            };
            let len = c.shape().first().copied().unwrap_or(0);
            let parts: Vec<(usize, usize)> = if c.shape().len() != 1 || len == 0 {
                vec![]
            } else if len <= MAX_COORDINATE_READ {
                vec![(0, len)]
            } else {
                vec![(0, 1), (len - 1, len)]
            };
            let range = parts
                .into_iter()
                .filter_map(|(a, b)| c.read_region(std::slice::from_ref(&(a..b))).ok())
                .flat_map(|data| data.to_f64().into_iter())
                .filter(|x| !x.is_nan())
                .fold(None, |acc: Option<(f64, f64)>, x| {
                    Some(acc.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))))
                });
            v.coordinates.push(CoordinateRange {
                name: d.name.clone(),
                length: len,
                range,
                units: c.variable.units.clone(),
            });
        }
        v
    }

    fn decoded(&self, data: NdData) -> NdData {
        match &self.decoding {
            Some(d) => d.decode(data),
            None => data,
        }
    }

    /// `region` clipped to the stored extent (`None` when nothing of it was stored).
    fn stored_part(&self, region: &[Range<usize>]) -> Option<Vec<Range<usize>>> {
        let clipped: Vec<Range<usize>> = region
            .iter()
            .zip(self.inner.shape())
            .map(|(r, &n)| r.start.min(n)..r.end.min(n))
            .collect();
        (!clipped.iter().any(|r| r.is_empty())).then_some(clipped)
    }

    /// The stored values of `region`, the fill value where nothing was stored.
    fn stored_region(
        &self,
        region: &[Range<usize>],
        read: impl FnOnce(&[Range<usize>]) -> Result<NdData>,
    ) -> Result<NdData> {
        let shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
        let Some(part) = self.stored_part(region) else {
            return Ok(filled(&self.fill, &shape));
        };
        let data = read(&part)?;
        if part.as_slice() == region {
            return Ok(data);
        }
        let mut out = filled(&self.fill, &shape);
        copy_overlap(&data, &part, &mut out, region)?;
        Ok(out)
    }
}

impl ChunkSource for CfSource {
    fn shape(&self) -> &[usize] {
        self.grid.shape()
    }

    fn dtype(&self) -> DType {
        self.decoding
            .as_ref()
            .map_or(self.inner.dtype(), CfDecoding::output_dtype)
    }

    fn chunk_shape(&self) -> &[usize] {
        self.grid.chunk_shape()
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        self.grid
            .checked_linear_index(index)
            .map_err(|e| Error::read(self.name(), Some(index), e))?;
        let bx = self.grid.chunk_box(index);
        // The same chunk shape: a chunk that starts inside the stored extent is the stored
        // chunk of the same index, clipped there.
        let data = self.stored_region(&bx, |_| self.inner.read_chunk(index))?;
        Ok(self.decoded(data))
    }

    fn read_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        self.grid
            .check_region(region)
            .map_err(|e| Error::read(self.name(), None, e))?;
        let data = self.stored_region(region, |part| self.inner.read_region(part))?;
        Ok(self.decoded(data))
    }

    fn prefers_region_reads(&self) -> bool {
        self.inner.prefers_region_reads()
    }

    fn cheap_region_reads(&self) -> bool {
        self.inner.cheap_region_reads()
    }

    fn read_chunks(&self, indices: &[Vec<usize>]) -> Result<Vec<NdData>> {
        if self.inner.raw_path_available() {
            indices.par_iter().map(|i| read_checked(self, i)).collect()
        } else {
            indices.iter().map(|i| read_checked(self, i)).collect()
        }
    }

    fn identity(&self) -> Option<String> {
        self.inner.identity().map(|id| {
            format!(
                "{id}:shape={:?}:{}",
                self.grid.shape(),
                if self.decoding.is_some() { "cf" } else { "raw" }
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    fn attrs(list: &[(&str, AttrValue)]) -> BTreeMap<String, AttrValue> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn f(v: &[f64]) -> AttrValue {
        AttrValue::Float(v.to_vec())
    }

    /// xarray's `_choose_float_dtype`, case by case.
    #[test]
    #[allow(clippy::type_complexity)]
    fn result_types_follow_xarray() {
        let f32_attrs = |_: &str| true;
        let f64_attrs = |_: &str| false;
        let packed = attrs(&[("scale_factor", f(&[0.01])), ("add_offset", f(&[273.15]))]);
        let scale = attrs(&[("scale_factor", f(&[0.5]))]);
        let offset = attrs(&[("add_offset", f(&[1.0]))]);
        let fill = attrs(&[("_FillValue", AttrValue::Int(vec![-1]))]);
        let cases: [(
            DType,
            &BTreeMap<String, AttrValue>,
            &dyn Fn(&str) -> bool,
            DType,
        ); 9] = [
            (DType::I16, &packed, &f32_attrs, DType::F32),
            (DType::I16, &packed, &f64_attrs, DType::F64),
            (DType::I32, &packed, &f32_attrs, DType::F64),
            (DType::U8, &scale, &f32_attrs, DType::F32),
            (DType::I8, &offset, &f32_attrs, DType::F64),
            (DType::I16, &fill, &f32_attrs, DType::F32),
            (DType::I32, &fill, &f32_attrs, DType::F64),
            (DType::F32, &fill, &f32_attrs, DType::F32),
            (DType::F64, &fill, &f32_attrs, DType::F64),
        ];
        for (stored, a, is32, want) in cases {
            let d = CfDecoding::from_attributes(stored, a, is32).unwrap();
            assert_eq!(d.output_dtype(), want, "{stored} {a:?}");
        }
        assert!(CfDecoding::from_attributes(DType::F32, &attrs(&[]), &f32_attrs).is_none());
        assert!(CfDecoding::from_attributes(DType::Bool, &fill, &f32_attrs).is_none());
    }

    /// Masking and unpacking against a hand-written loop, through both paths (in place and
    /// converting), with more markers than are held inline.
    #[test]
    fn decode_matches_a_loop() {
        let a = attrs(&[
            ("_FillValue", f(&[-9999.0])),
            ("missing_value", f(&[-1.0, -2.0, -3.0, -4.0, -5.0])),
            ("valid_range", f(&[-100.0, 100.0])),
        ]);
        let values = [
            -9999.0,
            -1.0,
            -5.0,
            -6.0,
            0.0,
            -0.0,
            100.0,
            101.0,
            -101.0,
            f64::NAN,
        ];
        let want = |x: f64| {
            let masked = [-9999.0, -1.0, -2.0, -3.0, -4.0, -5.0].contains(&x)
                || !(-100.0..=100.0).contains(&x);
            if masked || x.is_nan() {
                f64::NAN
            } else {
                x
            }
        };
        let d = CfDecoding::from_attributes(DType::F64, &a, &|_| false).unwrap();
        let data = NdData::F64(ArrayD::from_shape_vec(IxDyn(&[10]), values.to_vec()).unwrap());
        let NdData::F64(out) = d.decode(data) else {
            panic!("type")
        };
        for (x, y) in values.iter().zip(out.iter()) {
            assert_eq!(want(*x).to_bits(), y.to_bits(), "{x}");
        }
        // int16 packed with float32 attributes: float32 arithmetic, as xarray.
        let p = attrs(&[
            ("scale_factor", f(&[0.01f32 as f64])),
            ("add_offset", f(&[273.15f32 as f64])),
            ("_FillValue", AttrValue::Int(vec![-32767])),
        ]);
        let d = CfDecoding::from_attributes(DType::I16, &p, &|_| true).unwrap();
        let stored: Vec<i16> = vec![-32767, -32768, 0, 1, 2500, 32767];
        let data = NdData::I16(ArrayD::from_shape_vec(IxDyn(&[2, 3]), stored.clone()).unwrap());
        let NdData::F32(out) = d.decode(data) else {
            panic!("type")
        };
        assert_eq!(out.shape(), &[2, 3]);
        for (s, y) in stored.iter().zip(out.iter()) {
            let want = if *s == -32767 {
                f32::NAN
            } else {
                f32::from(*s) * 0.01f32 + 273.15f32
            };
            assert_eq!(want.to_bits(), y.to_bits(), "{s}");
        }
        // No packing: -0.0 stays -0.0 (nothing is added to it).
        let m = attrs(&[("missing_value", f(&[7.0]))]);
        let d = CfDecoding::from_attributes(DType::F32, &m, &|_| true).unwrap();
        let NdData::F32(out) = d.decode(NdData::F32(
            ArrayD::from_shape_vec(IxDyn(&[2]), vec![-0.0f32, 7.0]).unwrap(),
        )) else {
            panic!("type")
        };
        assert!(out[0].is_sign_negative() && out[0] == 0.0 && out[1].is_nan());
    }
}
