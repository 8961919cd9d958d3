//! A deterministic, in-memory source of Azure DevOps-shaped items for the default kinds, used by
//! `demo` until the Azure DevOps client and simulator exist (issue 4 replaces it with sim-ado over
//! HTTP). The shapes follow the ADO REST responses plus the Python integration's enrichment keys
//! (`__project`, `__projectId`, `__repository`, `__board`, `__stateType`, `__includedFiles`).

use std::convert::Infallible;

use futures::{StreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Integration, PageStream};
use serde_json::{Value, json};

/// ADO's usual page size in the Python integration (`PAGE_SIZE = 50`).
const PAGE_SIZE: usize = 50;
const ORG: &str = "https://dev.azure.com/demo-org";

/// Sizes of the generated organization.
#[derive(Debug, Clone, Copy)]
pub struct FixtureOrg {
    /// Projects.
    pub projects: usize,
    /// Repositories per project.
    pub repositories: usize,
    /// Work items per project (one in ten is a `Feature`, which the default blueprint rejects).
    pub work_items: usize,
    /// Releases per project.
    pub releases: usize,
}

impl Integration for FixtureOrg {
    type Error = Infallible;

    fn fetch(&self, kind: &str, _selector: &SelectorConfig) -> Option<PageStream<Infallible>> {
        let items: Vec<Value> = match kind {
            "project" => (0..self.projects).map(project).collect(),
            "repository" => self.each_project(self.repositories, repository),
            "repository-policy" => {
                self.each_project(self.repositories, |p, r| policy(&repository(p, r)))
            }
            "board" => (0..self.projects).map(board).collect(),
            "column" => (0..self.projects).flat_map(columns).collect(),
            "work-item" => self.each_project(self.work_items, work_item),
            "release" => self.each_project(self.releases, release),
            _ => return None,
        };
        let pages: Vec<Result<Vec<Value>, Infallible>> = items
            .chunks(PAGE_SIZE)
            .map(|page| Ok(page.to_vec()))
            .collect();
        Some(stream::iter(pages).boxed())
    }
}

impl FixtureOrg {
    fn each_project(&self, per_project: usize, item: impl Fn(usize, usize) -> Value) -> Vec<Value> {
        (0..self.projects)
            .flat_map(|p| (0..per_project).map(move |i| (p, i)))
            .map(|(p, i)| item(p, i))
            .collect()
    }
}

fn project_id(p: usize) -> String {
    format!("00000000-0000-4000-8000-{p:012x}")
}

fn project(p: usize) -> Value {
    let id = project_id(p);
    json!({
        "id": id, "name": format!("project-{p}"), "description": "Demo project",
        "url": format!("{ORG}/_apis/projects/{id}"), "state": "wellFormed", "revision": 10 + p,
        "visibility": "private", "lastUpdateTime": "2026-11-01T10:00:00Z",
        "defaultTeam": {"id": format!("10000000-0000-4000-8000-{p:012x}"), "name": format!("project-{p} Team")},
        "__organizationUrl": ORG, "__organizationName": "demo-org"
    })
}

fn repository(p: usize, r: usize) -> Value {
    let id = format!("20000000-0000-4000-{p:04x}-{r:012x}");
    let name = format!("repo-{p}-{r}");
    json!({
        "id": id, "name": name, "url": format!("{ORG}/_apis/git/repositories/{id}"),
        "project": {"id": project_id(p), "name": format!("project-{p}"), "state": "wellFormed"},
        "defaultBranch": "refs/heads/main", "size": 1024 * (r + 1),
        "remoteUrl": format!("{ORG}/project-{p}/_git/{name}"), "webUrl": format!("{ORG}/project-{p}/_git/{name}"),
        "isDisabled": false, "isInMaintenance": false,
        "__includedFiles": {"README.md": format!("# {name}\n\nDemo repository."), "CODEOWNERS": if r.is_multiple_of(2) { Value::Null } else { json!("* @team") }},
        "__organizationUrl": ORG, "__organizationName": "demo-org"
    })
}

fn policy(repo: &Value) -> Value {
    json!({
        "id": 1, "isEnabled": true, "isBlocking": true,
        "type": {"id": "fa4e907d-c16b-4a4c-9dfa-4906e5d171dd", "displayName": "Minimum number of reviewers"},
        "settings": {"minimumApproverCount": 2, "creatorVoteCounts": false},
        "__repository": repo
    })
}

fn board(p: usize) -> Value {
    let id = format!("30000000-0000-4000-8000-{p:012x}");
    let columns: Vec<Value> = STATES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({
                "id": format!("{i}"), "name": name, "itemLimit": 0, "columnType": "inProgress",
                "stateMappings": {"User Story": name, "Bug": name}
            })
        })
        .collect();
    json!({
        "id": id, "name": "Stories", "url": format!("{ORG}/{}/_apis/work/boards/{id}", project_id(p)),
        "columns": columns, "__project": project(p)
    })
}

const STATES: [&str; 3] = ["New", "Active", "Closed"];

fn columns(p: usize) -> Vec<Value> {
    let board = board(p);
    let mut out = Vec::new();
    for column in board["columns"].as_array().into_iter().flatten() {
        for (state_type, state) in column["stateMappings"].as_object().into_iter().flatten() {
            let mut item = column.clone();
            item["__board"] = board.clone();
            item["__stateType"] = json!(state_type);
            item["__stateName"] = state.clone();
            out.push(item);
        }
    }
    out
}

fn work_item(p: usize, w: usize) -> Value {
    let id = p * 100_000 + w + 1;
    let kind = [
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
    ][w % 10];
    let state = STATES[w % 3];
    #[expect(clippy::cast_precision_loss, reason = "small demo numbers")]
    let effort = if w.is_multiple_of(4) {
        Value::Null
    } else {
        json!((w % 13) as f64)
    };
    let person = json!({"displayName": format!("User {}", w % 7), "uniqueName": format!("user{}@demo.example", w % 7), "id": format!("u-{}", w % 7)});
    json!({
        "id": id, "rev": 3,
        "fields": {
            "System.AreaPath": format!("project-{p}"), "System.TeamProject": format!("project-{p}"),
            "System.WorkItemType": kind, "System.State": state,
            "System.Reason": "New", "System.CreatedDate": "2026-10-01T08:00:00.123Z",
            "System.CreatedBy": person, "System.ChangedDate": "2026-11-20T09:30:00.456Z", "System.ChangedBy": person,
            "System.Title": format!("Work item {id}"), "System.BoardColumn": state,
            "System.Description": format!("<div>Details of work item {id}.</div>"),
            "Microsoft.VSTS.Scheduling.Effort": effort
        },
        "relations": [],
        "_links": {"html": {"href": format!("{ORG}/project-{p}/_workitems/edit/{id}")}},
        "url": format!("{ORG}/{}/_apis/wit/workItems/{id}", project_id(p)),
        "__projectId": project_id(p), "__project": project(p)
    })
}

fn release(p: usize, r: usize) -> Value {
    let id = r + 1;
    json!({
        "id": id, "name": format!("Release-{id}"), "status": "active", "reason": "manual",
        "createdOn": "2026-11-02T12:00:00.5Z", "modifiedOn": "2026-11-03T12:00:00Z",
        "createdBy": {"uniqueName": "releaser@demo.example"}, "modifiedBy": {"uniqueName": "releaser@demo.example"},
        "releaseDefinition": {"id": 1, "name": "Deploy"},
        "projectReference": {"id": project_id(p), "name": format!("project-{p}")},
        "_links": {"web": {"href": format!("{ORG}/project-{p}/_release?releaseId={id}")}}
    })
}
