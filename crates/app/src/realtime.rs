//! What runs beside the listener in a long-running process: the HTTP server (health, metrics,
//! webhooks, `POST /resync`), the live-event workers, and the service-hook subscriptions.
//! Shutdown is graceful: the queue stops taking events, the workers apply what was queued
//! (within the grace period), then the server stops.

use std::{sync::Arc, time::Duration};

use ado_client::Client as AdoClient;
use ado_kinds::{
    AccountMode, AdoConfig, AzureDevops,
    webhooks::{AdoLive, subscriptions},
};
use anyhow::Context;
use futures::FutureExt;
use ocean::{
    config::{Config, ListenerKind},
    live::{Live, MappingLoader, Queue},
    runner::Runner,
    server::{self, ServerState},
};
use secrecy::SecretString;
use tokio::{sync::Notify, task::JoinSet};
use tracing::{error, info, warn};

/// Events queued per worker before the webhook route answers 503.
const QUEUE_PER_WORKER: usize = 1_000;
/// At least this many workers: events for different objects proceed in parallel, events for
/// one object stay in order whatever the count.
pub(crate) const MIN_WORKERS: usize = 4;

/// The running parts; [`Realtime::stop`] ends them.
pub(crate) struct Realtime {
    queue: Queue,
    workers: JoinSet<()>,
    server: tokio::task::JoinHandle<()>,
    stop_server: tokio::sync::oneshot::Sender<()>,
}

/// What [`start`] needs from the configuration (`bench` builds one for the simulators).
pub(crate) struct Settings {
    pub(crate) bind: std::net::SocketAddr,
    pub(crate) path_prefix: Option<String>,
    pub(crate) workers: usize,
    pub(crate) secret: Option<SecretString>,
    /// Set for the `WEBHOOK` listener: `POST /resync` notifies it.
    pub(crate) resync: Option<Arc<Notify>>,
    /// Set when `appHost` is: subscriptions are reconciled in the background.
    pub(crate) subscriptions: Option<subscriptions::Settings>,
    /// Renders `GET /metrics` (see [`install_metrics`]).
    pub(crate) metrics: Option<server::MetricsRender>,
}

/// Installs the Prometheus recorder for the whole process; call it before the first request,
/// since anything recorded earlier is lost. `None` if a recorder is already installed.
pub(crate) fn install_metrics() -> Option<server::MetricsRender> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .ok()
        .map(|handle| Arc::new(move || handle.render()) as server::MetricsRender)
}

impl Settings {
    /// From Ocean's configuration: `0.0.0.0:${APPLICATION__PORT}`, `eventWorkersCount` (at
    /// least [`MIN_WORKERS`]), `webhookSecret`, subscriptions when `appHost` is set, and
    /// and `metrics` from the caller's earlier [`install_metrics`].
    pub(crate) fn from_config(
        config: &Config<AdoConfig>,
        triggers: &Arc<Notify>,
        metrics: Option<server::MetricsRender>,
    ) -> Self {
        Self {
            bind: (std::net::Ipv4Addr::UNSPECIFIED, config.application.port).into(),
            path_prefix: config.path_prefix.clone(),
            workers: config.event_workers_count.max(MIN_WORKERS),
            secret: config.integration.config.webhook_secret.clone(),
            resync: matches!(config.event_listener.kind, ListenerKind::Webhook { .. })
                .then(|| Arc::clone(triggers)),
            subscriptions: subscription_settings(config),
            metrics,
        }
    }
}

/// Starts the server and workers, and reconciles subscriptions in the background when
/// `appHost` is set.
pub(crate) async fn start(
    settings: Settings,
    runner: &Arc<Runner<AzureDevops>>,
    ado: &AdoClient,
) -> anyhow::Result<Realtime> {
    if settings.secret.is_none() {
        warn!("No webhookSecret is set: webhook requests are accepted without authentication.");
    }
    let events = AdoLive::new(ado.clone(), settings.secret.as_ref());
    let loader: MappingLoader = {
        let runner = Arc::clone(runner);
        Arc::new(move || {
            let runner = Arc::clone(&runner);
            async move { runner.mapping().await }.boxed()
        })
    };
    let live = Live::new(
        Arc::clone(&events),
        runner.port().clone(),
        runner.user_agent(),
        loader,
    );
    let (queue, workers) = live.start(settings.workers, QUEUE_PER_WORKER);
    let state = ServerState {
        live: Some((events, queue.clone())),
        health: Arc::clone(runner.health()),
        metrics: settings.metrics,
        resync: settings.resync,
    };
    let router = server::router(settings.path_prefix.as_deref(), state);
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("binding the HTTP server to {}", settings.bind))?;
    info!(port = settings.bind.port(), "HTTP server listening.");
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(error) = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            error!(%error, "The HTTP server stopped.");
        }
    });
    if let Some(subscriptions) = settings.subscriptions {
        let ado = ado.clone();
        tokio::spawn(async move {
            if let Err(error) = subscriptions::ensure(&ado, &subscriptions).await {
                error!(%error, "Could not set up service-hook subscriptions; live events will not arrive until the next start.");
            }
        });
    }
    Ok(Realtime {
        queue,
        workers,
        server,
        stop_server,
    })
}

/// Subscriptions are managed when `appHost` (or Ocean's `baseUrl`) is set, as upstream.
fn subscription_settings(config: &Config<AdoConfig>) -> Option<subscriptions::Settings> {
    let integration = &config.integration.config;
    let app_host = integration
        .app_host
        .clone()
        .or_else(|| config.base_url.clone())?;
    let AccountMode::Single {
        personal_access_token,
        ..
    } = &integration.account
    else {
        return None;
    };
    Some(subscriptions::Settings {
        app_host,
        username: integration.webhook_auth_username.clone(),
        secret: integration.webhook_secret.clone(),
        projects_limited: integration.is_projects_limited,
        fingerprint_key: personal_access_token.clone(),
    })
}

impl Realtime {
    /// Stops taking events, applies the queued ones within `grace`, then stops the server.
    pub(crate) async fn stop(mut self, grace: Duration) {
        self.queue.close();
        let pending = self.queue.depth();
        if pending > 0 {
            info!(pending, "Applying queued live events before stopping.");
        }
        let drained = tokio::time::timeout(grace, async {
            while self.workers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            warn!(
                left = self.queue.depth(),
                "The grace period ended before every queued event was applied; the next resync will catch up."
            );
        }
        let _ = self.stop_server.send(());
        let _ = self.server.await;
    }
}
