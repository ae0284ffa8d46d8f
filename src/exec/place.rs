//! Writing task results into the whole result: the result is split into one mutable view per
//! block up front (disjoint, so tasks write their blocks in parallel without a lock).

use crate::data::NdData;
use crate::dtype::Element;
use crate::error::{Error, Result};
use ndarray::{ArrayViewMutD, Axis, SliceInfoElem};
use std::ops::Range;

macro_rules! nd_view_mut {
    ($($variant:ident: $t:ty),* $(,)?) => {
        /// A mutable view of one block of a result, of any element type.
        pub(crate) enum NdViewMut<'a> {
            $(
                #[doc = concat!("`", stringify!($t), "` elements.")]
                $variant(ArrayViewMutD<'a, $t>),
            )*
        }

        impl<'a> NdViewMut<'a> {
            /// The whole of `out`.
            pub(crate) fn whole(out: &'a mut NdData) -> NdViewMut<'a> {
                match out {
                    $(NdData::$variant(a) => NdViewMut::$variant(a.view_mut()),)*
                }
            }

            /// Splits `out` at `edges` (per axis: `0`, the cuts, the length) into one view
            /// per block, in C order of the blocks.
            pub(crate) fn split(out: &'a mut NdData, edges: &[Vec<usize>]) -> Vec<NdViewMut<'a>> {
                match out {
                    $(NdData::$variant(a) => split_view(a.view_mut(), edges)
                        .into_iter()
                        .map(NdViewMut::$variant)
                        .collect(),)*
                }
            }

            /// Writes `data` at `within` (ranges relative to the view's origin).
            pub(crate) fn assign(&mut self, within: &[Range<usize>], data: &NdData) -> Result<()> {
                match self {
                    $(NdViewMut::$variant(o) => {
                        let d = <$t as Element>::peek(data).ok_or_else(|| {
                            Error::Internal(format!(
                                "a block of {} written into a result of {}",
                                data.dtype(),
                                <$t as Element>::DTYPE
                            ))
                        })?;
                        let sl: Vec<SliceInfoElem> = within
                            .iter()
                            .map(|r| ndarray::Slice::from(r.clone()).into())
                            .collect();
                        let mut target = o.slice_mut(sl.as_slice());
                        if target.shape() != d.shape() {
                            return Err(Error::Internal(format!(
                                "a block of shape {:?} written into {:?}",
                                d.shape(),
                                target.shape()
                            )));
                        }
                        target.assign(d);
                        Ok(())
                    })*
                }
            }
        }
    };
}

nd_view_mut!(
    Bool: bool,
    I8: i8,
    I16: i16,
    I32: i32,
    I64: i64,
    U8: u8,
    U16: u16,
    U32: u32,
    U64: u64,
    F32: f32,
    F64: f64,
);

/// Splits `view` at `edges` per axis into disjoint views, in C order of the pieces.
fn split_view<'a, T>(
    view: ArrayViewMutD<'a, T>,
    edges: &[Vec<usize>],
) -> Vec<ArrayViewMutD<'a, T>> {
    let mut pieces = vec![view];
    for (d, e) in edges.iter().enumerate() {
        let mut next = Vec::with_capacity(pieces.len() * e.len().saturating_sub(1));
        for mut rest in pieces {
            let mut at = 0;
            for &cut in e.iter().skip(1) {
                if cut >= e[e.len() - 1] {
                    break;
                }
                let (head, tail) = rest.split_at(Axis(d), cut - at);
                next.push(head);
                rest = tail;
                at = cut;
            }
            next.push(rest);
        }
        pieces = next;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn blocks_written_through_split_views_fill_the_result() {
        let mut out = NdData::zeros(crate::DType::I32, &[5, 7]);
        let edges = vec![vec![0, 2, 5], vec![0, 3, 6, 7]];
        let mut views = NdViewMut::split(&mut out, &edges);
        assert_eq!(views.len(), 6);
        // Block (r, c) holds 10 * r + c at every position, written as two tiles of rows.
        let blocks = crate::source::cartesian(&[vec![0usize, 1], vec![0usize, 1, 2]]);
        for (v, b) in views.iter_mut().zip(&blocks) {
            let (rows, cols) = (
                edges[0][b[0] + 1] - edges[0][b[0]],
                edges[1][b[1] + 1] - edges[1][b[1]],
            );
            for r in 0..rows {
                let tile = ArrayD::from_elem(IxDyn(&[1, cols]), (10 * b[0] + b[1]) as i32);
                v.assign(&[r..r + 1, 0..cols], &NdData::I32(tile)).unwrap();
            }
        }
        let got = out.into_typed::<i32>().unwrap();
        for ((r, c), &x) in got
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap()
            .indexed_iter()
        {
            let br = usize::from(r >= 2);
            let bc = if c < 3 {
                0
            } else if c < 6 {
                1
            } else {
                2
            };
            assert_eq!(x, (10 * br + bc) as i32, "at {r},{c}");
        }
    }

    #[test]
    fn a_block_of_the_wrong_type_or_shape_is_an_error() {
        let mut out = NdData::zeros(crate::DType::F64, &[2, 2]);
        let mut v = NdViewMut::whole(&mut out);
        let f32_block = NdData::zeros(crate::DType::F32, &[2, 2]);
        assert!(v.assign(&[0..2, 0..2], &f32_block).is_err());
        let small = NdData::zeros(crate::DType::F64, &[1, 2]);
        assert!(v.assign(&[0..2, 0..2], &small).is_err());
    }
}
