//! Entity validation against a blueprint, as Port does it: identifier pattern, known properties,
//! types, enums, `date-time`/`url` formats, required properties and relations.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

/// Port's identifier pattern (identifiers may hold `/`, `:`, `@`, `=`, `+`, `.`, `-`, `_`).
#[expect(
    clippy::expect_used,
    reason = "a constant pattern that is tested below"
)]
static IDENTIFIER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9@_.+:\\/=-]+$").expect("invariant: valid regex"));

/// A rejected entity: HTTP status, Port error code and message.
#[derive(Debug, Clone)]
pub(crate) struct Rejection {
    pub(crate) status: u16,
    pub(crate) error: &'static str,
    pub(crate) message: String,
}

impl Rejection {
    fn invalid(message: String) -> Self {
        Self {
            status: 422,
            error: "invalid_request",
            message,
        }
    }
}

/// Checks an identifier string.
pub(crate) fn identifier(id: &str) -> Result<(), Rejection> {
    if id.is_empty() || id.len() > 1000 || !IDENTIFIER.is_match(id) {
        return Err(Rejection {
            status: 422,
            error: "invalid_identifier",
            message: format!(
                "identifier \"{id}\" does not match the pattern {}",
                IDENTIFIER.as_str()
            ),
        });
    }
    Ok(())
}

/// Checks a (merged) entity's properties and relations against `blueprint`, coercing scalar
/// property values to the declared type first as Port's schema validation does (a number sent
/// to a string property is stored as a string: the default mapping relies on it for the
/// project `revision`).
pub(crate) fn entity(blueprint: &Value, entity: &mut Value) -> Result<(), Rejection> {
    let schema = blueprint.get("schema").cloned().unwrap_or(Value::Null);
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let empty = Map::new();
    if let Some(given) = entity.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, value) in given.iter_mut() {
            let Some(spec) = props.get(name) else {
                return Err(Rejection::invalid(format!(
                    "property \"{name}\" is not defined in the blueprint schema"
                )));
            };
            if !value.is_null() {
                coerce(spec, value);
                property(name, spec, value)?;
            }
        }
    }
    let given = entity
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for required in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = required.as_str().unwrap_or_default();
        if given.get(name).is_none_or(Value::is_null) {
            return Err(Rejection::invalid(format!(
                "required property \"{name}\" is missing"
            )));
        }
    }
    relations(blueprint, entity)
}

/// Checks relation names, shapes (one identifier or a list for `many`) and required relations.
fn relations(blueprint: &Value, entity: &Value) -> Result<(), Rejection> {
    let empty = Map::new();
    let relations = blueprint
        .get("relations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let given = entity
        .get("relations")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (name, value) in given {
        let Some(spec) = relations.get(name) else {
            return Err(Rejection::invalid(format!(
                "relation \"{name}\" is not defined in the blueprint"
            )));
        };
        let many = spec.get("many").and_then(Value::as_bool).unwrap_or(false);
        let ok = match value {
            Value::Null => true,
            Value::String(_) => !many,
            Value::Array(items) => many && items.iter().all(Value::is_string),
            _ => false,
        };
        if !ok {
            return Err(Rejection::invalid(format!(
                "relation \"{name}\" must be {}",
                if many {
                    "an array of identifiers"
                } else {
                    "one identifier string"
                }
            )));
        }
    }
    for (name, spec) in &relations {
        let required = spec
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if required && given.get(name).is_none_or(Value::is_null) {
            return Err(Rejection::invalid(format!(
                "required relation \"{name}\" is missing"
            )));
        }
    }
    Ok(())
}

/// Scalar coercion towards the declared type (ajv's `coerceTypes` rules for scalars).
fn coerce(spec: &Value, value: &mut Value) {
    let ty = spec.get("type").and_then(Value::as_str).unwrap_or("string");
    let coerced = match (ty, &*value) {
        ("string", Value::Number(n)) => Some(Value::String(n.to_string())),
        ("string", Value::Bool(b)) => Some(Value::String(b.to_string())),
        ("number", Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        ("boolean", Value::String(s)) if s == "true" || s == "false" => {
            Some(Value::Bool(s == "true"))
        }
        _ => None,
    };
    if let Some(coerced) = coerced {
        *value = coerced;
    }
}

fn property(name: &str, spec: &Value, value: &Value) -> Result<(), Rejection> {
    let ty = spec.get("type").and_then(Value::as_str).unwrap_or("string");
    let type_ok = match ty {
        "string" => value.is_string(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        _ => true,
    };
    if !type_ok {
        return Err(Rejection::invalid(format!(
            "property \"{name}\" must be of type {ty}, got {value}"
        )));
    }
    if let Some(options) = spec.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(Rejection::invalid(format!(
            "property \"{name}\" must be equal to one of the allowed values {}, got {value}",
            Value::Array(options.clone())
        )));
    }
    if let (Some(format), Some(text)) = (spec.get("format").and_then(Value::as_str), value.as_str())
    {
        let ok = match format {
            "date-time" => text.parse::<jiff::Timestamp>().is_ok(),
            "url" => url_like(text),
            _ => true,
        };
        if !ok {
            return Err(Rejection::invalid(format!(
                "property \"{name}\" must match format \"{format}\", got \"{text}\""
            )));
        }
    }
    Ok(())
}

fn url_like(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace))
}

/// Port stores JSON the way JavaScript reads it: a number with a zero fraction is an integer
/// (`120.0` comes back as `120`). The Python integration's jq hands Port such numbers as
/// integers already; ours keeps the source's `120.0`, and only Port's reading makes them equal.
pub(crate) fn javascript_numbers(value: &mut Value) {
    const SAFE: f64 = 9_007_199_254_740_991.0;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() <= SAFE
            {
                #[expect(clippy::cast_possible_truncation, reason = "integral and within ±2^53")]
                let i = f as i64;
                *value = json!(i);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(javascript_numbers),
        Value::Object(map) => map.values_mut().for_each(javascript_numbers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bp() -> Value {
        json!({"identifier": "b", "schema": {"properties": {
            "type": {"type": "string", "enum": ["Bug", "Task"]},
            "when": {"type": "string", "format": "date-time"},
            "link": {"type": "string", "format": "url"},
            "n": {"type": "number"}}, "required": []},
            "relations": {"project": {"target": "p", "required": true, "many": false}}})
    }

    #[test]
    fn a_valid_entity_passes_and_each_kind_of_mistake_is_named() {
        let mut ok = json!({"properties": {"type": "Bug", "when": "2026-10-01T08:00:00.123Z", "link": "https://x/y", "n": "1"}, "relations": {"project": "p1"}});
        assert!(entity(&bp(), &mut ok).is_ok());
        assert_eq!(
            ok["properties"]["n"],
            json!(1.0),
            "numeric strings are coerced"
        );
        for (props, needle) in [
            (json!({"type": "Feature"}), "allowed values"),
            (json!({"when": "yesterday"}), "date-time"),
            (json!({"link": "not a url"}), "url"),
            (json!({"n": "one"}), "type number"),
            (json!({"nope": 1}), "not defined"),
        ] {
            let e = entity(
                &bp(),
                &mut json!({"properties": props, "relations": {"project": "p1"}}),
            )
            .unwrap_err();
            assert!(e.message.contains(needle), "{}", e.message);
        }
        let e = entity(&bp(), &mut json!({"properties": {}, "relations": {}})).unwrap_err();
        assert!(e.message.contains("required relation"));
    }

    #[test]
    fn identifiers_follow_ports_pattern() {
        assert!(identifier("p-1/42").is_ok());
        assert!(identifier("has space").is_err());
        assert!(identifier("").is_err());
    }
}
