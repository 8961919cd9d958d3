//! `OCEAN__EVENT_LISTENER*`: the listener types Ocean knows, their fields and flags
//! (ocean-framework.md §5).

use std::time::Duration;

use url::Url;

use super::{Overrides, Problems, Section};

/// Port's public brokers: the `KAFKA` listener's default (ocean-framework.md §5).
const PORT_BROKERS: [&str; 3] = [
    "b-1-public.publicclusterprod.t9rw6w.c1.kafka.eu-west-1.amazonaws.com:9196",
    "b-2-public.publicclusterprod.t9rw6w.c1.kafka.eu-west-1.amazonaws.com:9196",
    "b-3-public.publicclusterprod.t9rw6w.c1.kafka.eu-west-1.amazonaws.com:9196",
];

/// `OCEAN__EVENT_LISTENER*`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenerSettings {
    /// Listener type and its fields.
    pub kind: ListenerKind,
    /// Whether this listener triggers resyncs.
    pub should_resync: bool,
    /// Whether live events (webhooks) are processed.
    pub should_process_webhooks: bool,
    /// Whether Port action runs are claimed and executed (with the actions processor enabled).
    pub should_run_actions: bool,
}

impl ListenerSettings {
    /// `kind` with Ocean's defaults for the flags: `WEBHOOKS_ONLY` and `ACTIONS_ONLY` trigger
    /// no resync, `ONCE` and `ACTIONS_ONLY` process no webhook, and `ONCE` and
    /// `WEBHOOKS_ONLY` run no action.
    #[must_use]
    pub fn new(kind: ListenerKind) -> Self {
        Self {
            should_resync: !matches!(kind, ListenerKind::WebhooksOnly | ListenerKind::ActionsOnly),
            should_process_webhooks: !matches!(
                kind,
                ListenerKind::Once | ListenerKind::ActionsOnly
            ),
            should_run_actions: !matches!(kind, ListenerKind::Once | ListenerKind::WebhooksOnly),
            kind,
        }
    }
}

/// The listener types Ocean knows.
#[derive(Debug, Clone, PartialEq)]
pub enum ListenerKind {
    /// Poll Port for resync requests.
    Polling {
        /// Poll interval.
        interval: Duration,
        /// Resync at start.
        resync_on_start: bool,
    },
    /// One resync, then exit.
    Once,
    /// Port POSTs `/resync`.
    Webhook {
        /// Public URL of this integration.
        app_host: Option<Url>,
    },
    /// Only live events, never resyncs.
    WebhooksOnly,
    /// Only Port action runs: no resync, no live event.
    ActionsOnly,
    /// Port's Kafka topics.
    Kafka {
        /// Brokers.
        brokers: Vec<String>,
        /// `SASL_SSL` by default.
        security_protocol: String,
        /// `SCRAM-SHA-512` by default.
        authentication_mechanism: String,
        /// Fetch credentials from Port.
        kafka_security_enabled: bool,
        /// Poll timeout.
        consumer_poll_timeout: Duration,
    },
}

impl ListenerKind {
    /// Ocean's name of the listener type (`POLLING`, `ONCE`, ...).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Polling { .. } => "POLLING",
            Self::Once => "ONCE",
            Self::Webhook { .. } => "WEBHOOK",
            Self::WebhooksOnly => "WEBHOOKS_ONLY",
            Self::ActionsOnly => "ACTIONS_ONLY",
            Self::Kafka { .. } => "KAFKA",
        }
    }

    /// Where Port sends this integration's resync requests, as Ocean records it in the
    /// integration's `changelogDestination`: `{"type": "WEBHOOK", "url": "{appHost}/resync"}`,
    /// `{"type": "KAFKA"}`, or `{}` for listeners Port does not notify.
    #[must_use]
    pub fn changelog_destination(&self) -> serde_json::Value {
        match self {
            Self::Webhook {
                app_host: Some(app_host),
            } => serde_json::json!({
                "type": "WEBHOOK",
                "url": format!("{}/resync", app_host.as_str().trim_end_matches('/')),
            }),
            Self::Kafka { .. } => serde_json::json!({"type": "KAFKA"}),
            _ => serde_json::json!({}),
        }
    }
}

/// A number of seconds that must be above zero.
pub(super) fn positive(s: &Section<'_>, key: &str, default: f64, p: &mut Problems) -> Duration {
    let value = s.seconds(key, default, p);
    if value.is_zero() {
        p.push(
            s.key_name(key),
            "must be more than 0 seconds",
            format!("use a positive number of seconds (default {default})"),
        );
        return Duration::from_secs_f64(default);
    }
    value
}

pub(super) fn listener(
    s: &Section<'_>,
    overrides: &Overrides,
    p: &mut Problems,
) -> Option<ListenerSettings> {
    let written = s.string("type", p).unwrap_or_else(|| "POLLING".to_owned());
    let name = if overrides.once {
        "ONCE".to_owned()
    } else {
        written.to_ascii_uppercase()
    };
    let kind = match name.as_str() {
        "POLLING" => ListenerKind::Polling {
            interval: positive(s, "interval", 60.0, p),
            resync_on_start: s.bool("resync_on_start", true, p),
        },
        "ONCE" => ListenerKind::Once,
        // Ocean's WEBHOOK listener requires its app host: without it Port has nowhere to send
        // resync requests, and the listener would never resync.
        "WEBHOOK" => ListenerKind::Webhook {
            app_host: if s.raw("app_host").is_some() {
                s.url("app_host", p)
            } else {
                p.push(
                    s.key_name("app_host"),
                    "is required by the WEBHOOK listener",
                    "set it to this integration's public URL (Port POSTs {appHost}/resync), \
                     or use POLLING",
                );
                None
            },
        },
        "WEBHOOKS_ONLY" => ListenerKind::WebhooksOnly,
        "ACTIONS_ONLY" => ListenerKind::ActionsOnly,
        "KAFKA" => ListenerKind::Kafka {
            brokers: s
                .list("brokers", p)
                .unwrap_or_else(|| PORT_BROKERS.iter().map(|b| (*b).to_owned()).collect()),
            security_protocol: s
                .string("security_protocol", p)
                .unwrap_or_else(|| "SASL_SSL".to_owned()),
            authentication_mechanism: s
                .string("authentication_mechanism", p)
                .unwrap_or_else(|| "SCRAM-SHA-512".to_owned()),
            kafka_security_enabled: s.bool("kafka_security_enabled", true, p),
            consumer_poll_timeout: positive(s, "consumer_poll_timeout", 1.0, p),
        },
        _ => {
            p.push(
                s.key_name("type"),
                format!("unknown event listener type \"{written}\""),
                "use one of POLLING, ONCE, WEBHOOK, WEBHOOKS_ONLY, ACTIONS_ONLY, KAFKA",
            );
            return None;
        }
    };
    if matches!(kind, ListenerKind::Kafka { .. }) && !cfg!(feature = "kafka") {
        p.push(
            s.key_name("type"),
            "KAFKA is not available: this binary was built without Kafka support",
            "use the container image (built with --features kafka), or POLLING",
        );
    }
    let defaults = ListenerSettings::new(kind);
    Some(ListenerSettings {
        should_resync: s.bool("should_resync", defaults.should_resync, p),
        should_process_webhooks: s.bool(
            "should_process_webhooks",
            defaults.should_process_webhooks,
            p,
        ),
        should_run_actions: s.bool("should_run_actions", defaults.should_run_actions, p),
        ..defaults
    })
}
