//! End-to-end resync tests: a scripted integration → the real pipeline → sim-port over HTTP on
//! 127.0.0.1, inspected through the simulator's state.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on broken fixtures"
)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use futures::{StreamExt, stream};
use mapping::{CompileOptions, MappingPlan, PortAppConfig, SelectorConfig};
use ocean::{
    Integration, PageStream,
    resync::{Resync, ResyncReport, ResyncSettings, reconcile::SkipReason},
};
use serde_json::{Value, json};
use testkit::PortEnv;

mod examples;
mod kafka;
mod live_timeout;
mod ordering;
mod overlap;
mod progress;
mod relations;
mod sync_status;
mod text_items;

const BULK: &str = "POST /v1/blueprints/{bp}/entities/bulk";

/// A fetch failure scripted by a test.
#[derive(Debug, thiserror::Error)]
#[error("scripted fetch failure")]
struct ScriptedFailure;

/// Pages of one kind; `None` is a page whose fetch fails.
type Pages = Vec<Option<Vec<Value>>>;

/// Pages per kind, replaceable between resyncs.
#[derive(Default, Clone)]
struct Script(Arc<Mutex<HashMap<String, Pages>>>);

impl Script {
    fn set(&self, kind: &str, pages: Pages) {
        self.0.lock().unwrap().insert(kind.to_owned(), pages);
    }

    /// One page of the projects `ids`, and no repository nor work item.
    fn only_projects(&self, ids: &[&str]) {
        self.set("project", vec![Some(projects(ids))]);
        self.set("repository", vec![]);
        self.set("work-item", vec![]);
    }
}

impl Integration for Script {
    type Error = ScriptedFailure;

    fn fetch(&self, kind: &str, _selector: &SelectorConfig) -> Option<PageStream<ScriptedFailure>> {
        let pages = self.0.lock().unwrap().get(kind)?.clone();
        Some(
            stream::iter(
                pages
                    .into_iter()
                    .map(|p| p.map(scripted_page).ok_or(ScriptedFailure)),
            )
            .boxed(),
        )
    }
}

/// A scripted page: its items, or a part the integration could not read when the page is
/// `[{"__skipped": reason}]`, or items as JSON text (`{"value": [...]}`) when it is
/// `[{"__json": text}]`.
fn scripted_page(items: Vec<Value>) -> ocean::Page {
    match items.as_slice() {
        [only] if only.get("__skipped").is_some() => {
            ocean::Page::skipping(only["__skipped"].as_str().unwrap_or_default())
        }
        [only] if only.get("__json").is_some() => {
            let text = only["__json"].as_str().unwrap_or_default().to_owned();
            let items = ocean::JsonItems::from_list(text.into(), "value").unwrap();
            ocean::Page {
                items: items.into(),
                ..ocean::Page::default()
            }
        }
        _ => ocean::Page::from(items),
    }
}

const MAPPING: &str = r#"
deleteDependentEntities: true
createMissingRelatedEntities: true
resources:
  - kind: project
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .id
          title: .name
          blueprint: '"azureDevopsProject"'
          properties:
            state: .state
  - kind: repository
    selector:
      query: '.name != "skip-me"'
    port:
      entity:
        mappings:
          identifier: .id
          title: .name
          blueprint: '"azureDevopsRepository"'
          properties:
            url: .url
          relations:
            project: .project
  - kind: work-item
    port:
      entity:
        mappings:
          identifier: .id | tostring
          title: .title
          blueprint: '"azureDevopsWorkItem"'
          properties:
            type: .type
          relations:
            project: .project
            column: '"column-1"'
"#;

fn projects(ids: &[&str]) -> Vec<Value> {
    ids.iter()
        .map(|id| json!({"id": id, "name": format!("Project {id}"), "state": "wellFormed"}))
        .collect()
}

fn repos(ids: &[&str], project: &str) -> Vec<Value> {
    ids.iter()
        .map(|id| json!({"id": id, "name": id, "url": format!("https://example.com/{id}"), "project": project}))
        .collect()
}

/// sim-port and a resync of `mapping` reading from `script` (by default a [`Script`]).
struct Harness<I = Script> {
    env: PortEnv,
    script: Arc<I>,
    resync: Resync<I>,
}

impl Harness {
    async fn new(mapping: &str) -> Self {
        Self::with(Script::default(), mapping).await
    }
}

impl<I: Integration> Harness<I> {
    async fn with(integration: I, mapping: &str) -> Self {
        let env = PortEnv::start().await.expect("sim-port starts");
        let script = Arc::new(integration);
        let app_config = PortAppConfig::from_yaml(mapping).expect("mapping parses");
        let plan = MappingPlan::compile(&app_config, &CompileOptions::default())
            .expect("mapping compiles");
        let resync = Resync {
            port: env.client("it"),
            integration: Arc::clone(&script),
            app_config: Arc::new(app_config),
            plan: Arc::new(plan),
            installation: testkit::installation("it"),
            settings: ResyncSettings::default(),
        };
        Self {
            env,
            script,
            resync,
        }
    }

    async fn run(&self) -> ResyncReport {
        self.resync.run().await
    }

    fn has(&self, blueprint: &str, identifier: &str) -> bool {
        self.env.sim.state.entity(blueprint, identifier).is_some()
    }
}

#[tokio::test]
async fn second_resync_of_unchanged_data_makes_no_upsert_call() {
    let h = Harness::new(MAPPING).await;
    h.script.set("project", vec![Some(projects(&["p1", "p2"]))]);
    h.script.set(
        "repository",
        vec![Some(repos(&["r1", "r2"], "p1")), Some(repos(&["r3"], "p2"))],
    );
    h.script.set("work-item", vec![]);
    let first = h.run().await;
    assert!(first.succeeded(), "{first}");
    assert_eq!(first.total_upserted(), 5);
    assert!(h.env.sim.state.stats().requests_to(BULK) > 0);

    h.env.sim.state.reset_stats();
    let second = h.run().await;
    assert!(second.succeeded(), "{second}");
    assert_eq!(second.total_upserted(), 0);
    assert_eq!(
        second.resources.iter().map(|r| r.unchanged).sum::<usize>(),
        5
    );
    assert_eq!(h.env.sim.state.stats().requests_to(BULK), 0);
    assert_eq!(second.deletion.total_deleted(), 0);
    // The listing gives keys only (sim-port answers like Port's own mock); the compared fields
    // come from one paginated search per blueprint.
    let stats = h.env.sim.state.stats();
    assert_eq!(
        stats.requests_to("POST /v1/blueprints/entities/datasource-entities"),
        1
    );
    assert_eq!(
        stats.requests_to("POST /v1/blueprints/{bp}/entities/search"),
        2
    );
}

#[tokio::test]
async fn when_two_items_map_to_one_identifier_the_later_one_wins_every_time() {
    let h = Harness::new(MAPPING).await;
    let mut first_page = projects(&["p1"]);
    first_page[0]["name"] = json!("first");
    let others: Vec<String> = (0..60).map(|i| format!("x{i}")).collect();
    let others: Vec<&str> = others.iter().map(String::as_str).collect();
    first_page.extend(projects(&others[..30]));
    let mut second_page = projects(&others[30..]);
    let mut later = projects(&["p1"]);
    later[0]["name"] = json!("second");
    second_page.extend(later);
    h.script
        .set("project", vec![Some(first_page), Some(second_page)]);
    h.script.set("repository", vec![]);
    h.script.set("work-item", vec![]);
    for run in 0..3 {
        let report = h.run().await;
        assert!(report.succeeded(), "{report}");
        assert_eq!(report.resources[0].duplicates, 1);
        let stored = h.env.sim.state.entity("azureDevopsProject", "p1").unwrap();
        assert_eq!(stored["title"], json!("second"), "resync {run}");
    }

    // A duplicate identical to the earlier item is not written again.
    let same = projects(&["p1", "p1"]);
    h.script.set("project", vec![Some(same.clone())]);
    h.run().await;
    h.env.sim.state.reset_stats();
    let report = h.run().await;
    assert_eq!(report.resources[0].duplicates, 1);
    assert_eq!(h.env.sim.state.stats().requests_to(BULK), 0);
}

#[tokio::test]
async fn a_changed_entity_is_the_only_one_written_again() {
    let h = Harness::new(MAPPING).await;
    h.script.only_projects(&["p1", "p2"]);
    h.run().await;
    let mut changed = projects(&["p1", "p2"]);
    changed[1]["state"] = json!("deleting");
    h.script.set("project", vec![Some(changed)]);
    let report = h.run().await;
    assert_eq!(
        (report.resources[0].upserted, report.resources[0].unchanged),
        (1, 1)
    );
    let stored = h.env.sim.state.entity("azureDevopsProject", "p2").unwrap();
    assert_eq!(stored["properties"]["state"], "deleting");
}

#[tokio::test]
async fn a_value_that_became_null_is_cleared_and_a_field_the_mapping_does_not_write_is_ignored() {
    let h = Harness::new(MAPPING).await;
    h.script.only_projects(&["p1", "p2"]);
    h.run().await;
    // Someone sets a property in Port's UI that the mapping does not write: not a change.
    let state = &h.env.sim.state;
    let mut p1 = state.entity("azureDevopsProject", "p1").unwrap();
    p1["properties"]["owner"] = json!("set in Port");
    let datasource = state.datasource_of("azureDevopsProject", "p1").unwrap();
    state.put_entity(p1, &datasource);
    // p2's state is gone at the source: Port's copy must lose it too (Ocean writes the null).
    let mut changed = projects(&["p1", "p2"]);
    changed[1]["state"] = Value::Null;
    h.script.set("project", vec![Some(changed)]);
    let report = h.run().await;
    assert_eq!(
        (report.resources[0].upserted, report.resources[0].unchanged),
        (1, 1)
    );
    let p2 = state.entity("azureDevopsProject", "p2").unwrap();
    assert!(
        p2["properties"].get("state").is_none_or(Value::is_null),
        "{p2}"
    );
    let p1 = state.entity("azureDevopsProject", "p1").unwrap();
    assert_eq!(p1["properties"]["owner"], "set in Port");
}

#[tokio::test]
async fn a_failed_kind_deletes_nothing_while_other_kinds_reconcile() {
    let h = Harness::new(MAPPING).await;
    h.script
        .set("project", vec![Some(projects(&["p1", "p2", "p3"]))]);
    h.script
        .set("repository", vec![Some(repos(&["r1", "r2", "r3"], "p1"))]);
    h.script.set("work-item", vec![]);
    assert!(h.run().await.succeeded());

    // p3 disappears from the projects; the repository fetch fails after its first page.
    h.script.set("project", vec![Some(projects(&["p1", "p2"]))]);
    h.script
        .set("repository", vec![Some(repos(&["r1"], "p1")), None]);
    let report = h.run().await;
    assert!(!report.succeeded());
    assert!(
        report.resources[1]
            .failure
            .as_deref()
            .unwrap()
            .contains("fetch failed")
    );
    assert!(
        !h.has("azureDevopsProject", "p3"),
        "the clean kind reconciled"
    );
    assert!(h.has("azureDevopsRepository", "r2") && h.has("azureDevopsRepository", "r3"));
    assert!(
        report
            .deletion
            .skipped
            .iter()
            .any(|s| matches!(s, SkipReason::KindFailed { .. }))
    );
    assert_eq!(report.deletion.total_deleted(), 1);
}

/// Issue 13: a part of a kind that cannot be read (upstream: one team's boards answering 500)
/// does not fail the kind: what was read is written, and its blueprint is not cleaned up.
#[tokio::test]
async fn a_partly_read_kind_writes_what_it_read_and_deletes_nothing() {
    let h = Harness::new(MAPPING).await;
    h.script.set("project", vec![Some(projects(&["p1", "p2"]))]);
    h.script
        .set("repository", vec![Some(repos(&["r1", "r2", "r3"], "p1"))]);
    h.script.set("work-item", vec![]);
    assert!(h.run().await.succeeded());

    let mut changed = repos(&["r1"], "p1");
    changed[0]["url"] = json!("https://example.com/moved");
    let skipped = vec![json!({"__skipped": "repositories of project p2: HTTP 500"})];
    h.script
        .set("repository", vec![Some(changed), Some(skipped)]);
    let report = h.run().await;
    assert!(
        report.succeeded(),
        "a partial read is not a failure: {report}"
    );
    assert_eq!(
        report.resources[1].skipped_parts,
        ["repositories of project p2: HTTP 500"]
    );
    assert_eq!(report.resources[1].upserted, 1, "what was read is written");
    let r1 = h
        .env
        .sim
        .state
        .entity("azureDevopsRepository", "r1")
        .unwrap();
    assert_eq!(r1["properties"]["url"], json!("https://example.com/moved"));
    assert!(
        h.has("azureDevopsRepository", "r2") && h.has("azureDevopsRepository", "r3"),
        "nothing of the blueprint is deleted"
    );
    assert!(report.to_string().contains("partial"), "{report}");
}

#[tokio::test]
async fn mass_deletion_above_the_threshold_is_refused_and_reported() {
    let h = Harness::new(MAPPING).await;
    let ids: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    h.script.set("project", vec![Some(projects(&refs))]);
    h.script.set("repository", vec![]);
    h.script.set("work-item", vec![]);
    h.run().await;

    h.script.set("project", vec![Some(vec![])]);
    let report = h.run().await;
    assert_eq!(report.deletion.total_deleted(), 0);
    assert!(
        report
            .deletion
            .skipped
            .iter()
            .any(|s| matches!(s, SkipReason::ThresholdExceeded { .. }))
    );
    assert_eq!(h.env.sim.state.entities().len(), 10);
}

#[tokio::test]
async fn rejected_entities_are_reported_with_ports_reason_and_are_not_fatal() {
    let h = Harness::new(MAPPING).await;
    h.script.set("project", vec![Some(projects(&["p1"]))]);
    h.script.set("repository", vec![]);
    h.script.set(
        "work-item",
        vec![Some(vec![
            json!({"id": 1, "title": "ok", "type": "Bug", "project": "p1"}),
            json!({"id": 2, "title": "not in the enum", "type": "Feature", "project": "p1"}),
        ])],
    );
    let report = h.run().await;
    let items = &report.resources[2];
    assert_eq!((items.upserted, items.rejected), (1, 1));
    assert_eq!(items.rejections[0].identifier, "2");
    assert!(items.rejections[0].status >= 400);
    assert!(!items.rejections[0].reason.is_empty());
    assert!(
        items.failure.is_none(),
        "a rejection is reported, not a failed fetch"
    );
    assert!(h.has("azureDevopsWorkItem", "1"));
}

#[tokio::test]
async fn an_unsupported_kind_fails_its_resource_only() {
    let h = Harness::new(MAPPING).await;
    h.script.set("project", vec![Some(projects(&["p1"]))]);
    // "repository" and "work-item" are not scripted: the integration does not know them.
    let report = h.run().await;
    assert!(report.resources[0].failure.is_none());
    assert!(
        report.resources[1]
            .failure
            .as_deref()
            .unwrap()
            .contains("not supported")
    );
    assert!(h.has("azureDevopsProject", "p1"));
}

/// A runner over `script` with the test mapping as a local file.
fn local_runner(env: &PortEnv, script: &Script, id: &str) -> ocean::runner::Runner<Script> {
    ocean::runner::Runner::new(env.client(id), Arc::new(script.clone()), local_settings(id))
}

/// The settings of [`local_runner`].
fn local_settings(id: &str) -> ocean::runner::RunnerSettings {
    ocean::runner::RunnerSettings {
        installation: testkit::installation(id),
        local_mapping: Some((
            "test mapping".into(),
            PortAppConfig::from_yaml(MAPPING).unwrap(),
        )),
        default_mapping: None,
        jq_env: None,
        scheduled_interval_minutes: None,
        resync: ResyncSettings::default(),
        record: ocean::defaults::RecordFields::default(),
        heartbeat_every: std::time::Duration::from_secs(10),
        incremental_interval: None,
    }
}

#[tokio::test]
async fn a_listener_change_updates_the_records_changelog_destination_once() {
    use ocean::{
        config::ListenerKind,
        defaults::{DefaultResources, Initialized, RecordFields, initialize},
    };
    let sim = sim_port::spawn(sim_port::SimConfig::default())
        .await
        .unwrap();
    let client = testkit::client(&sim, "hooked");
    let defaults = DefaultResources {
        port_app_config: serde_json::json!({"resources": []}),
        blueprints: Vec::new(),
        scorecards: Vec::new(),
        pages: Vec::new(),
    };
    let webhook = ListenerKind::Webhook {
        app_host: Some("https://ado.example.com/".parse().unwrap()),
    }
    .changelog_destination();
    assert_eq!(
        webhook,
        serde_json::json!({"type": "WEBHOOK", "url": "https://ado.example.com/resync"})
    );
    let patches = || sim.state.stats().requests_to("PATCH /v1/integration/{id}");
    let record = |sim: &sim_port::RunningSim| {
        sim.state.integration("hooked").unwrap()["changelogDestination"].clone()
    };

    // First start with POLLING: Port is not to notify anyone.
    let who = testkit::installation("hooked");
    let first = initialize(
        &client,
        &who,
        &RecordFields::default(),
        &defaults,
        false,
        None,
    )
    .await
    .unwrap();
    assert_eq!(first, Initialized::Disabled);
    assert_eq!(record(&sim), serde_json::json!({}));
    assert_eq!(patches(), 0);

    // Restarted with WEBHOOK: the record now says where to send resync requests, once.
    let mut fields = RecordFields {
        changelog_destination: webhook.clone(),
        actions_processing_enabled: false,
    };
    for _ in 0..2 {
        initialize(&client, &who, &fields, &defaults, false, None)
            .await
            .unwrap();
    }
    assert_eq!(record(&sim), webhook);
    assert_eq!(patches(), 1, "an up-to-date record is not written");

    // Restarted with the actions processor: Port learns that this installation runs actions.
    fields.actions_processing_enabled = true;
    initialize(&client, &who, &fields, &defaults, false, None)
        .await
        .unwrap();
    let stored = sim.state.integration("hooked").unwrap();
    assert_eq!(stored["actionsProcessingEnabled"], serde_json::json!(true));
    assert_eq!(patches(), 2);
}

/// Resync-state reports (`running` + `completed`/`failed`) Port received: two per resync.
fn state_patches(env: &PortEnv) -> u64 {
    env.sim
        .state
        .stats()
        .requests_to("PATCH /v1/integration/{id}/resync-state")
}

#[tokio::test(start_paused = true)]
async fn polling_resyncs_on_start_and_on_each_new_request_from_port() {
    use ocean::{
        config::{ListenerKind, ListenerSettings},
        listener::{self, Outcome},
    };
    let env = PortEnv::start().await.unwrap();
    let script = Script::default();
    script.only_projects(&["p1"]);
    let runner = local_runner(&env, &script, "poller");
    let kind = ListenerKind::Polling {
        interval: std::time::Duration::from_mins(1),
        resync_on_start: true,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sim = Arc::clone(&env.sim.state);
    let driver = async {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        assert_eq!(state_patches(&env), 2, "one resync at start");
        tokio::time::sleep(std::time::Duration::from_mins(1)).await;
        assert_eq!(state_patches(&env), 2, "no request, no resync");
        script.set("project", vec![Some(projects(&["p1", "p2"]))]);
        sim.request_resync("poller");
        tokio::time::sleep(std::time::Duration::from_mins(1)).await;
        assert_eq!(state_patches(&env), 4, "one resync for the request");
        assert!(env.sim.state.entity("azureDevopsProject", "p2").is_some());
        stop.send(()).unwrap();
    };
    let triggers = tokio::sync::Notify::new();
    let listening = ListenerSettings::new(kind);
    let listen = listener::run(&runner, &listening, None, &triggers, async {
        let _ = stopped.await;
    });
    let (outcome, ()) = tokio::join!(listen, driver);
    assert!(matches!(outcome.unwrap(), Outcome::Stopped(Some(_))));
}

#[tokio::test(start_paused = true)]
async fn with_should_resync_false_polling_stops_and_the_schedule_still_runs() {
    use ocean::{
        config::{ListenerKind, ListenerSettings},
        listener::{self, Outcome},
    };
    let env = PortEnv::start().await.unwrap();
    let script = Script::default();
    script.only_projects(&["p1"]);
    let runner = local_runner(&env, &script, "quiet");
    let mut listening = ListenerSettings::new(ListenerKind::Polling {
        interval: std::time::Duration::from_secs(10),
        resync_on_start: true,
    });
    listening.should_resync = false;
    env.sim.state.request_resync("quiet");
    let polls = || {
        env.sim
            .state
            .stats()
            .requests_to("GET /v1/integration/{id}/resync-request")
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let driver = async {
        // The scheduled resync (after 1 minute) is the only one: none at start, and Port's
        // pending request is read once and never polled for in six poll intervals.
        while state_patches(&env) < 2 {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        assert_eq!(polls(), 1);
        stop.send(()).unwrap();
    };
    let started = tokio::time::Instant::now();
    let triggers = tokio::sync::Notify::new();
    let scheduled = Some(std::time::Duration::from_mins(1));
    let listen = listener::run(&runner, &listening, scheduled, &triggers, async {
        let _ = stopped.await;
    });
    let (outcome, ()) = tokio::join!(listen, driver);
    assert!(matches!(outcome.unwrap(), Outcome::Stopped(Some(_))));
    assert!(started.elapsed() >= std::time::Duration::from_mins(1));
    assert_eq!(state_patches(&env), 2);
}

#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "one first-start scenario, step by step"
)]
async fn default_resources_are_created_once_in_oceans_order_and_never_over_existing_blueprints() {
    use ocean::defaults::{DefaultResources, Initialized, initialize};
    let sim = sim_port::spawn(sim_port::SimConfig::default())
        .await
        .unwrap();
    let client = |id: &str| testkit::client(&sim, id);
    let json = |path: &str| serde_json::from_str(&testkit::fixture(path)).unwrap();
    let defaults = DefaultResources {
        port_app_config: serde_json::to_value(PortAppConfig::from_yaml(MAPPING).unwrap()).unwrap(),
        blueprints: testkit::default_blueprints(),
        scorecards: json("port/azure-devops-scorecards.json"),
        pages: json("port/azure-devops-pages.json"),
    };

    let first = initialize(
        &client("one"),
        &testkit::installation("one"),
        &ocean::defaults::RecordFields::default(),
        &defaults,
        true,
        None,
    )
    .await
    .unwrap();
    assert_eq!(first, Initialized::Created);
    let work_items = client("one")
        .blueprints()
        .get("azureDevopsWorkItem")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        work_items["relations"]["column"]["target"], "azureDevopsColumn",
        "phase 2 added relations"
    );
    let record = sim.state.integration("one").unwrap();
    assert_eq!(record["arePortResourcesInitialized"], true);
    let scorecards = sim.state.scorecards();
    assert_eq!(
        scorecards.len(),
        1,
        "sim-port checked its rules' properties"
    );
    assert_eq!(scorecards[0].0, "azureDevopsRepository");
    assert_eq!(scorecards[0].1["identifier"], "ProductionReadiness");
    let pages: Vec<Value> = sim
        .state
        .pages()
        .iter()
        .map(|p| p["identifier"].clone())
        .collect();
    assert_eq!(
        pages,
        [
            json!("azureDevops-Service-Dashboard"),
            json!("azureDevopsProductionReadinessDashboard")
        ]
    );
    assert_eq!(record["config"]["resources"][0]["kind"], "project");

    sim.state.reset_stats();
    assert_eq!(
        initialize(
            &client("one"),
            &testkit::installation("one"),
            &ocean::defaults::RecordFields::default(),
            &defaults,
            true,
            None
        )
        .await
        .unwrap(),
        Initialized::AlreadyDone
    );
    assert_eq!(sim.state.stats().requests_to("POST /v1/blueprints"), 0);

    // Another installation finds the blueprints already there and leaves them alone.
    assert_eq!(
        initialize(
            &client("two"),
            &testkit::installation("two"),
            &ocean::defaults::RecordFields::default(),
            &defaults,
            true,
            None
        )
        .await
        .unwrap(),
        Initialized::BlueprintsExisted
    );
    assert_eq!(sim.state.stats().requests_to("POST /v1/blueprints"), 0);
    assert_eq!(
        sim.state.stats().requests_to("PATCH /v1/blueprints/{bp}"),
        0
    );
    assert_eq!(sim.state.stats().requests_to("POST /v1/pages"), 0);

    // With initializePortResources false only the record is created, with an empty mapping.
    assert_eq!(
        initialize(
            &client("three"),
            &testkit::installation("three"),
            &ocean::defaults::RecordFields::default(),
            &defaults,
            false,
            None
        )
        .await
        .unwrap(),
        Initialized::Disabled
    );
    assert_eq!(sim.state.integration("three").unwrap()["config"], json!({}));
}

#[tokio::test(start_paused = true)]
async fn the_empty_and_port_origins_create_no_resources_here() {
    use ocean::defaults::{DefaultResources, Initialized, Origin, initialize};
    let sim = sim_port::spawn(sim_port::SimConfig::default())
        .await
        .unwrap();
    let client = |id: &str| testkit::client(&sim, id);
    let defaults = DefaultResources {
        port_app_config: serde_json::to_value(PortAppConfig::from_yaml(MAPPING).unwrap()).unwrap(),
        blueprints: testkit::default_blueprints(),
        ..DefaultResources::default()
    };
    let empty = initialize(
        &client("e"),
        &testkit::installation("e"),
        &ocean::defaults::RecordFields::default(),
        &defaults,
        true,
        Some(Origin::Empty),
    )
    .await
    .unwrap();
    assert_eq!(empty, Initialized::Empty);
    let record = sim.state.integration("e").unwrap();
    assert_eq!(record["config"], json!({"resources": []}));
    assert_eq!(record["arePortResourcesInitialized"], true);

    // Port provisions the mapping a while after the record is created; we wait for it.
    let provisioner = {
        let port = client("p");
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
            port.integration()
                .patch_config("p", &json!({"resources": [{"kind": "project"}]}))
                .await
                .unwrap();
        })
    };
    let started = tokio::time::Instant::now();
    let port = initialize(
        &client("p"),
        &testkit::installation("p"),
        &ocean::defaults::RecordFields::default(),
        &defaults,
        true,
        Some(Origin::Port),
    )
    .await
    .unwrap();
    provisioner.await.unwrap();
    assert_eq!(port, Initialized::ProvisionedByPort);
    assert!(started.elapsed() >= std::time::Duration::from_secs(10));
    assert_eq!(
        sim.state.integration("p").unwrap()["createPortResourcesOrigin"],
        "Port"
    );
    assert_eq!(sim.state.stats().requests_to("POST /v1/blueprints"), 0);
}

#[tokio::test(start_paused = true)]
async fn resync_requests_coalesce_into_one_follow_up_never_a_stack() {
    use ocean::{
        config::{ListenerKind, ListenerSettings},
        listener,
    };
    let env = PortEnv::start().await.unwrap();
    let script = Script::default();
    script.only_projects(&["p1"]);
    let runner = local_runner(&env, &script, "hooked");
    let kind = ListenerKind::Webhook { app_host: None };
    let triggers = tokio::sync::Notify::new();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let driver = async {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        assert_eq!(state_patches(&env), 0, "WEBHOOK does not resync on start");
        // Ten POST /resync in a burst: the first starts a resync, the nine others arrive
        // before it is done and coalesce into one follow-up.
        for _ in 0..10 {
            triggers.notify_one();
        }
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        assert_eq!(state_patches(&env), 4, "ten requests, two resyncs");
        triggers.notify_one();
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        assert_eq!(state_patches(&env), 6, "a later request, one more");
        stop.send(()).unwrap();
    };
    let listening = ListenerSettings::new(kind);
    let listen = listener::run(&runner, &listening, None, &triggers, async {
        let _ = stopped.await;
    });
    let (outcome, ()) = tokio::join!(listen, driver);
    assert!(matches!(outcome.unwrap(), listener::Outcome::Stopped(_)));
}
