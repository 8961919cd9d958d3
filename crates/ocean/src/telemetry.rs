//! Named telemetry events: each recurring situation is one function here that emits both its log
//! line and its metric (STYLE.md rule 9; names in docs/specs/telemetry.md).
//!
//! Levels follow operator impact: ERROR = data not written or action needed, WARN = recovered or
//! skipped safely, INFO = lifecycle, DEBUG = per page.

use std::time::Duration;

use metrics::{counter, gauge, histogram};
use tracing::{debug, error, info, warn};

use crate::resync::report::{Rejection, ResourceReport, ResyncReport};

/// A page of raw items arrived from the integration.
pub fn page_fetched(kind: &str, index: usize, items: usize) {
    debug!(kind, index, items, "Fetched a page.");
    counter!("ocean_items_fetched_total", "kind" => kind.to_owned()).increment(items as u64);
}

/// A page of a running resource was handled: the resource's live counts as gauges
/// (`ocean_resync_progress{kind="{kind}-{index}",count}`; the finished resource keeps its last
/// values until its next run).
pub fn resource_progress(report: &ResourceReport, pages: usize) {
    let kind = format!("{}-{}", report.kind, report.index);
    for (count, value) in [
        ("fetched", report.fetched),
        ("pages", pages),
        ("mapped", report.mapped),
        ("unchanged", report.unchanged),
        ("written", report.upserted),
        ("rejected", report.rejected),
    ] {
        gauge!("ocean_resync_progress", "kind" => kind.clone(), "count" => count)
            .set(gauge_count(value));
    }
}

/// A running resource's progress, for a person following a long resync (at most every few
/// seconds per resource).
pub fn resource_progress_line(report: &ResourceReport, pages: usize, elapsed: Duration) {
    let per_second = gauge_count(report.fetched) / elapsed.as_secs_f64().max(0.001);
    info!(
        kind = %report.kind,
        index = report.index,
        fetched = report.fetched,
        pages,
        written = report.upserted,
        unchanged = report.unchanged,
        items_per_s = per_second.round(),
        "Resync progress."
    );
}

/// A bulk upsert request finished.
pub fn batch_upserted(blueprint: &str, upserted: usize, rejected: usize, elapsed: Duration) {
    debug!(
        blueprint,
        upserted,
        rejected,
        ms = millis(elapsed),
        "Upserted a batch."
    );
    histogram!("ocean_upsert_batch_duration_seconds").record(elapsed.as_secs_f64());
    counter!("ocean_entities_total", "blueprint" => blueprint.to_owned(), "outcome" => "upserted")
        .increment(upserted as u64);
}

/// Port refused one entity: it is logged with blueprint, identifier and Port's reason
/// (invariant 2: no entity is lost silently).
pub fn entity_rejected(kind: &str, rejection: &Rejection) {
    error!(
        kind,
        blueprint = %rejection.blueprint,
        identifier = %rejection.identifier,
        status = rejection.status,
        reason = %rejection.reason,
        "Port rejected an entity."
    );
    counter!("ocean_entities_total", "blueprint" => rejection.blueprint.clone(), "outcome" => "rejected")
        .increment(1);
}

/// Mapping fields failed to evaluate on some items of a page (values sent as null, as Ocean does).
pub fn field_warnings(kind: &str, index: usize, field: &str, count: usize, example: &str) {
    warn!(
        kind,
        index, field, count, example, "Mapping field failed to evaluate; sent as null."
    );
    counter!("ocean_mapping_field_errors_total", "kind" => kind.to_owned()).increment(count as u64);
}

/// A part of a kind could not be read; the rest is written and the resource's blueprints are
/// kept from deletion in this resync.
pub fn part_skipped(kind: &str, index: usize, part: &str) {
    warn!(
        kind,
        index,
        part,
        "Part of the kind could not be read; the rest is synced, and nothing of its blueprints is deleted in this resync."
    );
}

/// Items of a resource mapped to identifiers that earlier items of the resync already produced
/// (the later item wins, as Port applies writes in order). Logged once per blueprint.
pub fn duplicate_identifiers(kind: &str, index: usize, blueprint: &str, count: usize) {
    warn!(
        kind,
        index,
        blueprint,
        count,
        "Items mapped to identifiers already produced in this resync; the later item in the source's order wins. Make the identifier unique in the mapping if both are meant to exist."
    );
}

/// A resource finished (completed or failed).
pub fn resource_finished(report: &ResourceReport) {
    let kind = report.kind.as_str();
    if report.stopped {
        // The cause is the resync's failure, logged once when it finishes.
    } else if let Some(failure) = &report.failure {
        error!(
            kind,
            index = report.index,
            fetched = report.fetched,
            upserted = report.upserted,
            failure = %failure,
            "Resource failed; its blueprints are protected from deletion in this resync."
        );
    } else {
        info!(
            kind,
            index = report.index,
            fetched = report.fetched,
            mapped = report.mapped,
            unchanged = report.unchanged,
            upserted = report.upserted,
            rejected = report.rejected,
            ms = millis(report.duration),
            fetch_wait_ms = millis(report.time.fetch_wait),
            mapping_ms = millis(report.time.mapping),
            port_wait_ms = millis(report.time.port_wait),
            "Resource synced."
        );
    }
    let outcome = if report.failure.is_some() {
        "failed"
    } else {
        "completed"
    };
    counter!("ocean_resources_total", "kind" => kind.to_owned(), "outcome" => outcome).increment(1);
    ocean_resource_gauges(report);
    // Its own name: `ocean_entities_total` is labelled by blueprint, and one metric name
    // should keep one label set.
    counter!("ocean_entities_unchanged_total", "kind" => kind.to_owned())
        .increment(report.unchanged as u64);
}

/// Deletion of some entities was skipped for safety.
pub fn deletion_skipped(reason: &dyn std::fmt::Display) {
    warn!(reason = %reason, "Skipping deletion.");
    counter!("ocean_deletions_skipped_total").increment(1);
}

/// Entities were deleted after reconciliation.
pub fn entities_deleted(blueprint: &str, count: usize) {
    info!(blueprint, count, "Deleted stale entities.");
    counter!("ocean_entities_total", "blueprint" => blueprint.to_owned(), "outcome" => "deleted")
        .increment(count as u64);
}

/// A resync finished.
pub fn resync_finished(report: &ResyncReport) {
    let status = if report.succeeded() {
        "completed"
    } else {
        "failed"
    };
    if let Some(failure) = &report.failure {
        error!(
            status,
            upserted = report.total_upserted(),
            deleted = report.deletion.total_deleted(),
            ms = millis(report.duration),
            failure = %failure,
            "Resync failed."
        );
    } else {
        info!(
            status,
            upserted = report.total_upserted(),
            rejected = report.total_rejected(),
            deleted = report.deletion.total_deleted(),
            ms = millis(report.duration),
            snapshot_ms = millis(report.snapshot_duration),
            deletion_ms = millis(report.deletion_duration),
            "Resync finished."
        );
    }
    histogram!("ocean_resync_duration_seconds", "status" => status)
        .record(report.duration.as_secs_f64());
    // Ocean's gauges for the whole run (ocean-framework.md §9).
    let resync = "__resync__";
    gauge!("duration_seconds", "kind" => resync, "phase" => "resync")
        .set(report.duration.as_secs_f64());
    gauge!("success", "kind" => resync, "phase" => "resync")
        .set(f64::from(u8::from(report.succeeded())));
    gauge!("object_count", "kind" => "__reconciliation__", "phase" => "delete", "object_count_type" => "deleted")
        .set(gauge_count(report.deletion.total_deleted()));
}

/// Ocean's own per-resource gauges (ocean-framework.md §9), so that dashboards built on the
/// Python integration's `/metrics` keep working: `kind` is `{kind}-{index}`, values are the
/// last resync's. `loaded` counts entities written, `skipped` those unchanged (not written).
fn ocean_resource_gauges(report: &ResourceReport) {
    let kind = format!("{}-{}", report.kind, report.index);
    gauge!("duration_seconds", "kind" => kind.clone(), "phase" => "resync")
        .set(report.duration.as_secs_f64());
    gauge!("success", "kind" => kind.clone(), "phase" => "resync")
        .set(f64::from(u8::from(report.failure.is_none())));
    for (phase, count_type, count) in [
        ("extract", "raw_extracted", report.fetched),
        ("transform", "transformed", report.mapped),
        ("transform", "filtered_out", report.filtered_out),
        ("load", "loaded", report.upserted),
        ("load", "skipped", report.unchanged),
        ("load", "failed", report.rejected),
    ] {
        gauge!("object_count", "kind" => kind.clone(), "phase" => phase, "object_count_type" => count_type)
            .set(gauge_count(count));
    }
}

/// A count as a gauge value (exact up to 2^32, which any one resync stays below).
fn gauge_count(n: usize) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Milliseconds as a plain integer field (tracing renders `u128` as a string).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
