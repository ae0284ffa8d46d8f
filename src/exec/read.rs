//! Reading a region of a source: find the chunks the region's positions fall in, read each
//! (from the task's prefetched chunks, or from the source), and scatter the selected positions
//! into the result. Strided positions are sliced, never listed.

use crate::data::NdData;
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::select::{Dim, Stride};
use crate::source::{cartesian, read_checked, ChunkSource};
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Axis, Slice, SliceInfoElem};
use std::ops::Range;
use std::sync::Arc;

/// Where the positions of one chunk go in the output, along one axis.
#[derive(Clone, Debug)]
pub(crate) enum OutIdx {
    /// A contiguous range of output positions.
    Range(Range<usize>),
    /// Output positions one by one.
    List(Vec<usize>),
}

/// One chunk's share of a region along one axis.
#[derive(Clone, Debug)]
pub(crate) struct AxisPiece {
    /// Chunk number along the axis.
    pub chunk: usize,
    /// Output positions filled from this chunk.
    pub out: OutIdx,
    /// Positions inside the chunk, in output order.
    pub inside: Dim,
}

/// Splits the positions of `dim` by chunks of `c` elements.
pub(crate) fn axis_pieces(dim: &Dim, c: usize) -> Vec<AxisPiece> {
    let c = c.max(1);
    match dim {
        Dim::Stride(s) => {
            let mut out = Vec::new();
            let mut k = 0;
            while k < s.len {
                let p = s.at(k);
                let chunk = p / c;
                let (lo, hi) = (chunk * c, chunk * c + c);
                let remaining = if s.step > 0 {
                    (hi - 1 - p) / s.step as usize
                } else {
                    (p - lo) / s.step.unsigned_abs()
                };
                let k1 = (k + remaining + 1).min(s.len);
                out.push(AxisPiece {
                    chunk,
                    out: OutIdx::Range(k..k1),
                    inside: Dim::Stride(Stride::new(p - lo, s.step, k1 - k)),
                });
                k = k1;
            }
            out
        }
        Dim::List(l) => {
            let mut by_chunk: std::collections::BTreeMap<usize, (Vec<usize>, Vec<usize>)> =
                Default::default();
            for (k, &p) in l.iter().enumerate() {
                let e = by_chunk.entry(p / c).or_default();
                e.0.push(k);
                e.1.push(p % c);
            }
            by_chunk
                .into_iter()
                .map(|(chunk, (ks, inside))| {
                    let contiguous = ks.windows(2).all(|w| w[1] == w[0] + 1);
                    let out = if contiguous {
                        OutIdx::Range(ks[0]..ks[ks.len() - 1] + 1)
                    } else {
                        OutIdx::List(ks)
                    };
                    AxisPiece {
                        chunk,
                        out,
                        inside: Dim::List(inside.into()),
                    }
                })
                .collect()
        }
    }
}

/// The chunk indices a region of a source touches.
pub(crate) fn chunks_for_region(source: &dyn ChunkSource, region: &[Dim]) -> Vec<Vec<usize>> {
    let per_axis: Vec<Vec<usize>> = region
        .iter()
        .zip(source.chunk_shape())
        .map(|(d, &c)| {
            let mut v: Vec<usize> = axis_pieces(d, c).into_iter().map(|p| p.chunk).collect();
            v.dedup();
            v
        })
        .collect();
    cartesian(&per_axis)
}

/// Chunks already fetched for a task, and a place to keep chunks that other uses will need.
pub(crate) trait ChunkLookup {
    /// A chunk fetched before, if any.
    fn get(&self, index: &[usize]) -> Option<Arc<NdData>>;
    /// Reads a chunk with `read`, keeping it when this lookup keeps chunks (a lookup shared by
    /// several tasks reads it once, the others wait for that read).
    fn read(
        &self,
        index: &[usize],
        read: &mut dyn FnMut() -> Result<NdData>,
    ) -> Result<Arc<NdData>>;
    /// True when whole chunks should be read (so they can be kept) even from sources that
    /// prefer region reads.
    fn keeps_chunks(&self) -> bool;
}

/// Reads `region` of `source`, taking chunks from `lookup` when it has them.
pub(crate) fn read_region(
    source: &dyn ChunkSource,
    region: &[Dim],
    lookup: &dyn ChunkLookup,
) -> Result<NdData> {
    let shape: Vec<usize> = region.iter().map(|d| d.len()).collect();
    if shape.contains(&0) {
        return Ok(NdData::zeros(source.dtype(), &shape));
    }
    let chunks = source.chunk_shape().to_vec();
    if region.len() != chunks.len() {
        return Err(Error::Internal(format!(
            "{}: region of {} axes",
            source.name(),
            region.len()
        )));
    }
    for (d, (dim, &n)) in region.iter().zip(source.shape()).enumerate() {
        if dim.bounds().end > n {
            return Err(Error::Internal(format!(
                "{}: region {:?} outside axis {d} of length {n}",
                source.name(),
                dim.bounds()
            )));
        }
    }
    let per_axis: Vec<Vec<AxisPiece>> = region
        .iter()
        .zip(&chunks)
        .map(|(d, &c)| axis_pieces(d, c))
        .collect();
    let counts: Vec<Vec<usize>> = per_axis.iter().map(|p| (0..p.len()).collect()).collect();
    let single = per_axis.iter().all(|p| p.len() == 1);
    let mut out: Option<NdData> = None;
    let region_reads =
        source.prefers_region_reads() && (source.cheap_region_reads() || !lookup.keeps_chunks());
    for combo in cartesian(&counts) {
        let pieces: Vec<&AxisPiece> = combo
            .iter()
            .enumerate()
            .map(|(d, &i)| &per_axis[d][i])
            .collect();
        let index: Vec<usize> = pieces.iter().map(|p| p.chunk).collect();
        let (data, origin): (Arc<NdData>, Vec<usize>) = match lookup.get(&index) {
            Some(c) => (c, vec![0; index.len()]),
            None if region_reads => {
                // Read just the box of this chunk that holds the positions.
                let bx: Vec<Range<usize>> = pieces
                    .iter()
                    .zip(&chunks)
                    .map(|(p, &c)| {
                        let b = p.inside.bounds();
                        (p.chunk * c + b.start)..(p.chunk * c + b.end)
                    })
                    .collect();
                let data = source.read_region(&bx)?;
                let want: Vec<usize> = bx.iter().map(|r| r.len()).collect();
                data.expect(source.dtype(), &want, &|| {
                    format!("{} region {:?}", source.name(), bx)
                })?;
                (
                    Arc::new(data),
                    pieces.iter().map(|p| p.inside.bounds().start).collect(),
                )
            }
            None => {
                let c = lookup.read(&index, &mut || read_checked(source, &index))?;
                (c, vec![0; index.len()])
            }
        };
        let inside: Vec<Dim> = pieces
            .iter()
            .zip(&origin)
            .map(|(p, &o)| p.inside.shifted(o))
            .collect();
        // One read that is exactly the region: hand it over without copying.
        if single && inside.iter().zip(data.shape()).all(|(d, &n)| d.is_full(n)) {
            return Ok(Arc::try_unwrap(data).unwrap_or_else(|shared| (*shared).clone()));
        }
        let out = out.get_or_insert_with(|| NdData::zeros(source.dtype(), &shape));
        let outs: Vec<OutIdx> = pieces.iter().map(|p| p.out.clone()).collect();
        crate::with_nd!(out, o: T => {
            let src = T::peek(data.as_ref()).ok_or_else(|| Error::Internal("chunk type".into()))?;
            if inside.iter().all(|d| matches!(d, Dim::Stride(_))) {
                // Strided positions: a view, no intermediate copy.
                let sl: Vec<SliceInfoElem> = inside
                    .iter()
                    .map(|d| match d {
                        Dim::Stride(s) => stride_slice(s).into(),
                        Dim::List(_) => Slice::from(..).into(),
                    })
                    .collect();
                scatter(o.view_mut(), &outs, src.slice(sl.as_slice()));
            } else {
                let sub = take(src.view(), &inside);
                scatter(o.view_mut(), &outs, sub.view());
            }
        });
    }
    out.ok_or_else(|| Error::Internal(format!("{}: region read produced nothing", source.name())))
}

/// The positions `dims` of `a` (strides sliced, lists gathered).
pub(crate) fn take<T: Element>(a: ArrayViewD<T>, dims: &[Dim]) -> ArrayD<T> {
    let sl: Vec<SliceInfoElem> = dims
        .iter()
        .map(|d| match d {
            Dim::Stride(s) => stride_slice(s).into(),
            Dim::List(_) => Slice::from(..).into(),
        })
        .collect();
    let mut v = a.slice(sl.as_slice()).to_owned();
    for (ax, d) in dims.iter().enumerate() {
        if let Dim::List(l) = d {
            v = v.select(Axis(ax), l);
        }
    }
    v
}

/// ndarray's slice for a stride (ndarray steps backwards from the end of the range).
pub(crate) fn stride_slice(s: &Stride) -> Slice {
    if s.len == 0 {
        return Slice::new(0, Some(0), 1);
    }
    let last = s.at(s.len - 1);
    if s.step > 0 {
        Slice::new(s.start as isize, Some(last as isize + 1), s.step)
    } else {
        Slice::new(last as isize, Some(s.start as isize + 1), s.step)
    }
}

/// Writes `sub` into `out` at the output positions `idx` (ranges sliced, lists one by one).
pub(crate) fn scatter<T: Element>(mut out: ArrayViewMutD<T>, idx: &[OutIdx], sub: ArrayViewD<T>) {
    if let Some(d) = idx.iter().position(|i| matches!(i, OutIdx::List(_))) {
        if let OutIdx::List(list) = &idx[d] {
            for (j, &o) in list.iter().enumerate() {
                let mut rest = idx.to_vec();
                rest[d] = OutIdx::Range(o..o + 1);
                let part = sub.slice_axis(Axis(d), Slice::from(j..j + 1));
                scatter(out.view_mut(), &rest, part);
            }
        }
        return;
    }
    let sl: Vec<SliceInfoElem> = idx
        .iter()
        .map(|i| match i {
            OutIdx::Range(r) => Slice::from(r.clone()).into(),
            OutIdx::List(_) => Slice::from(..).into(),
        })
        .collect();
    out.slice_mut(sl.as_slice()).assign(&sub);
}
