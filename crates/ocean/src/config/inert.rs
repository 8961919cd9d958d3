//! Settings Ocean acts on that this binary accepts but cannot honour (yet): set to a value
//! that would change something, each becomes a warning at start, so nothing configured is
//! silently ignored. Keys the port-ocean chart sets to their defaults on every install stay
//! quiet (ocean-framework.md §11: accept them silently).

use serde_json::Value;

use super::{ActionsProcessor, ListenerKind, ListenerSettings, section::Section};

/// A setting with no effect here, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithoutEffect {
    /// The key as the user wrote it (env name or config.yaml path).
    pub key: String,
    /// What happens instead.
    pub why: &'static str,
}

/// (section path, key, whether the value asks for something, why it has no effect).
type Rule = (
    &'static [&'static str],
    &'static str,
    fn(&Value) -> bool,
    &'static str,
);

fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true") || s == "1",
        _ => false,
    }
}

fn set(_: &Value) -> bool {
    true
}

fn saas(value: &Value) -> bool {
    value.as_str() == Some("Saas")
}

const RULES: [Rule; 2] = [
    (
        &["event_listener"],
        "consumer_poll_timeout",
        set,
        "Kafka messages are handled as they arrive; there is no blocking poll to bound",
    ),
    (
        &[],
        "runtime",
        saas,
        "this binary runs as a self-hosted (OnPrem) integration; Saas changes nothing",
    ),
];

/// The settings of `root` that ask for something this binary does not do with `listener`:
/// incremental syncs run only with `ONCE` (as in Ocean), and actions only with a listener that
/// runs them.
pub(super) fn without_effect(
    root: &Section<'_>,
    listener: Option<&ListenerSettings>,
    actions: &ActionsProcessor,
) -> Vec<WithoutEffect> {
    let once = listener.is_some_and(|l| l.kind == ListenerKind::Once);
    let actions = listener
        .filter(|l| actions.enabled && !l.should_run_actions)
        .map(|l| WithoutEffect {
            key: root.child(&["actions_processor"]).key_name("enabled"),
            why: match l.kind {
                ListenerKind::Once | ListenerKind::WebhooksOnly => {
                    "this listener type runs no actions (as in Ocean); run a POLLING, WEBHOOK, \
                     KAFKA or ACTIONS_ONLY listener to execute them"
                }
                _ => "the listener's should_run_actions is false",
            },
        });
    let integration = root.child(&["integration"]);
    let incremental = integration
        .raw("incremental_sync_enabled")
        .filter(|value| truthy(value) && !once)
        .map(|_| WithoutEffect {
            key: integration.key_name("incremental_sync_enabled"),
            why: "incremental syncs run only with the ONCE listener (Port's chart runs them as \
                  a CronJob); this listener keeps running full resyncs",
        });
    RULES
        .iter()
        .filter_map(|(path, key, asks, why)| {
            let section = root.child(path);
            let value = section.raw(key)?;
            asks(value).then(|| WithoutEffect {
                key: section.key_name(key),
                why,
            })
        })
        .chain(incremental)
        .chain(actions)
        .collect()
}
