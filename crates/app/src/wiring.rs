//! The production wiring, in one place: `run`, `demo` and `bench` build the same runner and
//! initialize the same default resources; only URLs and a few settings differ.

use std::sync::Arc;

use ado_client::Client as AdoClient;
use ado_kinds::AzureDevops;
use mapping::PortAppConfig;
use ocean::{
    defaults::{self, Initialized, Origin, RecordFields},
    resync::ResyncSettings,
    runner::{Runner, RunnerSettings},
};
use port_client::{Client, Installation};
use serde_json::Value;

/// Settings that vary between `run` and the simulator-backed commands.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extras {
    /// `OCEAN__PORT_APP_CONFIG_FILE`, parsed.
    pub(crate) local_mapping: Option<(String, PortAppConfig)>,
    /// What jq's `env` sees.
    pub(crate) jq_env: Option<serde_json::Map<String, Value>>,
    /// `OCEAN__SCHEDULED_RESYNC_INTERVAL`, in minutes.
    pub(crate) scheduled_interval_minutes: Option<u64>,
    /// Batching and deletion settings.
    pub(crate) resync: ResyncSettings,
    /// `initializePortResources` is off: a new record gets no default mapping.
    pub(crate) no_default_mapping: bool,
    /// The record's `changelogDestination` and `actionsProcessingEnabled`.
    pub(crate) record: RecordFields,
    /// `excludedTags`: projects left out.
    pub(crate) excluded_tags: Vec<String>,
    /// `OCEAN__STATUS_HEARTBEAT_INTERVAL_SECONDS` (default 10 s, as Ocean).
    pub(crate) heartbeat_every: Option<std::time::Duration>,
    /// Incremental sync's interval, when `ONCE` runs are incremental.
    pub(crate) incremental_interval: Option<std::time::Duration>,
}

/// The runner for the organizations of `ado`.
pub(crate) fn runner(
    port: Client,
    ado: Vec<AdoClient>,
    installation: &Installation,
    extras: Extras,
) -> anyhow::Result<Runner<AzureDevops>> {
    let default_mapping = if extras.no_default_mapping {
        None
    } else {
        Some(ado_kinds::defaults::default_mapping().map_err(anyhow::Error::from_boxed)?)
    };
    Ok(Runner::new(
        port,
        Arc::new(AzureDevops::excluding(ado, &extras.excluded_tags)),
        RunnerSettings {
            installation: installation.clone(),
            local_mapping: extras.local_mapping,
            default_mapping,
            jq_env: extras.jq_env,
            scheduled_interval_minutes: extras.scheduled_interval_minutes,
            resync: extras.resync,
            record: extras.record,
            heartbeat_every: extras
                .heartbeat_every
                .unwrap_or(std::time::Duration::from_secs(10)),
            incremental_interval: extras.incremental_interval,
        },
    ))
}

/// A client of the Port simulator at `url` (its default credentials) as installation
/// `identifier`, with the record and default resources initialized as a first start does:
/// what `demo` and `bench` start from.
pub(crate) async fn simulated_port(
    url: &str,
    identifier: &str,
    tls: &http_setup::Tls,
) -> anyhow::Result<(Client, Installation)> {
    let installation = Installation {
        integration_type: "azure-devops".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        identifier: identifier.to_owned(),
    };
    let credentials = sim_port::SimConfig::default();
    let port = Client::builder(
        url.parse()?,
        secrecy::SecretString::from(credentials.client_id),
        secrecy::SecretString::from(credentials.client_secret),
    )
    .installation(installation.clone())
    .tls(tls.clone())
    .build()?;
    initialize(&port, &installation, &RecordFields::default(), true, None).await?;
    Ok((port, installation))
}

/// Creates the integration record and the default resources as a first start does.
pub(crate) async fn initialize(
    port: &Client,
    who: &Installation,
    record: &RecordFields,
    enabled: bool,
    origin: Option<Origin>,
) -> anyhow::Result<Initialized> {
    let resources = ado_kinds::defaults::resources().map_err(anyhow::Error::from_boxed)?;
    Ok(defaults::initialize(port, who, record, &resources, enabled, origin).await?)
}
