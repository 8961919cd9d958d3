//! Git area kinds.

pub mod branch;
pub mod file;
pub mod folder;
pub mod pull_request;
pub mod repository;
pub mod repository_policy;

/// Upstream's "healthy repository" filter, narrowed to repositories that have a default branch:
/// disabled repositories cannot be read, and an empty one has no branches, so no policies, no
/// pull requests and nothing for `branch`.
pub(crate) fn has_branches(repo: &serde_json::Value) -> bool {
    !repo["isDisabled"].as_bool().unwrap_or(false) && repo.get("defaultBranch").is_some()
}
