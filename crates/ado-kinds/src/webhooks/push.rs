//! `git.push`: one push, read once, for everything a push feeds: `branch`, `file`
//! (`file::pushed`), `folder` (`folder::pushed`), gitops spec files (`gitops.rs`), and `wiki`
//! for a push to a project wiki's repository (`wiki_page::pushed`), all reading the same
//! [`Push`] and the same re-read repository.
//!
//! Branches, as upstream's `BranchWebhookProcessor` (§5.3): each `refs/heads/*` ref update whose
//! `newObjectId` is 40 zeros deletes `{name, refName, objectId: oldObjectId, __repository}`,
//! any other upserts `{name, refName, objectId: newObjectId, __repository}`. Unlike upstream,
//! `__repository` is the full repository re-read from Azure DevOps (upstream uses the payload's
//! smaller copy), so the identifier and properties the mapping computes are the ones a resync
//! computes; a repository that is gone (404) or not healthy gets no upserts, as a resync would
//! list none of its branches.

use crate::AdoKind;
use ado_client::{Client, CommitId, RepositoryId};
use mapping::PortAppConfig;
use ocean::{Page, live::Changes};
use serde_json::{Map, Value, json};

use super::{found, ref_update::RefUpdate, shape::Shape};
use crate::error::EventShapeError;
use crate::kinds::{
    git::{
        CommitChanges,
        branch::{self, HEADS},
        file, folder, has_branches,
    },
    organization_fields, shared,
    wiki::wiki_page,
};

/// The repository a `git.push` is about, for routing and ordering; an error names the field a
/// malformed push lacks.
pub(super) fn repository_id(
    event_type: &str,
    resource: &Value,
) -> Result<RepositoryId, EventShapeError> {
    let shape = Shape::of(event_type);
    let id = shape.text(&resource["repository"]["id"], "resource.repository.id")?;
    shape.array(&resource["refUpdates"], "resource.refUpdates")?;
    Ok(RepositoryId::from(id))
}

/// The parts of a push its consumers read.
#[derive(Debug, Clone)]
struct Push {
    /// The payload's repository (`id`, `name`, `url`, `project`, `defaultBranch`, `remoteUrl`).
    repository: Value,
    /// Ref updates with a name and both object ids (others are skipped).
    updates: Vec<RefUpdate>,
}

impl Push {
    fn read(resource: &Value) -> Self {
        let text = |update: &Value, key: &str| update[key].as_str().map(str::to_owned);
        let updates = resource["refUpdates"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|update| {
                Some(RefUpdate {
                    name: text(update, "name")?,
                    old: CommitId::from(text(update, "oldObjectId")?),
                    new: CommitId::from(text(update, "newObjectId")?),
                })
            })
            .collect();
        Self {
            repository: resource["repository"].clone(),
            updates,
        }
    }
}

/// The changes a push makes to the live mapping's kinds.
pub(super) async fn process(
    client: &Client,
    payload: &Value,
    config: &PortAppConfig,
) -> Result<Changes, crate::Error> {
    let wants = |kind: AdoKind| kind.is_mapped(config);
    let mut changes = Changes::default();
    let push = Push::read(&payload["resource"]);
    let organization = organization_fields(client);
    // A project wiki lives in a hidden repository named `{project}.wiki` (upstream's test).
    if push.repository["name"].as_str().is_some_and(|n| {
        std::path::Path::new(n)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("wiki"))
    }) {
        if wants(AdoKind::Wiki) {
            let id = RepositoryId::of(&push.repository);
            let pages = wiki_page::pushed(client, &push.repository["project"], &id, config).await?;
            if !pages.is_empty() {
                let items = Page::stamped(pages, &organization);
                changes.updated.push((AdoKind::Wiki.into(), items));
            }
        }
        return Ok(changes);
    }
    let id = RepositoryId::of(&push.repository);
    // Read once, for every consumer: the repository as a resync sees it, or `None` when gone.
    let current = found(client.repository(&id).await)?;
    // gitops spec files are read on every push to their branch, whatever the mapping (as
    // upstream, whose default `specPath` is always on).
    let repository = current.as_ref().unwrap_or(&push.repository);
    changes.declared = super::gitops::declared(client, repository, &push.updates, config).await?;
    if !wants(AdoKind::Branch) && !wants(AdoKind::File) && !wants(AdoKind::Folder) {
        return Ok(changes);
    }
    if wants(AdoKind::Branch) {
        branches(&push, current.as_ref(), &organization, &mut changes);
    }
    let read = Context {
        client,
        push: &push,
        current: current.as_ref(),
        commits: commit_ids(&payload["resource"]),
        changes: CommitChanges::new(client, repository),
        config,
        organization: &organization,
    };
    if wants(AdoKind::Folder) {
        folders(&read, &mut changes).await?;
    }
    if wants(AdoKind::File) {
        files(&read, &mut changes).await?;
    }
    Ok(changes)
}

/// What the file and folder consumers of one push read: the push, the repository re-read
/// (`None` when gone), the commits the push lists, and their changes, each read once.
struct Context<'a> {
    client: &'a Client,
    push: &'a Push,
    current: Option<&'a Value>,
    commits: Vec<CommitId>,
    changes: CommitChanges,
    config: &'a PortAppConfig,
    organization: &'a Map<String, Value>,
}

/// The folders a push adds or deletes on the branches `folder` resources read
/// (`folder::pushed`).
async fn folders(read: &Context<'_>, changes: &mut Changes) -> Result<(), crate::Error> {
    let updates: Vec<(&str, &CommitId)> = read
        .push
        .updates
        .iter()
        .filter(|u| !u.deleted())
        .filter_map(|u| Some((u.name.strip_prefix(HEADS)?, &u.new)))
        .collect();
    let found = folder::pushed(
        read.client,
        read.current,
        &updates,
        &read.commits,
        &read.changes,
        read.config,
    )
    .await?;
    record(changes, AdoKind::Folder, found, read.organization);
    Ok(())
}

/// Adds a consumer's `(upserts, deletions)` of `kind`, with the organization's keys.
fn record(
    changes: &mut Changes,
    kind: AdoKind,
    (upserts, deletions): (Vec<Value>, Vec<Value>),
    organization: &Map<String, Value>,
) {
    let stamp = |items: Vec<Value>| Page::stamped(items, organization);
    if !upserts.is_empty() {
        changes.updated.push((kind.into(), stamp(upserts)));
    }
    if !deletions.is_empty() {
        changes.deleted.push((kind.into(), stamp(deletions)));
    }
}

/// The ids of the commits a push lists (newest first, as Azure DevOps lists them).
fn commit_ids(resource: &Value) -> Vec<CommitId> {
    resource["commits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["commitId"].as_str().map(CommitId::from))
        .collect()
}

/// The files a push to the default branch adds, changes or deletes (`file::pushed`).
async fn files(read: &Context<'_>, changes: &mut Changes) -> Result<(), crate::Error> {
    let default_branch = read.current.and_then(|r| r["defaultBranch"].as_str());
    let pushed = file::Pushed {
        repository: read.current,
        updates: read
            .push
            .updates
            .iter()
            .filter(|u| Some(u.name.as_str()) == default_branch && !u.deleted())
            .map(|u| (&u.old, &u.new))
            .collect(),
        commits: &read.commits,
    };
    let found = file::pushed(read.client, &pushed, &read.changes, read.config).await?;
    record(changes, AdoKind::File, found, read.organization);
    Ok(())
}

/// The branches a push creates, moves or deletes.
fn branches(
    push: &Push,
    current: Option<&Value>,
    organization: &Map<String, Value>,
    changes: &mut Changes,
) {
    let (mut upserts, mut deletes) = (Vec::new(), Vec::new());
    for update in push.updates.iter().filter(|u| u.name.starts_with(HEADS)) {
        if update.deleted() {
            deletes.push(branch::item(&update.name, &json!(update.old)));
        } else {
            upserts.push(branch::item(&update.name, &json!(update.new)));
        }
    }
    let page = |items: Vec<Value>, repository: &Value| {
        let mut keys = shared("__repository", repository.clone());
        keys.extend(organization.clone());
        Page::stamped(items, &keys)
    };
    if let Some(repository) = current.filter(|r| has_branches(r))
        && !upserts.is_empty()
    {
        changes
            .updated
            .push((AdoKind::Branch.into(), page(upserts, repository)));
    }
    if !deletes.is_empty() {
        // A deleted repository is deleted under its last known form (the payload's).
        let repository = current.unwrap_or(&push.repository);
        changes
            .deleted
            .push((AdoKind::Branch.into(), page(deletes, repository)));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use ocean::live::{Classified, LiveEvents};
    use secrecy::SecretString;

    use super::*;
    use crate::webhooks::{AdoLive, ref_update::NO_OBJECT};

    fn push(resource: &Value) -> Value {
        json!({"eventType": "git.push", "publisherId": "tfs", "resource": resource})
    }

    #[test]
    fn pushes_are_accepted_per_repository_and_malformed_ones_name_the_missing_field() {
        let client = Client::new(
            &"https://dev.azure.com/acme".parse().unwrap(),
            &SecretString::from("pat"),
            &ado_client::ClientOptions::default(),
        )
        .unwrap();
        let live = AdoLive::new(client, None);
        let update =
            json!([{"name": "refs/heads/main", "oldObjectId": NO_OBJECT, "newObjectId": "a"}]);
        let good = push(&json!({"repository": {"id": "r1"}, "refUpdates": update}));
        let Classified::Accept { key, event_type } = live.classify(&good) else {
            panic!("{:?}", live.classify(&good));
        };
        assert_eq!(event_type, "git.push");
        let created = json!({"eventType": "git.repo.created", "publisherId": "tfs",
            "resource": {"repository": {"id": "r1"}}});
        assert!(
            matches!(live.classify(&created), Classified::Accept { key: k, .. } if k == key),
            "a repository's creation and its pushes share one ordering key"
        );
        let other = push(&json!({"repository": {"id": "r2"}, "refUpdates": []}));
        assert!(matches!(live.classify(&other), Classified::Accept { key: k, .. } if k != key));

        for (resource, field) in [
            (json!({"refUpdates": update}), "resource.repository.id"),
            (
                json!({"repository": {"id": 7}, "refUpdates": update}),
                "resource.repository.id",
            ),
            (json!({"repository": {"id": "r1"}}), "resource.refUpdates"),
            (
                json!({"repository": {"id": "r1"}, "refUpdates": {"name": "x"}}),
                "resource.refUpdates",
            ),
        ] {
            let classified = live.classify(&push(&resource));
            assert!(
                matches!(&classified, Classified::Invalid(reason) if reason.contains(field)),
                "{resource}: {classified:?}"
            );
        }
    }

    #[test]
    fn head_updates_become_upserts_and_deletions_and_other_refs_are_left_alone() {
        let resource = json!({"repository": {"id": "r1", "name": "payload"}, "refUpdates": [
            {"name": "refs/heads/feature/a", "oldObjectId": NO_OBJECT, "newObjectId": "n1"},
            {"name": "refs/heads/old", "oldObjectId": "o2", "newObjectId": NO_OBJECT},
            {"name": "refs/tags/v1", "oldObjectId": NO_OBJECT, "newObjectId": "n3"},
            {"name": "refs/heads/broken"},
        ]});
        let push = Push::read(&resource);
        let organization = Map::from_iter([("__organizationName".into(), json!("acme"))]);
        let current = json!({"id": "r1", "name": "current", "defaultBranch": "refs/heads/main"});
        let mut changes = Changes::default();
        branches(&push, Some(&current), &organization, &mut changes);
        assert_eq!(
            changes.updated,
            [(
                "branch".to_owned(),
                vec![
                    json!({"name": "feature/a", "refName": "refs/heads/feature/a",
                    "objectId": "n1", "__repository": current, "__organizationName": "acme"})
                ]
            )]
        );
        assert_eq!(
            changes.deleted,
            [(
                "branch".to_owned(),
                vec![json!({"name": "old", "refName": "refs/heads/old",
                    "objectId": "o2", "__repository": current, "__organizationName": "acme"})]
            )]
        );

        // The repository is gone: nothing to upsert, deletions under the payload's repository.
        let mut gone = Changes::default();
        branches(&push, None, &organization, &mut gone);
        assert!(gone.updated.is_empty());
        assert_eq!(gone.deleted[0].1[0]["__repository"]["name"], "payload");
        // A disabled repository's branches are not listed by a resync, nor upserted live.
        let disabled = json!({"id": "r1", "isDisabled": true, "defaultBranch": "refs/heads/main"});
        let mut skipped = Changes::default();
        branches(&push, Some(&disabled), &organization, &mut skipped);
        assert!(skipped.updated.is_empty() && skipped.deleted.len() == 1);
    }
}
