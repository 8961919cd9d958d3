//! Request and response types (only the fields our code reads; entities stay JSON).

use std::fmt;

use serde::Deserialize;

/// Which integration this is: one installation of one integration type. Its `Display` is the
/// User-Agent `port-ocean/{type}/{version}/{identifier}/exporter`, which Port records as each
/// entity's datasource: that is how an integration owns its entities (ocean-framework.md §2).
/// Changing its shape would orphan existing entities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// Integration type, e.g. `azure-devops`.
    pub integration_type: String,
    /// Integration version (ignored by ownership checks, so upgrades keep ownership).
    pub version: String,
    /// Installation identifier.
    pub identifier: String,
}

impl Installation {
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

impl Installation {
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

impl fmt::Display for Installation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "port-ocean/{}/{}/{}/exporter",
            self.integration_type, self.version, self.identifier
        )
    }
}

/// The integration record (`/v1/integration/{id}`): the fields Ocean reads (ocean-framework.md
/// §2.3). Each may be absent or `null` in Port's answer; a field of the wrong type is a decode
/// error naming the route, never a default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationRecord {
    /// The port-app-config (`null` or `{}` when Port holds none yet).
    #[serde(default)]
    pub config: serde_json::Value,
    /// `installationAppType`.
    #[serde(default)]
    pub installation_app_type: Option<String>,
    /// The integration version that last wrote the record.
    #[serde(default)]
    pub version: Option<String>,
    /// Where Port sends resync requests.
    #[serde(default)]
    pub changelog_destination: Option<serde_json::Value>,
    /// `createPortResourcesOrigin`: `Default`, `Empty` or `Port`.
    #[serde(default)]
    pub create_port_resources_origin: Option<String>,
    /// Whether the default resources were created once.
    #[serde(default)]
    pub are_port_resources_initialized: Option<bool>,
    /// The last reported resync state.
    #[serde(default)]
    pub resync_state: Option<ResyncState>,
    /// `installationType` (`OnPrem`, or a Saas kind).
    #[serde(default)]
    pub installation_type: Option<String>,
    /// Whether an installation executes Port actions for this integration.
    #[serde(default)]
    pub actions_processing_enabled: Option<bool>,
    /// Where sync metrics and the sync heartbeat go (`metricAttributes.ingestUrl`).
    #[serde(default)]
    pub metric_attributes: Option<IngestAttributes>,
    /// Where log batches go (`logAttributes.ingestUrl`).
    #[serde(default)]
    pub log_attributes: Option<IngestAttributes>,
}

/// `metricAttributes` / `logAttributes` of the integration record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestAttributes {
    /// The ingest host's base URL (absent: Port wants nothing sent there).
    #[serde(default)]
    pub ingest_url: Option<String>,
}

impl IntegrationRecord {
    /// Whether the record holds no mapping yet (`null`, absent, or `{}`).
    #[must_use]
    pub fn has_empty_config(&self) -> bool {
        self.config
            .as_object()
            .is_none_or(serde_json::Map::is_empty)
    }
}

/// `resyncState` of the integration record, as reported by the integration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResyncState {
    /// `running`, `completed`, `failed`.
    #[serde(default)]
    pub status: Option<String>,
    /// When the last resync started (RFC 3339).
    #[serde(default)]
    pub last_resync_start: Option<String>,
    /// When it ended (RFC 3339).
    #[serde(default)]
    pub last_resync_end: Option<String>,
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
