//! Printing results: JSON (`{"shape", "dtype", "data"}`, data flat in C order, NaN and
//! infinities as the strings "nan", "inf", "-inf") and a numpy-like text form.
//!
//! Everything the commands print on standard output goes through [`write_stdout`] (or the
//! [`outln!`] macro), never `println!`, which panics when the output fails: a closed pipe
//! ends the command quietly ([`CliError::Closed`]), any other failure (a full disk) is an error.

use super::error::CliError;
use std::io::Write;
use vastarray::{DType, Element, NdData};

/// Set on the ranks other than 0 of an MPI run: rank 0 alone prints.
pub(crate) static STDOUT_MUTED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Writes `text` on standard output and flushes it (nothing on a muted rank). A closed pipe (the reader went away, as
/// `head` does) is [`CliError::Closed`]; any other failure is a runtime error saying why.
pub(crate) fn write_stdout(text: &str) -> Result<(), CliError> {
    if STDOUT_MUTED.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(stdout_error)
}

/// The error for a failed write on standard output.
pub(crate) fn stdout_error(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::Closed
    } else {
        CliError::Runtime(format!("cannot write to standard output: {e}"))
    }
}

/// Writes a line on standard error, ignoring failures (there is nowhere left to report them).
pub(crate) fn write_stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// `println!` for the commands: formats one line and writes it with [`write_stdout`],
/// returning `Result<(), CliError>` instead of panicking.
macro_rules! outln {
    () => {
        $crate::output::write_stdout("\n")
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(&format!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use outln;

/// One element as JSON: integers and booleans as they are, floats in their shortest form that
/// reads back exactly (as `float32` for `float32` data), non-finite floats as strings.
pub(crate) trait JsonElement: Element {
    /// Appends the element's JSON.
    fn write_json(self, out: &mut String);
}

macro_rules! json_int {
    ($($t:ty),*) => {$(
        impl JsonElement for $t {
            fn write_json(self, out: &mut String) {
                out.push_str(&self.to_string());
            }
        }
    )*};
}
json_int!(i8, i16, i32, i64, u8, u16, u32, u64, bool);

macro_rules! json_float {
    ($($t:ty),*) => {$(
        impl JsonElement for $t {
            fn write_json(self, out: &mut String) {
                if self.is_nan() {
                    out.push_str("\"nan\"");
                } else if self.is_infinite() {
                    out.push_str(if self > 0.0 { "\"inf\"" } else { "\"-inf\"" });
                } else {
                    out.push_str(&serde_json::to_string(&self).unwrap_or_else(|_| "null".into()));
                }
            }
        }
    )*};
}
json_float!(f32, f64);

/// Appends the JSON of the elements of `data`, flat in C order: `[1, 2, 3]`.
pub(crate) fn write_flat(data: &NdData, out: &mut String) {
    out.push('[');
    dispatch_json(data, &mut |first, write| {
        if !first {
            out.push_str(", ");
        }
        write(out);
    });
    out.push(']');
}

/// Appends one element's JSON to a string.
type WriteElement = dyn Fn(&mut String);

/// Calls `f(is_first, writer)` for every element in C order.
fn dispatch_json(data: &NdData, f: &mut dyn FnMut(bool, &WriteElement)) {
    vastarray::with_nd!(data, a: T => {
        for (i, v) in a.iter().enumerate() {
            let v = *v;
            f(i == 0, &move |s: &mut String| <T as JsonElement>::write_json(v, s));
        }
    })
}

/// The JSON of a result: `{"shape": [..], "dtype": "..", "data": [..]}`.
pub(crate) fn result_json(data: &NdData) -> String {
    let mut out = String::with_capacity(64 + data.len() * 8);
    out.push_str("{\"shape\": ");
    out.push_str(&shape_json(data.shape()));
    out.push_str(&format!(", \"dtype\": \"{}\", \"data\": ", data.dtype()));
    write_flat(data, &mut out);
    out.push('}');
    out
}

/// A shape as a JSON list.
pub(crate) fn shape_json(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// A shape as Python writes a tuple: `(3,)`, `(2, 3)`, `()`.
pub(crate) fn shape_text(shape: &[usize]) -> String {
    match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The JSON of the single element of a 0-d (or one-element) result.
pub(crate) fn scalar_json(data: &NdData) -> String {
    let mut out = String::new();
    let mut done = false;
    dispatch_json(data, &mut |first, write| {
        if first && !done {
            write(&mut out);
            done = true;
        }
    });
    if out.is_empty() {
        out.push_str("null");
    }
    out
}

/// The text of a scalar as numpy prints it: `nan`, `inf`, `1.5`, `True`.
pub(crate) fn scalar_text(data: &NdData) -> String {
    let j = scalar_json(data);
    match (data.dtype(), j.as_str()) {
        (_, "\"nan\"") => "nan".into(),
        (_, "\"inf\"") => "inf".into(),
        (_, "\"-inf\"") => "-inf".into(),
        (DType::Bool, "true") => "True".into(),
        (DType::Bool, "false") => "False".into(),
        _ => j,
    }
}

/// A numpy-like text form: nested lists, one row of the last axis per line.
pub(crate) fn result_text(data: &NdData) -> String {
    let shape = data.shape().to_vec();
    let mut items: Vec<String> = Vec::with_capacity(data.len());
    dispatch_json(data, &mut |_, write| {
        let mut s = String::new();
        write(&mut s);
        let s = match s.as_str() {
            "\"nan\"" => "nan".to_string(),
            "\"inf\"" => "inf".to_string(),
            "\"-inf\"" => "-inf".to_string(),
            "true" => "True".to_string(),
            "false" => "False".to_string(),
            _ => s,
        };
        items.push(s);
    });
    if shape.is_empty() {
        return items.pop().unwrap_or_default();
    }
    let mut out = String::new();
    nest(&shape, &items, &mut out, 0);
    out
}

fn nest(shape: &[usize], items: &[String], out: &mut String, indent: usize) {
    out.push('[');
    if shape.len() == 1 {
        out.push_str(&items.join(", "));
    } else {
        let step: usize = shape[1..].iter().product();
        for i in 0..shape[0] {
            if i > 0 {
                out.push_str(",\n");
                out.push_str(&" ".repeat(indent + 1));
            }
            let part = if step == 0 {
                &items[0..0]
            } else {
                &items[i * step..(i + 1) * step]
            };
            nest(&shape[1..], part, out, indent + 1);
        }
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn json_of_floats_and_specials() {
        let a = NdData::from(
            ArrayD::from_shape_vec(
                IxDyn(&[2, 2]),
                vec![0.1f32, f32::NAN, f32::INFINITY, -f32::INFINITY],
            )
            .unwrap(),
        );
        assert_eq!(
            result_json(&a),
            "{\"shape\": [2, 2], \"dtype\": \"float32\", \"data\": [0.1, \"nan\", \"inf\", \"-inf\"]}"
        );
        let b = NdData::from(ArrayD::from_shape_vec(IxDyn(&[]), vec![u64::MAX]).unwrap());
        assert_eq!(scalar_json(&b), "18446744073709551615");
        let c = NdData::from(ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![true, false]).unwrap());
        assert_eq!(result_text(&c), "[[True],\n [False]]");
    }
}
