//! [`Counting`]: a global allocator wrapper that keeps the number of live heap bytes, so that a
//! program can tell the heap it holds from the RSS its allocator keeps (`bench`'s heap column,
//! the memory test of issue 18).
//!
//! Why not `cap` (with its `stats` feature), which the binary used before: it updates three
//! shared atomics on every allocation and one on every free. On 2 cores, with mapping threads
//! and the runtime's workers allocating at once, the cache line those atomics live on moved
//! between cores on every call: `perf` put 44 % of the integration's samples in `cap`, and the
//! large bench's first resync took 22.6–25.2 s of CPU with it against 9.5–9.7 s without
//! (NOTES.md, fourteenth session). Here each thread adds to a slot of its own (64 slots, each
//! on its own cache line), an uncontended atomic add; a reader sums the slots.
//!
//! The peak is not kept (that would need a shared maximum again): sample
//! [`Counting::live_bytes`] instead, as `bench` does every 2 ms.
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
    sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed},
};

/// Slots threads add to; threads beyond this many share slots (still exact, then contended).
const SLOTS: usize = 64;

/// One slot, alone on its cache line (128 bytes: the prefetcher pairs 64-byte lines).
#[repr(align(128))]
struct Slot(AtomicIsize);

thread_local! {
    /// This thread's slot (`usize::MAX` until its first allocation). Constant-initialized and
    /// without a destructor, so reading it never allocates and never fails.
    static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Wraps allocator `A`, counting the bytes it holds for the program.
pub struct Counting<A> {
    inner: A,
    /// Bytes allocated minus bytes freed, per slot (a slot may go negative when its thread
    /// frees what another allocated; the sum is what counts).
    slots: [Slot; SLOTS],
    /// Threads seen so far, to hand out slots.
    threads: AtomicUsize,
}

impl<A> Counting<A> {
    /// Wraps `inner`.
    pub const fn new(inner: A) -> Self {
        Self {
            inner,
            slots: [const { Slot(AtomicIsize::new(0)) }; SLOTS],
            threads: AtomicUsize::new(0),
        }
    }

    /// Live heap bytes now: exact when no other thread is allocating, otherwise off by at most
    /// the calls in flight.
    pub fn live_bytes(&self) -> usize {
        let sum: isize = self.slots.iter().map(|slot| slot.0.load(Relaxed)).sum();
        usize::try_from(sum).unwrap_or(0)
    }

    fn add(&self, bytes: isize) {
        let slot = SLOT.with(|slot| {
            let mut index = slot.get();
            if index == usize::MAX {
                index = self.threads.fetch_add(1, Relaxed) % SLOTS;
                slot.set(index);
            }
            index
        });
        self.slots[slot].0.fetch_add(bytes, Relaxed);
    }
}

impl<A: std::fmt::Debug> std::fmt::Debug for Counting<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counting")
            .field("inner", &self.inner)
            .field("live_bytes", &self.live_bytes())
            .finish_non_exhaustive()
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
        let layout = Layout::from_size_align(1000, 8).unwrap_or_else(|_| unreachable!());
        // SAFETY: a non-zero-sized layout; the pointer is freed once, with the layout it has.
        let ptr = unsafe { COUNTING.alloc(layout) };
        assert!(!ptr.is_null());
        assert_eq!(COUNTING.live_bytes(), 1000);
        // SAFETY: `ptr` came from this allocator with `layout`.
        let ptr = unsafe { COUNTING.realloc(ptr, layout, 3000) };
        assert!(!ptr.is_null());
        assert_eq!(COUNTING.live_bytes(), 3000);
        let grown = Layout::from_size_align(3000, 8).unwrap_or_else(|_| unreachable!());
        let address = ptr as usize;
        // Freed by another thread: its slot goes negative, the sum is right.
        std::thread::spawn(move || {
            // SAFETY: the block of `address` came from this allocator with `grown`.
            unsafe { COUNTING.dealloc(address as *mut u8, grown) };
        })
        .join()
        .unwrap_or_else(|_| unreachable!());
        assert_eq!(COUNTING.live_bytes(), 0);
    }
}
