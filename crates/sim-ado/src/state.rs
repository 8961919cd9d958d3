//! The simulated organization, its mutations, request counters and injected faults.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use serde_json::{Value, json};

use crate::{
    SimConfig,
    seed::{self, Project},
};

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) projects: Vec<Project>,
    pub(crate) requests: BTreeMap<String, u64>,
    /// (route substring, status, retry-after, remaining)
    pub(crate) scripted: Vec<(String, u16, Option<u64>, u32)>,
    pub(crate) latency: Duration,
}

/// The organization and the simulator's bookkeeping.
#[derive(Debug)]
pub struct AdoState {
    pub(crate) config: SimConfig,
    pub(crate) base: String,
    inner: Mutex<Inner>,
}

impl AdoState {
    /// Generates the organization for `config`, served under `origin` (`http://host:port`).
    #[must_use]
    pub fn new(config: SimConfig, origin: &str) -> Arc<Self> {
        let base = format!("{origin}/{}", config.organization);
        let projects = (0..config.sizes.projects)
            .map(|p| seed::project(&base, p, &config.sizes))
            .collect();
        let inner = Inner {
            projects,
            latency: config.latency,
            ..Inner::default()
        };
        Arc::new(Self {
            config,
            base,
            inner: Mutex::new(inner),
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
        self.lock()
            .scripted
            .push((route.to_owned(), status, retry_after, next_n));
    }

    /// Sets the per-response latency.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
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

    /// Changes a field of a work item (anywhere in the organization).
    pub fn update_work_item(&self, id: u64, field: &str, value: Value) -> bool {
        let mut inner = self.lock();
        let item = inner
            .projects
            .iter_mut()
            .flat_map(|p| p.work_items.iter_mut())
            .find(|w| w["id"] == id);
        let Some(item) = item else { return false };
        item["fields"][field] = value;
        item["rev"] = json!(item["rev"].as_u64().unwrap_or(1) + 1);
        true
    }

    /// Deletes a work item.
    pub fn delete_work_item(&self, id: u64) -> bool {
        let mut inner = self.lock();
        inner.projects.iter_mut().any(|p| {
            let before = p.work_items.len();
            p.work_items.retain(|w| w["id"] != id);
            before != p.work_items.len()
        })
    }
}
