//! The claim loop and its workers, as Ocean's execution manager runs them
//! (`core/handlers/actions/execution_manager.py`; ocean-framework.md §11 item 23):
//!
//! - the loop claims `high watermark − held` runs whenever fewer than the high watermark are
//!   held, leaving out actions that already hold their share of the buffer, and waits
//!   `poll_check_interval` when it claimed nothing, failed, or the buffer is full;
//! - runs are de-duplicated by id; a run of an action type no executor handles is acknowledged
//!   and failed, and so is a run whose payload cannot be read;
//! - `workers_count` workers execute the held runs in claim order (the Azure DevOps executor has
//!   no partition key, so Ocean's per-partition queues reduce to this one queue);
//! - a worker waits out the executor's rate limit (in steps of at most 10 s, each noted in the
//!   run's log), acknowledges the run (409: another worker or replica has it; skipped), executes
//!   it and reports it started, or failed with the reason;
//! - beyond Ocean: a process that receives no live events (no public URL, or a listener that
//!   processes none) asks the third party every `poll_check_interval` whether the runs it
//!   started finished ([`Processor::polling_completions`]). Upstream leaves such runs in
//!   progress forever. Runs started before a restart are not watched again.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use metrics::counter;
use port_client::{Ack, ActionRun, Client};
use serde_json::{Value, json};
use tokio::{sync::watch, task::JoinSet};
use tracing::{error, info, warn};

use super::{Executor, RunLog, Started, finish};
use crate::{Report, config::ActionsProcessor};

/// The longest single wait for a rate limit before the run's log hears again (Ocean's
/// `RATE_LIMIT_MAX_BACKOFF_SECONDS`).
const RATE_LIMIT_STEP: Duration = Duration::from_secs(10);

/// How long workers may finish the runs they started after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Claims and executes the action runs of one installation.
pub struct Processor<E> {
    executor: Arc<E>,
    port: Client,
    installation_id: String,
    settings: ActionsProcessor,
    held: Mutex<Held>,
    /// Wakes a worker when a run was queued.
    queued: tokio::sync::Notify,
    /// External ids of runs started here whose completion is polled (when polling).
    watched: Option<Mutex<Vec<String>>>,
}

/// Runs claimed and not yet taken by a worker.
#[derive(Debug, Default)]
struct Held {
    queue: VecDeque<ActionRun>,
    ids: HashSet<String>,
    /// Held runs per action identifier (for claim exclusions).
    per_action: HashMap<String, usize>,
}

impl Held {
    fn push(&mut self, run: ActionRun) -> bool {
        if !self.ids.insert(run.id.clone()) {
            return false;
        }
        *self
            .per_action
            .entry(run.action.identifier.clone())
            .or_default() += 1;
        self.queue.push_back(run);
        true
    }

    fn pop(&mut self) -> Option<ActionRun> {
        let run = self.queue.pop_front()?;
        self.ids.remove(&run.id);
        if let Some(count) = self.per_action.get_mut(&run.action.identifier) {
            *count -= 1;
            if *count == 0 {
                self.per_action.remove(&run.action.identifier);
            }
        }
        Some(run)
    }
}

impl<E: Executor> Processor<E> {
    /// A processor executing `executor`'s action types for installation `installation_id`;
    /// with `poll_completions`, for a process that receives no live events (which would report
    /// completions otherwise), it also asks the executor whether the runs it started finished.
    #[must_use]
    pub fn new(
        executor: Arc<E>,
        port: Client,
        installation_id: String,
        settings: ActionsProcessor,
        poll_completions: bool,
    ) -> Arc<Self> {
        Arc::new(Self {
            executor,
            port,
            installation_id,
            settings,
            held: Mutex::new(Held::default()),
            queued: tokio::sync::Notify::new(),
            watched: poll_completions.then(|| Mutex::new(Vec::new())),
        })
    }

    fn watched(&self) -> Option<std::sync::MutexGuard<'_, Vec<String>>> {
        self.watched
            .as_ref()
            .map(|w| w.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Claims and executes runs until `shutdown` completes; then claims no more, and lets the
    /// workers finish the run each one started (held runs that were not started are handed out
    /// again by Port after their visibility timeout).
    pub async fn run(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        info!(
            workers = self.settings.workers_count,
            high_watermark = self.settings.runs_buffer_high_watermark,
            "Executing Port action runs."
        );
        let (stop, stopped) = watch::channel(false);
        let mut workers = JoinSet::new();
        for _ in 0..self.settings.workers_count {
            let (me, stopped) = (Arc::clone(&self), stopped.clone());
            workers.spawn(async move { me.work(stopped).await });
        }
        let polling = async {
            if self.watched.is_some() {
                self.poll_completions().await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = shutdown => {}
            () = Arc::clone(&self).claim_loop(stopped.clone()) => {}
            () = polling => {}
        }
        let _ = stop.send(true);
        self.queued.notify_waiters();
        if tokio::time::timeout(SHUTDOWN_GRACE, async {
            while workers.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            warn!(
                "Action workers did not finish within {SHUTDOWN_GRACE:?}; their runs stay in progress in Port."
            );
        }
    }

    /// Every `poll_check_interval`: the watched runs that finished are reported and dropped,
    /// and so are those Port no longer has in progress.
    async fn poll_completions(&self) {
        loop {
            tokio::time::sleep(self.settings.poll_check_interval).await;
            let watched: Vec<String> = self.watched().map(|w| w.clone()).unwrap_or_default();
            for external in watched {
                let done = match self.executor.completion_of(&external).await {
                    Ok(None) => false,
                    Ok(Some(completion)) => {
                        match super::report_completion(&self.port, &completion).await {
                            Ok(_) => true,
                            Err(error) => {
                                warn!(external_run_id = external, error = %Report(&error), "Could not report a run's completion; will try again.");
                                false
                            }
                        }
                    }
                    Err(error) => {
                        warn!(external_run_id = external, error = %Report(&error), "Could not read a run's state; will try again.");
                        false
                    }
                };
                if done && let Some(mut w) = self.watched() {
                    w.retain(|id| *id != external);
                }
            }
        }
    }

    async fn claim_loop(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let settings = &self.settings;
        loop {
            let (held, exclude) = {
                let held = self.held();
                let limit = settings.per_action_limit();
                let exclude: Vec<String> = held
                    .per_action
                    .iter()
                    .filter(|(_, count)| **count >= limit)
                    .map(|(action, _)| action.clone())
                    .collect();
                (held.queue.len(), exclude)
            };
            let claimed = if held >= settings.runs_buffer_high_watermark {
                info!(
                    held,
                    "The action-run buffer is full; waiting for the workers."
                );
                0
            } else {
                self.claim(settings.runs_buffer_high_watermark - held, &exclude)
                    .await
            };
            if claimed == 0 {
                let wait = tokio::time::sleep(settings.poll_check_interval);
                tokio::select! {
                    () = wait => {}
                    _ = stopped.changed() => return,
                }
            }
        }
    }

    /// One claim; returns how many runs it queued.
    async fn claim(&self, limit: usize, exclude: &[String]) -> usize {
        let runs = match self
            .port
            .actions()
            .claim_pending(
                &self.installation_id,
                limit,
                self.settings.visibility_timeout_ms,
                exclude,
            )
            .await
        {
            Ok(runs) => runs,
            Err(error) => {
                error!(error = %Report(&error), "Could not claim action runs from Port; will try again.");
                return 0;
            }
        };
        let mut queued = 0;
        for raw in runs {
            match self.admit(raw) {
                Ok(Some(run)) => {
                    if self.held().push(run) {
                        queued += 1;
                        self.queued.notify_one();
                    }
                }
                Ok(None) => {}
                Err((id, why)) => self.refuse(&id, &why).await,
            }
        }
        if queued > 0 {
            info!(runs = queued, "Claimed action runs.");
        }
        queued
    }

    /// A claimed run to queue; `Err((id, why))` for a run to acknowledge and fail.
    fn admit(&self, raw: Value) -> Result<Option<ActionRun>, (String, String)> {
        let id = raw["id"].as_str().map(str::to_owned);
        let run = match ActionRun::decode(raw) {
            Ok(run) => run,
            Err(error) => {
                let Some(id) = id else {
                    error!(error = %Report(&error), "Port handed out an action run without an id; it cannot be acknowledged.");
                    return Ok(None);
                };
                return Err((id, format!("The run could not be read: {error}")));
            }
        };
        let action_type = &run.payload.integration_action_type;
        if run.payload.kind != "INTEGRATION_ACTION"
            || !self.executor.action_types().contains(&action_type.as_str())
        {
            return Err((
                run.id,
                format!("No executor registered for action type '{action_type}'"),
            ));
        }
        Ok(Some(run))
    }

    /// Acknowledges and fails a run no executor can take, as Ocean does.
    async fn refuse(&self, run_id: &str, why: &str) {
        warn!(
            run_id,
            why, "Failing an action run this integration cannot execute."
        );
        if self.ack(run_id).await {
            self.report_failure(run_id, why).await;
        }
    }

    async fn ack(&self, run_id: &str) -> bool {
        match self.port.actions().ack(run_id).await {
            Ok(Ack::Acknowledged) => true,
            Ok(Ack::AlreadyTaken) => {
                counter!("ocean_action_runs_total", "outcome" => "taken_elsewhere").increment(1);
                warn!(
                    run_id,
                    "Another worker acknowledged this run first; skipping it."
                );
                false
            }
            Err(error) => {
                error!(run_id, error = %Report(&error), "Could not acknowledge the run; Port hands it out again after its visibility timeout.");
                false
            }
        }
    }

    async fn report_failure(&self, run_id: &str, why: &str) {
        counter!("ocean_action_runs_total", "outcome" => "failed").increment(1);
        if let Err(error) = finish(&self.port, run_id, false, why).await {
            error!(run_id, error = %Report(&error), "Could not report the run's failure to Port.");
        }
    }

    async fn work(&self, mut stopped: watch::Receiver<bool>) {
        loop {
            if *stopped.borrow() {
                return;
            }
            let next = self.held().pop();
            let Some(run) = next else {
                tokio::select! {
                    () = self.queued.notified() => {}
                    _ = stopped.changed() => return,
                }
                continue;
            };
            self.execute(run, &mut stopped).await;
        }
    }

    async fn execute(&self, run: ActionRun, stopped: &mut watch::Receiver<bool>) {
        let log = RunLog::new(&self.port, &run.id);
        while let Some(wait) = self.executor.rate_limited_for() {
            let step = wait.min(RATE_LIMIT_STEP).max(Duration::from_secs(1));
            info!(
                run_id = run.id,
                wait_ms = u64::try_from(step.as_millis()).unwrap_or(u64::MAX),
                "Rate limit nearly spent; delaying the run."
            );
            log.log(&format!(
                "Delayed due to low remaining rate limit. Will attempt to re-run in {} seconds",
                step.as_secs()
            ))
            .await;
            tokio::select! {
                () = tokio::time::sleep(step) => {}
                _ = stopped.changed() => {}
            }
            if *stopped.borrow() {
                warn!(
                    run_id = run.id,
                    "Stopping; the run is left to Port's visibility timeout."
                );
                return;
            }
        }
        if !self.ack(&run.id).await {
            return;
        }
        info!(
            run_id = run.id,
            action_type = run.payload.integration_action_type,
            "Executing an action run."
        );
        match self.executor.execute(&run, &log).await {
            Ok(Started {
                link,
                external_run_id,
            }) => {
                let started = json!({"link": link, "externalRunId": external_run_id});
                match self.port.actions().patch(&run.id, &started).await {
                    Ok(()) => {
                        counter!("ocean_action_runs_total", "outcome" => "started").increment(1);
                        info!(run_id = run.id, external_run_id, "Action run started.");
                        if let Some(mut watched) = self.watched() {
                            watched.push(external_run_id);
                        }
                    }
                    Err(error) => {
                        self.report_failure(
                            &run.id,
                            &format!("Failed to execute run: {}", Report(&error)),
                        )
                        .await;
                    }
                }
            }
            Err(error) => {
                warn!(run_id = run.id, error = %Report(&error), "Action run failed.");
                self.report_failure(
                    &run.id,
                    &format!("Failed to execute run: {}", Report(&error)),
                )
                .await;
            }
        }
    }
}
