//! What the module holds on the heap, seen from the test host.
//!
//! The module is a separate library with its own Rust allocator handle, so a counting global
//! allocator here cannot see its allocations. Both end in the same glibc malloc, though:
//! glibc's mallinfo2() gives every byte in use in the process, and this binary's counting
//! allocator gives the host's own share (in the same units: malloc chunk sizes). The
//! difference is the module's, plus the little glibc itself allocates.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// Heap bytes this test binary holds, as malloc chunks (usable size plus the chunk header).
static HOST_BYTES: AtomicIsize = AtomicIsize::new(0);
const CHUNK_HEADER: usize = std::mem::size_of::<usize>();

pub struct CountingAlloc;

fn chunk(p: *mut u8) -> isize {
    // SAFETY: `p` is a live block from the system allocator (malloc or posix_memalign).
    (unsafe { libc::malloc_usable_size(p as *mut libc::c_void) } + CHUNK_HEADER) as isize
}

// SAFETY: every call goes to System; we only count what it hands out and takes back.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            HOST_BYTES.fetch_add(chunk(p), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            HOST_BYTES.fetch_add(chunk(p), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        HOST_BYTES.fetch_sub(chunk(p), Ordering::Relaxed);
        System.dealloc(p, layout)
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = chunk(p);
        let q = System.realloc(p, layout, new_size);
        if !q.is_null() {
            HOST_BYTES.fetch_add(chunk(q) - old, Ordering::Relaxed);
        }
        q
    }
}

/// Heap bytes in use in the whole process (every arena, and blocks malloc mmap()ed).
fn process_bytes() -> isize {
    // SAFETY: a plain query of the allocator's statistics.
    let m = unsafe { libc::mallinfo2() };
    (m.uordblks + m.hblkhd) as isize
}

/// Heap bytes outside the test host's own: the module's (and glibc's).
pub fn module_bytes() -> isize {
    process_bytes() - HOST_BYTES.load(Ordering::Relaxed)
}

/// Whether the figures above mean anything: not under valgrind, whose own malloc glibc's
/// mallinfo2() knows nothing of (its leak check covers the same ground there).
pub fn heap_measurable() -> bool {
    let before = process_bytes();
    let block = vec![1u8; 1 << 20];
    let grown = process_bytes() - before;
    drop(std::hint::black_box(block));
    grown >= 1 << 20
}
