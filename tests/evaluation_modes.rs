//! Streaming, partitions, typed arrays, explain and dot.

use ndarray::{ArrayD, Axis, IxDyn};
use vastarray::Axes;
use vastarray::{Array, DynArray, EvalConfig, Plan};

fn data() -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(&[40, 30]), |ix| {
        ((ix[0] * 31 + ix[1] * 17) % 23) as f64 - 11.0
    })
}

#[test]
fn streaming_yields_blocks_that_tile_the_result() {
    let a = DynArray::from_ndarray(data(), &[4, 10]).unwrap();
    let e = a.mul(&a).unwrap().add(1.0).unwrap();
    let cfg = EvalConfig::with_budget(16 << 10).threads(2);
    let stream = e.stream(&cfg).unwrap();
    assert!(stream.num_blocks() > 1);
    let mut out = ArrayD::<f64>::from_elem(IxDyn(&[40, 30]), f64::NAN);
    for item in stream {
        let (region, block) = item.unwrap();
        let b = block.into_typed::<f64>().unwrap();
        let sl: Vec<ndarray::SliceInfoElem> = region
            .iter()
            .map(|r| ndarray::Slice::from(r.clone()).into())
            .collect();
        let mut target = out.slice_mut(sl.as_slice());
        assert!(
            target.iter().all(|v| v.is_nan()),
            "block {region:?} overlaps another"
        );
        target.assign(&b);
    }
    let want = data().mapv(|v| v * v + 1.0);
    assert_eq!(out, want);
}

#[test]
fn partitions_merge_into_the_full_result() {
    let a = DynArray::from_ndarray(data(), &[3, 7]).unwrap();
    let m = a.mean(0usize).unwrap();
    let s = a.var(Axes::All.ddof(1.0)).unwrap();
    let cfg = EvalConfig::default();
    let plan = Plan::new(&[&m, &s], &cfg).unwrap();
    // Each partition's state travels as JSON, as it would between machines.
    let partials = (0..3)
        .map(|k| {
            let json = serde_json::to_string(&plan.run_partition(k, 3).unwrap()).unwrap();
            serde_json::from_str(&json).unwrap()
        })
        .collect();
    let merged = plan.finish(partials).unwrap();
    let full = plan.run().unwrap();
    let (mm, fm) = (
        merged[0].clone().into_typed::<f64>().unwrap(),
        full[0].clone().into_typed::<f64>().unwrap(),
    );
    let want_m = data().mean_axis(Axis(0)).unwrap();
    for ((x, y), w) in mm.iter().zip(fm.iter()).zip(want_m.iter()) {
        assert!((x - w).abs() < 1e-12 && (y - w).abs() < 1e-12);
    }
    let d = data();
    let mu = d.mean().unwrap();
    let var = d.mapv(|v| (v - mu) * (v - mu)).sum() / (d.len() as f64 - 1.0);
    assert!((merged[1].clone().into_typed::<f64>().unwrap()[[]] - var).abs() < 1e-10);
}

#[test]
fn typed_arrays_follow_numpy_types() {
    let x: Array<f32> = Array::from_ndarray(
        ArrayD::from_shape_fn(IxDyn(&[6, 4]), |ix| ix[0] as f32 + 0.5),
        &[4, 4],
    )
    .unwrap();
    let i: Array<i16> =
        Array::from_ndarray(ArrayD::from_shape_fn(IxDyn(&[4]), |ix| ix[0] as i16), &[2]).unwrap();
    let y: Array<f32> = x.add(&i).unwrap(); // f32 + i16 -> f32
    let z: Array<f64> = x.add(&i.cast::<i32>().unwrap()).unwrap(); // f32 + i32 -> f64
    let m: Array<f32> = x.mean(0usize).unwrap();
    let s: Array<i64> = i.sum(0usize).unwrap();
    let q: Array<f64> = i.div(&i).unwrap();
    assert_eq!(y.ndarray().unwrap()[[2, 3]], 2.5 + 3.0);
    assert_eq!(z.ndarray().unwrap()[[5, 1]], 6.5);
    assert_eq!(m.ndarray().unwrap()[[0]], 3.0);
    assert_eq!(s.ndarray().unwrap()[[]], 6);
    assert!(q.ndarray().unwrap()[[0]].is_nan());
}

#[test]
fn explain_and_dot_describe_the_plan() {
    let a = DynArray::from_ndarray(data(), &[4, 10]).unwrap();
    let e = a
        .add(1.0)
        .unwrap()
        .exp()
        .unwrap()
        .select_str("5:15, 5:8")
        .unwrap();
    let text = e.explain(&EvalConfig::default()).unwrap();
    assert!(text.contains("select [5:15, 5:8]"), "{text}");
    assert!(text.contains("projected peak memory"), "{text}");
    assert!(
        text.contains("3 chunk(s)"),
        "rows 5..15 of chunks of 4 touch 3 chunks: {text}"
    );
    let dot = e.to_dot().unwrap();
    assert!(
        dot.starts_with("digraph") && dot.contains("exp") && dot.contains("->"),
        "{dot}"
    );
}
