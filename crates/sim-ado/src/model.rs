//! The organization's data and the pieces more than one area builds it from: [`Project`] (one
//! project and everything in it) and its lookup by id or name, deterministic ids and times for
//! generation, and the wire shapes several areas embed (project reference, `GitRef`, the
//! resource of a `git.push`). Below the areas and the seed, which import it; it imports only
//! `wire`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use crate::wire::stamp;

/// One project and everything in it.
#[derive(Debug, Clone)]
#[expect(
    clippy::struct_field_names,
    reason = "`project` is the API's own name for the object"
)]
pub struct Project {
    /// The project object (`GET _apis/projects/{id}` shape, with `defaultTeam`).
    pub project: Value,
    /// Repositories.
    pub repositories: Vec<Value>,
    /// Files by (repository id, path).
    pub files: Vec<(String, String, String)>,
    /// Branch policy configurations (each with `settings.scope[].repositoryId`).
    pub policies: Vec<Value>,
    /// Teams.
    pub teams: Vec<Value>,
    /// Boards by team id: (team id, board detail).
    pub boards: Vec<(String, Value)>,
    /// Work items (`GET _apis/wit/workitems` shape, `$expand=all`).
    pub work_items: Vec<Value>,
    /// Deleted work items (the recycle bin), which `restore_work_item` brings back.
    pub recycled_work_items: Vec<Value>,
    /// Releases.
    pub releases: Vec<Value>,
    /// Pull requests of all repositories (`GET _apis/git/pullrequests` shape).
    pub pull_requests: Vec<Value>,
    /// Advanced Security alerts of the project's repositories (each with `repositoryId`).
    pub alerts: Vec<Value>,
    /// Test runs of the builds.
    pub test_runs: Vec<Value>,
    /// Release definitions (with `environments`).
    pub release_definitions: Vec<Value>,
    /// Deployments of releases to the definitions' environments.
    pub deployments: Vec<Value>,
    /// Pipelines (`GET _apis/pipelines/{id}` shape, with `configuration`).
    pub pipelines: Vec<Value>,
    /// Builds of every pipeline, which are also its runs (`GET _apis/build/builds` shape).
    pub builds: Vec<Value>,
    /// Git refs: (repository id, `GitRef` as `GET …/refs` lists it); listed sorted by name.
    pub refs: Vec<(String, Value)>,
    /// Team members: (team id, `TeamMember`).
    pub members: Vec<(String, Value)>,
    /// Team area paths: (team id, `TeamFieldValues`).
    pub field_values: Vec<(String, Value)>,
    /// Team iterations: (team id, `TeamSettingsIteration`).
    pub iterations: Vec<(String, Value)>,
    /// The project's area tree (`WorkItemClassificationNode` with `children`).
    pub areas: Value,
    /// Commits made through `AdoState::commit`: (repository id, commit id, `GitChange`s).
    pub commits: Vec<(String, String, Vec<Value>)>,
    /// Files of a repository as of a commit made through `AdoState::commit` (and as of the
    /// branch head it replaced): commit id → [(path, content)].
    pub snapshots: std::collections::HashMap<String, Vec<(String, String)>>,
    /// Wikis (`WikiV2`).
    pub wikis: Vec<Value>,
    /// Wiki pages: (wiki id, `WikiPage` with `content`).
    pub wiki_pages: Vec<(String, Value)>,
    /// Project tags (the names after `Microsoft.TeamFoundation.Project.Tag.`).
    pub tags: Vec<String>,
    /// Pipeline environments (`EnvironmentInstance`).
    pub environments: Vec<Value>,
    /// Deployments to the environments (`EnvironmentDeploymentExecutionRecord`).
    pub environment_deployments: Vec<Value>,
}

/// Project `key` (an id, or a name in any case, `%20` for spaces) of `projects`.
pub(crate) fn find<'a>(projects: &'a [Project], key: &str) -> Option<&'a Project> {
    let key = key.replace("%20", " ");
    projects.iter().find(|p| {
        p.project["id"] == key.as_str()
            || p.project["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(&key))
    })
}

/// A deterministic GUID: `kind` names the sort of object, `a` and `b` number it.
pub(crate) fn guid(kind: u32, a: usize, b: usize) -> String {
    format!("{kind:08x}-{a:04x}-4{b:03x}-8000-{:012x}", a * 100_000 + b)
}

/// `hours` hours before `now`.
pub(crate) fn hours_before(now: jiff::Timestamp, hours: usize) -> jiff::Timestamp {
    let hours = i64::try_from(hours).unwrap_or(i64::MAX / 3_600);
    now - jiff::SignedDuration::from_hours(hours)
}

/// The simulator's clock: real time, or a fixed epoch (`SimConfig::epoch`) that moves one
/// second forward each time a mutation, an event or a new object reads it.
///
/// With an epoch, the seed is generated as of the epoch, and the `n`th call to
/// [`Clock::now`] after it answers `epoch + n` seconds: time still moves forward (changed-since
/// logic and ordering keep working) and two simulators with the same epoch that receive the
/// same requests answer the same bytes. Each simulator holds its own clock.
#[derive(Debug)]
pub(crate) struct Clock {
    epoch: Option<jiff::Timestamp>,
    ticks: AtomicU64,
}

impl Clock {
    /// A clock fixed at `epoch`, or real time for `None`.
    pub(crate) fn new(epoch: Option<jiff::Timestamp>) -> Self {
        Self {
            epoch,
            ticks: AtomicU64::new(0),
        }
    }

    /// Now, for something that happens (a mutation, an event, an object added): with an
    /// epoch, one second after the previous such reading (the first one a second after the
    /// epoch).
    pub(crate) fn now(&self) -> jiff::Timestamp {
        match self.epoch {
            None => jiff::Timestamp::now(),
            Some(epoch) => Self::after(epoch, self.ticks.fetch_add(1, Ordering::Relaxed) + 1),
        }
    }

    /// Now, for a read that changes nothing (the seed, WIQL's `@today` and `asOf`, a commit's
    /// date): with an epoch, the last reading of [`Clock::now`] (the epoch before any),
    /// without moving the clock, so that concurrent reads answer the same whatever their order.
    pub(crate) fn current(&self) -> jiff::Timestamp {
        match self.epoch {
            None => jiff::Timestamp::now(),
            Some(epoch) => Self::after(epoch, self.ticks.load(Ordering::Relaxed)),
        }
    }

    fn after(epoch: jiff::Timestamp, seconds: u64) -> jiff::Timestamp {
        let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
        epoch
            .checked_add(jiff::SignedDuration::from_secs(seconds))
            .unwrap_or(jiff::Timestamp::MAX)
    }
}

/// The project reference that repositories embed (`TeamProjectReference`).
#[must_use]
pub fn reference(project: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for key in ["id", "name", "url", "state", "revision", "visibility"] {
        out.insert(key.to_owned(), project[key].clone());
    }
    Value::Object(out)
}

/// A `GitRef` of `repo` in the shape of the spec's `Refs_List` example (`git/httpExamples/refs`).
pub(crate) fn git_ref(base: &str, repo: &Value, name: &str, object_id: &str) -> Value {
    let creator = guid(6, 0, 0);
    let short = name
        .strip_prefix("refs/")
        .unwrap_or(name)
        .replace('/', "%2F");
    json!({
        "name": name, "objectId": object_id,
        "creator": {"displayName": "User 0", "url": format!("{base}/_apis/Identities/{creator}"),
            "id": creator, "uniqueName": "user0@example.com",
            "imageUrl": format!("{base}/_api/_common/identityImage?id={creator}")},
        "url": format!("{}/refs?filter={short}", repo["url"].as_str().unwrap_or_default())
    })
}

/// The `resource` of a `git.push` event, in the shape of Microsoft's sample payload
/// (ado-api.md §5.2): the pushed commit, the ref update, the repository (with its project
/// reference), the pusher, the push id, date (`now`) and URL.
pub(crate) fn push_resource(
    base: &str,
    now: jiff::Timestamp,
    repo: &Value,
    push_id: u64,
    update: &Value,
    commit: Option<&str>,
) -> Value {
    let repo_id = repo["id"].as_str().unwrap_or_default();
    let date = stamp(now);
    let person = json!({"name": "User 0", "email": "user0@example.com", "date": date});
    let commits: Vec<Value> = commit
        .map(|id| {
            json!({"commitId": id, "author": person, "committer": person,
                "comment": format!("Push {push_id}"),
                "url": format!("{base}/_apis/git/repositories/{repo_id}/commits/{id}")})
        })
        .into_iter()
        .collect();
    let mut repository = json!({"id": repo["id"], "name": repo["name"], "url": repo["url"],
        "project": repo["project"], "remoteUrl": repo["remoteUrl"]});
    if let Some(branch) = repo.get("defaultBranch") {
        repository["defaultBranch"] = branch.clone();
    }
    let pusher = "00000006-0000-4000-8000-000000000000";
    json!({
        "commits": commits, "refUpdates": [update], "repository": repository,
        "pushedBy": {"displayName": "User 0", "id": pusher, "uniqueName": "user0@example.com",
            "url": format!("{base}/_apis/Identities/{pusher}"),
            "imageUrl": format!("{base}/_api/_common/identityImage?id={pusher}")},
        "pushId": push_id, "date": date,
        "url": format!("{base}/_apis/git/repositories/{repo_id}/pushes/{push_id}")
    })
}

/// A run started through the API, with the request that started it.
#[derive(Debug, Clone, PartialEq)]
pub struct StartedRun {
    /// The project's id.
    pub project: String,
    /// The pipeline's id.
    pub pipeline: u64,
    /// The run's id.
    pub run: u64,
    /// The request body as received.
    pub request: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_ticks_a_second_per_event_and_reads_without_moving() {
        let epoch: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let clock = Clock::new(Some(epoch));
        let other = Clock::new(Some(epoch));
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        assert_eq!(clock.current(), epoch);
        assert_eq!(clock.now(), at("2026-01-01T00:00:01Z"));
        assert_eq!(clock.current(), at("2026-01-01T00:00:01Z"));
        assert_eq!(clock.current(), at("2026-01-01T00:00:01Z"));
        assert_eq!(clock.now(), at("2026-01-01T00:00:02Z"));
        assert_eq!(other.now(), at("2026-01-01T00:00:01Z"), "clocks are apart");
        assert_eq!(hours_before(epoch, 25), at("2025-12-30T23:00:00Z"));
    }
}
