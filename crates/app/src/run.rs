//! The default command: run the integration from Ocean's environment variables and
//! `config.yaml`, as the container does.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use ado_client::{Client as AdoClient, ClientOptions, Credentials, ServicePrincipal};
use ado_kinds::{AccountMode, AdoConfig, AdoKind, AzureDevops};
use anyhow::Context;
use mapping::{CompileOptions, MappingPlan, PortAppConfig};
use ocean::{
    actions::Processor,
    config::{Config, ListenerKind, Overrides, Problems},
    defaults::RecordFields,
    listener::{self, Outcome},
    redact::Redaction,
    resync::ResyncSettings,
    runner::Runner,
};
use port_client::{Client, Installation};
use secrecy::ExposeSecret;
use tracing::{error, info, warn};

use crate::{
    logging, realtime,
    wiring::{self, Extras},
};

/// Time left to apply queued live events after SIGTERM (Kubernetes waits 30 s by default).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

/// Options of the default command (running the integration).
#[derive(Debug, clap::Args)]
#[expect(
    clippy::doc_markdown,
    reason = "the field docs are `--help` text, where backticks would show"
)]
pub struct RunArgs {
    /// Ocean's config.yaml (environment variables override it) [default: ./config.yaml if
    /// present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Run one resync and exit (same as OCEAN__EVENT_LISTENER__TYPE=ONCE).
    #[arg(long, conflicts_with = "dry_run")]
    once: bool,
    /// Read Azure DevOps and Port, map and compare, print what a resync would create, update
    /// and delete per blueprint, and exit; nothing is written to Port.
    #[arg(long)]
    dry_run: bool,
    /// With --dry-run: list the identifiers of every entity, not only the counts.
    #[arg(short, long, requires = "dry_run")]
    verbose: bool,
}

/// How long the exit waits for the last log records to reach Port.
const LOG_FLUSH_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Loads the configuration (all problems at once), then runs the configured listener.
pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let (config, loaded) = load(&args)?;
    let shutdown = broadcast(shutdown_signal()?);
    // A dry run sends nothing to Port, logs included.
    let ship_logs = config.application.enable_http_logging && !args.dry_run;
    let logging = logging::init(config.application.log_level.directive(), ship_logs);
    let redaction = logging.redaction.clone();
    redaction.add(secrets(&config));
    if args.dry_run {
        return dry_run(&config, loaded, redaction, args.verbose, shutdown()).await;
    }
    info!(
        identifier = %config.integration.identifier,
        listener = config.event_listener.kind.name(),
        version = env!("CARGO_PKG_VERSION"),
        "Starting."
    );
    for setting in &config.without_effect {
        warn!(
            key = setting.key,
            "This setting has no effect: {}.", setting.why
        );
    }

    let long_running = !matches!(config.event_listener.kind, ListenerKind::Once);
    // Before the first request: requests made earlier would be missing from `/metrics`.
    let metrics = long_running.then(realtime::install_metrics).flatten();
    let (runner, ado) = build_runner(&config, loaded, redaction, false)?;
    let runner = Arc::new(runner);
    if let Some(shipping) = &logging.shipping {
        shipping.start(runner.port().clone(), runner.log_ingest());
    }
    let triggers = Arc::new(tokio::sync::Notify::new());
    // The server first, so that `/health/live` answers while Port is waited for (readiness
    // and the webhook route wait until starting is over).
    let realtime = if long_running {
        Some(
            realtime::start(
                realtime::Settings::from_config(&config, &triggers, metrics),
                &runner,
                &ado,
            )
            .await?,
        )
    } else {
        None
    };
    let started = tokio::select! {
        done = initialize(&config, &runner, long_running) => Some(done),
        () = shutdown() => None,
    };
    let outcome = match started {
        None => {
            info!("Stopped while starting.");
            Ok(None)
        }
        Some(Err(error)) => Err(error),
        Some(Ok(())) => {
            runner.health().set_serving();
            listen(&config, &runner, &ado, &triggers, &shutdown)
                .await
                .map(Some)
        }
    };
    if let Some(realtime) = realtime {
        realtime.stop(SHUTDOWN_GRACE).await;
    }
    // The last records (the resync's outcome, the reason to stop) reach Port's UI too.
    if let Some(shipping) = &logging.shipping {
        shipping.flush(LOG_FLUSH_LIMIT).await;
    }
    Ok(outcome?.map_or(ExitCode::SUCCESS, exit_code))
}

/// The configuration, and what it names that is read at once (a local mapping file, a CA
/// bundle), every problem in one report.
fn load(args: &RunArgs) -> Result<(Config<AdoConfig>, Loaded), ocean::config::ConfigError> {
    let mut local_mapping = None;
    let mut extra_roots = Vec::new();
    let config = Config::<AdoConfig>::from_process_env(
        args.config.as_deref(),
        &Overrides {
            once: args.once || args.dry_run,
        },
        |root, problems| {
            local_mapping = root
                .string("port_app_config_file", problems)
                .and_then(|path| check_mapping_file(Path::new(&path), problems));
            if let Some(path) = root.env_var("REQUESTS_CA_BUNDLE").filter(|p| !p.is_empty()) {
                match http_setup::read_ca_bundle(Path::new(path)) {
                    Ok(roots) => extra_roots = roots,
                    Err(error) => problems.push(
                        "REQUESTS_CA_BUNDLE",
                        error,
                        "point it at a PEM file of CA certificates, or unset it",
                    ),
                }
            }
        },
    )?;
    Ok((config, (local_mapping, extra_roots)))
}

/// The process's exit status for how the listener ended (`ONCE` prints its report).
fn exit_code(outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Once(report) => {
            println!("{report}");
            if report.succeeded() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Outcome::Stopped(_) => {
            info!("Stopped.");
            ExitCode::SUCCESS
        }
        Outcome::Interrupted => {
            error!("Stopped during the resync: what was written stays, nothing was deleted.");
            ExitCode::FAILURE
        }
    }
}

/// First delay and cap of the retries of a long-running integration's start while Port is
/// unreachable or refuses (each attempt already retries transient errors inside the client).
const START_RETRY_FIRST: Duration = Duration::from_secs(5);
const START_RETRY_MAX: Duration = Duration::from_mins(2);

/// Creates the integration record and the default resources. A long-running integration tries
/// again with backoff until it works (a crash loop would restart it anyway, without `/health`);
/// `ONCE` fails at once.
async fn initialize(
    config: &Config<AdoConfig>,
    runner: &Runner<AzureDevops>,
    long_running: bool,
) -> anyhow::Result<()> {
    let mut wait = START_RETRY_FIRST;
    loop {
        let attempt = wiring::initialize(
            runner.port(),
            runner.installation(),
            &record_fields(config),
            config.initialize_port_resources,
            config.create_port_resources_origin,
        )
        .await
        .context("initializing the integration and its default resources in Port");
        match attempt {
            Ok(done) => {
                info!(default_resources = %done, "Integration ready in Port.");
                return Ok(());
            }
            Err(error) if long_running => {
                let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                error!(
                    error = format!("{error:#}"),
                    wait_ms, "Could not start; trying again."
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(START_RETRY_MAX);
            }
            Err(error) => return Err(error),
        }
    }
}

/// `--dry-run`: one resync that reads Azure DevOps and Port and writes nothing (no integration
/// record, no default resources, no resync state, no entity), then the plan per blueprint.
async fn dry_run(
    config: &Config<AdoConfig>,
    loaded: Loaded,
    redaction: Redaction,
    verbose: bool,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<ExitCode> {
    let (runner, _) = build_runner(config, loaded, redaction, true)?;
    let report = tokio::select! {
        report = runner.resync() => report.context("the dry run could not start")?,
        () = shutdown => {
            info!("Stopped during the dry run; nothing was written.");
            return Ok(ExitCode::SUCCESS);
        }
    };
    print!("{}", crate::plan::render(&report, verbose));
    // As a `ONCE` resync: a plan made from a partial read is not the plan, and a script that
    // checks a mapping change must see it.
    Ok(if report.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs the listener, and beside it the processor of Port action runs when this process
/// executes them, until the listener ends.
async fn listen(
    config: &Config<AdoConfig>,
    runner: &Arc<Runner<AzureDevops>>,
    ado: &[AdoClient],
    triggers: &tokio::sync::Notify,
    shutdown: &Shutdown,
) -> anyhow::Result<Outcome> {
    let actions = actions_processor(config, runner, ado)
        .map(|processor| tokio::spawn(processor.run(shutdown())));
    let outcome = listener::run(
        runner,
        &config.event_listener,
        config.scheduled_resync_interval,
        triggers,
        shutdown(),
    )
    .await
    .context("the resync could not start");
    if let Some(actions) = actions {
        use futures::FutureExt;
        if shutdown().now_or_never().is_some() {
            // Stopping: it finishes the runs it started (it got the same signal).
            let _ = actions.await;
        } else {
            // The listener ended by itself (`ONCE`, or it failed): so does the process.
            actions.abort();
        }
    }
    outcome
}

/// The processor of Port action runs, when this process executes them: the actions processor
/// is enabled and the listener runs actions (Ocean's `should_run_actions`).
fn actions_processor(
    config: &Config<AdoConfig>,
    runner: &Runner<AzureDevops>,
    ado: &[AdoClient],
) -> Option<Arc<Processor<ado_kinds::actions::TriggerPipeline>>> {
    let settings = &config.actions_processor;
    if !(settings.enabled && config.event_listener.should_run_actions) {
        return None;
    }
    if ado.len() != 1 {
        warn!(
            organizations = ado.len(),
            "Port action runs will fail: Azure DevOps actions support a single organization \
             (Single Account mode), as upstream."
        );
    }
    Some(Processor::new(
        Arc::new(ado_kinds::actions::TriggerPipeline::new(ado.to_vec())),
        runner.port().clone(),
        config.integration.identifier.clone(),
        settings.clone(),
        // Completions arrive as live events only where Azure DevOps delivers them.
        !(config.base_url.is_some() && config.event_listener.should_process_webhooks),
    ))
}

/// `signal` as a future per waiter: the listener, the action processor and the start all
/// stop on the same SIGTERM.
fn broadcast(signal: impl Future<Output = ()> + Send + 'static) -> Shutdown {
    let (fired, watch) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        signal.await;
        let _ = fired.send(true);
    });
    Box::new(move || {
        let mut watch = watch.clone();
        Box::pin(async move {
            let _ = watch.wait_for(|fired| *fired).await;
        })
    })
}

/// A future per waiter that completes on SIGTERM or Ctrl-C ([`broadcast`]).
type Shutdown = Box<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Completes on Ctrl-C or SIGTERM (what Kubernetes sends before stopping a pod). The handlers
/// are installed when this is called, not when the future is first polled: a SIGTERM that
/// arrives while the server starts must not kill the process with the default action.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// What loading the configuration read besides it: the local mapping file
/// (`OCEAN__PORT_APP_CONFIG_FILE`) and the CA certificates of `REQUESTS_CA_BUNDLE`.
type Loaded = (Option<(String, PortAppConfig)>, Vec<reqwest::Certificate>);

/// Wires the Port client, the Azure DevOps client and the runner from the configuration.
fn build_runner(
    config: &Config<AdoConfig>,
    (local_mapping, extra_roots): Loaded,
    redaction: Redaction,
    dry_run: bool,
) -> anyhow::Result<(Runner<AzureDevops>, Vec<AdoClient>)> {
    let installation = Installation {
        integration_type: config.integration.r#type.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        identifier: config.integration.identifier.clone(),
    };
    let extra_roots: Arc<[reqwest::Certificate]> = extra_roots.into();
    let tls = |verify, verify_variable| http_setup::Tls {
        extra_roots: Arc::clone(&extra_roots),
        verify,
        verify_variable,
    };
    for (verify, variable) in [
        (config.ssl_port_verify, "OCEAN__SSL__PORT__VERIFY"),
        (
            config.ssl_third_party_verify,
            "OCEAN__SSL__THIRD_PARTY__VERIFY",
        ),
    ] {
        if !verify {
            warn!(
                variable,
                "TLS certificates are not verified: anyone on the network path can read and \
                 change this traffic."
            );
        }
    }
    let port = Client::builder(
        config.port.base_url.clone(),
        config.port.client_id.clone(),
        config.port.client_secret.clone(),
    )
    .installation(installation.clone())
    .tls(tls(config.ssl_port_verify, "OCEAN__SSL__PORT__VERIFY"))
    .build()?;
    let mut resync = ResyncSettings::default();
    resync.batch.max_items = config.upsert_entities_batch_max_length;
    resync.batch.max_bytes = config.upsert_entities_batch_max_size_in_bytes;
    resync.delete_batch_size = config.delete_entities_max_batch_size;
    resync.dry_run = dry_run;
    resync.raw_data_examples = config.send_raw_data_examples;
    resync.redaction = redaction;
    let options = ClientOptions {
        timeout: config.client_timeout,
        tls: tls(
            config.ssl_third_party_verify,
            "OCEAN__SSL__THIRD_PARTY__VERIFY",
        ),
        ..ClientOptions::default()
    };
    let ado = organization_clients(&config.integration.config.account, &options)?;
    let extras = Extras {
        local_mapping,
        jq_env: config.jq_environment(),
        scheduled_interval_minutes: config.scheduled_resync_interval.map(|d| d.as_secs() / 60),
        resync,
        no_default_mapping: !config.initialize_port_resources,
        record: record_fields(config),
        heartbeat_every: Some(config.status_heartbeat_interval),
        incremental_interval: config.integration.incremental_sync,
        excluded_tags: config.integration.config.excluded_tags.clone(),
    };
    Ok((
        wiring::runner(port, ado.clone(), &installation, extras)?,
        ado,
    ))
}

/// What the integration record says about this installation.
fn record_fields(config: &Config<AdoConfig>) -> RecordFields {
    RecordFields {
        changelog_destination: config.event_listener.kind.changelog_destination(),
        actions_processing_enabled: config.actions_processor.enabled,
    }
}

/// One client per organization: the personal access token's one, or every organization of
/// `Multiple Accounts`, all signing in with one service principal (its token shared).
fn organization_clients(
    account: &AccountMode,
    options: &ClientOptions,
) -> anyhow::Result<Vec<AdoClient>> {
    match account {
        AccountMode::Single {
            organization_url,
            personal_access_token,
        } => Ok(vec![AdoClient::new(
            organization_url,
            personal_access_token,
            options,
        )?]),
        AccountMode::Multiple {
            organization_urls,
            client_id,
            client_secret,
            tenant_id,
            authority,
        } => {
            let principal = Arc::new(ServicePrincipal::new(
                authority,
                tenant_id,
                client_id,
                client_secret.clone(),
                options.timeout,
                &options.tls,
            )?);
            Ok(organization_urls
                .iter()
                .map(|url| {
                    AdoClient::with_credentials(
                        url,
                        Credentials::ServicePrincipal(Arc::clone(&principal)),
                        options,
                    )
                })
                .collect::<Result<_, _>>()?)
        }
    }
}

/// Parses and compiles a local port-app-config, turning every failure into a problem.
fn check_mapping_file(path: &Path, problems: &mut Problems) -> Option<(String, PortAppConfig)> {
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            problems.push(
                "OCEAN__PORT_APP_CONFIG_FILE",
                format!("cannot read {name}: {error}"),
                "point it at a readable port-app-config YAML file",
            );
            return None;
        }
    };
    let config = match PortAppConfig::from_yaml(&text) {
        Ok(config) => config,
        Err(error) => {
            problems.push(
                name.clone(),
                format!("is not a valid port-app-config: {error}"),
                "fix the mapping file",
            );
            return None;
        }
    };
    let mut refused = false;
    for (index, resource) in config.resources.iter().enumerate() {
        if let Err(error) = AdoKind::check_resource(&resource.kind, &resource.selector) {
            problems.push(
                format!("{name}: resources[{index}]"),
                error.to_string(),
                "use a kind and selector options of the Azure DevOps integration",
            );
            refused = true;
        }
    }
    if let Err(errors) = MappingPlan::compile(&config, &CompileOptions::default()) {
        for e in errors.0 {
            problems.push(
                format!("{name}: resources[{}].{}", e.resource_index, e.field),
                format!(
                    "jq expression `{}` does not compile: {}",
                    e.expression, e.message
                ),
                "fix the jq expression",
            );
        }
        return None;
    }
    (!refused).then_some((name, config))
}

fn secrets(config: &Config<AdoConfig>) -> Vec<String> {
    let mut out: Vec<String> = config
        .port_secrets()
        .iter()
        .map(|s| s.expose_secret().to_owned())
        .collect();
    match &config.integration.config.account {
        AccountMode::Single {
            personal_access_token,
            ..
        } => out.push(personal_access_token.expose_secret().to_owned()),
        AccountMode::Multiple { client_secret, .. } => {
            out.push(client_secret.expose_secret().to_owned());
        }
    }
    if let Some(secret) = &config.integration.config.webhook_secret {
        out.push(secret.expose_secret().to_owned());
    }
    out
}
