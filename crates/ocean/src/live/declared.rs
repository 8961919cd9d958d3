//! Entities an integration declares as they are, not mapped: what a gitops spec file
//! (`port.yml`) says on a push. Ocean writes them with a User-Agent of their own
//! (`…/{identifier}/gitops`), so Port records them under the installation's gitops datasource:
//! the exporter's reconciliation never deletes them, and these deletions touch only them.

use std::collections::{BTreeMap, BTreeSet};

use port_client::{Client, Installation, UpsertOptions};
use serde_json::Value;
use tracing::warn;

use super::{Applied, WriteError, delete_owned};
use crate::EntityKey;

/// Entities to upsert and to delete, as a spec file's change declares them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declared {
    /// Port entities (`identifier`, `blueprint`, `title`, `properties`, `relations`, ...).
    pub upserts: Vec<Value>,
    /// Entities the spec no longer declares.
    pub deletes: Vec<EntityKey>,
}

impl Declared {
    /// Whether there is nothing to write.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.deletes.is_empty()
    }

    /// Writes the entities with `gitops` (the gitops client of `installation`'s installation).
    pub(crate) async fn apply(
        &self,
        gitops: &Client,
        installation: &Installation,
        options: &UpsertOptions,
        delete_dependents: bool,
    ) -> Result<Applied, WriteError> {
        let mut applied = Applied::default();
        let mut by_blueprint: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
        for entity in &self.upserts {
            if let Some(blueprint) = entity["blueprint"].as_str() {
                by_blueprint.entry(blueprint).or_default().push(entity);
            }
        }
        for (blueprint, entities) in &by_blueprint {
            let raw = entities
                .iter()
                .map(serde_json::value::to_raw_value)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|source| WriteError::Serialize {
                    blueprint: (*blueprint).to_owned(),
                    source,
                })?;
            let report = gitops
                .entities()
                .bulk_upsert(blueprint, &raw, options)
                .await
                .map_err(|source| WriteError::Port {
                    action: "upsert",
                    blueprint: (*blueprint).to_owned(),
                    source: Box::new(source),
                })?;
            applied.upserted += report.upserted.len();
            applied.rejected += report.failed.len();
            for rejected in &report.failed {
                warn!(blueprint, identifier = %rejected.identifier, reason = %rejected.message, "Port rejected a GitOps entity.");
            }
        }
        let mut deletes: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for key in &self.deletes {
            deletes
                .entry(&key.blueprint)
                .or_default()
                .insert(key.identifier.clone());
        }
        let (prefix, suffix) = (
            installation.datasource_prefix(),
            installation.gitops_datasource_suffix(),
        );
        for (blueprint, ids) in &deletes {
            applied.deleted += delete_owned(
                gitops,
                (&prefix, &suffix),
                blueprint,
                ids,
                delete_dependents,
            )
            .await?;
        }
        Ok(applied)
    }
}
