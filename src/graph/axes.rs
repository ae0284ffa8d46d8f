//! [`Axes`]: which axes a reduction runs over.

use super::reduce::ReduceOptions;
use crate::error::{Error, Result};

/// The axes of a reduction: all of them, or a list (negative numbers count from the end).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Axes {
    /// Every axis.
    #[default]
    All,
    /// These axes.
    List(Vec<isize>),
}

impl Axes {
    /// Every axis.
    pub fn all() -> Axes {
        Axes::All
    }

    /// Resolves against `ndim` axes: sorted, unique, in range.
    pub fn resolve(&self, ndim: usize) -> Result<Vec<usize>> {
        match self {
            Axes::All => Ok((0..ndim).collect()),
            Axes::List(list) => {
                let mut out = Vec::with_capacity(list.len());
                for &a in list {
                    let r = resolve_in(a, ndim).ok_or_else(|| {
                        Error::Axis(format!(
                            "axis {a} is out of bounds for an array of {ndim} dimensions"
                        ))
                    })?;
                    if out.contains(&r) {
                        return Err(Error::Axis(format!("axis {a} is repeated")));
                    }
                    out.push(r);
                }
                out.sort_unstable();
                Ok(out)
            }
        }
    }
}

impl From<usize> for Axes {
    fn from(a: usize) -> Self {
        Axes::List(vec![a as isize])
    }
}
impl From<isize> for Axes {
    fn from(a: isize) -> Self {
        Axes::List(vec![a])
    }
}
impl From<i32> for Axes {
    fn from(a: i32) -> Self {
        Axes::List(vec![a as isize])
    }
}
impl From<&[usize]> for Axes {
    fn from(a: &[usize]) -> Self {
        Axes::List(a.iter().map(|&x| x as isize).collect())
    }
}
impl<const N: usize> From<[usize; N]> for Axes {
    fn from(a: [usize; N]) -> Self {
        Axes::List(a.iter().map(|&x| x as isize).collect())
    }
}
impl From<Vec<usize>> for Axes {
    fn from(a: Vec<usize>) -> Self {
        Axes::List(a.into_iter().map(|x| x as isize).collect())
    }
}
impl From<Vec<isize>> for Axes {
    fn from(a: Vec<isize>) -> Self {
        Axes::List(a)
    }
}
impl<T: Into<Axes>> From<Option<T>> for Axes {
    fn from(a: Option<T>) -> Self {
        a.map(Into::into).unwrap_or(Axes::All)
    }
}

impl Axes {
    /// These axes, with reduced axes kept as axes of length 1 (numpy's `keepdims=True`).
    pub fn keepdims(self) -> Over {
        Over::axes(self).keepdims()
    }

    /// These axes, with `ddof` delta degrees of freedom (for var and std).
    pub fn ddof(self, ddof: f64) -> Over {
        Over::axes(self).ddof(ddof)
    }
}

/// What a plain reduction call (`sum`, `mean`, `std`, ...) runs over: its axes and its options.
/// Anything that names axes converts into it, so the options are written only when needed:
///
/// ```
/// use vastarray::{Axes, DynArray, Over};
/// let a = DynArray::from_ndarray(ndarray::array![[1.0f64, 2.0], [3.0, 5.0]].into_dyn(), &[2, 2]).unwrap();
/// let s = a.sum(0).unwrap(); // axis 0
/// let m = a.mean(Axes::All.keepdims()).unwrap(); // shape [1, 1]
/// let sd = a.std(Over::axes(-1).ddof(1.0)).unwrap(); // the last axis, ddof 1
/// assert_eq!(s.shape(), &[2]);
/// assert_eq!(m.shape(), &[1, 1]);
/// let sd = sd.ndarray().unwrap().into_typed::<f64>().unwrap();
/// assert!((sd[[1]] - 2f64.sqrt()).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Over {
    /// The axes reduced.
    pub axes: Axes,
    /// keepdims, ddof and mdtol.
    pub options: ReduceOptions,
}

impl Over {
    /// Every axis, default options.
    pub fn all() -> Over {
        Over::axes(Axes::All)
    }

    /// These axes (negative numbers count from the end), default options.
    pub fn axes(axes: impl Into<Axes>) -> Over {
        Over {
            axes: axes.into(),
            options: ReduceOptions::default(),
        }
    }

    /// Keeps the reduced axes as axes of length 1 (numpy's `keepdims=True`).
    pub fn keepdims(mut self) -> Over {
        self.options.keepdims = true;
        self
    }

    /// Delta degrees of freedom of var and std (numpy's `ddof`; 0 by default). Other
    /// reductions do not read it.
    pub fn ddof(mut self, ddof: f64) -> Over {
        self.options.ddof = ddof;
        self
    }

    /// For `nanmean`: the largest fraction of NaN inputs that still gives a value (biggus's
    /// `mdtol`; 1 by default). Other reductions do not read it.
    pub fn mdtol(mut self, mdtol: f64) -> Over {
        self.options.mdtol = mdtol;
        self
    }
}

impl<T: Into<Axes>> From<T> for Over {
    fn from(axes: T) -> Self {
        Over::axes(axes)
    }
}

/// One axis argument: counted from the front, or from the end when negative (numpy's
/// convention), as `concatenate`, `stack`, `insert_axis` and `permute` take it. Rust's integer
/// types convert into it, so `0`, `-1` and a `usize` variable all do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxisArg(pub isize);

impl AxisArg {
    /// The axis among `ndim` (`-1` is the last); `what` names the call in the error.
    pub fn resolve(self, ndim: usize, what: &str) -> Result<usize> {
        resolve_in(self.0, ndim).ok_or_else(|| {
            Error::Axis(format!(
                "{what}: axis {} is out of bounds for an array of {ndim} dimensions",
                self.0
            ))
        })
    }

    /// A position for a new axis among `ndim + 1` (`-1` appends), as numpy's `expand_dims`
    /// and `stack` count it.
    pub fn resolve_new(self, ndim: usize, what: &str) -> Result<usize> {
        resolve_in(self.0, ndim.saturating_add(1)).ok_or_else(|| {
            Error::Axis(format!(
                "{what}: axis {} is out of bounds for a new axis of an array of {ndim} dimensions",
                self.0
            ))
        })
    }
}

fn resolve_in(a: isize, n: usize) -> Option<usize> {
    let n = isize::try_from(n).ok()?;
    let r = if a < 0 { a.checked_add(n)? } else { a };
    (0..n).contains(&r).then_some(r as usize)
}

macro_rules! axis_args {
    ($($t:ty),*) => {$(
        impl From<$t> for AxisArg {
            fn from(a: $t) -> Self {
                // Saturates: an axis beyond isize::MAX is out of bounds either way.
                AxisArg(isize::try_from(a).unwrap_or(isize::MAX))
            }
        }
    )*};
}
axis_args!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
