//! Issue 18: a resync streams pages and keeps per entity only what deletion needs (its key and
//! a digest), never a whole kind's raw items. Measured with the binary's counting allocator
//! (`bench --heap-probe N`: one project with N work items, one resync, sims as child
//! processes), at two sizes ten times apart.
//!
//! Measured when written (debug build, 2026-12-04): 5.9 MiB of heap peak at 2,000 work items
//! (1,586 pass the default WIQL), 10.0 MiB at 20,000 (15,729): about 290 bytes per extra
//! entity. A raw work item is about 1.5 KB of JSON (sim-ado, `$expand=all`), so holding the
//! kind's 14,000 extra items at once would add well over 20 MiB: the bound below lies between.

use super::binary;

/// The heap peak (MiB) of one resync of `work_items` work items.
fn heap_peak_mib(work_items: u32) -> f64 {
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
    let row = stdout.lines().nth(1).unwrap_or_default();
    row.split_whitespace()
        .last()
        .and_then(|heap| heap.parse().ok())
        .unwrap_or_else(|| panic!("no heap column in {row:?}"))
}

#[test]
fn the_heap_peak_does_not_grow_with_the_size_of_a_kind() {
    let small = heap_peak_mib(2_000);
    let large = heap_peak_mib(20_000);
    assert!(
        large - small < 12.0,
        "heap peak {small:.1} MiB at 2,000 work items, {large:.1} MiB at 20,000"
    );
}
