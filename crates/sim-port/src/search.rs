//! Port's search rules (the subset Ocean sends): combinators `and`/`or`, nested queries,
//! operators `=`, `!=`, `in`, `contains`, and the `$identifier`, `$blueprint`, `$datasource`,
//! `$title`, `$team` meta-properties besides ordinary property names.

use serde_json::{Value, json};

use crate::{state::Inner, validate::Rejection};

/// True when `entity` (with its `datasource`) matches `query`. An unknown operator matches
/// nothing (the simulator is strict so that tests notice).
pub(crate) fn matches(query: &Value, entity: &Value, datasource: Option<&str>) -> bool {
    let rules = query.get("rules").and_then(Value::as_array);
    let Some(rules) = rules else {
        return rule(query, entity, datasource);
    };
    let results = rules.iter().map(|r| matches(r, entity, datasource));
    match query.get("combinator").and_then(Value::as_str) {
        Some("or") => results.into_iter().any(|x| x),
        _ => results.into_iter().all(|x| x),
    }
}

fn rule(rule: &Value, entity: &Value, datasource: Option<&str>) -> bool {
    let property = rule
        .get("property")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let expected = rule.get("value").unwrap_or(&Value::Null);
    let actual = match property {
        "$identifier" => entity.get("identifier").cloned(),
        "$blueprint" => entity.get("blueprint").cloned(),
        "$title" => entity.get("title").cloned(),
        "$team" => entity.get("team").cloned(),
        "$datasource" => datasource.map(|d| Value::String(d.to_owned())),
        name => entity.get("properties").and_then(|p| p.get(name)).cloned(),
    }
    .unwrap_or(Value::Null);
    match rule
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "=" => &actual == expected,
        "!=" => &actual != expected,
        "in" => expected
            .as_array()
            .is_some_and(|options| options.contains(&actual)),
        "contains" => match (&actual, expected) {
            (Value::String(a), Value::String(e)) => a.contains(e.as_str()),
            (Value::Array(items), e) => items.contains(e),
            _ => false,
        },
        _ => false,
    }
}

/// Port resolves a relation given as a search query (`{combinator, rules}`) to the identifiers
/// of the target blueprint's matching entities: the one match of a single relation (none: no
/// value; several: refused), every match of a `many` relation.
/// The identifiers of the entities of `blueprint` that `query` matches, sorted.
pub(crate) fn identifiers<'a>(inner: &'a Inner, blueprint: &str, query: &Value) -> Vec<&'a String> {
    let mut found: Vec<&String> = inner
        .entities
        .iter()
        .filter(|((b, _), s)| b == blueprint && matches(query, &s.entity, s.datasource.as_deref()))
        .map(|((_, id), _)| id)
        .collect();
    found.sort();
    found
}

pub(crate) fn resolve_relations(
    inner: &Inner,
    blueprint: &Value,
    entity: &mut Value,
) -> Result<(), Rejection> {
    let Some(relations) = entity.get_mut("relations").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (name, value) in relations.iter_mut() {
        if !value.is_object() {
            continue;
        }
        let spec = &blueprint["relations"][name.as_str()];
        let target = spec["target"].as_str().unwrap_or_default();
        let found = identifiers(inner, target, value);
        *value = if spec["many"].as_bool().unwrap_or(false) {
            json!(found)
        } else {
            match found.as_slice() {
                [] => Value::Null,
                [one] => json!(one),
                _ => {
                    return Err(Rejection {
                        status: 422,
                        error: "invalid_request",
                        message: format!(
                            "the search query of relation \"{name}\" matched {} entities of \"{target}\", expected at most 1",
                            found.len()
                        ),
                    });
                }
            }
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_and_or_rules_with_meta_properties() {
        let e = json!({"identifier": "a", "blueprint": "b", "properties": {"x": 1}});
        let q = json!({"combinator": "and", "rules": [
            {"property": "$blueprint", "operator": "=", "value": "b"},
            {"combinator": "or", "rules": [
                {"property": "$identifier", "operator": "in", "value": ["z", "a"]},
                {"property": "x", "operator": "=", "value": 2}]},
            {"property": "$datasource", "operator": "contains", "value": "/id/exporter"}]});
        assert!(matches(&q, &e, Some("port-ocean/t/1/id/exporter")));
        assert!(!matches(&q, &e, Some("other")));
    }
}
