//! Port's search rules (the subset Ocean sends): combinators `and`/`or`, nested queries,
//! operators `=`, `!=`, `in`, `contains`, and the `$identifier`, `$blueprint`, `$datasource`,
//! `$title`, `$team` meta-properties besides ordinary property names.

use serde_json::Value;

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
