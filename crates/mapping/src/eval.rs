//! Evaluation of a [`ResourcePlan`] on one raw item (Ocean's semantics, ocean-framework.md
//! §3.1): `itemsToParse` expansion, the boolean selector, first-output-wins field mappings, null
//! plus a warning for a failing field, and dropping items whose identifier or blueprint is empty.

use jaq_json::Val;
use serde_json::{Map, Value};

use crate::{
    Entity, MapError,
    jq::{Jq, from_val, to_val},
    plan::{FieldPlan, ResourcePlan, RulePlan},
};

/// What one raw item produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemOutcome {
    /// Entities that passed the selector.
    pub passed: Vec<Entity>,
    /// Items (or parsed elements) the selector filtered out.
    pub filtered_out: usize,
    /// Items dropped because their identifier or blueprint mapped to null or "".
    pub dropped: Vec<DroppedEntity>,
    /// Fields that failed to evaluate (their value is null).
    pub warnings: Vec<FieldWarning>,
}

/// An item dropped by the mapping, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedEntity {
    /// Why it was dropped.
    pub reason: String,
}

/// A mapping field that failed on an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldWarning {
    /// Field path, e.g. `properties.effort`.
    pub field: String,
    /// jq's message.
    pub message: String,
}

/// Fields that every item of a page has in common (e.g. `__project` for one project's work
/// items), converted for jq once per page and shared by reference between the items, instead
/// of a copy in every raw item (heap and conversion time, NOTES.md).
#[derive(Debug, Clone, Default)]
pub struct SharedFields {
    json: Map<String, Value>,
    vals: Vec<(Val, Val)>,
}

impl SharedFields {
    /// Converts `fields` once.
    #[must_use]
    pub fn new(fields: Map<String, Value>) -> Self {
        let vals = fields
            .iter()
            .map(|(k, v)| (Val::from(k.clone()), to_val(v)))
            .collect();
        Self { json: fields, vals }
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.vals.is_empty()
    }

    /// The jq input for `raw` with these fields: as if they had been inserted into the raw
    /// object (appended, or replacing a key it already has, in place). Non-objects are left
    /// as they are.
    fn input(&self, raw: &Value) -> Val {
        match raw {
            Value::Object(map) if !self.is_empty() => Val::obj(
                map.iter()
                    .map(|(k, v)| (Val::from(k.clone()), to_val(v)))
                    .chain(self.vals.iter().cloned())
                    .collect(),
            ),
            _ => to_val(raw),
        }
    }

    /// `raw` with these fields inserted (for the rare paths that need the JSON itself).
    #[must_use]
    pub fn merged(&self, raw: &Value) -> Value {
        let mut copy = raw.clone();
        if let Value::Object(map) = &mut copy {
            map.extend(self.json.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        copy
    }
}

impl ResourcePlan {
    /// Maps one raw item (see the module docs).
    pub fn map_item(&self, raw: &Value) -> Result<ItemOutcome, MapError> {
        self.map_item_with(raw, &SharedFields::default(), true)
    }

    /// Maps one raw item of a page whose items all have `shared` (see [`SharedFields`]).
    pub fn map_item_sharing(
        &self,
        raw: &Value,
        shared: &SharedFields,
    ) -> Result<ItemOutcome, MapError> {
        self.map_item_with(raw, shared, true)
    }

    /// Maps one raw item whatever the selector says: what a deleted object's entity was (a
    /// deleted object may no longer match a selector that its live version matched).
    pub fn map_item_unfiltered(&self, raw: &Value) -> Result<ItemOutcome, MapError> {
        self.map_item_with(raw, &SharedFields::default(), false)
    }

    fn map_item_with(
        &self,
        raw: &Value,
        shared: &SharedFields,
        select: bool,
    ) -> Result<ItemOutcome, MapError> {
        let mut outcome = ItemOutcome::default();
        let Some(items_to_parse) = &self.items_to_parse else {
            self.map_one(&shared.input(raw), select, &mut outcome)?;
            return Ok(outcome);
        };
        // `itemsToParse` copies the item per element anyway: work on the merged JSON.
        let merged;
        let raw = if shared.is_empty() {
            raw
        } else {
            merged = shared.merged(raw);
            &merged
        };
        let input = to_val(raw);
        let elements = match items_to_parse.first(&input, &self.env) {
            Ok(Some(Val::Arr(items))) => items,
            Ok(other) => {
                outcome.warnings.push(FieldWarning {
                    field: "port.itemsToParse".to_owned(),
                    message: format!(
                        "expected an array, got {}; item skipped",
                        other.map_or_else(|| "no output".to_owned(), |v| from_val(&v).to_string())
                    ),
                });
                return Ok(outcome);
            }
            Err(message) => {
                outcome.warnings.push(FieldWarning {
                    field: "port.itemsToParse".to_owned(),
                    message,
                });
                return Ok(outcome);
            }
        };
        let mut base = raw.clone();
        if let Some(path) = &self.items_path {
            remove_path(&mut base, path);
        }
        for element in elements.iter() {
            let mut copy = base.clone();
            if let Value::Object(map) = &mut copy {
                map.insert(self.items_name.clone(), from_val(element));
            }
            self.map_one(&to_val(&copy), select, &mut outcome)?;
        }
        Ok(outcome)
    }

    fn map_one(
        &self,
        input: &Val,
        select: bool,
        outcome: &mut ItemOutcome,
    ) -> Result<(), MapError> {
        if select && !self.selected(input)? {
            outcome.filtered_out += 1;
            return Ok(());
        }
        let mut eval = Eval {
            plan: self,
            input,
            warnings: &mut outcome.warnings,
        };
        let identifier = eval.field("identifier", &self.identifier);
        let blueprint = eval.jq("blueprint", &self.blueprint);
        let (Some(blueprint), true) = (
            blueprint.as_str().filter(|b| !b.is_empty()),
            non_empty(&identifier),
        ) else {
            outcome.dropped.push(DroppedEntity {
                reason: format!("identifier {identifier} or blueprint {blueprint} is empty"),
            });
            return Ok(());
        };
        let blueprint = blueprint.to_owned();
        let title = self.title.as_ref().map(|t| eval.jq("title", t));
        let icon = self.icon.as_ref().map(|i| eval.jq("icon", i));
        let team = self.team.as_ref().map(|t| eval.field("team", t));
        let mut properties = Map::with_capacity(self.properties.len());
        for (name, jq) in &self.properties {
            let value = eval.jq_named("properties", name, jq);
            properties.insert(name.clone(), value);
        }
        let mut relations = Map::with_capacity(self.relations.len());
        for (name, field) in &self.relations {
            let value = eval.field(&format!("relations.{name}"), field);
            relations.insert(name.clone(), value);
        }
        outcome.passed.push(Entity {
            identifier,
            title,
            icon,
            blueprint,
            team,
            properties,
            relations,
        });
        Ok(())
    }

    fn selected(&self, input: &Val) -> Result<bool, MapError> {
        if self.query.literal().is_none() && self.query.source().trim() == "true" {
            return Ok(true);
        }
        let error = |message: String| MapError::Selector {
            kind: self.kind.clone(),
            index: self.index,
            message,
        };
        match self.query.first(input, &self.env) {
            Ok(Some(Val::Bool(b))) => Ok(b),
            Ok(Some(other)) => Err(error(format!(
                "must yield a boolean, got {}",
                from_val(&other)
            ))),
            Ok(None) => Err(error(
                "yielded no value; it must yield a boolean".to_owned(),
            )),
            Err(message) => Err(error(format!("failed: {message}"))),
        }
    }
}

fn non_empty(identifier: &Value) -> bool {
    match identifier {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

struct Eval<'a> {
    plan: &'a ResourcePlan,
    input: &'a Val,
    warnings: &'a mut Vec<FieldWarning>,
}

impl Eval<'_> {
    fn jq(&mut self, field: &str, jq: &Jq) -> Value {
        match jq.first(self.input, &self.plan.env) {
            Ok(Some(value)) => from_val(&value),
            Ok(None) => Value::Null,
            Err(message) => {
                self.warnings.push(FieldWarning {
                    field: field.to_owned(),
                    message,
                });
                Value::Null
            }
        }
    }

    fn jq_named(&mut self, section: &str, name: &str, jq: &Jq) -> Value {
        match jq.first(self.input, &self.plan.env) {
            Ok(Some(value)) => from_val(&value),
            Ok(None) => Value::Null,
            Err(message) => {
                self.warnings.push(FieldWarning {
                    field: format!("{section}.{name}"),
                    message,
                });
                Value::Null
            }
        }
    }

    fn field(&mut self, field: &str, plan: &FieldPlan) -> Value {
        match plan {
            FieldPlan::Jq(jq) => self.jq(field, jq),
            FieldPlan::Search { combinator, rules } => {
                let combinator = self.jq(&format!("{field}.combinator"), combinator);
                let rules: Vec<Value> = rules
                    .iter()
                    .enumerate()
                    .map(|(i, rule)| match rule {
                        RulePlan::Rule {
                            property,
                            operator,
                            value,
                        } => {
                            let path = format!("{field}.rules[{i}]");
                            let mut rule = Map::new();
                            rule.insert("property".into(), self.jq(&path, property));
                            rule.insert("operator".into(), self.jq(&path, operator));
                            rule.insert("value".into(), self.jq(&path, value));
                            Value::Object(rule)
                        }
                        RulePlan::Query(nested) => {
                            self.field(&format!("{field}.rules[{i}]"), nested)
                        }
                    })
                    .collect();
                let mut query = Map::new();
                query.insert("combinator".into(), combinator);
                query.insert("rules".into(), Value::Array(rules));
                Value::Object(query)
            }
        }
    }
}

fn remove_path(value: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cursor = value;
    for key in parents {
        match cursor.get_mut(key) {
            Some(next) => cursor = next,
            None => return,
        }
    }
    if let Value::Object(map) = cursor {
        map.shift_remove(last);
    }
}
