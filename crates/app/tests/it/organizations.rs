//! `Multiple Accounts`: several organizations read with one Entra ID service principal (the
//! token endpoint is sim-ado's, through azure-identity's `AZURE_AUTHORITY_HOST`), in a resync
//! and in live events, each event applied with the organization that sent it.

use std::time::Duration;

use super::{binary, free_port, terminate, text};

/// Two organizations (`acme` and `globex`) with the same generated ids, and sim-port.
async fn simulators() -> (
    sim_ado::RunningSim,
    sim_ado::RunningSim,
    sim_port::RunningSim,
) {
    let organization = |name: &str| sim_ado::SimConfig {
        organization: name.to_owned(),
        ..sim_ado::SimConfig::default()
    };
    (
        sim_ado::spawn(organization("acme")).await.unwrap(),
        sim_ado::spawn(organization("globex")).await.unwrap(),
        sim_port::spawn(sim_port::SimConfig::default())
            .await
            .unwrap(),
    )
}

/// The binary in `Multiple Accounts` mode over both organizations, signing in at `acme`'s
/// simulator, with the organization-qualified mapping.
fn multiple_accounts(
    acme: &sim_ado::RunningSim,
    globex: &sim_ado::RunningSim,
    port: &sim_port::RunningSim,
    listener: &str,
) -> std::process::Command {
    let mut command = binary();
    command
        .env("OCEAN__PORT__BASE_URL", port.base_url())
        .env("OCEAN__PORT__CLIENT_ID", "sim-client-id")
        .env("OCEAN__PORT__CLIENT_SECRET", "sim-client-secret")
        .env("OCEAN__EVENT_LISTENER__TYPE", listener)
        .env("OCEAN__INTEGRATION__IDENTIFIER", "many")
        .env("OCEAN__PORT_APP_CONFIG_FILE", "tests/it/organizations.yaml")
        .env(
            "OCEAN__INTEGRATION__CONFIG__ACCOUNT_MODE",
            "Multiple Accounts",
        )
        .env(
            "OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URLS",
            serde_json::json!([acme.org_url(), globex.org_url()]).to_string(),
        )
        .env("OCEAN__INTEGRATION__CONFIG__CLIENT_ID", "sim-client")
        .env("OCEAN__INTEGRATION__CONFIG__CLIENT_SECRET", "sim-secret")
        .env("OCEAN__INTEGRATION__CONFIG__TENANT_ID", "tenant-1")
        .env("AZURE_AUTHORITY_HOST", format!("http://{}", acme.addr));
    command
}

#[tokio::test]
async fn a_resync_reads_every_organization_with_one_token() {
    let (acme, globex, port) = simulators().await;
    // Asynchronously: the simulators run on this test's runtime.
    let output = tokio::process::Command::from(multiple_accounts(&acme, &globex, &port, "ONCE"))
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let projects: Vec<String> = port
        .state
        .entities()
        .iter()
        .filter(|e| e["blueprint"] == "azureDevopsProject")
        .map(|e| e["identifier"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(projects.len(), 6, "{projects:?}");
    for org in ["acme", "globex"] {
        assert_eq!(
            projects
                .iter()
                .filter(|p| p.starts_with(&format!("{org}/")))
                .count(),
            3,
            "{projects:?}"
        );
    }
    let globex_project = port
        .state
        .entity(
            "azureDevopsProject",
            "globex/00000001-0000-4000-8000-000000000000",
        )
        .unwrap();
    assert_eq!(globex_project["properties"]["link"], globex.org_url());
    assert_eq!(
        acme.state.token_requests(),
        1,
        "one token for both organizations"
    );
    assert!(!stderr.contains("sim-secret"), "{stderr}");
}

#[tokio::test]
async fn an_event_is_applied_with_the_organization_that_sent_it() {
    let (acme, globex, port) = simulators().await;
    let http_port = free_port();
    let child = tokio::process::Command::from({
        let mut command = multiple_accounts(&acme, &globex, &port, "WEBHOOKS_ONLY");
        command
            .env(
                "OCEAN__INTEGRATION__CONFIG__APP_HOST",
                format!("http://127.0.0.1:{http_port}"),
            )
            .env("APPLICATION__PORT", http_port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        command
    })
    .spawn()
    .unwrap();
    // 23 events × 3 projects in each organization.
    for _ in 0..300 {
        if acme.state.subscriptions().len() == 69 && globex.state.subscriptions().len() == 69 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        (
            acme.state.subscriptions().len(),
            globex.state.subscriptions().len()
        ),
        (69, 69)
    );
    // The same new repository id in both organizations' numbering, created in globex only:
    // re-read in acme, it would not exist.
    let id = globex.state.add_repository(1, "only-in-globex").unwrap();
    let identifier = format!("globex/{id}");
    let mut entity = None;
    for _ in 0..200 {
        entity = port.state.entity("azureDevopsRepository", &identifier);
        if entity.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (status, stderr) = terminate(child).await;
    assert!(status.success(), "{status}\n{stderr}");
    let entity = entity.unwrap_or_else(|| panic!("{identifier} reached Port:\n{stderr}"));
    assert_eq!(entity["title"], "only-in-globex");
    assert!(
        port.state
            .entity("azureDevopsRepository", &format!("acme/{id}"))
            .is_none()
    );
}
