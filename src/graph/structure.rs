//! Building structural nodes: selection, transpose, broadcast, new axes, mosaics, concatenate
//! and stack.

use super::array::DynArray;
use super::axes::AxisArg;
use super::node::{Node, Op};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::select::{Selection, SliceArg};
use ndarray::SliceInfoElem;

impl DynArray {
    /// numpy indexing: integers, slices (negative steps too), `NewAxis`, `Ellipsis`, and one
    /// 1-D integer list or boolean mask per axis (orthogonal). A selection of a selection fuses
    /// into one selection.
    pub fn select(&self, args: &[SliceArg]) -> Result<DynArray> {
        let sel = Selection::new(args, self.shape())?;
        Ok(self.apply_selection(sel))
    }

    /// Like [`DynArray::select`], spelled as numpy does: `a.select_str("1, -3:, ::2, None")`.
    pub fn select_str(&self, text: &str) -> Result<DynArray> {
        self.select(&SliceArg::parse(text)?)
    }

    /// Selection with ndarray's `s![]` macro (ndarray's meaning of negative steps: the range is
    /// taken first, then stepped from its end).
    ///
    /// ```
    /// use ndarray::s;
    /// use vastarray::DynArray;
    /// let a = DynArray::from_ndarray(ndarray::Array::from_shape_fn((6, 8), |(i, j)| (10 * i + j) as i32).into_dyn(), &[4, 4]).unwrap();
    /// let b = a.slice(s![1..5;2, ..;-3]).unwrap().ndarray().unwrap().into_typed::<i32>().unwrap();
    /// assert_eq!(b.shape(), &[2, 3]);
    /// assert_eq!(b[[1, 0]], 37);
    /// ```
    pub fn slice<I: AsRef<[SliceInfoElem]>>(&self, info: I) -> Result<DynArray> {
        self.select(&SliceArg::from_ndarray(info.as_ref()))
    }

    pub(crate) fn apply_selection(&self, sel: Selection) -> DynArray {
        if sel.is_identity(self.shape()) {
            return self.clone();
        }
        // A selection of a selection fuses into one, so chains stay O(ndim).
        if let Op::Select(inner_input, inner) = &self.node.op {
            if let Some(fused) = inner.then(&sel) {
                let shape = fused.out_shape();
                return DynArray::from_node(Node::new(
                    Op::Select(inner_input.clone(), fused),
                    shape,
                    self.dtype(),
                ));
            }
        }
        let shape = sel.out_shape();
        DynArray::from_node(Node::new(
            Op::Select(self.node.clone(), sel),
            shape,
            self.dtype(),
        ))
    }

    /// Reverses the axes (numpy's `transpose()` without arguments).
    pub fn t(&self) -> DynArray {
        let perm: Vec<usize> = (0..self.ndim()).rev().collect();
        self.permute(&perm).unwrap_or_else(|_| self.clone())
    }

    /// Permutes the axes: result axis `i` is axis `perm[i]` (numpy's `transpose(a, perm)`;
    /// negative numbers count from the end).
    pub fn permute<A: Into<AxisArg> + Copy>(&self, perm: &[A]) -> Result<DynArray> {
        let n = self.ndim();
        let given: Vec<isize> = perm.iter().map(|&p| p.into().0).collect();
        let not_a_permutation =
            || Error::Axis(format!("{given:?} is not a permutation of the {n} axes"));
        if perm.len() != n {
            return Err(not_a_permutation());
        }
        let mut seen = vec![false; n];
        let mut resolved = Vec::with_capacity(n);
        for &p in perm {
            let p = p
                .into()
                .resolve(n, "permute")
                .map_err(|_| not_a_permutation())?;
            if std::mem::replace(&mut seen[p], true) {
                return Err(not_a_permutation());
            }
            resolved.push(p);
        }
        let perm = &resolved[..];
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            return Ok(self.clone());
        }
        let shape = perm.iter().map(|&p| self.shape()[p]).collect();
        Ok(DynArray::from_node(Node::try_new(
            Op::Transpose(self.node.clone(), perm.to_vec()),
            shape,
            self.dtype(),
        )?))
    }

    /// Broadcasts to `shape` by numpy's rules (axes are matched from the end; length-1 axes
    /// stretch; new axes are added in front).
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<DynArray> {
        let me = self.shape();
        let ok = me.len() <= shape.len()
            && me
                .iter()
                .rev()
                .zip(shape.iter().rev())
                .all(|(&a, &b)| a == b || a == 1);
        if !ok {
            return Err(Error::Shape(format!(
                "cannot broadcast shape {me:?} to {shape:?}"
            )));
        }
        if me == shape {
            return Ok(self.clone());
        }
        Ok(DynArray::from_node(Node::try_new(
            Op::Broadcast(self.node.clone()),
            shape.to_vec(),
            self.dtype(),
        )?))
    }

    /// Inserts an axis of length 1 so that it becomes axis `axis` of the result (numpy's
    /// `expand_dims`: `ndim` or `-1` appends, `0` prepends).
    pub fn insert_axis(&self, axis: impl Into<AxisArg>) -> Result<DynArray> {
        let axis = axis.into().resolve_new(self.ndim(), "insert_axis")?;
        let mut args: Vec<SliceArg> = (0..self.ndim()).map(|_| SliceArg::full()).collect();
        args.insert(axis, SliceArg::NewAxis);
        self.select(&args)
    }

    /// Joins arrays along an existing axis (a *LinearMosaic*; tiles may be mosaics themselves).
    /// Element types are promoted as numpy's `concatenate` does; a negative axis counts from
    /// the end.
    pub fn concatenate(tiles: &[DynArray], axis: impl Into<AxisArg>) -> Result<DynArray> {
        let first = tiles
            .first()
            .ok_or_else(|| Error::Invalid("a mosaic needs at least one tile".into()))?;
        let ndim = first.ndim();
        let axis = axis.into().resolve(ndim, "concatenate")?;
        let mut dtype = first.dtype();
        let mut edges = Vec::with_capacity(tiles.len() + 1);
        edges.push(0);
        for (i, t) in tiles.iter().enumerate() {
            let same = t.ndim() == ndim
                && t.shape()
                    .iter()
                    .zip(first.shape())
                    .enumerate()
                    .all(|(d, (a, b))| d == axis || a == b);
            if !same {
                return Err(Error::Shape(format!(
                    "mosaic tile {i} has shape {:?}, which does not match tile 0's {:?} off axis {axis}",
                    t.shape(),
                    first.shape()
                )));
            }
            dtype = DType::promote(dtype, t.dtype());
            edges.push(edges[i] + t.shape()[axis]);
        }
        if tiles.len() == 1 {
            return first.cast(dtype);
        }
        let nodes = tiles
            .iter()
            .map(|t| t.cast(dtype).map(|c| c.node))
            .collect::<Result<Vec<_>>>()?;
        let mut shape = first.shape().to_vec();
        shape[axis] = edges[tiles.len()];
        Ok(DynArray::from_node(Node::try_new(
            Op::Mosaic {
                tiles: nodes,
                axis,
                edges,
            },
            shape,
            dtype,
        )?))
    }

    /// Joins arrays of equal shape along a new axis (`-1`: the new last axis, as numpy's
    /// `stack`).
    pub fn stack(arrays: &[DynArray], axis: impl Into<AxisArg>) -> Result<DynArray> {
        let first = arrays
            .first()
            .ok_or_else(|| Error::Invalid("stack needs at least one array".into()))?;
        let axis = axis.into().resolve_new(first.ndim(), "stack")?;
        for (i, a) in arrays.iter().enumerate() {
            if a.shape() != first.shape() {
                return Err(Error::Shape(format!(
                    "stack: array {i} has shape {:?}, array 0 has {:?}",
                    a.shape(),
                    first.shape()
                )));
            }
        }
        let expanded = arrays
            .iter()
            .map(|a| a.insert_axis(axis))
            .collect::<Result<Vec<_>>>()?;
        DynArray::concatenate(&expanded, axis)
    }
}
