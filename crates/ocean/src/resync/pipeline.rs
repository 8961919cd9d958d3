//! The resync pipeline: lanes of resources → pages → map (blocking pool) → diff → batch → upsert.
//! Its [`LaneOutput`] feeds the deletion phase, which [`super::Resync::run`] starts afterwards.
//! See the module docs of [`crate::resync`].

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::{Duration, Instant},
};

use futures::StreamExt;
use indexmap::IndexMap;
use mapping::MappingPlan;
use port_client::{BulkUpsertReport, UpsertOptions};
use serde_json::value::RawValue;
use tokio::task::JoinSet;

use super::{
    Resync,
    batch::Batcher,
    examples::Examples,
    lane_output::{LaneOutput, Produced},
    mapped::{MappedPage, PageError, map_pages},
    reconcile::EntityKey,
    report::{Rejection, ResourceReport},
    snapshot::{Marked, Snapshot},
    stop::Stop,
};
use crate::{Integration, telemetry};

/// Runs every resource of the mapping against `snapshot` (lanes concurrently, resources of one
/// lane in config order) and merges what the lanes saw.
pub(super) async fn run<I: Integration>(
    resync: &Resync<I>,
    snapshot: &Snapshot,
    stop: &Stop,
) -> LaneOutput {
    let lanes = lanes(&resync.plan);
    let finished = Finished::new(resync);
    let outputs = futures::future::join_all(
        lanes
            .iter()
            .map(|lane| run_lane(resync, lane, snapshot, stop, &finished)),
    )
    .await;
    let refused = resync.plan.refused().iter().map(|refused| {
        let mut report = ResourceReport {
            kind: refused.kind.clone(),
            index: refused.index,
            ..ResourceReport::default()
        };
        report.fail(format!(
            "the mapping of this resource is refused: {}",
            mapping::CompileErrors(refused.errors.clone())
        ));
        telemetry::resource_finished(&report);
        LaneOutput {
            reports: vec![report],
            ..LaneOutput::default()
        }
    });
    let mut merged = LaneOutput::merge(outputs.into_iter().chain(refused));
    merged.seen.extend_hashes(snapshot.produced_hashes());
    merged
}

/// Groups resources into lanes: resources whose (literal) blueprints overlap share a lane and keep
/// config order; a resource whose blueprint is computed per item gets a lane of its own.
fn lanes(plan: &MappingPlan) -> Vec<Vec<usize>> {
    let mut lanes: Vec<Vec<usize>> = Vec::new();
    let mut lane_of_blueprint: HashMap<&str, usize> = HashMap::new();
    for resource in plan.resources() {
        match resource.blueprint_literal() {
            Some(blueprint) => {
                if let Some(&lane) = lane_of_blueprint.get(blueprint) {
                    lanes[lane].push(resource.index());
                } else {
                    lane_of_blueprint.insert(blueprint, lanes.len());
                    lanes.push(vec![resource.index()]);
                }
            }
            None => lanes.push(vec![resource.index()]),
        }
    }
    lanes
}

/// Which resources have finished. Ocean writes resources one after another, so a search query
/// in an identifier or a relation, which Port resolves when the entity is written, finds what
/// earlier resources wrote; lanes run concurrently, so an entity with one waits until every
/// resource before its own in the mapping has finished (the conformance case `jq` relates
/// repositories to projects by a search on the project's title). A resource waits only on
/// earlier ones, and a lane runs its resources in order: no wait can close a cycle.
struct Finished(tokio::sync::watch::Sender<Vec<bool>>);

impl Finished {
    /// Every resource unfinished, except those refused at load (they never run).
    fn new<I: Integration>(resync: &Resync<I>) -> Self {
        let mut done = vec![false; resync.app_config.resources.len()];
        for refused in resync.plan.refused() {
            if let Some(slot) = done.get_mut(refused.index) {
                *slot = true;
            }
        }
        Self(tokio::sync::watch::Sender::new(done))
    }

    fn finish(&self, index: usize) {
        self.0.send_modify(|done| {
            if let Some(slot) = done.get_mut(index) {
                *slot = true;
            }
        });
    }

    /// Waits until every resource before `index` has finished.
    async fn before(&self, index: usize) {
        let mut done = self.0.subscribe();
        // The sender lives as long as the pipeline, which awaits this.
        let _ = done
            .wait_for(|done| done.iter().take(index).all(|finished| *finished))
            .await;
    }
}

async fn run_lane<I: Integration>(
    resync: &Resync<I>,
    lane: &[usize],
    snapshot: &Snapshot,
    stop: &Stop,
    finished: &Finished,
) -> LaneOutput {
    let mut out = LaneOutput::default();
    for &index in lane {
        let mut written = HashSet::new();
        let report = run_resource(
            resync,
            Ordered { index, finished },
            snapshot,
            stop,
            &mut out,
            &mut written,
        )
        .await;
        finished.finish(index);
        telemetry::resource_finished(&report);
        out.reports.push(report);
        out.written.push((index, written));
    }
    out
}

/// Why a resource reads nothing.
enum Skip {
    /// An incremental run, and the kind cannot be read that way.
    NotIncremental,
    /// The integration does not implement the kind.
    Unsupported,
}

/// The resource's pages: all of them, or in an incremental run those changed since its cursor.
fn pages_of<I: Integration>(
    resync: &Resync<I>,
    index: usize,
) -> Result<crate::PageStream<I::Error>, Skip> {
    let Some(resource) = resync.plan.resource(index) else {
        unreachable!("lanes hold planned resources only");
    };
    let (kind, selector) = (resource.kind(), resource.selector());
    match &resync.settings.incremental {
        Some(cursors) => {
            let since = cursors
                .get(&index)
                .copied()
                .unwrap_or_else(jiff::Timestamp::now);
            resync
                .integration
                .fetch_changed(kind, selector, since)
                .ok_or(Skip::NotIncremental)
        }
        None => resync
            .integration
            .fetch(kind, selector)
            .ok_or(Skip::Unsupported),
    }
}

/// A resource's index, and what it waits on before writing a search query ([`Finished`]).
#[derive(Clone, Copy)]
struct Ordered<'a> {
    index: usize,
    finished: &'a Finished,
}

/// Fetches, maps, diffs and upserts one resource.
async fn run_resource<I: Integration>(
    resync: &Resync<I>,
    Ordered { index, finished }: Ordered<'_>,
    snapshot: &Snapshot,
    stop: &Stop,
    out: &mut LaneOutput,
    written: &mut HashSet<String>,
) -> ResourceReport {
    let started = Instant::now();
    let Some(resource) = resync.plan.resource(index) else {
        unreachable!("lanes hold planned resources only");
    };
    let mut report = ResourceReport {
        kind: resource.kind().to_owned(),
        index,
        ..ResourceReport::default()
    };
    if stop.cause().is_some() {
        report.stop();
        return report;
    }
    let pages = match pages_of(resync, index) {
        Ok(pages) => pages,
        Err(Skip::NotIncremental) => {
            report.not_incremental = true;
            return report;
        }
        Err(Skip::Unsupported) => {
            report.fail(format!(
                "kind `{}` is not supported by this integration",
                resource.kind()
            ));
            report.duration = started.elapsed();
            return report;
        }
    };
    let blueprint = resource.blueprint_literal().unwrap_or_default();
    if let Some(status) = &resync.settings.sync_status {
        status.resource_started(resource.kind(), index, blueprint);
    }
    let mut examples = Examples::new(resync);
    let mut mapped_pages = map_pages(resync, index, pages, examples.flag());
    let mut sink = UpsertSink::new(resync, &mut report, Ordered { index, finished });
    loop {
        let page = tokio::select! {
            page = mapped_pages.next() => page,
            () = stop.stopped() => Some(Err(PageError::Stopped)),
        };
        match page {
            None => break,
            Some(Ok(mut page)) => {
                let copied = std::mem::take(&mut page.examples);
                examples.offer(resync, resource.kind(), copied).await;
                sink.accept(page, snapshot, out, written).await;
            }
            Some(Err(PageError::Failed(reason))) => {
                sink.report.fail(reason);
                break;
            }
            Some(Err(PageError::Stops(cause))) => {
                stop.trigger(cause);
                sink.report.stop();
                break;
            }
            Some(Err(PageError::Stopped)) => {
                sink.report.stop();
                break;
            }
        }
    }
    sink.finish(snapshot).await;
    if !report.stopped {
        examples.finish(resync, resource.kind()).await;
    }
    report.duration = started.elapsed();
    if let Some(status) = &resync.settings.sync_status {
        status.resource_finished(&report, blueprint);
    }
    report
}

/// How reports name an entity whose identifier is a search query.
const SEARCH_QUERY: &str = "(search query)";

/// Entities of one bulk request: (identifier for reports, serialized entity).
type Batch = Vec<(String, Box<RawValue>)>;

type UpsertResult = (
    String,
    Vec<String>,
    Result<BulkUpsertReport, port_client::Error>,
    Duration,
);

/// Batches changed entities per blueprint and keeps a bounded number of upserts in flight.
struct UpsertSink<'a, I> {
    resync: &'a Resync<I>,
    report: &'a mut ResourceReport,
    batchers: HashMap<String, Batcher<(String, Box<RawValue>)>>,
    /// Upserts in flight: spawned, so that each starts at once and runs while the resource
    /// fetches and maps its next pages (aborted if the resync is dropped).
    inflight: JoinSet<UpsertResult>,
    options: UpsertOptions,
    /// Later versions of keys produced earlier, in source order (only the last per key is
    /// kept): sent once every earlier write has settled, so the later item wins.
    deferred: IndexMap<EntityKey, (String, Box<RawValue>)>,
    /// Duplicated identifiers per blueprint, logged once at the end.
    duplicates: BTreeMap<String, usize>,
    /// Pages received so far, for progress.
    pages: usize,
    /// When the resource started, and when its progress was last logged.
    started: Instant,
    last_progress: Instant,
    /// What to wait on before the resource's first search query; `None` once waited.
    order: Option<Ordered<'a>>,
}

impl<'a, I: Integration> UpsertSink<'a, I> {
    fn new(resync: &'a Resync<I>, report: &'a mut ResourceReport, order: Ordered<'a>) -> Self {
        Self {
            options: UpsertOptions {
                merge: resync.app_config.enable_merge_entity,
                create_missing_related_entities: resync.app_config.create_missing_related_entities,
            },
            resync,
            report,
            batchers: HashMap::new(),
            inflight: JoinSet::new(),
            deferred: IndexMap::new(),
            duplicates: BTreeMap::new(),
            pages: 0,
            started: Instant::now(),
            last_progress: Instant::now(),
            order: Some(order),
        }
    }

    /// Progress gauges after every page; a log line at most every `progress_every`.
    fn progress(&mut self) {
        self.pages += 1;
        telemetry::resource_progress(self.report, self.pages);
        if self.last_progress.elapsed() >= self.resync.settings.progress_every {
            self.last_progress = Instant::now();
            telemetry::resource_progress_line(self.report, self.pages, self.started.elapsed());
        }
    }

    async fn accept(
        &mut self,
        page: MappedPage,
        snapshot: &Snapshot,
        out: &mut LaneOutput,
        written: &mut HashSet<String>,
    ) {
        telemetry::page_fetched(&self.report.kind, self.report.index, page.items);
        self.report.time.fetch_wait += page.fetch_wait;
        self.report.time.mapping += page.mapping;
        self.report.fetched += page.items;
        self.report.filtered_out += page.filtered_out;
        self.report.dropped += page.dropped;
        for (field, (count, example)) in &page.warnings {
            self.report.field_warnings += count;
            telemetry::field_warnings(&self.report.kind, self.report.index, field, *count, example);
        }
        if let Some(error) = page.selector_error {
            self.report.fail(format!("selector failed: {error}"));
        }
        if let Some(error) = page.serialize_error {
            self.report.fail(error);
        }
        if let Some(error) = page.unreadable {
            self.report.fail(error);
        }
        for part in page.skipped {
            telemetry::part_skipped(&self.report.kind, self.report.index, &part);
            self.report.skip_part(part);
        }
        let merge = self.options.merge;
        for entity in page.entities {
            self.report.mapped += 1;
            if entity.searches
                && let Some(Ordered { index, finished }) = self.order.take()
            {
                finished.before(index).await;
            }
            written.insert(entity.blueprint.clone());
            for relation in entity.relations {
                out.relation_refs
                    .insert((entity.blueprint.clone(), relation));
            }
            if let Some(key) = entity.key {
                let version = Produced::new(self.report.index, entity.fingerprint.digest());
                let earlier = match snapshot.produce(&key, version) {
                    Marked::Held(earlier) => earlier,
                    Marked::NotHeld => out.produced.insert(key.hash64(), version),
                };
                match earlier {
                    Some(earlier) if earlier.same_resource(version) => {
                        // Produced before by this resource: Port ends with the later item, as
                        // it applies writes in order. Sent after every earlier write settled.
                        self.report.duplicates += 1;
                        *self.duplicates.entry(entity.blueprint.clone()).or_default() += 1;
                        if earlier == version {
                            self.report.unchanged += 1;
                        } else {
                            self.deferred.insert(key, (entity.blueprint, entity.json));
                        }
                        continue;
                    }
                    Some(_) if !merge => {
                        // An earlier resource of the lane replaced (or kept) Port's copy in
                        // this resync: the snapshot no longer tells what Port holds. Resources
                        // run in order, so this write lands last, as in Ocean.
                        self.push(entity.blueprint, key.identifier, entity.json, snapshot)
                            .await;
                        continue;
                    }
                    // Merged into what an earlier resource wrote: only the fields sent matter,
                    // and the snapshot answers for them.
                    _ => {}
                }
                if snapshot.unchanged(&key, &entity.fingerprint) {
                    self.report.unchanged += 1;
                    continue;
                }
                self.push(entity.blueprint, key.identifier, entity.json, snapshot)
                    .await;
            } else {
                // A search-query identifier resolves at Port: always written, never reconciled.
                self.push(
                    entity.blueprint,
                    SEARCH_QUERY.to_owned(),
                    entity.json,
                    snapshot,
                )
                .await;
            }
        }
        self.progress();
    }

    async fn push(
        &mut self,
        blueprint: String,
        identifier: String,
        json: Box<RawValue>,
        snapshot: &Snapshot,
    ) {
        if self.resync.settings.dry_run {
            let key = EntityKey {
                blueprint,
                identifier,
            };
            let planned = self
                .report
                .planned
                .entry(key.blueprint.clone())
                .or_default();
            if key.identifier != SEARCH_QUERY && !snapshot.fields_read(&key) {
                planned.create.insert(key.identifier);
            } else {
                planned.update.insert(key.identifier);
            }
            return;
        }
        let limits = self.resync.settings.batch;
        let bytes = json.get().len();
        let batcher = self
            .batchers
            .entry(blueprint.clone())
            .or_insert_with(|| Batcher::new(limits));
        if let Some(batch) = batcher.push((identifier, json), bytes) {
            self.send(blueprint, batch).await;
        }
    }

    async fn send(&mut self, blueprint: String, batch: Vec<(String, Box<RawValue>)>) {
        if self.inflight.len() >= self.resync.settings.upsert_concurrency.max(1) {
            let waiting = Instant::now();
            while self.inflight.len() >= self.resync.settings.upsert_concurrency.max(1) {
                self.settle_next().await;
            }
            self.report.time.port_wait += waiting.elapsed();
        }
        let port = self.resync.port.clone();
        let options = self.options;
        self.inflight.spawn(async move {
            let started = Instant::now();
            let (ids, bodies): (Vec<String>, Vec<Box<RawValue>>) = batch.into_iter().unzip();
            let result = port
                .entities()
                .bulk_upsert(&blueprint, &bodies, &options)
                .await;
            (blueprint, ids, result, started.elapsed())
        });
    }

    fn settle(&mut self, (blueprint, ids, result, elapsed): UpsertResult) {
        match result {
            Ok(outcome) => {
                self.report.upserted += outcome.upserted.len();
                telemetry::batch_upserted(
                    &blueprint,
                    outcome.upserted.len(),
                    outcome.failed.len(),
                    elapsed,
                );
                for failure in outcome.failed {
                    let identifier = ids
                        .get(failure.index)
                        .cloned()
                        .unwrap_or_else(|| failure.identifier.clone());
                    self.rejected(Rejection {
                        blueprint: blueprint.clone(),
                        identifier,
                        status: failure.status_code,
                        reason: format!("{}: {}", failure.error, failure.message),
                    });
                }
            }
            Err(error) => {
                // The whole request failed after retries: every entity in it is unwritten, and the
                // resource is failed so that its blueprint is not reconciled on incomplete data.
                self.report
                    .fail(format!("bulk upsert to `{blueprint}` failed: {error}"));
                for identifier in ids {
                    self.rejected(Rejection {
                        blueprint: blueprint.clone(),
                        identifier,
                        status: error.status().unwrap_or(0),
                        reason: error.to_string(),
                    });
                }
            }
        }
    }

    fn rejected(&mut self, rejection: Rejection) {
        telemetry::entity_rejected(&self.report.kind, &rejection);
        self.report.reject(rejection);
    }

    async fn finish(mut self, snapshot: &Snapshot) {
        let pending: Vec<(String, Batch)> = self
            .batchers
            .iter_mut()
            .filter_map(|(blueprint, batcher)| {
                batcher.flush().map(|batch| (blueprint.clone(), batch))
            })
            .collect();
        for (blueprint, batch) in pending {
            self.send(blueprint, batch).await;
        }
        self.settle_all().await;
        for (blueprint, count) in std::mem::take(&mut self.duplicates) {
            telemetry::duplicate_identifiers(
                &self.report.kind,
                self.report.index,
                &blueprint,
                count,
            );
        }
        let deferred = std::mem::take(&mut self.deferred);
        for (key, (blueprint, json)) in deferred {
            self.push(blueprint, key.identifier, json, snapshot).await;
        }
        let pending: Vec<(String, Batch)> = self
            .batchers
            .iter_mut()
            .filter_map(|(blueprint, batcher)| {
                batcher.flush().map(|batch| (blueprint.clone(), batch))
            })
            .collect();
        for (blueprint, batch) in pending {
            self.send(blueprint, batch).await;
        }
        self.settle_all().await;
    }

    async fn settle_all(&mut self) {
        let waiting = Instant::now();
        while !self.inflight.is_empty() {
            self.settle_next().await;
        }
        self.report.time.port_wait += waiting.elapsed();
    }

    /// Settles the next upsert to finish (none in flight: returns at once).
    async fn settle_next(&mut self) {
        match self.inflight.join_next().await {
            Some(Ok(done)) => self.settle(done),
            Some(Err(error)) => self.report.fail(format!(
                "a bulk upsert task ended without an answer: {error}"
            )),
            None => {}
        }
    }
}
