//! Service-hook subscriptions (ocean-azure-devops.md §5.1): on start, the subscriptions this
//! integration needs are listed and only the missing ones are created, so a restart creates
//! none. Per (publisher, event type) and, with `isProjectsLimited`, per project.
//!
//! An existing subscription matches when its publisher, event type, URL and project are ours.
//! A match that Azure DevOps disabled or put on probation is deleted and created again (as
//! upstream). Beyond upstream, a match whose credentials are stale is updated in place: Azure
//! DevOps masks the password when listing, so every subscription carries a fingerprint of its
//! credentials in a custom header (`X-Ocean-Credentials`, an HMAC-SHA256 keyed with the
//! personal access token, which cannot be reversed into the secret without the token).

use ado_client::{Client, Error, Host};
use futures::{StreamExt, TryStreamExt, stream};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha2::Sha256;
use tracing::{info, warn};
use url::Url;

use super::SUBSCRIBED_EVENTS;

/// Requests in flight while reconciling (upstream uses 5).
const CONCURRENCY: usize = 5;
/// The header carrying the credentials' fingerprint.
const FINGERPRINT_HEADER: &str = "X-Ocean-Credentials";

/// What the subscriptions must look like.
pub struct Settings {
    /// `appHost`: events go to `{appHost}/integration/webhook`.
    pub app_host: Url,
    /// `webhookAuthUsername`.
    pub username: String,
    /// `webhookSecret` (no Basic auth on subscriptions without it).
    pub secret: Option<SecretString>,
    /// `isProjectsLimited`: one subscription per project instead of one per organization.
    pub projects_limited: bool,
    /// Key of the credentials fingerprint (the personal access token).
    pub fingerprint_key: SecretString,
    /// `excludedTags`: projects with one of them get no project subscriptions (as upstream).
    pub excluded_tags: Vec<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("app_host", &self.app_host.as_str())
            .field("projects_limited", &self.projects_limited)
            .finish_non_exhaustive()
    }
}

/// What [`ensure`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Subscriptions already right.
    pub kept: usize,
    /// Missing ones created.
    pub created: usize,
    /// Disabled or on-probation ones deleted and created again.
    pub recreated: usize,
    /// Ones with stale credentials updated in place.
    pub updated: usize,
    /// Failures, logged and left for the next start (as upstream).
    pub failed: Vec<String>,
    /// Ids of the subscriptions in use (kept, created, recreated or updated): events name
    /// theirs in `subscriptionId`, which tells their organization apart.
    pub ids: Vec<String>,
}

impl Settings {
    /// The URL Azure DevOps posts events to.
    #[must_use]
    pub fn webhook_url(&self) -> String {
        format!(
            "{}/integration/webhook",
            self.app_host.as_str().trim_end_matches('/')
        )
    }

    fn fingerprint(&self) -> String {
        let secret = self.secret.as_ref().map_or("", |s| s.expose_secret());
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.fingerprint_key.expose_secret().as_bytes())
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(format!("{}:{secret}", self.username).as_bytes());
        let digest = mac.finalize().into_bytes();
        digest.iter().take(16).fold(String::new(), |mut hex, b| {
            use std::fmt::Write;
            let _ = write!(hex, "{b:02x}");
            hex
        })
    }

    fn body(&self, publisher: &str, event_type: &str, project: Option<&str>) -> Value {
        let mut inputs = json!({
            "url": self.webhook_url(),
            "httpHeaders": format!("{FINGERPRINT_HEADER}: {}", self.fingerprint()),
        });
        if let Some(secret) = &self.secret {
            inputs["basicAuthUsername"] = json!(self.username);
            inputs["basicAuthPassword"] = json!(secret.expose_secret());
        }
        json!({
            "publisherId": publisher,
            "eventType": event_type,
            // No `resourceVersion`, as upstream: the service's default for each publisher
            // applies ("1.0" is not a version the pipelines or release publishers list).
            "consumerId": "webHooks",
            "consumerActionId": "httpRequest",
            "publisherInputs": project.map_or_else(|| json!({}), |p| json!({"projectId": p})),
            "consumerInputs": inputs,
        })
    }

    fn matches(&self, existing: &Value, project: Option<&str>) -> bool {
        existing["consumerInputs"]["url"].as_str() == Some(self.webhook_url().as_str())
            && existing["publisherInputs"]["projectId"].as_str() == project
    }

    fn current_credentials(&self, existing: &Value) -> bool {
        let headers = existing["consumerInputs"]["httpHeaders"]
            .as_str()
            .unwrap_or_default();
        let expected = format!("{FINGERPRINT_HEADER}: {}", self.fingerprint());
        headers.lines().any(|line| line.trim() == expected)
    }
}

/// The host that serves a publisher's subscriptions (as upstream: release events on the
/// release host, Advanced Security on its own).
fn host(publisher: &str) -> Host {
    match publisher {
        "rm" => Host::Release,
        "advsec" => Host::AdvancedSecurity,
        _ => Host::Core,
    }
}

enum Action {
    Keep(String),
    Create,
    Recreate(String),
    Update(String),
}

type Planned = (&'static str, &'static str, Option<String>, Action);

/// What to do for every (event, project).
fn plan(settings: &Settings, projects: &[Option<String>], existing: &[Vec<Value>]) -> Vec<Planned> {
    let mut plan = Vec::new();
    for ((publisher, event_type), existing) in SUBSCRIBED_EVENTS.iter().zip(existing) {
        for project in projects {
            let project = project.as_deref();
            let mine: Vec<&Value> = existing
                .iter()
                .filter(|s| settings.matches(s, project))
                .collect();
            let healthy = mine.iter().find(|s| s["status"] == "enabled");
            let action = match (healthy, mine.first()) {
                (Some(s), _) if settings.current_credentials(s) => {
                    Action::Keep(s["id"].as_str().unwrap_or_default().to_owned())
                }
                (Some(s), _) => Action::Update(s["id"].as_str().unwrap_or_default().to_owned()),
                (None, Some(s)) => {
                    Action::Recreate(s["id"].as_str().unwrap_or_default().to_owned())
                }
                (None, None) => Action::Create,
            };
            plan.push((*publisher, *event_type, project.map(str::to_owned), action));
        }
    }
    plan
}

/// What [`apply`] did to one subscription, and its id.
enum Done {
    Kept(String),
    Created(String),
    Recreated(String),
    Updated(String),
}

/// The id of a subscription as Azure DevOps answered its creation.
fn created_id(answer: &Value) -> String {
    answer["id"].as_str().unwrap_or_default().to_owned()
}

async fn apply(
    client: &Client,
    settings: &Settings,
    (publisher, event_type, project, action): Planned,
) -> (&'static str, Result<Done, Error>) {
    let mut body = settings.body(publisher, event_type, project.as_deref());
    let host = host(publisher);
    let result = async {
        Ok(match action {
            Action::Keep(id) => Done::Kept(id),
            Action::Create => {
                Done::Created(created_id(&client.create_subscription(host, &body).await?))
            }
            Action::Update(id) => {
                body["id"] = json!(id);
                client.replace_subscription(host, &id, &body).await?;
                Done::Updated(id)
            }
            Action::Recreate(id) => {
                client.delete_subscription(host, &id).await?;
                Done::Recreated(created_id(&client.create_subscription(host, &body).await?))
            }
        })
    }
    .await;
    (event_type, result)
}

/// Creates, repairs or updates the subscriptions; never deletes one that is not ours.
pub async fn ensure(client: &Client, settings: &Settings) -> Result<Outcome, Error> {
    let projects: Vec<Option<String>> = if settings.projects_limited {
        let projects = client.projects().try_concat().await?;
        crate::kinds::without_excluded(client, projects, &settings.excluded_tags)
            .await
            .iter()
            .filter_map(|p| p["id"].as_str().map(|id| Some(id.to_owned())))
            .collect()
    } else {
        vec![None]
    };
    // Futures are built first and then streamed (not mapped inside the stream): closures over
    // borrowed tuples in a stream trip rustc's `Send` inference when the caller spawns this.
    let reads: Vec<_> = SUBSCRIBED_EVENTS
        .iter()
        .map(|&(publisher, event_type)| client.subscriptions(publisher, event_type))
        .collect();
    let existing: Vec<Vec<Value>> = stream::iter(reads)
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    let writes: Vec<_> = plan(settings, &projects, &existing)
        .into_iter()
        .map(|planned| apply(client, settings, planned))
        .collect();
    let results: Vec<(&str, Result<Done, Error>)> = stream::iter(writes)
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut outcome = Outcome::default();
    for (event_type, result) in results {
        let id = match result {
            Ok(Done::Kept(id)) => {
                outcome.kept += 1;
                id
            }
            Ok(Done::Created(id)) => {
                outcome.created += 1;
                id
            }
            Ok(Done::Recreated(id)) => {
                outcome.recreated += 1;
                id
            }
            Ok(Done::Updated(id)) => {
                outcome.updated += 1;
                id
            }
            Err(error) => {
                warn!(event_type, %error, "Could not set up a service-hook subscription.");
                outcome.failed.push(format!("{event_type}: {error}"));
                continue;
            }
        };
        outcome.ids.push(id);
    }
    info!(
        kept = outcome.kept,
        created = outcome.created,
        recreated = outcome.recreated,
        updated = outcome.updated,
        failed = outcome.failed.len(),
        url = %settings.webhook_url(),
        "Service-hook subscriptions checked."
    );
    Ok(outcome)
}
