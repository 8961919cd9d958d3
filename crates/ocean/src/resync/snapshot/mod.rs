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
//! Memory (issue 18): an entity costs a fixed-size record and 8 bytes for each view of its
//! blueprint (one digest of the fields each resource writes, usually one: see [`super::diff`]);
//! its identifier is not kept (see [`store`]). Relations are not kept: the deletion
//! phase reads from Port the relations of the few entities it keeps without producing them
//! (see [`super::delete`]); keeping them for every entity cost ~5 MiB at the large bench.

mod store;

use std::{
    collections::HashSet,
    sync::atomic::{AtomicU64, Ordering},
};

use futures::{StreamExt, TryStreamExt};
use port_client::{Client, Installation};
use serde_json::{Value, json};

use self::store::{Full, Store};
use super::{
    diff::{self, Fingerprint, PortFields, View, Views},
    lane_output::Produced,
    reconcile::{EntityKey, Seen},
};

/// The fields of Port's entities that the diff compares.
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
    /// The views of each blueprint held (by [`Store::blueprints`] index): an entity's
    /// digests, in this order.
    views: Vec<Box<[View]>>,
    /// Per entity held (by [`Store::index_of`]): the version this resync produced of it, 0
    /// until one is ([`Self::produce`]). 8 bytes an entity held, where the lanes' maps cost
    /// 16 and up to twice that in spare capacity.
    produced: Box<[AtomicU64]>,
}

/// What [`Snapshot::produce`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Marked {
    /// Port held the key: marked, with the version this resync produced before, if any.
    Held(Option<Produced>),
    /// Port did not hold it at the start: the lane keeps track of it.
    NotHeld,
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
    /// listed blueprint, kept as one digest for each of the blueprint's `views`.
    pub(crate) async fn load(
        port: &Client,
        installation: &Installation,
        views: &Views,
    ) -> Result<Self, LoadError> {
        let mut snapshot = Self::default();
        let mut full = false;
        each_listed_key(port, installation, |blueprint, identifier| {
            full = full || snapshot.store.insert(blueprint, identifier).is_err();
        })
        .await?;
        if full {
            return Err(LoadError::Full);
        }
        snapshot.produced = (0..snapshot.store.len())
            .map(|_| AtomicU64::new(0))
            .collect();
        let blueprints: Vec<String> = snapshot
            .store
            .blueprints()
            .iter()
            .map(ToString::to_string)
            .collect();
        snapshot.views = blueprints.iter().map(|b| views.of_blueprint(b)).collect();
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
                snapshot.add_fields(blueprint, &entity.value()?)?;
            }
        }
        Ok(snapshot)
    }

    /// Records the digests of `entity` (one of `blueprint`'s, as search returned it) if the
    /// listing holds it (one written after the listing, by a live event, is not ours to diff
    /// or delete now).
    fn add_fields(&mut self, blueprint: &str, entity: &Value) -> Result<(), Full> {
        let Some(identifier) = entity.get("identifier").and_then(Value::as_str) else {
            return Ok(());
        };
        let Some(index) = self.store.blueprint_index(blueprint) else {
            return Ok(());
        };
        let fields = PortFields::of(entity);
        let digests: Vec<u64> = self
            .views
            .get(index)
            .into_iter()
            .flatten()
            .map(|view| fields.digest(view))
            .collect();
        self.store.set_digests(blueprint, identifier, &digests)?;
        Ok(())
    }

    /// Whether writing an entity produced with `fingerprint` changes nothing at Port: Port
    /// holds it, its fields were read, and they equal the entity's ([`diff::unchanged`]).
    pub(crate) fn unchanged(&self, key: &EntityKey, fingerprint: &Fingerprint) -> bool {
        self.store.digests(key).is_some_and(|(blueprint, digests)| {
            let views = self.views.get(blueprint).map_or(&[][..], |v| &**v);
            diff::unchanged(fingerprint, views, digests)
        })
    }

    /// Records that this resync produced `key` as `version`, if Port held the key at the start.
    pub(super) fn produce(&self, key: &EntityKey, version: Produced) -> Marked {
        let slot = self
            .store
            .index_of(key)
            .and_then(|index| self.produced.get(index));
        match slot {
            Some(slot) => Marked::Held(Produced::from_bits(
                slot.swap(version.bits(), Ordering::Relaxed),
            )),
            None => Marked::NotHeld,
        }
    }

    /// The [`EntityKey::hash64`] of every entity held that this resync produced.
    pub(super) fn produced_hashes(&self) -> impl Iterator<Item = u64> + '_ {
        self.store
            .key_hashes()
            .zip(self.produced.iter())
            .filter(|(_, slot)| slot.load(Ordering::Relaxed) != 0)
            .map(|(hash, _)| hash)
    }

    /// Whether Port holds an entity and its fields were read (a write to it is an update).
    pub(crate) fn fields_read(&self, key: &EntityKey) -> bool {
        self.store.digests(key).is_some()
    }

    /// How many distinct entities Port holds.
    pub(crate) fn len(&self) -> usize {
        self.store.len()
    }

    /// The entities held that this run did not produce (not in `seen`), their keys read back
    /// from Port's listing: the snapshot keeps only hashes. Entities Port lists now but did not
    /// hold at the start (written by a live event since) are not among them. Nothing is read
    /// when every entity held was produced.
    pub(crate) async fn not_produced(
        &self,
        port: &Client,
        installation: &Installation,
        seen: &Seen,
    ) -> Result<Vec<EntityKey>, port_client::Error> {
        let mut wanted: HashSet<u64> = self
            .store
            .key_hashes()
            .filter(|hash| !seen.contains_hash(*hash))
            .collect();
        let mut keys = Vec::new();
        if wanted.is_empty() {
            return Ok(keys);
        }
        each_listed_key(port, installation, |blueprint, identifier| {
            if self.store.contains(blueprint, identifier)
                && wanted.remove(&EntityKey::hash_of(blueprint, identifier))
            {
                keys.push(EntityKey::new(blueprint, identifier));
            }
        })
        .await?;
        Ok(keys)
    }

    /// The keys held whose identifier is `identifier`, whatever their blueprint.
    pub(crate) fn with_identifier<'a>(
        &'a self,
        identifier: &'a str,
    ) -> impl Iterator<Item = EntityKey> + 'a {
        self.store
            .blueprints()
            .iter()
            .filter(move |blueprint| self.store.contains(blueprint, identifier))
            .map(move |blueprint| EntityKey::new(blueprint, identifier))
    }
}

/// Calls `each` with the key of every entity Port lists for this installation (the datasource
/// listing, folded a page at a time: the listing of a large organization is never held whole).
async fn each_listed_key(
    port: &Client,
    installation: &Installation,
    mut each: impl FnMut(&str, &str),
) -> Result<(), port_client::Error> {
    let (prefix, suffix) = (
        installation.datasource_prefix(),
        installation.datasource_suffix(),
    );
    let mut listed = 0;
    port.entities()
        .datasource_pages(&prefix, &suffix, None, |page| {
            for (index, entity) in page.iter().enumerate() {
                let (blueprint, identifier) = listed_key(entity, listed + index)?;
                each(blueprint, identifier);
            }
            listed += page.len();
            Ok(())
        })
        .await
}

/// The key of an item of Port's datasource listing (`index` in the whole listing, for the
/// error). An item without a string `identifier` and `blueprint` is a malformed answer:
/// nothing may be deleted on it.
fn listed_key(entity: &Value, index: usize) -> Result<(&str, &str), port_client::Error> {
    let key = |field| entity.get(field).and_then(Value::as_str);
    match (key("blueprint"), key("identifier")) {
        (Some(blueprint), Some(identifier)) => Ok((blueprint, identifier)),
        _ => Err(port_client::Error::Decode {
            route: "/v1/blueprints/entities/datasource-entities".into(),
            path: format!("entities[{index}]"),
            message: "an entity without a string `identifier` and `blueprint`".into(),
        }),
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

    /// A snapshot listing repository r1 (whose resource maps its title and project) and
    /// project p1.
    fn listed() -> Snapshot {
        let mut snapshot = Snapshot::default();
        snapshot.store.insert("repo", "r1").unwrap();
        snapshot.store.insert("project", "p1").unwrap();
        let repo = View::of_fields(&mapping::EntityFields {
            title: true,
            icon: false,
            team: false,
            properties: vec![],
            relations: vec!["project"],
        });
        snapshot.views = vec![Box::new([repo]), Box::new([])];
        snapshot
    }

    fn repo(title: &str) -> Fingerprint {
        Fingerprint::of_entity(&mapping::Entity {
            identifier: json!("r1"),
            title: Some(json!(title)),
            icon: None,
            blueprint: "repo".into(),
            team: None,
            properties: serde_json::Map::new(),
            relations: json!({"project": "p1"}).as_object().unwrap().clone(),
        })
    }

    #[test]
    fn keeps_the_digests_of_listed_entities_and_ignores_entities_the_listing_lacks() {
        let mut snapshot = listed();
        let r1 = EntityKey::new("repo", "r1");
        assert!(!snapshot.unchanged(&r1, &repo("R")), "fields not read yet");
        let port = json!({"identifier": "r1", "title": "R", "icon": "Git", "relations": {"project": "p1"}});
        snapshot.add_fields("repo", &port).unwrap();
        snapshot
            .add_fields("repo", &json!({"identifier": "written-since"}))
            .unwrap();
        assert_eq!(snapshot.len(), 2);
        assert!(snapshot.fields_read(&r1));
        assert!(
            snapshot.unchanged(&r1, &repo("R")),
            "the icon is not mapped"
        );
        assert!(!snapshot.unchanged(&r1, &repo("S")));
        assert!(
            !snapshot.fields_read(&EntityKey::new("project", "p1")),
            "fields never read"
        );
        assert!(!snapshot.fields_read(&EntityKey::new("repo", "written-since")));
    }

    #[tokio::test]
    async fn produced_versions_of_held_keys_are_kept_in_the_snapshot_and_others_are_not() {
        let env = testkit::PortEnv::start().await.unwrap();
        let (port, installation) = (env.client("it"), testkit::installation("it"));
        write(&port, &["p1", "p2"]).await;
        let snapshot = Snapshot::load(&port, &installation, &Views::default())
            .await
            .unwrap();
        let (p1, p3) = (
            EntityKey::new("azureDevopsProject", "p1"),
            EntityKey::new("azureDevopsProject", "p3"),
        );
        let (first, second) = (Produced::new(0, 1 << 20), Produced::new(1, 2 << 20));
        assert_eq!(snapshot.produce(&p1, first), Marked::Held(None));
        assert_eq!(snapshot.produce(&p1, second), Marked::Held(Some(first)));
        assert_eq!(snapshot.produce(&p3, first), Marked::NotHeld);
        let produced: Vec<u64> = snapshot.produced_hashes().collect();
        assert_eq!(produced, [p1.hash64()]);
    }

    /// Writes `identifiers` as `azureDevopsProject` entities of installation `it`.
    async fn write(port: &Client, identifiers: &[&str]) {
        let entities: Vec<Box<serde_json::value::RawValue>> = identifiers
            .iter()
            .map(|id| {
                serde_json::value::to_raw_value(&json!({"identifier": id, "title": id})).unwrap()
            })
            .collect();
        let options = port_client::UpsertOptions {
            merge: true,
            create_missing_related_entities: false,
        };
        port.entities()
            .bulk_upsert("azureDevopsProject", &entities, &options)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn the_keys_not_produced_are_read_back_from_port_without_those_written_since() {
        let env = testkit::PortEnv::start().await.unwrap();
        let (port, installation) = (env.client("it"), testkit::installation("it"));
        write(&port, &["p1", "p2", "p3"]).await;
        let snapshot = Snapshot::load(&port, &installation, &Views::default())
            .await
            .unwrap();
        assert_eq!(snapshot.len(), 3);
        // Written after the snapshot (a live event): listed by Port, never a candidate.
        write(&port, &["p4"]).await;
        let seen: Seen = [EntityKey::new("azureDevopsProject", "p1")]
            .into_iter()
            .collect();
        let mut keys = snapshot
            .not_produced(&port, &installation, &seen)
            .await
            .unwrap();
        keys.sort();
        assert_eq!(
            keys,
            [
                EntityKey::new("azureDevopsProject", "p2"),
                EntityKey::new("azureDevopsProject", "p3"),
            ]
        );
        let all: Seen = ["p1", "p2", "p3"]
            .into_iter()
            .map(|id| EntityKey::new("azureDevopsProject", id))
            .collect();
        env.sim.state.reset_stats();
        assert!(
            snapshot
                .not_produced(&port, &installation, &all)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            env.sim
                .state
                .stats()
                .requests_to("POST /v1/blueprints/entities/datasource-entities"),
            0,
            "everything was produced: nothing to read"
        );
    }

    #[tokio::test]
    async fn a_listed_item_without_its_key_is_a_decode_error() {
        let env = testkit::PortEnv::start().await.unwrap();
        let (port, installation) = (env.client("it"), testkit::installation("it"));
        let route = "datasource-entities";
        env.sim.state.inject_body(
            route,
            json!({"ok": true, "entities": [{"identifier": "r1", "blueprint": "repo"}], "next": "2"}),
            1,
        );
        env.sim.state.inject_body(
            route,
            json!({"ok": true, "entities": [{"identifier": 7, "blueprint": "repo"}]}),
            1,
        );
        let error = Snapshot::load(&port, &installation, &Views::default())
            .await
            .unwrap_err();
        // The second page's first entity is the listing's entities[1].
        assert!(error.to_string().contains("entities[1]"), "{error}");
    }
}
