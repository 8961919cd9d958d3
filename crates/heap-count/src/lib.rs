//! [`Counting`]: a global allocator wrapper that keeps the number of live heap bytes, so that a
//! program can tell the heap it holds from the RSS its allocator keeps (`bench`'s heap column,
//! the memory test of issue 18).
//!
//! Why not `cap` (with its `stats` feature), which the binary used before: it updates three
//! shared atomics on every allocation and one on every free. On 2 cores, with mapping threads
//! and the runtime's workers allocating at once, the cache line those atomics live on moved
//! between cores on every call: `perf` put 44 % of the integration's samples in `cap`, and the
//! large bench's first resync took 22.6–25.2 s of CPU with it against 9.5–9.7 s without
//! (NOTES.md, fourteenth session). A first version of this crate added every call to a
//! per-thread slot (an uncontended atomic add): still 1.3–2.3 s more. Here each thread keeps
//! its net bytes in a plain thread-local and adds them to the shared count only once they
//! reach [`FLUSH`] bytes either way: one atomic operation per 4 KiB of churn.
//!
//! So the count is exact to within [`FLUSH`] bytes per live thread, and a thread that exits
//! takes its last unflushed bytes (under [`FLUSH`]) with it. Meant for one instance: the
//! global allocator (the thread-local is shared by all instances). The peak is not kept (that
//! would need a shared maximum on every call): sample [`Counting::live_bytes`] instead, as
//! `bench` does every 2 ms.
//!
//! ```
//! use heap_count::Counting;
//!
//! #[global_allocator]
//! static ALLOCATOR: Counting<std::alloc::System> = Counting::new(std::alloc::System);
//!
//! let held = vec![0u8; 1 << 20];
//! assert!(ALLOCATOR.live_bytes() >= 1 << 20);
//! drop(held);
//! ```

use std::{
    alloc::{GlobalAlloc, Layout},
    cell::Cell,
    sync::atomic::{AtomicIsize, Ordering::Relaxed},
};

/// Net bytes a thread gathers before it adds them to the shared count.
pub const FLUSH: isize = 4096;

thread_local! {
    /// This thread's net bytes not yet added to the count. Constant-initialized and without a
    /// destructor, so reading it never allocates and never fails.
    static PENDING: Cell<isize> = const { Cell::new(0) };
}

/// Wraps allocator `A`, counting the bytes it holds for the program.
#[derive(Debug)]
pub struct Counting<A> {
    inner: A,
    /// Bytes allocated minus bytes freed, as flushed by the threads.
    live: AtomicIsize,
}

impl<A> Counting<A> {
    /// Wraps `inner`.
    pub const fn new(inner: A) -> Self {
        Self {
            inner,
            live: AtomicIsize::new(0),
        }
    }

    /// Live heap bytes now, to within [`FLUSH`] bytes per thread.
    pub fn live_bytes(&self) -> usize {
        usize::try_from(self.live.load(Relaxed)).unwrap_or(0)
    }

    fn add(&self, bytes: isize) {
        let due = PENDING.with(|pending| {
            let net = pending.get() + bytes;
            if net.abs() < FLUSH {
                pending.set(net);
                0
            } else {
                pending.set(0);
                net
            }
        });
        if due != 0 {
            self.live.fetch_add(due, Relaxed);
        }
    }
}

/// A size as a signed count (a `Layout`'s size never exceeds `isize::MAX`).
fn signed(bytes: usize) -> isize {
    isize::try_from(bytes).unwrap_or(isize::MAX)
}

// SAFETY: every method forwards its arguments unchanged to `A`, whose contract is the caller's,
// and returns what `A` returned; the counting touches no memory the caller handed over.
#[expect(
    unsafe_code,
    reason = "a global allocator is an unsafe trait; this forwards to the wrapped allocator"
)]
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            self.add(signed(layout.size()));
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            self.add(signed(layout.size()));
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { self.inner.dealloc(ptr, layout) };
        self.add(-signed(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on.
        let moved = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !moved.is_null() {
            self.add(signed(new_size) - signed(layout.size()));
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use std::alloc::System;

    use super::*;

    #[test]
    #[expect(
        unsafe_code,
        reason = "drives the allocator by hand, as Rust's runtime does"
    )]
    fn counts_allocations_reallocations_and_frees_across_threads() {
        static COUNTING: Counting<System> = Counting::new(System);
        let layout = |size| Layout::from_size_align(size, 8).unwrap_or_else(|_| unreachable!());
        // Under FLUSH: kept by the thread, not counted yet.
        // SAFETY: non-zero-sized layouts; each block is freed once, with the layout it has.
        let small = unsafe { COUNTING.alloc(layout(1000)) };
        assert!(!small.is_null());
        assert_eq!(COUNTING.live_bytes(), 0);
        // SAFETY: as above.
        let ptr = unsafe { COUNTING.alloc(layout(10_000)) };
        assert!(!ptr.is_null());
        assert_eq!(COUNTING.live_bytes(), 11_000);
        // SAFETY: `ptr` came from this allocator with this layout.
        let ptr = unsafe { COUNTING.realloc(ptr, layout(10_000), 30_000) };
        assert!(!ptr.is_null());
        assert_eq!(COUNTING.live_bytes(), 31_000);
        let address = ptr as usize;
        // Freed by another thread: counted there.
        std::thread::spawn(move || {
            // SAFETY: the block at `address` came from this allocator with this layout.
            unsafe { COUNTING.dealloc(address as *mut u8, layout(30_000)) };
        })
        .join()
        .unwrap_or_else(|_| unreachable!());
        assert_eq!(COUNTING.live_bytes(), 1000);
        // SAFETY: `small` came from this allocator with this layout.
        unsafe { COUNTING.dealloc(small, layout(1000)) };
        assert_eq!(COUNTING.live_bytes(), 1000, "under FLUSH: not flushed yet");
    }
}
