//! `file`: files matching `files.path` (one path or a list; literal or glob) on the default
//! branch of every repository (or of those named in `files.repos`), one entity per file
//! (ocean-azure-devops.md §7.2): `{file: {path, objectId, size, isFolder, commitId, <content
//! metadata>, content: {raw, parsed}}, repo}`, plus `__includedFiles` with `includedFiles`.
//! `parsed` is the content as JSON, else as YAML (several documents: a list), else the text.
//!
//! Items are listed with one `itemsbatch` per repository (one per path when a path does not
//! exist, since the service then refuses the batch): a literal path as itself, a glob from
//! its base (the segments before the first one with a glob character), patterns sharing a
//! base once with the deepest recursion; then matched case-insensitively, `*` within a segment
//! and `**` across them (upstream's wcmatch GLOBSTAR | IGNORECASE | DOTGLOB). Files over 1 MiB
//! are skipped, as upstream.
//!
//! Departures: a glob whose wildcard is not in its last segment (`services/*/package.json`)
//! lists its base recursively, so it matches (upstream lists one level and finds nothing);
//! disabled and empty repositories are skipped (nothing can be read from them); a failed
//! listing or download fails the kind instead of dropping the file.

use std::collections::{BTreeMap, HashSet};

use ado_client::{CommitId, Error, ProjectId, RepositoryId};
use futures::{StreamExt, TryStreamExt, stream};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::AdoKind;

use super::{
    super::{Source, shared},
    CommitChanges, RepositorySelection, commits_oldest_first, has_branches,
    per_readable_repository,
    repository::{included, included_files},
};

/// Downloads at a time within a repository (upstream's `MAX_CONCURRENT_FILE_DOWNLOADS`).
const DOWNLOAD_CONCURRENCY: usize = 50;
/// Larger files are skipped (upstream's `MAX_ALLOWED_FILE_SIZE_IN_BYTES`).
const MAX_FILE_BYTES: usize = 1024 * 1024;
/// Characters that make a path a glob (upstream's list).
const GLOB_CHARS: [char; 9] = ['*', '?', '[', ']', '{', '}', '!', '@', '+'];

/// Streams one page of files per repository.
pub(crate) fn fetch(source: &Source, selection: Selection) -> PageStream<Error> {
    per_readable_repository(source, std::sync::Arc::new(selection), files_of)
}

/// What a `file` resource selects.
pub(crate) struct Selection {
    /// Paths without a glob character (no leading `/`), lower-cased.
    literals: HashSet<String>,
    globs: GlobSet,
    /// `(base path, recursion)` to list, one per base.
    descriptors: Vec<(String, &'static str)>,
    /// `files.repos`: repository names, or all.
    repos: Option<Vec<String>>,
    /// `includedFiles`.
    included: Vec<String>,
}

impl Selection {
    /// The selection of `selector`, or which option is wrong.
    pub(crate) fn from(selector: &SelectorConfig) -> Result<Self, crate::Error> {
        let files = selector.extra.get("files").unwrap_or(&Value::Null);
        let paths: Vec<String> = match &files["path"] {
            Value::String(path) => vec![path.clone()],
            Value::Array(list) => list
                .iter()
                .map(|p| {
                    p.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| refuse("files.path", format!("must list strings, not {p}")))
                })
                .collect::<Result<_, _>>()?,
            other => {
                return Err(refuse(
                    "files.path",
                    format!(
                        "is required: a path or a list of paths (literal or glob), not {other}"
                    ),
                ));
            }
        };
        let repos = match &files["repos"] {
            Value::Null => None,
            Value::Array(list) => Some(
                list.iter()
                    .filter_map(|r| r.as_str().or_else(|| r["name"].as_str()))
                    .map(str::to_owned)
                    .collect(),
            ),
            other => {
                return Err(refuse(
                    "files.repos",
                    format!("must be a list of repository names, not {other}"),
                ));
            }
        };
        let (literals, globs, descriptors) = compile(&paths, AdoKind::File, "files.path")?;
        Ok(Self {
            literals,
            globs,
            descriptors,
            repos,
            included: included_files(selector),
        })
    }

    fn matches(&self, path: &str) -> bool {
        self.literals.contains(&path.to_ascii_lowercase()) || self.globs.is_match(path)
    }
}

fn refuse(option: &str, message: String) -> crate::Error {
    crate::Error::selector(AdoKind::File, option, message)
}

/// Literal paths (lower-cased), the glob set, and what to list: one `(base, recursion)` per
/// base, with the deepest recursion any of its patterns needs.
pub(super) type Compiled = (HashSet<String>, GlobSet, Vec<(String, &'static str)>);

pub(super) fn compile(
    paths: &[String],
    kind: AdoKind,
    option: &str,
) -> Result<Compiled, crate::Error> {
    let mut literals = HashSet::new();
    let mut globs = GlobSetBuilder::new();
    let mut bases: BTreeMap<String, &'static str> = BTreeMap::new();
    for raw in paths {
        let path = raw.trim_start_matches('/');
        let segments: Vec<&str> = path.split('/').collect();
        let (base, recursion) = match segments.iter().position(|s| s.contains(GLOB_CHARS)) {
            None => {
                literals.insert(path.to_ascii_lowercase());
                (path.to_owned(), "none")
            }
            Some(first) => {
                let glob = GlobBuilder::new(path)
                    .case_insensitive(true)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        crate::Error::selector(
                            kind,
                            option,
                            format!("\"{raw}\" is not a valid glob: {e}"),
                        )
                    })?;
                globs.add(glob);
                let deep = path.contains("**") || first + 1 < segments.len();
                (
                    segments[..first].join("/"),
                    if deep { "full" } else { "oneLevel" },
                )
            }
        };
        let entry = bases.entry(base).or_insert(recursion);
        if depth(recursion) > depth(entry) {
            *entry = recursion;
        }
    }
    let globs = globs
        .build()
        .map_err(|e| crate::Error::selector(kind, option, e.to_string()))?;
    let descriptors = bases
        .into_iter()
        .map(|(b, r)| (format!("/{b}"), r))
        .collect();
    Ok((literals, globs, descriptors))
}

impl RepositorySelection for Selection {
    fn wants_repository(&self, repo: &Value) -> bool {
        let name = repo["name"].as_str().unwrap_or_default();
        self.repos
            .as_ref()
            .is_none_or(|repos| repos.iter().any(|r| r == name))
    }
}

fn depth(recursion: &str) -> u8 {
    match recursion {
        "full" => 2,
        "oneLevel" => 1,
        _ => 0,
    }
}

/// The matching files of one repository, as one page sharing `repo` (and `__includedFiles`).
async fn files_of(
    source: Source,
    project: ProjectId,
    repo: Value,
    selection: std::sync::Arc<Selection>,
) -> Result<Page, Error> {
    let client = &source.client;
    let repo_id = RepositoryId::of(&repo);
    // One batch for every path; when one path does not exist the service refuses the whole
    // batch, so then each path is asked alone (a missing one lists nothing).
    let lists = if let Some(lists) = client
        .items_batch(&project, &repo_id, &selection.descriptors)
        .await?
    {
        lists
    } else {
        let mut lists = Vec::new();
        for descriptor in &selection.descriptors {
            let one = std::slice::from_ref(descriptor);
            let listed = client.items_batch(&project, &repo_id, one).await?;
            lists.extend(listed.into_iter().flatten());
        }
        lists
    };
    let mut seen = HashSet::new();
    let blobs: Vec<Value> = lists
        .into_iter()
        .flatten()
        .filter(|item| {
            let path = item["path"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches('/');
            item["gitObjectType"] == "blob"
                && !item["isFolder"].as_bool().unwrap_or(false)
                && selection.matches(path)
                && seen.insert(path.to_owned())
        })
        .collect();
    let reads: Vec<_> = blobs
        .into_iter()
        .map(|item| {
            let (client, project, repo_id) = (client.clone(), project.clone(), repo_id.clone());
            async move {
                let path = item["path"].as_str().unwrap_or_default().to_owned();
                let content = client.file(&project, &repo_id, &path).await?;
                Ok::<_, Error>(content.map(|raw| (item, raw)))
            }
        })
        .collect();
    let downloaded: Vec<Option<(Value, String)>> = stream::iter(reads)
        .buffered(DOWNLOAD_CONCURRENCY)
        .try_collect()
        .await?;
    let files: Vec<Value> = downloaded
        .into_iter()
        .flatten()
        .filter(|(item, raw)| {
            let small = raw.len() <= MAX_FILE_BYTES;
            if !small {
                tracing::warn!(path = %item["path"], bytes = raw.len(), "Skipping a file over 1 MiB.");
            }
            small
        })
        .map(|(item, raw)| json!({ "file": file_object(&item, &raw) }))
        .collect();
    let mut keys = shared("repo", repo.clone());
    if !selection.included.is_empty() {
        let included = included(client, &project, &repo, &selection.included).await?;
        keys.insert("__includedFiles".to_owned(), Value::Object(included));
    }
    Ok(Page::sharing(files, keys))
}

/// The `file` object of an entity: the item's identity, its content metadata's keys (none: the
/// batch does not ask for them, as upstream), and the content as text and parsed.
fn file_object(item: &Value, raw: &str) -> Value {
    let mut file = Map::new();
    let path = item["path"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('/');
    file.insert("path".to_owned(), json!(path));
    file.insert("objectId".to_owned(), item["objectId"].clone());
    file.insert("size".to_owned(), json!(raw.len()));
    file.insert("isFolder".to_owned(), json!(false));
    file.insert("commitId".to_owned(), item["commitId"].clone());
    if let Some(Value::Object(metadata)) = item.get("contentMetadata") {
        file.extend(metadata.clone());
    }
    let parsed = parse(raw);
    file.insert("content".to_owned(), json!({"raw": raw, "parsed": parsed}));
    Value::Object(file)
}

/// JSON, else YAML (a list for several documents), else the text itself.
pub(crate) fn parse(raw: &str) -> Value {
    if let Ok(value) = serde_json::from_str::<Value>(raw) {
        return value;
    }
    let documents: Result<Vec<Value>, _> = serde_yaml_ng::Deserializer::from_str(raw)
        .map(Value::deserialize)
        .collect();
    match documents {
        Ok(mut documents) if documents.len() == 1 => documents.pop().unwrap_or(Value::Null),
        Ok(documents) if documents.len() > 1 => Value::Array(documents),
        _ => Value::String(raw.to_owned()),
    }
}

/// Live: whether a resource with `selector` would have read the file entity `item` (its
/// repository and path).
pub(crate) fn selects(selector: &SelectorConfig, item: &Value) -> bool {
    let path = item["file"]["path"].as_str().unwrap_or_default();
    Selection::from(selector).is_ok_and(|s| s.wants_repository(&item["repo"]) && s.matches(path))
}

/// A push to a repository's default branch, as the `file` kind sees it.
pub(crate) struct Pushed<'a> {
    /// The repository re-read from Azure DevOps (`None` when gone).
    pub(crate) repository: Option<&'a Value>,
    /// `(old, new)` object ids of the default branch's ref updates.
    pub(crate) updates: Vec<(&'a CommitId, &'a CommitId)>,
    /// The commit ids the push lists (newest first, as Azure DevOps lists them).
    pub(crate) commits: &'a [CommitId],
}

/// Live: the files a push to the default branch added, changed or deleted, for the `file`
/// resources whose paths (and `files.repos`) match: `(upserts, deletions)` as raw items.
/// Every commit the push lists is read, oldest first, so a file changed in an earlier commit
/// of the push is not missed (upstream reads the head commit only); a file's last change
/// wins. Deletions carry the file's last object id and the repository.
pub(crate) async fn pushed(
    client: &ado_client::Client,
    push: &Pushed<'_>,
    commit_changes: &CommitChanges,
    config: &mapping::PortAppConfig,
) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let Some(repo) = push.repository.filter(|r| has_branches(r)) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let selections: Vec<Selection> = AdoKind::File
        .resources(config)
        .filter_map(|r| Selection::from(&r.selector).ok())
        .filter(|s| s.wants_repository(repo))
        .collect();
    if selections.is_empty() || push.updates.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let (project, repo_id) = (ProjectId::of(&repo["project"]), RepositoryId::of(repo));
    let commits = commits_oldest_first(push.commits, push.updates.iter().map(|(_, new)| *new));
    // path → (its last change, the commit that made it)
    let mut last: BTreeMap<String, (Value, &CommitId)> = BTreeMap::new();
    for commit in commits {
        for change in commit_changes.of(commit).await?.iter() {
            let item = &change["item"];
            let path = item["path"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches('/');
            if item["gitObjectType"] == "blob" && selections.iter().any(|s| s.matches(path)) {
                last.insert(path.to_owned(), (change.clone(), commit));
            }
        }
    }
    let mut included_paths: Vec<String> =
        selections.iter().flat_map(|s| s.included.clone()).collect();
    included_paths.sort();
    included_paths.dedup();
    let included = if included_paths.is_empty() {
        None
    } else {
        Some(included(client, &project, repo, &included_paths).await?)
    };
    let entity = |file: Value| {
        let mut entity = json!({"file": file, "repo": repo});
        if let Some(included) = &included {
            entity["__includedFiles"] = Value::Object(included.clone());
        }
        entity
    };
    let (mut upserts, mut deletions) = (Vec::new(), Vec::new());
    for (path, (change, commit)) in last {
        let item = &change["item"];
        if change["changeType"]
            .as_str()
            .is_some_and(|t| t.contains("delete"))
        {
            let mut gone = Map::new();
            gone.insert("path".to_owned(), json!(path));
            let original = item.get("originalObjectId").unwrap_or(&item["objectId"]);
            gone.insert("objectId".to_owned(), original.clone());
            deletions.push(entity(Value::Object(gone)));
            continue;
        }
        let Some(raw) = client
            .file_at(&project, &repo_id, &path, Some(commit))
            .await?
        else {
            continue;
        };
        if raw.len() <= MAX_FILE_BYTES {
            upserts.push(entity(file_object(item, &raw)));
        }
    }
    Ok((upserts, deletions))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Selection, parse};

    fn selection(paths: &serde_json::Value) -> Selection {
        let selector = mapping::SelectorConfig {
            query: "true".into(),
            extra: serde_json::from_value(json!({"files": {"path": paths}})).unwrap(),
        };
        Selection::from(&selector).unwrap_or_else(|_| panic!("valid"))
    }

    #[test]
    fn globs_are_listed_from_their_base_and_matched_per_segment() {
        let s = selection(&json!([
            "port.yml",
            "services/*/package.json",
            "docs/*.md",
            "**/*.yaml"
        ]));
        assert_eq!(
            s.descriptors,
            [
                ("/".to_owned(), "full"),
                ("/docs".to_owned(), "oneLevel"),
                ("/port.yml".to_owned(), "none"),
                ("/services".to_owned(), "full"),
            ]
        );
        assert!(s.matches("services/api/package.json"));
        assert!(
            !s.matches("services/api/deep/package.json"),
            "* stays in its segment"
        );
        assert!(s.matches("DOCS/Guide.MD"), "case-insensitive");
        assert!(s.matches(".config/settings.yaml"), "dot files match");
        assert!(s.matches("Port.yml"));
        assert!(!s.matches("docs/a/b.md"));
    }

    #[test]
    fn content_is_parsed_as_json_then_yaml_then_kept_as_text() {
        assert_eq!(parse(r#"{"a": 1}"#), json!({"a": 1}));
        assert_eq!(parse("a: 1\nb: [x]\n"), json!({"a": 1, "b": ["x"]}));
        assert_eq!(parse("a: 1\n---\na: 2\n"), json!([{"a": 1}, {"a": 2}]));
        assert_eq!(parse("key: [unclosed"), json!("key: [unclosed"));
    }
}
