//! The `KAFKA` event listener (ocean-framework.md §5): which topic and consumer group to use,
//! and which messages ask this integration to resync (here, tested on messages shaped like
//! Port's), and the consumer itself (`consumer.rs`, with the `kafka` cargo feature).
//!
//! The consumer is librdkafka's, configured as Ocean's: a consumer group, manual commits after
//! each message (at most once), SASL (SCRAM-SHA-512 over SSL by default) with credentials
//! from Port, cooperative-sticky assignment; without Kafka security, plaintext and group
//! `no-security`. It is behind a cargo feature because librdkafka is built from C sources with
//! cmake and the OpenSSL and curl headers, which a fresh machine lacks (the README's commands
//! must work there); release images build with `--features kafka`.

#[cfg(feature = "kafka")]
mod consumer;

#[cfg(feature = "kafka")]
pub use consumer::{ConsumerSettings, Context, Reader, Sasl, consumer, listen};
use serde_json::Value;

/// Without the `kafka` feature: the `KAFKA` listener refuses to start with a clear error.
#[cfg(not(feature = "kafka"))]
pub struct Reader;

#[cfg(not(feature = "kafka"))]
impl Reader {
    /// `KAFKA` → [`Error::KafkaNotBuilt`](crate::Error::KafkaNotBuilt); other
    /// listeners need no reader.
    #[expect(
        clippy::unused_async,
        reason = "the same signature as the kafka feature's Reader::start"
    )]
    pub async fn start<I: crate::Integration>(
        _runner: &crate::runner::Runner<I>,
        kind: &crate::config::ListenerKind,
    ) -> Result<Option<Self>, crate::Error> {
        match kind {
            crate::config::ListenerKind::Kafka { .. } => Err(crate::Error::KafkaNotBuilt),
            _ => Ok(None),
        }
    }

    /// Never called: there is never a reader.
    pub async fn run(&self, _triggers: &tokio::sync::Notify) {
        std::future::pending::<()>().await;
    }
}

/// Port's organization feature flag that moves resync requests to their own topic.
pub const RESYNC_TOPIC_FLAG: &str = "OCEAN_KAFKA_INTEGRATION_RESYNC_REQUESTS_TOPIC_ENABLED";

/// The topic a listener reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    /// `{orgId}.change.log`: every change in the organization.
    ChangeLog(String),
    /// `{orgId}.integration.resync.requests`: resync requests only.
    ResyncRequests(String),
}

impl Topic {
    /// The topic for organization `org_id` with its feature flags.
    #[must_use]
    pub fn for_org(org_id: &str, feature_flags: &[String]) -> Self {
        if feature_flags.iter().any(|f| f == RESYNC_TOPIC_FLAG) {
            Self::ResyncRequests(format!("{org_id}.integration.resync.requests"))
        } else {
            Self::ChangeLog(format!("{org_id}.change.log"))
        }
    }

    /// The topic's name.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::ChangeLog(name) | Self::ResyncRequests(name) => name,
        }
    }
}

/// The consumer group: `{orgId}.{type}.{identifier}`, so each installation has its own.
#[must_use]
pub fn group_id(org_id: &str, integration_type: &str, identifier: &str) -> String {
    format!("{org_id}.{integration_type}.{identifier}")
}

/// Whether `message` (a record's JSON value) read from `topic` asks integration `identifier`
/// to resync:
/// - on the resync-requests topic, when `context.integrationId` is ours;
/// - on the change log, an explicit `RESYNC` action for us, or a change to our integration
///   record that is not our own resync-state report (`updatedAt` equal to
///   `resyncState.updatedAt`), sent to Kafka destinations. Deletions (no `diff.after`) never
///   resync.
#[must_use]
pub fn asks_resync(topic: &Topic, message: &Value, identifier: &str) -> bool {
    let integration_id = message["context"]["integrationId"].as_str();
    match topic {
        Topic::ResyncRequests(_) => integration_id == Some(identifier),
        Topic::ChangeLog(_) => {
            if message["action"] == "RESYNC" && integration_id == Some(identifier) {
                return true;
            }
            let after = &message["diff"]["after"];
            after.is_object()
                && after["identifier"].as_str() == Some(identifier)
                && after["updatedAt"] != after["resyncState"]["updatedAt"]
                && message["changelogDestination"]["type"] == "KAFKA"
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ORG: &str = "org_1";

    fn change_log() -> Topic {
        Topic::for_org(ORG, &[])
    }

    #[test]
    fn the_flag_selects_the_resync_requests_topic() {
        assert_eq!(change_log().name(), "org_1.change.log");
        let flags = vec!["OTHER".to_owned(), RESYNC_TOPIC_FLAG.to_owned()];
        assert_eq!(
            Topic::for_org(ORG, &flags).name(),
            "org_1.integration.resync.requests"
        );
        assert_eq!(
            group_id(ORG, "azure-devops", "my-ado"),
            "org_1.azure-devops.my-ado"
        );
    }

    #[test]
    fn a_mapping_change_from_the_ui_resyncs_only_its_own_integration() {
        let message = |identifier: &str, destination: &str| {
            json!({"action": "UPDATE", "changelogDestination": {"type": destination},
                "diff": {"before": {"identifier": identifier},
                         "after": {"identifier": identifier, "updatedAt": "2026-11-25T10:00:01Z",
                                   "resyncState": {"updatedAt": "2026-11-25T09:00:00Z"}}}})
        };
        assert!(asks_resync(
            &change_log(),
            &message("my-ado", "KAFKA"),
            "my-ado"
        ));
        assert!(!asks_resync(
            &change_log(),
            &message("other", "KAFKA"),
            "my-ado"
        ));
        assert!(!asks_resync(
            &change_log(),
            &message("my-ado", "WEBHOOK"),
            "my-ado"
        ));
    }

    #[test]
    fn our_own_resync_state_reports_and_deletions_do_not_resync() {
        let own_report = json!({"action": "UPDATE", "changelogDestination": {"type": "KAFKA"},
            "diff": {"after": {"identifier": "my-ado", "updatedAt": "2026-11-25T10:00:00Z",
                               "resyncState": {"status": "completed", "updatedAt": "2026-11-25T10:00:00Z"}}}});
        assert!(!asks_resync(&change_log(), &own_report, "my-ado"));
        let deleted = json!({"action": "DELETE", "changelogDestination": {"type": "KAFKA"},
            "diff": {"before": {"identifier": "my-ado"}, "after": null}});
        assert!(!asks_resync(&change_log(), &deleted, "my-ado"));
        assert!(!asks_resync(
            &change_log(),
            &json!("not an object"),
            "my-ado"
        ));
    }

    #[test]
    fn explicit_requests_resync_the_named_integration() {
        let request = json!({"action": "RESYNC", "context": {"integrationId": "my-ado"}});
        assert!(asks_resync(&change_log(), &request, "my-ado"));
        assert!(!asks_resync(&change_log(), &request, "other"));
        let topic = Topic::for_org(ORG, &[RESYNC_TOPIC_FLAG.to_owned()]);
        assert!(asks_resync(
            &topic,
            &json!({"context": {"integrationId": "my-ado"}}),
            "my-ado"
        ));
        assert!(!asks_resync(
            &topic,
            &json!({"context": {"integrationId": "x"}}),
            "my-ado"
        ));
    }
}
