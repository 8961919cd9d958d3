//! How Azure DevOps reads a request path, applied before routing:
//!
//! - **Route words are case-insensitive.** Microsoft documents `_apis/test/Runs/{id}/results` and
//!   `_apis/graph/Memberships/{descriptor}`; the Python integration sends `runs` and
//!   `memberships`, and the service answers both. Every word after `_apis` that is one of the
//!   route words below is lower-cased (the routes are registered in lower case); identifiers,
//!   names and paths in between keep their case.
//! - **The project is optional in git routes addressed by repository id** (the `{project}`
//!   segment of the `git` spec's paths is optional): `/{org}/_apis/git/repositories/{id}/items`
//!   is the same as `/{org}/{project}/_apis/git/repositories/{id}/items`. The Python integration
//!   reads files (`includedFiles`, `file`, `folder`) that way.

use crate::{model::Project, state::AdoState};

/// The literal words of the simulator's routes after `_apis`.
const ROUTE_WORDS: &[&str] = &[
    "alert",
    "alerts",
    "boards",
    "build",
    "builds",
    "changes",
    "classificationnodes",
    "codecoverage",
    "commits",
    "configurations",
    "definitions",
    "deployments",
    "distributedtask",
    "environmentdeploymentrecords",
    "environments",
    "git",
    "graph",
    "groups",
    "hooks",
    "items",
    "itemsbatch",
    "members",
    "memberships",
    "pages",
    "pagesbatch",
    "pipelines",
    "policy",
    "projects",
    "properties",
    "pullrequests",
    "refs",
    "release",
    "releases",
    "repositories",
    "results",
    "runs",
    "subjectlookup",
    "subscriptions",
    "teamfieldvalues",
    "teams",
    "teamsettings",
    "test",
    "timeline",
    "userentitlements",
    "users",
    "wiki",
    "wikis",
    "wiql",
    "wit",
    "work",
    "workitems",
];

/// The path the routes understand, when it differs from `path`.
pub(crate) fn canonical(state: &AdoState, path: &str) -> Option<String> {
    let mut segments: Vec<String> = path.split('/').map(str::to_owned).collect();
    let apis = segments
        .iter()
        .position(|s| s.eq_ignore_ascii_case("_apis"))?;
    let mut changed = false;
    for segment in &mut segments[apis..] {
        let lower = segment.to_ascii_lowercase();
        if *segment != lower && (lower == "_apis" || ROUTE_WORDS.contains(&lower.as_str())) {
            *segment = lower;
            changed = true;
        }
    }
    // ["", org, "_apis", "git", "repositories", repo, more…]
    if apis == 2
        && segments.len() > 6
        && segments[3] == "git"
        && segments[4] == "repositories"
        && let Some(project) = project_of_repository(&state.lock().projects, &segments[5])
    {
        segments.insert(2, project);
        changed = true;
    }
    changed.then(|| segments.join("/"))
}

fn project_of_repository(projects: &[Project], repository: &str) -> Option<String> {
    projects
        .iter()
        .find(|p| p.repositories.iter().any(|r| r["id"] == repository))
        .and_then(|p| p.project["id"].as_str().map(str::to_owned))
}
