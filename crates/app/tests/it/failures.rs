//! Failing fast and saying why: a refused token stops a `ONCE` resync at once, an unreachable
//! Port or organization names the variable to fix, and each cause is printed once per stream.

use std::time::{Duration, Instant};

use super::{binary, text};

/// Runs `--once` against `port_url` and `org_url`; returns (exit code, stdout, stderr, time).
fn once(port_url: &str, org_url: &str, pat: &str) -> (Option<i32>, String, String, Duration) {
    run_with("--once", port_url, org_url, pat)
}

/// Runs the binary with `flag` (`--once`, `--dry-run`) against `port_url` and `org_url`.
fn run_with(
    flag: &str,
    port_url: &str,
    org_url: &str,
    pat: &str,
) -> (Option<i32>, String, String, Duration) {
    let started = Instant::now();
    let output = binary()
        .arg(flag)
        .env("OCEAN__PORT__BASE_URL", port_url)
        .env("OCEAN__PORT__CLIENT_ID", "sim-client-id")
        .env("OCEAN__PORT__CLIENT_SECRET", "sim-client-secret")
        .env("OCEAN__INTEGRATION__IDENTIFIER", "failing")
        .env("OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL", org_url)
        .env("OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN", pat)
        .output()
        .expect("binary runs");
    let (stdout, stderr) = text(&output);
    (output.status.code(), stdout, stderr, started.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_stops_the_resync_at_once_and_is_reported_once() {
    let port = sim_port::spawn(sim_port::SimConfig::default())
        .await
        .unwrap();
    let ado = sim_ado::spawn(sim_ado::SimConfig::default()).await.unwrap();
    let (port_url, org_url) = (port.base_url(), ado.org_url());
    let (dry, (code, stdout, stderr, _)) = tokio::task::spawn_blocking(move || {
        let dry = run_with("--dry-run", &port_url, &org_url, "not-the-pat");
        (dry, once(&port_url, &org_url, "not-the-pat"))
    })
    .await
    .unwrap();
    let cause = "Azure DevOps refused the personal access token";
    // A dry run that could not read is no plan: it fails as the resync does.
    assert_eq!(dry.0, Some(1), "{}\n{}", dry.1, dry.2);
    assert!(
        dry.1.contains(cause) || dry.2.contains(cause),
        "{}\n{}",
        dry.1,
        dry.2
    );
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert_eq!(stdout.matches(cause).count(), 1, "{stdout}");
    assert_eq!(stderr.matches(cause).count(), 1, "{stderr}");
    assert!(
        stdout.contains("OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN"),
        "{stdout}"
    );
    assert!(!stdout.contains("not-the-pat") && !stderr.contains("not-the-pat"));
    // Every resource stopped; none went on asking Azure DevOps with the refused token.
    let table: Vec<&str> = stdout
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("deleted"))
        .collect();
    assert!(
        !table.is_empty() && table.iter().all(|row| row.ends_with("stopped")),
        "{stdout}"
    );
    // At most two requests per run (the dry run's and the resync's).
    assert!(
        ado.state.total_requests() <= 4,
        "requests after the refusal: {}",
        ado.state.total_requests()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_organization_names_the_variable_once() {
    let port = sim_port::spawn(sim_port::SimConfig::default())
        .await
        .unwrap();
    let port_url = port.base_url();
    let (code, stdout, stderr, took) =
        tokio::task::spawn_blocking(move || once(&port_url, "http://127.0.0.1:1/acme", "pat"))
            .await
            .unwrap();
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let cause = "could not connect to 127.0.0.1:1: Connection refused";
    assert_eq!(stderr.matches(cause).count(), 1, "{stderr}");
    assert_eq!(stdout.matches(cause).count(), 1, "{stdout}");
    assert!(
        stdout.contains("check OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL"),
        "{stdout}"
    );
    // Within the retry budget the README states (≈ 15 s of backoff).
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn an_unreachable_port_names_the_variable_and_the_cause() {
    let (code, stdout, stderr, took) = once("http://127.0.0.1:1", "http://127.0.0.1:1/acme", "pat");
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let cause = "could not connect to 127.0.0.1:1: Connection refused";
    assert_eq!(stderr.matches(cause).count(), 1, "{stderr}");
    assert!(stderr.contains("check OCEAN__PORT__BASE_URL"), "{stderr}");
    // Within the retry budget the README states (≈ 10 s of backoff).
    assert!(took < Duration::from_secs(30), "{took:?}");
}

/// A configuration mistake that used to fall back silently is exit status 2, naming the culprit.
fn config_error(args: &[&str], env: &[(&str, &str)]) -> String {
    let output = binary()
        .args(args)
        .env("OCEAN__PORT__CLIENT_ID", "id")
        .env("OCEAN__PORT__CLIENT_SECRET", "port-secret-value")
        .env(
            "OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL",
            "http://127.0.0.1:1/acme",
        )
        .env(
            "OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN",
            "pat-secret-value",
        )
        .envs(env.iter().copied())
        .output()
        .expect("binary runs");
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(!stderr.contains("secret-value"), "{stderr}");
    stderr
}

#[test]
fn a_listener_that_is_not_json_or_a_missing_config_file_is_a_configuration_error() {
    let stderr = config_error(&[], &[("OCEAN__EVENT_LISTENER", r#"{"type": "ONCE", "#)]);
    assert!(
        stderr.contains("- OCEAN__EVENT_LISTENER: is not valid JSON"),
        "{stderr}"
    );
    let stderr = config_error(&[], &[("OCEAN__EVENT_LISTENER", "ONCE")]);
    assert!(
        stderr.contains("- OCEAN__EVENT_LISTENER: must be a JSON object"),
        "{stderr}"
    );
    let stderr = config_error(
        &[],
        &[("OCEAN__PORT", r#"{"clientSecret": "port-secret-value"#)],
    );
    assert!(
        stderr.contains("- OCEAN__PORT: is not valid JSON"),
        "{stderr}"
    );
    let stderr = config_error(&[], &[("REQUESTS_CA_BUNDLE", "no-such-ca.pem")]);
    assert!(
        stderr.contains("- REQUESTS_CA_BUNDLE: cannot read no-such-ca.pem"),
        "{stderr}"
    );
    let stderr = config_error(&["--config", "no-such-config.yaml"], &[]);
    assert!(
        stderr.contains("- no-such-config.yaml: cannot be read") && stderr.contains("--config"),
        "{stderr}"
    );
}
