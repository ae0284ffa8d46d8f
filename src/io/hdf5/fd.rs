//! Keeps HDF5's file descriptors out of child processes.
//!
//! The HDF5 library opens files without `O_CLOEXEC`, and locks them with `flock`. A process
//! that starts a child (a Python script, a shell command) while an HDF5 file is open passes the
//! descriptor, and with it the lock, to the child: the file then stays locked until the child
//! exits, even after vastarray closed it, and opening it again fails with "unable to lock
//! file". Marking the descriptor close-on-exec right after opening closes that window (except
//! for the instant between the library's `open` and this call).

use hdf5::file::FileDriver;

/// Marks the descriptor of a file opened with the default (sec2) driver close-on-exec.
/// Other drivers are left alone. Failures are ignored: this is a safeguard, not a requirement.
pub fn close_on_exec(file: &hdf5::File) {
    let is_sec2 = file
        .access_plist()
        .and_then(|p| p.get_driver())
        .is_ok_and(|d| matches!(d, FileDriver::Sec2));
    if !is_sec2 {
        return;
    }
    hdf5::sync::sync(|| {
        let mut handle: *mut std::ffi::c_void = std::ptr::null_mut();
        // SAFETY: `handle` is a valid out-pointer; for the sec2 driver the library sets it to
        // point at the `int` descriptor inside its open file structure, alive while the file
        // is open (it is: we hold `file` and the global lock).
        unsafe {
            if hdf5_sys::h5f::H5Fget_vfd_handle(file.id(), hdf5_sys::h5p::H5P_DEFAULT, &mut handle)
                < 0
                || handle.is_null()
            {
                return;
            }
            let fd = *(handle as *const libc::c_int);
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    });
}
