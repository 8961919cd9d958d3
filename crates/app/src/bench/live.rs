//! The event → Port latency table: sim-ado changes work items at a steady rate, delivers each
//! change as a `workitem.updated` service-hook event to our server (the subscriptions are
//! created by the production code, with Basic auth), and the table reports how long each
//! change took to be written to sim-port: p50, p99 and max, and events never written (lost).
//! Both simulators run in-process here: sim-port reports every write as it is applied.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use ado_kinds::webhooks::subscriptions;
use anyhow::Context;
use secrecy::SecretString;
use serde_json::json;
use sim_ado::{SimConfig, Sizes};

use crate::realtime::{self, MIN_WORKERS};

/// Seconds each rate runs.
const SECONDS: u32 = 10;
/// The blueprint the default mapping writes work items to.
const WORK_ITEMS: &str = "azureDevopsWorkItem";
/// How long after the last change a missing write counts as lost.
const SETTLE: Duration = Duration::from_secs(15);

/// Runs the latency benchmark at each rate and prints its table.
pub(super) async fn run(rates: &[u32]) -> anyhow::Result<()> {
    let sizes = Sizes {
        projects: 4,
        repositories: 2,
        work_items: 800,
        releases: 1,
        pull_requests: 0,
        pipelines: 0,
        teams: 1,
    };
    let ado = sim_ado::spawn(SimConfig {
        sizes,
        ..SimConfig::default()
    })
    .await?;
    let port = sim_port::spawn(sim_port::SimConfig::default()).await?;
    let (runner, client) = super::bench_runner(&ado.org_url(), &port.base_url()).await?;
    let runner = Arc::new(runner);
    let report = runner.resync().await?;
    anyhow::ensure!(report.succeeded(), "the initial resync failed:\n{report}");

    let secret = SecretString::from("bench-hook-secret");
    let bind = std::net::SocketAddr::from(([127, 0, 0, 1], super::free_port()?));
    let settings = realtime::Settings {
        bind,
        path_prefix: None,
        workers: MIN_WORKERS,
        secret: Some(secret.clone()),
        excluded_tags: Vec::new(),
        resync: None,
        webhooks: true,
        max_event_processing: Duration::from_secs(90),
        subscriptions: Some(subscriptions::Settings {
            app_host: format!("http://{bind}").parse()?,
            username: "port".to_owned(),
            secret: Some(secret),
            projects_limited: true,
            fingerprint_key: SecretString::from("sim-pat"),
            excluded_tags: Vec::new(),
        }),
        subscriptions_every: Duration::from_mins(10),
        catch_up: None,
        metrics: None,
    };
    let live = realtime::start(settings, &runner, std::slice::from_ref(&client)).await?;
    let expected = ado_kinds::webhooks::SUBSCRIBED_EVENTS.len() * sizes.projects;
    let started = Instant::now();
    while ado.state.subscriptions().len() < expected {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "only {} of {expected} subscriptions were created",
            ado.state.subscriptions().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    println!(
        "\n{:<12} {:>7} {:>8} {:>8} {:>8} {:>6} {:>10}",
        "events/s", "events", "p50 ms", "p99 ms", "max ms", "lost", "redelivery"
    );
    // Only work items Port holds: the types the default blueprint does not list (`Feature`)
    // are rejected by Port on every write, so their events can never arrive there.
    let ids: Vec<u64> = port
        .state
        .entities()
        .iter()
        .filter(|e| e["blueprint"] == WORK_ITEMS)
        .filter_map(|e| e["identifier"].as_str()?.rsplit('/').next()?.parse().ok())
        .collect();
    for &rate in rates {
        let row = one(&ado, &port, &ids, rate)
            .await
            .with_context(|| format!("latency at {rate} events/s"))?;
        println!("{row}");
    }
    println!(
        "(a change in sim-ado → service-hook delivery → webhook → queue → work item re-read → mapping → Port write; {MIN_WORKERS} workers, 0 ms simulated latency; redelivery: delivery attempts sim-ado had to repeat)"
    );
    live.stop(Duration::from_secs(5)).await;
    Ok(())
}

async fn one(
    ado: &sim_ado::RunningSim,
    port: &sim_port::RunningSim,
    ids: &[u64],
    rate: u32,
) -> anyhow::Result<String> {
    let count = usize::try_from(rate * SECONDS)?;
    anyhow::ensure!(count <= ids.len(), "{count} events need as many work items");
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let (finished, mut sending_done) = tokio::sync::watch::channel(None::<Instant>);
    let mut writes = port.state.watch_writes();
    let observer = {
        let sent = Arc::clone(&sent);
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let pending = lock(&sent).len();
                if let Some(done) = *sending_done.borrow_and_update()
                    && (pending == 0 || done.elapsed() > SETTLE)
                {
                    return Ok::<_, tokio::sync::broadcast::error::RecvError>(latencies);
                }
                let Ok(write) =
                    tokio::time::timeout(Duration::from_millis(100), writes.recv()).await
                else {
                    continue;
                };
                let (blueprint, identifier) = write?;
                // The default mapping's identifier is `<project id>/<work item id>`.
                let id = identifier.rsplit('/').next().unwrap_or_default();
                if let (true, Some(at)) = (blueprint == WORK_ITEMS, lock(&sent).remove(id)) {
                    latencies.push(at.elapsed());
                }
            }
        })
    };
    let (_, failures_before) = ado.state.deliveries();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
    for (i, id) in ids.iter().take(count).enumerate() {
        tick.tick().await;
        lock(&sent).insert(id.to_string(), Instant::now());
        let title = json!(format!("bench {rate}/s #{i}"));
        anyhow::ensure!(
            ado.state.update_work_item(*id, "System.Title", title),
            "work item {id} vanished"
        );
    }
    finished.send_replace(Some(Instant::now()));
    let mut latencies = observer.await?.context("observing sim-port's writes")?;
    let (_, failures_after) = ado.state.deliveries();
    latencies.sort();
    let lost = count - latencies.len();
    let at = |q: f64| -> f64 {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "an index into a short list"
        )]
        let index = ((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
        latencies
            .get(index)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(format!(
        "{:<12} {:>7} {:>8.1} {:>8.1} {:>8.1} {:>6} {:>10}",
        rate,
        count,
        at(0.5),
        at(0.99),
        at(1.0),
        lost,
        failures_after - failures_before
    ))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
