//! Issue 18: a resync streams pages and keeps per entity only what deletion and diffing need
//! (compact keys, hashes), never a whole kind's raw items. Measured with the binary's counting
//! allocator (`bench --heap-probe N`: one project with N work items, a first and an unchanged
//! second resync, sims as child processes), at two sizes ten times apart.
//!
//! First resync, measured when written (debug build, 2026-12-04): 5.9 MiB of heap peak at
//! 2,000 work items (1,586 pass the default WIQL), 10.0 MiB at 20,000 (15,729): about 290
//! bytes per extra entity. A raw work item is about 1.5 KB of JSON (sim-ado, `$expand=all`), so
//! holding the kind's 14,000 extra items at once would add well over 20 MiB: the bound below
//! lies between.
//!
//! Unchanged second resync (it also holds Port's snapshot: key hashes and fingerprints): heap
//! peak 6.7–6.9 MiB at 2,000 work items, 15.4–16.0 MiB at 20,000, 8.7–9.1 MiB more
//! (thirteenth session; 10.8–11.6 in the twelfth, before the snapshot's compact store). Before
//! the twelfth session's memory work the snapshot cost about 745 bytes more per entity, which
//! would add about 11 MiB here; the bound leaves 5 MiB, about a third of a KiB per extra
//! entity (400 bytes more an entity made it fail).

use super::binary;

/// The heap peaks (MiB) of the first resync and of both resyncs of `work_items` work items.
fn heap_peaks_mib(work_items: u32) -> (f64, f64) {
    let output = binary()
        .args(["bench", "--heap-probe", &work_items.to_string()])
        .output()
        .expect("binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let heap = |line: usize| {
        let row = stdout.lines().nth(line).unwrap_or_default();
        row.split_whitespace()
            .last()
            .and_then(|heap| heap.parse().ok())
            .unwrap_or_else(|| panic!("no heap column in {row:?}"))
    };
    (heap(1), heap(2))
}

#[test]
fn the_heap_peak_does_not_grow_with_the_size_of_a_kind() {
    let (small_first, small_both) = heap_peaks_mib(2_000);
    let (large_first, large_both) = heap_peaks_mib(20_000);
    assert!(
        large_first - small_first < 12.0,
        "first resync: heap peak {small_first:.1} MiB at 2,000 work items, {large_first:.1} MiB \
         at 20,000"
    );
    assert!(
        large_both - small_both < 14.0,
        "unchanged second resync: heap peak {small_both:.1} MiB at 2,000 work items, \
         {large_both:.1} MiB at 20,000 (the snapshot grew per entity)"
    );
}
