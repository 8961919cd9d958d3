//! The catalog sim-port holds after a run, in a form two runs can be compared in: entities sorted
//! by (blueprint, identifier), Port's timestamps dropped, the simulator's address replaced by a
//! fixed one, and the placeholders Port created for missing related entities marked as such.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Where the Azure DevOps simulator appears in normalized catalogs (URLs in properties).
pub const ADO_ORIGIN: &str = "http://sim-ado.test";

/// Normalizes sim-port's `dump()`: `ado_origin` (`http://127.0.0.1:PORT`) becomes
/// [`ADO_ORIGIN`]. Blueprints are kept only when `with_blueprints` (the cases where the
/// integration creates its default resources).
pub fn normalize(dump: &Value, ado_origin: &str, with_blueprints: bool) -> Value {
    let mut entities: Vec<Value> = dump["entities"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            json!({
                "blueprint": e["blueprint"],
                "identifier": e["identifier"],
                "title": e["title"],
                "properties": e["properties"],
                "relations": e["relations"],
                // sim-port stores no datasource for the placeholders it creates with
                // `create_missing_related_entities=true`.
                "missingRelated": e["datasource"].is_null(),
            })
        })
        .collect();
    entities.sort_by_key(key);
    let mut out = json!({"entities": entities});
    if with_blueprints {
        let mut blueprints: Vec<Value> = dump["blueprints"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| {
                let mut b = b.clone();
                if let Some(object) = b.as_object_mut() {
                    object.retain(|k, _| !matches!(k.as_str(), "createdAt" | "updatedAt"));
                }
                b
            })
            .collect();
        blueprints.sort_by(|a, b| a["identifier"].as_str().cmp(&b["identifier"].as_str()));
        out["blueprints"] = Value::Array(blueprints);
    }
    replace_origin(&mut out, ado_origin);
    out
}

fn key(entity: &Value) -> (String, String) {
    (
        entity["blueprint"].as_str().unwrap_or_default().to_owned(),
        entity["identifier"].as_str().unwrap_or_default().to_owned(),
    )
}

fn replace_origin(value: &mut Value, origin: &str) {
    match value {
        Value::String(s) if s.contains(origin) => *s = s.replace(origin, ADO_ORIGIN),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_origin(v, origin)),
        Value::Object(map) => map.values_mut().for_each(|v| replace_origin(v, origin)),
        _ => {}
    }
}

/// A difference CI tolerates (conformance/departures.yaml): in `case`, under `path`
/// (dot-separated, from the entity: `properties.raw.__firstCommit`; empty: the entity itself is
/// missing or extra) of entities of `blueprint` (and only the entity `identifier`, when given).
/// `*` as the case or blueprint matches any.
#[derive(Debug, Clone)]
pub struct Departure {
    pub case: String,
    pub blueprint: String,
    pub identifier: Option<String>,
    pub path: String,
    pub reason: String,
}

impl Departure {
    fn applies(&self, case: &str, (blueprint, identifier): (&str, &str)) -> bool {
        (self.case == "*" || self.case == case)
            && (self.blueprint == "*" || self.blueprint == blueprint)
            && self.identifier.as_deref().is_none_or(|i| i == identifier)
    }

    /// Reads one entry of conformance/departures.yaml; every field is required.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        let field = |name: &str| {
            value[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("departure {value} lacks the string \"{name}\""))
        };
        Ok(Self {
            case: field("case")?,
            blueprint: field("blueprint")?,
            identifier: value["identifier"].as_str().map(str::to_owned),
            path: field("path")?,
            reason: field("reason")?,
        })
    }
}

/// The outcome of comparing our catalog with the golden one.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Entities compared (present in both).
    pub compared: usize,
    /// Differences that are not listed departures, readable, one per line.
    pub differences: Vec<String>,
    /// Differences hidden by each listed departure (its path), for the report.
    pub departed: BTreeMap<String, usize>,
}

/// Compares `ours` with `golden` entity by entity (and blueprint by blueprint, when the golden
/// file has them).
pub fn compare(case: &str, golden: &Value, ours: &Value, departures: &[Departure]) -> Comparison {
    let mut comparison = Comparison::default();
    let index = |catalog: &Value| -> BTreeMap<(String, String), Value> {
        catalog["entities"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| (key(e), e.clone()))
            .collect()
    };
    let (expected, actual) = (index(golden), index(ours));
    for (k, want) in &expected {
        let Some(got) = actual.get(k) else {
            whole(
                &mut comparison,
                departures,
                case,
                k,
                format!("missing {}/{} (upstream has it)", k.0, k.1),
            );
            continue;
        };
        comparison.compared += 1;
        let masks: Vec<&Departure> = departures
            .iter()
            .filter(|d| d.applies(case, (&k.0, &k.1)))
            .collect();
        let mut found = Vec::new();
        diff("", want, got, &mut found);
        for (path, line) in found {
            match masks.iter().find(|d| covers(&d.path, &path)) {
                Some(d) => {
                    *comparison
                        .departed
                        .entry(format!("{} ({})", d.path, d.reason))
                        .or_default() += 1;
                }
                None => comparison
                    .differences
                    .push(format!("{}/{}: {line}", k.0, k.1)),
            }
        }
    }
    for k in actual.keys().filter(|k| !expected.contains_key(*k)) {
        whole(
            &mut comparison,
            departures,
            case,
            k,
            format!("extra {}/{} (upstream does not have it)", k.0, k.1),
        );
    }
    if let Some(want) = golden.get("blueprints") {
        let mut found = Vec::new();
        diff("blueprints", want, &ours["blueprints"], &mut found);
        comparison
            .differences
            .extend(found.into_iter().map(|(_, line)| line));
    }
    comparison
}

/// A missing or extra entity: a difference unless a departure with an empty path covers it.
fn whole(
    comparison: &mut Comparison,
    departures: &[Departure],
    case: &str,
    (blueprint, identifier): &(String, String),
    line: String,
) {
    match departures
        .iter()
        .find(|d| d.path.is_empty() && d.applies(case, (blueprint, identifier)))
    {
        Some(d) => {
            *comparison
                .departed
                .entry(format!("{blueprint} entities ({})", d.reason))
                .or_default() += 1;
        }
        None => comparison.differences.push(line),
    }
}

fn covers(prefix: &str, path: &str) -> bool {
    path == prefix || path.starts_with(&format!("{prefix}."))
}

/// Collects `(path, readable line)` for every leaf where `want` and `got` differ.
fn diff(path: &str, want: &Value, got: &Value, out: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            let keys: std::collections::BTreeSet<&String> = w.keys().chain(g.keys()).collect();
            for k in keys {
                match (w.get(k), g.get(k)) {
                    (Some(a), Some(b)) => diff(&join(k), a, b, out),
                    (Some(a), None) => out.push((
                        join(k),
                        format!("{}: upstream {}, ours absent", join(k), short(a)),
                    )),
                    (None, Some(b)) => out.push((
                        join(k),
                        format!("{}: upstream absent, ours {}", join(k), short(b)),
                    )),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                diff(&join(&i.to_string()), a, b, out);
            }
        }
        _ if want != got => out.push((
            path.to_owned(),
            format!("{path}: upstream {}, ours {}", short(want), short(got)),
        )),
        _ => {}
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 160 {
        format!("{}…", text.chars().take(160).collect::<String>())
    } else {
        text
    }
}
