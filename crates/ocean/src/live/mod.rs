//! Live events (ocean-framework.md §7.1), done so that nothing is lost and order holds:
//!
//! - The integration says how to authenticate a request, what an event is and which object it
//!   concerns ([`LiveEvents::classify`] returns an ordering key), and how to turn it into raw
//!   objects of kinds ([`LiveEvents::process`] → [`Changes`]).
//! - [`Queue`] holds accepted events in bounded shards chosen by the ordering key, so events for
//!   one object apply in arrival order while different objects proceed in parallel. A full shard
//!   refuses the event (the HTTP layer answers 503 and Azure DevOps delivers it again).
//! - Workers map the changes with the live mapping (re-read at most every
//!   [`MAPPING_TTL`]) and write them to Port: upserts as in a resync, and deletions only of
//!   entities Port lists under this integration's datasource.
//! - On shutdown the queue is closed and the workers drain it before they stop.

use std::{
    collections::{BTreeMap, BTreeSet},
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::{StreamExt, future::BoxFuture, stream::BoxStream};
use mapping::{Entity, MappingPlan, PortAppConfig};
use metrics::{counter, gauge, histogram};
use port_client::{Client, Installation, UpsertOptions};
use serde_json::{Value, json};
use tokio::{
    sync::{Mutex, Notify, mpsc},
    task::JoinSet,
    time::Instant,
};
use tracing::{debug, info, warn};

mod declared;
mod error;
mod queue;
mod retry;

pub use declared::Declared;
pub use error::{Error, WriteError};
pub use queue::{Queue, Refused};

use self::queue::Job;

use crate::Report;

/// How long a loaded mapping is used before it is read again from Port.
pub const MAPPING_TTL: Duration = Duration::from_secs(10);
pub use retry::ATTEMPTS;

/// What an integration tells the framework about an incoming request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// Process it; events with the same key apply in order.
    Accept {
        /// The object the event concerns (e.g. `workitem:42`).
        key: String,
        /// For logs and metrics.
        event_type: String,
    },
    /// A well-formed event this integration does not handle: answered 200 and counted.
    Ignore {
        /// For logs and metrics.
        event_type: String,
    },
    /// Not a valid event: answered 400 with this reason.
    Invalid(String),
}

/// Raw objects an event produced, by kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Objects to map and upsert.
    pub updated: Vec<(String, Vec<Value>)>,
    /// Objects whose entities are to be deleted (when this integration owns them).
    pub deleted: Vec<(String, Vec<Value>)>,
    /// Entities a gitops spec file declares (`declared.rs`).
    pub declared: declared::Declared,
}

/// The integration's side of live events.
pub trait LiveEvents: Send + Sync + 'static {
    /// Whether a request with this `Authorization` header may be processed.
    fn authenticate(&self, authorization: Option<&str>) -> bool;
    /// Checks the payload's shape.
    fn classify(&self, payload: &Value) -> Classified;
    /// Why an event could not be processed (typed per integration).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Turns an accepted event into raw objects for the kinds (and selectors) of the live
    /// mapping `config`.
    fn process(
        &self,
        payload: Value,
        config: Arc<PortAppConfig>,
    ) -> impl Future<Output = Result<Changes, Self::Error>> + Send;
    /// Whether the resource with `selector` selects `item` of `kind` for an upsert, for kinds
    /// whose items a resync reads per resource (paths, criteria): a live item made for one
    /// resource must not be mapped by another resource of its kind that would never have read
    /// it. Every item by default (the selector's `query` still applies). Deletions are mapped
    /// by every resource of the kind.
    fn selects(&self, kind: &str, selector: &mapping::SelectorConfig, item: &Value) -> bool {
        let _ = (kind, selector, item);
        true
    }
    /// The Port action run this event finishes, if it says that a run an action started
    /// completed (Ocean's ACTION webhook processors: they apply whatever the mapping, and
    /// whether or not this process executes actions, since another replica may). None by
    /// default.
    fn action_completion(&self, payload: &Value) -> Option<crate::actions::Completion> {
        let _ = payload;
        None
    }
    /// Keeps the third party's delivery of events set up (Azure DevOps: the service-hook
    /// subscriptions). [`crate::service::Service`] runs it at start and then every
    /// [`crate::service::ServiceSettings::upkeep_every`]; it logs its own failures. Nothing by
    /// default.
    fn upkeep(&self) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }
    /// Catch-up: objects of the live mapping's kinds changed at or after `since`, a page at a
    /// time, for the kinds that can be asked that way. None by default.
    fn changed_since(
        &self,
        since: jiff::Timestamp,
        config: Arc<PortAppConfig>,
    ) -> BoxStream<'static, Result<Changes, Self::Error>> {
        let _ = (since, config);
        futures::stream::empty().boxed()
    }
}

/// Loads the current mapping (the runner's, from Port or a local file).
pub type MappingLoader =
    Arc<dyn Fn() -> BoxFuture<'static, Result<LiveMapping, crate::Error>> + Send + Sync>;

/// Live processing for one integration.
pub struct Live<L> {
    events: Arc<L>,
    port: Client,
    installation: Installation,
    load_mapping: MappingLoader,
    mapping: Mutex<Option<(Instant, LiveMapping)>>,
    /// The gitops writes' client (`…/gitops` User-Agent), made on first use.
    gitops: std::sync::OnceLock<Client>,
    /// How long one attempt at an event may take (`OCEAN__MAX_EVENT_PROCESSING_SECONDS`).
    max_processing: Duration,
}

/// Mapped live changes: entities to upsert and identifiers to delete, by blueprint.
type Mapped = (
    BTreeMap<String, Vec<Entity>>,
    BTreeMap<String, BTreeSet<String>>,
);

/// A loaded mapping: the port-app-config and its compiled plan.
pub type LiveMapping = (Arc<PortAppConfig>, Arc<MappingPlan>);

impl<L: LiveEvents> Live<L> {
    /// Live processing writing to `port` as `installation`, with mappings from `load_mapping`;
    /// an attempt at an event that takes longer than `max_processing` fails (and is retried).
    pub fn new(
        events: Arc<L>,
        port: Client,
        installation: Installation,
        load_mapping: MappingLoader,
        max_processing: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            events,
            port,
            installation,
            load_mapping,
            mapping: Mutex::new(None),
            gitops: std::sync::OnceLock::new(),
            max_processing,
        })
    }

    /// The integration's event logic.
    #[must_use]
    pub fn events(&self) -> &Arc<L> {
        &self.events
    }

    /// Starts `shards` workers, each with a queue of `capacity` events. The returned set ends
    /// when the queue was closed and drained.
    pub fn start(self: &Arc<Self>, shards: usize, capacity: usize) -> (Queue, JoinSet<()>) {
        let mut senders = Vec::with_capacity(shards.max(1));
        let mut workers = JoinSet::new();
        let depth = Arc::new(AtomicUsize::new(0));
        let idle = Arc::new(Notify::new());
        for _ in 0..shards.max(1) {
            let (tx, mut rx) = mpsc::channel::<Job>(capacity.max(1));
            senders.push(tx);
            let (live, depth, idle) = (Arc::clone(self), Arc::clone(&depth), Arc::clone(&idle));
            workers.spawn(async move {
                while let Some(job) = rx.recv().await {
                    live.handle(job).await;
                    let left = depth.fetch_sub(1, Ordering::AcqRel).saturating_sub(1);
                    #[expect(clippy::cast_precision_loss, reason = "a gauge")]
                    gauge!("ocean_live_queue_depth").set(left as f64);
                    if left == 0 {
                        idle.notify_waiters();
                    }
                }
            });
        }
        let queue = Queue {
            shards: Arc::new(std::sync::Mutex::new(Some(senders))),
            depth,
            idle,
        };
        (queue, workers)
    }

    async fn current_mapping(&self) -> Result<LiveMapping, Error<L::Error>> {
        let mut cached = self.mapping.lock().await;
        if let Some((at, mapping)) = cached.as_ref()
            && at.elapsed() < MAPPING_TTL
        {
            return Ok(mapping.clone());
        }
        let mapping = (self.load_mapping)().await.map_err(Error::Mapping)?;
        *cached = Some((Instant::now(), mapping.clone()));
        Ok(mapping)
    }

    async fn handle(&self, job: Job) {
        let Job {
            payload,
            event_type,
            received,
        } = job;
        let (outcome, attempts) = retry::with_retries(
            || async {
                tokio::time::timeout(self.max_processing, self.handle_once(payload.clone()))
                    .await
                    .unwrap_or(Err(Error::TimedOut(self.max_processing)))
            },
            |attempt, error, wait| {
                let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                warn!(event_type, attempt, error = %Report(error), wait_ms, "Live event failed; retrying.");
            },
        )
        .await;
        histogram!("ocean_live_event_seconds").record(received.elapsed().as_secs_f64());
        match outcome {
            Ok(applied) => {
                counter!("ocean_webhook_events_total", "event_type" => event_type.clone(), "outcome" => "applied").increment(1);
                info!(
                    event_type,
                    upserted = applied.upserted,
                    deleted = applied.deleted,
                    rejected = applied.rejected,
                    ms = u64::try_from(received.elapsed().as_millis()).unwrap_or(u64::MAX),
                    "Applied a live event."
                );
            }
            Err(error) => {
                counter!("ocean_webhook_events_total", "event_type" => event_type.clone(), "outcome" => "failed").increment(1);
                tracing::error!(event_type, error = %Report(&error), attempts, "A live event could not be applied; the next resync will catch up.");
            }
        }
    }

    async fn handle_once(&self, payload: Value) -> Result<Applied, Error<L::Error>> {
        if let Some(completion) = self.events.action_completion(&payload) {
            crate::actions::report_completion(&self.port, &completion)
                .await
                .map_err(|source| Error::ActionRun(Box::new(source)))?;
        }
        let (config, plan) = self.current_mapping().await?;
        let changes = self
            .events
            .process(payload, Arc::clone(&config))
            .await
            .map_err(Error::Integration)?;
        self.apply(&changes, &config, &plan).await
    }

    /// Catch-up (recovers events that never arrived): maps and writes what
    /// [`LiveEvents::changed_since`] yields, as live events are written. Stops at the first
    /// error; what was written until then stays.
    pub async fn catch_up(&self, since: jiff::Timestamp) -> Result<Applied, Error<L::Error>> {
        let (config, plan) = self.current_mapping().await?;
        let mut pages = self.events.changed_since(since, Arc::clone(&config));
        let mut total = Applied::default();
        while let Some(changes) = pages.next().await {
            let changes = changes.map_err(Error::Integration)?;
            let applied = self.apply(&changes, &config, &plan).await?;
            total.upserted += applied.upserted;
            total.rejected += applied.rejected;
            total.deleted += applied.deleted;
        }
        counter!("ocean_catch_up_entities_total", "outcome" => "upserted")
            .increment(total.upserted as u64);
        counter!("ocean_catch_up_entities_total", "outcome" => "rejected")
            .increment(total.rejected as u64);
        Ok(total)
    }

    /// Entities to upsert and identifiers to delete, by blueprint: `changes` mapped with every
    /// resource of their kind that selects them.
    fn mapped(&self, changes: &Changes, plan: &MappingPlan) -> Result<Mapped, Error<L::Error>> {
        let mut upserts: BTreeMap<String, Vec<Entity>> = BTreeMap::new();
        let mut deletes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for resource in plan.resources() {
            for (kind, items) in &changes.updated {
                if kind != resource.kind() {
                    continue;
                }
                for item in items {
                    if !self.events.selects(kind, resource.selector(), item) {
                        continue;
                    }
                    let outcome = resource.map_item(item).map_err(Error::Map)?;
                    if outcome.filtered_out > 0 {
                        // It no longer passes `selector.query`: its entity leaves Port, if Port
                        // holds it for us (Ocean's live events do the same).
                        let all = resource.map_item_unfiltered(item).map_err(Error::Map)?;
                        for entity in all.passed {
                            let kept = outcome.passed.iter().any(|p| {
                                p.blueprint == entity.blueprint && p.identifier == entity.identifier
                            });
                            if let (false, Some(id)) = (kept, entity.identifier.as_str()) {
                                deletes
                                    .entry(entity.blueprint)
                                    .or_default()
                                    .insert(id.to_owned());
                            }
                        }
                    }
                    for entity in outcome.passed {
                        upserts
                            .entry(entity.blueprint.clone())
                            .or_default()
                            .push(entity);
                    }
                }
            }
            for (kind, items) in &changes.deleted {
                if kind != resource.kind() {
                    continue;
                }
                // Deletions go to every resource of the kind: an object that left one
                // resource's selection is to leave that resource's blueprint.
                for item in items {
                    let outcome = resource.map_item_unfiltered(item).map_err(Error::Map)?;
                    for entity in outcome.passed {
                        if let Some(id) = entity.identifier.as_str() {
                            deletes
                                .entry(entity.blueprint)
                                .or_default()
                                .insert(id.to_owned());
                        }
                    }
                }
            }
        }
        Ok((upserts, deletes))
    }

    /// Maps `changes` with every resource of their kind that selects them and writes them to
    /// Port.
    pub async fn apply(
        &self,
        changes: &Changes,
        config: &PortAppConfig,
        plan: &MappingPlan,
    ) -> Result<Applied, Error<L::Error>> {
        let (upserts, mut deletes) = self.mapped(changes, plan)?;
        let mut applied = Applied::default();
        let options = UpsertOptions {
            merge: config.enable_merge_entity,
            create_missing_related_entities: config.create_missing_related_entities,
        };
        for (blueprint, entities) in &upserts {
            let raw = entities
                .iter()
                .map(serde_json::value::to_raw_value)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|source| WriteError::Serialize {
                    blueprint: blueprint.clone(),
                    source,
                })?;
            let report = self
                .port
                .entities()
                .bulk_upsert(blueprint, &raw, &options)
                .await
                .map_err(|source| WriteError::Port {
                    action: "upsert",
                    blueprint: blueprint.clone(),
                    source: Box::new(source),
                })?;
            applied.upserted += report.upserted.len();
            applied.rejected += report.failed.len();
            for rejected in &report.failed {
                warn!(blueprint, identifier = %rejected.identifier, reason = %rejected.message, "Port rejected a live entity.");
            }
        }
        for (blueprint, ids) in &mut deletes {
            // An object both updated and deleted by one event keeps its entity.
            for entity in upserts.get(blueprint).into_iter().flatten() {
                if let Some(id) = entity.identifier.as_str() {
                    ids.remove(id);
                }
            }
            let datasource = (
                self.installation.datasource_prefix(),
                self.installation.datasource_suffix(),
            );
            applied.deleted += delete_owned(
                &self.port,
                (&datasource.0, &datasource.1),
                blueprint,
                ids,
                config.delete_dependent_entities,
            )
            .await?;
        }
        if !changes.declared.is_empty() {
            let gitops = self.gitops()?;
            let written = changes
                .declared
                .apply(
                    gitops,
                    &self.installation,
                    &options,
                    config.delete_dependent_entities,
                )
                .await?;
            applied.upserted += written.upserted;
            applied.rejected += written.rejected;
            applied.deleted += written.deleted;
        }
        Ok(applied)
    }

    /// The Port client of this installation's gitops writes (its own User-Agent), made once.
    fn gitops(&self) -> Result<&Client, WriteError> {
        if let Some(client) = self.gitops.get() {
            return Ok(client);
        }
        let client = self
            .port
            .with_user_agent_header(&self.installation.gitops_header(), Duration::from_mins(1))
            .map_err(|e| WriteError::GitopsClient(Box::new(e)))?;
        Ok(self.gitops.get_or_init(|| client))
    }
}

/// Deletes those of `ids` that Port lists under the datasource `(prefix, suffix)`: this
/// installation's exporter, or its gitops writes.
pub(crate) async fn delete_owned(
    port: &Client,
    datasource: (&str, &str),
    blueprint: &str,
    ids: &BTreeSet<String>,
    delete_dependents: bool,
) -> Result<usize, WriteError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let (prefix, suffix) = datasource;
    let query = json!({"combinator": "and", "rules": [
        {"property": "$blueprint", "operator": "=", "value": blueprint},
        {"property": "$identifier", "operator": "in", "value": ids},
        {"property": "$datasource", "operator": "contains", "value": suffix},
        {"property": "$datasource", "operator": "contains", "value": prefix},
    ]});
    let owned: Vec<String> = port
        .entities()
        .search(&query, &["identifier"])
        .await
        .map_err(|source| WriteError::Port {
            action: "search",
            blueprint: blueprint.to_owned(),
            source: Box::new(source),
        })?
        .iter()
        .filter_map(|e| e["identifier"].as_str().map(str::to_owned))
        .collect();
    if owned.len() < ids.len() {
        debug!(
            blueprint,
            skipped = ids.len() - owned.len(),
            "Not deleting entities this integration does not own."
        );
    }
    if owned.is_empty() {
        return Ok(0);
    }
    let deleted = port
        .entities()
        .bulk_delete(blueprint, &owned, delete_dependents)
        .await
        .map_err(|source| WriteError::Port {
            action: "delete",
            blueprint: blueprint.to_owned(),
            source: Box::new(source),
        })?;
    Ok(deleted.len())
}

/// What applying one event wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Entities upserted.
    pub upserted: usize,
    /// Entities Port refused.
    pub rejected: usize,
    /// Entities deleted.
    pub deleted: usize,
}
