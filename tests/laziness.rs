//! Laziness, proven by counting: each pushdown reads only the chunks its result needs.

use std::collections::BTreeSet;
use std::sync::Arc;
use vastarray::Axes;
use vastarray::{evaluate, ChunkSource, CountingSource, DynArray, EvalConfig, GeneratedSource};

fn counted(shape: &[usize], chunks: &[usize]) -> (DynArray, CountingSource) {
    let src = GeneratedSource::from_index_fn(shape, chunks, |ix| {
        ix.iter()
            .enumerate()
            .map(|(d, &i)| (i * (d + 1)) as f64)
            .sum::<f64>()
    })
    .unwrap();
    let c = CountingSource::new(src).chunks_only();
    (DynArray::from_source(c.clone()), c)
}

/// The chunks a box touches, computed by hand.
fn chunks_of_box(lo: &[usize], hi: &[usize], chunks: &[usize]) -> BTreeSet<Vec<usize>> {
    let mut out = BTreeSet::new();
    let per: Vec<Vec<usize>> = lo
        .iter()
        .zip(hi)
        .zip(chunks)
        .map(|((l, h), c)| (l / c..=(h - 1) / c).collect())
        .collect();
    let mut stack = vec![vec![]];
    for axis in per {
        stack = stack
            .into_iter()
            .flat_map(|p: Vec<usize>| axis.iter().map(move |&i| [p.clone(), vec![i]].concat()))
            .collect();
    }
    out.extend(stack);
    out
}

fn touched(c: &CountingSource) -> BTreeSet<Vec<usize>> {
    c.chunks_touched().keys().cloned().collect()
}

#[test]
fn slice_of_elementwise_reads_only_intersecting_chunks() {
    let (a, c) = counted(&[40, 40], &[4, 4]);
    let e = a
        .add(1.0)
        .unwrap()
        .exp()
        .unwrap()
        .select_str("5:15, 5:8")
        .unwrap();
    e.ndarray().unwrap();
    assert_eq!(touched(&c), chunks_of_box(&[5, 5], &[15, 8], &[4, 4]));
    assert!(
        c.counts().per_chunk.values().all(|&n| n == 1),
        "a chunk was read twice: {:?}",
        c.counts().per_chunk
    );
}

#[test]
fn slice_of_reduction_reads_only_needed_columns() {
    let (a, c) = counted(&[30, 50], &[7, 5]);
    a.mean(0)
        .unwrap()
        .select_str("10:20")
        .unwrap()
        .ndarray()
        .unwrap();
    assert_eq!(touched(&c), chunks_of_box(&[0, 10], &[30, 20], &[7, 5]));
}

#[test]
fn chains_of_slices_reach_the_source_as_one_strided_selection() {
    let (a, c) = counted(&[1000], &[10]);
    let s = a
        .select_str("100:900")
        .unwrap()
        .select_str("::2")
        .unwrap()
        .select_str("5:10")
        .unwrap();
    let v = s.ndarray().unwrap().into_typed::<f64>().unwrap();
    assert_eq!(
        v.iter().copied().collect::<Vec<_>>(),
        vec![110.0, 112.0, 114.0, 116.0, 118.0]
    );
    assert_eq!(touched(&c), [vec![11]].into_iter().collect());
    let plan = s.explain(&EvalConfig::default()).unwrap();
    assert!(plan.contains("[110:120:2]"), "{plan}");
}

#[test]
fn slices_pass_through_transpose_broadcast_and_newaxis() {
    let (a, c) = counted(&[20, 30], &[5, 5]);
    let b = a
        .t()
        .insert_axis(0)
        .unwrap()
        .broadcast_to(&[3, 30, 20])
        .unwrap();
    b.select_str("1, 12:14, ::-7").unwrap().ndarray().unwrap();
    // Rows ::-7 of 20 are 19, 12, 5; columns 12..14.
    let want: BTreeSet<Vec<usize>> = [19usize, 12, 5].iter().map(|r| vec![r / 5, 2]).collect();
    assert_eq!(touched(&c), want);
}

#[test]
fn mosaic_slices_touch_only_their_tiles_and_stacks_too() {
    let mut counts = vec![];
    let tiles: Vec<DynArray> = (0..10)
        .map(|_| {
            let (t, c) = counted(&[8, 6], &[8, 6]);
            counts.push(c);
            t
        })
        .collect();
    let m = DynArray::concatenate(&tiles, 0).unwrap();
    m.select_str("20:35, 2").unwrap().ndarray().unwrap();
    let read: Vec<usize> = counts.iter().map(|c| c.reads()).collect();
    assert_eq!(read, vec![0, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
    counts.iter().for_each(|c| c.reset());
    let st = DynArray::stack(&tiles, 0).unwrap();
    st.select_str("7, 1:3").unwrap().ndarray().unwrap();
    let read: Vec<usize> = counts.iter().map(|c| c.reads()).collect();
    assert_eq!(read, vec![0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
}

/// A counter of reads shared by every tile of a pyramid.
struct TileCount {
    hits: Arc<std::sync::Mutex<Vec<(usize, usize)>>>,
    y: usize,
    x: usize,
}

impl ChunkSource for TileCount {
    fn shape(&self) -> &[usize] {
        &[256, 256, 3]
    }
    fn dtype(&self) -> vastarray::DType {
        vastarray::DType::U8
    }
    fn chunk_shape(&self) -> &[usize] {
        &[256, 256, 3]
    }
    fn name(&self) -> String {
        format!("tile {} {}", self.y, self.x)
    }
    fn read_chunk(&self, _: &[usize]) -> vastarray::Result<vastarray::NdData> {
        self.hits.lock().unwrap().push((self.y, self.x));
        let (y, x) = (self.y, self.x);
        Ok(ndarray::Array3::from_shape_fn((256, 256, 3), |(r, c, k)| {
            ((y * 7 + x * 3 + r + c + k) % 251) as u8
        })
        .into_dyn()
        .into())
    }
}

#[test]
fn zoom9_pyramid_slice_reads_exactly_six_tiles() {
    let hits = Arc::new(std::sync::Mutex::new(vec![]));
    let rows: Vec<DynArray> = (0..512)
        .map(|y| {
            let tiles: Vec<DynArray> = (0..512)
                .map(|x| {
                    DynArray::from_source(TileCount {
                        hits: hits.clone(),
                        y,
                        x,
                    })
                })
                .collect();
            DynArray::concatenate(&tiles, 1).unwrap()
        })
        .collect();
    let level = DynArray::concatenate(&rows, 0).unwrap();
    assert_eq!(level.shape(), &[131072, 131072, 3]);
    let region = level.select_str("54600:55000, 59300:59850").unwrap();
    let v = region.ndarray().unwrap().into_typed::<u8>().unwrap();
    let mut got = hits.lock().unwrap().clone();
    got.sort();
    // Rows 54600..55000 lie in tiles 213 and 214; columns 59300..59850 in 231, 232, 233.
    let want: Vec<(usize, usize)> = [213, 214]
        .iter()
        .flat_map(|&y| [231, 232, 233].map(|x| (y, x)))
        .collect();
    assert_eq!(got, want);
    let (r, c) = (54999usize, 59300usize);
    assert_eq!(
        v[[r - 54600, 0, 2]] as usize,
        ((r / 256) * 7 + (c / 256) * 3 + r % 256 + c % 256 + 2) % 251
    );
}

#[test]
fn mean_and_std_evaluated_together_read_each_chunk_once() {
    let (a, c) = counted(&[64, 48], &[8, 16]);
    let m = a.mean(None::<usize>).unwrap();
    let s = a.std(Axes::All.ddof(1.0)).unwrap();
    let mn = a.min(None::<usize>).unwrap();
    evaluate(&[&m, &s, &mn], &EvalConfig::default()).unwrap();
    let counts = c.counts();
    assert_eq!(counts.per_chunk.len(), 8 * 3);
    assert!(
        counts.per_chunk.values().all(|&n| n == 1),
        "{:?}",
        counts.per_chunk
    );
}

#[test]
fn elementwise_roots_evaluated_together_share_reads() {
    let (a, c) = counted(&[32, 32], &[8, 8]);
    let x = a.mul(2.0).unwrap();
    let y = a.sqrt().unwrap();
    evaluate(&[&x, &y], &EvalConfig::default()).unwrap();
    assert!(
        c.counts().per_chunk.values().all(|&n| n == 1),
        "{:?}",
        c.counts().per_chunk
    );
    assert_eq!(c.counts().per_chunk.len(), 16);
}
