//! [`Axes`]: which axes a reduction runs over.

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
                    let r = if a < 0 { a + ndim as isize } else { a };
                    if r < 0 || r >= ndim as isize {
                        return Err(Error::Axis(format!(
                            "axis {a} is out of bounds for an array of {ndim} dimensions"
                        )));
                    }
                    if out.contains(&(r as usize)) {
                        return Err(Error::Axis(format!("axis {a} is repeated")));
                    }
                    out.push(r as usize);
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
