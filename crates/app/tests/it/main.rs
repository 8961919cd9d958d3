//! End-to-end tests of the `ocean-azure-devops` binary: the demo against the in-process
//! simulators, and the configuration error report.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on broken fixtures"
)]

mod actions;
mod conformance;
mod dry_run;
mod failures;
mod incremental;
mod memory;
mod organizations;
mod port_ui;
mod shutdown;
mod tls;

use std::process::{Command, Output};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ocean-azure-devops"));
    // Start from an empty environment so the machine's variables cannot leak into the test.
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn demo_syncs_the_fixture_org_and_the_second_resync_writes_nothing() {
    let output = binary()
        .args([
            "demo",
            "--projects",
            "2",
            "--repositories",
            "3",
            "--work-items",
            "20",
            "--releases",
            "2",
        ])
        .output()
        .expect("binary runs");
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("== first resync"), "{stdout}");
    // 2 projects + 6 repositories + 2 boards + 18 accepted work items (2 Features rejected) + ...
    assert!(
        stdout.contains("azureDevopsProject            2 entities"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("azureDevopsProject entities ("),
        "projects are accepted: {stdout}"
    );
    assert!(
        stdout.contains("azureDevopsRepository         6 entities"),
        "{stdout}"
    );
    // The Features the default blueprint refuses: explained once per resync, not per entity.
    assert_eq!(
        stdout
            .matches("Port refused 2 azureDevopsWorkItem entities (422)")
            .count(),
        2,
        "{stdout}"
    );
    assert!(!stdout.contains("DemoArgs"), "no debug structs: {stdout}");
    assert!(
        stderr.is_empty(),
        "nothing interleaves with the report: {stderr}"
    );
    let second = stdout
        .split("== second resync")
        .nth(1)
        .expect("second report");
    let table = second.split("deleted:").next().expect("resource table");
    // Columns: resource, fetched, mapped, unchanged, upserted, rejected, ms, status.
    for row in table.lines().skip(2).filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells[4], "0",
            "nothing upserted again in the second resync: {row}"
        );
    }
}

#[test]
fn a_broken_configuration_lists_every_problem_and_no_secret() {
    let secret = "super-secret-pat-value";
    let output = binary()
        .env("OCEAN__PORT__CLIENT_ID", "id")
        .env("OCEAN__PORT__CLIENT_SECRET", "port-secret-value")
        .env("OCEAN__EVENT_LISTENER__TYPE", "CARRIER_PIGEON")
        .env("OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL", "not a url")
        .env("OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN", secret)
        .env(
            "OCEAN__PORT_APP_CONFIG_FILE",
            "tests/it/broken-mapping.yaml",
        )
        .output()
        .expect("binary runs");
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for expected in [
        "OCEAN__EVENT_LISTENER__TYPE",
        "OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL",
        "properties.state",
        "properties.effort",
        "selector.query",
    ] {
        assert!(
            stderr.contains(expected),
            "missing `{expected}` in:\n{stderr}"
        );
    }
    let problems = stderr.lines().filter(|l| l.starts_with("- ")).count();
    assert_eq!(
        problems, 5,
        "three jq expressions, the URL and the listener:\n{stderr}"
    );
    assert!(!stderr.contains(secret) && !stdout.contains(secret));
    assert!(!stderr.contains("port-secret-value"));
}

/// The binary as a long-running webhook server (`WEBHOOKS_ONLY`) on `http_port`, pointed at
/// the two simulators, with a webhook secret; stderr piped.
fn served(
    port_sim: &sim_port::RunningSim,
    ado: &sim_ado::RunningSim,
    http_port: u16,
    identifier: &str,
) -> tokio::process::Command {
    let mut command = tokio::process::Command::from(binary());
    command
        .env("OCEAN__PORT__BASE_URL", port_sim.base_url())
        .env("OCEAN__PORT__CLIENT_ID", "sim-client-id")
        .env("OCEAN__PORT__CLIENT_SECRET", "sim-client-secret")
        .env("OCEAN__EVENT_LISTENER__TYPE", "WEBHOOKS_ONLY")
        .env("OCEAN__INTEGRATION__IDENTIFIER", identifier)
        .env(
            "OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL",
            ado.org_url(),
        )
        .env(
            "OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN",
            "sim-pat",
        )
        .env("OCEAN__INTEGRATION__CONFIG__WEBHOOK_SECRET", "hook-secret")
        .env("APPLICATION__PORT", http_port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    command
}

/// Sends SIGTERM, waits for the exit (within the 25 s grace period and some margin), and
/// returns the exit status and everything the process wrote to stderr.
async fn terminate(mut child: tokio::process::Child) -> (std::process::ExitStatus, String) {
    use tokio::io::AsyncReadExt;
    let pid = child.id().unwrap().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(40), child.wait())
        .await
        .expect("stops within the grace period")
        .unwrap();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr).await;
    }
    (status, stderr)
}

/// `GET url` until it answers `wanted` (or for 10 s); the last status, `None` if it never
/// answered.
async fn status_once_it_is(
    http: &reqwest::Client,
    url: &str,
    wanted: u16,
) -> Option<reqwest::StatusCode> {
    let mut last = None;
    for _ in 0..200 {
        if let Ok(response) = http.get(url).send().await {
            last = Some(response.status());
            if response.status() == wanted {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    last
}

/// Returns once `check` holds, or after `limit` (the caller then asserts what it needs);
/// whether it held.
async fn until(limit: std::time::Duration, mut check: impl FnMut() -> bool) -> bool {
    let step = std::time::Duration::from_millis(25);
    let mut waited = std::time::Duration::ZERO;
    while waited < limit {
        if check() {
            return true;
        }
        tokio::time::sleep(step).await;
        waited += step;
    }
    check()
}

/// `GET /metrics` until it contains `wanted` (or after 10 s, as it then is).
async fn metrics_once_they_contain(http: &reqwest::Client, base: &str, wanted: &str) -> String {
    let mut metrics = String::new();
    for _ in 0..400 {
        metrics = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains(wanted) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    metrics
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_server_answers_health_metrics_and_webhooks_then_stops_cleanly_on_sigterm() {
    let port_sim = sim_port::spawn(sim_port::SimConfig::default())
        .await
        .unwrap();
    let ado = sim_ado::spawn(sim_ado::SimConfig::default()).await.unwrap();
    let http_port = free_port();
    let child = served(&port_sim, &ado, http_port, "served")
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{http_port}");
    let http = reqwest::Client::new();
    let live = status_once_it_is(&http, &format!("{base}/health/live"), 200).await;
    assert_eq!(live, Some(reqwest::StatusCode::OK), "the server came up");
    // Ready once starting is over (the record and default resources are in Port).
    let ready = status_once_it_is(&http, &format!("{base}/health/ready"), 200).await;
    assert_eq!(ready, Some(reqwest::StatusCode::OK));

    let hook = format!("{base}/integration/webhook");
    let unauthenticated = http.post(&hook).body("{}").send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let garbage = http
        .post(&hook)
        .basic_auth("port", Some("hook-secret"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let ignored = http
        .post(&hook)
        .basic_auth("port", Some("hook-secret"))
        .json(&serde_json::json!({"eventType": "ms.vss-pipelinechecks-events.check-updated-event", "publisherId": "pipelines", "resource": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(ignored.status(), 200);
    // An accepted event is counted once, when a worker has applied it (not also at intake).
    let project = "00000001-0000-4000-8000-000000000000";
    let id = ado.state.work_item_ids(0)[0];
    let accepted = http
        .post(&hook)
        .basic_auth("port", Some("hook-secret"))
        .json(
            &serde_json::json!({"eventType": "workitem.updated", "publisherId": "tfs",
            "resource": {"id": 1, "workItemId": id},
            "resourceContainers": {"project": {"id": project}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let counted =
        "ocean_webhook_events_total{event_type=\"workitem.updated\",outcome=\"applied\"} 1";
    let metrics = metrics_once_they_contain(&http, &base, counted).await;
    let lines: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("ocean_webhook_events_total{event_type=\"workitem.updated\""))
        .collect();
    assert_eq!(lines, [counted], "{metrics}");
    assert!(
        metrics.contains("ocean_webhook_events_total")
            && metrics.contains("outcome=\"ignored\"")
            && metrics.contains(
                "ocean_api_requests_total{api=\"port\",endpoint=\"blueprints/{}\",status=\"200\"}"
            ),
        "{metrics}"
    );

    let (status, stderr) = terminate(child).await;
    assert!(status.success(), "{status}\n{stderr}");
    assert!(
        !stderr.contains("hook-secret") && !stderr.contains("sim-pat"),
        "{stderr}"
    );
}

#[tokio::test]
async fn after_a_resync_metrics_carry_oceans_own_gauges() {
    let port_sim = sim_port::spawn(sim_port::SimConfig::default())
        .await
        .unwrap();
    let ado = sim_ado::spawn(sim_ado::SimConfig::default()).await.unwrap();
    let http_port = free_port();
    let child = served(&port_sim, &ado, http_port, "gauges")
        .env("OCEAN__EVENT_LISTENER__TYPE", "POLLING")
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{http_port}/metrics");
    let mut metrics = String::new();
    for _ in 0..400 {
        if let Ok(response) = reqwest::get(&url).await {
            metrics = response.text().await.unwrap_or_default();
            if metrics.contains("kind=\"__resync__\"") {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, stderr) = terminate(child).await;
    assert!(status.success(), "{stderr}");
    // The default mapping's first resource reads the simulator's three projects.
    assert!(
        metrics.contains(
            "object_count{kind=\"project-0\",phase=\"extract\",object_count_type=\"raw_extracted\"} 3"
        ),
        "{metrics}"
    );
    // Live progress gauges keep the finished resource's last counts.
    assert!(
        metrics.contains("ocean_resync_progress{kind=\"project-0\",count=\"fetched\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("success{kind=\"__resync__\",phase=\"resync\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("duration_seconds{kind=\"work-item-5\",phase=\"resync\"}"));
}

/// Issue 13 (a refusing Port does not crash-loop) and 15 (signals at every stage): while Port
/// refuses the start, `/health/live` answers, readiness and the webhook route say "starting",
/// and SIGTERM ends the process at once.
#[tokio::test]
async fn while_port_refuses_the_start_the_server_answers_and_sigterm_stops_it() {
    let port_sim = sim_port::spawn(sim_port::SimConfig::default())
        .await
        .unwrap();
    port_sim.state.inject_status("/v1/integration", 400, 1_000);
    let ado = sim_ado::spawn(sim_ado::SimConfig::default()).await.unwrap();
    let http_port = free_port();
    let child = served(&port_sim, &ado, http_port, "refused")
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{http_port}");
    let http = reqwest::Client::new();
    let live = status_once_it_is(&http, &format!("{base}/health/live"), 200).await;
    assert_eq!(live, Some(reqwest::StatusCode::OK));
    let ready = http
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert!(
        body["reasons"][0].as_str().unwrap().starts_with("starting"),
        "{body}"
    );
    let hook = http
        .post(format!("{base}/integration/webhook"))
        .basic_auth("port", Some("hook-secret"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 503);
    assert!(hook.headers().contains_key("retry-after"));

    // Once Port has refused the first attempt, the process waits to try again: stop it then.
    until(std::time::Duration::from_secs(5), || {
        port_sim
            .state
            .stats()
            .requests_to("GET /v1/integration/{id}")
            > 0
    })
    .await;
    assert!(
        port_sim
            .state
            .stats()
            .requests_to("GET /v1/integration/{id}")
            > 0
    );
    let started = std::time::Instant::now();
    let (status, stderr) = terminate(child).await;
    assert!(status.success(), "{status}\n{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "stopped in {:?}",
        started.elapsed()
    );
    assert!(
        stderr.contains("Could not start; trying again."),
        "{stderr}"
    );
}

/// Issue 13: a start that Port refuses once is tried again, and the integration becomes ready.
#[tokio::test]
async fn a_start_port_refused_once_is_tried_again_until_ready() {
    let port_sim = sim_port::spawn(sim_port::SimConfig::default())
        .await
        .unwrap();
    port_sim.state.inject_status("/v1/integration", 400, 1);
    // And one throttled answer, whose wait is logged too.
    port_sim.state.inject_429(1, 0);
    let ado = sim_ado::spawn(sim_ado::SimConfig::default()).await.unwrap();
    let http_port = free_port();
    let child = served(&port_sim, &ado, http_port, "retried")
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{http_port}");
    let http = reqwest::Client::new();
    let mut ready = None;
    // The second attempt comes 5 s after the first.
    for _ in 0..3 {
        ready = status_once_it_is(&http, &format!("{base}/health/ready"), 200).await;
        if ready == Some(reqwest::StatusCode::OK) {
            break;
        }
    }
    assert_eq!(ready, Some(reqwest::StatusCode::OK));
    assert!(port_sim.state.integration("retried").is_some());
    let (status, stderr) = terminate(child).await;
    assert!(status.success(), "{status}\n{stderr}");
    assert!(
        stderr.contains("Could not start; trying again."),
        "{stderr}"
    );
    // Issue 15: numbers in JSON logs are numbers.
    let waits: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|line| line.get("wait_ms").cloned())
        .collect();
    assert!(waits.len() >= 2, "{stderr}");
    assert!(waits.iter().all(serde_json::Value::is_u64), "{waits:?}");
}

/// Issue 15: SIGTERM during a resync ends the process within seconds (a Job or a pod being
/// stopped must not run on for its grace period): `ONCE` fails, a long-running listener stops
/// cleanly; what was written stays, nothing is deleted.
#[tokio::test]
async fn sigterm_during_a_resync_ends_it_at_once() {
    for (listener, succeeds) in [("ONCE", false), ("POLLING", true)] {
        let port_sim = sim_port::spawn(sim_port::SimConfig::default())
            .await
            .unwrap();
        let ado = sim_ado::spawn(sim_ado::SimConfig {
            latency: std::time::Duration::from_secs(2),
            ..sim_ado::SimConfig::default()
        })
        .await
        .unwrap();
        let child = served(&port_sim, &ado, free_port(), "stopped")
            .env("OCEAN__EVENT_LISTENER__TYPE", listener)
            .spawn()
            .unwrap();
        // The resync is under way once Azure DevOps has been asked something.
        until(std::time::Duration::from_secs(10), || {
            ado.state.total_requests() > 0
        })
        .await;
        assert!(
            ado.state.total_requests() > 0,
            "{listener}: the resync started"
        );
        let started = std::time::Instant::now();
        let (status, stderr) = terminate(child).await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{listener}: stopped in {:?}",
            started.elapsed()
        );
        assert_eq!(status.success(), succeeds, "{listener}: {status}\n{stderr}");
        if !succeeds {
            assert!(stderr.contains("Stopped during the resync"), "{stderr}");
        }
    }
}

/// `shouldProcessWebhooks: false`: the server runs (health, metrics) but takes no event.
#[tokio::test]
async fn with_should_process_webhooks_false_the_webhook_route_is_absent() {
    let port_sim = sim_port::spawn(sim_port::SimConfig::default())
        .await
        .unwrap();
    let ado = sim_ado::spawn(sim_ado::SimConfig::default()).await.unwrap();
    let http_port = free_port();
    let child = served(&port_sim, &ado, http_port, "no-hooks")
        .env("OCEAN__EVENT_LISTENER__SHOULD_PROCESS_WEBHOOKS", "false")
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{http_port}");
    let http = reqwest::Client::new();
    let ready = status_once_it_is(&http, &format!("{base}/health/ready"), 200).await;
    assert_eq!(ready, Some(reqwest::StatusCode::OK));
    let hook = http
        .post(format!("{base}/integration/webhook"))
        .basic_auth("port", Some("hook-secret"))
        .json(&serde_json::json!({"eventType": "workitem.updated", "publisherId": "tfs", "resource": {"workItemId": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 404);
    let (status, stderr) = terminate(child).await;
    assert!(status.success(), "{status}\n{stderr}");
}
