//! The few raw C-Blosc2 calls everything else builds on: library initialisation, error texts and
//! owned compression/decompression contexts.

use crate::error::{Error, Result};
use blosc2_rs_sys as sys;
use std::cell::RefCell;
use std::ffi::CStr;
use std::ptr::NonNull;
use std::sync::Once;

static INIT: Once = Once::new();

/// Initialises the C library once per process (idempotent, cheap after the first call).
pub(crate) fn init() {
    INIT.call_once(|| unsafe { sys::blosc2_init() });
}

/// The C library's description of a negative return code.
pub(crate) fn error_text(code: i64) -> String {
    let c = i32::try_from(code).unwrap_or(i32::MIN);
    // SAFETY: blosc2_error_string returns a pointer to a static string for every code.
    let p = unsafe { sys::blosc2_error_string(c) };
    if p.is_null() {
        return format!("blosc2 error {code}");
    }
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy();
    format!("{s} (blosc2 error {code})")
}

/// An owned C-Blosc2 context (compression or decompression), freed on drop.
///
/// A context is plain heap data with no thread affinity; it is used by one thread at a time
/// (`&mut self`), so moving it between threads is sound.
pub(crate) struct Context(NonNull<sys::blosc2_context>);

// SAFETY: see the type's documentation: exclusive use through `&mut self`, no thread affinity.
// Contexts with a thread pool (`nthreads > 1`) exist only inside `with_decompressor`'s
// thread-local slots and never move to another thread.
unsafe impl Send for Context {}

impl Context {
    /// A compression context for `cparams` (one internal thread).
    pub(crate) fn compressor(mut cparams: sys::blosc2_cparams) -> Result<Self> {
        init();
        cparams.nthreads = 1;
        let p = unsafe { sys::blosc2_create_cctx(cparams) };
        NonNull::new(p)
            .map(Context)
            .ok_or_else(|| Error::Internal("blosc2_create_cctx failed".into()))
    }

    /// A decompression context with `nthreads` internal threads (1: no thread pool).
    fn decompressor(nthreads: usize) -> Result<Self> {
        init();
        let mut dparams = unsafe { sys::blosc2_get_blosc2_dparams_defaults() };
        dparams.nthreads = nthreads.clamp(1, 64) as i16;
        let p = unsafe { sys::blosc2_create_dctx(dparams) };
        NonNull::new(p)
            .map(Context)
            .ok_or_else(|| Error::Internal("blosc2_create_dctx failed".into()))
    }

    pub(crate) fn as_ptr(&mut self) -> *mut sys::blosc2_context {
        self.0.as_ptr()
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        unsafe { sys::blosc2_free_ctx(self.0.as_ptr()) }
    }
}

/// Converts a size to the `i32` the C API wants, or says which size is too large.
pub(crate) fn c_len(n: usize, what: &str) -> Result<i32> {
    i32::try_from(n)
        .map_err(|_| Error::Invalid(format!("{what} of {n} bytes exceeds Blosc2's 2 GiB limit")))
}

/// A thread's decompression contexts: one without threads, and one with a pool of the given
/// size.
type Decompressors = (Option<Context>, Option<(usize, Context)>);

thread_local! {
    /// This thread's decompression contexts.
    static DECOMPRESSORS: RefCell<Decompressors> = const { RefCell::new((None, None)) };
}

/// Uncompressed bytes from which a chunk read by a thread outside rayon's pool is decoded with
/// several threads (smaller chunks decode faster on one).
const THREADED_DECODE_BYTES: usize = 1 << 20;

/// How many threads decode a chunk of `nbytes` in `nblocks` blocks on this thread: one on a
/// rayon worker (the pool already keeps every core busy), else up to the cores available
/// for a large chunk of several blocks.
fn decode_threads(nbytes: usize, nblocks: usize) -> usize {
    if rayon::current_thread_index().is_some() || nbytes < THREADED_DECODE_BYTES {
        return 1;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(nblocks).min(8)
}

/// Runs `f` with this thread's cached decompression context for a chunk of `nbytes` in
/// `nblocks` blocks (created once per thread; C-Blosc2 resets its per-call state, such as a
/// block mask, after each decompression).
pub(crate) fn with_decompressor<R>(
    nbytes: usize,
    nblocks: usize,
    f: impl FnOnce(&mut Context) -> R,
) -> Result<R> {
    let threads = decode_threads(nbytes, nblocks);
    DECOMPRESSORS.with(|slots| {
        let mut slots = slots
            .try_borrow_mut()
            .map_err(|_| Error::Internal("re-entrant Blosc2 decompression".into()))?;
        if threads <= 1 {
            if slots.0.is_none() {
                slots.0 = Some(Context::decompressor(1)?);
            }
            let ctx = slots
                .0
                .as_mut()
                .ok_or_else(|| Error::Internal("no context".into()))?;
            return Ok(f(ctx));
        }
        if slots.1.as_ref().is_none_or(|(n, _)| *n != threads) {
            slots.1 = Some((threads, Context::decompressor(threads)?));
        }
        let (_, ctx) = slots
            .1
            .as_mut()
            .ok_or_else(|| Error::Internal("no context".into()))?;
        Ok(f(ctx))
    })
}
