//! Tests of configuration loading: sources, precedence, defaults, problems, redaction.

use secrecy::{ExposeSecret, SecretString};

use super::*;

/// A stand-in integration with one URL, one secret and one flag.
#[derive(Debug)]
struct Demo {
    url: Url,
    token: SecretString,
    limited: bool,
}

impl IntegrationConfig for Demo {
    const TYPE: &'static str = "demo";

    fn resolve(s: &Section<'_>, p: &mut Problems) -> Option<Self> {
        let url = s.url("organization_url", p);
        let token = s.secret("personal_access_token", p);
        if token.is_none() {
            p.push(s.key_name("personal_access_token"), "is required", "set it");
        }
        Some(Self {
            url: url?,
            token: token?,
            limited: s.bool("is_projects_limited", true, p),
        })
    }
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const BASE: [(&str, &str); 4] = [
    ("OCEAN__PORT__CLIENT_ID", "id"),
    ("OCEAN__PORT__CLIENT_SECRET", "port-secret-1234"),
    (
        "OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL",
        "https://dev.azure.com/org/",
    ),
    (
        "OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN",
        "pat-secret-5678",
    ),
];

fn load(extra: &[(&str, &str)], yaml: Option<&str>) -> Result<Config<Demo>, ConfigError> {
    let mut pairs = env(&BASE);
    pairs.extend(env(extra));
    Config::<Demo>::load(
        &pairs,
        yaml,
        "config.yaml",
        &Overrides::default(),
        |_, _| {},
    )
}

#[test]
fn defaults_match_ocean() {
    let c = load(&[], None).unwrap();
    assert_eq!(c.integration.r#type, "demo");
    assert_eq!(c.integration.identifier, "my-demo-integration");
    assert_eq!(c.port.base_url.as_str(), "https://api.getport.io/");
    assert_eq!(
        c.event_listener.kind,
        ListenerKind::Polling {
            interval: Duration::from_mins(1),
            resync_on_start: true
        }
    );
    assert!(
        c.initialize_port_resources && c.send_raw_data_examples && c.integration.config.limited
    );
    assert_eq!(
        c.integration.config.url.as_str(),
        "https://dev.azure.com/org"
    );
    assert_eq!(
        (
            c.upsert_entities_batch_max_length,
            c.delete_entities_max_batch_size
        ),
        (20, 100)
    );
    assert_eq!(c.application.port, 8000);
}

#[test]
fn env_names_are_case_insensitive_and_json_values_merge_with_nested_keys() {
    let c = load(
        &[
            (
                "ocean__event_listener",
                r#"{"type":"POLLING","interval":5}"#,
            ),
            ("OCEAN__EVENT_LISTENER__RESYNC_ON_START", "false"),
            ("OCEAN__SCHEDULED_RESYNC_INTERVAL", "15"),
            ("OCEAN__INTEGRATION__CONFIG__IS_PROJECTS_LIMITED", "False"),
            ("APPLICATION__PORT", "9000"),
        ],
        None,
    )
    .unwrap();
    assert_eq!(
        c.event_listener.kind,
        ListenerKind::Polling {
            interval: Duration::from_secs(5),
            resync_on_start: false
        }
    );
    assert_eq!(c.scheduled_resync_interval, Some(Duration::from_mins(15)));
    assert!(!c.integration.config.limited);
    assert_eq!(c.application.port, 9000);
}

#[test]
fn origin_and_log_level_are_parsed_once_at_load() {
    let c = load(
        &[
            ("OCEAN__CREATE_PORT_RESOURCES_ORIGIN", "Ocean"),
            ("APPLICATION__LOG_LEVEL", "warning"),
        ],
        None,
    )
    .unwrap();
    assert_eq!(
        c.create_port_resources_origin,
        Some(crate::defaults::Origin::Default)
    );
    assert_eq!(c.application.log_level, super::LogLevel::Warning);
    assert_eq!(c.application.log_level.directive(), "warn");
    let defaults = load(&[], None).unwrap();
    assert_eq!(defaults.create_port_resources_origin, None);
    assert_eq!(defaults.application.log_level.directive(), "info");
}

#[test]
fn both_listener_forms_work() {
    let json = load(&[("OCEAN__EVENT_LISTENER", r#"{"type":"ONCE"}"#)], None).unwrap();
    let nested = load(&[("OCEAN__EVENT_LISTENER__TYPE", "ONCE")], None).unwrap();
    assert_eq!(json.event_listener.kind, ListenerKind::Once);
    assert_eq!(nested.event_listener, json.event_listener);
    assert!(!nested.event_listener.should_process_webhooks);
}

#[test]
fn yaml_is_decamelized_resolves_from_env_templates_and_env_wins() {
    let yaml = r"
eventListener:
  type: WEBHOOKS_ONLY
initializePortResources: false
integration:
  identifier: from-yaml
  config:
    personalAccessToken: '{{ from env MY_PAT }}'
";
    let c = load(
        &[
            ("MY_PAT", "templated-pat-9999"),
            ("OCEAN__INTEGRATION__IDENTIFIER", "from-env"),
        ],
        Some(yaml),
    )
    .unwrap();
    assert_eq!(c.event_listener.kind, ListenerKind::WebhooksOnly);
    assert!(!c.initialize_port_resources);
    assert_eq!(c.integration.identifier, "from-env");
    // The env var OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN beats the YAML template.
    assert_eq!(
        c.integration.config.token.expose_secret(),
        "pat-secret-5678"
    );
}

#[test]
fn every_problem_is_reported_together_with_the_key_as_written() {
    let pairs = env(&[
        ("OCEAN__PORT__CLIENT_SECRET", "port-secret-1234"),
        ("OCEAN__EVENT_LISTENER__TYPE", "CARRIER_PIGEON"),
        ("OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL", "not a url"),
        ("OCEAN__UPSERT_ENTITIES_BATCH_MAX_LENGTH", "50"),
        ("APPLICATION__LOG_LEVEL", "loud"),
    ]);
    let error = Config::<Demo>::load(
        &pairs,
        Some("eventListener: ["),
        "config.yaml",
        &Overrides::default(),
        |_, _| {},
    )
    .unwrap_err();
    let keys: Vec<&str> = error.problems.iter().map(|p| p.key.as_str()).collect();
    for expected in [
        "config.yaml",
        "OCEAN__PORT__CLIENT_ID",
        "OCEAN__EVENT_LISTENER__TYPE",
        "OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL",
        "OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN",
        "OCEAN__UPSERT_ENTITIES_BATCH_MAX_LENGTH",
        "APPLICATION__LOG_LEVEL",
    ] {
        assert!(keys.contains(&expected), "{expected} missing from {keys:?}");
    }
    assert!(
        error
            .to_string()
            .contains("POLLING, ONCE, WEBHOOK, WEBHOOKS_ONLY, ACTIONS_ONLY, KAFKA")
    );
}

#[test]
fn secrets_never_reach_debug_or_errors() {
    let c = load(&[], None).unwrap();
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("port-secret-1234") && !debug.contains("pat-secret-5678"),
        "{debug}"
    );
    // A malformed secret is reported without its value.
    let error = load(
        &[(
            "OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN",
            r#"["pat-in-a-list-0000"]"#,
        )],
        None,
    )
    .unwrap_err();
    assert!(!error.to_string().contains("pat-in-a-list-0000"), "{error}");
}

#[test]
fn caller_problems_join_the_same_report() {
    let pairs = env(&BASE);
    let error = Config::<Demo>::load(
        &pairs,
        None,
        "config.yaml",
        &Overrides::default(),
        |_, p| {
            p.push(
                "mapping.yaml: resources[0]",
                "does not compile",
                "fix the jq",
            );
        },
    )
    .unwrap_err();
    assert_eq!(error.problems.len(), 1);
}

#[test]
fn once_override_and_legacy_app_host() {
    let pairs = env(&[
        BASE[0],
        BASE[1],
        BASE[2],
        BASE[3],
        (
            "OCEAN__INTEGRATION__CONFIG__APP_HOST",
            "https://hooks.example.com/",
        ),
    ]);
    let c = Config::<Demo>::load(
        &pairs,
        None,
        "config.yaml",
        &Overrides { once: true },
        |_, _| {},
    )
    .unwrap();
    assert_eq!(c.event_listener.kind, ListenerKind::Once);
    assert_eq!(c.base_url.unwrap().as_str(), "https://hooks.example.com/");
}

#[test]
fn a_section_that_is_not_json_is_a_problem_not_a_fallback() {
    // Invalid JSON: POLLING forever instead of one resync, before.
    let broken = load(&[("OCEAN__EVENT_LISTENER", r#"{"type": "ONCE", "#)], None).unwrap_err();
    let [problem] = broken.problems.as_slice() else {
        panic!("one problem expected: {broken}");
    };
    assert_eq!(problem.key, "OCEAN__EVENT_LISTENER");
    assert!(
        problem
            .message
            .starts_with("is not valid JSON (EOF while parsing"),
        "{problem:?}"
    );
    assert!(
        problem
            .fix
            .contains(r#"OCEAN__EVENT_LISTENER='{"type": "ONCE"}'"#),
        "{problem:?}"
    );

    // A plain word where a section is expected.
    let word = load(&[("OCEAN__EVENT_LISTENER", "ONCE")], None).unwrap_err();
    assert_eq!(word.problems[0].key, "OCEAN__EVENT_LISTENER");
    assert!(word.problems[0].message.contains("plain value"), "{word}");

    // A broken OCEAN__PORT never shows the secret it holds.
    let port = load(
        &[("OCEAN__PORT", r#"{"clientSecret": "s3cr3t-value""#)],
        None,
    )
    .unwrap_err();
    assert!(
        port.problems.iter().any(|p| p.key == "OCEAN__PORT"),
        "{port}"
    );
    assert!(!port.to_string().contains("s3cr3t"), "{port}");

    // A nested key that replaces a plain value says so.
    let both = load(
        &[
            ("OCEAN__EVENT_LISTENER", "ONCE"),
            ("OCEAN__EVENT_LISTENER__TYPE", "POLLING"),
        ],
        None,
    )
    .unwrap_err();
    assert!(
        both.problems
            .iter()
            .any(|p| p.key == "OCEAN__EVENT_LISTENER"
                && p.message.contains("OCEAN__EVENT_LISTENER__TYPE")),
        "{both}"
    );
}

#[test]
fn a_list_that_starts_as_json_and_is_not_is_a_problem() {
    let mut s = Sources::build(
        None,
        "config.yaml",
        &env(&[("OCEAN__EVENT_LISTENER__BROKERS", r#"["a:1", "b:2""#)]),
    );
    let mut p = Problems::default();
    let root = Section::root(&s);
    assert_eq!(
        root.child(&["event_listener"]).list("brokers", &mut p),
        None
    );
    assert_eq!(p.0[0].key, "OCEAN__EVENT_LISTENER__BROKERS");
    assert!(
        p.0[0].message.contains("not a valid JSON array"),
        "{:?}",
        p.0
    );
    // A secret that merely starts with a brace stays a string.
    s = Sources::build(
        None,
        "config.yaml",
        &env(&[("OCEAN__PORT__CLIENT_SECRET", "{abc")]),
    );
    assert_eq!(
        Section::root(&s).child(&["port"]).raw("client_secret"),
        Some(&Value::String("{abc".to_owned()))
    );
}

/// The problem keys `extra` causes.
fn problem_keys(extra: &[(&str, &str)]) -> Vec<String> {
    load(extra, None)
        .err()
        .map(|error| error.problems.into_iter().map(|p| p.key).collect())
        .unwrap_or_default()
}

#[test]
fn values_that_would_disable_or_break_a_setting_are_problems_not_panics() {
    let cases: [(&[(&str, &str)], &str); 7] = [
        (
            &[("OCEAN__SCHEDULED_RESYNC_INTERVAL", "0")],
            "OCEAN__SCHEDULED_RESYNC_INTERVAL",
        ),
        (
            &[(
                "OCEAN__EVENT_LISTENER",
                r#"{"type":"POLLING","interval":0}"#,
            )],
            "OCEAN__EVENT_LISTENER",
        ),
        (
            &[("OCEAN__EVENT_LISTENER__TYPE", "WEBHOOK")],
            "OCEAN__EVENT_LISTENER__APP_HOST",
        ),
        (&[("OCEAN__SSL__PORT", "false")], "OCEAN__SSL__PORT"),
        (
            &[("OCEAN__SSL__THIRD_PARTY", "{verify")],
            "OCEAN__SSL__THIRD_PARTY",
        ),
        (&[("OCEAN__RUNTIME", "Cloud")], "OCEAN__RUNTIME"),
        (&[("OCEAN__CLIENT_TIMEOUT", "0")], "OCEAN__CLIENT_TIMEOUT"),
    ];
    for (extra, key) in cases {
        assert_eq!(problem_keys(extra), [key], "{extra:?}");
    }
    let webhook = load(
        &[
            ("OCEAN__EVENT_LISTENER__TYPE", "WEBHOOK"),
            ("OCEAN__EVENT_LISTENER__APP_HOST", "https://ado.example.com"),
        ],
        None,
    )
    .unwrap();
    assert!(matches!(
        webhook.event_listener.kind,
        ListenerKind::Webhook { app_host: Some(_) }
    ));
}

#[test]
fn kafka_is_refused_at_load_when_the_binary_lacks_it() {
    let keys = problem_keys(&[("OCEAN__EVENT_LISTENER__TYPE", "KAFKA")]);
    if cfg!(feature = "kafka") {
        assert!(keys.is_empty(), "{keys:?}");
    } else {
        assert_eq!(keys, ["OCEAN__EVENT_LISTENER__TYPE"]);
    }
}

#[test]
fn settings_ocean_acts_on_and_we_cannot_are_listed_only_when_they_ask_for_something() {
    let quiet = load(
        &[
            ("OCEAN__RUNTIME", "OnPrem"),
            ("OCEAN__ACTIONS_PROCESSOR__ENABLED", "false"),
            ("OCEAN__PROCESSING_MODE", "dsp"),
        ],
        None,
    )
    .unwrap();
    assert_eq!(quiet.without_effect, []);
    let loud = load(
        &[
            ("OCEAN__RUNTIME", "Saas"),
            ("OCEAN__ACTIONS_PROCESSOR__ENABLED", "true"),
            ("OCEAN__INTEGRATION__INCREMENTAL_SYNC_ENABLED", "TRUE"),
            (
                "OCEAN__EVENT_LISTENER",
                r#"{"type":"POLLING","consumerPollTimeout":5}"#,
            ),
        ],
        None,
    )
    .unwrap();
    let keys: Vec<&str> = loud.without_effect.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "OCEAN__EVENT_LISTENER",
            "OCEAN__RUNTIME",
            "OCEAN__INTEGRATION__INCREMENTAL_SYNC_ENABLED",
        ]
    );
}

#[test]
fn the_actions_processor_takes_oceans_settings_and_runs_with_listeners_that_run_actions() {
    let defaults = load(&[], None).unwrap().actions_processor;
    assert_eq!(
        (
            defaults.enabled,
            defaults.workers_count,
            defaults.poll_check_interval,
            defaults.runs_buffer_high_watermark,
            defaults.visibility_timeout_ms,
            defaults.per_action_limit(),
        ),
        (false, 3, Duration::from_secs(10), 300, 60_000, 90)
    );
    let actions_only = load(
        &[
            ("OCEAN__EVENT_LISTENER__TYPE", "ACTIONS_ONLY"),
            (
                "OCEAN__ACTIONS_PROCESSOR",
                r#"{"enabled": true, "workersCount": 5}"#,
            ),
        ],
        None,
    )
    .unwrap();
    let listener = &actions_only.event_listener;
    assert_eq!(
        (
            listener.should_resync,
            listener.should_process_webhooks,
            listener.should_run_actions
        ),
        (false, false, true)
    );
    assert_eq!(actions_only.actions_processor.workers_count, 5);
    assert_eq!(actions_only.without_effect, []);
    // `ONCE` and `WEBHOOKS_ONLY` run no actions (as in Ocean): enabling them there is said.
    for listener in ["ONCE", "WEBHOOKS_ONLY"] {
        let config = load(
            &[
                ("OCEAN__EVENT_LISTENER__TYPE", listener),
                ("OCEAN__ACTIONS_PROCESSOR__ENABLED", "true"),
            ],
            None,
        )
        .unwrap();
        let keys: Vec<&str> = config
            .without_effect
            .iter()
            .map(|w| w.key.as_str())
            .collect();
        assert_eq!(keys, ["OCEAN__ACTIONS_PROCESSOR__ENABLED"], "{listener}");
    }
    assert_eq!(
        problem_keys(&[
            ("OCEAN__ACTIONS_PROCESSOR__WORKERS_COUNT", "0"),
            (
                "OCEAN__ACTIONS_PROCESSOR__MAX_RUNS_BUFFER_UTIL_PCT_PER_ACTION",
                "150"
            ),
        ]),
        [
            "OCEAN__ACTIONS_PROCESSOR__WORKERS_COUNT",
            "OCEAN__ACTIONS_PROCESSOR__MAX_RUNS_BUFFER_UTIL_PCT_PER_ACTION"
        ]
    );
}

#[test]
fn incremental_sync_takes_ocean_intervals_and_runs_with_once_only() {
    let enabled = |interval: &str| {
        load(
            &[
                ("OCEAN__INTEGRATION__INCREMENTAL_SYNC_ENABLED", "true"),
                ("OCEAN__INTEGRATION__INCREMENTAL_SYNC_INTERVAL", interval),
                ("OCEAN__EVENT_LISTENER__TYPE", "ONCE"),
            ],
            None,
        )
    };
    for (written, minutes) in [("15", 15), ("30m", 30), ("1h", 60)] {
        let config = enabled(written).unwrap();
        assert_eq!(
            config.integration.incremental_sync,
            Some(Duration::from_secs(minutes * 60))
        );
        assert_eq!(config.without_effect, []);
    }
    let refused = enabled("20").unwrap_err();
    assert_eq!(
        refused.problems[0].key,
        "OCEAN__INTEGRATION__INCREMENTAL_SYNC_INTERVAL"
    );
    let off = load(&[], None).unwrap();
    assert_eq!(off.integration.incremental_sync, None);
}
