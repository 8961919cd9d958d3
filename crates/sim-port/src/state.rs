//! The simulator's in-memory state: tokens, blueprints, entities with their datasource,
//! integration records, request counters and scripted faults.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, MutexGuard},
};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::SimConfig;

/// Requests received, per route template (`"POST /v1/blueprints/{bp}/entities/bulk"`), and
/// entity write counters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Requests per `METHOD /route/template`.
    pub requests: BTreeMap<String, u64>,
    /// Entities created or updated.
    pub entities_upserted: u64,
    /// Entities deleted.
    pub entities_deleted: u64,
}

impl Stats {
    /// Requests received on one route (`"POST /v1/entities/search"`).
    #[must_use]
    pub fn requests_to(&self, route: &str) -> u64 {
        self.requests.get(route).copied().unwrap_or(0)
    }
}

/// An entity as stored: its JSON (Port's shape) and the datasource that last wrote it.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) entity: Value,
    pub(crate) datasource: Option<String>,
}

/// A scripted answer: the next `remaining` requests whose route contains `route` get `status`
/// (with `body` when set, else Port's error envelope).
#[derive(Debug, Clone)]
pub(crate) struct Scripted {
    pub(crate) route: String,
    pub(crate) status: u16,
    pub(crate) body: Option<Value>,
    pub(crate) retry_after: Option<u64>,
    pub(crate) remaining: u32,
}

/// Entity writes kept for a slow observer of [`SimState::watch_writes`].
const WRITES_BUFFERED: usize = 65_536;

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) tokens: HashMap<String, Instant>,
    pub(crate) token_seq: u64,
    pub(crate) blueprints: BTreeMap<String, Value>,
    pub(crate) entities: BTreeMap<(String, String), Stored>,
    pub(crate) integrations: BTreeMap<String, Value>,
    /// Scorecards by (blueprint, identifier).
    pub(crate) scorecards: BTreeMap<(String, String), Value>,
    /// Pages by identifier.
    pub(crate) pages: BTreeMap<String, Value>,
    /// The last raw-data examples posted per (integration, kind).
    pub(crate) examples: BTreeMap<(String, String), Vec<Value>>,
    /// Incremental-sync cursors by (integration, kind, index).
    pub(crate) cursors: BTreeMap<(String, String, usize), String>,
    /// Action runs by id.
    pub(crate) action_runs: BTreeMap<String, crate::actions::StoredRun>,
    /// Lookups of action runs by external id, per external id.
    pub(crate) run_lookups: BTreeMap<String, u32>,
    /// What the ingest routes received, per integration.
    pub(crate) ingest: BTreeMap<String, crate::ingest::Received>,
    /// This simulator's own URL, for the ingest URLs of integration records (set when served).
    pub(crate) base: Option<String>,
    pub(crate) stats: Stats,
    pub(crate) scripted: Vec<Scripted>,
    pub(crate) faults: crate::Faults,
    pub(crate) rng: Option<fastrand::Rng>,
}

/// The shared state behind every route.
#[derive(Debug)]
pub struct SimState {
    pub(crate) config: SimConfig,
    inner: Mutex<Inner>,
    /// (blueprint, identifier) of every entity written, for observers (`watch_writes`).
    writes: tokio::sync::broadcast::Sender<(String, String)>,
}

impl SimState {
    /// A fresh simulator state.
    #[must_use]
    pub fn new(config: SimConfig) -> Arc<Self> {
        let inner = Inner {
            faults: config.faults.clone(),
            rng: Some(fastrand::Rng::with_seed(config.faults.seed)),
            ..Inner::default()
        };
        Arc::new(Self {
            config,
            inner: Mutex::new(inner),
            writes: tokio::sync::broadcast::channel(WRITES_BUFFERED).0,
        })
    }

    /// Every entity write from now on, as (blueprint, identifier), in the order applied (the
    /// event-latency benchmark times them). An observer more than `WRITES_BUFFERED` writes
    /// behind is told how many it missed.
    #[must_use]
    pub fn watch_writes(&self) -> tokio::sync::broadcast::Receiver<(String, String)> {
        self.writes.subscribe()
    }

    pub(crate) fn wrote(&self, blueprint: &str, identifier: &str) {
        if self.writes.receiver_count() > 0 {
            let _ = self
                .writes
                .send((blueprint.to_owned(), identifier.to_owned()));
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way tests rely
        // on, so a poisoned lock is simply taken over.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every scorecard, as (blueprint, scorecard).
    #[must_use]
    pub fn scorecards(&self) -> Vec<(String, Value)> {
        self.lock()
            .scorecards
            .iter()
            .map(|((bp, _), s)| (bp.clone(), s.clone()))
            .collect()
    }

    /// Every page.
    #[must_use]
    pub fn pages(&self) -> Vec<Value> {
        self.lock().pages.values().cloned().collect()
    }

    /// Every entity, in Port's shape (with `createdAt` and `updatedAt`).
    #[must_use]
    pub fn entities(&self) -> Vec<Value> {
        self.lock()
            .entities
            .values()
            .map(|s| s.entity.clone())
            .collect()
    }

    /// One entity, if present.
    #[must_use]
    pub fn entity(&self, blueprint: &str, identifier: &str) -> Option<Value> {
        self.lock()
            .entities
            .get(&(blueprint.to_owned(), identifier.to_owned()))
            .map(|s| s.entity.clone())
    }

    /// The datasource (User-Agent) that last wrote an entity.
    #[must_use]
    pub fn datasource_of(&self, blueprint: &str, identifier: &str) -> Option<String> {
        self.lock()
            .entities
            .get(&(blueprint.to_owned(), identifier.to_owned()))
            .and_then(|s| s.datasource.clone())
    }

    /// The last raw-data examples an integration posted for `kind`.
    #[must_use]
    pub fn examples(&self, integration: &str, kind: &str) -> Option<Vec<Value>> {
        self.lock()
            .examples
            .get(&(integration.to_owned(), kind.to_owned()))
            .cloned()
    }

    /// Request counters.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    /// Zeroes the request counters.
    pub fn reset_stats(&self) {
        self.lock().stats = Stats::default();
    }

    /// The next `next_n` API requests (not token requests) answer 429 with `Retry-After`.
    pub fn inject_429(&self, next_n: u32, retry_after_secs: u64) {
        self.lock().scripted.push(Scripted {
            route: String::new(),
            status: 429,
            body: None,
            retry_after: Some(retry_after_secs),
            remaining: next_n,
        });
    }

    /// The next `next_n` requests whose route template contains `route_contains` answer `status`.
    pub fn inject_status(&self, route_contains: &str, status: u16, next_n: u32) {
        self.lock().scripted.push(Scripted {
            route: route_contains.to_owned(),
            status,
            body: None,
            retry_after: None,
            remaining: next_n,
        });
    }

    /// The next `next_n` requests whose route template contains `route_contains` answer 200
    /// with `body` (a malformed answer, for tests of what the client makes of it).
    pub fn inject_body(&self, route_contains: &str, body: Value, next_n: u32) {
        self.lock().scripted.push(Scripted {
            route: route_contains.to_owned(),
            status: 200,
            body: Some(body),
            retry_after: None,
            remaining: next_n,
        });
    }

    /// Every issued token becomes invalid (the next API call gets 401).
    pub fn expire_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// Creates or replaces a blueprint directly.
    pub fn put_blueprint(&self, blueprint: Value) {
        if let Some(id) = blueprint.get("identifier").and_then(Value::as_str) {
            let id = id.to_owned();
            self.lock().blueprints.insert(id, blueprint);
        }
    }

    /// Stores an entity directly, as if written by `datasource`.
    pub fn put_entity(&self, mut entity: Value, datasource: &str) {
        let (Some(bp), Some(id)) = (
            entity
                .get("blueprint")
                .and_then(Value::as_str)
                .map(str::to_owned),
            entity
                .get("identifier")
                .and_then(Value::as_str)
                .map(str::to_owned),
        ) else {
            return;
        };
        let now = jiff::Timestamp::now().to_string();
        entity["createdAt"] = json!(now);
        entity["updatedAt"] = json!(now);
        self.lock().entities.insert(
            (bp, id),
            Stored {
                entity,
                datasource: Some(datasource.to_owned()),
            },
        );
    }

    /// Records a resync request for integration `id`, as the "Resync" button in Port's UI does
    /// (`GET /v1/integration/{id}/resync-request` then reports it).
    pub fn request_resync(&self, id: &str) {
        if let Some(integration) = self.lock().integrations.get_mut(id) {
            integration["resyncRequest"] = json!({"updatedAt": jiff::Timestamp::now().to_string()});
        }
    }

    /// An integration record, if present.
    #[must_use]
    pub fn integration(&self, id: &str) -> Option<Value> {
        self.lock().integrations.get(id).cloned()
    }

    /// Everything: blueprints, entities (with datasource), integrations.
    #[must_use]
    pub fn dump(&self) -> Value {
        let inner = self.lock();
        let entities: Vec<Value> = inner
            .entities
            .values()
            .map(|s| {
                let mut e = s.entity.clone();
                e["datasource"] = json!(s.datasource);
                e
            })
            .collect();
        json!({
            "blueprints": inner.blueprints.values().collect::<Vec<_>>(),
            "entities": entities,
            "integrations": inner.integrations.values().collect::<Vec<_>>(),
        })
    }
}
