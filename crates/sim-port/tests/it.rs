//! sim-port over real HTTP on 127.0.0.1: auth, limits, merge, ownership listing, dependents.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use serde_json::{Value, json};
use sim_port::{RunningSim, SimConfig};

struct Api {
    sim: RunningSim,
    http: reqwest::Client,
    token: String,
}

impl Api {
    async fn start() -> Self {
        let sim = sim_port::spawn(SimConfig::default()).await.unwrap();
        sim.state.put_blueprint(json!({"identifier": "team", "schema": {"properties": {"size": {"type": "number"}}}, "relations": {}}));
        sim.state.put_blueprint(json!({"identifier": "svc", "schema": {"properties": {"a": {"type": "string"}, "b": {"type": "string"}}},
            "relations": {"team": {"target": "team", "required": true, "many": false}}}));
        let http = reqwest::Client::builder()
            .user_agent("port-ocean/azure-devops/1/it/exporter")
            .build()
            .unwrap();
        let token: Value = http
            .post(format!("{}/v1/auth/access_token", sim.base_url()))
            .json(&json!({"clientId": "sim-client-id", "clientSecret": "sim-client-secret"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = token["accessToken"].as_str().unwrap().to_owned();
        Self { sim, http, token }
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.sim.base_url()))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401() {
    let api = Api::start().await;
    let response = api
        .http
        .post(format!("{}/v1/entities/search", api.sim.base_url()))
        .json(&json!({"rules": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers().contains_key("x-trace-id"));
}

#[tokio::test]
async fn more_than_twenty_entities_are_refused_and_merge_keeps_other_properties() {
    let api = Api::start().await;
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"identifier": format!("t{i}"), "properties": {}}))
        .collect();
    assert_eq!(
        api.post(
            "/v1/blueprints/team/entities/bulk?upsert=true",
            &json!({"entities": many})
        )
        .await
        .0,
        422
    );

    let q = "/v1/blueprints/svc/entities/bulk?upsert=true&merge=true&create_missing_related_entities=true";
    assert_eq!(api.post(q, &json!({"entities": [{"identifier": "s", "properties": {"a": "1"}, "relations": {"team": "t"}}]})).await.0, 200);
    assert_eq!(
        api.post(
            q,
            &json!({"entities": [{"identifier": "s", "properties": {"b": "2"}}]})
        )
        .await
        .0,
        200
    );
    let stored = api.sim.state.entity("svc", "s").unwrap();
    assert_eq!(stored["properties"], json!({"a": "1", "b": "2"}));
    assert!(
        api.sim.state.entity("team", "t").is_some(),
        "placeholder relation target created"
    );
    assert_eq!(
        api.sim.state.datasource_of("team", "t"),
        None,
        "placeholders belong to no integration"
    );
}

#[tokio::test]
async fn a_missing_related_entity_is_a_per_entity_404_without_create_missing() {
    let api = Api::start().await;
    let (status, body) = api
        .post(
            "/v1/blueprints/svc/entities/bulk?upsert=true",
            &json!({"entities": [{"identifier": "s", "relations": {"team": "nope"}}]}),
        )
        .await;
    assert_eq!(status, 207);
    assert_eq!(body["errors"][0]["statusCode"], 404);
}

#[tokio::test]
async fn the_datasource_listing_pages_and_filters_by_owner() {
    let api = Api::start().await;
    for i in 0..5 {
        api.post(
            "/v1/blueprints/team/entities/bulk?upsert=true",
            &json!({"entities": [{"identifier": format!("t{i}"), "properties": {}}]}),
        )
        .await;
    }
    api.sim.state.put_entity(
        json!({"identifier": "other", "blueprint": "team", "properties": {}, "relations": {}}),
        "port-ocean/github/1/x/exporter",
    );
    let filter = json!({"datasource_prefix": "port-ocean/azure-devops/", "datasource_suffix": "/it/exporter", "limit": 2});
    let (_, first) = api
        .post("/v1/blueprints/entities/datasource-entities", &filter)
        .await;
    assert_eq!(first["entities"].as_array().unwrap().len(), 2);
    let mut next = filter.clone();
    next["from"] = first["next"].clone();
    next["limit"] = json!(10);
    let (_, rest) = api
        .post("/v1/blueprints/entities/datasource-entities", &next)
        .await;
    assert_eq!(rest["entities"].as_array().unwrap().len(), 3);
    assert!(rest.get("next").is_none());
    let mut before = filter.clone();
    before["before"] = json!("2000-01-01T00:00:00Z");
    assert_eq!(
        api.post("/v1/blueprints/entities/datasource-entities", &before)
            .await
            .1["entities"],
        json!([])
    );
}

#[tokio::test]
async fn deleting_a_required_target_needs_delete_dependents() {
    let api = Api::start().await;
    let q = "/v1/blueprints/svc/entities/bulk?upsert=true&create_missing_related_entities=true";
    api.post(
        q,
        &json!({"entities": [{"identifier": "s", "relations": {"team": "t"}}]}),
    )
    .await;
    let (_, refused) = api
        .post(
            "/v1/blueprints/team/bulk/entities/delete",
            &json!({"entities": ["t"]}),
        )
        .await;
    assert_eq!(refused["deletedEntities"], json!([]));
    let (_, done) = api
        .post(
            "/v1/blueprints/team/bulk/entities/delete?delete_dependents=true",
            &json!({"entities": ["t"]}),
        )
        .await;
    assert_eq!(done["deletedEntities"], json!(["t"]));
    assert!(
        api.sim.state.entity("svc", "s").is_none(),
        "the dependent went too"
    );
}

#[tokio::test]
async fn search_honours_rules_and_include() {
    let api = Api::start().await;
    api.post("/v1/blueprints/team/entities/bulk?upsert=true", &json!({"entities": [{"identifier": "a", "properties": {"size": 3}}, {"identifier": "b", "properties": {"size": 5}}]})).await;
    let query = json!({"combinator": "and", "rules": [{"property": "$blueprint", "operator": "=", "value": "team"}, {"property": "size", "operator": "=", "value": 5}]});
    let (_, found) = api
        .post("/v1/entities/search?include=identifier", &query)
        .await;
    assert_eq!(found["entities"], json!([{"identifier": "b"}]));
}

#[tokio::test]
async fn a_search_relation_is_resolved_and_numbers_are_stored_as_javascript_reads_them() {
    let api = Api::start().await;
    let bulk = |entities: Value| json!({ "entities": entities });
    let (status, _) = api
        .post(
            "/v1/blueprints/team/entities/bulk?upsert=true",
            &bulk(
                json!([{"identifier": "t1", "title": "Core", "properties": {"size": 4.0}},
                {"identifier": "t2", "title": "Web", "properties": {"size": 2.5}}]),
            ),
        )
        .await;
    assert_eq!(status, 200);
    let search = json!({"combinator": "and", "rules": [{"property": "$title", "operator": "=", "value": "Web"}]});
    let (status, body) = api
        .post(
            "/v1/blueprints/svc/entities/bulk?upsert=true",
            &bulk(json!([{"identifier": "s1", "properties": {}, "relations": {"team": search}}])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let stored = |bp: &str, id: &str| {
        api.sim
            .state
            .entities()
            .into_iter()
            .find(|e| e["blueprint"] == bp && e["identifier"] == id)
            .unwrap()
    };
    assert_eq!(stored("svc", "s1")["relations"]["team"], "t2");
    assert_eq!(stored("team", "t1")["properties"]["size"].to_string(), "4");
    assert_eq!(
        stored("team", "t2")["properties"]["size"].to_string(),
        "2.5"
    );
    // A search matching nothing is a missing required relation.
    let none = json!({"combinator": "and", "rules": [{"property": "$title", "operator": "=", "value": "Nobody"}]});
    let (_, body) = api
        .post(
            "/v1/blueprints/svc/entities/bulk?upsert=true",
            &bulk(json!([{"identifier": "s2", "properties": {}, "relations": {"team": none}}])),
        )
        .await;
    assert!(body["errors"][0]["message"].as_str().is_some(), "{body}");
}
