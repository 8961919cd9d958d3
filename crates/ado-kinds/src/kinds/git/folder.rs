//! `folder`: folders matching the selector's `folders[].path` patterns (ocean-azure-devops.md
//! §3.1, §7.2), in the repositories `folders[].repos` names (each with an optional `branch`;
//! none named: every repository), of `projectName`'s project or of every project. Each folder
//! item gets `__repository` (the full repository), `__branch` (the configured branch, else the
//! default branch's name), `__pattern` (the pattern it matched) and, with `includedFiles`,
//! `__includedFiles` (from the repository's root on its default branch; upstream reads the
//! folder's branch).
//!
//! Departures: folders are listed on the configured branch (upstream lists the default branch
//! and only copies the branch name), and a pattern with a wildcard before its last segment
//! (`src/*/docs`) is listed recursively, so it matches (upstream lists one level below the
//! base and never can). Matching is as for `file`: case-insensitive, `*` within a segment.
//! Live (`webhooks/push.rs`): a push adding or deleting folders on a branch a pattern reads
//! upserts or deletes them, read from every commit of the push.

use std::collections::HashSet;

use ado_client::{CommitId, Error, ProjectId, RepositoryId};
use globset::GlobSet;
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::{Value, json};

use crate::AdoKind;

use super::{
    super::Source,
    RepositorySelection,
    file::compile,
    per_readable_repository,
    repository::{included, included_files},
};

/// One `folders[]` entry, compiled.
struct Pattern {
    text: String,
    literals: HashSet<String>,
    globs: GlobSet,
    descriptors: Vec<(String, &'static str)>,
    /// `(repository name, branch)`; empty for every repository on its default branch.
    repos: Vec<(String, Option<String>)>,
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        self.literals.contains(&path.to_ascii_lowercase()) || self.globs.is_match(path)
    }

    /// The branch to read `repo` on (its configured one, else `default`), when this pattern
    /// applies to it.
    fn branch_for(&self, repo: &Value, default: &str) -> Option<String> {
        if self.repos.is_empty() {
            return Some(default.to_owned());
        }
        let name = repo["name"].as_str().unwrap_or_default();
        self.repos
            .iter()
            .find(|(r, _)| r == name)
            .map(|(_, branch)| branch.clone().unwrap_or_else(|| default.to_owned()))
    }
}

/// What a `folder` resource selects.
pub(crate) struct Selection {
    project: Option<String>,
    patterns: Vec<Pattern>,
    included: Vec<String>,
}

impl Selection {
    /// The selection of `selector`, or which option is wrong.
    pub(crate) fn from(selector: &SelectorConfig) -> Result<Self, crate::Error> {
        let refuse = |option: &str, message: String| {
            crate::Error::selector(AdoKind::Folder, option, message)
        };
        let folders = match selector.extra.get("folders") {
            Some(Value::Array(folders)) if !folders.is_empty() => folders,
            other => {
                return Err(refuse(
                    "folders",
                    format!(
                        "is required: a list of {{path, repos}}, not {}",
                        other.unwrap_or(&Value::Null)
                    ),
                ));
            }
        };
        let mut patterns = Vec::new();
        for folder in folders {
            let Some(text) = folder["path"].as_str() else {
                return Err(refuse(
                    "folders[].path",
                    format!("must be a path pattern, not {}", folder["path"]),
                ));
            };
            let (literals, globs, descriptors) =
                compile(&[text.to_owned()], AdoKind::Folder, "folders[].path")?;
            let repos = folder["repos"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    let name = r.as_str().or_else(|| r["name"].as_str())?;
                    Some((name.to_owned(), r["branch"].as_str().map(str::to_owned)))
                })
                .collect();
            patterns.push(Pattern {
                text: text.trim_start_matches('/').to_owned(),
                literals,
                globs,
                descriptors,
                repos,
            });
        }
        Ok(Self {
            project: selector
                .extra
                .get("projectName")
                .and_then(Value::as_str)
                .map(str::to_owned),
            patterns,
            included: included_files(selector),
        })
    }
}

/// Streams one page of folders per repository.
pub(crate) fn fetch(source: &Source, selection: Selection) -> PageStream<Error> {
    per_readable_repository(source, std::sync::Arc::new(selection), folders_of)
}

impl RepositorySelection for Selection {
    fn wants_project(&self, project: &Value) -> bool {
        self.project.as_ref().is_none_or(|wanted| {
            project["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(wanted))
        })
    }
}

/// The folders of one repository that its patterns match.
async fn folders_of(
    source: Source,
    project: ProjectId,
    repo: Value,
    selection: std::sync::Arc<Selection>,
) -> Result<Page, Error> {
    let client = &source.client;
    let repo_id = RepositoryId::of(&repo);
    let default_branch = default_branch(&repo);
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    for pattern in &selection.patterns {
        let Some(branch) = pattern.branch_for(&repo, &default_branch) else {
            continue;
        };
        let listed = client
            .items_batch_on(&project, &repo_id, &pattern.descriptors, Some(&branch))
            .await?
            .unwrap_or_default();
        for item in listed.into_iter().flatten() {
            let path = item["path"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_owned();
            let folder =
                item["gitObjectType"] == "tree" || item["isFolder"].as_bool().unwrap_or(false);
            // The listing holds the scope folder itself: the root matches `*` (as upstream's
            // fnmatch of "" against "*"), so a pattern `*` yields `/` too.
            if folder && pattern.matches(&path) && seen.insert((path, branch.clone())) {
                let mut item = item;
                item["__branch"] = json!(branch);
                item["__pattern"] = json!(pattern.text);
                found.push(item);
            }
        }
    }
    let includes = if selection.included.is_empty() || found.is_empty() {
        None
    } else {
        Some(Value::Object(
            included(client, &project, &repo, &selection.included).await?,
        ))
    };
    for item in &mut found {
        item["__repository"] = repo.clone();
        if let Some(includes) = &includes {
            item["__includedFiles"] = includes.clone();
        }
    }
    Ok(Page::from(found))
}

/// Live: whether a resource with `selector` selects the folder `item` (its pattern, branch and
/// repository).
pub(crate) fn selects(selector: &SelectorConfig, item: &Value) -> bool {
    let Ok(selection) = Selection::from(selector) else {
        return false;
    };
    let repo = &item["__repository"];
    let default = default_branch(repo);
    let path = item["path"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('/');
    selection.wants_project(&repo["project"])
        && selection.patterns.iter().any(|p| {
            item["__pattern"] == p.text.as_str()
                && p.branch_for(repo, &default).as_deref() == item["__branch"].as_str()
                && p.matches(path)
        })
}

fn default_branch(repo: &Value) -> String {
    repo["defaultBranch"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("refs/heads/")
        .to_owned()
}

/// Live: the folders a push adds or deletes on the branches the `folder` resources read
/// (upstream: only repositories named in `folders[].repos`, any branch), from every commit
/// the push lists, oldest first, then each ref's head: `(upserts, deletions)` as raw items.
/// `updates` are `(branch name, new object id)`; `repository` is the re-read repository.
pub(crate) async fn pushed(
    client: &ado_client::Client,
    repository: Option<&Value>,
    updates: &[(&str, &CommitId)],
    commits: &[CommitId],
    commit_changes: &super::CommitChanges,
    config: &mapping::PortAppConfig,
) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let Some(repo) = repository.filter(|r| super::has_branches(r)) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let selections: Vec<Selection> = AdoKind::Folder
        .resources(config)
        .filter_map(|r| Selection::from(&r.selector).ok())
        .filter(|s| s.wants_project(&repo["project"]))
        .collect();
    let default = default_branch(repo);
    let project = ProjectId::of(&repo["project"]);
    let (mut upserts, mut deletions) = (Vec::new(), Vec::new());
    for (branch, head) in updates {
        let patterns: Vec<&Pattern> = selections
            .iter()
            .flat_map(|s| &s.patterns)
            .filter(|p| p.branch_for(repo, &default).as_deref() == Some(*branch))
            .collect();
        if patterns.is_empty() {
            continue;
        }
        let order = super::commits_oldest_first(commits, [*head]);
        // path → its last change and the pattern it matched
        let mut last: std::collections::BTreeMap<String, (Value, String)> =
            std::collections::BTreeMap::new();
        for commit in order {
            for change in commit_changes.of(commit).await?.iter() {
                let item = &change["item"];
                let path = item["path"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches('/');
                let folder =
                    item["gitObjectType"] == "tree" || item["isFolder"].as_bool().unwrap_or(false);
                if let Some(pattern) = patterns.iter().find(|p| folder && p.matches(path)) {
                    last.insert(path.to_owned(), (change.clone(), pattern.text.clone()));
                }
            }
        }
        for (_, (change, pattern)) in last {
            let mut item = change["item"].clone();
            item["__repository"] = repo.clone();
            item["__branch"] = json!(branch);
            item["__pattern"] = json!(pattern);
            if change["changeType"]
                .as_str()
                .is_some_and(|t| t.contains("delete"))
            {
                deletions.push(item);
            } else {
                upserts.push(item);
            }
        }
    }
    let included_paths: Vec<String> = selections.iter().flat_map(|s| s.included.clone()).collect();
    if !included_paths.is_empty() && !upserts.is_empty() {
        let includes = Value::Object(included(client, &project, repo, &included_paths).await?);
        for item in &mut upserts {
            item["__includedFiles"] = includes.clone();
        }
    }
    Ok((upserts, deletions))
}
