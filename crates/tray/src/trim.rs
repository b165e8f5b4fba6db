//! Gives the allocator's free pages back to the system.
//!
//! glibc's malloc keeps what a thread freed in that thread's arena for the
//! next allocation: an import's burst, or a cache rebuilt on another thread,
//! leaves free pages behind that the tray holds on to, and its memory creeps
//! up in steps although what it uses stays the same (docs/footprint.md, "The
//! soak"). After an import, when nothing is busy, `malloc_trim` hands those
//! pages back.

/// Returns whether any memory went back to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(unsafe_code, reason = "glibc's malloc_trim has no safe binding")]
pub fn release_free_memory() -> bool {
    // SAFETY: malloc_trim takes no pointer and leaves every live allocation
    // where it is; glibc locks each arena while it trims it.
    unsafe { libc::malloc_trim(0) != 0 }
}

/// Other allocators give free pages back on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() -> bool {
    false
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    #[test]
    fn what_a_burst_freed_goes_back_to_the_system() {
        // Small blocks (below glibc's mmap threshold) on a thread of their
        // own, as an import's rows are: they land in an arena, and freeing
        // them leaves the pages with the allocator.
        std::thread::spawn(|| {
            let rows: Vec<Vec<u8>> = (0..40_000u32).map(|i| vec![i.to_le_bytes()[0]; 300]).collect();
            drop(rows);
        })
        .join()
        .expect("the allocating thread");
        assert!(super::release_free_memory(), "malloc_trim gave nothing back after 12 MB were freed");
    }
}
