//! Pinning a worker thread to one core (`sched_setaffinity(2)`), on Linux. Elsewhere the
//! workers run unpinned.
//!
//! libc, not a crate of its own: it is already in the tree (through mio), and the two calls
//! here are all we need; `core_affinity` would add a crate for the same two calls.

use std::io;

/// The cores this process may run on (its affinity mask when the workers start), in order;
/// empty if it cannot be read.
#[cfg(target_os = "linux")]
pub(super) fn allowed_cores() -> Vec<usize> {
    // SAFETY: `cpu_set_t` is a plain bit array: all zeroes is a valid (empty) set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: pid 0 is this thread; `set` is a live `cpu_set_t` of the size we pass, which
    // the kernel writes and nothing else reads meanwhile.
    let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    if r != 0 {
        return Vec::new();
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `i` is below `CPU_SETSIZE`, the number of bits in `set`.
        .filter(|&i| unsafe { libc::CPU_ISSET(i, &set) })
        .collect()
}

/// Pins the calling thread to `core`.
#[cfg(target_os = "linux")]
pub(super) fn pin_to(core: usize) -> io::Result<()> {
    if core >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    // SAFETY: as in `allowed_cores`.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `core` is below `CPU_SETSIZE` (checked above), so the bit is inside `set`.
    unsafe { libc::CPU_SET(core, &mut set) };
    // SAFETY: pid 0 is this thread; `set` is a live, initialised `cpu_set_t` of that size,
    // which the kernel only reads.
    let r = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn allowed_cores() -> Vec<usize> {
    Vec::new()
}

#[cfg(not(target_os = "linux"))]
pub(super) fn pin_to(_core: usize) -> io::Result<()> {
    Ok(())
}
