//! Dimensions of netCDF-4 variables: the HDF5 dimension scales a dataset's `DIMENSION_LIST`
//! attribute points to, their names, and the length netCDF gives an unlimited dimension.
//!
//! netCDF-4 stores each dimension as a dataset marked `CLASS = "DIMENSION_SCALE"` (the
//! coordinate variable itself when there is one, else a placeholder whose `NAME` says "This is
//! a netCDF dimension but not a netCDF variable"); each variable lists its dimensions, one
//! object reference per axis, in `DIMENSION_LIST`. A variable written for fewer steps than
//! its unlimited dimension has a smaller HDF5 extent than netCDF reports: netCDF's length is
//! the largest extent along that dimension among the scale and every variable using it
//! (netCDF-C's `nc4_find_dim_len`).
//!
//! Broken or hostile dimension metadata never fails an open: a reference that cannot be
//! followed leaves the axis without a dimension.

use hdf5::types::VarLenArray;
use hdf5::{ObjectReference, ObjectReference1, ReferencedObject};

/// Marker netCDF-C writes in the `NAME` of a dimension that has no coordinate variable.
const NOT_A_VARIABLE: &str = "This is a netCDF dimension but not a netCDF variable";

/// Datasets visited at most when looking for the variables that share a dimension.
const MAX_VISITED: usize = 100_000;

/// Group nesting followed at most in that walk.
const MAX_DEPTH: usize = 32;

/// One axis's dimension.
#[derive(Clone, Debug, PartialEq)]
pub struct Dimension {
    /// The dimension's name (the scale dataset's name).
    pub name: String,
    /// The scale dataset's absolute path.
    pub scale_path: String,
    /// True when the scale is a coordinate variable (holds values), not a placeholder.
    pub is_coordinate: bool,
    /// True when the dimension can grow (an unlimited netCDF dimension).
    pub unlimited: bool,
    /// The dimension's length as netCDF reports it.
    pub length: usize,
}

/// The dimension scale each axis of `ds` is attached to (`None` for axes without one, and for
/// datasets without `DIMENSION_LIST`). Lengths are the scales' own extents (see
/// [`netcdf_lengths`] for the netCDF rule).
pub(super) fn dimensions_of(file: &hdf5::File, ds: &hdf5::Dataset) -> Vec<Option<Dimension>> {
    let ndim = ds.ndim();
    if ndim == 1 && is_scale(ds) {
        // A coordinate variable is its own dimension.
        return vec![dimension_of_scale(ds)];
    }
    let refs = dimension_refs(ds);
    let Some(refs) = refs.filter(|r| r.len() == ndim) else {
        return vec![None; ndim];
    };
    refs.iter()
        .map(|r| r.and_then(|r| scale_dimension(file, r)))
        .collect()
}

/// Replaces the length of each unlimited dimension by netCDF's: the largest extent along it
/// among the scale and every dataset of the file that uses it.
pub(super) fn netcdf_lengths(file: &hdf5::File, dims: &mut [Option<Dimension>]) {
    if !dims.iter().flatten().any(|d| d.unlimited) {
        return;
    }
    let mut visited = 0usize;
    visit_datasets(file, 0, &mut visited, &mut |ds| {
        let Some(refs) = dimension_refs(ds) else {
            return;
        };
        let shape = ds.shape();
        if refs.len() != shape.len() {
            return;
        }
        for (axis, r) in refs.iter().enumerate() {
            let Some(path) = r.and_then(|r| referenced_path(file, r)) else {
                continue;
            };
            for d in dims.iter_mut().flatten() {
                if d.unlimited && d.scale_path == path {
                    d.length = d.length.max(shape[axis]);
                }
            }
        }
    });
}

/// The first object reference of each entry of `DIMENSION_LIST` (`None` for an empty entry);
/// `None` when there is no such attribute or it cannot be read.
fn dimension_refs(ds: &hdf5::Dataset) -> Option<Vec<Option<ObjectReference1>>> {
    if !ds.attr_names().ok()?.iter().any(|n| n == "DIMENSION_LIST") {
        return None;
    }
    let attr = ds.attr("DIMENSION_LIST").ok()?;
    let lists = attr.read_raw::<VarLenArray<ObjectReference1>>().ok()?;
    Some(lists.iter().map(|l| l.first().copied()).collect())
}

/// The absolute path of the dataset a reference points to.
fn referenced_path(file: &hdf5::File, r: ObjectReference1) -> Option<String> {
    match r.dereference(file).ok()? {
        ReferencedObject::Dataset(ds) => Some(ds.name()),
        _ => None,
    }
}

/// True when `ds` is marked as a dimension scale (`CLASS = "DIMENSION_SCALE"`).
fn is_scale(ds: &hdf5::Dataset) -> bool {
    ds.attr_names()
        .is_ok_and(|names| names.iter().any(|n| n == "CLASS"))
        && ds
            .attr("CLASS")
            .ok()
            .and_then(|a| super::attrs::read_attribute(&a).ok())
            .is_some_and(|v| v.as_str() == Some("DIMENSION_SCALE"))
}

/// The dimension a reference to a scale dataset describes.
fn scale_dimension(file: &hdf5::File, r: ObjectReference1) -> Option<Dimension> {
    let ReferencedObject::Dataset(scale) = r.dereference(file).ok()? else {
        return None;
    };
    dimension_of_scale(&scale)
}

/// The dimension a scale dataset describes.
fn dimension_of_scale(scale: &hdf5::Dataset) -> Option<Dimension> {
    let scale_path = scale.name();
    let name = scale_path
        .rsplit('/')
        .next()
        .unwrap_or(&scale_path)
        .to_string();
    let label = scale
        .attr("NAME")
        .ok()
        .and_then(|a| super::attrs::read_attribute(&a).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let space = scale.space().ok()?;
    let unlimited = space.maxdims().first().is_some_and(Option::is_none);
    let length = scale.shape().first().copied().unwrap_or(0);
    Some(Dimension {
        name,
        scale_path,
        is_coordinate: !label.starts_with(NOT_A_VARIABLE) && scale.ndim() == 1,
        unlimited,
        length,
    })
}

/// Calls `f` on every dataset under `group`, groups followed to [`MAX_DEPTH`], at most
/// [`MAX_VISITED`] datasets.
fn visit_datasets(
    group: &hdf5::Group,
    depth: usize,
    visited: &mut usize,
    f: &mut dyn FnMut(&hdf5::Dataset),
) {
    let Ok(names) = group.member_names() else {
        return;
    };
    for name in names {
        if *visited >= MAX_VISITED {
            return;
        }
        match group.loc_type_by_name(&name) {
            Ok(hdf5::LocationType::Dataset) => {
                if let Ok(ds) = group.dataset(&name) {
                    *visited += 1;
                    f(&ds);
                }
            }
            Ok(hdf5::LocationType::Group) if depth < MAX_DEPTH => {
                if let Ok(g) = group.group(&name) {
                    visit_datasets(&g, depth + 1, visited, f);
                }
            }
            _ => {}
        }
    }
}
