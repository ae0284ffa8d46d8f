//! Element types: the run-time [`DType`] tag, the compile-time [`Element`] trait, and numpy's
//! promotion rules between them.
//!
//! ```
//! use vastarray::DType;
//! assert_eq!(DType::parse("uint8").unwrap(), DType::U8);
//! assert_eq!(DType::promote(DType::I16, DType::F32), DType::F32);
//! assert_eq!(DType::promote(DType::U8, DType::I8), DType::I16);
//! // A Python-style scalar takes the array's type (numpy 2), unless a float meets integers.
//! assert_eq!(DType::U8.promote_weak_scalar(false), DType::U8);
//! assert_eq!(DType::F32.size(), 4);
//! ```

use crate::data::NdData;
use crate::error::{Error, Result};
use ndarray::ArrayD;
use std::fmt;

/// The element type of an array, known at run time (what a file says it holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// `bool`, for masks and comparisons.
    Bool,
    /// `i8`
    I8,
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `u8`
    U8,
    /// `u16`
    U16,
    /// `u32`
    U32,
    /// `u64`
    U64,
    /// `f32`
    F32,
    /// `f64`
    F64,
}

impl DType {
    /// Every supported type, in a fixed order.
    pub const ALL: [DType; 11] = [
        DType::Bool,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::F32,
        DType::F64,
    ];

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::I8 | DType::U8 => 1,
            DType::I16 | DType::U16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 => 8,
        }
    }

    /// numpy's name for the type (`"float32"`, `"uint16"`, `"bool"`).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// Parses a numpy type name (`"float32"`, `"f4"`, `"<f4"`, `"uint8"`, `"u1"`, `"bool"`, `"|b1"`).
    pub fn parse(name: &str) -> Result<DType> {
        let n = name.trim().trim_start_matches(['<', '>', '|', '=']);
        let t = match n {
            "bool" | "b1" | "?" => DType::Bool,
            "int8" | "i1" => DType::I8,
            "int16" | "i2" => DType::I16,
            "int32" | "i4" => DType::I32,
            "int64" | "i8" => DType::I64,
            "uint8" | "u1" => DType::U8,
            "uint16" | "u2" => DType::U16,
            "uint32" | "u4" => DType::U32,
            "uint64" | "u8" => DType::U64,
            "float32" | "f4" => DType::F32,
            "float64" | "f8" | "float" => DType::F64,
            _ => return Err(Error::DType(format!("unsupported element type {name:?}"))),
        };
        Ok(t)
    }

    /// True for `f32` and `f64`.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// True for the signed and unsigned integer types (not `bool`).
    pub fn is_int(self) -> bool {
        !self.is_float() && self != DType::Bool
    }

    /// True for the signed integer types.
    pub fn is_signed_int(self) -> bool {
        matches!(self, DType::I8 | DType::I16 | DType::I32 | DType::I64)
    }

    /// True for the unsigned integer types.
    pub fn is_unsigned_int(self) -> bool {
        matches!(self, DType::U8 | DType::U16 | DType::U32 | DType::U64)
    }

    fn int_bits(self) -> u32 {
        (self.size() * 8) as u32
    }

    fn signed_of_bits(bits: u32) -> Option<DType> {
        match bits {
            8 => Some(DType::I8),
            16 => Some(DType::I16),
            32 => Some(DType::I32),
            64 => Some(DType::I64),
            _ => None,
        }
    }

    /// numpy's `result_type` of two arrays of these types (numpy 2 rules, no value-based casting).
    pub fn promote(a: DType, b: DType) -> DType {
        use DType::*;
        if a == b {
            return a;
        }
        match (a, b) {
            (Bool, x) | (x, Bool) => x,
            (F64, _) | (_, F64) => F64,
            (F32, x) | (x, F32) => {
                if x.size() <= 2 {
                    F32
                } else {
                    F64
                }
            }
            _ => {
                // Two different integer types.
                match (a.is_signed_int(), b.is_signed_int()) {
                    (true, true) | (false, false) => {
                        if a.size() >= b.size() {
                            a
                        } else {
                            b
                        }
                    }
                    _ => {
                        let (s, u) = if a.is_signed_int() { (a, b) } else { (b, a) };
                        if s.int_bits() > u.int_bits() {
                            s
                        } else {
                            DType::signed_of_bits(u.int_bits() * 2).unwrap_or(F64)
                        }
                    }
                }
            }
        }
    }

    /// The type of an array of this type combined with a Python-style *weak* scalar (NEP 50):
    /// an integer scalar keeps the array's type (`bool` becomes `int64`); a float scalar keeps a
    /// float array's type and turns an integer or boolean array into `float64`.
    pub fn promote_weak_scalar(self, scalar_is_float: bool) -> DType {
        match (self, scalar_is_float) {
            (DType::Bool, false) => DType::I64,
            (t, false) => t,
            (t, true) if t.is_float() => t,
            (_, true) => DType::F64,
        }
    }

    /// The floating type that float-valued math (`sqrt`, `exp`, true division of one operand)
    /// gives for this type. numpy gives `float16` for 8-bit types, which vastarray does not
    /// have: it gives `float32` instead.
    pub fn float_result(self) -> DType {
        match self {
            DType::F64 => DType::F64,
            DType::F32 => DType::F32,
            DType::Bool | DType::I8 | DType::U8 | DType::I16 | DType::U16 => DType::F32,
            _ => DType::F64,
        }
    }

    /// The type numpy's `sum` gives: `int64` for signed integers and `bool`, `uint64` for unsigned,
    /// the type itself for floats.
    pub fn sum_result(self) -> DType {
        match self {
            t if t.is_float() => t,
            t if t.is_unsigned_int() => DType::U64,
            _ => DType::I64,
        }
    }

    /// The type numpy's `mean`, `var` and `std` give: the float type itself, `float64` otherwise.
    pub fn mean_result(self) -> DType {
        if self.is_float() {
            self
        } else {
            DType::F64
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A Rust element type that vastarray arrays can hold.
pub trait Element:
    Copy + Send + Sync + fmt::Debug + PartialEq + PartialOrd + Default + 'static
{
    /// The run-time tag of this type.
    const DTYPE: DType;
    /// The value as `f64` (`bool` gives 0 or 1).
    fn to_f64(self) -> f64;
    /// The value converted from `f64` as Rust's `as` does (saturating, NaN to 0 for integers).
    fn from_f64(v: f64) -> Self;
    /// Wraps a typed array into the dynamic [`NdData`].
    fn wrap(a: ArrayD<Self>) -> NdData;
    /// Borrows the typed array inside an [`NdData`] of this type.
    fn peek(d: &NdData) -> Option<&ArrayD<Self>>;
    /// Takes the typed array out of an [`NdData`]; an error if it holds another type.
    fn unwrap(d: NdData) -> Result<ArrayD<Self>>;
}

macro_rules! impl_element {
    ($t:ty, $variant:ident, $to:expr, $from:expr) => {
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            #[inline]
            fn to_f64(self) -> f64 {
                ($to)(self)
            }
            #[inline]
            fn from_f64(v: f64) -> Self {
                ($from)(v)
            }
            fn wrap(a: ArrayD<Self>) -> NdData {
                NdData::$variant(a)
            }
            fn peek(d: &NdData) -> Option<&ArrayD<Self>> {
                match d {
                    NdData::$variant(a) => Some(a),
                    _ => None,
                }
            }
            fn unwrap(d: NdData) -> Result<ArrayD<Self>> {
                match d {
                    NdData::$variant(a) => Ok(a),
                    other => Err(Error::DType(format!(
                        "expected {} data, found {}",
                        DType::$variant,
                        other.dtype()
                    ))),
                }
            }
        }
    };
}

impl_element!(bool, Bool, |v: bool| v as u8 as f64, |v: f64| v != 0.0);
impl_element!(i8, I8, |v: i8| v as f64, |v: f64| v as i8);
impl_element!(i16, I16, |v: i16| v as f64, |v: f64| v as i16);
impl_element!(i32, I32, |v: i32| v as f64, |v: f64| v as i32);
impl_element!(i64, I64, |v: i64| v as f64, |v: f64| v as i64);
impl_element!(u8, U8, |v: u8| v as f64, |v: f64| v as u8);
impl_element!(u16, U16, |v: u16| v as f64, |v: f64| v as u16);
impl_element!(u32, U32, |v: u32| v as f64, |v: f64| v as u32);
impl_element!(u64, U64, |v: u64| v as f64, |v: f64| v as u64);
impl_element!(f32, F32, |v: f32| v as f64, |v: f64| v as f32);
impl_element!(f64, F64, |v: f64| v, |v: f64| v);

/// Runs `$body` with `$T` bound to the Rust type of a run-time [`DType`].
///
/// ```
/// use vastarray::{dispatch_dtype, DType, Element};
/// let size = dispatch_dtype!(DType::U16, T => std::mem::size_of::<T>());
/// assert_eq!(size, 2);
/// ```
#[macro_export]
macro_rules! dispatch_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::DType::Bool => {
                type $T = bool;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::DType::I8 => {
                type $T = i8;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::DType::I16 => {
                type $T = i16;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::DType::I32 => {
                type $T = i32;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::DType::I64 => {
                type $T = i64;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::DType::U8 => {
                type $T = u8;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::DType::U16 => {
                type $T = u16;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::DType::U32 => {
                type $T = u32;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::DType::U64 => {
                type $T = u64;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::DType::F32 => {
                type $T = f32;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                #[allow(unused_imports)]
                use $crate::Element as _;
                $body
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_follows_numpy() {
        use DType::*;
        // Cases checked against numpy 2's np.result_type.
        let cases = [
            (I8, U8, I16),
            (I16, U16, I32),
            (I32, U32, I64),
            (I64, U64, F64),
            (U8, I32, I32),
            (U32, I8, I64),
            (I16, F32, F32),
            (I32, F32, F64),
            (U64, F32, F64),
            (Bool, U16, U16),
            (F32, F64, F64),
            (Bool, Bool, Bool),
        ];
        for (a, b, want) in cases {
            assert_eq!(DType::promote(a, b), want, "{a} + {b}");
            assert_eq!(DType::promote(b, a), want, "{b} + {a}");
        }
        assert_eq!(F32.promote_weak_scalar(true), F32);
        assert_eq!(I32.promote_weak_scalar(true), F64);
        assert_eq!(U8.promote_weak_scalar(false), U8);
    }

    #[test]
    fn parse_names() {
        for t in DType::ALL {
            assert_eq!(DType::parse(t.name()).unwrap(), t);
        }
        assert_eq!(DType::parse("<f4").unwrap(), DType::F32);
        assert!(DType::parse("complex64").is_err());
    }
}
