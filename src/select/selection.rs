//! [`Selection`]: a user's selection normalized against an input shape, and its composition.

use super::stride::MAX_AXIS_LEN;
use super::{Dim, SliceArg, Stride};
use crate::error::{Error, Result};

/// What a selection does with one input axis, or an axis it inserts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SelItem {
    /// Keep the axis, taking these positions.
    Keep(Dim),
    /// Take one position and drop the axis.
    Index(usize),
    /// Insert a new axis of length 1 (consumes no input axis).
    NewAxis,
}

/// A normalized selection: items in output order, where every `Keep` and `Index` consumes one
/// input axis in order and every `NewAxis` inserts one output axis. Size O(ndim) for slices.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Selection {
    items: Vec<SelItem>,
}

impl Selection {
    /// Normalizes `args` against an input of `shape`: resolves the ellipsis, negative indices
    /// and steps, appends full slices for the axes not named, and checks every index.
    pub fn new(args: &[SliceArg], shape: &[usize]) -> Result<Selection> {
        let consumes = |a: &SliceArg| !matches!(a, SliceArg::NewAxis | SliceArg::Ellipsis);
        let named = args.iter().filter(|a| consumes(a)).count();
        let ellipses = args
            .iter()
            .filter(|a| matches!(a, SliceArg::Ellipsis))
            .count();
        if ellipses > 1 {
            return Err(Error::Index(
                "a selection can only have a single ellipsis ('...')".into(),
            ));
        }
        if named > shape.len() {
            return Err(Error::Index(format!(
                "too many indices: the selection names {named} axes, the array has {} (shape {shape:?})",
                shape.len()
            )));
        }
        let mut items = Vec::with_capacity(shape.len() + 1);
        let mut axis = 0;
        let mut expanded: Vec<SliceArg> = Vec::with_capacity(args.len() + shape.len());
        for a in args {
            if matches!(a, SliceArg::Ellipsis) {
                expanded.extend(std::iter::repeat_n(SliceArg::full(), shape.len() - named));
            } else {
                expanded.push(a.clone());
            }
        }
        while expanded.iter().filter(|a| consumes(a)).count() < shape.len() {
            expanded.push(SliceArg::full());
        }
        for a in &expanded {
            if matches!(a, SliceArg::NewAxis) {
                items.push(SelItem::NewAxis);
                continue;
            }
            let n = shape[axis];
            if n > MAX_AXIS_LEN {
                return Err(Error::Index(format!(
                    "axis {axis} of length {n} is longer than a selection can address ({MAX_AXIS_LEN}, isize::MAX)"
                )));
            }
            let item = match a {
                SliceArg::Index(i) => SelItem::Index(normalize_index(*i, n, axis)?),
                SliceArg::Slice { start, stop, step } => {
                    SelItem::Keep(Dim::Stride(Stride::from_numpy(*start, *stop, *step, n)?))
                }
                SliceArg::NdSlice { start, end, step } => SelItem::Keep(Dim::Stride(
                    Stride::from_ndarray(*start, *end, *step, n)
                        .map_err(|e| e.context(format_args!("axis {axis}")))?,
                )),
                SliceArg::List(l) => {
                    SelItem::Keep(list_dim(l.iter().map(|&i| normalize_index(i, n, axis)))?)
                }
                SliceArg::Mask(m) => {
                    if m.len() != n {
                        return Err(Error::Index(format!(
                            "boolean mask of length {} does not match axis {axis} of length {n}",
                            m.len()
                        )));
                    }
                    SelItem::Keep(list_dim(
                        m.iter()
                            .enumerate()
                            .filter(|(_, b)| **b)
                            .map(|(i, _)| Ok(i)),
                    )?)
                }
                SliceArg::NewAxis | SliceArg::Ellipsis => unreachable_item()?,
            };
            items.push(item);
            axis += 1;
        }
        Ok(Selection { items })
    }

    /// A selection made of items (for rules that rewrite selections).
    pub fn from_items(items: Vec<SelItem>) -> Selection {
        Selection { items }
    }

    /// The items, in output order.
    pub fn items(&self) -> &[SelItem] {
        &self.items
    }

    /// Number of input axes consumed.
    pub fn input_ndim(&self) -> usize {
        self.items
            .iter()
            .filter(|i| !matches!(i, SelItem::NewAxis))
            .count()
    }

    /// The output shape.
    pub fn out_shape(&self) -> Vec<usize> {
        self.items
            .iter()
            .filter_map(|i| match i {
                SelItem::Keep(d) => Some(d.len()),
                SelItem::Index(_) => None,
                SelItem::NewAxis => Some(1),
            })
            .collect()
    }

    /// True when it selects everything of an input of `shape` and changes nothing.
    pub fn is_identity(&self, shape: &[usize]) -> bool {
        self.items.len() == shape.len()
            && self
                .items
                .iter()
                .zip(shape)
                .all(|(i, &n)| matches!(i, SelItem::Keep(d) if d.is_full(n)))
    }

    /// Maps a region of the output to the region of the input it needs (one [`Dim`] per input
    /// axis). The positions a `NewAxis` output axis takes must all be 0.
    pub fn input_region(&self, out_region: &[Dim]) -> Vec<Dim> {
        let mut out_axis = 0;
        let mut region = Vec::with_capacity(self.input_ndim());
        for item in &self.items {
            match item {
                SelItem::Keep(d) => {
                    region.push(out_region[out_axis].compose(d));
                    out_axis += 1;
                }
                SelItem::Index(i) => region.push(Dim::Stride(Stride::new(*i, 1, 1))),
                SelItem::NewAxis => out_axis += 1,
            }
        }
        region
    }

    /// `outer` applied to the result of `self`, as one selection on `self`'s input, or `None`
    /// when the two cannot be fused (a list repeating a new axis).
    pub fn then(&self, outer: &Selection) -> Option<Selection> {
        let mut items = Vec::with_capacity(self.items.len() + outer.items.len());
        let mut inner = self.items.iter().peekable();
        for o in &outer.items {
            if matches!(o, SelItem::NewAxis) {
                items.push(SelItem::NewAxis);
                continue;
            }
            // Inner indices produce no output axis: they pass through in input order.
            while let Some(SelItem::Index(i)) = inner.peek() {
                items.push(SelItem::Index(*i));
                inner.next();
            }
            match (inner.next()?, o) {
                (SelItem::Keep(d), SelItem::Keep(od)) => items.push(SelItem::Keep(od.compose(d))),
                (SelItem::Keep(d), SelItem::Index(i)) => items.push(SelItem::Index(d.at(*i))),
                (SelItem::NewAxis, SelItem::Keep(od)) => {
                    if od.len() != 1 {
                        return None;
                    }
                    items.push(SelItem::NewAxis)
                }
                (SelItem::NewAxis, SelItem::Index(_)) => {}
                _ => return None,
            }
        }
        items.extend(inner.cloned());
        Some(Selection { items })
    }

    /// numpy's spelling of the selection, for plans (`[10:20, 5, ::-2, None, [0, 3]]`).
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .items
            .iter()
            .map(|i| match i {
                SelItem::Index(i) => i.to_string(),
                SelItem::NewAxis => "None".into(),
                SelItem::Keep(Dim::Stride(s)) => describe_stride(s),
                SelItem::Keep(Dim::List(l)) => {
                    if l.len() <= 6 {
                        format!("{:?}", l.as_ref())
                    } else {
                        format!("[{} positions]", l.len())
                    }
                }
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }
}

fn describe_stride(s: &Stride) -> String {
    if s.len == 0 {
        return "0:0".into();
    }
    // i128: one past the last position can lie beyond isize (a step of isize::MAX).
    let stop = s.start as i128 + s.len as i128 * s.step as i128;
    match s.step {
        1 => format!("{}:{}", s.start, stop),
        st if stop < 0 => format!("{}::{}", s.start, st),
        st => format!("{}:{}:{}", s.start, stop, st),
    }
}

fn unreachable_item() -> Result<SelItem> {
    Err(Error::Internal("selection item not expanded".into()))
}

fn normalize_index(i: isize, n: usize, axis: usize) -> Result<usize> {
    // i128: `i + n` cannot overflow for any isize and usize.
    let j = if i < 0 {
        i as i128 + n as i128
    } else {
        i as i128
    };
    if j < 0 || j >= n as i128 {
        return Err(Error::Index(format!(
            "index {i} is out of bounds for axis {axis} with size {n}"
        )));
    }
    Ok(j as usize)
}

/// A list of positions, turned into a stride when it is one (so `[2, 4, 6]` stays arithmetic).
/// Differences are checked: a list whose steps do not fit an `isize` stays a list.
fn list_dim(positions: impl Iterator<Item = Result<usize>>) -> Result<Dim> {
    let v: Vec<usize> = positions.collect::<Result<_>>()?;
    let diff = |a: usize, b: usize| isize::try_from(b as i128 - a as i128).ok();
    match v.len() {
        0 => return Ok(Dim::Stride(Stride::new(0, 1, 0))),
        1 => return Ok(Dim::Stride(Stride::new(v[0], 1, 1))),
        _ => {}
    }
    if let Some(step) = diff(v[0], v[1]).filter(|&d| d != 0) {
        if v.windows(2).all(|w| diff(w[0], w[1]) == Some(step)) {
            return Ok(Dim::Stride(Stride::new(v[0], step, v.len())));
        }
    }
    Ok(Dim::List(v.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipsis_newaxis_and_errors() {
        let sel =
            Selection::new(&SliceArg::parse("1, ..., None, ::-1").unwrap(), &[4, 5, 6]).unwrap();
        assert_eq!(sel.out_shape(), vec![5, 1, 6]);
        assert!(Selection::new(&SliceArg::parse("4").unwrap(), &[4]).is_err());
        assert!(Selection::new(&SliceArg::parse("0, 0").unwrap(), &[4]).is_err());
        assert!(Selection::new(&SliceArg::parse("..., ...").unwrap(), &[4]).is_err());
        assert!(Selection::new(&[SliceArg::Mask(vec![true])], &[4]).is_err());
    }

    #[test]
    fn fusing_keeps_strides() {
        let shape = [1000];
        let a = Selection::new(&SliceArg::parse("100:900").unwrap(), &shape).unwrap();
        let b = Selection::new(&SliceArg::parse("::2").unwrap(), &a.out_shape()).unwrap();
        let ab = a.then(&b).unwrap();
        let c = Selection::new(&SliceArg::parse("5:10").unwrap(), &ab.out_shape()).unwrap();
        let abc = ab.then(&c).unwrap();
        assert_eq!(
            abc.items(),
            &[SelItem::Keep(Dim::Stride(Stride::new(110, 2, 5)))]
        );
    }
}
