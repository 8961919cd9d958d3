//! What Port holds for this integration at the start of a resync: read in bulk once, reduced to
//! keys and fingerprints (DESIGN.md §2: "read in bulk once per run").
//!
//! Taking it at the start also gives Ocean's `before = resync start` rule for free: an entity
//! written by a live event during the resync is not in the snapshot, so it is never deleted.
//!
//! With `createMissingRelatedEntities` it also keeps each entity's relations as Port holds them,
//! so that an entity the deletion phase keeps without producing it (its resource failed)
//! still protects what it relates to (see [`super::reconcile`], rule 4).

use std::collections::HashMap;

use port_client::{Client, Installation};
use serde_json::Value;

use super::{
    diff::Fingerprint,
    reconcile::{EntityKey, RelationRef},
};

/// Port's entities owned by this integration, keyed by (blueprint, identifier).
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) entities: HashMap<EntityKey, Fingerprint>,
    /// The relations of the entities that have any, when loaded with `keep_relations`.
    pub(crate) relations: HashMap<EntityKey, Vec<RelationRef>>,
}

impl Snapshot {
    /// Lists every entity whose datasource is ours; `keep_relations` also keeps their relations.
    pub(crate) async fn load(
        port: &Client,
        installation: &Installation,
        keep_relations: bool,
    ) -> Result<Self, port_client::Error> {
        let listed = port
            .entities()
            .datasource_entities(
                &installation.datasource_prefix(),
                &installation.datasource_suffix(),
                None,
            )
            .await?;
        Ok(Self::from_listing(&listed, keep_relations))
    }

    /// Reduces Port's listing to keys, fingerprints and (with `keep_relations`) relations.
    fn from_listing(listed: &[Value], keep_relations: bool) -> Self {
        let mut entities = HashMap::with_capacity(listed.len());
        let mut relations = HashMap::new();
        for entity in listed {
            let Some(key) = key_of(entity) else { continue };
            entities.insert(key.clone(), Fingerprint::of_port_entity(entity));
            let pairs = if keep_relations {
                relation_pairs(entity)
            } else {
                Vec::new()
            };
            if !pairs.is_empty() {
                relations.insert(key, pairs);
            }
        }
        Self {
            entities,
            relations,
        }
    }

    /// The fingerprint of an entity Port holds, if it holds it.
    pub(crate) fn get(&self, key: &EntityKey) -> Option<&Fingerprint> {
        self.entities.get(key)
    }
}

/// The relations of an entity as Port returns it.
fn relation_pairs(entity: &Value) -> Vec<RelationRef> {
    entity
        .get("relations")
        .and_then(Value::as_object)
        .map(RelationRef::all_of)
        .unwrap_or_default()
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

    #[test]
    fn keeps_string_and_list_relations_of_each_entity_when_asked() {
        let listed = [
            json!({"identifier": "r1", "blueprint": "repo", "relations": {
                "project": "p1", "teams": ["t1", "t2"], "owner": null, "query": {"combinator": "and"}
            }}),
            json!({"identifier": "p1", "blueprint": "project", "relations": {}}),
        ];
        let snapshot = Snapshot::from_listing(&listed, true);
        assert_eq!(snapshot.entities.len(), 2);
        let mut refs = snapshot.relations[&key("repo", "r1")].clone();
        refs.sort();
        let relation = |relation: &str, target: &str| RelationRef {
            relation: relation.to_owned(),
            target: target.to_owned(),
        };
        assert_eq!(
            refs,
            [
                relation("project", "p1"),
                relation("teams", "t1"),
                relation("teams", "t2"),
            ]
        );
        assert!(!snapshot.relations.contains_key(&key("project", "p1")));
    }

    #[test]
    fn keeps_no_relations_unless_asked() {
        let listed =
            [json!({"identifier": "r1", "blueprint": "repo", "relations": {"project": "p1"}})];
        let snapshot = Snapshot::from_listing(&listed, false);
        assert_eq!(snapshot.entities.len(), 1);
        assert!(snapshot.relations.is_empty());
    }
}
