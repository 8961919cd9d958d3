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
            let value = decode_env_value(raw);
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
        for key in parents {
            let entry = node
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
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

/// JSON objects and arrays in env values are decoded; everything else stays a string.
fn decode_env_value(raw: &str) -> Value {
    let trimmed = raw.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(value) = serde_json::from_str::<Value>(raw)
    {
        return value;
    }
    Value::String(raw.to_owned())
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
