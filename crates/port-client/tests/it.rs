//! port-client against sim-port over real HTTP on 127.0.0.1: tokens, retries, bulk limits.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::time::Duration;

use port_client::{Client, Error, Installation, UpsertOptions};
use secrecy::SecretString;
use serde_json::{json, value::RawValue};
use sim_port::{RunningSim, SimConfig};

const BULK: &str = "POST /v1/blueprints/{bp}/entities/bulk";
const OPTIONS: UpsertOptions = UpsertOptions {
    merge: true,
    create_missing_related_entities: true,
};

async fn sim() -> RunningSim {
    let sim = sim_port::spawn(SimConfig::default()).await.unwrap();
    sim.state.put_blueprint(json!({
        "identifier": "svc",
        "schema": {"properties": {
            "tier": {"type": "string", "enum": ["gold", "silver"]},
            "blob": {"type": "string"}
        }},
        "relations": {}
    }));
    sim
}

fn client(sim: &RunningSim, secret: &str) -> Client {
    Client::builder(
        sim.base_url().parse().unwrap(),
        SecretString::from("sim-client-id"),
        SecretString::from(secret.to_owned()),
    )
    .installation(Installation {
        integration_type: "azure-devops".into(),
        version: "0.1.0".into(),
        identifier: "it".into(),
    })
    // Long enough that paused-time auto-advance never fires it while a request is in flight.
    .timeout(Duration::from_hours(1))
    .build()
    .unwrap()
}

fn entities(items: impl IntoIterator<Item = serde_json::Value>) -> Vec<Box<RawValue>> {
    items
        .into_iter()
        .map(|e| serde_json::value::to_raw_value(&e).unwrap())
        .collect()
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_call_still_succeeds() {
    let sim = sim().await;
    let port = client(&sim, "sim-client-secret");
    assert!(port.blueprints().get("svc").await.unwrap().is_some());
    sim.state.expire_tokens();
    assert!(port.blueprints().get("svc").await.unwrap().is_some());
    assert_eq!(
        sim.state.stats().requests_to("POST /v1/auth/access_token"),
        2
    );
    assert_eq!(
        sim.state.stats().requests_to("GET /v1/blueprints/{bp}"),
        3,
        "one 401, then the retry"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_of_a_429_is_honoured() {
    let sim = sim().await;
    let port = client(&sim, "sim-client-secret");
    port.blueprints().get("svc").await.unwrap();
    sim.state.inject_429(1, 30);
    let started = tokio::time::Instant::now();
    assert!(port.blueprints().get("svc").await.unwrap().is_some());
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(30), "waited only {waited:?}");
    assert!(
        waited < Duration::from_secs(31),
        "waited {waited:?}, more than asked"
    );
}

#[tokio::test]
async fn a_batch_over_one_mebibyte_is_split_until_port_accepts_it() {
    let sim = sim().await;
    let port = client(&sim, "sim-client-secret");
    let blob = "x".repeat(300 * 1024);
    let batch = entities((0..6).map(|i| json!({"identifier": format!("e{i}"), "blueprint": "svc", "properties": {"blob": blob}})));
    let report = port
        .entities()
        .bulk_upsert("svc", &batch, &OPTIONS)
        .await
        .unwrap();
    assert_eq!(report.upserted.len(), 6);
    assert!(report.failed.is_empty());
    let mut indexes: Vec<usize> = report.upserted.iter().map(|e| e.index).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (0..6).collect::<Vec<_>>());
    assert!(
        sim.state.stats().requests_to(BULK) > 1,
        "the first request was refused with 413"
    );
}

#[tokio::test]
async fn per_entity_errors_of_a_207_are_reported_with_ports_reason() {
    let sim = sim().await;
    let port = client(&sim, "sim-client-secret");
    let batch = entities([
        json!({"identifier": "ok", "blueprint": "svc", "properties": {"tier": "gold"}}),
        json!({"identifier": "bad", "blueprint": "svc", "properties": {"tier": "bronze"}}),
    ]);
    let report = port
        .entities()
        .bulk_upsert("svc", &batch, &OPTIONS)
        .await
        .unwrap();
    assert_eq!(report.upserted.len(), 1);
    assert_eq!(report.failed.len(), 1);
    let failure = &report.failed[0];
    assert_eq!(
        (
            failure.index,
            failure.identifier.as_str(),
            failure.status_code
        ),
        (1, "bad", 422)
    );
    assert!(
        failure.message.contains("allowed values"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn more_than_twenty_entities_are_sent_in_several_requests() {
    let sim = sim().await;
    let port = client(&sim, "sim-client-secret");
    let batch = entities(
        (0..45)
            .map(|i| json!({"identifier": format!("e{i}"), "blueprint": "svc", "properties": {}})),
    );
    let report = port
        .entities()
        .bulk_upsert("svc", &batch, &OPTIONS)
        .await
        .unwrap();
    assert_eq!(report.upserted.len(), 45);
    assert_eq!(sim.state.stats().requests_to(BULK), 3);
}

#[tokio::test]
async fn refused_credentials_fail_fast_without_leaking_the_secret() {
    let sim = sim().await;
    let port = client(&sim, "wrong-secret-value");
    let error = port.blueprints().get("svc").await.unwrap_err();
    assert!(
        matches!(error, Error::Auth { status: 401, .. }),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?} {port:?}").contains("wrong-secret-value"));
    assert_eq!(
        sim.state.stats().requests_to("POST /v1/auth/access_token"),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    let sim = sim().await;
    let port = client(&sim, "sim-client-secret");
    port.blueprints().get("svc").await.unwrap();
    sim.state
        .inject_status("/entities/bulk", 503, port_client::retry::MAX_ATTEMPTS);
    let batch = entities([json!({"identifier": "a", "blueprint": "svc", "properties": {}})]);
    let error = port
        .entities()
        .bulk_upsert("svc", &batch, &OPTIONS)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(
        sim.state.stats().requests_to(BULK),
        u64::from(port_client::retry::MAX_ATTEMPTS)
    );
    // 500 is not retried at all (as in Ocean).
    sim.state.reset_stats();
    sim.state.inject_status("/entities/bulk", 500, 1);
    let error = port
        .entities()
        .bulk_upsert("svc", &batch, &OPTIONS)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(500));
    assert_eq!(sim.state.stats().requests_to(BULK), 1);
}

#[tokio::test]
async fn deletes_and_the_datasource_listing_see_only_our_entities() {
    let sim = sim().await;
    let port = client(&sim, "sim-client-secret");
    sim.state.put_entity(
        json!({"identifier": "theirs", "blueprint": "svc", "properties": {}, "relations": {}}),
        "port-ocean/github/1/x/exporter",
    );
    let batch = entities(
        (0..3)
            .map(|i| json!({"identifier": format!("e{i}"), "blueprint": "svc", "properties": {}})),
    );
    port.entities()
        .bulk_upsert("svc", &batch, &OPTIONS)
        .await
        .unwrap();
    let ours = port
        .entities()
        .datasource_entities("port-ocean/azure-devops/", "/it/exporter", None)
        .await
        .unwrap();
    assert_eq!(ours.len(), 3);
    let deleted = port
        .entities()
        .bulk_delete("svc", &["e0".to_owned(), "e1".to_owned()], true)
        .await
        .unwrap();
    assert_eq!(deleted, ["e0", "e1"]);
    assert!(sim.state.entity("svc", "theirs").is_some());
}

#[tokio::test]
async fn a_blueprints_search_is_read_in_pages_of_1000_with_only_the_included_fields() {
    use futures::TryStreamExt;
    let sim = sim().await;
    let port = client(&sim, "sim-client-secret");
    let batch = entities((0..1001).map(|i| {
        json!({"identifier": format!("e{i:04}"), "blueprint": "svc", "title": format!("E {i}"),
            "properties": {"tier": "gold", "blob": "x"}})
    }));
    port.entities()
        .bulk_upsert("svc", &batch, &OPTIONS)
        .await
        .unwrap();
    // The listing gives keys only, as Port need not return more there.
    let listed = port
        .entities()
        .datasource_entities("port-ocean/azure-devops/", "/it/exporter", None)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1001);
    assert_eq!(
        listed[0],
        json!({"identifier": "e0000", "blueprint": "svc"})
    );

    let query = json!({"combinator": "and", "rules": [
        {"property": "$datasource", "operator": "contains", "value": "/it/exporter"}]});
    let pages: Vec<Vec<port_client::EntityText>> = port
        .entities()
        .search_blueprint("svc", &query, &["identifier", "properties.tier"])
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [1000, 1],
        "Port's largest page, then the rest"
    );
    assert_eq!(
        pages[1][0].value().unwrap(),
        json!({"identifier": "e1000", "properties": {"tier": "gold"}})
    );
    assert_eq!(
        sim.state
            .stats()
            .requests_to("POST /v1/blueprints/{bp}/entities/search"),
        2
    );
}

#[tokio::test]
async fn a_listing_answer_without_its_entities_is_an_error_not_an_empty_page() {
    let sim = sim().await;
    let port = client(&sim, "sim-client-secret");
    sim.state.inject_body(
        "/v1/blueprints/entities/datasource-entities",
        json!({"ok": true}),
        1,
    );
    let error = port
        .entities()
        .datasource_entities("port-ocean/azure-devops/", "/it/exporter", None)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("datasource-entities"), "{error}");
}
