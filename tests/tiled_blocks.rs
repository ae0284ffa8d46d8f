//! Blocks larger than a tile (`exec::tiles::TILE_BYTES`) are computed tile by tile and written
//! straight into the result: the values equal eager ndarray, every chunk of a source that is
//! not in memory is still read exactly once, and streaming gives the same blocks.

use ndarray::{Array1, Array2, ArrayD, Axis, IxDyn};
use vastarray::{evaluate, CountingSource, DynArray, EvalConfig, GeneratedSource};

const ROWS: usize = 300;
const COLS: usize = 400;

fn x_value(i: usize, j: usize) -> f64 {
    ((i * COLS + j) % 97) as f64 - 40.0
}

/// x: generated (300, 400) f64 in chunks of (100, 400) = 320 KB, counted; y: in memory,
/// (400, 300); z: in memory, (400,).
fn inputs() -> (
    DynArray,
    CountingSource,
    DynArray,
    DynArray,
    Array2<f64>,
    Array2<f64>,
    Array1<f64>,
) {
    let src =
        GeneratedSource::from_index_fn(&[ROWS, COLS], &[100, COLS], |ix| x_value(ix[0], ix[1]))
            .unwrap();
    let counted = CountingSource::new(src).chunks_only();
    let x = DynArray::from_source(counted.clone());
    let xr = Array2::from_shape_fn((ROWS, COLS), |(i, j)| x_value(i, j));
    let yr = Array2::from_shape_fn((COLS, ROWS), |(i, j)| ((i * 7 + j * 3) % 50) as f64 * 0.25);
    let zr = Array1::from_shape_fn(COLS, |j| (j % 13) as f64);
    let y = DynArray::from_ndarray(yr.clone().into_dyn(), &[50, ROWS]).unwrap();
    let z = DynArray::from_ndarray(zr.clone().into_dyn(), &[64]).unwrap();
    (x, counted, y, z, xr, yr, zr)
}

#[test]
fn tiled_blocks_equal_eager_ndarray_and_read_each_chunk_once() {
    let (x, counted, y, z, xr, yr, zr) = inputs();
    // e1 = sqrt(|x * x - y.T| + z), e2 = where(x > 0, x, y.T * 2) - x / 3
    let e1 = x
        .mul(&x)
        .unwrap()
        .sub(y.t())
        .unwrap()
        .abs()
        .unwrap()
        .add(&z)
        .unwrap()
        .sqrt()
        .unwrap();
    let e2 = DynArray::where_(&x.gt(0.0).unwrap(), &x, y.t().mul(2.0).unwrap())
        .unwrap()
        .sub(x.div(3.0).unwrap())
        .unwrap();
    let cfg = EvalConfig::with_budget(64 << 20);
    let got = evaluate(&[&e1, &e2], &cfg).unwrap();
    let yt = yr.t();
    let want1 = Array2::from_shape_fn((ROWS, COLS), |(i, j)| {
        ((xr[[i, j]] * xr[[i, j]] - yt[[i, j]]).abs() + zr[j]).sqrt()
    });
    let want2 = Array2::from_shape_fn((ROWS, COLS), |(i, j)| {
        let w = if xr[[i, j]] > 0.0 {
            xr[[i, j]]
        } else {
            yt[[i, j]] * 2.0
        };
        w - xr[[i, j]] / 3.0
    });
    assert_eq!(
        got[0].clone().into_typed::<f64>().unwrap(),
        want1.into_dyn()
    );
    assert_eq!(
        got[1].clone().into_typed::<f64>().unwrap(),
        want2.into_dyn()
    );
    let per_chunk = counted.counts().per_chunk;
    assert_eq!(per_chunk.len(), 3, "{per_chunk:?}");
    assert!(
        per_chunk.values().all(|&n| n == 1),
        "a chunk was read more than once: {per_chunk:?}"
    );
}

#[test]
fn tiles_of_a_transposed_result_and_of_a_stream_match() {
    let (x, counted, y, _, xr, yr, _) = inputs();
    // (x + y.T).T has shape (400, 300): its tiles cut x across its chunks' columns.
    let e = x.add(y.t()).unwrap().t();
    let want: ArrayD<f64> = (&xr + &yr.t()).t().to_owned().into_dyn();
    let got = e.ndarray().unwrap().into_typed::<f64>().unwrap();
    assert_eq!(got, want);
    assert!(counted.counts().per_chunk.values().all(|&n| n == 1));

    let mut streamed = ArrayD::<f64>::zeros(IxDyn(&[COLS, ROWS]));
    let mut blocks = 0;
    for item in e.stream(&EvalConfig::with_budget(8 << 20)).unwrap() {
        let (region, block) = item.unwrap();
        let sl: Vec<ndarray::SliceInfoElem> = region
            .iter()
            .map(|r| ndarray::Slice::from(r.clone()).into())
            .collect();
        streamed
            .slice_mut(sl.as_slice())
            .assign(&block.into_typed::<f64>().unwrap());
        blocks += 1;
    }
    assert!(blocks > 1);
    assert_eq!(streamed, want);
    // The stream's columns of x, summed along rows, as a last independent check.
    assert_eq!(
        streamed.sum_axis(Axis(1)),
        (&xr + &yr.t()).sum_axis(Axis(0)).into_dyn()
    );
}

/// The numbers in `output block(s) of [a, b]` of a plan's description.
fn output_block(explain: &str) -> Vec<usize> {
    let at = explain.find("output block(s) of [").expect(explain) + "output block(s) of [".len();
    let end = at + explain[at..].find(']').unwrap();
    explain[at..end]
        .split(',')
        .filter(|t| !t.trim().is_empty())
        .map(|t| t.trim().parse().unwrap())
        .collect()
}

/// A reduction over the outer axis of data whose boxes are cheap to read (in memory) keeps
/// each task's state small (about 1 MiB: the block cuts the chunks), while over a source whose
/// boxes cost a chunk read the blocks keep whole chunks, so no chunk is read twice. Values
/// against ndarray either way.
#[test]
fn outer_axis_reductions_keep_small_states_where_boxes_are_cheap() {
    let (n, r, c) = (8, 256, 512);
    let value = |i: usize, j: usize, k: usize| ((i * 31 + j * 7 + k) % 101) as f64 * 0.5;
    let a = ArrayD::from_shape_fn(IxDyn(&[n, r, c]), |ix| value(ix[0], ix[1], ix[2]));
    let want = a.mean_axis(Axis(0)).unwrap();
    let cfg = EvalConfig::with_budget(256 << 20).threads(2);
    // In memory, one chunk per slab: 128K output elements, a 4 MiB state if kept whole (a mean
    // keeps a count, a NaN count, a shift and a sum of deviations: 32 bytes per element).
    let mem = DynArray::from_ndarray(a.clone(), &[1, r, c]).unwrap();
    let m = mem.mean(0usize).unwrap();
    let text = vastarray::Plan::new(&[&m], &cfg)
        .unwrap()
        .explain()
        .unwrap();
    let block = output_block(&text);
    assert!(
        block.iter().product::<usize>() * 32 <= 1 << 20,
        "{block:?}: {text}"
    );
    let got = evaluate(&[&m], &cfg).unwrap().remove(0);
    let got = got.into_typed::<f64>().unwrap();
    assert!(got
        .iter()
        .zip(want.iter())
        .all(|(x, y)| (x - y).abs() < 1e-9));
    // Counted (boxes not cheap): blocks of whole chunks, every chunk read once.
    let src = GeneratedSource::from_index_fn(&[n, r, c], &[1, r, c], move |ix| {
        value(ix[0], ix[1], ix[2])
    })
    .unwrap();
    let counted = CountingSource::new(src).chunks_only();
    let x = DynArray::from_source(counted.clone());
    let m = x.mean(0usize).unwrap();
    let text = vastarray::Plan::new(&[&m], &cfg)
        .unwrap()
        .explain()
        .unwrap();
    assert_eq!(output_block(&text), vec![r, c], "{text}");
    let got = evaluate(&[&m], &cfg).unwrap().remove(0);
    let got = got.into_typed::<f64>().unwrap();
    assert!(got
        .iter()
        .zip(want.iter())
        .all(|(x, y)| (x - y).abs() < 1e-9));
    let counts = counted.counts();
    assert_eq!(counts.per_chunk.len(), n);
    assert!(counts.per_chunk.values().all(|&k| k == 1), "{counts:?}");
}
