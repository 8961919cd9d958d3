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
//! Memory (issue 18): an entity costs a fixed-size record, its identifier's bytes and 8 bytes
//! for each field of its fingerprint (see [`store`]). Relations are not kept: the deletion
//! phase reads from Port the relations of the few entities it keeps without producing them
//! (see [`super::delete`]); keeping them for every entity cost ~5 MiB at the large bench.

mod store;

use futures::{StreamExt, TryStreamExt};
use port_client::{Client, Installation};
use serde_json::{Value, json};

pub(crate) use self::store::Held;
use self::store::{Full, Store};
use super::{diff::Fingerprint, reconcile::EntityKey};

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
    /// listed blueprint.
    pub(crate) async fn load(
        port: &Client,
        installation: &Installation,
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
        let query = ownership(installation);
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
                snapshot.add_fields(blueprint, &entity)?;
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
    fn add_fields(&mut self, blueprint: &str, entity: &Value) -> Result<(), Full> {
        let Some(identifier) = entity.get("identifier").and_then(Value::as_str) else {
            return Ok(());
        };
        let fingerprint = Fingerprint::of_port_entity(entity);
        self.store
            .set_fingerprint(blueprint, identifier, fingerprint.hashes())?;
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

    /// Every entity held.
    pub(crate) fn held(&self) -> impl Iterator<Item = Held<'_>> {
        self.store.iter()
    }
}

/// Ocean's ownership rules for a search: both ends of our datasource.
pub(crate) fn ownership(installation: &Installation) -> Value {
    json!({"combinator": "and", "rules": [
        {"property": "$datasource", "operator": "contains", "value": installation.datasource_prefix()},
        {"property": "$datasource", "operator": "contains", "value": installation.datasource_suffix()},
    ]})
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
    fn keeps_the_fingerprint_of_listed_entities_and_ignores_entities_the_listing_lacks() {
        let mut snapshot = listed();
        let repo = json!({"identifier": "r1", "title": "R", "relations": {"project": "p1"}});
        snapshot.add_fields("repo", &repo).unwrap();
        snapshot
            .add_fields("repo", &json!({"identifier": "written-since"}))
            .unwrap();
        assert_eq!(snapshot.len(), 2);
        assert_eq!(
            snapshot.fingerprint(&EntityKey::new("repo", "r1")),
            Some(Fingerprint::of_port_entity(&repo).hashes())
        );
        assert!(
            snapshot
                .fingerprint(&EntityKey::new("project", "p1"))
                .is_none(),
            "fields never read"
        );
        assert!(
            snapshot
                .fingerprint(&EntityKey::new("repo", "written-since"))
                .is_none()
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
