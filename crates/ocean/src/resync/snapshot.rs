//! What Port holds for this integration at the start of a resync: read in bulk once, reduced to
//! keys and fingerprints (DESIGN.md §2: "read in bulk once per run").
//!
//! Taking it at the start also gives Ocean's `before = resync start` rule for free: an entity
//! written by a live event during the resync is not in the snapshot, so it is never deleted.

use std::collections::HashMap;

use port_client::{Client, UserAgent};
use serde_json::Value;

use super::{diff::Fingerprint, reconcile::EntityKey};

/// Port's entities owned by this integration, keyed by (blueprint, identifier).
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) entities: HashMap<EntityKey, Fingerprint>,
}

impl Snapshot {
    /// Lists every entity whose datasource is ours.
    pub(crate) async fn load(
        port: &Client,
        user_agent: &UserAgent,
    ) -> Result<Self, port_client::Error> {
        let listed = port
            .entities()
            .datasource_entities(
                &user_agent.datasource_prefix(),
                &user_agent.datasource_suffix(),
                None,
            )
            .await?;
        let mut entities = HashMap::with_capacity(listed.len());
        for entity in &listed {
            if let Some(key) = key_of(entity) {
                entities.insert(key, Fingerprint::of_port_entity(entity));
            }
        }
        Ok(Self { entities })
    }

    /// The fingerprint of an entity Port holds, if it holds it.
    pub(crate) fn get(&self, key: &EntityKey) -> Option<&Fingerprint> {
        self.entities.get(key)
    }
}

fn key_of(entity: &Value) -> Option<EntityKey> {
    Some(EntityKey {
        blueprint: entity.get("blueprint")?.as_str()?.to_owned(),
        identifier: entity.get("identifier")?.as_str()?.to_owned(),
    })
}
