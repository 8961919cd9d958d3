//! The simulated organization, its plain mutations, request counters and injected faults. Below
//! the areas, which add their own handlers, mutations and events to [`AdoState`] in `impl`
//! blocks of their own; it imports only `config` and `model`. The organization is generated,
//! and [`AdoState::new`] defined, in `seed.rs`, above the areas.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use serde_json::{Value, json};

use crate::{
    config::SimConfig,
    model::{Clock, Project},
};

/// An answer scripted for the next requests whose route contains `route`.
#[derive(Debug)]
pub(crate) struct Scripted {
    pub(crate) route: String,
    pub(crate) status: u16,
    pub(crate) retry_after: Option<u64>,
    /// Sent as is instead of an error body (a malformed answer).
    pub(crate) body: Option<Value>,
    pub(crate) remaining: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) projects: Vec<Project>,
    pub(crate) requests: BTreeMap<String, u64>,
    pub(crate) scripted: Vec<Scripted>,
    pub(crate) latency: Duration,
    /// A pause in the middle of every response body (`set_body_pause`).
    pub(crate) body_pause: Duration,
    /// Requests being answered now (from arrival until their body is sent) and the most at once.
    pub(crate) in_flight: (u32, u32),
    /// Repositories and projects added through mutations (their numbers in the seed scheme).
    pub(crate) added: usize,
    /// Throttling: the current one-second window (Unix seconds) and requests counted in it.
    pub(crate) window: (u64, u32),
    /// Requests answered 429 by the throttle (not scripted faults).
    pub(crate) throttled: u64,
    /// Service-hook subscriptions, as created (passwords kept; masked when listed).
    pub(crate) subscriptions: Vec<Value>,
    /// Events delivered (2xx) and delivery attempts that failed.
    pub(crate) delivered: u64,
    pub(crate) delivery_failures: u64,
    pub(crate) notifications: u64,
    /// Runs started through the Run Pipeline API.
    pub(crate) started_runs: Vec<crate::model::StartedRun>,
    /// Pushes made (the last push id).
    pub(crate) pushes: u64,
    /// Entra ID: token requests, bearer tokens accepted so far, and revoked ones.
    pub(crate) token_requests: u64,
    pub(crate) seen_tokens: std::collections::HashSet<String>,
    pub(crate) revoked_tokens: std::collections::HashSet<String>,
}

/// The organization and the simulator's bookkeeping.
#[derive(Debug)]
pub struct AdoState {
    pub(crate) config: SimConfig,
    pub(crate) base: String,
    /// "Now" for everything after the seed (real time, or `config.epoch` ticking).
    pub(crate) clock: Clock,
    inner: Mutex<Inner>,
    /// Itself, for deliveries that outlive the call that caused them.
    pub(crate) this: std::sync::Weak<AdoState>,
}

impl AdoState {
    /// The state of an organization already generated, served under `base`
    /// (`http://host:port/{organization}`). [`AdoState::new`] (in `seed.rs`) generates it.
    pub(crate) fn with_projects(
        config: SimConfig,
        base: String,
        projects: Vec<Project>,
    ) -> Arc<Self> {
        let inner = Inner {
            projects,
            latency: config.latency,
            ..Inner::default()
        };
        let clock = Clock::new(config.epoch);
        Arc::new_cyclic(|this| Self {
            config,
            base,
            clock,
            inner: Mutex::new(inner),
            this: this.clone(),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The organization name.
    #[must_use]
    pub fn organization(&self) -> &str {
        &self.config.organization
    }

    /// Requests per `METHOD /route/template`.
    #[must_use]
    pub fn requests(&self) -> BTreeMap<String, u64> {
        self.lock().requests.clone()
    }

    /// Total API requests served.
    #[must_use]
    pub fn total_requests(&self) -> u64 {
        self.lock().requests.values().sum()
    }

    /// Zeroes the request counters.
    pub fn reset_requests(&self) {
        self.lock().requests.clear();
    }

    /// The next `next_n` API requests whose route contains `route` answer `status` (with
    /// `Retry-After` when given).
    pub fn inject(&self, route: &str, status: u16, retry_after: Option<u64>, next_n: u32) {
        self.lock().scripted.push(Scripted {
            route: route.to_owned(),
            status,
            retry_after,
            body: None,
            remaining: next_n,
        });
    }

    /// The next `next_n` API requests whose route contains `route` answer 200 with `body`
    /// (an answer of the wrong shape, say).
    pub fn inject_body(&self, route: &str, body: Value, next_n: u32) {
        self.lock().scripted.push(Scripted {
            route: route.to_owned(),
            status: 200,
            retry_after: None,
            body: Some(body),
            remaining: next_n,
        });
    }

    /// Sets the per-response latency.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Sends every response body in two halves, `pause` apart: a request then stays in flight
    /// while its client reads the body.
    pub fn set_body_pause(&self, pause: Duration) {
        self.lock().body_pause = pause;
    }

    /// The most API requests answered at once so far, each counted until its body was sent.
    #[must_use]
    pub fn max_in_flight(&self) -> u32 {
        self.lock().in_flight.1
    }

    /// Every work item id of a project, for tests.
    #[must_use]
    pub fn work_item_ids(&self, project: usize) -> Vec<u64> {
        self.lock()
            .projects
            .get(project)
            .map_or_else(Vec::new, |p| {
                p.work_items
                    .iter()
                    .filter_map(|w| w["id"].as_u64())
                    .collect()
            })
    }

    /// Requests the throttle answered with 429 (not counting scripted faults).
    #[must_use]
    pub fn throttled(&self) -> u64 {
        self.lock().throttled
    }

    /// Deletes a project (by id or name) and everything in it.
    pub fn delete_project(&self, key: &str) -> bool {
        let mut inner = self.lock();
        let before = inner.projects.len();
        inner
            .projects
            .retain(|p| p.project["id"] != key && p.project["name"] != key);
        before != inner.projects.len()
    }

    /// Sets the tags of project number `project`; false if there is none.
    pub fn set_project_tags(&self, project: usize, tags: &[&str]) -> bool {
        let mut inner = self.lock();
        let Some(p) = inner.projects.get_mut(project) else {
            return false;
        };
        p.tags = tags.iter().map(|t| (*t).to_owned()).collect();
        true
    }

    /// Deletes a repository (by name) from project `project`.
    pub fn delete_repository(&self, project: usize, name: &str) -> bool {
        let mut inner = self.lock();
        let Some(p) = inner.projects.get_mut(project) else {
            return false;
        };
        let before = p.repositories.len();
        p.repositories.retain(|r| r["name"] != name);
        before != p.repositories.len()
    }

    /// Renames a repository of project `project`.
    pub fn rename_repository(&self, project: usize, from: &str, to: &str) -> bool {
        let mut inner = self.lock();
        let Some(repo) = inner
            .projects
            .get_mut(project)
            .and_then(|p| p.repositories.iter_mut().find(|r| r["name"] == from))
        else {
            return false;
        };
        repo["name"] = json!(to);
        true
    }
}
