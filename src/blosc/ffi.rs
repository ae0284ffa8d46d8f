//! The few raw C-Blosc2 calls everything else builds on: library initialisation, error texts and
//! owned compression/decompression contexts.

use crate::error::{Error, Result};
use blosc2_rs_sys as sys;
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

// SAFETY: see the type's documentation: exclusive use through `&mut self`, no thread affinity
// (contexts are created with one internal thread, so they own no thread pool).
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

    /// A decompression context (one internal thread).
    pub(crate) fn decompressor() -> Result<Self> {
        init();
        let mut dparams = unsafe { sys::blosc2_get_blosc2_dparams_defaults() };
        dparams.nthreads = 1;
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
