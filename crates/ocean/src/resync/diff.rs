//! Change detection: compares what a mapping produced with what Port already holds, so that
//! unchanged entities are never written (DESIGN.md §2, "the life of a resync").
//!
//! Every entity of a resource carries the same fields, whatever their values: the mapping's
//! title, icon and team when it has them, and each of its properties and relations (see
//! [`mapping::ResourcePlan::entity_fields`]). That set is the resource's [`View`] of its
//! blueprint. At the start of a resync, Port's copy of each entity is reduced to one 64-bit
//! digest of its fields for each view of its blueprint (usually one): 8 bytes an entity. An
//! entity produced is reduced to a [`Fingerprint`]: its view and the digest of its fields.
//!
//! - With `enableMergeEntity: true` (the default) an upsert only touches the fields it sends,
//!   so the entity is unchanged when Port holds the same value for every field of the view:
//!   the two digests are equal. Fields Port holds that the mapping does not write are not in
//!   the view and do not count.
//! - With `enableMergeEntity: false` the upsert replaces the entity, so Port's digest covers
//!   every field it holds ([`View::every_field`]).
//!
//! Null values are left out of both digests: a null we send equals a key missing at Port (Port
//! stores no null). A null we send where Port holds a value is a change, as in Ocean
//! (ocean-framework.md, edge case 7: Port's non-null value makes the JSON differ), so the
//! upsert clears it.
//!
//! Memory (issue 18): the snapshot used to keep one hash per field (≈ 18 an entity, 19.7 MiB
//! of the large bench's heap peak), enough to answer for any subset of fields sent. The views
//! are known before the snapshot is read, so one digest per view answers the same questions.
//! A changed value goes unnoticed only when two 64-bit digests collide, about one chance in
//! 10^19 per entity compared.

use std::collections::{BTreeMap, HashSet};

use mapping::{Entity, EntityFields, MappingPlan};
use serde_json::{Map, Value};
use xxhash_rust::xxh3::Xxh3;

/// An entity produced by the mapping, reduced to its view and the digest of its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    /// [`View::id`] of the fields it carries.
    view: u64,
    /// Digest of its non-null fields (names and values).
    digest: u64,
}

impl Fingerprint {
    /// Fingerprints an entity produced by the mapping.
    #[must_use]
    pub fn of_entity(entity: &Entity) -> Self {
        let mut names = Vec::new();
        let mut fields = Fields::default();
        for (name, value) in [("title", &entity.title), ("icon", &entity.icon)] {
            if value.is_some() {
                names.push(field_name("", name));
            }
            fields.scalar(name, value.as_ref());
        }
        if entity.team.is_some() {
            names.push(field_name("", "team"));
        }
        fields.team(entity.team.as_ref());
        for (prefix, map) in [
            (PROPERTY, &entity.properties),
            (RELATION, &entity.relations),
        ] {
            names.extend(map.keys().map(|key| field_name(prefix, key)));
            fields.map(prefix, Some(map));
        }
        Self {
            view: view_id(&mut names),
            digest: fields.sorted().digest(|_| true),
        }
    }

    /// Equal for equal entities of one view (what a duplicate is compared with, see
    /// [`super::pipeline`]).
    #[must_use]
    pub fn digest(&self) -> u64 {
        self.digest
    }
}

/// The fields one resource writes to its blueprint, or every field (a replacing upsert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    id: u64,
    /// The fields' name hashes, sorted; `None` for every field.
    names: Option<Box<[u64]>>,
}

/// The id of the view of fields `names` (sorted and deduplicated in place): a hash of the set.
fn view_id(names: &mut Vec<u64>) -> u64 {
    names.sort_unstable();
    names.dedup();
    let mut h = Xxh3::new();
    for name in names.iter() {
        h.update(&name.to_le_bytes());
    }
    h.digest()
}

impl View {
    fn new(mut names: Vec<u64>) -> Self {
        Self {
            id: view_id(&mut names),
            names: Some(names.into_boxed_slice()),
        }
    }

    /// The fields of a resource's entities.
    #[must_use]
    pub fn of_fields(fields: &EntityFields<'_>) -> Self {
        let scalars = [
            ("title", fields.title),
            ("icon", fields.icon),
            ("team", fields.team),
        ];
        let names = scalars
            .into_iter()
            .filter(|(_, mapped)| *mapped)
            .map(|(name, _)| field_name("", name))
            .chain(
                fields
                    .properties
                    .iter()
                    .map(|key| field_name(PROPERTY, key)),
            )
            .chain(fields.relations.iter().map(|key| field_name(RELATION, key)))
            .collect();
        Self::new(names)
    }

    /// Every field: what a replacing upsert (`enableMergeEntity: false`) is compared on.
    #[must_use]
    pub fn every_field() -> Self {
        Self { id: 0, names: None }
    }

    /// Whether an entity with `fingerprint` is compared on this view.
    fn covers(&self, fingerprint: &Fingerprint) -> bool {
        self.names.is_none() || self.id == fingerprint.view
    }

    fn contains(&self, name: u64) -> bool {
        self.names
            .as_ref()
            .is_none_or(|names| names.binary_search(&name).is_ok())
    }
}

/// The views of each blueprint a mapping writes, for the snapshot's digests.
#[derive(Debug, Clone, Default)]
pub struct Views {
    by_blueprint: BTreeMap<String, Vec<View>>,
    /// Views of resources whose blueprint is computed per item: they may write any blueprint.
    anywhere: Vec<View>,
}

impl Views {
    /// The views of `plan`'s resources; with `merge: false`, every field of every blueprint.
    #[must_use]
    pub fn of_plan(plan: &MappingPlan, merge: bool) -> Self {
        let mut views = Self::default();
        if !merge {
            views.anywhere.push(View::every_field());
            return views;
        }
        for resource in plan.resources() {
            let view = View::of_fields(&resource.entity_fields());
            let list = match resource.blueprint_literal() {
                Some(blueprint) => views.by_blueprint.entry(blueprint.to_owned()).or_default(),
                None => &mut views.anywhere,
            };
            if !list.contains(&view) {
                list.push(view);
            }
        }
        views
    }

    /// The views of `blueprint`, each once.
    #[must_use]
    pub fn of_blueprint(&self, blueprint: &str) -> Box<[View]> {
        let mut ids = HashSet::new();
        self.by_blueprint
            .get(blueprint)
            .into_iter()
            .flatten()
            .chain(&self.anywhere)
            .filter(|view| ids.insert(view.id))
            .cloned()
            .collect()
    }
}

/// Port's copy of an entity (search or datasource listing), its non-null fields hashed.
#[derive(Debug)]
pub struct PortFields(Fields);

impl PortFields {
    /// Hashes the fields of an entity as Port returns it.
    #[must_use]
    pub fn of(entity: &Value) -> Self {
        let mut fields = Fields::default();
        fields.scalar("title", entity.get("title"));
        fields.scalar("icon", entity.get("icon"));
        fields.team(entity.get("team"));
        fields.map(
            PROPERTY,
            entity.get("properties").and_then(Value::as_object),
        );
        fields.map(RELATION, entity.get("relations").and_then(Value::as_object));
        Self(fields.sorted())
    }

    /// The digest of the fields of `view` (what the snapshot keeps).
    #[must_use]
    pub fn digest(&self, view: &View) -> u64 {
        self.0.digest(|name| view.contains(name))
    }
}

/// Whether writing an entity changes nothing at Port, which holds `port` (one digest for each
/// of `views`, in order: [`PortFields::digest`]).
#[must_use]
pub fn unchanged(fingerprint: &Fingerprint, views: &[View], port: &[u64]) -> bool {
    views
        .iter()
        .zip(port)
        .find(|(view, _)| view.covers(fingerprint))
        .is_some_and(|(_, digest)| *digest == fingerprint.digest)
}

const PROPERTY: &str = "p:";
const RELATION: &str = "r:";

/// A field's name: `title`, `icon` and `team` unprefixed, properties and relations prefixed.
fn field_name(prefix: &str, name: &str) -> u64 {
    let mut h = Xxh3::new();
    h.update(prefix.as_bytes());
    h.update(name.as_bytes());
    h.digest()
}

/// Non-null fields as (name, value) hashes.
#[derive(Debug, Default)]
struct Fields(Vec<(u64, u64)>);

impl Fields {
    fn scalar(&mut self, name: &str, value: Option<&Value>) {
        if let Some(value) = value.filter(|v| !v.is_null()) {
            self.0.push((field_name("", name), hash_value(value)));
        }
    }

    /// Port stores `team` as a list; mappings may give one string. Order does not matter (Ocean
    /// compares teams order-insensitively), and an empty list is no team.
    fn team(&mut self, value: Option<&Value>) {
        let mut teams: Vec<u64> = match value {
            Some(Value::String(s)) => vec![hash_str(s)],
            Some(Value::Array(items)) => items.iter().map(hash_value).collect(),
            Some(Value::Null) | None => return,
            Some(other) => vec![hash_value(other)],
        };
        if teams.is_empty() {
            return;
        }
        teams.sort_unstable();
        let mut h = Xxh3::new();
        for t in teams {
            h.update(&t.to_le_bytes());
        }
        self.0.push((field_name("", "team"), h.digest()));
    }

    fn map(&mut self, prefix: &str, map: Option<&Map<String, Value>>) {
        for (key, value) in map.into_iter().flatten() {
            if !value.is_null() {
                self.0.push((field_name(prefix, key), hash_value(value)));
            }
        }
    }

    /// Sorted by name, each name once (a field named twice keeps its first value).
    fn sorted(mut self) -> Self {
        self.0.sort_by_key(|(name, _)| *name);
        self.0.dedup_by_key(|(name, _)| *name);
        self
    }

    /// The digest of the (sorted) fields whose name is `wanted`.
    fn digest(&self, wanted: impl Fn(u64) -> bool) -> u64 {
        let mut h = Xxh3::new();
        for (name, value) in self.0.iter().filter(|(name, _)| wanted(*name)) {
            h.update(&name.to_le_bytes());
            h.update(&value.to_le_bytes());
        }
        h.digest()
    }
}

fn hash_str(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

/// Hashes a JSON value canonically: object key order does not matter, and scalars hash by their
/// text, so an integral float (`5.0`, as jq may print it) equals the integer `5`, and a number
/// equals the string Port stores after coercing it to a string property (`10` vs `"10"`).
#[must_use]
pub fn hash_value(value: &Value) -> u64 {
    let mut h = Xxh3::new();
    feed(&mut h, value);
    h.digest()
}

fn feed(h: &mut Xxh3, value: &Value) {
    match value {
        Value::Null => h.update(b"n"),
        Value::Bool(b) => feed_text(h, if *b { "true" } else { "false" }),
        Value::Number(n) => feed_text(h, &number_text(n)),
        Value::String(s) => feed_text(h, s),
        Value::Array(items) => {
            h.update(b"[");
            h.update(&(items.len() as u64).to_le_bytes());
            for item in items {
                feed(h, item);
            }
        }
        Value::Object(map) => {
            // Sum of per-entry hashes: independent of key order, still sensitive to every entry.
            let mut sum = 0u64;
            for (k, v) in map {
                let mut e = Xxh3::new();
                e.update(k.as_bytes());
                e.update(b"=");
                feed(&mut e, v);
                sum = sum.wrapping_add(e.digest());
            }
            h.update(b"{");
            h.update(&(map.len() as u64).to_le_bytes());
            h.update(&sum.to_le_bytes());
        }
    }
}

fn feed_text(h: &mut Xxh3, text: &str) {
    h.update(b"s");
    h.update(&(text.len() as u64).to_le_bytes());
    h.update(text.as_bytes());
}

/// A number's canonical text: integral floats print as integers (`5.0` → `5`).
fn number_text(n: &serde_json::Number) -> String {
    if let Some(f) = n.as_f64().filter(|_| n.is_f64())
        && f.fract() == 0.0
        && f.abs() < 9.0e15
    {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "integral and inside i64's range"
        )]
        return (f as i64).to_string();
    }
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(v: &Value) -> Entity {
        let map = |k: &str| {
            v.get(k)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        Entity {
            identifier: v["identifier"].clone(),
            blueprint: v["blueprint"].as_str().unwrap_or_default().to_owned(),
            title: v.get("title").cloned(),
            icon: v.get("icon").cloned(),
            team: v.get("team").cloned(),
            properties: map("properties"),
            relations: map("relations"),
        }
    }

    /// Whether `sent` (an entity produced) is unchanged at Port, which holds `port`, for a
    /// snapshot that kept the digests of `sent`'s own view (merge) or of every field.
    fn unchanged_at(sent: &Value, port: &Value, merge: bool) -> bool {
        let sent = entity(sent);
        let fields = EntityFields {
            title: sent.title.is_some(),
            icon: sent.icon.is_some(),
            team: sent.team.is_some(),
            properties: sent.properties.keys().map(String::as_str).collect(),
            relations: sent.relations.keys().map(String::as_str).collect(),
        };
        let view = if merge {
            View::of_fields(&fields)
        } else {
            View::every_field()
        };
        let port = PortFields::of(port).digest(&view);
        unchanged(&Fingerprint::of_entity(&sent), &[view], &[port])
    }

    #[test]
    fn key_order_and_integral_floats_do_not_matter() {
        assert_eq!(
            hash_value(&json!({"a": 1, "b": [5.0, "x"]})),
            hash_value(&json!({"b": [5, "x"], "a": 1.0}))
        );
        assert_ne!(hash_value(&json!({"a": 1})), hash_value(&json!({"a": 2})));
        assert_eq!(
            hash_value(&json!("1")),
            hash_value(&json!(1)),
            "Port coerces scalars"
        );
        assert_ne!(hash_value(&json!(null)), hash_value(&json!("null")));
    }

    #[test]
    fn merge_upsert_of_a_subset_of_fields_is_unchanged() {
        let port = json!({
            "identifier": "r1", "title": "Repo", "team": ["a"],
            "properties": {"url": "u", "minimumApproverCount": 2, "readme": null},
            "relations": {"project": "p1"}
        });
        let sent = json!({
            "identifier": "r1", "blueprint": "b", "properties": {"minimumApproverCount": 2.0}, "relations": {}
        });
        assert!(unchanged_at(&sent, &port, true));
        assert!(!unchanged_at(&sent, &port, false));
    }

    #[test]
    fn a_changed_or_new_field_is_detected() {
        let port = json!({"title": "A", "properties": {"x": 1}});
        let changed = json!({"identifier": "i", "blueprint": "b", "title": "A", "properties": {"x": 2}, "relations": {}});
        let added = json!({"identifier": "i", "blueprint": "b", "title": "A", "properties": {"x": 1, "y": 1}, "relations": {}});
        assert!(!unchanged_at(&changed, &port, true));
        assert!(!unchanged_at(&added, &port, true));
    }

    #[test]
    fn null_we_send_equals_a_key_missing_at_port_and_team_order_is_ignored() {
        let port = json!({"team": ["b", "a"], "properties": {}});
        let sent = json!({
            "identifier": "i", "blueprint": "b", "team": ["a", "b"], "properties": {"gone": null}, "relations": {}
        });
        assert!(unchanged_at(&sent, &port, true));
        assert!(unchanged_at(&sent, &port, false));
    }

    #[test]
    fn a_null_we_send_where_port_holds_a_value_is_a_change() {
        // The work item was unassigned: the upsert must clear Port's value, as Ocean's does.
        let port = json!({"title": "Bug", "properties": {"assignee": "ann"}, "relations": {"project": "p"}});
        let sent = json!({
            "identifier": "1", "blueprint": "b", "title": "Bug",
            "properties": {"assignee": null}, "relations": {"project": "p"}
        });
        assert!(!unchanged_at(&sent, &port, true));
        assert!(!unchanged_at(&sent, &port, false));
        let relation_cleared = json!({
            "identifier": "1", "blueprint": "b", "title": "Bug",
            "properties": {"assignee": "ann"}, "relations": {"project": null}
        });
        assert!(!unchanged_at(&relation_cleared, &port, true));
    }

    #[test]
    fn an_entity_of_a_view_the_snapshot_did_not_digest_is_a_change() {
        let port = PortFields::of(&json!({"title": "A", "properties": {"x": 1}}));
        let title_only = View::of_fields(&EntityFields {
            title: true,
            icon: false,
            team: false,
            properties: vec![],
            relations: vec![],
        });
        let sent = Fingerprint::of_entity(&entity(&json!({
            "identifier": "i", "blueprint": "b", "title": "A", "properties": {"x": 1}, "relations": {}
        })));
        assert!(!unchanged(
            &sent,
            std::slice::from_ref(&title_only),
            &[port.digest(&title_only)]
        ));
        assert!(!unchanged(&sent, &[], &[]));
    }

    #[test]
    fn a_views_digest_ignores_fields_outside_it_and_finds_the_entitys_view_among_several() {
        let fields = |properties: Vec<&'static str>| EntityFields {
            title: true,
            icon: false,
            team: false,
            properties,
            relations: vec![],
        };
        let (x, y) = (
            View::of_fields(&fields(vec!["x"])),
            View::of_fields(&fields(vec!["y"])),
        );
        let port = PortFields::of(&json!({"title": "A", "properties": {"x": 1, "y": 2}}));
        let views = [x.clone(), y.clone()];
        let digests = [port.digest(&x), port.digest(&y)];
        let sent = |properties: Value| {
            Fingerprint::of_entity(&entity(&json!({
                "identifier": "i", "blueprint": "b", "title": "A", "properties": properties, "relations": {}
            })))
        };
        assert!(unchanged(&sent(json!({"x": 1})), &views, &digests));
        assert!(unchanged(&sent(json!({"y": 2})), &views, &digests));
        assert!(!unchanged(&sent(json!({"y": 3})), &views, &digests));
    }
}
