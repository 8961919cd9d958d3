//! What `--dry-run` prints: the resync's plan per blueprint (create, update, delete), what
//! deletion safety held back, and the resources that could not be read.

use std::fmt::Write as _;

use ocean::resync::ResyncReport;

/// The plan as text; `verbose` lists every identifier under its blueprint.
pub fn render(report: &ResyncReport, verbose: bool) -> String {
    let mut out = String::new();
    let plan = report.planned();
    let _ = writeln!(
        out,
        "Dry run: nothing was written to Port. A resync now would do this:\n"
    );
    let _ = writeln!(
        out,
        "{:<32} {:>8} {:>8} {:>8}",
        "blueprint", "create", "update", "delete"
    );
    let (mut creates, mut updates, mut deletes) = (0, 0, 0);
    for (blueprint, (writes, deleted)) in &plan {
        let _ = writeln!(
            out,
            "{blueprint:<32} {:>8} {:>8} {:>8}",
            writes.create.len(),
            writes.update.len(),
            deleted.len()
        );
        creates += writes.create.len();
        updates += writes.update.len();
        deletes += deleted.len();
    }
    let _ = writeln!(
        out,
        "{:<32} {creates:>8} {updates:>8} {deletes:>8}",
        "total"
    );
    let unchanged: usize = report.resources.iter().map(|r| r.unchanged).sum();
    let _ = writeln!(out, "unchanged (not written): {unchanged}");
    if verbose {
        for (blueprint, (writes, deleted)) in &plan {
            let _ = writeln!(out, "\n{blueprint}");
            for id in &writes.create {
                let _ = writeln!(out, "  + {id}");
            }
            for id in &writes.update {
                let _ = writeln!(out, "  ~ {id}");
            }
            for id in *deleted {
                let _ = writeln!(out, "  - {id}");
            }
        }
    }
    if !report.deletion.skipped.is_empty() {
        let _ = writeln!(out, "\nHeld back by deletion safety:");
        for skip in &report.deletion.skipped {
            let _ = writeln!(out, "  {skip}");
        }
    }
    for error in &report.deletion.errors {
        let _ = writeln!(out, "deletions not planned: {error}");
    }
    let failed: Vec<_> = report
        .resources
        .iter()
        .filter_map(|r| Some((r, r.incomplete()?)))
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(
            out,
            "\nNot read completely (nothing of their blueprints would be deleted):"
        );
        for (resource, reason) in failed {
            let _ = writeln!(out, "  {}-{}: {reason}", resource.kind, resource.index);
        }
    }
    if let Some(failure) = &report.failure {
        let _ = writeln!(out, "\nThe run failed: {failure}");
    }
    let _ = writeln!(
        out,
        "\nPort checks entities against their blueprints only when they are written, so \
         entities Port would reject are counted above."
    );
    out
}
