//! Invalid input gives a typed error at construction (or a clear one at evaluation for what
//! only data can reveal), never a panic.

use ndarray::{ArrayD, IxDyn};
use vastarray::Over;
use vastarray::{
    Array, ChunkSource, DType, DynArray, Error, EvalConfig, GeneratedSource, NdData, SliceArg,
};

fn a(shape: &[usize]) -> DynArray {
    DynArray::from_ndarray(
        ArrayD::from_shape_fn(IxDyn(shape), |ix| ix[0] as f64),
        &vec![2; shape.len()],
    )
    .unwrap()
}

#[test]
fn shapes_that_do_not_broadcast() {
    assert!(matches!(a(&[3, 4]).add(a(&[3, 5])), Err(Error::Shape(_))));
    assert!(matches!(
        a(&[3, 4]).broadcast_to(&[4, 4]),
        Err(Error::Shape(_))
    ));
    assert!(matches!(
        DynArray::where_(&a(&[3]).gt(0).unwrap(), a(&[4]), 0),
        Err(Error::Shape(_))
    ));
    assert!(matches!(
        DynArray::stack(&[a(&[3]), a(&[4])], 0),
        Err(Error::Shape(_))
    ));
}

#[test]
fn mismatched_mosaic_tiles_and_empty_mosaics() {
    let e = DynArray::concatenate(&[a(&[3, 4]), a(&[3, 5])], 0).unwrap_err();
    assert!(
        matches!(e, Error::Shape(ref m) if m.contains("tile 1")),
        "{e}"
    );
    assert!(matches!(
        DynArray::concatenate(&[a(&[3, 4]), a(&[3])], 0),
        Err(Error::Shape(_))
    ));
    assert!(matches!(
        DynArray::concatenate(&[], 0),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        DynArray::concatenate(&[a(&[3])], 1),
        Err(Error::Axis(_))
    ));
}

#[test]
fn axes_out_of_range_or_repeated() {
    assert!(matches!(a(&[3, 4]).sum(2usize), Err(Error::Axis(_))));
    assert!(matches!(
        a(&[3, 4]).sum(vec![1isize, -1]),
        Err(Error::Axis(_))
    ));
    assert!(matches!(a(&[3, 4]).permute(&[0, 0]), Err(Error::Axis(_))));
    assert!(matches!(a(&[3, 4]).insert_axis(3), Err(Error::Axis(_))));
    assert!(a(&[3, 4]).mean(-1isize).is_ok());
}

#[test]
fn bad_indices_and_steps() {
    let x = a(&[3, 4]);
    assert!(matches!(x.select_str("3"), Err(Error::Index(_))));
    assert!(matches!(x.select_str("-4"), Err(Error::Index(_))));
    assert!(matches!(x.select_str("::0"), Err(Error::Index(_))));
    assert!(matches!(x.select_str("0, 0, 0"), Err(Error::Index(_))));
    assert!(matches!(
        x.select(&[SliceArg::List(vec![0, 3])]),
        Err(Error::Index(_))
    ));
    assert!(matches!(
        x.select(&[SliceArg::Mask(vec![true, false])]),
        Err(Error::Index(_))
    ));
    assert!(matches!(
        x.slice(ndarray::s![0..5, ..]),
        Err(Error::Index(_))
    ));
    assert!(matches!(x.select_str("..., ..."), Err(Error::Index(_))));
}

#[test]
fn bad_types_and_options() {
    let x = a(&[3]);
    assert!(matches!(DynArray::where_(&x, &x, &x), Err(Error::DType(_))));
    assert!(matches!(
        Array::<f32>::from_dyn(x.clone()),
        Err(Error::DType(_))
    ));
    assert!(matches!(
        x.var(Over::axes(0usize).ddof(-1.0)),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        x.nanmean(Over::axes(0usize).mdtol(1.5)),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(x.gt(0).unwrap().neg(), Err(Error::DType(_))));
    let u8s = DynArray::from_ndarray(ArrayD::from_elem(IxDyn(&[2]), 1u8), &[1]).unwrap();
    assert!(
        matches!(u8s.add(300), Err(Error::DType(_))),
        "300 does not fit uint8 (numpy 2 raises too)"
    );
}

#[test]
fn data_dependent_errors_come_at_evaluation() {
    let i = DynArray::from_ndarray(ndarray::arr1(&[2i32, -1]).into_dyn(), &[1]).unwrap();
    let e = i.pow(&i).unwrap().ndarray().unwrap_err();
    assert!(
        matches!(e, Error::Invalid(ref m) if m.contains("negative")),
        "{e}"
    );
    let empty = DynArray::from_ndarray(ArrayD::<i32>::zeros(IxDyn(&[0, 3])), &[1, 1]).unwrap();
    assert!(empty.max(0usize).unwrap().ndarray().is_err());
    let fempty = DynArray::from_ndarray(ArrayD::<f64>::zeros(IxDyn(&[0])), &[1]).unwrap();
    assert!(fempty
        .mean(0usize)
        .unwrap()
        .ndarray()
        .unwrap()
        .into_typed::<f64>()
        .unwrap()[[]]
    .is_nan());
}

struct Liar {
    fail_chunk: Vec<usize>,
}

impl ChunkSource for Liar {
    fn shape(&self) -> &[usize] {
        &[8, 8]
    }
    fn dtype(&self) -> DType {
        DType::F32
    }
    fn chunk_shape(&self) -> &[usize] {
        &[4, 4]
    }
    fn name(&self) -> String {
        "liar.h5:/data".into()
    }
    fn read_chunk(&self, index: &[usize]) -> vastarray::Result<NdData> {
        if index == self.fail_chunk.as_slice() {
            return Err(Error::read(self.name(), Some(index), "disk on fire"));
        }
        // Lies about the shape of chunk [1, 1].
        let shape = if index == [1, 1] { [3, 4] } else { [4, 4] };
        Ok(NdData::F32(ArrayD::zeros(IxDyn(&shape))))
    }
}

#[test]
fn failing_and_lying_sources_are_named() {
    let x = DynArray::from_source(Liar {
        fail_chunk: vec![0, 1],
    });
    let e = x.select_str(":4, 4:").unwrap().ndarray().unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("liar.h5:/data") && msg.contains("[0, 1]") && msg.contains("disk on fire"),
        "{msg}"
    );
    let e = x
        .select_str("4:, 4:")
        .unwrap()
        .ndarray()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("liar.h5:/data") && e.contains("[1, 1]") && e.contains("shape"),
        "{e}"
    );
    assert!(x.select_str(":4, :4").unwrap().ndarray().is_ok());
}

#[test]
fn plans_that_cannot_fit_are_refused_before_reading() {
    let src =
        GeneratedSource::from_index_fn(&[64, 1 << 20], &[1, 1 << 20], |ix| ix[1] as f64).unwrap();
    // Whole chunks of 8 MiB must be read: a 1 MiB budget cannot hold one.
    let counted = vastarray::CountingSource::new(src).chunks_only();
    let x = DynArray::from_source(counted.clone());
    let cfg = EvalConfig::with_budget(1 << 20);
    let e = x.mean(0usize).unwrap().ndarray_with(&cfg).unwrap_err();
    assert!(matches!(e, Error::Budget(_)), "{e}");
    assert_eq!(counted.reads(), 0, "refused before reading anything");
    let e = x
        .sub(x.mean(0usize).unwrap())
        .unwrap()
        .plan(&EvalConfig::with_budget(8 << 20))
        .err()
        .expect("stage too large");
    assert!(
        matches!(e, Error::Budget(ref m) if m.contains("quarter")),
        "{e}"
    );
    let p = x
        .sum(None::<usize>)
        .unwrap()
        .plan(&EvalConfig::default())
        .unwrap();
    assert!(matches!(p.run_partition(3, 3), Err(Error::Invalid(_))));
}

#[test]
fn errors_keep_their_cause_and_name_their_kind_once() {
    // A missing file: the I/O error is the source (its kind readable), its text in the message.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.npy");
    let e = vastarray::open(missing.to_str().unwrap()).unwrap_err();
    let io = std::error::Error::source(&e)
        .and_then(|c| c.downcast_ref::<std::io::Error>())
        .unwrap_or_else(|| panic!("no I/O cause in {e:?}"));
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    let text = e.to_string();
    assert!(
        text.contains("absent.npy") && text.ends_with(&io.to_string()),
        "{text}"
    );

    // A zero step in an ndarray-style slice: "index error" once, with the axis.
    let x = a(&[3, 4]);
    let e = x
        .select(&[
            SliceArg::full(),
            SliceArg::NdSlice {
                start: 0,
                end: None,
                step: 0,
            },
        ])
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::Index(_)), "{text}");
    assert_eq!(text.matches("index error").count(), 1, "{text}");
    assert!(text.contains("axis 1"), "{text}");
}
