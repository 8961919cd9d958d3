//! What Port holds for this integration at the start of a resync: read in bulk once, reduced to
//! keys and fingerprints (DESIGN.md §2: "read in bulk once per run").
//!
//! As Ocean does, the datasource listing is read for keys only (`identifier`, `blueprint`:
//! Port need not return more there); the fields the diff compares come from Port's paginated
//! search of each listed blueprint with `include` (ocean-framework.md §2.5), 1000 entities a
//! request.
//!
//! Taking it at the start also gives Ocean's `before = resync start` rule for free: an entity
//! written by a live event during the resync is not in the snapshot, so it is never deleted.
//!
//! With `createMissingRelatedEntities` it also keeps each entity's relations as Port holds them,
//! so that an entity the deletion phase keeps without producing it (its resource failed)
//! still protects what it relates to (see [`super::reconcile`], rule 4).
//!
//! Memory (issue 18): an entity costs a fixed-size record, its identifier's bytes, and 8 bytes
//! for each field of its fingerprint and for each relation, as a hash of (relation name, target
//! identifier); see [`store`]. The deletion phase needs no more of the relations: it protects
//! entities of this snapshot, found by their identifier's hash (a collision protects one more
//! entity, never one less).

mod store;

use futures::{StreamExt, TryStreamExt};
use port_client::{Client, Installation};
use serde_json::{Value, json};

pub(crate) use self::store::Held;
use self::store::{Full, Store};
use super::{
    diff::Fingerprint,
    reconcile::{EntityKey, RelationRef},
};

/// The fields of Port's entities that the diff compares (and the relations deletion needs).
const COMPARED_FIELDS: [&str; 6] = [
    "identifier",
    "title",
    "icon",
    "team",
    "properties",
    "relations",
];
/// Blueprints searched at once.
const CONCURRENT_SEARCHES: usize = 4;

/// Port's entities owned by this integration, keyed by (blueprint, identifier).
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    store: Store,
}

/// Why the snapshot could not be taken (then nothing is deleted in this resync).
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    #[error(transparent)]
    Port(#[from] port_client::Error),
    #[error("Port holds more entities for this integration than one snapshot can address")]
    Full,
}

impl From<Full> for LoadError {
    fn from(Full: Full) -> Self {
        Self::Full
    }
}

impl Snapshot {
    /// Lists every entity whose datasource is ours, then reads the compared fields of each
    /// listed blueprint; `keep_relations` also keeps their relations.
    pub(crate) async fn load(
        port: &Client,
        installation: &Installation,
        keep_relations: bool,
    ) -> Result<Self, LoadError> {
        let prefix = installation.datasource_prefix();
        let suffix = installation.datasource_suffix();
        // Folded a page at a time: the listing of a large organization is never held whole.
        let mut snapshot = Self::default();
        let (mut listed, mut full) = (0, false);
        port.entities()
            .datasource_pages(&prefix, &suffix, None, |page| {
                full = full || snapshot.add_listed(&page, listed)?.is_err();
                listed += page.len();
                Ok(())
            })
            .await?;
        if full {
            return Err(LoadError::Full);
        }
        let blueprints: Vec<String> = snapshot
            .store
            .blueprints()
            .iter()
            .map(ToString::to_string)
            .collect();
        // Ocean's ownership rules: both ends of our datasource.
        let query = json!({"combinator": "and", "rules": [
            {"property": "$datasource", "operator": "contains", "value": prefix},
            {"property": "$datasource", "operator": "contains", "value": suffix},
        ]});
        let entities = port.entities();
        let mut pages = futures::stream::iter(&blueprints)
            .map(|blueprint| {
                entities
                    .search_blueprint(blueprint, &query, &COMPARED_FIELDS)
                    .map_ok(move |page| (blueprint, page))
                    .boxed()
            })
            .flatten_unordered(CONCURRENT_SEARCHES);
        while let Some((blueprint, page)) = pages.try_next().await? {
            for entity in page {
                snapshot.add_fields(blueprint, &entity, keep_relations)?;
            }
        }
        Ok(snapshot)
    }

    /// Adds a page of the listing (keys only, fingerprints unknown yet); `offset` is the index
    /// of its first entity in the whole listing, for the error. An item without a string
    /// `identifier` and `blueprint` is a malformed answer: nothing may be deleted on it.
    fn add_listed(
        &mut self,
        page: &[Value],
        offset: usize,
    ) -> Result<Result<(), Full>, port_client::Error> {
        for (index, entity) in page.iter().enumerate() {
            let key = |field| entity.get(field).and_then(Value::as_str);
            let (Some(blueprint), Some(identifier)) = (key("blueprint"), key("identifier")) else {
                return Err(port_client::Error::Decode {
                    route: "/v1/blueprints/entities/datasource-entities".into(),
                    path: format!("entities[{}]", offset + index),
                    message: "an entity without a string `identifier` and `blueprint`".into(),
                });
            };
            if let Err(full) = self.store.insert(blueprint, identifier) {
                return Ok(Err(full));
            }
        }
        Ok(Ok(()))
    }

    /// Records the compared fields of `entity` (one of `blueprint`'s, as search returned it) if
    /// the listing holds it (one written after the listing, by a live event, is not ours to
    /// diff or delete now).
    fn add_fields(
        &mut self,
        blueprint: &str,
        entity: &Value,
        keep_relations: bool,
    ) -> Result<(), Full> {
        let Some(identifier) = entity.get("identifier").and_then(Value::as_str) else {
            return Ok(());
        };
        let relations = if keep_relations {
            entity
                .get("relations")
                .and_then(Value::as_object)
                .map(pack)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let fingerprint = Fingerprint::of_port_entity(entity);
        self.store
            .set_fields(blueprint, identifier, fingerprint.hashes(), &relations)?;
        Ok(())
    }

    /// The fingerprint's hashes of an entity Port holds, if it holds it and its fields were
    /// read (compare with [`Fingerprint::unchanged_at`]).
    pub(crate) fn fingerprint(&self, key: &EntityKey) -> Option<&[u64]> {
        self.store.fingerprint(key)
    }

    /// How many distinct entities Port holds.
    pub(crate) fn len(&self) -> usize {
        self.store.len()
    }

    /// Every entity held, with its relations as (relation name, target identifier) hashes
    /// (read them with `chunks_exact(2)`; empty when not kept or none).
    pub(crate) fn held(&self) -> impl Iterator<Item = Held<'_>> {
        self.store.iter()
    }
}

/// The hash the snapshot keeps of a relation name or an identifier.
pub(crate) fn hash_text(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// An entity's relations ([`RelationRef::all_of`]) as hashes, name then target for each
/// reference.
fn pack(relations: &serde_json::Map<String, Value>) -> Vec<u64> {
    RelationRef::all_of(relations)
        .iter()
        .flat_map(|r| [hash_text(&r.relation), hash_text(&r.target)])
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;

    fn key(blueprint: &str, identifier: &str) -> EntityKey {
        EntityKey {
            blueprint: blueprint.to_owned(),
            identifier: identifier.to_owned(),
        }
    }

    fn listed() -> Snapshot {
        let mut snapshot = Snapshot::default();
        snapshot
            .add_listed(&[json!({"identifier": "r1", "blueprint": "repo"})], 0)
            .unwrap()
            .unwrap();
        snapshot
            .add_listed(&[json!({"identifier": "p1", "blueprint": "project"})], 1)
            .unwrap()
            .unwrap();
        snapshot
    }

    #[test]
    fn keeps_string_and_list_relations_of_each_entity_when_asked() {
        let mut snapshot = listed();
        let repo = json!({"identifier": "r1", "relations": {
            "project": "p1", "teams": ["t1", "t2"], "owner": null, "query": {"combinator": "and"}
        }});
        snapshot.add_fields("repo", &repo, true).unwrap();
        snapshot
            .add_fields(
                "project",
                &json!({"identifier": "p1", "relations": {}}),
                true,
            )
            .unwrap();
        assert_eq!(snapshot.len(), 2);
        assert!(snapshot.fingerprint(&key("repo", "r1")).is_some());
        let relations: HashMap<EntityKey, Vec<(u64, u64)>> = snapshot
            .held()
            .filter(|held| !held.relations.is_empty())
            .map(|held| {
                let pairs = held.relations.chunks_exact(2).map(|p| (p[0], p[1]));
                (held.key(), pairs.collect())
            })
            .collect();
        let mut refs = relations[&key("repo", "r1")].clone();
        refs.sort_unstable();
        let relation = |relation: &str, target: &str| (hash_text(relation), hash_text(target));
        let mut expected = vec![
            relation("project", "p1"),
            relation("teams", "t1"),
            relation("teams", "t2"),
        ];
        expected.sort_unstable();
        assert_eq!(refs, expected);
        assert!(!relations.contains_key(&key("project", "p1")));
    }

    #[test]
    fn keeps_no_relations_unless_asked_and_ignores_entities_the_listing_lacks() {
        let mut snapshot = listed();
        let repo = json!({"identifier": "r1", "relations": {"project": "p1"}});
        snapshot.add_fields("repo", &repo, false).unwrap();
        snapshot
            .add_fields("repo", &json!({"identifier": "written-since"}), false)
            .unwrap();
        assert_eq!(snapshot.len(), 2);
        assert!(snapshot.held().all(|held| held.relations.is_empty()));
        assert!(snapshot.fingerprint(&key("repo", "r1")).is_some());
        assert!(
            snapshot.fingerprint(&key("project", "p1")).is_none(),
            "fields never read"
        );
    }

    #[test]
    fn a_listed_item_without_its_key_is_a_decode_error() {
        let mut snapshot = Snapshot::default();
        snapshot
            .add_listed(&[json!({"identifier": "r1", "blueprint": "repo"})], 0)
            .unwrap()
            .unwrap();
        // The second page's first entity is the listing's entities[1].
        let error = snapshot
            .add_listed(&[json!({"identifier": 7, "blueprint": "repo"})], 1)
            .unwrap_err();
        assert!(error.to_string().contains("entities[1]"), "{error}");
    }
}
