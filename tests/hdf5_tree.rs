//! The lazy file tree (groups, datasets, metadata, attributes) and missing values as NaN.

#![cfg(feature = "hdf5")]

use crate::hdf5_helpers;

use hdf5_helpers::Fixture;
use vastarray::io::hdf5::{AttrValue, Hdf5File, Hdf5Layout, Hdf5Node, Hdf5Options, PipelineFilter};
use vastarray::{ChunkSource, DType};

const TREE: &str = r#"
with h5py.File(os.path.join(OUT, 'tree.h5'), 'w') as f:
    f.attrs['title'] = 'climate run'
    f.attrs['version'] = np.int32(3)
    g = f.create_group('model/atmos')
    t = g.create_dataset('temperature', data=np.arange(24, dtype='f4').reshape(2, 3, 4), chunks=(1, 3, 4), compression='gzip', shuffle=True)
    t.attrs['units'] = 'K'
    t.attrs['fixed_units'] = np.bytes_('kelvin')
    t.attrs['scale'] = 0.5
    t.attrs['valid_range'] = np.array([0, 400], dtype='i2')
    t.attrs['flags'] = np.array([True, False])
    t.attrs['pair'] = np.zeros(1, dtype=[('a', 'i4'), ('b', 'f4')])[0]
    f.create_dataset('model/mask', data=np.array([True, False, True]))
    f.create_dataset('labels', data=np.array([b'a', b'b']))
    f['alias'] = h5py.SoftLink('/model/atmos/temperature')
    f['dangling'] = h5py.SoftLink('/nowhere')
    f['model/atmos/again'] = f['model']   # a hard link cycle
"#;

#[test]
fn tree_lists_groups_datasets_and_metadata() {
    let fx = Fixture::make(TREE);
    let f = Hdf5File::open(fx.path("tree.h5")).unwrap();
    let root = f.root().unwrap();
    let attrs = root.attributes().unwrap();
    assert_eq!(attrs["title"].as_str(), Some("climate run"));
    assert_eq!(attrs["version"], AttrValue::Int(vec![3]));

    let names = root.member_names().unwrap();
    assert_eq!(names, vec!["alias", "dangling", "labels", "model"]);
    let members = root.members().unwrap();
    assert!(matches!(&members[0], Hdf5Node::Dataset(d) if d.path == "/alias"));
    assert!(matches!(&members[1], Hdf5Node::Other { path, .. } if path == "/dangling"));
    assert!(
        matches!(&members[2], Hdf5Node::Dataset(d) if d.dtype.is_none() && d.type_description.contains("string"))
    );
    assert!(matches!(&members[3], Hdf5Node::Group(g) if g.path() == "/model"));

    // The walk visits every dataset once, despite the cycle and the soft link.
    let mut paths: Vec<String> = f.datasets().unwrap().into_iter().map(|d| d.path).collect();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "/alias",
            "/labels",
            "/model/atmos/temperature",
            "/model/mask"
        ],
        "every dataset once"
    );

    let t = f.dataset_info("/model/atmos/temperature").unwrap();
    assert_eq!(t.shape, vec![2, 3, 4]);
    assert_eq!(t.dtype, Some(DType::F32));
    assert_eq!(t.layout, Hdf5Layout::Chunked);
    assert_eq!(t.chunks, Some(vec![1, 3, 4]));
    assert_eq!(
        t.filters,
        vec![PipelineFilter::Shuffle, PipelineFilter::Deflate(4)]
    );
    assert_eq!(t.attributes["units"].as_str(), Some("K"));
    assert_eq!(t.attributes["fixed_units"].as_str(), Some("kelvin"));
    assert_eq!(t.attributes["scale"], AttrValue::Float(vec![0.5]));
    assert_eq!(t.attributes["valid_range"], AttrValue::Int(vec![0, 400]));
    assert_eq!(t.attributes["flags"], AttrValue::Bool(vec![true, false]));
    assert!(matches!(t.attributes["pair"], AttrValue::Unsupported(_)));

    // Any dataset of the tree opens as a source, through the tree or its info.
    let src = f.open_dataset("/model/atmos/temperature").unwrap();
    assert_eq!(
        src.stats().index_loads,
        0,
        "listing and opening read no values"
    );
    let via_info = t.open(&Hdf5Options::default()).unwrap();
    assert_eq!(
        src.read_chunk(&[1, 0, 0]).unwrap(),
        via_info.read_chunk(&[1, 0, 0]).unwrap()
    );
    let mask = f.open_dataset("/model/mask").unwrap();
    assert_eq!(mask.dtype(), DType::Bool);
    assert!(f.group("/nope").is_err());
}

/// Fill values and `_FillValue` / `missing_value` attributes become NaN on request, as numpy's
/// `np.where(a == marker, nan, a)` says; integers become float64; without the option nothing
/// changes.
#[test]
fn missing_values_become_nan() {
    let fx = Fixture::make(
        r#"
rng = np.random.default_rng(7)
with h5py.File(os.path.join(OUT, 'miss.h5'), 'w') as f:
    # A user fill value, with some chunks never written.
    d = f.create_dataset('filled', shape=(10, 10), dtype='f4', chunks=(5, 5), fillvalue=-999.0)
    d[0:5, 0:5] = rng.standard_normal((5, 5))
    d[7, 7] = -999.0
    v = d[...]
    dump('filled_raw', v)
    dump('filled', np.where(v == np.float32(-999.0), np.float32(np.nan), v))
    # CF attributes on a float64 dataset.
    a = rng.standard_normal((6, 8))
    a[1, 2] = 1e20
    a[3, 3] = -1.0
    e = f.create_dataset('cf', data=a, chunks=(3, 4), compression='gzip')
    e.attrs['_FillValue'] = 1e20
    e.attrs['missing_value'] = -1.0
    dump('cf', np.where((a == 1e20) | (a == -1.0), np.nan, a))
    # An integer dataset with a missing value: delivered as float64.
    i = rng.integers(0, 5, size=(7, 9)).astype('i2')
    g = f.create_dataset('ints', data=i, chunks=(4, 4))
    g.attrs['missing_value'] = np.int16(3)
    dump('ints', np.where(i == 3, np.nan, i.astype('f8')))
    dump('ints_raw', i)
    # A dataset without markers is left alone (the default fill 0 is a value, not a marker).
    z = np.zeros((4, 4), dtype='f8')
    f.create_dataset('zeros', data=z, chunks=(2, 2))
    dump('zeros', z)
"#,
    );
    let f = Hdf5File::open(fx.path("miss.h5")).unwrap();
    let nan = Hdf5Options {
        missing_as_nan: true,
        ..Hdf5Options::default()
    };
    for key in ["filled", "cf", "ints", "zeros"] {
        let src = f.open_dataset_with(&format!("/{key}"), &nan).unwrap();
        fx.assert_source_equals(&src, key);
    }
    assert_eq!(
        f.open_dataset_with("/ints", &nan).unwrap().dtype(),
        DType::F64
    );
    fx.assert_source_equals(&f.open_dataset("/filled").unwrap(), "filled_raw");
    fx.assert_source_equals(&f.open_dataset("/ints").unwrap(), "ints_raw");
    assert_eq!(
        f.dataset_info("/filled").unwrap().user_fill_value,
        Some(-999.0)
    );
}
