//! Default resources on first start (`initializePortResources`, ocean-framework.md §6).
//!
//! The origin (`createPortResourcesOrigin`) decides who creates them: the record's own origin
//! wins over the configured one. `Default` (also `Ocean`, and an unset origin): the integration
//! record with the default mapping, the default blueprints in Ocean's three phases, then the
//! scorecards and pages, then `arePortResourcesInitialized`. `Empty`: a record with an empty
//! mapping, marked initialized. `Port`: the record is created with
//! `integration_modes=create_resources` and Port provisions the mapping, which is awaited with
//! Ocean's backoff.
//!
//! Ocean's skip rules are kept: nothing happens once the record says the resources were
//! initialized; when `initializePortResources` is false only the record is created; when any
//! default blueprint already exists, nothing is created or changed (the user's own blueprints,
//! scorecards and pages are never touched). A failure while creating blueprints deletes the
//! ones just created, as Ocean's rollback does; a scorecard or page that fails is logged.
//!
//! Unlike Ocean, an unset origin never turns into `Port` from Port's provisioning flags: we
//! create the defaults ourselves unless told `Port`.

use port_client::{Client, Installation, IntegrationRecord};
use serde_json::{Value, json};
use tracing::{info, warn};

use crate::Error;

/// Blueprint keys that only the later phases send (phase 1 creates bare blueprints so that
/// relations between the new blueprints can resolve).
const LATER_KEYS: [&str; 6] = [
    "relations",
    "teamInheritance",
    "ownership",
    "calculationProperties",
    "mirrorProperties",
    "aggregationProperties",
];

/// What the integration ships as its defaults.
#[derive(Debug, Clone, Default)]
pub struct DefaultResources {
    /// The default port-app-config, as JSON.
    pub port_app_config: Value,
    /// The default blueprints, in creation order.
    pub blueprints: Vec<Value>,
    /// Scorecards as Ocean's `scorecards.json`: `[{"blueprint", "data": [scorecard, ...]}]`.
    pub scorecards: Vec<Value>,
    /// Pages, each a `POST /v1/pages` body.
    pub pages: Vec<Value>,
}

/// `createPortResourcesOrigin`: who creates the default resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// This integration creates them (Ocean's `Default`; `Ocean` is its old name).
    Default,
    /// Nothing is created: an empty mapping.
    Empty,
    /// Port provisions them.
    Port,
}

impl Origin {
    /// The origin for a configured or recorded name; `None` for an unknown one.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "Default" | "Ocean" => Some(Self::Default),
            "Empty" => Some(Self::Empty),
            "Port" => Some(Self::Port),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Default => "Default",
            Self::Empty => "Empty",
            Self::Port => "Port",
        }
    }
}

/// Attempts and first delay of the wait for Port's provisioning (Ocean: 30 attempts from 3 s,
/// ×1.55 each time).
const PROVISION_ATTEMPTS: u32 = 30;
const PROVISION_FIRST_DELAY: std::time::Duration = std::time::Duration::from_secs(3);

/// What [`initialize`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initialized {
    /// The record already said so; nothing was done.
    AlreadyDone,
    /// `initializePortResources` is false: only the record was ensured.
    Disabled,
    /// Some default blueprint existed: blueprints were left alone.
    BlueprintsExisted,
    /// The default blueprints were created.
    Created,
    /// Origin `Empty`: an empty mapping, nothing else.
    Empty,
    /// Origin `Port`: Port provisioned the mapping.
    ProvisionedByPort,
}

impl std::fmt::Display for Initialized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::AlreadyDone => "already done earlier",
            Self::Disabled => "not created (initializePortResources is false)",
            Self::BlueprintsExisted => "left alone (a default blueprint already existed)",
            Self::Created => "created",
            Self::Empty => "an empty mapping (origin Empty)",
            Self::ProvisionedByPort => "provisioned by Port (origin Port)",
        })
    }
}

/// What a start writes into the integration record and keeps current there, as Ocean does
/// (`changelogDestination`, `actionsProcessingEnabled`).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordFields {
    /// Where Port sends resync requests (the listener's; `{}` when it needs none).
    pub changelog_destination: Value,
    /// Whether this installation executes Port actions (`OCEAN__ACTIONS_PROCESSOR__ENABLED`).
    pub actions_processing_enabled: bool,
}

impl Default for RecordFields {
    /// A listener Port does not notify (`{}`), no actions.
    fn default() -> Self {
        Self {
            changelog_destination: json!({}),
            actions_processing_enabled: false,
        }
    }
}

fn port(action: &'static str) -> impl FnOnce(port_client::Error) -> Error {
    move |source| Error::Port { action, source }
}

/// Ensures the record, then creates the default resources where Ocean would.
pub async fn initialize(
    client: &Client,
    who: &Installation,
    fields: &RecordFields,
    defaults: &DefaultResources,
    initialize_port_resources: bool,
    configured_origin: Option<Origin>,
) -> Result<Initialized, Error> {
    let integrations = client.integration();
    let existing = integrations
        .get(&who.identifier)
        .await
        .map_err(port("reading the integration record"))?;
    let origin = existing
        .as_ref()
        .and_then(|r| r.create_port_resources_origin.as_deref())
        .and_then(Origin::parse)
        .or(configured_origin)
        .unwrap_or(Origin::Default);
    let record = if let Some(record) = existing {
        update_record(client, who, fields, record).await?
    } else {
        let config = match origin {
            Origin::Default if initialize_port_resources => defaults.port_app_config.clone(),
            Origin::Empty => json!({"resources": []}),
            _ => json!({}),
        };
        create_record(client, who, fields, config, origin).await?
    };
    if record.are_port_resources_initialized == Some(true) {
        return Ok(Initialized::AlreadyDone);
    }
    match origin {
        Origin::Empty => {
            integrations
                .patch(
                    &who.identifier,
                    &json!({"config": {"resources": []}, "arePortResourcesInitialized": true}),
                )
                .await
                .map_err(port("writing the empty mapping"))?;
            return Ok(Initialized::Empty);
        }
        Origin::Port => return await_provisioning(client, &who.identifier, record).await,
        Origin::Default => {}
    }
    if !initialize_port_resources {
        return Ok(Initialized::Disabled);
    }
    if record.has_empty_config() {
        integrations
            .patch_config(&who.identifier, &defaults.port_app_config)
            .await
            .map_err(port("writing the default mapping"))?;
    }
    let outcome = create_blueprints(client, &defaults.blueprints).await?;
    if outcome == Initialized::Created {
        create_scorecards_and_pages(client, defaults).await;
    }
    integrations
        .patch(
            &who.identifier,
            &json!({"arePortResourcesInitialized": true, "version": who.version}),
        )
        .await
        .map_err(port("marking the default resources as initialized"))?;
    Ok(outcome)
}

/// Brings an existing record's type, version, `changelogDestination` and
/// `actionsProcessingEnabled` up to date, as Ocean does at start (a listener changed from
/// `POLLING` to `WEBHOOK` must tell Port where to send resync requests). Unchanged records are
/// not written.
async fn update_record(
    client: &Client,
    who: &Installation,
    fields: &RecordFields,
    record: IntegrationRecord,
) -> Result<IntegrationRecord, Error> {
    let stale = record.installation_app_type.as_deref() != Some(who.integration_type.as_str())
        || record.version.as_deref() != Some(who.version.as_str())
        || record.changelog_destination.as_ref() != Some(&fields.changelog_destination)
        || record.actions_processing_enabled.unwrap_or(false) != fields.actions_processing_enabled;
    if !stale {
        return Ok(record);
    }
    info!(
        identifier = who.identifier,
        "Updating the integration record's type, version, changelog destination and actions \
         processing."
    );
    let wanted = json!({"installationAppType": who.integration_type, "version": who.version,
        "changelogDestination": fields.changelog_destination,
        "actionsProcessingEnabled": fields.actions_processing_enabled});
    client
        .integration()
        .patch(&who.identifier, &wanted)
        .await
        .map_err(port("updating the integration record"))
}

/// A new record with `config` as its mapping; with origin `Port`, none, and a request that Port
/// provisions it.
pub(crate) async fn create_record(
    client: &Client,
    who: &Installation,
    fields: &RecordFields,
    config: Value,
    origin: Origin,
) -> Result<IntegrationRecord, Error> {
    info!(
        identifier = who.identifier,
        origin = origin.name(),
        "Creating the integration record."
    );
    let mut body = json!({"installationId": who.identifier, "installationAppType": who.integration_type,
        "version": who.version, "changelogDestination": fields.changelog_destination,
        "actionsProcessingEnabled": fields.actions_processing_enabled, "config": config,
        "createPortResourcesOrigin": origin.name()});
    let integrations = client.integration();
    let created = if origin == Origin::Port {
        if let Some(object) = body.as_object_mut() {
            object.remove("config");
        }
        integrations.create_provisioned(&body).await
    } else {
        integrations.create(&body).await
    };
    created.map_err(port("creating the integration record"))
}

/// Polls the record until Port has written its mapping.
async fn await_provisioning(
    client: &Client,
    identifier: &str,
    mut record: IntegrationRecord,
) -> Result<Initialized, Error> {
    let mut delay = PROVISION_FIRST_DELAY;
    for _ in 0..PROVISION_ATTEMPTS {
        if !record.has_empty_config() {
            info!("Port provisioned the default resources.");
            return Ok(Initialized::ProvisionedByPort);
        }
        info!(
            wait_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "Waiting for Port to provision the default resources."
        );
        tokio::time::sleep(delay).await;
        delay = delay.mul_f64(1.55);
        record = client
            .integration()
            .get(identifier)
            .await
            .map_err(port("reading the integration record"))?
            .unwrap_or_default();
    }
    Err(Error::Provisioning {
        attempts: PROVISION_ATTEMPTS,
    })
}

/// Scorecards and pages, all at once; a failure is logged and the others go on (as Ocean).
async fn create_scorecards_and_pages(client: &Client, defaults: &DefaultResources) {
    let api = client.blueprints();
    let scorecards = defaults.scorecards.iter().flat_map(|group| {
        let blueprint = group["blueprint"].as_str().unwrap_or_default();
        group["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(move |scorecard| (blueprint, scorecard))
    });
    let scorecards = futures::future::join_all(scorecards.map(|(blueprint, scorecard)| {
        let api = &api;
        async move {
            let id = scorecard["identifier"].as_str().unwrap_or_default();
            if let Err(error) = api.create_scorecard(blueprint, scorecard).await {
                warn!(blueprint, scorecard = id, %error, "Could not create a default scorecard.");
            }
        }
    }));
    let pages = futures::future::join_all(defaults.pages.iter().map(|page| {
        let api = &api;
        async move {
            let id = page["identifier"].as_str().unwrap_or_default();
            if let Err(error) = api.create_page(page).await {
                warn!(page = id, %error, "Could not create a default page.");
            }
        }
    }));
    futures::future::join(scorecards, pages).await;
}

async fn create_blueprints(client: &Client, blueprints: &[Value]) -> Result<Initialized, Error> {
    let api = client.blueprints();
    for blueprint in blueprints {
        let id = blueprint["identifier"].as_str().unwrap_or_default();
        if api
            .get(id)
            .await
            .map_err(port("reading a default blueprint"))?
            .is_some()
        {
            warn!(
                blueprint = id,
                "A default blueprint already exists; leaving all blueprints unchanged."
            );
            return Ok(Initialized::BlueprintsExisted);
        }
    }
    let mut created = Vec::new();
    let result = phases(client, blueprints, &mut created).await;
    if let Err(error) = result {
        for id in created.iter().rev() {
            if let Err(rollback) = api.delete(id).await {
                warn!(blueprint = %id, error = %rollback, "Could not roll back a default blueprint.");
            }
        }
        return Err(error);
    }
    info!(count = blueprints.len(), "Created the default blueprints.");
    Ok(Initialized::Created)
}

/// Phase 1: bare blueprints; phase 2: relations, ownership, team inheritance; phase 3: all.
async fn phases(
    client: &Client,
    blueprints: &[Value],
    created: &mut Vec<String>,
) -> Result<(), Error> {
    let api = client.blueprints();
    for blueprint in blueprints {
        let mut bare = blueprint.clone();
        if let Some(object) = bare.as_object_mut() {
            for key in LATER_KEYS {
                object.remove(key);
            }
        }
        api.create(&bare)
            .await
            .map_err(port("creating a default blueprint"))?;
        created.push(
            blueprint["identifier"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    for blueprint in blueprints {
        let id = blueprint["identifier"].as_str().unwrap_or_default();
        let mut structural = serde_json::Map::new();
        for key in ["relations", "teamInheritance", "ownership"] {
            if let Some(value) = blueprint.get(key) {
                structural.insert(key.to_owned(), value.clone());
            }
        }
        api.patch(id, &Value::Object(structural))
            .await
            .map_err(port("adding relations to a default blueprint"))?;
    }
    for blueprint in blueprints {
        let id = blueprint["identifier"].as_str().unwrap_or_default();
        api.patch(id, blueprint)
            .await
            .map_err(port("completing a default blueprint"))?;
    }
    Ok(())
}
