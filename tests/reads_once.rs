//! Each source chunk is read once per pass, whatever stands between the source and the result
//! (issue 10): mosaics and stacks of unequal tiles, broadcasts, strided and list selections,
//! transposes. Every test counts reads per chunk with `CountingSource` (tiny chunks, budgets
//! small enough that a pass has many tasks, four threads), checks that the pass had many
//! tasks, and compares the values with eager ndarray.

use ndarray::{concatenate, stack, Array, ArrayD, Axis, Dimension, IxDyn, Slice};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use vastarray::Axes;
use vastarray::{
    evaluate, ChunkSource, CountingSource, DType, DynArray, EvalConfig, MemorySource, NdData,
};

/// Values that differ from chunk to chunk and position to position.
fn arr(shape: &[usize], seed: usize) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(shape), |ix| {
        let mut h = seed as f64 * 0.37;
        for (d, &i) in ix.slice().iter().enumerate() {
            h += ((i * (2 * d + 3) + 7 * d + seed) % 11) as f64 * (d as f64 + 1.3);
        }
        h
    })
}

fn counted(a: &ArrayD<f64>, chunks: &[usize]) -> (DynArray, CountingSource) {
    let c = CountingSource::new(MemorySource::new(a.clone(), chunks).unwrap()).chunks_only();
    (DynArray::from_source(c.clone()), c)
}

/// A configuration of four threads and `budget` bytes that records how many tasks each pass
/// had.
struct Run {
    cfg: EvalConfig,
    totals: Arc<Mutex<BTreeSet<u64>>>,
}

fn run(budget: usize) -> Run {
    let totals: Arc<Mutex<BTreeSet<u64>>> = Arc::default();
    let t = totals.clone();
    let mut cfg = EvalConfig::with_budget(budget).threads(4);
    cfg.progress = Some(Arc::new(move |_, total| {
        t.lock().unwrap().insert(total);
    }));
    Run { cfg, totals }
}

impl Run {
    /// Evaluates `arrays` together, checking that the largest pass had at least `tasks` tasks.
    fn eval(&self, arrays: &[&DynArray], tasks: u64) -> Vec<ArrayD<f64>> {
        self.totals.lock().unwrap().clear();
        let out = evaluate(arrays, &self.cfg).unwrap();
        let most = self
            .totals
            .lock()
            .unwrap()
            .iter()
            .max()
            .copied()
            .unwrap_or(0);
        assert!(
            most >= tasks,
            "the pass had {most} task(s), fewer than {tasks}:\n{}",
            arrays[0].explain(&self.cfg).unwrap()
        );
        out.into_iter()
            .map(|d| d.cast(DType::F64).into_typed::<f64>().unwrap())
            .collect()
    }

    fn one(&self, a: &DynArray, tasks: u64) -> ArrayD<f64> {
        self.eval(&[a], tasks).remove(0)
    }
}

/// Every chunk of the source was read exactly `times` times (whole chunks, no region reads).
fn read_each(c: &CountingSource, times: usize) {
    let counts = c.counts();
    let n: usize = c
        .shape()
        .iter()
        .zip(c.chunk_shape())
        .map(|(&s, &k)| s.div_ceil(k))
        .product();
    assert_eq!(counts.region_reads, 0);
    assert_eq!(
        counts.per_chunk.len(),
        n,
        "chunks read: {:?}",
        counts.per_chunk
    );
    assert!(
        counts.per_chunk.values().all(|&k| k == times),
        "chunks not read {times} time(s): {:?}",
        counts.per_chunk
    );
    c.reset();
}

fn once(cs: &[&CountingSource]) {
    for c in cs {
        read_each(c, 1);
    }
}

fn close(got: &ArrayD<f64>, want: &ArrayD<f64>) {
    assert_eq!(got.shape(), want.shape());
    for (g, w) in got.iter().zip(want.iter()) {
        assert!(
            (g - w).abs() <= 1e-9 * (1.0 + w.abs()),
            "got {got}\nwant {want}"
        );
    }
}

fn mean_all(a: &ArrayD<f64>) -> ArrayD<f64> {
    ndarray::arr0(a.mean().unwrap()).into_dyn()
}

fn std_all(a: &ArrayD<f64>) -> ArrayD<f64> {
    let m = a.mean().unwrap();
    ndarray::arr0((a.mapv(|x| (x - m) * (x - m)).sum() / a.len() as f64).sqrt()).into_dyn()
}

fn sum_axis(a: &ArrayD<f64>, axis: usize) -> ArrayD<f64> {
    a.sum_axis(Axis(axis))
}

/// Three tiles of unequal lengths (10, 7, 9) along axis 0, the last with other chunks.
fn unequal_tiles() -> (Vec<ArrayD<f64>>, Vec<DynArray>, Vec<CountingSource>) {
    let shapes = [([10, 12], [3, 5]), ([7, 12], [3, 5]), ([9, 12], [4, 5])];
    let mut eager = vec![];
    let mut lazy = vec![];
    let mut counts = vec![];
    for (i, (shape, chunks)) in shapes.iter().enumerate() {
        let a = arr(shape, i);
        let (l, c) = counted(&a, chunks);
        eager.push(a);
        lazy.push(l);
        counts.push(c);
    }
    (eager, lazy, counts)
}

fn refs(c: &[CountingSource]) -> Vec<&CountingSource> {
    c.iter().collect()
}

#[test]
fn reductions_over_a_mosaic_of_unequal_tiles_read_each_chunk_once() {
    let (eager, tiles, counts) = unequal_tiles();
    let views: Vec<_> = eager.iter().map(|a| a.view()).collect();
    let whole = concatenate(Axis(0), &views).unwrap();
    let m = DynArray::concatenate(&tiles, 0).unwrap();
    let r = run(3 << 10);
    close(
        &r.one(&m.mean(None::<usize>).unwrap(), 4),
        &mean_all(&whole),
    );
    once(&refs(&counts));
    close(&r.one(&m.sum(0).unwrap(), 4), &sum_axis(&whole, 0));
    once(&refs(&counts));
    close(&r.one(&m.sum(1).unwrap(), 4), &sum_axis(&whole, 1));
    once(&refs(&counts));
    // A block pass over the mosaic, and no chunk kept for the pass: blocks follow the tiles.
    close(&r.one(&m.mul(2.0).unwrap(), 4), &(&whole * 2.0));
    once(&refs(&counts));
    let plan = m.mean(None::<usize>).unwrap().explain(&r.cfg).unwrap();
    assert!(!plan.contains("kept for the whole pass"), "{plan}");
}

#[test]
fn mean_and_std_of_a_mosaic_of_mosaics_share_one_pass() {
    // Rows of unequal tiles along axis 1, rows of unequal heights along axis 0.
    let mut counts = vec![];
    let mut eager_rows = vec![];
    let mut rows = vec![];
    for (i, h) in [5usize, 8, 3].into_iter().enumerate() {
        let mut eager = vec![];
        let mut tiles = vec![];
        for (j, w) in [7usize, 4, 9].into_iter().enumerate() {
            let a = arr(&[h, w], 3 * i + j);
            let (t, c) = counted(&a, &[2, 3]);
            eager.push(a);
            tiles.push(t);
            counts.push(c);
        }
        let views: Vec<_> = eager.iter().map(|a| a.view()).collect();
        eager_rows.push(concatenate(Axis(1), &views).unwrap());
        rows.push(DynArray::concatenate(&tiles, 1).unwrap());
    }
    let views: Vec<_> = eager_rows.iter().map(|a| a.view()).collect();
    let whole = concatenate(Axis(0), &views).unwrap();
    let m = DynArray::concatenate(&rows, 0).unwrap();
    let r = run(3 << 10);
    let (mean, std) = (m.mean(None::<usize>).unwrap(), m.std(Axes::All).unwrap());
    let mx = m.max(None::<usize>).unwrap();
    let got = r.eval(&[&mean, &std, &mx], 4);
    close(&got[0], &mean_all(&whole));
    close(&got[1], &std_all(&whole));
    close(
        &got[2],
        &ndarray::arr0(whole.fold(f64::MIN, |a, &b| a.max(b))).into_dyn(),
    );
    once(&refs(&counts));
    // Along one axis, as output blocks and as pieces.
    for axis in [0, 1] {
        let (mean, std) = (m.mean(axis).unwrap(), m.std(axis).unwrap());
        let got = r.eval(&[&mean, &std], 4);
        let n = whole.shape()[axis] as f64;
        let want_mean = sum_axis(&whole, axis) / n;
        close(&got[0], &want_mean);
        let want_var = whole.map_axis(Axis(axis), |lane| {
            let m = lane.sum() / n;
            lane.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n
        });
        close(&got[1], &want_var.mapv(f64::sqrt));
        once(&refs(&counts));
    }
}

#[test]
fn stacks_and_concatenations_read_each_chunk_once() {
    let eager: Vec<ArrayD<f64>> = (0..3).map(|i| arr(&[10, 12], 10 + i)).collect();
    let (lazy, counts): (Vec<_>, Vec<_>) = eager.iter().map(|a| counted(a, &[3, 5])).unzip();
    let views: Vec<_> = eager.iter().map(|a| a.view()).collect();
    let r = run(8 << 10);
    for axis in [0, 1, 2] {
        let st = DynArray::stack(&lazy, axis).unwrap();
        let want = stack(Axis(axis), &views).unwrap();
        close(
            &r.one(&st.mean(None::<usize>).unwrap(), 4),
            &mean_all(&want),
        );
        once(&refs(&counts));
        close(&r.one(&st.sum(axis).unwrap(), 4), &sum_axis(&want, axis));
        once(&refs(&counts));
        close(&r.one(&st.sqrt().unwrap(), 4), &want.mapv(f64::sqrt));
        once(&refs(&counts));
    }
    let cat = DynArray::concatenate(&lazy, 1).unwrap();
    let want = concatenate(Axis(1), &views).unwrap();
    close(&r.one(&cat.sum(1).unwrap(), 4), &sum_axis(&want, 1));
    once(&refs(&counts));
    close(&r.one(&cat.sum(0).unwrap(), 4), &sum_axis(&want, 0));
    once(&refs(&counts));
}

#[test]
fn a_stack_of_one_array_twice_reads_it_once() {
    let a = arr(&[30, 12], 4);
    let (l, c) = counted(&a, &[3, 5]);
    // Room to keep the array's chunks (2.8 KiB) for the pass: no box of blocks can give each
    // of its chunks to one task.
    let r = run(32 << 10);
    for axis in [0, 1, 2] {
        let st = DynArray::stack(&[l.clone(), l.clone()], axis).unwrap();
        let want = stack(Axis(axis), &[a.view(), a.view()]).unwrap();
        close(&r.one(&st.add(1.0).unwrap(), 4), &(&want + 1.0));
        read_each(&c, 1);
        let total = ndarray::arr0(want.sum()).into_dyn();
        close(&r.one(&st.sum(None::<usize>).unwrap(), 3), &total);
        read_each(&c, 1);
        close(&r.one(&st.sum(axis).unwrap(), 4), &sum_axis(&want, axis));
        read_each(&c, 1);
    }
    // The same through two views: a[1:] - a[:-1].
    let d = l
        .select_str("1:")
        .unwrap()
        .sub(l.select_str(":-1").unwrap())
        .unwrap();
    let want = &a.slice_axis(Axis(0), Slice::from(1..)) - &a.slice_axis(Axis(0), Slice::from(..-1));
    close(&r.one(&d, 4), &want);
    read_each(&c, 1);
}

#[test]
fn a_broadcast_operand_is_read_once_per_pass() {
    let row = arr(&[1, 12], 5);
    let (b, cb) = counted(&row, &[1, 4]);
    let big = arr(&[40, 12], 6);
    let (x, cx) = counted(&big, &[3, 5]);
    let r = run(4 << 10);
    // Alone, stretched along axis 0 and with new leading axes.
    let want = row.broadcast(IxDyn(&[40, 12])).unwrap().to_owned();
    close(&r.one(&b.broadcast_to(&[40, 12]).unwrap(), 4), &want);
    read_each(&cb, 1);
    let want3 = row.broadcast(IxDyn(&[3, 40, 12])).unwrap().to_owned();
    close(&r.one(&b.broadcast_to(&[3, 40, 12]).unwrap(), 4), &want3);
    read_each(&cb, 1);
    // As the operand of arithmetic, in a block pass and in a reduction of many pieces.
    let y = x.add(&b).unwrap();
    close(&r.one(&y, 4), &(&big + &row));
    once(&[&cb, &cx]);
    close(
        &r.one(&y.mean(None::<usize>).unwrap(), 4),
        &mean_all(&(&big + &row)),
    );
    once(&[&cb, &cx]);
    close(&r.one(&y.sum(0).unwrap(), 4), &sum_axis(&(&big + &row), 0));
    once(&[&cb, &cx]);
    let plan = y.explain(&r.cfg).unwrap();
    assert!(plan.contains("kept for the whole pass"), "{plan}");
}

/// A source that says it waits on latency (so its chunks are prefetched in batches).
struct Slow(MemorySource);

impl ChunkSource for Slow {
    fn shape(&self) -> &[usize] {
        self.0.shape()
    }
    fn dtype(&self) -> DType {
        self.0.dtype()
    }
    fn chunk_shape(&self) -> &[usize] {
        self.0.chunk_shape()
    }
    fn name(&self) -> String {
        "slow".into()
    }
    fn read_chunk(&self, index: &[usize]) -> vastarray::Result<NdData> {
        self.0.read_chunk(index)
    }
    fn latency_bound(&self) -> bool {
        true
    }
}

#[test]
fn a_latency_bound_broadcast_operand_is_fetched_once() {
    let col = arr(&[30, 1], 7);
    let cb = CountingSource::new(Slow(MemorySource::new(col.clone(), &[4, 1]).unwrap()));
    let b = DynArray::from_source(cb.clone());
    let big = arr(&[30, 40], 8);
    let (x, cx) = counted(&big, &[4, 5]);
    // A small budget: many prefetch batches.
    let r = run(6 << 10);
    let y = x.mul(&b).unwrap();
    close(&r.one(&y, 8), &(&big * &col));
    once(&[&cb, &cx]);
    close(&r.one(&y.sum(1).unwrap(), 4), &sum_axis(&(&big * &col), 1));
    once(&[&cb, &cx]);
}

#[test]
fn strided_selections_read_each_chunk_once() {
    // A one-chunk array, stepped as the issue found it.
    let a1 = arr(&[17], 9);
    let (o, co) = counted(&a1, &[17]);
    let r = run(512 << 20);
    for (sel, s) in [
        ("::-4", Slice::new(0, None, -4)),
        ("1::4", Slice::new(1, None, 4)),
    ] {
        let want = a1.slice_axis(Axis(0), numpy(s, 17)).to_owned();
        close(&r.one(&o.select_str(sel).unwrap(), 1), &want);
        read_each(&co, 1);
    }
    // Tiny chunks that the steps do not divide, and many tasks.
    let a = arr(&[80, 60], 10);
    let (l, c) = counted(&a, &[10, 7]);
    // A budget that holds one chunk-aligned piece per worker (a smaller one splits chunks:
    // the budget comes first).
    let r = run(8 << 10);
    let cases = [
        (
            "::-4, 1::3",
            Slice::new(0, None, -4),
            Slice::new(1, None, 3),
        ),
        (
            "1::4, ::-7",
            Slice::new(1, None, 4),
            Slice::new(0, None, -7),
        ),
        ("::3, ::2", Slice::new(0, None, 3), Slice::new(0, None, 2)),
        (
            "-2::-3, 3:",
            Slice::new(-2, None, -3),
            Slice::new(3, None, 1),
        ),
    ];
    for (sel, s0, s1) in cases {
        let want = a
            .slice_axis(Axis(0), numpy(s0, 80))
            .slice_axis(Axis(1), numpy(s1, 60))
            .to_owned();
        let s = l.select_str(sel).unwrap();
        close(&r.one(&s, 4), &want);
        read_each(&c, 1);
        close(&r.one(&s.mean(None::<usize>).unwrap(), 4), &mean_all(&want));
        read_each(&c, 1);
        close(&r.one(&s.sum(0).unwrap(), 4), &sum_axis(&want, 0));
        read_each(&c, 1);
    }
}

/// numpy's `slice(start, None, step)` on an axis of `n` as an ndarray slice (which steps from
/// the end of the range when negative).
fn numpy(s: Slice, n: usize) -> Slice {
    if s.step > 0 {
        return s;
    }
    let start = if s.start < 0 {
        n as isize + s.start
    } else {
        s.start.min(n as isize - 1)
    };
    if s.start == 0 {
        // numpy's default start for a negative step is the last position.
        return Slice::new(0, None, s.step);
    }
    Slice::new(0, Some(start + 1), s.step)
}

#[test]
fn list_selections_with_repeats_read_each_chunk_once() {
    let a = arr(&[10, 6], 11);
    let r = run(1 << 10);
    // One-position chunks: the a[[1, 1, 3]].
    let (l1, c1) = counted(&a, &[1, 6]);
    let want = a.select(Axis(0), &[1, 1, 3]);
    close(&r.one(&l1.select_str("[1, 1, 3]").unwrap(), 2), &want);
    let counts = c1.counts();
    assert_eq!(
        counts.per_chunk.keys().cloned().collect::<Vec<_>>(),
        vec![vec![1, 0], vec![3, 0]]
    );
    assert!(
        counts.per_chunk.values().all(|&n| n == 1),
        "{:?}",
        counts.per_chunk
    );
    c1.reset();
    // Lists that return to chunks they left, on two axes, too long for one block: the
    // source's chunks are kept for the pass (no box of blocks gives each to one task).
    let r = run(8 << 10);
    let (l, c) = counted(&a, &[2, 2]);
    let rows: Vec<usize> = (0..120).map(|k| (k * 7 + k / 13) % 10).collect();
    let cols = [5usize, 0, 5, 3, 2, 1, 4];
    let want = a.select(Axis(0), &rows).select(Axis(1), &cols);
    let text = format!("{rows:?}, {cols:?}");
    let s = l.select_str(&text).unwrap();
    close(&r.one(&s, 4), &want);
    read_each(&c, 1);
    close(&r.one(&s.sum(0).unwrap(), 2), &sum_axis(&want, 0));
    read_each(&c, 1);
    close(&r.one(&s.sum(1).unwrap(), 2), &sum_axis(&want, 1));
    read_each(&c, 1);
}

#[test]
fn mean_along_an_axis_with_std_of_all_reads_each_chunk_once_per_pass() {
    let a = arr(&[20, 18], 12);
    let (l, c) = counted(&a, &[3, 4]);
    let r = run(2 << 10);
    let (m0, sd) = (l.mean(0).unwrap(), l.std(Axes::All).unwrap());
    let got = r.eval(&[&m0, &sd], 4);
    close(&got[0], &(sum_axis(&a, 0) / 20.0));
    close(&got[1], &std_all(&a));
    // Different axes make two passes: each reads every chunk once.
    read_each(&c, 2);
    let plan = vastarray::Plan::new(&[&m0, &sd], &r.cfg)
        .unwrap()
        .explain()
        .unwrap();
    assert_eq!(plan.matches("reduction pass").count(), 2, "{plan}");
}

#[test]
fn transposes_then_reductions_read_each_chunk_once() {
    let a = arr(&[20, 18], 13);
    let (l, c) = counted(&a, &[3, 4]);
    let r = run(2 << 10);
    let t = l.t();
    let at = a.t().to_owned();
    close(&r.one(&t.sum(0).unwrap(), 4), &sum_axis(&at, 0));
    read_each(&c, 1);
    close(&r.one(&t.mean(None::<usize>).unwrap(), 4), &mean_all(&at));
    read_each(&c, 1);
    close(
        &r.one(&t.select_str("::-1, 2::3").unwrap().sum(1).unwrap(), 4),
        &{
            let s = at.slice_axis(Axis(0), Slice::new(0, None, -1));
            sum_axis(&s.slice_axis(Axis(1), Slice::new(2, None, 3)).to_owned(), 1)
        },
    );
    // Rows 2, 5, ..., 17 of `a` lie in 6 of its 7 chunk rows.
    let counts = c.counts();
    assert_eq!(counts.per_chunk.len(), 6 * 5);
    assert!(
        counts.per_chunk.values().all(|&n| n == 1),
        "{:?}",
        counts.per_chunk
    );
    c.reset();
    // Three axes permuted, reduced over two of them.
    let b = arr(&[6, 7, 8], 14);
    let (lb, cb) = counted(&b, &[2, 3, 3]);
    let p = lb.permute(&[2, 0, 1]).unwrap();
    let pb = b.clone().permuted_axes(IxDyn(&[2, 0, 1]));
    let want = pb.sum_axis(Axis(2)).sum_axis(Axis(0));
    close(&r.one(&p.sum(vec![0usize, 2]).unwrap(), 2), &want);
    read_each(&cb, 1);
    // One source under a transpose and without: a + a.T.
    let sq = arr(&[12, 12], 15);
    let (ls, cs) = counted(&sq, &[5, 5]);
    // Room to keep its 1.4 KiB of chunks for the pass: block (i, j) needs chunks (i, j) and
    // (j, i), so no box of blocks gives each chunk to one task.
    let r = run(16 << 10);
    close(&r.one(&ls.add(ls.t()).unwrap(), 4), &(&sq + &sq.t()));
    read_each(&cs, 1);
}

#[test]
fn a_broadcast_operand_too_large_to_keep_stays_within_the_budget() {
    // The operand's chunks (40 x 8 bytes x 64) are more than an eighth of the budget: they are
    // not kept for the pass, and the plan still fits.
    let row = arr(&[1, 64 * 40], 16);
    let (b, cb) = counted(&row, &[1, 40]);
    let big = arr(&[16, 64 * 40], 17);
    let (x, cx) = counted(&big, &[2, 40]);
    let r = run(64 << 10);
    let y = x.add(&b).unwrap();
    let plan = vastarray::Plan::new(&[&y], &r.cfg).unwrap();
    let text = plan.explain().unwrap();
    assert!(!text.contains("kept for the whole pass"), "{text}");
    close(&r.one(&y, 4), &(&big + &row));
    read_each(&cx, 1);
    assert!(cb.counts().per_chunk.values().all(|&n| n >= 1));
    cb.reset();
    // With a larger budget the same operand is kept, and counted in the projected peak.
    let r = run(1 << 20);
    let text = vastarray::Plan::new(&[&y], &r.cfg)
        .unwrap()
        .explain()
        .unwrap();
    assert!(text.contains("kept for the whole pass"), "{text}");
    close(&r.one(&y, 4), &(&big + &row));
    once(&[&cb, &cx]);
}

#[test]
fn eager_reference_helpers_agree_with_ndarray() {
    // The references above, checked on a case small enough to compute by hand.
    let a = Array::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 2.0, 3.0, 6.0]).unwrap();
    assert_eq!(mean_all(&a)[[]], 3.0);
    assert!((std_all(&a)[[]] - 3.5f64.sqrt()).abs() < 1e-12);
    assert_eq!(numpy(Slice::new(0, None, -4), 17), Slice::new(0, None, -4));
    let v: Vec<f64> = (0..17).map(f64::from).collect();
    let a1 = Array::from(v).into_dyn();
    let got: Vec<f64> = a1
        .slice_axis(Axis(0), numpy(Slice::new(-2, None, -3), 17))
        .iter()
        .copied()
        .collect();
    assert_eq!(got, vec![15.0, 12.0, 9.0, 6.0, 3.0, 0.0]);
}
