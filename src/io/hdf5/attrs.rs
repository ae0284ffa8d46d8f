//! [`AttrValue`]: the value of an HDF5 attribute (numbers, booleans or text), read when a
//! dataset's or group's metadata is listed.

use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
use std::collections::BTreeMap;
use std::fmt;

/// The value of one HDF5 attribute. Scalars are one-element vectors.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    /// Signed integers.
    Int(Vec<i64>),
    /// Unsigned integers.
    UInt(Vec<u64>),
    /// Floating-point numbers.
    Float(Vec<f64>),
    /// Booleans (numpy `bool`, stored by h5py as an HDF5 enum).
    Bool(Vec<bool>),
    /// Strings (fixed or variable length, ASCII or UTF-8).
    Text(Vec<String>),
    /// A type vastarray does not read (compound, reference, ...), with its description.
    Unsupported(String),
}

impl AttrValue {
    /// The numeric values as `f64` (booleans as 0 and 1); `None` for text and unsupported types.
    pub fn as_f64s(&self) -> Option<Vec<f64>> {
        match self {
            AttrValue::Int(v) => Some(v.iter().map(|&x| x as f64).collect()),
            AttrValue::UInt(v) => Some(v.iter().map(|&x| x as f64).collect()),
            AttrValue::Float(v) => Some(v.clone()),
            AttrValue::Bool(v) => Some(v.iter().map(|&x| f64::from(u8::from(x))).collect()),
            AttrValue::Text(_) | AttrValue::Unsupported(_) => None,
        }
    }

    /// The first string of a text attribute.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Text(v) => v.first().map(String::as_str),
            _ => None,
        }
    }
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T: fmt::Debug>(f: &mut fmt::Formatter<'_>, v: &[T]) -> fmt::Result {
            if v.len() == 1 {
                write!(f, "{:?}", v[0])
            } else {
                write!(f, "{v:?}")
            }
        }
        match self {
            AttrValue::Int(v) => list(f, v),
            AttrValue::UInt(v) => list(f, v),
            AttrValue::Float(v) => list(f, v),
            AttrValue::Bool(v) => list(f, v),
            AttrValue::Text(v) => list(f, v),
            AttrValue::Unsupported(d) => write!(f, "<{d}>"),
        }
    }
}

/// Reads every attribute of an object. An attribute that cannot be read becomes
/// [`AttrValue::Unsupported`] with the reason, so one odd attribute does not hide the others.
pub(super) fn read_attributes(loc: &hdf5::Location) -> hdf5::Result<BTreeMap<String, AttrValue>> {
    let mut out = BTreeMap::new();
    for name in loc.attr_names()? {
        let value = match loc.attr(&name) {
            Ok(attr) => {
                read_attribute(&attr).unwrap_or_else(|e| AttrValue::Unsupported(e.to_string()))
            }
            Err(e) => AttrValue::Unsupported(e.to_string()),
        };
        out.insert(name, value);
    }
    Ok(out)
}

/// Reads one attribute's value.
pub(super) fn read_attribute(attr: &hdf5::Attribute) -> hdf5::Result<AttrValue> {
    let dtype = attr.dtype()?;
    let desc = match dtype.to_descriptor() {
        Ok(d) => d,
        Err(e) => return Ok(AttrValue::Unsupported(e.to_string())),
    };
    let value = match &desc {
        TypeDescriptor::Integer(_) => AttrValue::Int(attr.read_raw::<i64>()?),
        TypeDescriptor::Unsigned(_) => AttrValue::UInt(attr.read_raw::<u64>()?),
        TypeDescriptor::Float(_) => AttrValue::Float(attr.read_raw::<f64>()?),
        TypeDescriptor::Boolean => AttrValue::Bool(attr.read_raw::<bool>()?),
        TypeDescriptor::VarLenUnicode => AttrValue::Text(
            attr.read_raw::<VarLenUnicode>()?
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        ),
        TypeDescriptor::VarLenAscii => AttrValue::Text(
            attr.read_raw::<VarLenAscii>()?
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        ),
        TypeDescriptor::FixedAscii(n) | TypeDescriptor::FixedUnicode(n) => {
            AttrValue::Text(read_fixed_strings(attr, &dtype, *n)?)
        }
        other => AttrValue::Unsupported(format!("HDF5 type {other}")),
    };
    Ok(value)
}

/// Reads fixed-length strings as their stored bytes (the file type is the memory type, so no
/// conversion is asked of the library), cut at the first NUL and trailing spaces.
fn read_fixed_strings(
    attr: &hdf5::Attribute,
    dtype: &hdf5::Datatype,
    len: usize,
) -> hdf5::Result<Vec<String>> {
    let count = attr.space()?.size();
    let mut buf = vec![0u8; count.saturating_mul(len)];
    if buf.is_empty() {
        return Ok(vec![]);
    }
    let status = hdf5::sync::sync(|| {
        // SAFETY: `buf` holds `count` elements of the attribute's own type (`len` bytes each),
        // which is what H5Aread writes when the memory type is the file type.
        unsafe { hdf5_sys::h5a::H5Aread(attr.id(), dtype.id(), buf.as_mut_ptr().cast()) }
    });
    if status < 0 {
        return Err(hdf5::Error::from(format!(
            "reading fixed-length string attribute {}",
            attr.name()
        )));
    }
    Ok(buf
        .chunks(len.max(1))
        .map(|s| {
            let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
            String::from_utf8_lossy(&s[..end]).trim_end().to_owned()
        })
        .collect())
}
