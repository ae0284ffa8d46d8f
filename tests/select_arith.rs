//! Selection arithmetic against numpy: `slice.indices` on axes of every size (up to
//! `isize::MAX`) with starts, stops and steps anywhere in i64, chained selections (shapes and
//! values), selection text with integers beyond i64, random chains with huge bounds (one
//! Python process per batch), and one regression test per reproduction of issue 11, finding 1.

use crate::common;

use common::run_python;
use ndarray::{ArrayD, Axis, IxDyn};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::io::Write;
use vastarray::{DynArray, Error, GeneratedSource, SliceArg, Stride};

/// Parses a Python integer or `None`.
fn opt(s: &str) -> Option<i128> {
    (s != "None").then(|| s.parse().unwrap_or_else(|_| panic!("not an integer: {s}")))
}

fn isz(v: Option<i128>) -> Option<isize> {
    v.map(|v| isize::try_from(v).expect("an i64 bound"))
}

/// `0..n` as an i64 array with small chunks (so chunk boundaries are crossed).
fn arange(shape: &[usize], chunks: &[usize]) -> DynArray {
    let total: usize = shape.iter().product();
    let a = ArrayD::from_shape_vec(IxDyn(shape), (0..total as i64).collect()).unwrap();
    DynArray::from_ndarray(a, chunks).unwrap()
}

fn values(a: &DynArray) -> (Vec<usize>, Vec<i64>) {
    let v = a.ndarray().unwrap().into_typed::<i64>().unwrap();
    (v.shape().to_vec(), v.iter().copied().collect())
}

/// The axis lengths of the table: empty, tiny, small, large, and the longest addressable.
const TABLE_SCRIPT: &str = r#"
import numpy as np
M = 2**63 - 1
def special(n):
    out = []
    for v in [None, 0, 1, -1, n, -n, n + 1, -(n + 1), 2**31, -2**31, 2**62, -2**62, M, -M, -2**63]:
        if v is None or -2**63 <= v <= M:
            if v not in out:
                out.append(v)
    return out
for n in [0, 1, 5, 6, 2**40 + 3, M]:
    vs = special(n)
    for a in vs:
        for b in vs:
            for c in vs:
                head = f"{n} {a} {b} {c}"
                try:
                    start, stop, step = slice(a, b, c).indices(n)
                except ValueError:
                    print(head, "err")
                    continue
                r = range(start, stop, step)
                first, last = (r[0], r[-1]) if len(r) else ("-", "-")
                vals = ""
                if n <= 6:
                    got = np.arange(n)[slice(a, b, c)]
                    assert len(got) == len(r)
                    vals = ",".join(str(x) for x in got.tolist())
                print(head, "ok", len(r), first, last, step, vals)
"#;

/// numpy's `slice(a, b, c).indices(n)` for every combination of special values, against
/// `Stride::from_numpy`, against the same slice written as text, and (for small axes) against
/// the values of `ndarray()`.
#[test]
fn slice_indices_table_matches_numpy() {
    let out = run_python(TABLE_SCRIPT, &[]);
    let mut small: std::collections::HashMap<usize, DynArray> = Default::default();
    let mut cases = 0;
    for line in out.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let n: usize = f[0].parse().unwrap();
        let (a, b, c) = (isz(opt(f[1])), isz(opt(f[2])), isz(opt(f[3])));
        let step = c.unwrap_or(1);
        let got = Stride::from_numpy(a, b, step, n);
        let text = format!("{}:{}:{}", f[1], f[2], f[3]);
        cases += 1;
        if f[4] == "err" {
            assert_eq!(step, 0, "{line}");
            assert!(matches!(got, Err(Error::Index(_))), "{line}: {got:?}");
            assert!(
                matches!(SliceArg::parse(&text), Err(Error::Index(_))),
                "{text}"
            );
            continue;
        }
        let s = got.unwrap_or_else(|e| panic!("{line}: {e}"));
        let len: usize = f[5].parse().unwrap();
        assert_eq!(s.len, len, "length of {line}");
        if len > 0 {
            assert_eq!(
                s.start as i128,
                f[6].parse::<i128>().unwrap(),
                "start of {line}"
            );
            assert_eq!(
                s.at(len - 1) as i128,
                f[7].parse::<i128>().unwrap(),
                "last of {line}"
            );
            assert_eq!(s.last(), Some(s.at(len - 1)));
            assert!(s.bounds().end <= n, "{line}: {s:?}");
        }
        if len >= 2 {
            assert_eq!(
                s.step as i128,
                f[8].parse::<i128>().unwrap(),
                "step of {line}"
            );
        }
        // The same slice as text ("None" spelled out) gives the same stride.
        let args = SliceArg::parse(&text).unwrap();
        assert_eq!(
            args,
            vec![SliceArg::Slice {
                start: a,
                stop: b,
                step
            }],
            "{text}"
        );
        if n <= 6 {
            let arr = small.entry(n).or_insert_with(|| arange(&[n], &[2])).clone();
            let sel = arr.select(&args).unwrap();
            assert_eq!(sel.shape(), &[len], "{line}");
            let want: Vec<i64> = if len == 0 {
                vec![]
            } else {
                f[9].split(',').map(|v| v.parse().unwrap()).collect()
            };
            assert_eq!(values(&sel).1, want, "values of {line}");
        } else if n < 1 << 41 {
            // A lazy source of that length: the shape is known without reading anything,
            // and a short selection reads only its own chunks.
            let src = GeneratedSource::from_index_fn(&[n], &[1 << 20], |ix| ix[0] as i64).unwrap();
            let arr = DynArray::from_source(src);
            let sel = arr.select(&args).unwrap();
            assert_eq!(sel.shape(), &[len], "{line}");
            if len <= 4 {
                let want: Vec<i64> = s.iter().map(|p| p as i64).collect();
                assert_eq!(values(&sel).1, want, "values of {line}");
            }
        }
    }
    assert!(cases > 14_000, "only {cases} cases");
}

/// Axes longer than `isize::MAX` cannot be addressed (numpy cannot have them): a clear error.
#[test]
fn axes_longer_than_isize_are_refused() {
    let n = isize::MAX as usize + 1;
    for got in [
        Stride::from_numpy(None, None, 1, n),
        Stride::from_ndarray(0, None, 1, n),
    ] {
        let e = got.unwrap_err().to_string();
        assert!(e.contains("9223372036854775808"), "{e}");
    }
    assert!(Stride::from_numpy(Some(-1), None, 1, isize::MAX as usize).is_ok());
}

/// Chained selections on small arrays, made by numpy (seeded), with special bounds relative
/// to each intermediate axis, integer indices (also out of range), new axes, ellipses and one
/// list or mask per selection; each chain is written as text and evaluated by `select_str`
/// (fused into one selection) and by numpy's `eval` of the same text.
const CHAIN_SCRIPT: &str = r#"
import numpy as np, random
rng = random.Random(1011)
M = 2**63 - 1
def bound(n):
    return rng.choice([None, 0, 1, -1, 2, -2, n, -n, n + 1, -(n + 1), 2**31, -2**62, M, -M, -2**63,
                       rng.randrange(-n - 2, n + 3)])
def step():
    return rng.choice([None, 1, -1, 2, -2, 3, -3, 2**31, 2**62, -2**62, M, -M, -2**63])
def fmt(v):
    return "" if v is None else str(v)
def item(n, allow_list):
    k = rng.randrange(10)
    if k < 6:
        s = f"{fmt(bound(n))}:{fmt(bound(n))}"
        st = step()
        return s + (f":{st}" if st is not None or rng.random() < 0.3 else "")
    if k == 6:
        return str(rng.randrange(-n - 1, n + 1))
    if k == 7 and allow_list:
        if rng.random() < 0.5:
            return "[" + ", ".join(rng.choice(["True", "False"]) for _ in range(n)) + "]"
        return "[" + ", ".join(str(rng.randrange(-n, n)) for _ in range(rng.randrange(0, 4)) if n) + "]"
    return "None"
for shape in [(7,), (4, 6), (0, 3), (2, 1, 5), (3, 4, 2)]:
    for _ in range(120):
        a = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
        texts = []
        for _ in range(rng.randrange(1, 4)):
            items, axis, listed = [], 0, False
            ellipsis = rng.random() < 0.2
            for _ in range(rng.randrange(0, a.ndim + 2)):
                if axis >= a.ndim:
                    items.append("None")
                    continue
                it = item(a.shape[axis], not listed and not any(
                    x.lstrip("-").isdigit() for x in items))
                if it.startswith("["):
                    listed = True
                if it != "None":
                    axis += 1
                items.append(it)
            if ellipsis:
                items.insert(rng.randrange(len(items) + 1), "...")
            if listed and any(x.lstrip("-").isdigit() for x in items):
                items = [x for x in items if not x.lstrip("-").isdigit()]
            text = ", ".join(items)
            texts.append(text)
            try:
                a = eval(f"a[{text}]") if text else a
            except IndexError:
                a = None
                break
        head = repr(shape) + "|" + "|".join(texts)
        if a is None:
            print(head + "|=err")
        else:
            a = np.asarray(a)
            print(head + "|=" + ",".join(map(str, a.shape)) + "|=" + ",".join(map(str, a.ravel().tolist())))
"#;

#[test]
fn chained_selections_match_numpy() {
    let out = run_python(CHAIN_SCRIPT, &[]);
    let mut n = 0;
    for line in out.lines() {
        let parts: Vec<&str> = line.split('|').collect();
        let shape: Vec<usize> = parts[0]
            .trim_matches(|c| c == '(' || c == ')')
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse().unwrap())
            .collect();
        let result = parts.iter().position(|p| p.starts_with('=')).unwrap();
        let texts = &parts[1..result];
        let chunks: Vec<usize> = shape.iter().map(|&d| d.clamp(1, 2)).collect();
        let mut a = arange(&shape, &chunks);
        let mut failed = false;
        for t in texts {
            match a.select_str(t) {
                Ok(b) => a = b,
                Err(e) => {
                    assert!(matches!(e, Error::Index(_)), "{line}: {e}");
                    failed = true;
                    break;
                }
            }
        }
        n += 1;
        if parts[result] == "=err" {
            assert!(
                failed,
                "numpy raised IndexError, vastarray gave shape {:?}: {line}",
                a.shape()
            );
            continue;
        }
        assert!(!failed, "vastarray refused what numpy took: {line}");
        let want_shape: Vec<usize> = parts[result][1..]
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let want: Vec<i64> = parts[result + 1][1..]
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(a.shape(), want_shape.as_slice(), "shape of {line}");
        let (got_shape, got) = values(&a);
        assert_eq!(got_shape, want_shape, "{line}");
        assert_eq!(got, want, "values of {line}");
    }
    assert_eq!(n, 600);
}

/// Selection text numpy takes, with integers beyond i64 (clipped in slices as numpy does),
/// parentheses, `None` bounds, `_` in literals and trailing commas: same shape and values as
/// numpy's `eval` of the same text; integers beyond i64 as indices are refused by both.
#[test]
fn selection_text_with_huge_literals_matches_numpy() {
    let texts = [
        ":1000000000000000000000000000000",
        "-1000000000000000000000000000000:",
        "::1000000000000000000000000000000",
        "::-1000000000000000000000000000000",
        "1000000000000000000000000000000::-1",
        "-1000000000000000000000000000000:1000000000000000000000000000000:2",
        "9223372036854775808:",
        ":-9223372036854775809:-1",
        "::9223372036854775807, 1:-2:9223372036854775807",
        "None:3, None:None:-2",
        "(1):(-1), ((2))",
        "1_0:, ::2,",
        "[0, -1],",
        "..., [True, False, True, False, True, True]",
        "2, ..., 3:4611686018427387904:9223372036854775807",
        "1000000000000000000000000000000",
        "[1000000000000000000000000000000]",
        "-9223372036854775809",
        "9223372036854775807",
        "-9223372036854775808",
    ];
    let script = r#"
import sys, numpy as np
a = np.arange(24).reshape(4, 6)
for t in sys.argv[1:]:
    try:
        r = np.asarray(eval(f"a[{t}]"))
        print(",".join(map(str, r.shape)) + "|" + ",".join(map(str, r.ravel().tolist())))
    except IndexError:
        print("err")
"#;
    let out = run_python(script, &texts);
    let a = arange(&[4, 6], &[3, 4]);
    for (t, line) in texts.iter().zip(out.lines()) {
        let got = a.select_str(t);
        if line == "err" {
            let e = got.expect_err(t).to_string();
            assert!(e.contains("index error"), "{t}: {e}");
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{t}: {e}"));
        let (shape, vals) = line.split_once('|').unwrap();
        let parse = |s: &str| -> Vec<i64> {
            s.split(',')
                .filter(|v| !v.is_empty())
                .map(|v| v.parse().unwrap())
                .collect()
        };
        let want_shape: Vec<usize> = parse(shape).into_iter().map(|v| v as usize).collect();
        assert_eq!(got.shape(), want_shape.as_slice(), "{t}");
        assert_eq!(values(&got).1, parse(vals), "{t}");
    }
    // The item at fault is named.
    let e = a
        .select_str("0, [1, 99999999999999999999]")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("item 1") && e.contains("99999999999999999999"),
        "{e}"
    );
}

/// Deep nesting is refused with an error, never a stack overflow; legitimate nesting works.
#[test]
fn deep_nesting_in_selection_text_is_an_error() {
    let a = arange(&[4, 6], &[2, 2]);
    for text in [
        format!("{}1{}", "(".repeat(5000), ")".repeat(5000)),
        "(".repeat(10_000),
        "[".repeat(10_000),
        format!("{}0{}", "[".repeat(5000), "]".repeat(5000)),
        format!("1:{}2{}", "(".repeat(100_000), ")".repeat(100_000)),
    ] {
        let e = a.select_str(&text).unwrap_err();
        assert!(matches!(e, Error::Index(_)), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("nested") || msg.contains("closed"), "{msg}");
        assert!(
            msg.len() < 400,
            "the message quotes all the text: {} bytes",
            msg.len()
        );
    }
    let deep_ok = format!("{}1{}:", "(".repeat(20), ")".repeat(20));
    assert_eq!(a.select_str(&deep_ok).unwrap().shape(), &[3, 6]);
}

// ---------------------------------------------------------------------------------------------
// Random chains of 1 to 4 slices with huge bounds, all sent to one Python process.

fn bound() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![
        Just(None),
        (-8i64..9).prop_map(Some),
        prop::sample::select(vec![
            i64::MIN,
            -i64::MAX,
            -(1 << 62),
            -(1 << 31),
            1 << 31,
            1 << 62,
            i64::MAX,
        ])
        .prop_map(Some),
        any::<i64>().prop_map(Some),
    ]
}

fn step() -> impl Strategy<Value = i64> {
    prop_oneof![
        prop::sample::select(vec![1i64, -1, 2, -2, 3, -3]),
        prop::sample::select(vec![
            i64::MIN,
            -i64::MAX,
            -(1 << 62),
            1 << 31,
            1 << 62,
            i64::MAX
        ]),
        any::<i64>().prop_filter("nonzero", |s| *s != 0),
    ]
}

type Slice3 = (Option<i64>, Option<i64>, i64);

#[derive(Clone, Debug)]
struct Chain {
    shape: Vec<usize>,
    /// One slice per axis, per link of the chain.
    links: Vec<Vec<Slice3>>,
}

fn chain() -> impl Strategy<Value = Chain> {
    prop::collection::vec(0usize..8, 1..4).prop_flat_map(|shape| {
        let nd = shape.len();
        prop::collection::vec(prop::collection::vec((bound(), bound(), step()), nd), 1..5).prop_map(
            move |links| Chain {
                shape: shape.clone(),
                links,
            },
        )
    })
}

/// One huge axis (up to `isize::MAX`) and a chain of 1 to 4 slices on it.
fn huge_chain() -> impl Strategy<Value = (u64, Vec<Slice3>)> {
    (
        prop_oneof![
            Just(i64::MAX as u64),
            Just(1u64 << 62),
            (1u64 << 31)..(i64::MAX as u64)
        ],
        prop::collection::vec((bound(), bound(), step()), 1..5),
    )
}

fn fmt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn text(link: &[Slice3]) -> String {
    link.iter()
        .map(|(a, b, c)| format!("{}:{}:{c}", fmt(*a), fmt(*b)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sample<T: std::fmt::Debug>(s: impl Strategy<Value = T>, seed: u8) -> Vec<T> {
    let mut config = Config::with_cases(common::fuzz_cases().max(64));
    config.failure_persistence = None;
    let mut runner = TestRunner::new_with_rng(
        config,
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &[seed; 32],
        ),
    );
    let out = std::cell::RefCell::new(vec![]);
    runner
        .run(&s, |v| {
            out.borrow_mut().push(v);
            Ok(())
        })
        .unwrap();
    out.into_inner()
}

/// Python's slice positions on `0..n`, written from the language reference (i128: exact).
fn reference_positions(n: usize, (a, b, c): Slice3) -> Vec<usize> {
    let (n, c) = (n as i128, c as i128);
    let adjust = |v: Option<i64>, default: i128| match v {
        None => default,
        Some(v) => {
            let v = v as i128;
            let v = if v < 0 { v + n } else { v };
            if c > 0 {
                v.clamp(0, n)
            } else {
                v.clamp(-1, n - 1)
            }
        }
    };
    let (mut i, stop) = if c > 0 {
        (adjust(a, 0), adjust(b, n))
    } else {
        (adjust(a, n - 1), adjust(b, -1))
    };
    let mut out = vec![];
    while (c > 0 && i < stop) || (c < 0 && i > stop) {
        out.push(i as usize);
        i += c;
    }
    out
}

/// Applies one link after another on an ndarray, by gathering the reference positions.
fn eager(a: &ArrayD<i64>, link: &[Slice3]) -> ArrayD<i64> {
    let mut v = a.clone();
    for (ax, s) in link.iter().enumerate() {
        let pos = reference_positions(v.shape()[ax], *s);
        v = v.select(Axis(ax), &pos);
    }
    v
}

#[test]
fn random_chains_match_numpy_and_eager_ndarray() {
    let chains = sample(chain(), 7);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for c in &chains {
        let shape: Vec<String> = c.shape.iter().map(|n| n.to_string()).collect();
        let links: Vec<String> = c.links.iter().map(|l| text(l)).collect();
        writeln!(file, "{}|{}", shape.join(","), links.join("|")).unwrap();
    }
    file.flush().unwrap();
    let script = r#"
import sys, numpy as np
for line in open(sys.argv[1]):
    parts = line.rstrip("\n").split("|")
    shape = tuple(int(v) for v in parts[0].split(","))
    a = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    for t in parts[1:]:
        a = eval(f"a[{t}]")
    print(",".join(map(str, a.shape)) + "|" + ",".join(map(str, a.ravel().tolist())))
"#;
    let out = run_python(script, &[file.path().to_str().unwrap()]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), chains.len());
    for (c, line) in chains.iter().zip(lines) {
        let total: usize = c.shape.iter().product();
        let base = ArrayD::from_shape_vec(IxDyn(&c.shape), (0..total as i64).collect()).unwrap();
        let chunks: Vec<usize> = c.shape.iter().map(|&n| n.clamp(1, 3)).collect();
        // Lazy: every link as SliceArgs, fused by the graph.
        let mut lazy = DynArray::from_ndarray(base.clone(), &chunks).unwrap();
        let mut stepwise = lazy.clone();
        let mut want = base.clone();
        for link in &c.links {
            let args: Vec<SliceArg> = link
                .iter()
                .map(|&(a, b, s)| SliceArg::Slice {
                    start: a.map(|v| v as isize),
                    stop: b.map(|v| v as isize),
                    step: s as isize,
                })
                .collect();
            lazy = lazy.select(&args).unwrap();
            // Stepwise: computed after every link, so nothing is fused.
            let s = stepwise.select(&args).unwrap().ndarray().unwrap();
            let shape = s.shape().to_vec();
            let ch: Vec<usize> = shape.iter().map(|&n| n.clamp(1, 2)).collect();
            stepwise = DynArray::from_ndarray(s.into_typed::<i64>().unwrap(), &ch).unwrap();
            want = eager(&want, link);
        }
        let (np_shape, np_vals) = line.split_once('|').unwrap();
        let np_shape: Vec<usize> = np_shape
            .split(',')
            .filter(|v| !v.is_empty())
            .map(|v| v.parse().unwrap())
            .collect();
        let np_vals: Vec<i64> = np_vals
            .split(',')
            .filter(|v| !v.is_empty())
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(
            want.shape(),
            np_shape.as_slice(),
            "reference vs numpy: {c:?}"
        );
        assert_eq!(want.iter().copied().collect::<Vec<_>>(), np_vals, "{c:?}");
        assert_eq!(lazy.shape(), np_shape.as_slice(), "{c:?}");
        assert_eq!(
            values(&lazy),
            (np_shape.clone(), np_vals.clone()),
            "fused: {c:?}"
        );
        assert_eq!(values(&stepwise), (np_shape, np_vals), "stepwise: {c:?}");
    }
}

/// Chains of slices on one huge axis: Python's `range` slicing is exact at any size, so it is
/// the reference for the composed stride (length, first, last and step) and the lazy shape.
#[test]
fn random_chains_on_huge_axes_match_python_ranges() {
    let chains = sample(huge_chain(), 9);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for (n, links) in &chains {
        let links: Vec<String> = links
            .iter()
            .map(|l| text(std::slice::from_ref(l)))
            .collect();
        writeln!(file, "{n}|{}", links.join("|")).unwrap();
    }
    file.flush().unwrap();
    let script = r#"
import sys
for line in open(sys.argv[1]):
    parts = line.rstrip("\n").split("|")
    r = range(int(parts[0]))
    for t in parts[1:]:
        a, b, c = (int(v) if v else None for v in t.split(":"))
        r = r[a:b:c]
    print(len(r), r[0] if len(r) else "-", r[-1] if len(r) else "-", r.step)
"#;
    let out = run_python(script, &[file.path().to_str().unwrap()]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), chains.len());
    for ((n, links), line) in chains.iter().zip(lines) {
        let n = *n as usize;
        let f: Vec<&str> = line.split(' ').collect();
        let len: usize = f[0].parse().unwrap();
        // Composed strides.
        let mut s = Stride::full(n);
        for &(a, b, c) in links {
            let outer = Stride::from_numpy(
                a.map(|v| v as isize),
                b.map(|v| v as isize),
                c as isize,
                s.len,
            )
            .unwrap();
            s = outer.compose(&s);
        }
        assert_eq!(s.len, len, "{n} {links:?}");
        if len > 0 {
            assert_eq!(s.start.to_string(), f[1], "first: {n} {links:?}");
            assert_eq!(s.at(len - 1).to_string(), f[2], "last: {n} {links:?}");
            assert!(s.bounds().end <= n);
        }
        if len >= 2 {
            assert_eq!(s.step.to_string(), f[3], "step: {n} {links:?}");
        }
        // The same chain on a lazy source of that length.
        let src = GeneratedSource::from_index_fn(&[n], &[1 << 16], |ix| ix[0] as i64).unwrap();
        let mut a = DynArray::from_source(src);
        for l in links {
            a = a.select_str(&text(std::slice::from_ref(l))).unwrap();
        }
        assert_eq!(a.shape(), &[len], "{n} {links:?}");
        if len <= 3 {
            let want: Vec<i64> = s.iter().map(|p| p as i64).collect();
            assert_eq!(values(&a).1, want, "values: {n} {links:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions: issue 11, finding 1 (`a` is np.arange(24, dtype='f4').reshape(4, 6)).

#[cfg(feature = "cli")] // runs the `vastarray` binary
fn a_f32() -> DynArray {
    let a = ArrayD::from_shape_vec(IxDyn(&[4, 6]), (0..24).map(|v| v as f32).collect()).unwrap();
    DynArray::from_ndarray(a, &[2, 4]).unwrap()
}

#[cfg(feature = "cli")] // runs the `vastarray` binary
/// A folder holding `a.npy` and `d.npy` made by numpy.
fn npy_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    run_python(
        "import sys, numpy as np\n\
         np.save(sys.argv[1] + '/a.npy', np.arange(24, dtype='f4').reshape(4, 6))\n\
         np.save(sys.argv[1] + '/d.npy', np.arange(64 * 64 * 64, dtype='f4').reshape(64, 64, 64))",
        &[dir.path().to_str().unwrap()],
    );
    dir
}

#[cfg(feature = "cli")] // runs the `vastarray` binary
fn cli(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vastarray"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "vastarray {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[cfg(feature = "cli")] // runs the `vastarray` binary
#[test]
fn regression_sum_with_step_i64_max_is_the_first_row() {
    let b = a_f32().select_str("::9223372036854775807").unwrap();
    let sum = b.sum(None::<usize>).unwrap().ndarray().unwrap();
    let want: f32 = (0..6).map(|v| v as f32).sum();
    assert_eq!(
        sum.into_typed::<f32>()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [want]
    );
    let dir = npy_dir();
    let out = cli(
        dir.path(),
        &[
            "eval",
            "sum(a[::9223372036854775807])",
            "-i",
            "a=a.npy",
            "--json",
            "-q",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let data = v["data"].as_f64().or(v["data"][0].as_f64());
    assert_eq!(data, Some(15.0), "{out}");
}

#[cfg(feature = "cli")] // runs the `vastarray` binary
#[test]
fn regression_shape_with_step_i64_max_is_one_row() {
    let b = a_f32().select_str("::9223372036854775807").unwrap();
    assert_eq!(b.shape(), &[1, 6]);
    let args = [SliceArg::range_step(None, None, isize::MAX)];
    assert_eq!(a_f32().select(&args).unwrap().shape(), &[1, 6]);
    let dir = npy_dir();
    let out = cli(
        dir.path(),
        &[
            "stats",
            "a.npy",
            "--select=::9223372036854775807",
            "--json",
            "-q",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["shape"], serde_json::json!([1, 6]), "{out}");
    assert_eq!(v["count"].as_u64(), Some(6), "{out}");
    assert_eq!(v["max"].as_f64(), Some(5.0), "{out}");
}

#[cfg(feature = "cli")] // runs the `vastarray` binary
#[test]
fn regression_index_ellipsis_and_huge_stop_and_step() {
    let text = "2, ..., 3:4611686018427387904:9223372036854775807";
    let b = a_f32().select_str(text).unwrap();
    assert_eq!(b.shape(), &[1]);
    let v = b.ndarray().unwrap().into_typed::<f32>().unwrap();
    assert_eq!(v.iter().copied().collect::<Vec<_>>(), [15.0]);
    let dir = npy_dir();
    let out = cli(
        dir.path(),
        &[
            "eval",
            &format!("a[{text}]"),
            "-i",
            "a=a.npy",
            "--json",
            "-q",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["shape"], serde_json::json!([1]), "{out}");
    assert_eq!(v["data"], serde_json::json!([15.0]), "{out}");
}

#[cfg(feature = "cli")] // runs the `vastarray` binary
/// `d[..., 1:-2:i64::MAX]` takes one element per row: it runs in a 1 MiB budget (a wrapped
/// length asked for gigabytes) and equals numpy's.
#[test]
fn regression_huge_step_after_ellipsis_fits_a_small_budget() {
    let dir = npy_dir();
    let out = cli(
        dir.path(),
        &[
            "eval",
            "d[..., 1:-2:9223372036854775807]",
            "-i",
            "d=d.npy",
            "--budget",
            "1MiB",
            "--json",
            "-q",
        ],
    );
    let got: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let want = run_python(
        "import json, sys, numpy as np\n\
         d = np.load(sys.argv[1] + '/d.npy')[..., 1:-2:9223372036854775807]\n\
         print(json.dumps({'shape': list(d.shape), 'data': d.ravel().tolist()}))",
        &[dir.path().to_str().unwrap()],
    );
    let want: serde_json::Value = serde_json::from_str(want.trim()).unwrap();
    assert_eq!(got["shape"], want["shape"]);
    assert!(
        got["data"] == want["data"],
        "the values differ from numpy's"
    );
    // The library, with the same budget.
    let src = GeneratedSource::from_index_fn(&[64, 64, 64], &[8, 8, 8], |ix| {
        (ix[0] * 4096 + ix[1] * 64 + ix[2]) as f32
    })
    .unwrap();
    let d = DynArray::from_source(src)
        .select_str("..., 1:-2:9223372036854775807")
        .unwrap();
    assert_eq!(d.shape(), &[64, 64, 1]);
    let cfg = vastarray::EvalConfig {
        budget: 1 << 20,
        ..vastarray::EvalConfig::default()
    };
    let v = d.ndarray_with(&cfg).unwrap().into_typed::<f32>().unwrap();
    assert!(v
        .indexed_iter()
        .all(|(ix, &x)| x == (ix[0] * 4096 + ix[1] * 64 + 1) as f32));
}

/// Composing where the product of two steps overflows i64 (each slice keeps one element):
/// the result is that element, not a zero or wrapped step.
#[test]
fn composed_steps_beyond_i64_keep_one_element() {
    let a = arange(&[40], &[7]);
    for (first, second, want) in [
        ("::4611686018427387904", "::4", vec![0i64]),
        (
            "-1::-4611686018427387904",
            "::-9223372036854775807",
            vec![39],
        ),
        (
            "3::9223372036854775807",
            "-1::-9223372036854775808",
            vec![3],
        ),
        ("::-3", "2::4611686018427387904", vec![33]),
    ] {
        let b = a.select_str(first).unwrap().select_str(second).unwrap();
        assert_eq!(
            values(&b),
            (vec![want.len()], want),
            "{first} then {second}"
        );
    }
}

/// Selections at the far end of the longest addressable axis, from sources with chunks of
/// many sizes (up to 2**60 elements, so that the boundary after the last chunk lies beyond
/// i64): chunk numbers, block grids and region reads stay exact. (Chunks of more than 2**63
/// bytes are left out: their memory estimate is another matter, issue 11 finding 4.)
#[test]
fn far_end_of_the_longest_axis_reads_the_right_elements() {
    let n = isize::MAX as usize;
    for chunk in [1usize, 3, 1 << 20, (1 << 59) + 1, 1 << 60] {
        let src = GeneratedSource::from_index_fn(&[n], &[chunk], |ix| ix[0] as i64).unwrap();
        let a = DynArray::from_source(src);
        for (text, want) in [
            ("-1:", vec![n as i64 - 1]),
            ("-3:", vec![n as i64 - 3, n as i64 - 2, n as i64 - 1]),
            (
                "::-4611686018427387904",
                vec![n as i64 - 1, n as i64 - 1 - (1 << 62)],
            ),
            ("-2::-9223372036854775807", vec![n as i64 - 2]),
            ("4611686018427387904::4611686018427387903", vec![1 << 62]),
            ("1::4611686018427387903", vec![1, 1 + (1 << 62) - 1]),
        ] {
            let b = a.select_str(text).unwrap();
            assert_eq!(
                values(&b),
                (vec![want.len()], want),
                "{text} in chunks of {chunk}"
            );
        }
    }
}
