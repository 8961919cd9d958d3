//! The simulated organization, its mutations, request counters and injected faults.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use serde_json::{Value, json};

use crate::{config::SimConfig, model::Project, seed, wire::stamp};

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
    /// Pushes made (the last push id).
    pub(crate) pushes: u64,
    /// Entra ID: token requests, bearer tokens accepted so far, and revoked ones.
    pub(crate) token_requests: u64,
    pub(crate) seen_tokens: std::collections::HashSet<String>,
    pub(crate) revoked_tokens: std::collections::HashSet<String>,
}

/// Numbers given to added repositories and projects start here, clear of generated ones (the
/// first is neither a disabled nor an empty repository in the seed's scheme).
const ADDED_BASE: usize = 0x901;

/// The organization and the simulator's bookkeeping.
#[derive(Debug)]
pub struct AdoState {
    pub(crate) config: SimConfig,
    pub(crate) base: String,
    inner: Mutex<Inner>,
    /// Itself, for deliveries that outlive the call that caused them.
    pub(crate) this: std::sync::Weak<AdoState>,
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
        Arc::new_cyclic(|this| Self {
            config,
            base,
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

    /// Adds a project (with the generated content of one at the configured sizes) and returns
    /// its id.
    pub fn add_project(&self) -> String {
        let mut inner = self.lock();
        let number = ADDED_BASE + inner.added;
        inner.added += 1;
        let project = seed::project(&self.base, number, &self.config.sizes);
        let id = project.project["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        inner.projects.push(project);
        id
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

    /// Adds a repository named `name` to project `project` (with a README, policies and pull
    /// requests like a generated one) and returns its id.
    pub fn add_repository(&self, project: usize, name: &str) -> Option<String> {
        let mut inner = self.lock();
        let number = ADDED_BASE + inner.added;
        inner.added += 1;
        let sizes = self.config.sizes;
        let p = inner.projects.get_mut(project)?;
        let reference = crate::model::reference(&p.project);
        seed::repository(
            &self.base,
            project,
            number,
            &reference,
            sizes.pull_requests,
            p,
        );
        let repo = p.repositories.last_mut()?;
        repo["name"] = json!(name);
        let repo = repo.clone();
        drop(inner);
        self.repository_created(&repo);
        repo["id"].as_str().map(str::to_owned)
    }

    /// Closes a pull request now, as `completed` or `abandoned` (`git.pullrequest.updated`).
    pub fn close_pull_request(&self, id: u64, status: &str) -> bool {
        let mut inner = self.lock();
        let found = inner
            .projects
            .iter_mut()
            .flat_map(|p| p.pull_requests.iter_mut())
            .find(|pr| pr["pullRequestId"] == id);
        let Some(pr) = found else {
            return false;
        };
        pr["status"] = json!(status);
        pr["closedDate"] = json!(jiff::Timestamp::now().to_string());
        let pr = pr.clone();
        drop(inner);
        self.pull_request_updated(&pr);
        true
    }

    /// Adds a release created now to project `project` and returns its id
    /// (`ms.vss-release.release-created-event`).
    pub fn add_release(&self, project: usize) -> Option<u64> {
        let mut inner = self.lock();
        let p = inner.projects.get_mut(project)?;
        let mut release = seed::release(
            &self.base,
            project,
            p.releases.len(),
            p.project["id"].as_str().unwrap_or_default(),
            p.project["name"].as_str().unwrap_or_default(),
        );
        let now = stamp(jiff::Timestamp::now());
        release["createdOn"] = json!(now);
        release["modifiedOn"] = json!(now);
        let id = release["id"].as_u64();
        let project_id = p.project["id"].clone();
        p.releases.push(release.clone());
        drop(inner);
        self.release_created(&project_id, &release);
        id
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
    #[expect(
        clippy::needless_pass_by_value,
        reason = "callers build the value inline"
    )]
    pub fn update_work_item(&self, id: u64, field: &str, value: Value) -> bool {
        let mut inner = self.lock();
        let found = inner.projects.iter_mut().find_map(|p| {
            let project = p.project["id"].clone();
            p.work_items
                .iter_mut()
                .find(|w| w["id"] == id)
                .map(|item| (project, item))
        });
        let Some((project, item)) = found else {
            return false;
        };
        let old = item["fields"][field].clone();
        item["fields"][field] = value.clone();
        item["fields"]["System.ChangedDate"] = json!(stamp(jiff::Timestamp::now()));
        item["rev"] = json!(item["rev"].as_u64().unwrap_or(1) + 1);
        let item = item.clone();
        drop(inner);
        self.work_item_updated(&project, &item, field, &old, &value);
        true
    }

    /// Deletes a work item.
    pub fn delete_work_item(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let mut removed = None;
        for p in &mut inner.projects {
            if let Some(i) = p.work_items.iter().position(|w| w["id"] == id) {
                removed = Some((p.project["id"].clone(), p.work_items.remove(i)));
                break;
            }
        }
        drop(inner);
        let Some((project, item)) = removed else {
            return false;
        };
        self.work_item_deleted(&project, &item);
        true
    }
}
