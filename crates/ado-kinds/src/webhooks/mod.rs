//! Real time for Azure DevOps (ocean-azure-devops.md §5): service-hook subscriptions
//! ([`subscriptions`]) and the processing of the events they deliver ([`AdoLive`]).
//!
//! Differences from the Python integration, on purpose:
//! - With `webhookSecret` set, a request without the right Basic-auth password is refused
//!   (upstream accepts requests that carry no `Authorization` header at all); the password is
//!   compared in constant time.
//! - `workitem.updated` is read by `resource.workItemId` (upstream reads `resource.id`, the id
//!   of the *update*, and so fetches the wrong work item or none).
//! - A deleted work item is deleted under the identifier its live version had (upstream sends
//!   `{"id"}` only, which the default identifier mapping cannot evaluate).
//! - `git.push` branches carry the full repository, re-read, as in a resync (`push.rs`).
//! - Pipeline, release and Advanced Security events have their own modules (`pipelines.rs`,
//!   `releases.rs`, `advsec.rs`), each listing how it departs from upstream; every event is
//!   routed but `check-updated-event`, which names no pipeline.

mod advsec;
mod catch_up;
mod gitops;
mod pipelines;
mod push;
mod ref_update;
mod releases;
mod shape;
pub mod subscriptions;

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use ado_client::{Client, Error, ProjectId, PullRequestId, RepositoryId};
use base64::Engine;
use futures::StreamExt;
use mapping::PortAppConfig;
use ocean::{
    Page,
    live::{Changes, Classified, LiveEvents},
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tracing::warn;

use crate::{
    AdoKind,
    error::EventShapeError,
    kinds::{organization_fields, project_fields},
};
use shape::Shape;

/// Every (publisher, event type) the Python integration subscribes to (§5.1).
pub const SUBSCRIBED_EVENTS: [(&str, &str); 23] = [
    ("tfs", "git.pullrequest.created"),
    ("tfs", "git.pullrequest.updated"),
    ("tfs", "git.push"),
    ("tfs", "git.repo.created"),
    ("tfs", "workitem.created"),
    ("tfs", "workitem.updated"),
    ("tfs", "workitem.commented"),
    ("tfs", "workitem.deleted"),
    ("tfs", "build.complete"),
    ("tfs", "workitem.restored"),
    ("advsec", "ms.vss-alerts.alert-created-event"),
    ("advsec", "ms.vss-alerts.alert-state-changed-event"),
    ("advsec", "ms.vss-alerts.alert-updated-event"),
    (
        "pipelines",
        "ms.vss-pipelinechecks-events.check-updated-event",
    ),
    ("pipelines", "ms.vss-pipelines.job-state-changed-event"),
    ("pipelines", "ms.vss-pipelines.stage-state-changed-event"),
    ("pipelines", "ms.vss-pipelinechecks-events.approval-pending"),
    (
        "pipelines",
        "ms.vss-pipelinechecks-events.approval-completed",
    ),
    ("pipelines", "ms.vss-pipelines.run-state-changed-event"),
    ("rm", "ms.vss-release.release-created-event"),
    ("rm", "ms.vss-release.release-abandoned-event"),
    ("rm", "ms.vss-release.deployment-started-event"),
    ("rm", "ms.vss-release.deployment-completed-event"),
];

/// Live events of one or more organizations.
pub struct AdoLive {
    orgs: Vec<Client>,
    /// Expected `Authorization` header, when a secret is configured.
    expected: Option<SecretString>,
    /// Subscription id → organization, filled by [`AdoLive::register`].
    registry: RwLock<HashMap<String, usize>>,
    /// `excludedTags`: work item events of such projects are ignored, as upstream.
    excluded_tags: Arc<[String]>,
    /// Set when `appHost` is: [`LiveEvents::upkeep`] keeps the subscriptions current.
    subscriptions: Option<subscriptions::Settings>,
}

impl std::fmt::Debug for AdoLive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let orgs: Vec<&str> = self.orgs.iter().map(Client::organization_url).collect();
        f.debug_struct("AdoLive")
            .field("organizations", &orgs)
            .field("authenticated", &self.expected.is_some())
            .finish_non_exhaustive()
    }
}

impl AdoLive {
    /// Events of `client`'s organization; with `secret`, requests must carry it as their
    /// Basic-auth password (any user name, as Azure DevOps sends the configured one).
    #[must_use]
    pub fn new(client: Client, secret: Option<&SecretString>) -> Arc<Self> {
        Arc::new(Self::organizations(vec![client], secret, &[]))
    }

    /// Events of several organizations, each routed to its own (see [`AdoLive::register`]),
    /// leaving out projects with one of `excluded_tags`.
    #[must_use]
    pub fn organizations(
        clients: Vec<Client>,
        secret: Option<&SecretString>,
        excluded_tags: &[String],
    ) -> Self {
        Self {
            orgs: clients,
            expected: secret.cloned(),
            registry: RwLock::default(),
            excluded_tags: excluded_tags.into(),
            subscriptions: None,
        }
    }

    /// The same, keeping every organization's service-hook subscriptions current with
    /// `settings` (created, repaired, their ids registered) whenever the framework asks
    /// ([`LiveEvents::upkeep`]).
    #[must_use]
    pub fn with_subscriptions(mut self, settings: subscriptions::Settings) -> Self {
        self.subscriptions = Some(settings);
        self
    }

    /// The clients, in the order organizations were given.
    #[must_use]
    pub fn clients(&self) -> &[Client] {
        &self.orgs
    }

    /// Records that organization number `org` delivers through these subscriptions (the
    /// `subscriptionId` of its events), replacing what it had.
    pub fn register(&self, org: usize, subscription_ids: &[String]) {
        let mut registry = self
            .registry
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        registry.retain(|_, o| *o != org);
        registry.extend(subscription_ids.iter().map(|id| (id.clone(), org)));
    }

    /// The organization an event comes from: the only one; else the one whose subscription
    /// delivered it; else the one its `resourceContainers` name by `baseUrl` (newer payloads).
    /// Upstream processes an event of an unknown organization "without a client" (the raw
    /// payload upserted); here it is ignored, and counted.
    fn route(&self, payload: &Value) -> Option<usize> {
        if self.orgs.len() == 1 {
            return Some(0);
        }
        if let Some(org) = payload["subscriptionId"].as_str().and_then(|id| {
            self.registry
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(id)
                .copied()
        }) {
            return Some(org);
        }
        ["account", "collection"].iter().find_map(|container| {
            let base = payload["resourceContainers"][container]["baseUrl"].as_str()?;
            let base = base.trim_end_matches('/');
            self.orgs
                .iter()
                .position(|c| c.organization_url().eq_ignore_ascii_case(base))
        })
    }
}

/// The password of a `Basic` authorization header (scheme case-insensitive).
fn basic_password(header: &str) -> Option<String> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, p)| p.to_owned())
}

/// What an event is about, for routing and ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    WorkItem {
        project: ProjectId,
        id: u64,
    },
    Repository {
        id: RepositoryId,
    },
    PullRequest {
        id: PullRequestId,
    },
    Release(releases::Release),
    Run(pipelines::Run),
    Alert(advsec::Alert),
    /// A `git.push` to a repository.
    Push {
        repository: RepositoryId,
    },
}

impl Target {
    /// The ordering key: events for one object apply in order. A push orders with the other
    /// events of its repository (its creation first, then its pushes in order).
    fn key(&self) -> String {
        match self {
            Self::Push { repository } => format!(
                "{:?}",
                Self::Repository {
                    id: repository.clone()
                }
            ),
            other => format!("{other:?}"),
        }
    }
}

/// What an event of `event_type` is about: `None` for the event types that are not routed
/// (and approvals that name no run), an error naming the field a routed event lacks.
fn target(event_type: &str, payload: &Value) -> Result<Option<Target>, EventShapeError> {
    let shape = Shape::of(event_type);
    let resource = &payload["resource"];
    let project = || {
        let id = &payload["resourceContainers"]["project"]["id"];
        shape
            .text(id, "resourceContainers.project.id")
            .map(ProjectId::from)
    };
    Ok(Some(match event_type {
        "workitem.updated" => Target::WorkItem {
            project: project()?,
            id: shape.number(&resource["workItemId"], "resource.workItemId")?,
        },
        "workitem.created" | "workitem.commented" | "workitem.deleted" | "workitem.restored" => {
            Target::WorkItem {
                project: project()?,
                id: shape.number(&resource["id"], "resource.id")?,
            }
        }
        "git.repo.created" => Target::Repository {
            id: shape
                .text(&resource["repository"]["id"], "resource.repository.id")?
                .into(),
        },
        "git.push" => Target::Push {
            repository: push::repository_id(event_type, resource)?,
        },
        "git.pullrequest.created" | "git.pullrequest.updated" => Target::PullRequest {
            id: shape
                .number(&resource["pullRequestId"], "resource.pullRequestId")?
                .into(),
        },
        "ms.vss-release.release-created-event"
        | "ms.vss-release.release-abandoned-event"
        | "ms.vss-release.deployment-started-event"
        | "ms.vss-release.deployment-completed-event" => {
            Target::Release(releases::release(event_type, payload)?)
        }
        "ms.vss-pipelines.run-state-changed-event"
        | "ms.vss-pipelines.stage-state-changed-event"
        | "ms.vss-pipelines.job-state-changed-event"
        | "build.complete" => Target::Run(pipelines::run(event_type, payload)?),
        "ms.vss-alerts.alert-created-event"
        | "ms.vss-alerts.alert-updated-event"
        | "ms.vss-alerts.alert-state-changed-event" => {
            Target::Alert(advsec::alert(event_type, payload)?)
        }
        // Approvals are about checks; only those that name their run say which one.
        "ms.vss-pipelinechecks-events.approval-pending"
        | "ms.vss-pipelinechecks-events.approval-completed" => {
            match pipelines::run(event_type, payload) {
                Ok(run) => Target::Run(run),
                Err(_) => return Ok(None),
            }
        }
        _ => return Ok(None),
    }))
}

impl LiveEvents for AdoLive {
    type Error = crate::Error;

    fn action_completion(&self, payload: &Value) -> Option<ocean::actions::Completion> {
        crate::actions::completion(payload)
    }

    /// Reconciles each organization's subscriptions on its own (one that fails does not hold
    /// back the others) and records which subscriptions deliver for which organization.
    async fn upkeep(&self) {
        let Some(settings) = &self.subscriptions else {
            return;
        };
        for (org, client) in self.orgs.iter().enumerate() {
            match subscriptions::ensure(client, settings).await {
                Ok(outcome) => self.register(org, &outcome.ids),
                Err(error) => tracing::error!(
                    %error,
                    organization = client.organization_url(),
                    "Could not reconcile the service-hook subscriptions; the next upkeep retries."
                ),
            }
        }
    }

    fn changed_since(
        &self,
        since: jiff::Timestamp,
        config: Arc<PortAppConfig>,
    ) -> futures::stream::BoxStream<'static, Result<Changes, Self::Error>> {
        let per_org: Vec<_> = self
            .orgs
            .iter()
            .map(|client| catch_up::changed_since(client, &self.excluded_tags, since, &config))
            .collect();
        futures::stream::select_all(per_org).boxed()
    }

    fn selects(&self, kind: &str, selector: &mapping::SelectorConfig, item: &Value) -> bool {
        kind.parse::<AdoKind>()
            .is_ok_and(|kind| kind.selects(selector, item))
    }

    fn authenticate(&self, authorization: Option<&str>) -> bool {
        let Some(expected) = &self.expected else {
            return true;
        };
        let Some(password) = authorization.and_then(basic_password) else {
            return false;
        };
        let (a, b) = (password.as_bytes(), expected.expose_secret().as_bytes());
        // Constant time in the password's content (lengths may differ, which is not secret).
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    fn classify(&self, payload: &Value) -> Classified {
        let (Some(event_type), Some(_), Some(_)) = (
            payload["eventType"].as_str(),
            payload["publisherId"].as_str(),
            payload.get("resource").filter(|r| r.is_object()),
        ) else {
            return Classified::Invalid(
                "an Azure DevOps event needs eventType, publisherId and a resource object".into(),
            );
        };
        match target(event_type, payload) {
            Ok(Some(target)) => {
                let Some(org) = self.route(payload) else {
                    warn!(
                        event_type,
                        subscription = payload["subscriptionId"].as_str().unwrap_or_default(),
                        "Ignoring an event of an organization that is not configured."
                    );
                    return Classified::Ignore {
                        event_type: event_type.to_owned(),
                    };
                };
                // Ids are unique within an organization only.
                let key = if self.orgs.len() == 1 {
                    target.key()
                } else {
                    format!("{org}/{}", target.key())
                };
                Classified::Accept {
                    key,
                    event_type: event_type.to_owned(),
                }
            }
            Ok(None) => Classified::Ignore {
                event_type: event_type.to_owned(),
            },
            // The error names the event type and the field.
            Err(refused) => Classified::Invalid(refused.to_string()),
        }
    }

    async fn process(
        &self,
        payload: Value,
        config: Arc<PortAppConfig>,
    ) -> Result<Changes, crate::Error> {
        let event_type = payload["eventType"].as_str().unwrap_or_default().to_owned();
        let (Ok(Some(target)), Some(org)) = (target(&event_type, &payload), self.route(&payload))
        else {
            return Ok(Changes::default());
        };
        let wants = |kind: AdoKind| kind.is_mapped(&config);
        let mut changes = Changes::default();
        let client = &self.orgs[org];
        // The keys a resync adds, in the same order.
        let organization = organization_fields(client);
        let stamp = |items: Vec<Value>| Page::stamped(items, &organization);
        match target {
            Target::WorkItem { project, id } if wants(AdoKind::WorkItem) => {
                let project_object = client.project(&project).await?;
                if crate::kinds::without_excluded(
                    client,
                    vec![project_object.clone()],
                    &self.excluded_tags,
                )
                .await
                .is_empty()
                {
                    return Ok(changes);
                }
                let enrich = |item: Value| {
                    let mut shared = project_fields(project.clone(), project_object.clone());
                    shared.extend(organization.clone());
                    Page::stamped(vec![item], &shared)
                };
                // Read even for `workitem.deleted`: events about one item may arrive swapped
                // (each is delivered on its own), so a deletion followed at once by a
                // restoration must end with the item in Port. Azure DevOps answers 404 for an
                // item in the recycle bin.
                let current = found(client.work_item(&project, id, "All").await)?;
                if let Some(item) = current {
                    changes
                        .updated
                        .push((AdoKind::WorkItem.into(), enrich(item)));
                } else {
                    // Gone (deleted, or deleted since the event): its entity goes too.
                    let mut gone = payload["resource"].clone();
                    gone["id"] = json!(id);
                    changes
                        .deleted
                        .push((AdoKind::WorkItem.into(), enrich(gone)));
                }
            }
            Target::Repository { id } if wants(AdoKind::Repository) => {
                if let Some(repo) = found(client.repository(&id).await)? {
                    let repo = crate::kinds::git::repository::enrich(client, repo, &config).await?;
                    changes
                        .updated
                        .push((AdoKind::Repository.into(), stamp(vec![repo])));
                }
            }
            Target::PullRequest { id } if wants(AdoKind::PullRequest) => {
                if let Some(pr) = found(client.pull_request(id).await)? {
                    changes
                        .updated
                        .push((AdoKind::PullRequest.into(), stamp(vec![pr])));
                }
            }
            Target::Release(release) => {
                return releases::changes(client, &config, release, &organization).await;
            }
            Target::Alert(alert) => {
                return advsec::changes(client, &config, alert, &payload, &organization).await;
            }
            Target::Run(run) => {
                return pipelines::changes(client, &config, run, &organization).await;
            }
            Target::Push { .. } => changes = push::process(client, &payload, &config).await?,
            _ => {}
        }
        Ok(changes)
    }
}

/// `Ok(None)` for a 404 (the object is gone), the error text otherwise.
fn found(result: Result<Value, Error>) -> Result<Option<Value>, crate::Error> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    fn live(secret: Option<&str>) -> Arc<AdoLive> {
        let client = Client::new(
            &"https://dev.azure.com/acme".parse().unwrap(),
            &SecretString::from("pat"),
            &ado_client::ClientOptions::default(),
        )
        .unwrap();
        AdoLive::new(client, secret.map(SecretString::from).as_ref())
    }

    fn basic(user: &str, password: &str) -> String {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {token}")
    }

    #[test]
    fn a_configured_secret_is_required_and_compared_exactly() {
        let live = live(Some("s3cret"));
        assert!(live.authenticate(Some(&basic("port", "s3cret"))));
        assert!(live.authenticate(Some(&basic("anyone", "s3cret"))));
        assert!(!live.authenticate(Some(&basic("port", "s3cret!"))));
        assert!(!live.authenticate(Some(&basic("port", "S3cret"))));
        assert!(!live.authenticate(None), "no header is no access");
        assert!(!live.authenticate(Some("Bearer s3cret")));
        assert!(self::live(None).authenticate(None));
    }

    #[test]
    fn events_are_classified_by_what_they_are_about() {
        let live = live(None);
        let updated = json!({"eventType": "workitem.updated", "publisherId": "tfs",
            "resource": {"id": 7, "workItemId": 42}, "resourceContainers": {"project": {"id": "p"}}});
        assert_eq!(
            live.classify(&updated),
            Classified::Accept {
                key: "WorkItem { project: \"p\", id: 42 }".into(),
                event_type: "workitem.updated".into()
            },
            "the work item id, not the update id"
        );
        let unknown = json!({"eventType": "ms.vss-pipelinechecks-events.check-updated-event",
            "publisherId": "pipelines", "resource": {}});
        assert!(matches!(live.classify(&unknown), Classified::Ignore { .. }));
        let partial = json!({"eventType": "workitem.updated", "publisherId": "tfs", "resource": {"id": 7},
            "resourceContainers": {"project": {"id": "p"}}});
        assert!(
            matches!(live.classify(&partial), Classified::Invalid(r) if r.contains("workItemId"))
        );
        assert!(matches!(
            live.classify(&json!({"eventType": "x"})),
            Classified::Invalid(_)
        ));
    }

    #[test]
    fn a_malformed_event_is_refused_with_its_type_and_the_field_it_lacks() {
        let live = live(None);
        let refused = |payload: Value| match live.classify(&payload) {
            Classified::Invalid(reason) => reason,
            other => panic!("{other:?}"),
        };
        let pr = json!({"eventType": "git.pullrequest.updated", "publisherId": "tfs",
            "resource": {"pullRequestId": "12"}});
        assert_eq!(
            refused(pr),
            "git.pullrequest.updated: resource.pullRequestId is not a whole number"
        );
        let alert = json!({"eventType": "ms.vss-alerts.alert-created-event", "publisherId": "advsec",
            "resourceContainers": {"project": {"id": "p"}}, "resource": {"alertId": 3}});
        assert_eq!(
            refused(alert),
            "ms.vss-alerts.alert-created-event: resource.repositoryId is missing"
        );
        let deployment = json!({"eventType": "ms.vss-release.deployment-started-event",
            "publisherId": "rm", "resourceContainers": {"project": {"id": "p"}},
            "resource": {"environment": {"releaseId": 5}}});
        assert_eq!(
            refused(deployment),
            "ms.vss-release.deployment-started-event: \
             resource.environment.definitionEnvironmentId is missing"
        );
    }

    #[test]
    fn a_run_and_its_build_are_one_ordering_key() {
        let live = live(None);
        let run_changed = json!({"eventType": "ms.vss-pipelines.run-state-changed-event",
            "publisherId": "pipelines", "resourceContainers": {"project": {"id": "p"}},
            "resource": {"run": {"id": 104, "state": "completed"}, "pipeline": {"id": 1}, "runId": 104}});
        // An older `build.complete` without resourceContainers: the build names its project.
        let build_complete = json!({"eventType": "build.complete", "publisherId": "tfs",
            "resource": {"id": 104, "definition": {"id": 1}, "project": {"id": "p"}}});
        let (Classified::Accept { key: a, .. }, Classified::Accept { key: b, .. }) =
            (live.classify(&run_changed), live.classify(&build_complete))
        else {
            panic!("both are accepted");
        };
        assert_eq!(a, b, "events of one run apply in order");
        let no_run = json!({"eventType": "ms.vss-pipelines.run-state-changed-event",
            "publisherId": "pipelines", "resourceContainers": {"project": {"id": "p"}},
            "resource": {"pipeline": {"id": 1}}});
        assert!(
            matches!(live.classify(&no_run), Classified::Invalid(r) if r.contains("resource.run.id"))
        );
        let stage = json!({"eventType": "ms.vss-pipelines.stage-state-changed-event",
            "publisherId": "pipelines", "resourceContainers": {"project": {"id": "p"}},
            "resource": {"stage": {"id": "s"}, "run": {"id": 104}, "pipeline": {"id": 1}}});
        assert!(matches!(live.classify(&stage), Classified::Accept { .. }));
        let approval = json!({"eventType": "ms.vss-pipelinechecks-events.approval-pending",
            "publisherId": "pipelines", "resourceContainers": {"project": {"id": "p"}},
            "resource": {"approval": {"id": "a"}}});
        assert!(
            matches!(live.classify(&approval), Classified::Ignore { .. }),
            "an approval that names no run is not an error"
        );
        let no_project = json!({"eventType": "build.complete", "publisherId": "tfs",
            "resource": {"id": 104, "definition": {"id": 1}}});
        assert!(
            matches!(live.classify(&no_project), Classified::Invalid(r) if r.contains("project"))
        );
        assert!(matches!(
            live.classify(&json!([1, 2])),
            Classified::Invalid(_)
        ));
    }

    #[test]
    fn with_several_organizations_an_event_goes_to_the_one_that_sent_it() {
        let client = |url: &str| {
            Client::new(
                &url.parse().unwrap(),
                &SecretString::from("pat"),
                &ado_client::ClientOptions::default(),
            )
            .unwrap()
        };
        let live = Arc::new(AdoLive::organizations(
            vec![
                client("https://dev.azure.com/acme"),
                client("https://dev.azure.com/globex"),
            ],
            None,
            &[],
        ));
        live.register(1, &["s-globex".to_owned()]);
        let event = |subscription: &str, base: Option<&str>| {
            json!({"eventType": "git.repo.created", "publisherId": "tfs", "subscriptionId": subscription,
                "resource": {"repository": {"id": "r"}},
                "resourceContainers": {"account": {"id": "a", "baseUrl": base}}})
        };
        let key = |event: &Value| match live.classify(event) {
            Classified::Accept { key, .. } => Some(key),
            _ => None,
        };
        assert!(key(&event("s-globex", None)).unwrap().starts_with("1/"));
        assert!(
            key(&event("unknown", Some("https://dev.azure.com/ACME/")))
                .unwrap()
                .starts_with("0/"),
            "by the account's baseUrl"
        );
        assert_eq!(
            key(&event("unknown", Some("https://dev.azure.com/initech/"))),
            None
        );
        live.register(1, &[]);
        assert_eq!(
            key(&event("s-globex", None)),
            None,
            "registrations are replaced"
        );
    }
}
