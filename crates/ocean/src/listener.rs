//! Event listeners: what triggers resyncs (ocean-framework.md §5). `ONCE` runs one resync;
//! `POLLING` resyncs at start (when `resyncOnStart`) and whenever Port's "Resync" button made a
//! newer request, checking every `interval`; `WEBHOOK` resyncs on `POST /resync` (the
//! `triggers` given here); `KAFKA` resyncs at start and on each resync request read from Port's
//! topic ([`crate::kafka`]; Ocean has no resync at start there and relies on the change log
//! replaying its own record update, which a new consumer group starting at the latest offset
//! misses); `WEBHOOKS_ONLY` and `ACTIONS_ONLY` never resync. With any of them,
//! `scheduledResyncInterval` adds a full resync every N minutes (first one after N minutes).
//! `shouldResync: false` turns the listener's own resyncs off (start, polling, Kafka,
//! `POST /resync`), as Ocean's listeners skip them; the schedule, which Ocean runs apart from
//! the listener, still applies.
//! Resyncs never overlap, and triggers that fire during a resync coalesce into one follow-up
//! (a [`Notify`] keeps at most one permit).

use std::{future::Future, time::Duration};

use tokio::{
    sync::Notify,
    time::{Instant, MissedTickBehavior, interval_at},
};
use tracing::{info, warn};

use crate::{
    Error, Integration,
    config::{ListenerKind, ListenerSettings},
    kafka,
    resync::ResyncReport,
    runner::Runner,
};

/// How a listener run ended.
#[derive(Debug)]
pub enum Outcome {
    /// `ONCE`: the report of its single resync.
    Once(ResyncReport),
    /// A long-running listener stopped on shutdown; the last report, if any resync ran.
    Stopped(Option<ResyncReport>),
    /// `ONCE` stopped on shutdown before its resync ended (nothing was deleted: deletion is the
    /// resync's last phase).
    Interrupted,
}

/// Runs the listener until it is done (`ONCE`) or `shutdown` completes.
pub async fn run<I: Integration>(
    runner: &Runner<I>,
    listener: &ListenerSettings,
    scheduled: Option<Duration>,
    triggers: &Notify,
    shutdown: impl Future<Output = ()>,
) -> Result<Outcome, Error> {
    let kind = &listener.kind;
    let (poll, resync_on_start) = match kind {
        ListenerKind::Once => {
            // SIGTERM ends a `ONCE` resync at once (a Job being stopped must not run on for its
            // whole grace period); what was written stays, nothing is deleted.
            tokio::pin!(shutdown);
            let once = async {
                match runner.incremental_interval() {
                    Some(interval) => runner.incremental(interval).await,
                    None => runner.resync().await,
                }
            };
            return match or_shutdown(once, &mut shutdown).await {
                Some(report) => report.map(Outcome::Once),
                None => Ok(Outcome::Interrupted),
            };
        }
        ListenerKind::Polling {
            interval,
            resync_on_start,
        } => (Some(*interval), *resync_on_start),
        ListenerKind::WebhooksOnly | ListenerKind::ActionsOnly | ListenerKind::Webhook { .. } => {
            (None, false)
        }
        ListenerKind::Kafka { .. } => (None, true),
    };
    runner.ensure_integration().await?;
    if !listener.should_resync {
        if !matches!(kind, ListenerKind::WebhooksOnly | ListenerKind::ActionsOnly) {
            info!(
                listener = kind.name(),
                "shouldResync is false: this listener triggers no resync."
            );
        }
        let never = Notify::new();
        return triggered(runner, None, false, scheduled, &never, shutdown).await;
    }
    let kafka = kafka::Reader::start(runner, kind).await?;
    let listening = triggered(runner, poll, resync_on_start, scheduled, triggers, shutdown);
    match &kafka {
        // The consumer is polled all along, during resyncs too: librdkafka drops a consumer
        // from its group when it is not polled for `max.poll.interval.ms` (5 minutes).
        Some(reader) => tokio::select! {
            outcome = listening => outcome,
            () = reader.run(triggers) => Ok(Outcome::Stopped(None)), // never: it reads forever
        },
        None => listening.await,
    }
}

/// The resyncs of a long-running listener: at start when asked, on Port's resync requests
/// when polling, on `triggers`, and on the schedule; until `shutdown`.
async fn triggered<I: Integration>(
    runner: &Runner<I>,
    poll: Option<Duration>,
    resync_on_start: bool,
    scheduled: Option<Duration>,
    triggers: &Notify,
    shutdown: impl Future<Output = ()>,
) -> Result<Outcome, Error> {
    let mut last_request = runner.resync_requested_at().await.unwrap_or_else(|error| {
        warn!(error = %crate::Report(&error), "Could not read resync requests; polling goes on.");
        None
    });
    tokio::pin!(shutdown);
    let mut last = None;
    if resync_on_start {
        let Some(report) = or_shutdown(runner.resync(), &mut shutdown).await else {
            return Ok(Outcome::Stopped(last));
        };
        last = Some(report?);
    }
    // A period that never elapses, for the timer a listener does not use.
    let far = Duration::from_hours(100 * 365 * 24);
    let mut poll_tick = interval_at(Instant::now() + poll.unwrap_or(far), poll.unwrap_or(far));
    let mut schedule_tick = interval_at(
        Instant::now() + scheduled.unwrap_or(far),
        scheduled.unwrap_or(far),
    );
    poll_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    schedule_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(Outcome::Stopped(last)),
            _ = poll_tick.tick(), if poll.is_some() => {
                let requested = runner.resync_requested_at().await.unwrap_or_else(|error| {
                    warn!(error = %crate::Report(&error), "Could not read resync requests; will retry.");
                    last_request.clone()
                });
                if requested.is_some() && requested > last_request {
                    info!(requested_at = requested.as_deref().unwrap_or_default(), "Resync requested in Port.");
                    last_request = requested;
                } else {
                    continue;
                }
            }
            () = triggers.notified() => info!("Resync requested."),
            _ = schedule_tick.tick(), if scheduled.is_some() => info!("Scheduled resync."),
        }
        let Some(report) = or_shutdown(runner.resync(), &mut shutdown).await else {
            return Ok(Outcome::Stopped(last));
        };
        last = Some(report?);
    }
}

/// `work` unless `shutdown` completes first (`None`): a resync interrupted this way is dropped;
/// what it wrote stays, and nothing was deleted (deletion is its last phase).
async fn or_shutdown<T>(
    work: impl Future<Output = T>,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Option<T> {
    tokio::select! {
        out = work => Some(out),
        () = shutdown.as_mut() => None,
    }
}
