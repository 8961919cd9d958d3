//! Change detection: compares what a mapping produced with what Port already holds, field by field,
//! so that unchanged entities are never written (DESIGN.md §2, "the life of a resync").
//!
//! Port's copy of each entity is reduced at the start of a resync to a [`Fingerprint`]: one
//! 64-bit hash of each non-null field's name and value together. That costs 8 bytes a field
//! instead of the entity itself, and answers both comparisons Ocean needs:
//! - with `enableMergeEntity: true` (the default) an upsert only touches the fields it sends, so
//!   the entity is unchanged when Port holds the same value for every field we send
//!   ([`Fingerprint::unchanged_at`]);
//! - with `enableMergeEntity: false` the upsert replaces the entity, so the field sets must be equal
//!   (the same).
//!
//! Null values are not recorded on either side: Ocean treats a null we send and a key missing at
//! Port as equal (ocean-framework.md §4, step 4(c)).
//!
//! Memory (issue 18): a fingerprint used to hold a `(field hash, value hash)` pair per field,
//! 24 MiB of the large bench's 89 MiB heap peak; one hash per pair halves it. A changed value
//! goes unnoticed only if its pair's hash equals another pair's of the same entity, about one
//! chance in 10^17 per field compared, as likely as two values colliding before.

use mapping::Entity;
use serde_json::{Map, Value};
use xxhash_rust::xxh3::Xxh3;

/// Hashes of an entity's comparable fields (title, icon, team, each property and each
/// relation), one per field of its name and value, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint(Box<[u64]>);

impl Fingerprint {
    /// One hash of every field: equal for equal fingerprints (what a duplicate is compared
    /// with, see [`super::pipeline`]).
    #[must_use]
    pub fn digest(&self) -> u64 {
        let mut hasher = Xxh3::new();
        for pair in &self.0 {
            hasher.update(&pair.to_le_bytes());
        }
        hasher.digest()
    }

    /// Fingerprints an entity as Port returns it (search or datasource listing).
    #[must_use]
    pub fn of_port_entity(entity: &Value) -> Self {
        let mut fields = Fields::default();
        fields.scalar("title", entity.get("title"));
        fields.scalar("icon", entity.get("icon"));
        fields.team(entity.get("team"));
        fields.map("p:", entity.get("properties").and_then(Value::as_object));
        fields.map("r:", entity.get("relations").and_then(Value::as_object));
        fields.finish()
    }

    /// Fingerprints an entity produced by the mapping.
    #[must_use]
    pub fn of_entity(entity: &Entity) -> Self {
        let mut fields = Fields::default();
        fields.scalar("title", entity.title.as_ref());
        fields.scalar("icon", entity.icon.as_ref());
        fields.team(entity.team.as_ref());
        fields.map("p:", Some(&entity.properties));
        fields.map("r:", Some(&entity.relations));
        fields.finish()
    }

    /// Its hashes, sorted (what the snapshot keeps of Port's copy).
    #[must_use]
    pub fn hashes(&self) -> &[u64] {
        &self.0
    }

    /// Whether writing this entity changes nothing at Port, whose copy has the fingerprint
    /// `port` ([`Self::hashes`]). A merge upsert (`enableMergeEntity`) changes nothing when Port
    /// holds the same value for every field we send; a replacing one, when both hold exactly
    /// the same fields with the same values.
    #[must_use]
    pub fn unchanged_at(&self, port: &[u64], merge: bool) -> bool {
        if merge {
            self.0.iter().all(|hash| port.binary_search(hash).is_ok())
        } else {
            *self.0 == *port
        }
    }
}

#[derive(Default)]
struct Fields(Vec<(u64, u64)>);

impl Fields {
    fn scalar(&mut self, name: &str, value: Option<&Value>) {
        if let Some(value) = value.filter(|v| !v.is_null()) {
            self.0.push((hash_str(name), hash_value(value)));
        }
    }

    /// Port stores `team` as a list; mappings may give one string. Order does not matter (Ocean
    /// compares teams order-insensitively).
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
        self.0.push((hash_str("team"), h.digest()));
    }

    fn map(&mut self, prefix: &str, map: Option<&Map<String, Value>>) {
        for (key, value) in map.into_iter().flatten() {
            if !value.is_null() {
                let mut h = Xxh3::new();
                h.update(prefix.as_bytes());
                h.update(key.as_bytes());
                self.0.push((h.digest(), hash_value(value)));
            }
        }
    }

    /// One hash per field (a field named twice keeps its first value, as before), sorted.
    fn finish(mut self) -> Fingerprint {
        self.0.sort_by_key(|(field, _)| *field);
        self.0.dedup_by_key(|(field, _)| *field);
        let mut pairs: Vec<u64> = self
            .0
            .iter()
            .map(|(field, value)| {
                let mut h = Xxh3::new();
                h.update(&field.to_le_bytes());
                h.update(&value.to_le_bytes());
                h.digest()
            })
            .collect();
        pairs.sort_unstable();
        Fingerprint(pairs.into_boxed_slice())
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
        let port = Fingerprint::of_port_entity(&json!({
            "identifier": "r1", "title": "Repo", "team": ["a"],
            "properties": {"url": "u", "minimumApproverCount": 2, "readme": null},
            "relations": {"project": "p1"}
        }));
        let sent = Fingerprint::of_entity(&entity(&json!({
            "identifier": "r1", "blueprint": "b", "properties": {"minimumApproverCount": 2.0}, "relations": {}
        })));
        assert!(sent.unchanged_at(port.hashes(), true));
        assert!(!sent.unchanged_at(port.hashes(), false));
    }

    #[test]
    fn a_changed_or_new_field_is_detected() {
        let port = Fingerprint::of_port_entity(&json!({"title": "A", "properties": {"x": 1}}));
        let changed = Fingerprint::of_entity(&entity(
            &json!({"identifier": "i", "blueprint": "b", "title": "A", "properties": {"x": 2}, "relations": {}}),
        ));
        let added = Fingerprint::of_entity(&entity(
            &json!({"identifier": "i", "blueprint": "b", "title": "A", "properties": {"x": 1, "y": 1}, "relations": {}}),
        ));
        assert!(!changed.unchanged_at(port.hashes(), true));
        assert!(!added.unchanged_at(port.hashes(), true));
    }

    #[test]
    fn null_we_send_equals_a_key_missing_at_port_and_team_order_is_ignored() {
        let port = Fingerprint::of_port_entity(&json!({"team": ["b", "a"], "properties": {}}));
        let sent = Fingerprint::of_entity(&entity(&json!({
            "identifier": "i", "blueprint": "b", "team": ["a", "b"], "properties": {"gone": null}, "relations": {}
        })));
        assert!(sent.unchanged_at(port.hashes(), false));
    }
}
