//! `Plan::run_on` and `EngineRegions` across ranks that are threads of this process, joined
//! by channels (an engine of the test's own): results equal `Plan::run` and ndarray's for 1
//! to 5 ranks, stages run once, a failing rank's error reaches every rank.

use super::*;
use crate::data::NdData;
use crate::dtype::DType;
use crate::graph::{Axes, DynArray};
use crate::source::{CountingSource, GeneratedSource};
use crate::{EvalConfig, Plan};
use ndarray::{ArrayD, Axis, Dimension, IxDyn};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One rank of a group of threads joined by a channel per ordered pair of ranks.
#[derive(Debug)]
struct ChannelEngine {
    rank: usize,
    to: Vec<Mutex<Sender<Vec<u8>>>>,
    from: Vec<Mutex<Receiver<Vec<u8>>>>,
}

impl Engine for ChannelEngine {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.to.len()
    }
    fn send(&self, to: usize, bytes: &[u8]) -> Result<()> {
        self.to[to]
            .lock()
            .unwrap()
            .send(bytes.to_vec())
            .map_err(|_| Error::Internal(format!("rank {to} is gone")))
    }
    fn receive(&self, from: usize) -> Result<Vec<u8>> {
        // A bound instead of a hang if the exchanges ever stop pairing up.
        self.from[from]
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(120))
            .map_err(|e| Error::Internal(format!("nothing from rank {from}: {e}")))
    }
}

type Inbox = Mutex<Receiver<Vec<u8>>>;

fn engines(n: usize) -> Vec<Arc<ChannelEngine>> {
    let mut to: Vec<Vec<Mutex<Sender<Vec<u8>>>>> = (0..n).map(|_| Vec::new()).collect();
    let mut from: Vec<Vec<Option<Inbox>>> =
        (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
    for (a, row) in to.iter_mut().enumerate() {
        for rx in from.iter_mut() {
            let (s, r) = channel();
            row.push(Mutex::new(s));
            rx[a] = Some(Mutex::new(r));
        }
    }
    to.into_iter()
        .zip(from)
        .enumerate()
        .map(|(rank, (to, from))| {
            Arc::new(ChannelEngine {
                rank,
                to,
                from: from.into_iter().map(Option::unwrap).collect(),
            })
        })
        .collect()
}

/// Runs `f` on every rank of `n`, each in its own thread; the results in rank order.
fn on_ranks<T: Send>(n: usize, f: impl Fn(&Arc<ChannelEngine>) -> T + Sync) -> Vec<T> {
    let engines = engines(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = engines.iter().map(|e| s.spawn(|| f(e))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn value(ix: &[usize]) -> f64 {
    let (i, j) = (ix[0] as f64, ix[1] as f64);
    (i * 0.37 + j * 1.91).sin() * 1000.0 + i * 3.0 + 1e6
}

fn data() -> (ArrayD<f64>, ArrayD<i32>) {
    let f = ArrayD::from_shape_fn(IxDyn(&[61, 47]), |ix| value(ix.slice()));
    let i = f.mapv(|v| (v as i64 % 100_000) as i32 - 50_000);
    (f, i)
}

/// Small chunks and a small budget: many tasks, so every rank has several.
fn cfg() -> EvalConfig {
    EvalConfig::default().budget(48 << 10).threads(2)
}

/// Equal within the rounding of f64 at the data's magnitude (about 1e6).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e6)
}

fn same(a: &NdData, b: &NdData) {
    assert_eq!(a.dtype(), b.dtype());
    assert_eq!(a.shape(), b.shape());
    if a.dtype() == DType::F64 {
        let (x, y) = (
            a.clone().into_typed::<f64>().unwrap(),
            b.clone().into_typed::<f64>().unwrap(),
        );
        for (p, q) in x.iter().zip(y.iter()) {
            assert!(close(*p, *q), "{p} vs {q}");
        }
    } else {
        assert_eq!(crate::data::nd_to_bytes(a), crate::data::nd_to_bytes(b));
    }
}

fn arrays() -> (DynArray, DynArray) {
    let (f, i) = data();
    (
        DynArray::from_ndarray(f, &[7, 9]).unwrap(),
        DynArray::from_ndarray(i, &[7, 9]).unwrap(),
    )
}

#[test]
fn results_equal_one_process_and_ndarray_for_one_to_five_ranks() {
    let (f, i) = arrays();
    let (fa, ia) = data();
    let roots = vec![
        f.count(Axes::All).unwrap(),
        f.mean(Axes::All).unwrap(),
        f.std(Axes::All.ddof(1.0)).unwrap(),
        f.min(Axes::All).unwrap(),
        i.max(Axes::All).unwrap(),
        f.sum(0usize).unwrap(),
        i.sum(1usize).unwrap(),
        i.min(0usize).unwrap(),
        (&f - &f.mean(0usize).unwrap()).unwrap(),
        ((&i * 2).unwrap() + 1).unwrap(),
    ];
    let refs: Vec<&DynArray> = roots.iter().collect();
    let plan = Plan::new(&refs, &cfg()).unwrap();
    assert!(!plan.stages().is_empty(), "the centring is a staged plan");
    let one = plan.run().unwrap();
    // Independent references for some of them.
    let mean0 = fa.mean_axis(Axis(0)).unwrap();
    let centred = &fa - &mean0.insert_axis(Axis(0));
    let isum1 = ia.mapv(i64::from).sum_axis(Axis(1));
    let got = |k: usize| one[k].clone().into_typed::<f64>().unwrap();
    assert!(close(
        got(1).iter().next().copied().unwrap(),
        fa.mean().unwrap()
    ));
    for (p, q) in got(8).iter().zip(centred.iter()) {
        assert!(close(*p, *q), "{p} vs {q}");
    }
    let s1 = one[6].clone().into_typed::<i64>().unwrap();
    assert_eq!(s1.as_slice().unwrap(), isum1.as_slice().unwrap());
    for n in 1..=5 {
        let runs = on_ranks(n, |e| {
            Plan::new(&refs, &cfg()).unwrap().run_on(&**e).unwrap()
        });
        let (root, others) = runs.split_first().unwrap();
        assert!(
            others.iter().all(Option::is_none),
            "only rank 0 holds results"
        );
        for (a, b) in root.as_ref().unwrap().iter().zip(&one) {
            same(a, b);
        }
        let everywhere = on_ranks(n, |e| {
            Plan::new(&[&roots[5]], &cfg())
                .unwrap()
                .run_everywhere(&**e)
                .unwrap()
        });
        for r in &everywhere {
            same(&r[0], &one[5]);
        }
    }
}

/// Each chunk is read by one rank only, and a stage's chunks once (not once per rank).
#[test]
fn every_chunk_is_read_by_one_rank_once() {
    let (fa, _) = data();
    let counting = Arc::new(CountingSource::new(
        crate::source::MemorySource::new(fa.clone(), &[7, 9]).unwrap(),
    ));
    let f = DynArray::from_source_arc(counting.clone());
    let centred = (&f - &f.mean(0usize).unwrap()).unwrap();
    let total = centred.sum(Axes::All).unwrap();
    let chunks = 9 * 6;
    for n in [1, 2, 3, 4] {
        let before = counting.reads();
        let r = on_ranks(n, |e| {
            let p = Plan::new(&[&total], &cfg()).unwrap();
            p.run_on(&**e).unwrap()
        });
        // Twice in all: once for the stage (the mean), once for the pass.
        assert_eq!(counting.reads() - before, 2 * chunks, "{n} ranks");
        let v = r[0].as_ref().unwrap()[0]
            .clone()
            .into_typed::<f64>()
            .unwrap();
        assert!(v.iter().next().unwrap().abs() < 1e-6, "a centred sum is 0");
    }
}

#[test]
fn a_failing_rank_ends_every_rank_with_its_error() {
    // Chunk [3, 2] of this source (rows 21..28, columns 18..27) is read wrong (a shape it
    // does not have).
    let src = GeneratedSource::new(&[61, 47], &[7, 9], DType::F64, |region| {
        let shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
        if region[0].start == 21 && region[1].start == 18 {
            return NdData::zeros(DType::F64, &[1, 1]);
        }
        NdData::zeros(DType::F64, &shape)
    })
    .unwrap();
    let f = DynArray::from_source(src);
    for n in [2, 3, 4] {
        for root in [f.mean(Axes::All).unwrap(), (&f * 2.0).unwrap()] {
            let runs = on_ranks(n, |e| Plan::new(&[&root], &cfg()).unwrap().run_on(&**e));
            let ranks: Vec<usize> = runs
                .iter()
                .map(|r| match r {
                    Err(Error::Rank { rank, message }) => {
                        assert!(message.contains("[21..28, 18..27]"), "{message}");
                        *rank
                    }
                    other => panic!("{other:?}"),
                })
                .collect();
            assert!(ranks.iter().all(|&r| r == ranks[0] && r < n), "{ranks:?}");
        }
    }
    // With one rank it is the plain error.
    let e = Plan::new(&[&f.mean(Axes::All).unwrap()], &cfg())
        .unwrap()
        .run_on(&Local)
        .unwrap_err();
    assert!(e.to_string().contains("[21..28, 18..27]"), "{e}");
}

#[test]
fn a_store_on_rank_zero_gets_every_rank_s_blocks_in_order() {
    use crate::io::npy::{store_npy, NpyStoreOptions};
    let (f, _) = arrays();
    let y = (&f - &f.mean(0usize).unwrap()).unwrap();
    // The mean as a stage computed first, as the command does.
    let dir = tempfile::tempdir().unwrap();
    let single = dir.path().join("one.npy");
    let opts = NpyStoreOptions {
        buffer_bytes: 4096,
        ..Default::default()
    };
    store_npy(
        &EngineRegions::new(y.clone(), cfg(), Arc::new(Local)),
        &single,
        &opts,
    )
    .unwrap();
    for n in [2, 3] {
        let out = dir.path().join(format!("{n}.npy"));
        on_ranks(n, |e| {
            let engine: Arc<dyn Engine> = e.clone();
            let regions = EngineRegions::new(y.clone(), cfg(), engine);
            if e.is_root() {
                store_npy(&regions, &out, &opts).unwrap();
                regions.done().unwrap();
            } else {
                regions.follow().unwrap();
            }
        });
        assert_eq!(
            std::fs::read(&out).unwrap(),
            std::fs::read(&single).unwrap()
        );
    }
}
