//! Request and response types (only the fields our code reads; entities stay JSON).

use std::fmt;

use serde::Deserialize;

/// The User-Agent `port-ocean/{type}/{version}/{identifier}/exporter`: Port records it as each
/// entity's datasource, which is how an integration owns its entities (ocean-framework.md §2).
/// Changing its shape would orphan existing entities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAgent {
    /// Integration type, e.g. `azure-devops`.
    pub integration_type: String,
    /// Integration version (ignored by ownership checks, so upgrades keep ownership).
    pub version: String,
    /// Installation identifier.
    pub identifier: String,
}

impl UserAgent {
    /// The datasource prefix that selects this integration type's entities.
    #[must_use]
    pub fn datasource_prefix(&self) -> String {
        format!("port-ocean/{}/", self.integration_type)
    }

    /// The datasource suffix that selects this installation's entities.
    #[must_use]
    pub fn datasource_suffix(&self) -> String {
        format!("/{}/exporter", self.identifier)
    }
}

impl UserAgent {
    /// The header of this installation's gitops writes (`…/{identifier}/gitops`): Port records
    /// their entities under a datasource of their own, which the exporter's reconciliation
    /// never deletes from.
    #[must_use]
    pub fn gitops_header(&self) -> String {
        format!(
            "port-ocean/{}/{}/{}/gitops",
            self.integration_type, self.version, self.identifier
        )
    }

    /// The datasource suffix of this installation's gitops entities.
    #[must_use]
    pub fn gitops_datasource_suffix(&self) -> String {
        format!("/{}/gitops", self.identifier)
    }
}

impl fmt::Display for UserAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "port-ocean/{}/{}/{}/exporter",
            self.integration_type, self.version, self.identifier
        )
    }
}

/// Query flags of an upsert (`merge`, `create_missing_related_entities`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpsertOptions {
    /// `enableMergeEntity`: merge properties and relations into the existing entity.
    pub merge: bool,
    /// `createMissingRelatedEntities`: let Port create placeholder relation targets.
    pub create_missing_related_entities: bool,
}

/// One entity Port accepted in a bulk upsert.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UpsertedEntity {
    /// Position in the request slice given to [`crate::Entities::bulk_upsert`].
    pub index: usize,
    /// The identifier (resolved when it was a search query).
    pub identifier: String,
    /// Whether Port created it (rather than updated it).
    #[serde(default)]
    pub created: bool,
}

/// One entity Port refused in a bulk upsert (HTTP 207), with Port's reason.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityFailure {
    /// Position in the request slice given to [`crate::Entities::bulk_upsert`].
    pub index: usize,
    /// The identifier as Port saw it (`unknown` for an unresolved search identifier).
    #[serde(default)]
    pub identifier: String,
    /// HTTP status of this entity.
    pub status_code: u16,
    /// Port's error code.
    #[serde(default)]
    pub error: String,
    /// Port's message.
    #[serde(default)]
    pub message: String,
}

/// The outcome of a bulk upsert: accepted and refused entities (indexes refer to the input).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkUpsertReport {
    /// Accepted entities.
    pub upserted: Vec<UpsertedEntity>,
    /// Refused entities, with Port's reasons.
    pub failed: Vec<EntityFailure>,
}

/// Port's token response.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    pub(crate) expires_in: u64,
    #[serde(default = "bearer")]
    pub(crate) token_type: String,
}

fn bearer() -> String {
    "Bearer".to_owned()
}

/// Port's bulk upsert response body.
#[derive(Debug, Deserialize)]
pub(crate) struct BulkResponse {
    #[serde(default)]
    pub(crate) entities: Vec<UpsertedEntity>,
    #[serde(default)]
    pub(crate) errors: Vec<EntityFailure>,
}
