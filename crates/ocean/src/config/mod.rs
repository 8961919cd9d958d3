//! Ocean-compatible configuration: `OCEAN__*` and `APPLICATION__*` environment variables and an
//! optional `config.yaml`, merged with Ocean's precedence and defaults (ocean-framework.md §1,
//! §5), then validated once into a typed [`Config`]. Every problem is reported together, each
//! with the key as the user wrote it and a fix; secrets are [`SecretString`]s.
//!
//! Integration-specific keys (`integration.config.*`) are typed by the integration through
//! [`IntegrationConfig`].

mod actions;
mod application;
mod env;
mod inert;
mod listener;
mod problems;
mod section;
mod source;

use std::time::Duration;

pub use actions::ActionsProcessor;
pub use application::{ApplicationSettings, LogLevel};
pub use inert::WithoutEffect;
pub use listener::{ListenerKind, ListenerSettings};
use listener::{listener, positive};
pub use problems::{ConfigError, Problem, Problems};
use secrecy::SecretString;
pub use section::Section;
use serde_json::Value;
use url::Url;

use self::source::Sources;
use crate::defaults::Origin;

/// The integration's own typed settings (`OCEAN__INTEGRATION__CONFIG__*`).
pub trait IntegrationConfig: Sized + Send + Sync + 'static {
    /// The integration type (`azure-devops`), the default of `OCEAN__INTEGRATION__TYPE`.
    const TYPE: &'static str;

    /// Reads and validates the `integration.config` section, recording every problem.
    fn resolve(section: &Section<'_>, problems: &mut Problems) -> Option<Self>;
}

/// The validated configuration.
#[derive(Debug)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "mirrors Ocean's flat settings, one field per env var"
)]
pub struct Config<I> {
    /// Port API credentials and URL.
    pub port: PortSettings,
    /// The integration's identity and its own settings.
    pub integration: IntegrationSettings<I>,
    /// How resyncs are triggered.
    pub event_listener: ListenerSettings,
    /// Create default blueprints and mapping on first start.
    pub initialize_port_resources: bool,
    /// `createPortResourcesOrigin` (`Empty`, `Default`, `Port`; `Ocean` means `Default`).
    pub create_port_resources_origin: Option<Origin>,
    /// A full resync every this often, besides the listener.
    pub scheduled_resync_interval: Option<Duration>,
    /// Send the first raw items of each kind to Port (mapping editor examples).
    pub send_raw_data_examples: bool,
    /// Whether jq's `env`/`$ENV` see the process environment.
    pub allow_environment_variables_jq_access: bool,
    /// HTTP timeout towards the third-party API.
    pub client_timeout: Duration,
    /// Public URL of this integration (webhooks), from `OCEAN__BASE_URL` or the legacy
    /// `OCEAN__INTEGRATION__CONFIG__APP_HOST`.
    pub base_url: Option<Url>,
    /// Prefix of every HTTP route.
    pub path_prefix: Option<String>,
    /// Entities per bulk upsert (1..=20).
    pub upsert_entities_batch_max_length: usize,
    /// Bytes per bulk upsert body.
    pub upsert_entities_batch_max_size_in_bytes: usize,
    /// Identifiers per bulk delete (Ocean clamps to 100).
    pub delete_entities_max_batch_size: usize,
    /// Webhook workers.
    pub event_workers_count: usize,
    /// Time limit of one webhook event.
    pub max_event_processing_seconds: Duration,
    /// How often a running resync's heartbeat goes to Port's UI.
    pub status_heartbeat_interval: Duration,
    /// `OnPrem` or `Saas`.
    pub runtime: String,
    /// TLS verification towards Port.
    pub ssl_port_verify: bool,
    /// TLS verification towards the third-party API.
    pub ssl_third_party_verify: bool,
    /// `APPLICATION__*` settings.
    pub application: ApplicationSettings,
    /// Passwords in the proxy URLs of the environment (`HTTPS_PROXY`, `HTTP_PROXY`,
    /// `ALL_PROXY`, either case), to be redacted from every log line.
    pub proxy_passwords: Vec<SecretString>,
    /// `OCEAN__ACTIONS_PROCESSOR__*`: Port self-service actions this installation executes.
    pub actions_processor: ActionsProcessor,
    /// Settings Ocean acts on that this binary cannot honour, as set: warned about at start.
    pub without_effect: Vec<WithoutEffect>,
}

/// `OCEAN__PORT__*`.
#[derive(Debug)]
pub struct PortSettings {
    /// Port client id.
    pub client_id: SecretString,
    /// Port client secret.
    pub client_secret: SecretString,
    /// API root (default `https://api.getport.io`).
    pub base_url: Url,
}

/// `OCEAN__INTEGRATION__*`.
#[derive(Debug)]
pub struct IntegrationSettings<I> {
    /// Installation identifier.
    pub identifier: String,
    /// Integration type.
    pub r#type: String,
    /// The integration's own settings.
    pub config: I,
    /// `incrementalSyncEnabled`, with `incrementalSyncInterval`: a `ONCE` run reads only what
    /// changed since the last one.
    pub incremental_sync: Option<Duration>,
}

/// Settings forced from the command line.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--once`: the listener becomes `ONCE`.
    pub once: bool,
}

impl<I: IntegrationConfig> Config<I> {
    /// Loads from the process environment and the config file: `config_file` (which must
    /// exist), else `config.yaml` in the working directory if there is one (Ocean's default);
    /// `extra` may add the caller's own problems to the same report.
    pub fn from_process_env(
        config_file: Option<&std::path::Path>,
        overrides: &Overrides,
        extra: impl FnOnce(&Section<'_>, &mut Problems),
    ) -> Result<Self, ConfigError> {
        let (env, yaml) = env::read(config_file)?;
        let name = config_file.map_or_else(
            || env::DEFAULT_FILE.to_owned(),
            |path| path.display().to_string(),
        );
        Self::load(&env, yaml.as_deref(), &name, overrides, extra)
    }

    /// The process environment as a JSON object, for jq's `env`/`$ENV` when
    /// `allow_environment_variables_jq_access` is true (Ocean's default).
    #[must_use]
    pub fn jq_environment(&self) -> Option<serde_json::Map<String, Value>> {
        self.allow_environment_variables_jq_access.then(|| {
            env::vars()
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        })
    }

    /// Loads from explicit sources (pure; used by tests and the demo). `extra` is always called
    /// with the merged (unvalidated) tree, so the caller's own checks (e.g. compiling a mapping
    /// file) land in the same report even when other settings are broken.
    pub fn load(
        env: &[(String, String)],
        yaml: Option<&str>,
        yaml_name: &str,
        overrides: &Overrides,
        extra: impl FnOnce(&Section<'_>, &mut Problems),
    ) -> Result<Self, ConfigError> {
        let mut problems = Problems::default();
        let yaml_value = yaml.and_then(|text| match serde_yaml_ng::from_str::<Value>(text) {
            Ok(value) => Some(value),
            Err(error) => {
                problems.push(
                    yaml_name,
                    format!("is not valid YAML: {error}"),
                    "fix the YAML syntax",
                );
                None
            }
        });
        let sources = Sources::build(yaml_value.as_ref(), yaml_name, env);
        let config = resolve::<I>(&sources, overrides, &mut problems);
        extra(&Section::root(&sources), &mut problems);
        match config {
            Some(config) if problems.is_empty() => Ok(config),
            _ => Err(ConfigError {
                problems: problems.0,
            }),
        }
    }

    /// Every secret value of Ocean's own settings, for log redaction: Port's credentials and
    /// proxy passwords.
    #[must_use]
    pub fn port_secrets(&self) -> Vec<&SecretString> {
        let mut secrets = vec![&self.port.client_id, &self.port.client_secret];
        secrets.extend(&self.proxy_passwords);
        secrets
    }
}

fn resolve<I: IntegrationConfig>(
    sources: &Sources,
    overrides: &Overrides,
    p: &mut Problems,
) -> Option<Config<I>> {
    let root = Section::root(sources);
    check_sections(&root, sources, p);
    let port = port_settings(&root, p);
    let integration = root.child(&["integration"]);
    let r#type = integration
        .string("type", p)
        .unwrap_or_else(|| I::TYPE.to_owned())
        .to_ascii_lowercase();
    let identifier = integration
        .string("identifier", p)
        .unwrap_or_else(|| format!("my-{type}-integration"));
    let own = I::resolve(&root.child(&["integration", "config"]), p);
    let listener = listener(&root.child(&["event_listener"]), overrides, p);
    let batch_len = bounded(&root, "upsert_entities_batch_max_length", 20, 1..=20, p);
    let actions_processor = actions::resolve(&root.child(&["actions_processor"]), p);
    let config = Config {
        initialize_port_resources: root.bool("initialize_port_resources", true, p),
        create_port_resources_origin: origin(&root, p),
        scheduled_resync_interval: scheduled_interval(&root, p),
        send_raw_data_examples: root.bool("send_raw_data_examples", true, p),
        allow_environment_variables_jq_access: root.bool(
            "allow_environment_variables_jq_access",
            true,
            p,
        ),
        client_timeout: positive(&root, "client_timeout", 60.0, p),
        base_url: public_url(&root, p),
        path_prefix: root
            .string("path_prefix", p)
            .map(|s| s.trim_matches('/').to_owned())
            .filter(|s| !s.is_empty()),
        upsert_entities_batch_max_length: batch_len,
        upsert_entities_batch_max_size_in_bytes: bounded(
            &root,
            "upsert_entities_batch_max_size_in_bytes",
            1_048_576,
            1..=usize::MAX,
            p,
        ),
        // Ocean accepts up to 1000 but clamps to 100 in code (ocean-framework.md §1.2).
        delete_entities_max_batch_size: bounded(
            &root,
            "delete_entities_max_batch_size",
            1000,
            1..=usize::MAX,
            p,
        )
        .min(100),
        event_workers_count: bounded(&root, "event_workers_count", 1, 1..=usize::MAX, p),
        max_event_processing_seconds: positive(&root, "max_event_processing_seconds", 90.0, p),
        status_heartbeat_interval: positive(&root, "status_heartbeat_interval_seconds", 10.0, p),
        runtime: runtime(&root, p),
        ssl_port_verify: root.child(&["ssl", "port"]).bool("verify", true, p),
        ssl_third_party_verify: root.child(&["ssl", "third_party"]).bool("verify", true, p),
        application: application::resolve(sources, p),
        proxy_passwords: proxy_passwords(&root),
        without_effect: inert::without_effect(&root, listener.as_ref(), &actions_processor),
        actions_processor,
        event_listener: listener?,
        port: port?,
        integration: IntegrationSettings {
            identifier,
            r#type,
            incremental_sync: incremental(&integration, p),
            config: own?,
        },
    };
    Some(config)
}

/// Ocean's sections (settings objects), each with an example: none may be a plain value.
const SECTIONS: [(&[&str], &str, &str); 8] = [
    (&[], "port", r#"{"clientId": "…", "clientSecret": "…"}"#),
    (&[], "event_listener", r#"{"type": "ONCE"}"#),
    (&[], "integration", r#"{"identifier": "my-azure-devops"}"#),
    (
        &["integration"],
        "config",
        r#"{"organizationUrl": "https://dev.azure.com/my-org"}"#,
    ),
    (&[], "ssl", r#"{"port": {"verify": true}}"#),
    (&[], "actions_processor", r#"{"enabled": true}"#),
    (&["ssl"], "port", r#"{"verify": false}"#),
    (&["ssl"], "third_party", r#"{"verify": false}"#),
];

/// Every section set to something other than an object, and every value a nested key replaced.
fn check_sections(root: &Section<'_>, sources: &Sources, p: &mut Problems) {
    for (parent, key, example) in SECTIONS {
        root.child(parent).check_section(key, example, p);
    }
    for (path, written, by) in &sources.shadowed {
        let message = match sources.json_errors.get(path) {
            Some(error) => format!("is not valid JSON ({error})"),
            None => format!("is a plain value, but {by} sets a key inside it"),
        };
        p.push(
            written.clone(),
            message,
            "set the whole section as one JSON object, or each of its keys alone",
        );
    }
}

fn port_settings(root: &Section<'_>, p: &mut Problems) -> Option<PortSettings> {
    let port = root.child(&["port"]);
    let client_id = port.required("client_id", "Port client id", p);
    let client_secret = port.required("client_secret", "Port client secret", p);
    let base_url = if port.raw("base_url").is_some() {
        port.url("base_url", p)
    } else {
        Url::parse("https://api.getport.io").ok()
    };
    Some(PortSettings {
        client_id: SecretString::from(client_id?),
        client_secret: SecretString::from(client_secret?),
        base_url: base_url?,
    })
}

/// `OCEAN__BASE_URL`, or the legacy `OCEAN__INTEGRATION__CONFIG__APP_HOST`.
fn public_url(root: &Section<'_>, p: &mut Problems) -> Option<Url> {
    let legacy = root.child(&["integration", "config"]);
    if root.raw("base_url").is_some() {
        root.url("base_url", p)
    } else if legacy.raw("app_host").is_some() {
        legacy.url("app_host", p)
    } else {
        None
    }
}

/// `OCEAN__INTEGRATION__INCREMENTAL_SYNC_ENABLED` and `…_INTERVAL` (minutes as a number, or
/// `"15m"`, `"1h"`; one of 15, 30 or 60, default 15, as Ocean): the interval when enabled.
fn incremental(integration: &Section<'_>, p: &mut Problems) -> Option<Duration> {
    let enabled = integration.bool("incremental_sync_enabled", false, p);
    let key = "incremental_sync_interval";
    let minutes = match integration.raw(key) {
        None => Some(15),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(text)) => {
            let text = text.trim();
            let (digits, unit) = match text.strip_suffix('m') {
                Some(digits) => (digits, 1),
                None => text
                    .strip_suffix('h')
                    .map_or((text, 1), |digits| (digits, 60)),
            };
            digits.parse::<u64>().ok().map(|n| n * unit)
        }
        Some(_) => None,
    };
    if let Some(minutes @ (15 | 30 | 60)) = minutes {
        return enabled.then(|| Duration::from_secs(minutes * 60));
    }
    p.push(
        integration.key_name(key),
        "must be 15, 30 or 60 minutes",
        "use 15, 30 or 60 (or \"15m\", \"30m\", \"1h\")",
    );
    None
}

/// `OCEAN__SCHEDULED_RESYNC_INTERVAL`: whole minutes, at least one.
fn scheduled_interval(root: &Section<'_>, p: &mut Problems) -> Option<Duration> {
    let minutes = root.opt_u64("scheduled_resync_interval", p)?;
    if minutes == 0 {
        p.push(
            root.key_name("scheduled_resync_interval"),
            "must be at least 1 (minutes), got 0",
            "unset it for no scheduled resync, or give the minutes between resyncs",
        );
        return None;
    }
    Some(Duration::from_secs(minutes * 60))
}

/// `OCEAN__RUNTIME`: `OnPrem` (default) or `Saas`, as Ocean's enum.
fn runtime(root: &Section<'_>, p: &mut Problems) -> String {
    let Some(runtime) = root.string("runtime", p) else {
        return "OnPrem".to_owned();
    };
    if !matches!(runtime.as_str(), "OnPrem" | "Saas") {
        p.push(
            root.key_name("runtime"),
            format!("unknown runtime \"{runtime}\""),
            "use OnPrem (a self-hosted install) or Saas",
        );
    }
    runtime
}

fn origin(root: &Section<'_>, p: &mut Problems) -> Option<Origin> {
    let name = root.string("create_port_resources_origin", p)?;
    let origin = Origin::parse(&name);
    if origin.is_none() {
        p.push(
            root.key_name("create_port_resources_origin"),
            format!("unknown origin \"{name}\""),
            "use Empty, Default or Port",
        );
    }
    origin
}

/// An integer setting that must lie in `range`.
fn bounded(
    root: &Section<'_>,
    key: &str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
    p: &mut Problems,
) -> usize {
    let value = root
        .opt_u64(key, p)
        .map_or(default, |v| usize::try_from(v).unwrap_or(usize::MAX));
    if range.contains(&value) {
        return value;
    }
    p.push(
        root.key_name(key),
        format!(
            "must be between {} and {}, got {value}",
            range.start(),
            range.end()
        ),
        "use a value in range",
    );
    default
}

/// The passwords of the proxy URLs reqwest will use.
fn proxy_passwords(root: &Section<'_>) -> Vec<SecretString> {
    ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"]
        .into_iter()
        .flat_map(|name| [name.to_owned(), name.to_ascii_lowercase()])
        .filter_map(|name| Url::parse(root.env_var(&name)?).ok())
        .flat_map(|url| {
            let Some(password) = url.password() else {
                return Vec::new();
            };
            // As written in the URL, and decoded (`%40` → `@`) as the proxy receives it.
            let decoded = url::form_urlencoded::parse(format!("p={password}").as_bytes())
                .next()
                .map(|(_, value)| value.into_owned());
            [Some(password.to_owned()), decoded]
                .into_iter()
                .flatten()
                .map(SecretString::from)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests;
