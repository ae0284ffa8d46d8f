//! The `vastarray` command line tool; everything is in [`vastarray::cli`].

/// Keeps freed memory in the process for reuse. By default glibc hands blocks above a moving
/// threshold straight back to the kernel and trims the heap often, so a streaming pass that
/// frees and allocates a few chunk-sized buffers per task pays a page fault for every page of
/// every buffer again (half a million faults for a 2 GiB pass). Blocks up to 64 MiB now come from
/// the heap, and up to 512 MiB of free heap stays mapped (the memory budget bounds what is ever
/// in use at once). One arena for all threads: a thread's own arena is capped at 64 MiB of
/// heap and would map and unmap beyond it; the allocations of a pass are few and large, so
/// threads seldom wait on its lock.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before any other thread
    // exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
    }
}

fn main() -> std::process::ExitCode {
    keep_freed_memory();
    vastarray::cli::main()
}
