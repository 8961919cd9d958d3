//! End-to-end tests of the `ocean-azure-devops` binary: the demo against the in-process
//! simulators, and the configuration error report.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on broken fixtures"
)]

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
        !stdout.contains("rejected azureDevopsProject"),
        "projects are accepted: {stdout}"
    );
    assert!(
        stdout.contains("azureDevopsRepository         6 entities"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rejected azureDevopsWorkItem/"),
        "Features are rejected: {stdout}"
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
