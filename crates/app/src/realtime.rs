//! What runs beside the listener in a long-running process, wired from Ocean's configuration:
//! [`ocean::service::Service`] (the HTTP server, the live-event workers, the catch-up) with
//! the Azure DevOps live events ([`AdoLive`]), whose upkeep keeps the service-hook
//! subscriptions current when `appHost` is set.

use std::{sync::Arc, time::Duration};

use ado_client::Client as AdoClient;
use ado_kinds::{
    AccountMode, AdoConfig, AzureDevops,
    webhooks::{AdoLive, subscriptions},
};
use anyhow::Context;
use ocean::{
    config::{Config, ListenerKind},
    runner::Runner,
    server,
    service::{CatchUp, Service, ServiceSettings},
};
use secrecy::SecretString;
use tokio::sync::Notify;
use tracing::warn;

/// Events queued per worker before the webhook route answers 503.
const QUEUE_PER_WORKER: usize = 1_000;
/// At least this many workers: events for different objects proceed in parallel, events for
/// one object stay in order whatever the count.
pub(crate) const MIN_WORKERS: usize = 4;

/// How often the subscriptions are reconciled after the start: projects created since get
/// theirs, and subscriptions Azure DevOps disabled or put on probation are recreated (upstream
/// only does this when the integration starts). Costs 24 list requests.
const SUBSCRIPTIONS_EVERY: Duration = Duration::from_mins(10);

/// How often changes are caught up: work items changed since the previous catch-up are read
/// and written, so that an event Azure DevOps never delivered reaches Port within this time
/// (one WIQL query per project, and reads of only what changed).
const CATCH_UP_EVERY: Duration = Duration::from_mins(5);

/// What [`start`] needs from the configuration (`bench` builds one for the simulators).
pub(crate) struct Settings {
    pub(crate) bind: std::net::SocketAddr,
    pub(crate) path_prefix: Option<String>,
    pub(crate) workers: usize,
    pub(crate) secret: Option<SecretString>,
    /// `excludedTags`: live work item events of such projects are ignored.
    pub(crate) excluded_tags: Vec<String>,
    /// Set for the `WEBHOOK` listener: `POST /resync` notifies it.
    pub(crate) resync: Option<Arc<Notify>>,
    /// The listener's `shouldProcessWebhooks`: serve the webhook route.
    pub(crate) webhooks: bool,
    /// `OCEAN__MAX_EVENT_PROCESSING_SECONDS`.
    pub(crate) max_event_processing: Duration,
    /// Set when `appHost` is: subscriptions are reconciled in the background, at start and
    /// then every `subscriptions_every`.
    pub(crate) subscriptions: Option<subscriptions::Settings>,
    pub(crate) subscriptions_every: Duration,
    /// Set when live events are expected (`appHost`, or a `WEBHOOK`/`WEBHOOKS_ONLY`
    /// listener): see [`CatchUp`].
    pub(crate) catch_up: Option<CatchUp>,
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
        let webhooks = config.event_listener.should_process_webhooks;
        Self {
            bind: (std::net::Ipv4Addr::UNSPECIFIED, config.application.port).into(),
            path_prefix: config.path_prefix.clone(),
            workers: config.event_workers_count.max(MIN_WORKERS),
            secret: config.integration.config.webhook_secret.clone(),
            excluded_tags: config.integration.config.excluded_tags.clone(),
            resync: (config.event_listener.should_resync
                && matches!(config.event_listener.kind, ListenerKind::Webhook { .. }))
            .then(|| Arc::clone(triggers)),
            // Without webhook processing nothing arrives live: no subscriptions, no catch-up.
            webhooks,
            max_event_processing: config.max_event_processing_seconds,
            subscriptions: subscription_settings(config).filter(|_| webhooks),
            subscriptions_every: SUBSCRIPTIONS_EVERY,
            catch_up: catch_up_settings(config).filter(|_| webhooks),
            metrics,
        }
    }
}

/// Starts the live-event service of the organizations `ado`, with the subscriptions kept
/// current when `appHost` is set.
pub(crate) async fn start(
    settings: Settings,
    runner: &Arc<Runner<AzureDevops>>,
    ado: &[AdoClient],
) -> anyhow::Result<Service> {
    if settings.secret.is_none() {
        warn!("No webhookSecret is set: webhook requests are accepted without authentication.");
    }
    let events = AdoLive::organizations(
        ado.to_vec(),
        settings.secret.as_ref(),
        &settings.excluded_tags,
    );
    let (events, upkeep_every) = match settings.subscriptions {
        Some(subscriptions) => (
            events.with_subscriptions(subscriptions),
            Some(settings.subscriptions_every),
        ),
        None => (events, None),
    };
    let bind = settings.bind;
    Service::start(
        runner,
        Arc::new(events),
        ServiceSettings {
            bind,
            path_prefix: settings.path_prefix,
            workers: settings.workers,
            queue_per_worker: QUEUE_PER_WORKER,
            resync: settings.resync,
            webhooks: settings.webhooks,
            max_event_processing: settings.max_event_processing,
            catch_up: settings.catch_up,
            upkeep_every,
            metrics: settings.metrics,
        },
    )
    .await
    .with_context(|| format!("binding the HTTP server to {bind}"))
}

/// Catch-up runs wherever live events are expected: with `appHost` (subscriptions) or a
/// webhook listener.
fn catch_up_settings(config: &Config<AdoConfig>) -> Option<CatchUp> {
    let live = subscription_settings(config).is_some()
        || matches!(
            config.event_listener.kind,
            ListenerKind::Webhook { .. } | ListenerKind::WebhooksOnly
        );
    live.then_some(CatchUp {
        every: CATCH_UP_EVERY,
        resync_on_start: matches!(
            config.event_listener.kind,
            ListenerKind::Polling {
                resync_on_start: true,
                ..
            } | ListenerKind::Kafka { .. }
        ),
    })
}

/// Subscriptions are managed when `appHost` (or Ocean's `baseUrl`) is set, as upstream.
fn subscription_settings(config: &Config<AdoConfig>) -> Option<subscriptions::Settings> {
    let integration = &config.integration.config;
    // `OCEAN__BASE_URL`, else the integration's `appHost` (Ocean's `app.base_url`).
    let app_host = config.base_url.clone()?;
    // The fingerprint's key is the credential Azure DevOps knows us by.
    let fingerprint_key = match &integration.account {
        AccountMode::Single {
            personal_access_token,
            ..
        } => personal_access_token.clone(),
        AccountMode::Multiple { client_secret, .. } => client_secret.clone(),
    };
    Some(subscriptions::Settings {
        app_host,
        username: integration.webhook_auth_username.clone(),
        secret: integration.webhook_secret.clone(),
        projects_limited: integration.is_projects_limited,
        fingerprint_key,
        excluded_tags: integration.excluded_tags.clone(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use serde_json::json;

    use super::*;

    async fn until(what: &str, check: impl Fn() -> bool) {
        for _ in 0..200 {
            if check() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out waiting until {what}");
    }

    /// Both simulators (the default small organization) and a runner over them.
    async fn simulators() -> (
        sim_ado::RunningSim,
        sim_port::RunningSim,
        Arc<Runner<AzureDevops>>,
        AdoClient,
    ) {
        let ado = sim_ado::spawn(sim_ado::SimConfig::default()).await.unwrap();
        let port = sim_port::spawn(sim_port::SimConfig::default())
            .await
            .unwrap();
        let (runner, client) = crate::bench::bench_runner(&ado.org_url(), &port.base_url())
            .await
            .unwrap();
        (ado, port, Arc::new(runner), client)
    }

    /// A server on a free loopback port, without subscriptions nor catch-up.
    fn base_settings() -> Settings {
        Settings {
            bind: std::net::SocketAddr::from(([127, 0, 0, 1], crate::bench::free_port().unwrap())),
            path_prefix: None,
            workers: MIN_WORKERS,
            secret: None,
            excluded_tags: Vec::new(),
            resync: None,
            webhooks: true,
            max_event_processing: Duration::from_secs(90),
            subscriptions: None,
            subscriptions_every: Duration::from_mins(10),
            catch_up: None,
            metrics: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn subscriptions_follow_new_projects_and_repair_disabled_ones_while_running() {
        let (ado, _port, runner, client) = simulators().await;
        let base = base_settings();
        let settings = Settings {
            subscriptions: Some(subscriptions::Settings {
                app_host: format!("http://{}", base.bind).parse().unwrap(),
                username: "port".to_owned(),
                secret: None,
                projects_limited: true,
                fingerprint_key: SecretString::from("sim-pat"),
                excluded_tags: Vec::new(),
            }),
            subscriptions_every: Duration::from_millis(200),
            ..base
        };
        let realtime = start(settings, &runner, std::slice::from_ref(&client))
            .await
            .unwrap();
        let count = || ado.state.subscriptions().len();
        until("the 3 projects are subscribed", || count() == 3 * 23).await;

        ado.state.add_project();
        until("the new project is subscribed", || count() == 4 * 23).await;
        let first = ado.state.subscriptions()[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            ado.state
                .set_subscription_status(&first, "disabledBySystem")
        );
        // A repair deletes, then creates: between the two, every subscription left is
        // enabled but one is missing.
        let repaired = || {
            let all = ado.state.subscriptions();
            all.len() == 4 * 23 && all.iter().all(|s| s["status"] == "enabled")
        };
        until("the disabled subscription is repaired", repaired).await;
        // Two more whole passes (each lists the subscriptions of the 23 event types, then
        // changes what it must) find nothing to do: repaired, not duplicated.
        let lists = || {
            ado.state
                .requests()
                .iter()
                .filter(|(route, _)| {
                    route.starts_with("GET ") && route.ends_with("/hooks/subscriptions")
                })
                .map(|(_, n)| n)
                .sum::<u64>()
        };
        let before = lists();
        until("two more passes listed the subscriptions", || {
            lists() >= before + 3 * 23
        })
        .await;
        assert!(repaired(), "{} subscriptions", count());
        realtime.stop(Duration::from_secs(1)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_change_whose_event_never_arrived_is_caught_up_from_the_last_resync() {
        let (ado, port, runner, client) = simulators().await;
        assert!(runner.resync().await.unwrap().succeeded());

        // The integration is down (no subscriptions, no server): two work items change and a
        // release is created.
        let project = "00000001-0000-4000-8000-000000000000";
        let ids = ado.state.work_item_ids(0);
        for id in &ids[..2] {
            assert!(
                ado.state
                    .update_work_item(*id, "System.Title", json!(format!("Missed {id}")))
            );
        }
        let release = format!("{project}/{}", ado.state.add_release(0).unwrap());
        let mut writes = port.state.watch_writes();

        // It starts with a listener that does not resync at start.
        let settings = Settings {
            catch_up: Some(CatchUp {
                every: Duration::from_hours(1),
                resync_on_start: false,
            }),
            ..base_settings()
        };
        let realtime = start(settings, &runner, std::slice::from_ref(&client))
            .await
            .unwrap();
        let title = |id: u64| {
            port.state
                .entity("azureDevopsWorkItem", &format!("{project}/{id}"))
                .map(|e| e["title"].clone())
        };
        tokio::time::timeout(Duration::from_secs(30), realtime.caught_up(1))
            .await
            .expect("the first catch-up finishes within 30 s");
        realtime.stop(Duration::from_secs(1)).await;
        assert!(
            ids[..2]
                .iter()
                .all(|id| title(*id) == Some(json!(format!("Missed {id}"))))
        );
        assert!(port.state.entity("azureDevopsRelease", &release).is_some());

        // Only what changed was written: not a resync.
        let mut written = std::collections::BTreeSet::new();
        while let Ok((blueprint, identifier)) = writes.try_recv() {
            written.insert(format!("{blueprint}:{identifier}"));
        }
        let mut expected: std::collections::BTreeSet<String> = ids[..2]
            .iter()
            .map(|id| format!("azureDevopsWorkItem:{project}/{id}"))
            .collect();
        expected.insert(format!("azureDevopsRelease:{release}"));
        assert_eq!(written, expected);
        assert_eq!(title(ids[2]), Some(json!(format!("Work item {}", ids[2]))));
    }
}
