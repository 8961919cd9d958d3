//! [`Service`]: live events as one running service: the HTTP server, the workers behind the
//! queue, the periodic catch-up and the integration's upkeep (its service-hook
//! subscriptions), started together and stopped in order: the queue stops taking events, the
//! workers apply what was queued within the grace period, then the server stops.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use futures::FutureExt;
use tokio::{sync::Notify, task::JoinHandle, task::JoinSet};
use tracing::{error, info, warn};

use crate::{
    Integration, Report,
    live::{Live, LiveEvents, MappingLoader, Queue},
    runner::Runner,
    server::{self, MetricsRender, ServerState},
};

/// How much earlier than the previous catch-up's start each one reaches back: for clock skew
/// between the third party and this host, and for changes saved while the previous one ran.
pub const CATCH_UP_OVERLAP: Duration = Duration::from_mins(2);

/// Periodic catch-up of changes whose events never arrived ([`Live::catch_up`]).
#[derive(Debug, Clone)]
pub struct CatchUp {
    /// How often.
    pub every: Duration,
    /// The listener resyncs at start: the first catch-up covers only what changed since, one
    /// period from now. Otherwise it starts at once from the last resync Port recorded (the
    /// time the integration was down is covered too).
    pub resync_on_start: bool,
}

/// What a [`Service`] runs.
pub struct ServiceSettings {
    /// Where the HTTP server listens.
    pub bind: SocketAddr,
    /// `OCEAN__PATH_PREFIX`.
    pub path_prefix: Option<String>,
    /// Workers (queue shards): events for one object apply in order whatever the count.
    pub workers: usize,
    /// Events queued per worker before the webhook route answers 503.
    pub queue_per_worker: usize,
    /// Set for the `WEBHOOK` listener: `POST /resync` notifies it.
    pub resync: Option<Arc<Notify>>,
    /// How long one attempt at a live event may take (`OCEAN__MAX_EVENT_PROCESSING_SECONDS`).
    pub max_event_processing: Duration,
    /// Serve `POST /integration/webhook` (the listener's `shouldProcessWebhooks`); without it
    /// the route answers 404.
    pub webhooks: bool,
    /// Set when live events are expected: see [`CatchUp`].
    pub catch_up: Option<CatchUp>,
    /// How often [`LiveEvents::upkeep`] runs after the first time, at start (`None`: never).
    pub upkeep_every: Option<Duration>,
    /// Renders `GET /metrics`.
    pub metrics: Option<MetricsRender>,
}

/// The running parts; [`Service::stop`] ends them.
pub struct Service {
    upkeep: Option<JoinHandle<()>>,
    catch_up: Option<JoinHandle<()>>,
    /// Catch-up passes finished so far (applied or failed).
    catch_ups: tokio::sync::watch::Receiver<u64>,
    health: Arc<crate::health::Health>,
    queue: Queue,
    workers: JoinSet<()>,
    server: JoinHandle<()>,
    stop_server: tokio::sync::oneshot::Sender<()>,
}

impl Service {
    /// Binds the server and starts the workers, the catch-up and the upkeep of `events`,
    /// writing with `runner`'s Port client and mapping.
    pub async fn start<I: Integration, L: LiveEvents>(
        runner: &Arc<Runner<I>>,
        events: Arc<L>,
        settings: ServiceSettings,
    ) -> std::io::Result<Self> {
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
            runner.installation().clone(),
            loader,
            settings.max_event_processing,
        );
        let (queue, workers) = live.start(settings.workers, settings.queue_per_worker);
        let state = ServerState {
            live: settings
                .webhooks
                .then(|| (Arc::clone(&events), queue.clone())),
            health: Arc::clone(runner.health()),
            metrics: settings.metrics,
            resync: settings.resync,
        };
        let router = server::router(settings.path_prefix.as_deref(), state);
        let listener = tokio::net::TcpListener::bind(settings.bind).await?;
        info!(port = settings.bind.port(), "HTTP server listening.");
        let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let shutdown = stopped.map(drop);
            if let Err(error) = server::run(listener, router, shutdown).await {
                error!(%error, "The HTTP server stopped.");
            }
        });
        // Catch-up and upkeep need Port's record: they begin once starting is over.
        let health = Arc::clone(runner.health());
        let (passes, catch_ups) = tokio::sync::watch::channel(0);
        let catch_up = settings.catch_up.map(|catch_up| {
            let runner = Arc::clone(runner);
            tokio::spawn(async move {
                runner.health().serving().await;
                let from = catch_up_from(&runner, catch_up.resync_on_start).await;
                catch_up_loop(live, from, catch_up.every, passes).await;
            })
        });
        let upkeep = settings.upkeep_every.map(|every| {
            let health = Arc::clone(&health);
            tokio::spawn(async move {
                health.serving().await;
                upkeep_loop(events, every).await;
            })
        });
        Ok(Self {
            upkeep,
            catch_up,
            catch_ups,
            health,
            queue,
            workers,
            server,
            stop_server,
        })
    }

    /// The queue of accepted events (for [`Queue::drained`]).
    #[must_use]
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Resolves once `passes` catch-up passes have finished (applied or failed): what a caller
    /// waits for before it looks at what a catch-up wrote. Never resolves without catch-up.
    pub async fn caught_up(&self, passes: u64) {
        let mut finished = self.catch_ups.clone();
        // An error means the loop ended (stopped): nothing more will finish.
        if finished.wait_for(|done| *done >= passes).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Stops taking events, applies the queued ones within `grace`, then stops the server.
    pub async fn stop(mut self, grace: Duration) {
        self.health.set_stopping();
        for task in [&self.upkeep, &self.catch_up].into_iter().flatten() {
            task.abort();
        }
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

/// Where the first catch-up starts, and whether it runs at once: after the last resync
/// recorded in Port when the listener does not resync at start; otherwise, one period after
/// now (the resync covers the past).
async fn catch_up_from<I: Integration>(
    runner: &Runner<I>,
    resync_on_start: bool,
) -> Option<jiff::Timestamp> {
    if resync_on_start {
        return None;
    }
    let record = runner
        .ensure_integration()
        .await
        .inspect_err(|error| {
            warn!(error = %Report(error), "Could not read the last resync time; catch-up starts from now.");
        })
        .ok()?;
    record.resync_state?.last_resync_start?.parse().ok()
}

/// Catches up every `every`; the first time at once from `from` when given (else one period
/// from now). A failed catch-up is retried from the same point next time.
async fn catch_up_loop<L: LiveEvents>(
    live: Arc<Live<L>>,
    from: Option<jiff::Timestamp>,
    every: Duration,
    passes: tokio::sync::watch::Sender<u64>,
) {
    let now = tokio::time::Instant::now();
    let first = if from.is_some() { now } else { now + every };
    let mut since = from.unwrap_or_else(jiff::Timestamp::now);
    let mut tick = tokio::time::interval_at(first, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let overlap = jiff::SignedDuration::try_from(CATCH_UP_OVERLAP).unwrap_or_default();
    loop {
        tick.tick().await;
        let started = jiff::Timestamp::now();
        match live.catch_up(since - overlap).await {
            Ok(applied) => {
                info!(since = %since, upserted = applied.upserted, rejected = applied.rejected, "Caught up changes.");
                since = started;
            }
            Err(error) => {
                warn!(since = %since, error = %Report(&error), "Catch-up failed; the next one starts from the same point.");
            }
        }
        passes.send_modify(|done| *done += 1);
    }
}

/// Runs the integration's upkeep now and then `every` after.
async fn upkeep_loop<L: LiveEvents>(events: Arc<L>, every: Duration) {
    // The first tick is immediate.
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        events.upkeep().await;
    }
}
