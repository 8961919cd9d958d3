//! Typed, problem-recording access to one section of the merged configuration tree. Every
//! getter names the key as the user wrote it when the value is wrong, and the env var to set
//! when it is missing. Secret values never appear in problems.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Map, Value};
use url::Url;

use super::{Problems, source::Sources};

/// A section of the configuration (`port`, `integration.config`, `event_listener`, ...).
#[derive(Clone, Copy)]
pub struct Section<'a> {
    map: Option<&'a Map<String, Value>>,
    path: &'a [&'a str],
    sources: &'a Sources,
}

impl<'a> Section<'a> {
    pub(crate) fn root(sources: &'a Sources) -> Self {
        Self {
            map: Some(&sources.tree),
            path: &[],
            sources,
        }
    }

    pub(crate) fn child(&self, path: &'a [&'a str]) -> Self {
        let mut map = Some(&self.sources.tree);
        for key in path {
            map = map.and_then(|m| m.get(*key)).and_then(Value::as_object);
        }
        Self {
            map,
            path,
            sources: self.sources,
        }
    }

    /// A variable of the environment outside Ocean's own names, which an SDK the integration
    /// replaces would have read (e.g. azure-identity's `AZURE_AUTHORITY_HOST`).
    #[must_use]
    pub fn env_var(&self, name: &str) -> Option<&'a str> {
        self.sources.env.get(name).map(String::as_str)
    }

    /// `key`'s path from the root, dotted (`event_listener.type`).
    fn dotted(&self, key: &str) -> String {
        self.path
            .iter()
            .copied()
            .chain([key])
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The key as the user wrote it, or the env var that would set it.
    #[must_use]
    pub fn key_name(&self, key: &str) -> String {
        self.sources
            .origins
            .get(&self.dotted(key))
            .cloned()
            .unwrap_or_else(|| self.env_name(key))
    }

    /// Why `key`'s env value, which starts like JSON, is not JSON.
    fn json_error(&self, key: &str) -> Option<&'a String> {
        self.sources.json_errors.get(&self.dotted(key))
    }

    /// Records a problem when `key`, a section of settings, is set to something other than an
    /// object: a section given as invalid JSON or as a plain word must not silently fall back
    /// to its defaults (a `ONCE` Job would run as a `POLLING` service).
    pub(crate) fn check_section(&self, key: &str, example: &str, problems: &mut Problems) {
        let Some(value) = self.raw(key) else { return };
        if value.is_object() {
            return;
        }
        let message = match self.json_error(key) {
            Some(error) => format!("is not valid JSON ({error})"),
            None => "must be a JSON object of settings, got a plain value".to_owned(),
        };
        let name = self.env_name(key);
        problems.push(
            self.key_name(key),
            message,
            format!("write it as a JSON object, e.g. {name}='{example}', or set each key alone"),
        );
    }

    /// The env var for `key` in this section (`OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL`).
    #[must_use]
    pub fn env_name(&self, key: &str) -> String {
        let mut parts: Vec<String> = self.path.iter().map(|p| p.to_ascii_uppercase()).collect();
        parts.push(key.to_ascii_uppercase());
        format!("OCEAN__{}", parts.join("__"))
    }

    /// The raw value of `key`, if set.
    #[must_use]
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(key)).filter(|v| !v.is_null())
    }

    /// A string value (numbers and booleans are accepted as their text).
    pub fn string(&self, key: &str, problems: &mut Problems) -> Option<String> {
        match self.raw(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => {
                problems.push(
                    self.key_name(key),
                    "must be a string",
                    "set it to a plain string",
                );
                None
            }
        }
    }

    /// A required string; a missing one is a problem.
    pub fn required(&self, key: &str, what: &str, problems: &mut Problems) -> Option<String> {
        let value = self.string(key, problems).filter(|s| !s.trim().is_empty());
        if value.is_none()
            && self
                .raw(key)
                .is_none_or(|v| v.as_str().is_some_and(|s| s.trim().is_empty()))
        {
            problems.push(
                self.key_name(key),
                format!("is required ({what})"),
                format!("set {}", self.env_name(key)),
            );
        }
        value
    }

    /// A secret; its value never appears in a problem.
    pub fn secret(&self, key: &str, problems: &mut Problems) -> Option<SecretString> {
        if let Value::String(s) = self.raw(key)? {
            Some(SecretString::from(s.clone()))
        } else {
            problems.push(
                self.key_name(key),
                "must be a string",
                "set the secret as a plain string",
            );
            None
        }
    }

    /// A boolean: `true`/`false` in any case, or a YAML boolean.
    pub fn bool(&self, key: &str, default: bool, problems: &mut Problems) -> bool {
        match self.raw(key) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") || s == "1" => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || s == "0" => false,
            Some(other) => {
                problems.push(
                    self.key_name(key),
                    format!("must be true or false, got {other}"),
                    "use true or false",
                );
                default
            }
        }
    }

    /// A non-negative integer.
    pub fn u64(&self, key: &str, default: u64, problems: &mut Problems) -> u64 {
        self.opt_u64(key, problems).unwrap_or(default)
    }

    /// An optional non-negative integer.
    pub fn opt_u64(&self, key: &str, problems: &mut Problems) -> Option<u64> {
        let value = self.raw(key)?;
        let parsed = match value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if parsed.is_none() {
            problems.push(
                self.key_name(key),
                format!("must be a non-negative integer, got {value}"),
                "use a whole number",
            );
        }
        parsed
    }

    /// Seconds as a duration.
    pub fn seconds(&self, key: &str, default: f64, problems: &mut Problems) -> Duration {
        let Some(value) = self.raw(key) else {
            return Duration::from_secs_f64(default);
        };
        let parsed = match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if let Some(d) = parsed.and_then(|s| Duration::try_from_secs_f64(s).ok()) {
            d
        } else {
            problems.push(
                self.key_name(key),
                format!("must be a number of seconds, got {value}"),
                "use a number",
            );
            Duration::from_secs_f64(default)
        }
    }

    /// An absolute http(s) URL; a trailing `/` is removed (Ocean's `url` type).
    pub fn url(&self, key: &str, problems: &mut Problems) -> Option<Url> {
        let text = self.string(key, problems)?;
        let trimmed = text.trim().trim_end_matches('/');
        match Url::parse(trimmed) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url)
            }
            _ => {
                problems.push(
                    self.key_name(key),
                    format!("must be an absolute http(s) URL, got \"{text}\""),
                    "use a URL such as https://dev.azure.com/my-org",
                );
                None
            }
        }
    }

    /// A list: a JSON/YAML array, or a comma-separated string.
    pub fn list(&self, key: &str, problems: &mut Problems) -> Option<Vec<String>> {
        match self.raw(key)? {
            Value::Array(items) => Some(
                items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect(),
            ),
            Value::String(_) if self.json_error(key).is_some() => {
                let error = self.json_error(key).map_or("", String::as_str);
                problems.push(
                    self.key_name(key),
                    format!("is not a valid JSON array ({error})"),
                    "use a JSON array such as [\"a\", \"b\"] or a comma-separated string",
                );
                None
            }
            Value::String(s) => Some(
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            other => {
                problems.push(
                    self.key_name(key),
                    format!("must be a list, got {other}"),
                    "use a JSON array or a comma-separated string",
                );
                None
            }
        }
    }
}
