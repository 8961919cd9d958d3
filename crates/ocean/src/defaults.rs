//! Default resources on first start (`initializePortResources`, ocean-framework.md §6, origin
//! `Default`): the integration record with the default mapping, then the default blueprints in
//! Ocean's three phases, then `arePortResourcesInitialized`.
//!
//! Ocean's skip rules are kept: nothing happens once the record says the resources were
//! initialized; when `initializePortResources` is false only the record is created; when any
//! default blueprint already exists, no blueprint is created or changed (the user's own
//! blueprints are never touched). A failure while creating blueprints deletes the ones just
//! created, as Ocean's rollback does.

use port_client::Client;
use serde_json::{Value, json};
use tracing::{info, warn};

use crate::runner::Error;

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
}

/// Identity of the integration record.
#[derive(Debug, Clone)]
pub struct Installation<'a> {
    /// `OCEAN__INTEGRATION__IDENTIFIER`.
    pub identifier: &'a str,
    /// Integration type.
    pub integration_type: &'a str,
    /// Our version.
    pub version: &'a str,
}

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
}

fn port(action: &'static str) -> impl FnOnce(port_client::Error) -> Error {
    move |source| Error::Port { action, source }
}

/// Ensures the record, then creates the default resources where Ocean would.
pub async fn initialize(
    client: &Client,
    who: &Installation<'_>,
    defaults: &DefaultResources,
    initialize_port_resources: bool,
) -> Result<Initialized, Error> {
    let integrations = client.integration();
    let existing = integrations
        .get(who.identifier)
        .await
        .map_err(port("reading the integration record"))?;
    let record = if let Some(record) = existing {
        record
    } else {
        info!(
            identifier = who.identifier,
            "Creating the integration record."
        );
        let config = if initialize_port_resources {
            defaults.port_app_config.clone()
        } else {
            json!({})
        };
        let body = json!({"installationId": who.identifier, "installationAppType": who.integration_type,
            "version": who.version, "changelogDestination": {}, "config": config});
        integrations
            .create(&body)
            .await
            .map_err(port("creating the integration record"))?
    };
    if record
        .get("arePortResourcesInitialized")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return Ok(Initialized::AlreadyDone);
    }
    if !initialize_port_resources {
        return Ok(Initialized::Disabled);
    }
    if record
        .get("config")
        .is_none_or(|c| c.as_object().is_none_or(serde_json::Map::is_empty))
    {
        integrations
            .patch_config(who.identifier, &defaults.port_app_config)
            .await
            .map_err(port("writing the default mapping"))?;
    }
    let outcome = create_blueprints(client, &defaults.blueprints).await?;
    integrations
        .patch(
            who.identifier,
            &json!({"arePortResourcesInitialized": true, "version": who.version}),
        )
        .await
        .map_err(port("marking the default resources as initialized"))?;
    Ok(outcome)
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
