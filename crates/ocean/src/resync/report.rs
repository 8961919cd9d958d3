//! What a resync did, per resource and for the deletion phase: the numbers a person reads after a
//! run, and the basis of the resync state reported to Port.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    time::Duration,
};

use super::reconcile::SkipReason;

/// How many rejected entities are kept with their reasons per resource (all are counted; the
/// list is capped so a mapping that fails everywhere cannot grow memory without bound).
pub const MAX_REJECTIONS_KEPT: usize = 100;

/// One entity Port refused, with Port's own reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Blueprint the entity was written to.
    pub blueprint: String,
    /// Identifier of the refused entity.
    pub identifier: String,
    /// HTTP status Port gave the entity (inside a 207, or of the whole request).
    pub status: u16,
    /// Port's error code and message.
    pub reason: String,
}

/// The outcome of one resource (`{kind}-{index}` in Ocean's words).
#[derive(Debug, Clone, Default)]
pub struct ResourceReport {
    /// The resource's kind.
    pub kind: String,
    /// Position of the resource in the port-app-config.
    pub index: usize,
    /// Raw items fetched from the third-party API.
    pub fetched: usize,
    /// Entities that passed the selector and were mapped.
    pub mapped: usize,
    /// Items the selector filtered out.
    pub filtered_out: usize,
    /// Items dropped because their identifier or blueprint mapped to null or "".
    pub dropped: usize,
    /// Entities identical to what Port holds, so not written.
    pub unchanged: usize,
    /// Entities whose identifier an earlier item of this resync already produced (the later
    /// item wins, as Port applies writes in order).
    pub duplicates: usize,
    /// Entities Port accepted.
    pub upserted: usize,
    /// Entities Port refused (counted; the first [`MAX_REJECTIONS_KEPT`] are in `rejections`).
    pub rejected: usize,
    /// Port's reasons for the first rejected entities.
    pub rejections: Vec<Rejection>,
    /// Mapping fields that failed to evaluate (value sent as null), counted per item.
    pub field_warnings: usize,
    /// Why the resource did not complete; its blueprint is then protected from deletion.
    pub failure: Option<String>,
    /// The resource did not complete because the whole resync stopped (the cause is the
    /// run's [`ResyncReport::failure`], reported once).
    pub stopped: bool,
    /// Parts of the kind that could not be read (the rest was written; the blueprint is
    /// protected from deletion as for a failure). The first [`MAX_REJECTIONS_KEPT`] are kept.
    pub skipped_parts: Vec<String>,
    /// Wall time of the resource.
    pub duration: Duration,
    /// Where that time went (the three overlap: pages are fetched while others are mapped
    /// and written).
    pub time: TimeSplit,
    /// In a dry run: what this resource would have written, per blueprint (nothing was sent).
    pub planned: BTreeMap<String, PlannedWrites>,
    /// In an incremental run: its kind cannot be read incrementally, so it was left alone.
    pub not_incremental: bool,
}

/// Where a resource's time went (issue 18, item 4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeSplit {
    /// Waiting for the integration's next page (the third-party API) while ready to take it.
    pub fetch_wait: Duration,
    /// Mapping on the blocking pool, summed over pages (two run at once per resource).
    pub mapping: Duration,
    /// Waiting for Port: for a free upsert slot, and for the last upserts to settle.
    pub port_wait: Duration,
}

impl std::ops::AddAssign for TimeSplit {
    fn add_assign(&mut self, other: Self) {
        self.fetch_wait += other.fetch_wait;
        self.mapping += other.mapping;
        self.port_wait += other.port_wait;
    }
}

/// What a dry run found that a resync would write to one blueprint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlannedWrites {
    /// Identifiers Port does not hold yet.
    pub create: BTreeSet<String>,
    /// Identifiers Port holds with other values. Entities identified by a search query are
    /// listed as `(search query)`: Port resolves them only when they are written.
    pub update: BTreeSet<String>,
}

impl ResourceReport {
    /// Records a rejection, keeping the reason while under the cap.
    pub fn reject(&mut self, rejection: Rejection) {
        self.rejected += 1;
        if self.rejections.len() < MAX_REJECTIONS_KEPT {
            self.rejections.push(rejection);
        }
    }

    /// Records a part of the kind that could not be read.
    pub fn skip_part(&mut self, part: String) {
        if self.skipped_parts.len() < MAX_REJECTIONS_KEPT {
            self.skipped_parts.push(part);
        }
    }

    /// Why nothing of this resource's blueprints may be deleted, if so: its failure, or the
    /// parts it could not read.
    #[must_use]
    pub fn incomplete(&self) -> Option<String> {
        if let Some(failure) = &self.failure {
            return Some(failure.clone());
        }
        let first = self.skipped_parts.first()?;
        Some(format!(
            "{} part(s) of the kind could not be read, first: {first}",
            self.skipped_parts.len()
        ))
    }

    /// Marks the resource as cut short by the resync's stop ([`Self::stopped`]).
    pub fn stop(&mut self) {
        self.stopped = true;
        self.fail("stopped with the resync");
    }

    /// Records why the resource failed (the first cause wins; later ones are consequences).
    pub fn fail(&mut self, reason: impl Into<String>) {
        if self.failure.is_none() {
            self.failure = Some(reason.into());
        }
    }
}

/// The outcome of the deletion phase.
#[derive(Debug, Clone, Default)]
pub struct DeletionReport {
    /// Entities deleted, per blueprint.
    pub deleted: Vec<(String, usize)>,
    /// Why some deletions did not happen.
    pub skipped: Vec<SkipReason>,
    /// Delete requests that failed.
    pub errors: Vec<String>,
    /// In a dry run: the identifiers that would have been deleted, per blueprint.
    pub planned: BTreeMap<String, Vec<String>>,
}

impl DeletionReport {
    /// Total entities deleted.
    #[must_use]
    pub fn total_deleted(&self) -> usize {
        self.deleted.iter().map(|(_, n)| n).sum()
    }
}

/// The outcome of one full resync.
#[derive(Debug, Clone, Default)]
pub struct ResyncReport {
    /// One entry per resource, in port-app-config order.
    pub resources: Vec<ResourceReport>,
    /// Deletions done and skipped.
    pub deletion: DeletionReport,
    /// A failure that concerned the whole run (e.g. Port's entities could not be listed).
    pub failure: Option<String>,
    /// Wall time of the run.
    pub duration: Duration,
    /// Of which reading what Port holds at the start (the snapshot).
    pub snapshot_duration: Duration,
    /// And the deletion phase at the end.
    pub deletion_duration: Duration,
    /// An incremental run: changes since each resource's cursor, nothing deleted.
    pub incremental: bool,
}

impl ResyncReport {
    /// True when every resource completed and nothing failed at the run level: what Ocean
    /// reports as `completed` rather than `failed`.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
            && self.deletion.errors.is_empty()
            && self.resources.iter().all(|r| r.failure.is_none())
    }

    /// Total entities upserted across resources.
    #[must_use]
    pub fn total_upserted(&self) -> usize {
        self.resources.iter().map(|r| r.upserted).sum()
    }

    /// Total entities rejected across resources.
    #[must_use]
    pub fn total_rejected(&self) -> usize {
        self.resources.iter().map(|r| r.rejected).sum()
    }

    /// In a dry run, what the resync would do per blueprint: (create, update, delete), the
    /// writes of every resource merged.
    #[must_use]
    pub fn planned(&self) -> BTreeMap<&str, (PlannedWrites, &[String])> {
        let mut plan: BTreeMap<&str, (PlannedWrites, &[String])> = BTreeMap::new();
        for (blueprint, writes) in self.resources.iter().flat_map(|r| &r.planned) {
            let (merged, _) = plan.entry(blueprint).or_default();
            merged.create.extend(writes.create.iter().cloned());
            merged.update.extend(writes.update.iter().cloned());
        }
        for (blueprint, deleted) in &self.deletion.planned {
            plan.entry(blueprint).or_default().1 = deleted;
        }
        plan
    }
}

impl fmt::Display for ResyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<24} {:>8} {:>8} {:>9} {:>9} {:>9} {:>8}  status",
            "resource", "fetched", "mapped", "unchanged", "upserted", "rejected", "ms"
        )?;
        for r in &self.resources {
            writeln!(
                f,
                "{:<24} {:>8} {:>8} {:>9} {:>9} {:>9} {:>8}  {}",
                format!("{}-{}", r.kind, r.index),
                r.fetched,
                r.mapped,
                r.unchanged,
                r.upserted,
                r.rejected,
                r.duration.as_millis(),
                r.failure
                    .as_deref()
                    .filter(|_| !r.stopped)
                    .unwrap_or(if r.stopped {
                        "stopped"
                    } else if r.not_incremental {
                        "not incremental"
                    } else if r.skipped_parts.is_empty() {
                        "ok"
                    } else {
                        "partial"
                    }),
            )?;
        }
        if self.incremental {
            writeln!(f, "incremental: changes only, nothing deleted")?;
        } else {
            writeln!(f, "deleted: {}", self.deletion.total_deleted())?;
        }
        for skip in &self.deletion.skipped {
            writeln!(f, "deletion skipped: {skip}")?;
        }
        for error in &self.deletion.errors {
            writeln!(f, "deletion error: {error}")?;
        }
        if let Some(failure) = &self.failure {
            writeln!(f, "resync failed: {failure}")?;
        }
        Ok(())
    }
}
