//! `user`: the organization's users (ocean-azure-devops.md §3.1), from
//! - `source: entitlements` (the default): user entitlements (`GET vsaex/_apis/userentitlements`),
//!   `includeFields` sent as `select` (`license`, `extensions`, `projects`, `groupRules`) and
//!   `apiVersion` as the api-version (before 7.0 the list pages by `top`/`skip`);
//! - `source: graph`: Graph users (`GET vssps/_apis/graph/users`, `subjectTypes`), with
//!   `includeGroupMemberships` adding `__groups` (the subjects of the groups a user is directly
//!   in, looked up 500 at a time) and `__projects` (the sorted distinct names `X` of those
//!   groups' `[X]\Group` principal names), ten users at a time.
//!
//! Unknown `source` or `includeFields` values are refused, naming the allowed ones.

use std::collections::BTreeSet;

use ado_client::Error;
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{Source, flag};
use crate::AdoKind;

/// Users whose memberships are read at a time (upstream's `MAX_CONCURRENT_USER_MEMBERSHIPS`).
const MEMBERSHIP_CONCURRENCY: usize = 10;
const INCLUDE_FIELDS: [&str; 4] = ["license", "extensions", "projects", "groupRules"];

/// Streams pages of users.
pub(crate) fn fetch(source: &Source, options: Options) -> PageStream<Error> {
    match options {
        Options::Entitlements(query) => source
            .client
            .user_entitlements(query)
            .map_ok(Page::from)
            .boxed(),
        Options::Graph {
            subject_types,
            memberships,
        } => {
            let source = source.clone();
            source
                .client
                .graph_users(subject_types)
                .and_then(move |users| {
                    let source = source.clone();
                    async move {
                        if memberships {
                            with_groups(&source, users).await.map(Page::from)
                        } else {
                            Ok(Page::from(users))
                        }
                    }
                })
                .boxed()
        }
    }
}

/// Where users are read from, and with what.
pub(crate) enum Options {
    /// User entitlements, with these query parameters.
    Entitlements(Vec<(&'static str, String)>),
    /// Graph users.
    Graph {
        /// `subjectTypes`, comma-joined.
        subject_types: Option<String>,
        /// `includeGroupMemberships`.
        memberships: bool,
    },
}

impl Options {
    /// The options of `selector`, or which one is wrong.
    pub(crate) fn from(selector: &SelectorConfig) -> Result<Self, crate::Error> {
        let refuse =
            |option: &str, message: String| crate::Error::selector(AdoKind::User, option, message);
        let strings = |option: &str| -> Result<Vec<String>, crate::Error> {
            match selector.extra.get(option) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| refuse(option, format!("must list strings, not {v}")))
                    })
                    .collect(),
                Some(other) => Err(refuse(option, format!("must be a list, not {other}"))),
            }
        };
        match selector.extra.get("source").and_then(Value::as_str) {
            None | Some("entitlements") => {
                let fields = strings("includeFields")?;
                if let Some(bad) = fields
                    .iter()
                    .find(|f| !INCLUDE_FIELDS.contains(&f.as_str()))
                {
                    return Err(refuse(
                        "includeFields",
                        format!("\"{bad}\" is not one of {}", INCLUDE_FIELDS.join(", ")),
                    ));
                }
                let mut query = Vec::new();
                if !fields.is_empty() {
                    query.push(("select", fields.join(",")));
                }
                if let Some(version) = selector.extra.get("apiVersion").and_then(Value::as_str) {
                    query.push(("api-version", version.to_owned()));
                }
                Ok(Self::Entitlements(query))
            }
            Some("graph") => {
                let types = strings("subjectTypes")?;
                Ok(Self::Graph {
                    subject_types: (!types.is_empty()).then(|| types.join(",")),
                    memberships: flag(selector, "includeGroupMemberships"),
                })
            }
            Some(other) => Err(refuse(
                "source",
                format!("\"{other}\" is not one of entitlements, graph"),
            )),
        }
    }
}

/// `users` with `__groups` and `__projects`.
async fn with_groups(source: &Source, users: Vec<Value>) -> Result<Vec<Value>, Error> {
    // Futures are built first and then streamed: closures over borrowed users inside the
    // stream trip rustc's `Send` inference where the resync spawns this.
    let reads: Vec<_> = users
        .iter()
        .map(|user| {
            let client = source.client.clone();
            let descriptor = user["descriptor"].as_str().unwrap_or_default().to_owned();
            async move { client.memberships(&descriptor, false).await }
        })
        .collect();
    let memberships: Vec<Vec<Value>> = stream::iter(reads)
        .buffered(MEMBERSHIP_CONCURRENCY)
        .try_collect()
        .await?;
    let containers: Vec<Vec<String>> = memberships
        .iter()
        .map(|list| {
            list.iter()
                .filter_map(|m| m["containerDescriptor"].as_str().map(str::to_owned))
                .collect()
        })
        .collect();
    let distinct: BTreeSet<&String> = containers.iter().flatten().collect();
    let wanted: Vec<String> = distinct.into_iter().cloned().collect();
    let groups = source.client.lookup_subjects(&wanted).await?;
    Ok(users
        .into_iter()
        .zip(containers)
        .map(|(mut user, containers)| {
            let mine: Vec<Value> = containers
                .iter()
                .filter_map(|d| groups.get(d).cloned())
                .collect();
            let projects: BTreeSet<&str> = mine
                .iter()
                .filter_map(|g| project_of(g["principalName"].as_str()?))
                .collect();
            user["__projects"] = projects.into_iter().collect::<Vec<_>>().into();
            user["__groups"] = Value::Array(mine);
            user
        })
        .collect())
}

/// `X` of a group's principal name `[X]\Group`.
fn project_of(principal: &str) -> Option<&str> {
    let rest = principal.strip_prefix('[')?;
    let (name, group) = rest.split_once("]\\")?;
    (!name.is_empty() && !group.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::project_of;

    #[test]
    fn the_project_is_the_bracketed_part_of_a_group_name() {
        assert_eq!(project_of(r"[Fabrikam]\Contributors"), Some("Fabrikam"));
        assert_eq!(
            project_of(r"[Fabrikam Fiber]\Team A"),
            Some("Fabrikam Fiber")
        );
        assert_eq!(project_of("Contributors"), None);
        assert_eq!(project_of(r"[]\Contributors"), None);
        assert_eq!(project_of("[Fabrikam]"), None);
    }
}
