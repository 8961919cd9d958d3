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
//! Memory (issue 18): an entity costs its key, its fingerprint and its relations as pairs of
//! hashes (relation name, target identifier), all in one map entry. A heap profile of the large
//! bench (136,200 entities) showed a second map of `Vec<RelationRef>` (one allocation per name
//! and per target) holding 60 MiB at the peak; hashed, the same relations take 16 bytes each.
//! The deletion phase needs no more: it protects entities of this snapshot, found by their
//! identifier's hash (a collision protects one more entity, never one less).

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};

use futures::{StreamExt, TryStreamExt};
use port_client::{Client, Installation};
use serde_json::{Value, json};

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
    /// Each owned entity with what the resync needs of it (keys shared with the deletion
    /// planner's input).
    pub(crate) entities: HashMap<Arc<EntityKey>, Held>,
}

/// What the snapshot keeps of one entity.
#[derive(Debug, Default)]
pub(crate) struct Held {
    /// Its fingerprint (`None`: listed but not found by the search, e.g. deleted meanwhile; it
    /// counts as changed).
    fingerprint: Option<Fingerprint>,
    /// Its relations when loaded with `keep_relations` and it has any, packed by [`pack`].
    relations: Option<Box<[u64]>>,
}

impl Snapshot {
    /// Lists every entity whose datasource is ours, then reads the compared fields of each
    /// listed blueprint; `keep_relations` also keeps their relations.
    pub(crate) async fn load(
        port: &Client,
        installation: &Installation,
        keep_relations: bool,
    ) -> Result<Self, port_client::Error> {
        let prefix = installation.datasource_prefix();
        let suffix = installation.datasource_suffix();
        // Folded a page at a time: the listing of a large organization is never held whole.
        let mut snapshot = Self::default();
        let mut listed = 0;
        port.entities()
            .datasource_pages(&prefix, &suffix, None, |page| {
                snapshot.add_listed(&page, listed)?;
                listed += page.len();
                Ok(())
            })
            .await?;
        let blueprints: BTreeSet<String> = snapshot
            .entities
            .keys()
            .map(|key| key.blueprint.clone())
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
                snapshot.add_fields(blueprint, &entity, keep_relations);
            }
        }
        Ok(snapshot)
    }

    /// The keys of Port's listing, fingerprints unknown yet. An item without a string
    /// `identifier` and `blueprint` is a malformed answer: nothing may be deleted on it.
    /// Adds a page of the listing (keys only); `offset` is the index of its first entity in
    /// the whole listing, for the error.
    fn add_listed(&mut self, page: &[Value], offset: usize) -> Result<(), port_client::Error> {
        self.entities.reserve(page.len());
        for (index, entity) in page.iter().enumerate() {
            let key = key_of(entity).ok_or_else(|| port_client::Error::Decode {
                route: "/v1/blueprints/entities/datasource-entities".into(),
                path: format!("entities[{}]", offset + index),
                message: "an entity without a string `identifier` and `blueprint`".into(),
            })?;
            self.entities.insert(Arc::new(key), Held::default());
        }
        Ok(())
    }

    /// Records the compared fields of `entity` (one of `blueprint`'s, as search returned it) if
    /// the listing holds it.
    fn add_fields(&mut self, blueprint: &str, entity: &Value, keep_relations: bool) {
        let Some(identifier) = entity.get("identifier").and_then(Value::as_str) else {
            return;
        };
        let key = EntityKey {
            blueprint: blueprint.to_owned(),
            identifier: identifier.to_owned(),
        };
        let Some(held) = self.entities.get_mut(&key) else {
            // Written after the listing (a live event): not ours to diff or delete now.
            return;
        };
        held.fingerprint = Some(Fingerprint::of_port_entity(entity));
        if keep_relations {
            held.relations = entity
                .get("relations")
                .and_then(Value::as_object)
                .and_then(pack);
        }
    }

    /// The fingerprint of an entity Port holds, if it holds it and its fields were read.
    pub(crate) fn get(&self, key: &EntityKey) -> Option<&Fingerprint> {
        self.entities
            .get(key)
            .and_then(|held| held.fingerprint.as_ref())
    }

    /// Each entity kept with relations, and them as (relation name, target identifier) hashes.
    pub(crate) fn relations(&self) -> impl Iterator<Item = (&Arc<EntityKey>, &[u64])> {
        self.entities
            .iter()
            .filter_map(|(key, held)| held.relations.as_deref().map(|packed| (key, packed)))
    }
}

/// The hash the snapshot keeps of a relation name or an identifier.
pub(crate) fn hash_text(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// An entity's relations ([`RelationRef::all_of`]) as hashes, name then target for each
/// reference (read them with `chunks_exact(2)`); `None` when it has none.
fn pack(relations: &serde_json::Map<String, Value>) -> Option<Box<[u64]>> {
    let refs = RelationRef::all_of(relations);
    (!refs.is_empty()).then(|| {
        refs.iter()
            .flat_map(|r| [hash_text(&r.relation), hash_text(&r.target)])
            .collect()
    })
}

fn key_of(entity: &Value) -> Option<EntityKey> {
    Some(EntityKey {
        blueprint: entity.get("blueprint")?.as_str()?.to_owned(),
        identifier: entity.get("identifier")?.as_str()?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
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
            .unwrap();
        snapshot
            .add_listed(&[json!({"identifier": "p1", "blueprint": "project"})], 1)
            .unwrap();
        snapshot
    }

    #[test]
    fn keeps_string_and_list_relations_of_each_entity_when_asked() {
        let mut snapshot = listed();
        let repo = json!({"identifier": "r1", "relations": {
            "project": "p1", "teams": ["t1", "t2"], "owner": null, "query": {"combinator": "and"}
        }});
        snapshot.add_fields("repo", &repo, true);
        snapshot.add_fields(
            "project",
            &json!({"identifier": "p1", "relations": {}}),
            true,
        );
        assert_eq!(snapshot.entities.len(), 2);
        assert!(snapshot.get(&key("repo", "r1")).is_some());
        let relations: HashMap<EntityKey, Vec<(u64, u64)>> = snapshot
            .relations()
            .map(|(key, refs)| {
                let pairs = refs.chunks_exact(2).map(|p| (p[0], p[1])).collect();
                ((**key).clone(), pairs)
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
        snapshot.add_fields("repo", &repo, false);
        snapshot.add_fields("repo", &json!({"identifier": "written-since"}), false);
        assert_eq!(snapshot.entities.len(), 2);
        assert_eq!(snapshot.relations().count(), 0);
        assert!(snapshot.get(&key("repo", "r1")).is_some());
        assert!(
            snapshot.get(&key("project", "p1")).is_none(),
            "fields never read"
        );
    }

    #[test]
    fn a_listed_item_without_its_key_is_a_decode_error() {
        let mut snapshot = Snapshot::default();
        snapshot
            .add_listed(&[json!({"identifier": "r1", "blueprint": "repo"})], 0)
            .unwrap();
        // The second page's first entity is the listing's entities[1].
        let error = snapshot
            .add_listed(&[json!({"identifier": 7, "blueprint": "repo"})], 1)
            .unwrap_err();
        assert!(error.to_string().contains("entities[1]"), "{error}");
    }
}
