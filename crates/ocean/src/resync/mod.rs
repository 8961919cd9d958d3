//! One full resync: every resource of the port-app-config is fetched, mapped, diffed against what
//! Port holds, upserted in batches, and then stale entities are deleted where that is safe.
//!
//! The normative rules are in `docs/specs/resync.md`; the flow is:
//! 1. [`snapshot`]: list this integration's entities in Port once (datasource listing), reduced to
//!    keys and digests of the fields each resource writes ([`diff`]).
//! 2. [`pipeline`]: resources run in *lanes*: resources that write the same blueprint share a
//!    lane and run one after another in config order (so merges apply in Ocean's order); lanes
//!    run concurrently. Within a resource, pages are fetched, mapped on the blocking pool, diffed,
//!    batched ([`batch`]) and upserted concurrently.
//! 3. [`reconcile`]: a pure planner decides deletions per blueprint from what was seen, what
//!    failed and the threshold; then deletions run.

pub mod batch;
mod delete;
pub mod diff;
mod examples;
mod lane_output;
mod mapped;
mod pipeline;
pub mod reconcile;
pub mod report;
mod snapshot;
mod stop;

use std::{sync::Arc, time::Instant};

use mapping::{MappingPlan, PortAppConfig};
use port_client::{Client, Installation};

pub use report::{PlannedWrites, ResourceReport, ResyncReport, TimeSplit};

use self::snapshot::Snapshot;
use crate::{Integration, telemetry};

/// Tuning knobs of a resync (defaults follow Ocean's limits, ocean-framework.md §1.2).
#[derive(Debug, Clone)]
pub struct ResyncSettings {
    /// Per-request limits of Port's bulk upsert.
    pub batch: batch::BatchLimits,
    /// Bulk upsert requests in flight per resource.
    pub upsert_concurrency: usize,
    /// Pages mapped concurrently per resource (mapping runs on the blocking pool).
    pub map_concurrency: usize,
    /// Entity identifiers per bulk delete request (Ocean clamps to 100).
    pub delete_batch_size: usize,
    /// How often a running resource logs its progress (items read, pages, entities written,
    /// rate); its `/metrics` gauges follow every page.
    pub progress_every: std::time::Duration,
    /// Read, map and compare, but write nothing to Port: what would be written and deleted is
    /// recorded in the report ([`ResyncReport::planned`]).
    pub dry_run: bool,
    /// Post the first raw items of each resource to Port, for its mapping editor
    /// (`OCEAN__SEND_RAW_DATA_EXAMPLES`); never in a dry run. See [`examples`].
    pub raw_data_examples: bool,
    /// The secrets masked in those examples.
    pub redaction: crate::redact::Redaction,
    /// This resync's status reporting to Port's UI (set by the runner per resync).
    pub sync_status: Option<Arc<crate::sync_status::SyncStatus>>,
    /// Incremental mode: read each resource's changes since its cursor (by resource index)
    /// with [`Integration::fetch_changed`], compare nothing, delete nothing (set by the runner).
    pub incremental: Option<Arc<std::collections::BTreeMap<usize, jiff::Timestamp>>>,
}

impl Default for ResyncSettings {
    fn default() -> Self {
        Self {
            // OCEAN__UPSERT_ENTITIES_BATCH_MAX_LENGTH and ..._MAX_SIZE_IN_BYTES defaults.
            batch: batch::BatchLimits {
                max_items: 20,
                max_bytes: 1024 * 1024,
            },
            upsert_concurrency: 8,
            map_concurrency: 2,
            delete_batch_size: 100,
            progress_every: std::time::Duration::from_secs(5),
            dry_run: false,
            raw_data_examples: true,
            redaction: crate::redact::Redaction::default(),
            sync_status: None,
            incremental: None,
        }
    }
}

/// Everything one resync needs: who to talk to, what to fetch and how to map it.
pub struct Resync<I> {
    /// Port API client (its User-Agent decides entity ownership).
    pub port: Client,
    /// The integration that fetches raw items.
    pub integration: Arc<I>,
    /// The port-app-config (top-level flags are read from it).
    pub app_config: Arc<PortAppConfig>,
    /// The compiled mapping of `app_config`.
    pub plan: Arc<MappingPlan>,
    /// Ownership of entities: the datasource Port records for our writes.
    pub installation: Installation,
    /// Tuning knobs.
    pub settings: ResyncSettings,
}

impl<I: Integration> Resync<I> {
    /// Runs one full resync and reports what it did. Errors never abort the process: they end up
    /// in the report, and they protect the affected blueprints from deletion.
    pub async fn run(&self) -> ResyncReport {
        let started = Instant::now();
        let mut report = ResyncReport {
            incremental: self.settings.incremental.is_some(),
            ..ResyncReport::default()
        };
        self.integration.resync_started();
        // Incremental: only changed items are read, so each is written; nothing is deleted.
        let listing = Instant::now();
        let listed = if self.settings.incremental.is_some() {
            Err(None)
        } else {
            let views = diff::Views::of_plan(&self.plan, self.app_config.enable_merge_entity);
            Snapshot::load(&self.port, &self.installation, &views)
                .await
                .map_err(Some)
        };
        report.snapshot_duration = listing.elapsed();
        let snapshot = match listed {
            Ok(snapshot) => Some(snapshot),
            Err(None) => None,
            Err(Some(error)) => {
                report.failure = Some(format!(
                    "could not list this integration's entities in Port ({error}); every entity \
                     is written and nothing is deleted in this resync"
                ));
                None
            }
        };
        let empty = Snapshot::default();
        let stop = stop::Stop::new();
        let lanes = pipeline::run(self, snapshot.as_ref().unwrap_or(&empty), &stop).await;
        // Nothing is fetched after this (the deletion phase reads Port only).
        self.integration.resync_finished();
        if let Some(cause) = stop.cause() {
            report.failure = Some(format!("stopped: {cause}"));
        }
        if let Some(snapshot) = &snapshot {
            let status = self.settings.sync_status.as_deref();
            let deleting = Instant::now();
            if let Some(status) = status {
                status.reconciliation_started();
            }
            report.deletion = delete::delete_stale(self, snapshot, &lanes).await;
            if let Some(status) = status {
                let complete = report.failure.is_none()
                    && report.deletion.errors.is_empty()
                    && lanes.reports.iter().all(|r| r.incomplete().is_none());
                let deleted = report.deletion.total_deleted();
                status.reconciliation_finished(complete, deleted, deleting.elapsed());
            }
            report.deletion_duration = deleting.elapsed();
        }
        report.resources = lanes.reports;
        report.duration = started.elapsed();
        telemetry::resync_finished(&report);
        report
    }
}
