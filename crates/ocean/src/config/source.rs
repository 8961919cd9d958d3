//! Merging Ocean's configuration sources into one tree, remembering for every leaf the key the
//! user wrote (env var name or YAML path), so problems can name it.
//!
//! Precedence (ocean-framework.md §1.1): overrides > environment > `config.yaml`. Env names are
//! `OCEAN__` + upper snake path joined by `__`, case-insensitive; values that look like JSON
//! objects or arrays are decoded (as pydantic does), and nested keys are merged into them.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// The merged configuration tree and the origin of each leaf.
#[derive(Debug, Default)]
pub struct Sources {
    /// `snake_case` tree (`event_listener.type`).
    pub(crate) tree: Map<String, Value>,
    /// dotted snake path → key as written.
    pub(crate) origins: HashMap<String, String>,
    /// `APPLICATION__*` settings (lowercase keys).
    pub(crate) application: HashMap<String, (String, String)>,
    /// The whole environment, for the few variables of other SDKs an integration honours.
    pub(crate) env: HashMap<String, String>,
    /// dotted snake path → why its env value, which looked like JSON (`{…`, `[…`), is not JSON.
    /// The value stays a string (it may be a secret that starts with a brace); sections and
    /// lists, which must be JSON, report it.
    pub(crate) json_errors: HashMap<String, String>,
    /// Values that a nested key replaced: (the value's dotted path, its key as written, the
    /// nested key as written), e.g. `OCEAN__EVENT_LISTENER=ONCE` with
    /// `OCEAN__EVENT_LISTENER__TYPE=POLLING`.
    pub(crate) shadowed: Vec<(String, String, String)>,
}

impl Sources {
    /// Builds the tree from `config.yaml` (already parsed), then the environment.
    pub(crate) fn build(yaml: Option<&Value>, yaml_name: &str, env: &[(String, String)]) -> Self {
        let mut sources = Self::default();
        let env_map: HashMap<String, String> =
            env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        sources.env.clone_from(&env_map);
        if let Some(Value::Object(map)) = yaml {
            for (key, value) in map {
                sources.add_yaml(
                    &[decamelize(key)],
                    &format!("{yaml_name}: {key}"),
                    value,
                    &env_map,
                );
            }
        }
        let mut ocean: Vec<(Vec<String>, &String, &String)> = env
            .iter()
            .filter_map(|(k, v)| {
                let upper = k.to_ascii_uppercase();
                if let Some(rest) = upper.strip_prefix("APPLICATION__") {
                    sources
                        .application
                        .insert(rest.to_ascii_lowercase(), (k.clone(), v.clone()));
                    return None;
                }
                let rest = upper.strip_prefix("OCEAN__")?;
                let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
                Some((path, k, v))
            })
            .collect();
        // Whole-object JSON values first, nested keys after them (pydantic's deep update).
        ocean.sort_by_key(|(path, _, _)| path.len());
        for (path, name, raw) in ocean {
            let value = match decode_env_value(raw) {
                Ok(value) => value,
                Err(error) => {
                    sources.json_errors.insert(path.join("."), error);
                    Value::String(raw.clone())
                }
            };
            sources.set(&path, value.clone(), name);
            if let Value::Object(map) = value {
                for key in map.keys() {
                    let mut child = path.clone();
                    child.push(decamelize(key));
                    sources.origins.insert(child.join("."), name.clone());
                }
            }
        }
        sources
    }

    fn add_yaml(
        &mut self,
        path: &[String],
        origin: &str,
        value: &Value,
        env: &HashMap<String, String>,
    ) {
        match value {
            // Model sections are decamelized recursively; values inside `integration.config.<key>`
            // are the user's own data and keep their keys.
            Value::Object(map)
                if !(path.len() >= 3 && path[0] == "integration" && path[1] == "config") =>
            {
                for (key, child) in map {
                    let mut p = path.to_vec();
                    p.push(decamelize(key));
                    self.add_yaml(&p, &format!("{origin}.{key}"), child, env);
                }
            }
            Value::String(text) => {
                if let Some(name) = from_env(text) {
                    let found = env.iter().find(|(k, _)| k.eq_ignore_ascii_case(name));
                    if let Some((_, v)) = found {
                        self.set(path, Value::String(v.clone()), origin);
                    }
                } else {
                    self.set(path, value.clone(), origin);
                }
            }
            other => self.set(path, other.clone(), origin),
        }
    }

    fn set(&mut self, path: &[String], value: Value, origin: &str) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut node = &mut self.tree;
        for (depth, key) in parents.iter().enumerate() {
            let entry = node
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                if !entry.is_null() {
                    let replaced = path[..=depth].join(".");
                    let written = self.origins.get(&replaced).cloned();
                    let written = written.unwrap_or_else(|| replaced.clone());
                    self.shadowed.push((replaced, written, origin.to_owned()));
                }
                *entry = Value::Object(Map::new());
            }
            let Value::Object(map) = entry else { return };
            node = map;
        }
        match (node.get_mut(last), value) {
            (Some(Value::Object(existing)), Value::Object(new)) => {
                for (k, v) in new {
                    existing.insert(decamelize(&k), v);
                }
            }
            (_, Value::Object(new)) => {
                let map = new.into_iter().map(|(k, v)| (decamelize(&k), v)).collect();
                node.insert(last.clone(), Value::Object(map));
            }
            (_, value) => {
                node.insert(last.clone(), value);
            }
        }
        self.origins.insert(path.join("."), origin.to_owned());
    }
}

/// `{{ from env NAME }}` → `NAME`.
fn from_env(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let name = inner.strip_prefix("from env")?.trim();
    (!name.is_empty()).then_some(name)
}

/// JSON objects and arrays in env values are decoded (as pydantic-settings does for complex
/// fields); everything else stays a string. `Err` holds why a value that starts like JSON is
/// not JSON (serde's message names a line and column, never the value).
fn decode_env_value(raw: &str) -> Result<Value, String> {
    let trimmed = raw.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return serde_json::from_str::<Value>(raw).map_err(|error| error.to_string());
    }
    Ok(Value::String(raw.to_owned()))
}

/// `organizationUrl` → `organization_url` (pyhumps' decamelize; `snake_case` stays as is).
pub(crate) fn decamelize(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_keys_become_snake_case() {
        assert_eq!(decamelize("organizationUrl"), "organization_url");
        assert_eq!(decamelize("event_listener"), "event_listener");
        assert_eq!(decamelize("appHost"), "app_host");
    }

    #[test]
    fn from_env_templates_are_recognised() {
        assert_eq!(from_env("{{ from env MY_PAT }}"), Some("MY_PAT"));
        assert_eq!(from_env("{{from env X}}"), Some("X"));
        assert_eq!(from_env("plain"), None);
    }
}
