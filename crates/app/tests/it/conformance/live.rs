//! Live events: the integration resyncs once (`ONCE`), then runs as a service (`WEBHOOKS_ONLY`,
//! `appHost` set, a webhook secret) and creates its service-hook subscriptions in sim-ado; then
//! the same changes are made in the simulated organization, which delivers the events each change
//! raises (work item updated, deleted, created, commented and restored, push, repository
//! created, pull request updated and created, build and run completed, release created and
//! abandoned, deployment started and completed, alert created, updated and its state changed,
//! wiki page edited). The catalog after the events is the golden file.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Case, Integration, Run, Sims, catalog::Departure, total};

/// The webhook secret both integrations get (sim-ado sends it as the Basic-auth password).
const SECRET: &str = "conformance-secret";

/// The changes, in order. Work item 2 leaves the mapping's selector (`state != Closed`); a work
/// item is created after 3 is deleted (its id is 6, not 3's).
fn changes(ado: &sim_ado::AdoState) {
    assert!(ado.update_work_item(1, "System.Title", json!("Renamed while live")));
    assert!(ado.update_work_item(2, "System.State", json!("Closed")));
    assert!(ado.delete_work_item(3));
    ado.add_work_item(0).expect("project 0 exists");
    assert!(ado.comment_work_item(5, "Seen while live."));
    assert!(ado.restore_work_item(100_002));
    ado.commit(
        0,
        "repo-0-0",
        &[
            ("README.md", Some("# repo-0-0\n\nChanged while live.\n")),
            (
                "package.json",
                Some(r#"{"name": "repo-0-0", "version": "2.0.0"}"#),
            ),
        ],
    )
    .expect("repo-0-0 exists");
    ado.add_repository(0, "live-repo")
        .expect("project 0 exists");
    assert!(ado.close_pull_request(1, "completed"));
    ado.open_pull_request(0, "repo-0-1")
        .expect("repo-0-1 exists");
    let run = ado.run_pipeline(0, 1).expect("pipeline 1 exists");
    assert!(ado.complete_run(run, "succeeded"));
    ado.add_release(0).expect("project 0 exists");
    assert!(ado.abandon_release(0, 3));
    let deployment = ado.deploy(0, 2, 1).expect("release 2 has environment 1");
    assert!(ado.complete_deployment(deployment, "succeeded"));
    assert!(ado.set_alert_state(0, 1, "dismissed"));
    ado.add_alert(0, "repo-0-0")
        .expect("repo-0-0 has Advanced Security");
    assert!(ado.set_alert_severity(0, 2, "low"));
    ado.edit_wiki_page(0, "/Runbooks/Deploy", "Deploy on Tuesdays.")
        .expect("the page exists");
}

/// Before the first resync: work item 100002 goes to the recycle bin, to be restored live. (A
/// delete and a restore made one after the other are delivered concurrently, in either order.)
fn before(ado: &sim_ado::AdoState) {
    assert!(ado.delete_work_item(100_002));
}

/// Waits until `value()` has not changed for `quiet` (recording: the Python integration
/// applies events after answering them, with no signal of its own).
async fn settled(limit: Duration, quiet: Duration, mut value: impl FnMut() -> Value) -> bool {
    let started = Instant::now();
    let mut last = value();
    let mut since = Instant::now();
    while started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = value();
        if now == last {
            if since.elapsed() >= quiet {
                return true;
            }
        } else {
            last = now;
            since = Instant::now();
        }
    }
    false
}

/// Runs `integration` as a service through the changes. `expected` (the golden catalog and the
/// departures): ours is done when the catalog equals it but for them (CI); without it
/// (recording), when nothing changed for 3 s.
#[expect(
    clippy::too_many_lines,
    reason = "one sequence: resync, serve, change, wait, stop"
)]
pub(super) async fn run(
    case: &Case,
    integration: Integration,
    expected: Option<(&Value, &[Departure])>,
) -> Run {
    let sims = Sims::start(case).await;
    before(&sims.ado.state);
    let port_before = total(&sims.port.state.stats());
    let started = Instant::now();
    // The first resync, as a run of its own: the Python integration's POLLING listener resyncs
    // only after its first interval (60 s), WEBHOOKS_ONLY never.
    let first =
        tokio::process::Command::from(sims.command(case, integration, r#"{"type": "ONCE"}"#, None))
            .output()
            .await
            .expect("the integration starts");
    assert!(
        first.status.success(),
        "case {}: the first resync failed:\n{:?}",
        case.name,
        super::super::text(&first)
    );
    let app_port = super::super::free_port();
    let app_host = format!("http://127.0.0.1:{app_port}");
    let mut command = sims.command(case, integration, r#"{"type": "WEBHOOKS_ONLY"}"#, None);
    command
        .env("APPLICATION__PORT", app_port.to_string())
        .env("OCEAN__BASE_URL", &app_host)
        .env("OCEAN__INTEGRATION__CONFIG__APP_HOST", &app_host)
        .env("OCEAN__INTEGRATION__CONFIG__WEBHOOK_SECRET", SECRET);
    // The log goes to a file: a pipe nobody reads until the end would stall a chatty process.
    let log_path = std::env::temp_dir().join(format!(
        "conformance-{}-{}.log",
        case.name,
        std::process::id()
    ));
    let log = std::fs::File::create(&log_path).unwrap();
    command.stdout(log.try_clone().unwrap()).stderr(log);
    let child = tokio::process::Command::from(command)
        .kill_on_drop(true)
        .spawn()
        .expect("the integration starts");

    // Started: the webhook endpoint listens and the subscriptions are in place.
    let listening = super::super::until(Duration::from_mins(2), || {
        std::net::TcpStream::connect(("127.0.0.1", app_port)).is_ok()
    })
    .await;
    let subscribed = settled(Duration::from_mins(1), Duration::from_secs(2), || {
        json!(sims.ado.state.subscriptions().len())
    })
    .await;
    assert!(
        listening && subscribed && !sims.ado.state.subscriptions().is_empty(),
        "case {}: the integration does not listen ({listening}) or made no subscription \
         ({} subscriptions); log:\n{}",
        case.name,
        sims.ado.state.subscriptions().len(),
        std::fs::read_to_string(&log_path).unwrap_or_default()
    );

    changes(&sims.ado.state);
    let applied = match expected {
        Some((expected, departures)) => {
            super::super::until(Duration::from_secs(30), || {
                super::catalog::compare(&case.name, expected, &sims.catalog(case), departures)
                    .differences
                    .is_empty()
            })
            .await
        }
        None => {
            settled(Duration::from_mins(2), Duration::from_secs(3), || {
                json!([sims.ado.state.deliveries().0, sims.catalog(case)])
            })
            .await
        }
    };
    let wall = started.elapsed();
    let (status, _) = super::super::terminate(child).await;
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    let (delivered, failed) = sims.ado.state.deliveries();
    if expected.is_none() {
        assert!(applied, "case {}: the catalog never settled", case.name);
    }
    Run {
        catalog: sims.catalog(case),
        wall,
        ado_requests: sims.ado.state.total_requests(),
        port_requests: total(&sims.port.state.stats()) - port_before,
        peak_rss_kib: None,
        output: format!(
            "exit: {status}; events delivered {delivered}, failed attempts {failed}\n{output}"
        ),
    }
}
