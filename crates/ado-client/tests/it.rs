//! The client against sim-ado over HTTP on 127.0.0.1: service-principal sign-in through the
//! simulator's Entra ID token endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::{sync::Arc, time::Duration};

use ado_client::{Client, ClientOptions, Credentials, Error, ProjectId, ServicePrincipal};
use futures::TryStreamExt;
use secrecy::SecretString;
use sim_ado::{RunningSim, SimConfig};

async fn sim() -> RunningSim {
    sim_ado::spawn(SimConfig::default()).await.unwrap()
}

fn principal(sim: &RunningSim, secret: &str) -> Arc<ServicePrincipal> {
    let authority = format!("http://{}", sim.addr).parse().unwrap();
    Arc::new(
        ServicePrincipal::new(
            &authority,
            "tenant-1",
            "sim-client",
            SecretString::from(secret),
            Duration::from_secs(5),
            &ClientOptions::default().tls,
        )
        .unwrap(),
    )
}

fn client(sim: &RunningSim, principal: &Arc<ServicePrincipal>) -> Client {
    Client::with_credentials(
        &sim.org_url().parse().unwrap(),
        Credentials::ServicePrincipal(Arc::clone(principal)),
        &ClientOptions::default(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_service_principal_reads_with_one_token_for_many_requests() {
    let sim = sim().await;
    let principal = principal(&sim, "sim-secret");
    let client = client(&sim, &principal);
    let projects: Vec<_> = client.projects().try_concat().await.unwrap();
    assert_eq!(projects.len(), 3);
    for project in &projects {
        client.project(&ProjectId::of(project)).await.unwrap();
    }
    assert_eq!(sim.state.token_requests(), 1, "the token is cached");
}

#[tokio::test]
async fn a_revoked_token_is_renewed_once_and_the_request_succeeds() {
    let sim = sim().await;
    let principal = principal(&sim, "sim-secret");
    let client = client(&sim, &principal);
    client.projects().try_concat().await.unwrap();
    sim.state.revoke_tokens();
    let projects = client.projects().try_concat().await.unwrap();
    assert_eq!(projects.len(), 3);
    assert_eq!(sim.state.token_requests(), 2);
}

#[tokio::test]
async fn a_wrong_client_secret_is_entra_ids_reason_without_the_secret() {
    let sim = sim().await;
    let principal = principal(&sim, "not-the-secret");
    let error = client(&sim, &principal)
        .projects()
        .try_concat()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::TokenFailed { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("AADSTS7000215"), "{message}");
    assert!(
        message.contains("tenant-1") && message.contains("sim-client"),
        "{message}"
    );
    assert!(!message.contains("not-the-secret"), "{message}");
    assert!(!format!("{principal:?}").contains("not-the-secret"));
}

#[tokio::test]
async fn a_request_holds_its_place_in_the_budget_until_its_body_is_read() {
    let sim = sim().await;
    // Each body arrives in two halves 50 ms apart: a client that let the next request start
    // once the headers came would have three or more at the simulator at once.
    sim.state.set_body_pause(Duration::from_millis(50));
    let options = ClientOptions {
        concurrency: 2,
        ..ClientOptions::default()
    };
    let client = Client::new(
        &sim.org_url().parse().unwrap(),
        &SecretString::from("sim-pat"),
        &options,
    )
    .unwrap();
    let projects: Vec<_> = client.projects().try_concat().await.unwrap();
    let reads = (0..4).flat_map(|_| &projects).map(|project| {
        let client = &client;
        async move { client.project(&ProjectId::of(project)).await }
    });
    let read = futures::future::try_join_all(reads).await.unwrap();
    assert_eq!(read.len(), 12);
    assert_eq!(
        sim.state.max_in_flight(),
        2,
        "two requests at once, each until its body was read"
    );
}
