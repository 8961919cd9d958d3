//! Runs resyncs the way Ocean's listeners do: make sure the integration record exists, load and
//! compile the mapping, mark the resync state `running`, resync, then mark it `completed` or
//! `failed` (ocean-framework.md §2.3, §4, §5).

use std::sync::Arc;

use jiff::Timestamp;
use mapping::{CompileError, CompileOptions, MappingPlan, PortAppConfig};
use port_client::{Client, Installation, IntegrationRecord};
use serde_json::{Value, json};
use tracing::warn;

use crate::{
    Error, Integration,
    resync::{Resync, ResyncReport, ResyncSettings},
    sync_status::{Sender, SyncStatus},
};

/// Settings of a [`Runner`].
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// Which integration this is (`OCEAN__INTEGRATION__IDENTIFIER`, its type, our version).
    pub installation: Installation,
    /// A local port-app-config that replaces the one on the integration record.
    pub local_mapping: Option<(String, PortAppConfig)>,
    /// The mapping written to a newly created integration record.
    pub default_mapping: Option<PortAppConfig>,
    /// What jq's `env`/`$ENV` see: the process environment when
    /// `OCEAN__ALLOW_ENVIRONMENT_VARIABLES_JQ_ACCESS` is true, else `None` (an empty object).
    pub jq_env: Option<serde_json::Map<String, Value>>,
    /// `OCEAN__SCHEDULED_RESYNC_INTERVAL` in minutes, reported in the resync state.
    pub scheduled_interval_minutes: Option<u64>,
    /// Resync tuning.
    pub resync: ResyncSettings,
    /// What a record this runner creates says about this installation.
    pub record: crate::defaults::RecordFields,
    /// How often a running resync's heartbeat goes to Port
    /// (`OCEAN__STATUS_HEARTBEAT_INTERVAL_SECONDS`).
    pub heartbeat_every: std::time::Duration,
    /// `OCEAN__INTEGRATION__INCREMENTAL_SYNC_ENABLED` with its interval: a `ONCE` run is an
    /// incremental one ([`Runner::incremental`]).
    pub incremental_interval: Option<std::time::Duration>,
}

/// Drives resyncs of one integration against one Port organization.
pub struct Runner<I> {
    port: Client,
    integration: Arc<I>,
    settings: RunnerSettings,
    health: Arc<crate::health::Health>,
    /// What the integration record last said about Port's ingest hosts.
    ingest: std::sync::Mutex<Ingest>,
    /// Where logs go (`logAttributes.ingestUrl`), for whoever ships them.
    log_ingest: tokio::sync::watch::Sender<Option<url::Url>>,
    /// When this runner was made: scheduled resyncs fall on multiples of the interval after it.
    initiated_at: Timestamp,
}

/// The integration record's ingest hosts and installation type.
#[derive(Debug, Clone, Default)]
struct Ingest {
    metrics: Option<url::Url>,
    installation_type: Option<String>,
}

impl<I: Integration> Runner<I> {
    /// A runner using `port` (whose User-Agent must match `settings`).
    pub fn new(port: Client, integration: Arc<I>, settings: RunnerSettings) -> Self {
        Self {
            port,
            integration,
            settings,
            health: Arc::default(),
            ingest: std::sync::Mutex::default(),
            log_ingest: tokio::sync::watch::Sender::new(None),
            initiated_at: Timestamp::now(),
        }
    }

    /// Readiness inputs this runner updates (Port reachability, the last resync's outcome).
    #[must_use]
    pub fn health(&self) -> &Arc<crate::health::Health> {
        &self.health
    }

    /// The integration.
    #[must_use]
    pub fn integration(&self) -> &Arc<I> {
        &self.integration
    }

    /// The Port client (its User-Agent is this integration's).
    #[must_use]
    pub fn port(&self) -> &Client {
        &self.port
    }

    /// Which integration this is (its User-Agent is the entity datasource).
    #[must_use]
    pub fn installation(&self) -> &Installation {
        &self.settings.installation
    }

    /// Creates the integration record when Port does not have it yet (as origin `Default`,
    /// with the default mapping when there is one).
    pub async fn ensure_integration(&self) -> Result<IntegrationRecord, Error> {
        let record = if let Some(existing) = self.read_record().await? {
            existing
        } else {
            let config = self.settings.default_mapping.as_ref().map_or_else(
                || json!({}),
                |m| serde_json::to_value(m).unwrap_or_else(|_| json!({})),
            );
            crate::defaults::create_record(
                &self.port,
                &self.settings.installation,
                &self.settings.record,
                config,
                crate::defaults::Origin::Default,
            )
            .await?
        };
        self.remember_ingest(&record);
        Ok(record)
    }

    /// Where the integration record says logs go, as soon as Port says it.
    #[must_use]
    pub fn log_ingest(&self) -> tokio::sync::watch::Receiver<Option<url::Url>> {
        self.log_ingest.subscribe()
    }

    /// The integration record, `None` when Port does not have it.
    async fn read_record(&self) -> Result<Option<IntegrationRecord>, Error> {
        self.port
            .integration()
            .get(&self.settings.installation.identifier)
            .await
            .map_err(|source| Error::Port {
                action: "reading the integration record",
                source,
            })
    }

    /// Keeps where the record says sync metrics and logs go (a URL Port gives that does not
    /// parse is logged and ignored: metrics and logs are not worth failing a resync for).
    fn remember_ingest(&self, record: &IntegrationRecord) {
        let parse = |attributes: Option<&port_client::IngestAttributes>, what: &str| {
            let url = attributes?
                .ingest_url
                .as_deref()
                .filter(|url| !url.is_empty())?;
            url::Url::parse(url)
                .inspect_err(|error| {
                    warn!(%error, attribute = what, "Port's ingest URL is not a URL; nothing is sent there.");
                })
                .ok()
        };
        let metrics = parse(
            record.metric_attributes.as_ref(),
            "metricAttributes.ingestUrl",
        );
        let logs = parse(record.log_attributes.as_ref(), "logAttributes.ingestUrl");
        self.log_ingest.send_if_modified(|known| {
            let changed = *known != logs;
            known.clone_from(&logs);
            changed
        });
        let mut ingest = self
            .ingest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ingest.metrics = metrics;
        ingest
            .installation_type
            .clone_from(&record.installation_type);
    }

    /// Loads the mapping (local file, else the integration record) and compiles it.
    pub async fn mapping(&self) -> Result<(Arc<PortAppConfig>, Arc<MappingPlan>), Error> {
        let (origin, app_config) = if let Some((origin, local)) = &self.settings.local_mapping {
            (origin.clone(), local.clone())
        } else if self.settings.resync.dry_run
            && let Some(config) = self.dry_run_default_mapping().await?
        {
            ("the default mapping".to_owned(), config)
        } else {
            let record = self.ensure_integration().await?;
            let origin = format!(
                "of integration `{}` in Port",
                self.settings.installation.identifier
            );
            let config = record.config;
            let parsed =
                PortAppConfig::from_value(config).map_err(|source| Error::MappingInvalid {
                    origin: origin.clone(),
                    source,
                })?;
            (origin, parsed)
        };
        if app_config.resources.is_empty() {
            warn!(origin = %origin, "The port-app-config has no resources: nothing to sync.");
        }
        let options = CompileOptions {
            env: self.settings.jq_env.clone(),
        };
        // Each resource on its own: one that does not compile (or that the integration refuses)
        // fails in the resync report, with its blueprints protected, and the others sync. A
        // mapping edited in Port's UI must never stop the integration.
        let mut plan = MappingPlan::compile_each(&app_config, &options);
        for refusal in self.refused_resources(&app_config) {
            plan.refuse(refusal);
        }
        Ok((Arc::new(app_config), Arc::new(plan)))
    }

    /// In a dry run, when Port has no record of this integration yet: the default mapping that
    /// a first real start would write on the record it creates (a dry run creates nothing).
    async fn dry_run_default_mapping(&self) -> Result<Option<PortAppConfig>, Error> {
        if self.read_record().await?.is_some() {
            return Ok(None);
        }
        warn!(
            identifier = %self.settings.installation.identifier,
            "Port has no integration with this identifier yet: the dry run uses the default \
             mapping, which a first real start would create."
        );
        Ok(Some(
            self.settings.default_mapping.clone().unwrap_or_default(),
        ))
    }

    /// The resources whose kind or selector options the integration refuses
    /// ([`Integration::check`]), as load errors beside the jq ones.
    fn refused_resources(&self, app_config: &PortAppConfig) -> Vec<CompileError> {
        let integration = &self.integration;
        app_config
            .resources
            .iter()
            .enumerate()
            .filter_map(|(index, resource)| {
                let error = integration
                    .check(&resource.kind, &resource.selector)
                    .err()?;
                Some(CompileError {
                    resource_index: index,
                    kind: resource.kind.clone(),
                    field: "selector".to_owned(),
                    expression: serde_json::to_string(&resource.selector.extra).unwrap_or_default(),
                    message: crate::Report(&error).to_string(),
                })
            })
            .collect()
    }

    /// When the latest resync request from Port's UI was made (`request.updatedAt`), if any.
    pub async fn resync_requested_at(&self) -> Result<Option<String>, Error> {
        let request = self
            .port
            .integration()
            .resync_request(&self.settings.installation.identifier)
            .await
            .map_err(|source| Error::Port {
                action: "reading resync requests",
                source,
            })?;
        Ok(request.and_then(|r| {
            r.get("updatedAt")
                .and_then(Value::as_str)
                .map(str::to_owned)
        }))
    }

    /// Runs one full resync with resync-state reporting. A failed resync is a report, not an
    /// error; errors are failures to start (mapping unreadable, Port unreachable).
    pub async fn resync(&self) -> Result<ResyncReport, Error> {
        let (app_config, plan) = match self.mapping().await {
            Ok(mapping) => mapping,
            Err(error) => {
                self.health
                    .set_port_reachable(!matches!(error, Error::Port { .. }));
                self.health.set_last_resync(false);
                return Err(error);
            }
        };
        self.health.set_port_reachable(true);
        let started = Timestamp::now();
        self.patch_state("running", started, None).await;
        let mut settings = self.settings.resync.clone();
        settings.sync_status = self.sync_status(&plan);
        let resync = self.resync_of(app_config, plan, settings);
        let report = resync.run().await;
        if let Some(status) = &resync.settings.sync_status {
            status.finish(report.succeeded(), report.duration).await;
        }
        self.health.set_last_resync(report.succeeded());
        let status = if report.succeeded() {
            "completed"
        } else {
            "failed"
        };
        self.patch_state(status, started, Some(Timestamp::now()))
            .await;
        Ok(report)
    }

    /// One run of `plan` with `settings`, by this runner's client and integration.
    fn resync_of(
        &self,
        app_config: Arc<PortAppConfig>,
        plan: Arc<MappingPlan>,
        settings: ResyncSettings,
    ) -> Resync<I> {
        Resync {
            port: self.port.clone(),
            integration: Arc::clone(&self.integration),
            app_config,
            plan,
            installation: self.installation().clone(),
            settings,
        }
    }

    /// The incremental interval, when `ONCE` runs are incremental.
    #[must_use]
    pub fn incremental_interval(&self) -> Option<std::time::Duration> {
        self.settings.incremental_interval
    }

    /// One incremental run (ocean-framework.md §4, §11 item 11; ocean-azure-devops.md §7.3):
    /// each resource reads what changed since its cursor in Port (the first time, since one
    /// `interval` ago), writes it, and deletes nothing; the cursor of each resource that
    /// completed then moves to this run's start. Kinds that cannot be read incrementally are
    /// left alone. Unlike Ocean, a failing kind does not stop the kinds after it: its cursor
    /// stays, so its changes are read again next time. No resync state and no sync metrics
    /// are reported, as in Ocean.
    pub async fn incremental(&self, interval: std::time::Duration) -> Result<ResyncReport, Error> {
        let (app_config, plan) = self.mapping().await?;
        let started = Timestamp::now();
        let seed = started
            .checked_sub(jiff::SignedDuration::try_from(interval).unwrap_or_default())
            .unwrap_or(started);
        let id = &self.settings.installation.identifier;
        let mut cursors = std::collections::BTreeMap::new();
        for resource in plan.resources() {
            let stored = self
                .port
                .integration()
                .cursor(id, resource.kind(), resource.index())
                .await
                .map_err(|source| Error::Port {
                    action: "reading the incremental-sync cursors",
                    source,
                })?;
            let since = stored.unwrap_or(seed);
            cursors.insert(resource.index(), since);
        }
        let mut settings = self.settings.resync.clone();
        settings.incremental = Some(Arc::new(cursors));
        let resync = self.resync_of(app_config, plan, settings);
        let report = resync.run().await;
        if !self.settings.resync.dry_run {
            let next = started;
            for done in report
                .resources
                .iter()
                .filter(|r| r.failure.is_none() && !r.not_incremental && r.skipped_parts.is_empty())
            {
                if let Err(error) = self
                    .port
                    .integration()
                    .set_cursor(id, &done.kind, done.index, next)
                    .await
                {
                    warn!(kind = done.kind, index = done.index, %error, "Could not store the incremental-sync cursor; the next run reads these changes again.");
                }
            }
        }
        self.health.set_last_resync(report.succeeded());
        Ok(report)
    }

    /// Status reporting for a resync of `plan`, when Port named a metrics ingest host (never in
    /// a dry run).
    fn sync_status(&self, plan: &MappingPlan) -> Option<Arc<SyncStatus>> {
        if self.settings.resync.dry_run {
            return None;
        }
        let ingest = self
            .ingest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let resources: Vec<(String, usize, String)> = plan
            .resources()
            .iter()
            .map(|r| {
                let blueprint = r.blueprint_literal().unwrap_or_default();
                (r.kind().to_owned(), r.index(), blueprint.to_owned())
            })
            .collect();
        let installation = &self.settings.installation;
        let sender = Sender {
            integration_type: installation.integration_type.clone(),
            identifier: installation.identifier.clone(),
            version: installation.version.clone(),
            installation_type: ingest
                .installation_type
                .unwrap_or_else(|| "OnPrem".to_owned()),
        };
        Some(SyncStatus::start(
            self.port.clone(),
            ingest.metrics?,
            sender,
            &resources,
            self.settings.heartbeat_every,
        ))
    }

    /// When the next scheduled resync falls (Ocean's `nextResync`): the first multiple of the
    /// interval after this runner started that is still ahead; none without a schedule.
    fn next_scheduled(&self) -> Option<Timestamp> {
        let minutes = i64::try_from(self.settings.scheduled_interval_minutes?).ok()?;
        let interval = minutes.checked_mul(60)?.max(1);
        let elapsed = Timestamp::now().as_second() - self.initiated_at.as_second();
        let passed = elapsed.max(0) / interval;
        let next = self.initiated_at.as_second() + (passed + 1) * interval;
        Timestamp::from_second(next).ok()
    }

    /// Reports the whole resync state, as Ocean does (the start stays in the completed state);
    /// failures are logged, not raised (as in Ocean). A dry run reports nothing.
    async fn patch_state(&self, status: &str, start: Timestamp, end: Option<Timestamp>) {
        if self.settings.resync.dry_run {
            return;
        }
        let body = json!({
            "status": status,
            "lastResyncStart": start.to_string(),
            "lastResyncEnd": end.map(|t| t.to_string()),
            "nextResync": self.next_scheduled().map(|t| t.to_string()),
            // Sic: Port's API spells it this way (ocean-framework.md §2.3).
            "intervalInMinuets": self.settings.scheduled_interval_minutes,
        });
        if let Err(error) = self
            .port
            .integration()
            .patch_resync_state(&self.settings.installation.identifier, &body)
            .await
        {
            warn!(status, error = %error, "Could not report the resync state to Port.");
        }
    }
}
