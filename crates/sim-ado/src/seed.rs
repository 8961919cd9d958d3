//! A deterministic organization generated from sizes: projects with repositories (some disabled
//! or empty), README/CODEOWNERS files, branch policies, teams with boards and columns, work items
//! of several types (including `Feature`), releases and pipelines with runs, in the wire shapes of the specs'
//! `httpExamples` (`core`, `git`, `policy`, `work`, `wit`, `release`).
//!
//! Above the areas: each area seeds its own objects (`teams::seed`, `pipelines::seed`, ...) and
//! this module calls them in turn. [`AdoState::new`] generates the organization here, and the
//! mutations that add generated objects (a project, a repository, a release) live here too.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::{
    config::{SimConfig, Sizes},
    model::{Project, git_ref, guid, hours_before, reference},
    state::AdoState,
    wire::stamp,
};

/// Work item types generated in turn; `Feature` is not in the default blueprint's enum.
const TYPES: [&str; 10] = [
    "User Story",
    "Bug",
    "Task",
    "Epic",
    "Issue",
    "User Story",
    "Bug",
    "Task",
    "Task",
    "Feature",
];
const STATES: [&str; 4] = ["New", "Active", "Resolved", "Closed"];
const COLUMNS: [&str; 4] = ["New", "Active", "Resolved", "Closed"];

/// Numbers given to added repositories and projects start here, clear of generated ones (the
/// first is neither a disabled nor an empty repository in the seed's scheme).
const ADDED_BASE: usize = 0x901;

impl AdoState {
    /// Generates the organization for `config`, served under `origin` (`http://host:port`), as
    /// of `config.epoch` (or now).
    #[must_use]
    pub fn new(config: SimConfig, origin: &str) -> Arc<Self> {
        let base = format!("{origin}/{}", config.organization);
        let now = config.epoch.unwrap_or_else(jiff::Timestamp::now);
        let projects = (0..config.sizes.projects)
            .map(|p| project(&base, p, &config.sizes, now))
            .collect();
        Self::with_projects(config, base, projects)
    }

    /// Adds a project (with the generated content of one at the configured sizes) and returns
    /// its id.
    pub fn add_project(&self) -> String {
        let mut inner = self.lock();
        let number = ADDED_BASE + inner.added;
        inner.added += 1;
        let project = project(&self.base, number, &self.config.sizes, self.clock.now());
        let id = project.project["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        inner.projects.push(project);
        id
    }

    /// Adds a repository named `name` to project `project` (with a README, policies and pull
    /// requests like a generated one) and returns its id.
    pub fn add_repository(&self, project: usize, name: &str) -> Option<String> {
        let mut inner = self.lock();
        let number = ADDED_BASE + inner.added;
        inner.added += 1;
        let sizes = self.config.sizes;
        let p = inner.projects.get_mut(project)?;
        let reference = reference(&p.project);
        let now = self.clock.now();
        repository(
            &self.base,
            (project, number),
            &reference,
            sizes.pull_requests,
            p,
            now,
        );
        let repo = p.repositories.last_mut()?;
        repo["name"] = json!(name);
        let repo = repo.clone();
        drop(inner);
        self.repository_created(&repo);
        repo["id"].as_str().map(str::to_owned)
    }

    /// Adds a release created now to project `project` and returns its id
    /// (`ms.vss-release.release-created-event`).
    pub fn add_release(&self, project: usize) -> Option<u64> {
        let mut inner = self.lock();
        let p = inner.projects.get_mut(project)?;
        let now = self.clock.now();
        let mut release = release(&self.base, (project, p.releases.len()), &p.project, now);
        release["createdOn"] = json!(stamp(now));
        release["modifiedOn"] = json!(stamp(now));
        let id = release["id"].as_u64();
        let project_id = p.project["id"].clone();
        p.releases.push(release.clone());
        drop(inner);
        self.release_created(&project_id, &release);
        id
    }

    /// Opens a pull request now in repository `repository` (a name) of project `project` and
    /// returns its id (`git.pullrequest.created`).
    pub fn open_pull_request(&self, project: usize, repository: &str) -> Option<u64> {
        let mut inner = self.lock();
        let now = self.clock.now();
        let p = inner.projects.get_mut(project)?;
        let r = p
            .repositories
            .iter()
            .position(|r| r["name"] == repository)?;
        let repo = p.repositories[r].clone();
        let i = p
            .pull_requests
            .iter()
            .filter(|pr| pr["repository"]["id"] == repo["id"])
            .count();
        let mut pr = pull_request(&self.base, (project, r, i), &repo, now);
        pr["status"] = json!("active");
        pr["creationDate"] = json!(now.to_string());
        if let Some(fields) = pr.as_object_mut() {
            fields.remove("closedDate");
        }
        let id = pr["pullRequestId"].as_u64();
        p.pull_requests.push(pr.clone());
        drop(inner);
        self.pull_request_created(&pr);
        id
    }

    /// Abandons release `release` of project number `project`
    /// (`ms.vss-release.release-abandoned-event`).
    pub fn abandon_release(&self, project: usize, release: u64) -> bool {
        let mut inner = self.lock();
        let now = self.clock.now();
        let Some(p) = inner.projects.get_mut(project) else {
            return false;
        };
        let project_id = p.project["id"].clone();
        let Some(found) = p.releases.iter_mut().find(|r| r["id"] == release) else {
            return false;
        };
        found["status"] = json!("abandoned");
        found["modifiedOn"] = json!(stamp(now));
        let found = found.clone();
        drop(inner);
        self.release_abandoned(&project_id, &found);
        true
    }

    /// Adds a work item created now to project `project` and returns its id
    /// (`workitem.created`).
    pub fn add_work_item(&self, project: usize) -> Option<u64> {
        let mut inner = self.lock();
        let p = inner.projects.get_mut(project)?;
        let now = self.clock.now();
        let (project_id, project_name) = (
            p.project["id"].as_str().unwrap_or_default().to_owned(),
            p.project["name"].as_str().unwrap_or_default().to_owned(),
        );
        // The next number after the highest id (a deleted item's id is not reused).
        let first = u64::try_from(project * 100_000).unwrap_or_default();
        let w = p
            .work_items
            .iter()
            .filter_map(|i| i["id"].as_u64())
            .max()
            .map_or(0, |max| usize::try_from(max - first).unwrap_or_default());
        let mut item = work_item(&self.base, (project, w), &project_id, &project_name, now);
        item["rev"] = json!(1);
        item["fields"]["System.CreatedDate"] = json!(stamp(now));
        item["fields"]["System.ChangedDate"] = json!(stamp(now));
        let id = item["id"].as_u64();
        p.work_items.push(item.clone());
        drop(inner);
        self.work_item_created(&json!(project_id), &item);
        id
    }
}

/// Generates project `p` of organization `base` (`http://host/{org}`), as of `now`.
#[must_use]
fn project(base: &str, p: usize, sizes: &Sizes, now: jiff::Timestamp) -> Project {
    let id = guid(1, p, 0);
    let name = format!("Project {p}");
    let team_id = guid(2, p, 0);
    let project = json!({
        "id": id, "name": name, "description": format!("Generated project {p}"),
        "url": format!("{base}/_apis/projects/{id}"), "state": "wellFormed", "revision": 400 + p,
        "visibility": "private", "lastUpdateTime": "2026-11-01T10:00:00.000Z",
        "capabilities": {"versioncontrol": {"sourceControlType": "Git"}, "processTemplate": {"templateName": "Agile"}},
        "defaultTeam": {"id": team_id, "name": format!("{name} Team"), "url": format!("{base}/_apis/projects/{id}/teams/{team_id}")}
    });
    let reference = reference(&project);
    let mut out = Project {
        project,
        repositories: Vec::new(),
        files: Vec::new(),
        policies: Vec::new(),
        teams: Vec::new(),
        boards: Vec::new(),
        work_items: Vec::new(),
        recycled_work_items: Vec::new(),
        releases: Vec::new(),
        pull_requests: Vec::new(),
        alerts: Vec::new(),
        test_runs: Vec::new(),
        release_definitions: Vec::new(),
        deployments: Vec::new(),
        pipelines: Vec::new(),
        builds: Vec::new(),
        refs: Vec::new(),
        members: Vec::new(),
        field_values: Vec::new(),
        iterations: Vec::new(),
        areas: Value::Null,
        commits: Vec::new(),
        snapshots: std::collections::HashMap::new(),
        wikis: Vec::new(),
        wiki_pages: Vec::new(),
        tags: Vec::new(),
        environments: Vec::new(),
        environment_deployments: Vec::new(),
    };
    for r in 0..sizes.repositories {
        repository(base, (p, r), &reference, sizes.pull_requests, &mut out, now);
    }
    crate::teams::seed(base, p, sizes.teams.max(1), &mut out, now);
    for t in 0..out.teams.len() {
        let team_id = out.teams[t]["id"].as_str().unwrap_or_default().to_owned();
        let board = board(base, p, t, &id, &team_id);
        out.boards.push((team_id, board));
    }
    for w in 0..sizes.work_items {
        out.work_items
            .push(work_item(base, (p, w), &id, &name, now));
    }
    for r in 0..sizes.releases {
        let release = release(base, (p, r), &out.project, now);
        out.releases.push(release);
    }
    crate::advsec::seed(&mut out, now);
    crate::release::seed(base, &mut out);
    crate::pipelines::seed(base, p, sizes.pipelines, &mut out, now);
    crate::test_runs::seed(base, &mut out);
    crate::environments::seed(base, p, &mut out);
    crate::wiki::seed(base, p, &mut out);
    out
}

/// Adds repository number `r` (and its files, policies and `pull_requests` pull requests,
/// created days before `now`) of project `p` to `out`.
fn repository(
    base: &str,
    (p, r): (usize, usize),
    project: &Value,
    pull_requests: usize,
    out: &mut Project,
    now: jiff::Timestamp,
) {
    let id = guid(3, p, r);
    let name = format!("repo-{p}-{r}");
    let project_name = project["name"]
        .as_str()
        .unwrap_or_default()
        .replace(' ', "%20");
    // Every seventh repository is disabled and every fifth one is empty (no default branch).
    let disabled = r % 7 == 6;
    let empty = r % 5 == 4;
    let mut repo = json!({
        "id": id, "name": name, "url": format!("{base}/{}/_apis/git/repositories/{id}", project["id"].as_str().unwrap_or_default()),
        "project": project, "size": if empty { 0 } else { 1024 * (r + 1) },
        "remoteUrl": format!("{base}/{project_name}/_git/{name}"), "sshUrl": format!("git@ssh.dev.azure.com:v3/org/{project_name}/{name}"),
        "webUrl": format!("{base}/{project_name}/_git/{name}"), "isDisabled": disabled, "isInMaintenance": false
    });
    if !empty {
        repo["defaultBranch"] = json!("refs/heads/main");
        out.files.push((
            id.clone(),
            "README.md".to_owned(),
            format!("# {name}\n\nService owned by team {}.\n", p % 3),
        ));
        if r % 2 == 1 {
            out.files.push((
                id.clone(),
                "CODEOWNERS".to_owned(),
                "* @platform-team\n".to_owned(),
            ));
        }
        crate::items::seed_files(&id, &name, r, &mut out.files);
        let scope =
            json!([{"repositoryId": id, "refName": "refs/heads/main", "matchKind": "exact"}]);
        out.policies.push(json!({
            "id": p * 1000 + r * 2 + 1, "revision": 1, "isEnabled": true, "isBlocking": true, "isDeleted": false,
            "type": {"id": "fa4e907d-c16b-4a4c-9dfa-4906e5d171dd", "displayName": "Minimum number of reviewers"},
            "settings": {"minimumApproverCount": 1 + r % 3, "creatorVoteCounts": false, "scope": scope}
        }));
        out.policies.push(json!({
            "id": p * 1000 + r * 2 + 2, "revision": 1, "isEnabled": true, "isBlocking": r.is_multiple_of(2), "isDeleted": false,
            "type": {"id": "40e92b44-2fe1-4dd6-b3d8-74a9c21d0c6e", "displayName": "Work item linking"},
            "settings": {"scope": scope}
        }));
        // The default branch and one to three feature branches (disabled repositories keep
        // theirs: the service has them, readers skip such repositories).
        for branch in std::iter::once("main".to_owned())
            .chain((1..=1 + (p + r) % 3).map(|n| format!("feature/x-{n}")))
        {
            let commit = commit_id(p, r, out.refs.len());
            let git_ref = git_ref(base, &repo, &format!("refs/heads/{branch}"), &commit);
            out.refs.push((id.clone(), git_ref));
        }
        if !disabled {
            for i in 0..pull_requests {
                out.pull_requests
                    .push(pull_request(base, (p, r, i), &repo, now));
            }
        }
    }
    out.repositories.push(repo);
}

/// A deterministic 40-hex-digit commit id, never all zeros (which means "no object" in a ref
/// update).
fn commit_id(p: usize, r: usize, n: usize) -> String {
    let part = |x: usize| u128::try_from(x).unwrap_or(u128::MAX) & 0xff_ffff_ffff;
    let value = (1u128 << 120) | (part(p) << 80) | (part(r) << 40) | part(n);
    format!("{value:040x}")
}

/// Pull request `i` of repository `r`: active, completed and abandoned in turn; closed ones
/// closed `i` days and an hour before `now`, when the simulator started (so `minTime` filters
/// have something to cut, and nothing looks changed "just now").
fn pull_request(
    base: &str,
    (p, r, i): (usize, usize, usize),
    repo: &Value,
    now: jiff::Timestamp,
) -> Value {
    let id = p * 100_000 + r * 100 + i + 1;
    let status = ["active", "completed", "abandoned"][i % 3];
    let person = json!({"displayName": format!("User {}", i % 7), "uniqueName": format!("user{}@example.com", i % 7),
        "id": guid(6, i % 7, 0), "url": format!("{base}/_apis/Identities/{}", guid(6, i % 7, 0))});
    let created = hours_before(now, (i + 2) * 24 + 1);
    let repository = json!({"id": repo["id"], "name": repo["name"], "url": repo["url"],
        "project": {"id": repo["project"]["id"], "name": repo["project"]["name"], "state": "wellFormed"}});
    let mut pr = json!({
        "repository": repository, "pullRequestId": id, "codeReviewId": id, "status": status,
        "createdBy": person, "creationDate": created.to_string(), "title": format!("Change {id}"),
        "description": format!("Pull request {id}"), "sourceRefName": format!("refs/heads/feature/{id}"),
        "targetRefName": "refs/heads/main", "mergeStatus": "succeeded", "isDraft": i % 5 == 4,
        "mergeId": guid(8, p, r * 100 + i), "reviewers": [{"vote": 10 * (i % 2), "id": guid(6, (i + 1) % 7, 0),
            "displayName": format!("User {}", (i + 1) % 7), "uniqueName": format!("user{}@example.com", (i + 1) % 7), "isRequired": true}],
        "url": format!("{}/pullRequests/{id}", repo["url"].as_str().unwrap_or_default()),
        "supportsIterations": true
    });
    if status != "active" {
        let closed = hours_before(now, i * 24 + 1);
        pr["closedDate"] = json!(closed.to_string());
        pr["closedBy"] = person;
    }
    pr
}

/// The board of team `t` (ids of team 0's board and columns do not depend on `t`).
fn board(base: &str, p: usize, t: usize, project_id: &str, team_id: &str) -> Value {
    let id = guid(4, p, t);
    let columns: Vec<Value> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let kind = match i {
                0 => "incoming",
                3 => "outgoing",
                _ => "inProgress",
            };
            json!({"id": guid(5, p, t * 10 + i), "name": name, "itemLimit": if kind == "inProgress" { 5 } else { 0 }, "columnType": kind,
                "isSplit": false, "description": "", "stateMappings": {"User Story": name, "Bug": name}})
        })
        .collect();
    json!({
        "id": id, "name": "Stories", "url": format!("{base}/{project_id}/{team_id}/_apis/work/boards/{id}"),
        "revision": 3, "isValid": true, "columns": columns,
        "rows": [{"id": "00000000-0000-0000-0000-000000000000", "name": null}],
        "fields": {"columnField": {"referenceName": "WEF_1_Kanban.Column"}, "doneField": {"referenceName": "WEF_1_Kanban.Column.Done"}}
    })
}

fn work_item(
    base: &str,
    (p, w): (usize, usize),
    project_id: &str,
    project_name: &str,
    now: jiff::Timestamp,
) -> Value {
    let id = p * 100_000 + w + 1;
    let person = json!({"displayName": format!("User {}", w % 7), "uniqueName": format!("user{}@example.com", w % 7),
        "id": guid(6, w % 7, 0), "url": format!("{base}/_apis/Identities/{}", guid(6, w % 7, 0)), "imageUrl": format!("{base}/_api/_common/identityImage?id={}", guid(6, w % 7, 0))});
    let state = STATES[w % 4];
    // Changed `w % 28` days and an hour before `now`, when the simulator started, created a
    // month before that: never in the future nor "just now", so changed-since queries
    // (`@today - 7`, catch-up) cut where expected.
    let changed = hours_before(now, (w % 28) * 24 + 1);
    let created = hours_before(now, (30 + w % 28) * 24);
    json!({
        "id": id, "rev": 1 + w % 5,
        "fields": {
            "System.Id": id, "System.AreaPath": project_name, "System.TeamProject": project_name, "System.IterationPath": project_name,
            "System.WorkItemType": TYPES[w % TYPES.len()], "System.State": state, "System.Reason": "New",
            "System.CreatedDate": stamp(created), "System.CreatedBy": person,
            "System.ChangedDate": stamp(changed), "System.ChangedBy": person,
            "System.Title": format!("Work item {id}"), "System.BoardColumn": state, "System.BoardColumnDone": false,
            "System.Description": format!("<div>Description of work item {id}.</div>"),
            "Microsoft.VSTS.Scheduling.Effort": if w.is_multiple_of(4) { Value::Null } else { json!(w % 13) }
        },
        "relations": [],
        "_links": {"self": {"href": format!("{base}/{project_id}/_apis/wit/workItems/{id}")}, "html": {"href": format!("{base}/{project_id}/_workitems/edit/{id}")}},
        "url": format!("{base}/{project_id}/_apis/wit/workItems/{id}")
    })
}

/// Release `r` of `project` (number `p`), created days before `now`.
fn release(base: &str, (p, r): (usize, usize), project: &Value, now: jiff::Timestamp) -> Value {
    let id = p * 1000 + r + 1;
    let project_id = project["id"].as_str().unwrap_or_default();
    let project_name = &project["name"];
    let person = json!({"displayName": "Release Bot", "uniqueName": "release-bot@example.com", "id": guid(7, 0, 0)});
    json!({
        "id": id, "name": format!("Release-{}", r + 1), "status": if r.is_multiple_of(3) { "abandoned" } else { "active" },
        "createdOn": stamp(hours_before(now, (r % 28) * 24 + 2)), "modifiedOn": stamp(hours_before(now, (r % 28) * 24 + 1)),
        "createdBy": person, "modifiedBy": person, "reason": "manual", "description": "", "keepForever": false,
        "releaseDefinition": {"id": 1, "name": "Deploy", "path": "\\"},
        "projectReference": {"id": project_id, "name": project_name},
        "_links": {"web": {"href": format!("{base}/{project_id}/_release?releaseId={id}&_a=release-summary")}}
    })
}
