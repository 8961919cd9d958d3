//! Real time end to end: sim-ado's service hooks → our HTTP server → live processing →
//! sim-port, all over HTTP on 127.0.0.1.

use std::{net::SocketAddr, sync::Arc};

use ado_kinds::{
    AzureDevops,
    webhooks::{
        AdoLive,
        subscriptions::{self, Settings},
    },
};
use futures::FutureExt;
use mapping::{CompileOptions, MappingPlan, PortAppConfig};
use ocean::{
    live::{Live, Queue},
    resync::{Resync, ResyncSettings},
    server::{self, ServerState},
};
use secrecy::SecretString;
use serde_json::{Value, json};
use sim_ado::{SimConfig, Sizes};
use testkit::PortEnv;

use crate::harness::{client, eventually, serving};

const SECRET: &str = "hook-s3cret";

fn default_mapping() -> (Arc<PortAppConfig>, Arc<MappingPlan>) {
    let app_config = Arc::new(ado_kinds::defaults::default_mapping().unwrap());
    let plan = Arc::new(MappingPlan::compile(&app_config, &CompileOptions::default()).unwrap());
    (app_config, plan)
}

/// The default mapping plus a `branch` resource (`fixtures/mappings/azure-devops-branches.yaml`).
fn mapping_with_branches() -> (Arc<PortAppConfig>, Arc<MappingPlan>) {
    let mut app_config = ado_kinds::defaults::default_mapping().unwrap();
    let branches =
        PortAppConfig::from_yaml(&testkit::fixture("mappings/azure-devops-branches.yaml")).unwrap();
    app_config.resources.extend(branches.resources);
    let plan = Arc::new(MappingPlan::compile(&app_config, &CompileOptions::default()).unwrap());
    (Arc::new(app_config), plan)
}

/// Our HTTP server on 127.0.0.1 with live processing (4 workers, `capacity` events each)
/// writing to `port` as installation `id`, with the default mapping.
async fn serve(
    events: Arc<AdoLive>,
    port: &PortEnv,
    id: &str,
    capacity: usize,
) -> (SocketAddr, Queue) {
    serve_with(events, port, id, capacity, default_mapping()).await
}

/// As [`serve`], with `mapping` as the live mapping.
async fn serve_with(
    events: Arc<AdoLive>,
    port: &PortEnv,
    id: &str,
    capacity: usize,
    mapping: (Arc<PortAppConfig>, Arc<MappingPlan>),
) -> (SocketAddr, Queue) {
    let loader: ocean::live::MappingLoader = Arc::new(move || {
        let mapping = mapping.clone();
        async move { Ok(mapping) }.boxed()
    });
    let live = Live::new(
        Arc::clone(&events),
        port.client(id),
        testkit::installation(id),
        loader,
        std::time::Duration::from_secs(90),
    );
    let (queue, workers) = live.start(4, capacity);
    let state = ServerState {
        live: Some((events, queue.clone())),
        health: serving(),
        metrics: None,
        resync: None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // The workers live as long as the server.
        let _workers = workers;
        axum::serve(listener, server::router(None, state))
            .await
            .unwrap();
    });
    (addr, queue)
}

#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "one real-time scenario, step by step"
)]
async fn service_hook_events_update_port_and_subscriptions_are_idempotent() {
    let ado = sim_ado::spawn(SimConfig {
        sizes: Sizes {
            projects: 2,
            repositories: 2,
            work_items: 6,
            releases: 1,
            pull_requests: 0,
            pipelines: 0,
            teams: 1,
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let port = PortEnv::start().await.unwrap();
    let client = client(&ado);
    let (app_config, plan) = default_mapping();
    let resync = Resync {
        port: port.client("live"),
        integration: Arc::new(AzureDevops::new(client.clone())),
        app_config: Arc::clone(&app_config),
        plan: Arc::clone(&plan),
        installation: testkit::installation("live"),
        settings: ResyncSettings::default(),
    };
    assert!(resync.run().await.succeeded());

    // Our server, with live processing behind it.
    let events = AdoLive::new(client.clone(), Some(&SecretString::from(SECRET)));
    let (addr, queue) = serve(events, &port, "live", 100).await;

    // Subscriptions: 23 per project, created once.
    let settings = |secret: &str| Settings {
        app_host: format!("http://{addr}").parse().unwrap(),
        username: "port".into(),
        secret: Some(SecretString::from(secret.to_owned())),
        projects_limited: true,
        fingerprint_key: SecretString::from("sim-pat"),
        excluded_tags: Vec::new(),
    };
    let first = subscriptions::ensure(&client, &settings(SECRET))
        .await
        .unwrap();
    assert_eq!((first.created, first.kept), (46, 0), "{first:?}");
    let again = subscriptions::ensure(&client, &settings(SECRET))
        .await
        .unwrap();
    assert_eq!((again.created, again.kept), (0, 46), "restart creates none");

    // A changed work item reaches Port through its workitem.updated event.
    let project = "00000001-0000-4000-8000-000000000000";
    let id = ado.state.work_item_ids(0)[0];
    let entity_id = format!("{project}/{id}");
    assert!(
        ado.state
            .update_work_item(id, "System.Title", json!("Live title"))
    );
    eventually("the work item title is in Port", || {
        port.sim
            .state
            .entity("azureDevopsWorkItem", &entity_id)
            .is_some_and(|e| e["title"] == "Live title")
    })
    .await;

    // A deleted work item is deleted; a new repository appears.
    assert!(ado.state.delete_work_item(id));
    eventually("the work item is gone from Port", || {
        port.sim
            .state
            .entity("azureDevopsWorkItem", &entity_id)
            .is_none()
    })
    .await;
    let repo = ado.state.add_repository(1, "born-live").unwrap();
    eventually("the new repository is in Port", || {
        port.sim
            .state
            .entity("azureDevopsRepository", &repo)
            .is_some_and(|e| e["title"] == "born-live")
    })
    .await;
    // A new release arrives through ms.vss-release.release-created-event.
    let release = format!("{project}/{}", ado.state.add_release(0).unwrap());
    eventually("the new release is in Port", || {
        port.sim
            .state
            .entity("azureDevopsRelease", &release)
            .is_some()
    })
    .await;
    assert_eq!(ado.state.deliveries().1, 0, "no delivery failed");

    // A wrong password is refused and nothing is processed.
    let http = reqwest::Client::new();
    let forged = json!({"eventType": "workitem.deleted", "publisherId": "tfs",
        "resource": {"id": ado.state.work_item_ids(0)[1]}, "resourceContainers": {"project": {"id": project}}});
    let refused = http
        .post(format!("http://{addr}/integration/webhook"))
        .basic_auth("port", Some("guess"))
        .json(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let unauthenticated = http
        .post(format!("http://{addr}/integration/webhook"))
        .json(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let still = format!("{project}/{}", ado.state.work_item_ids(0)[1]);
    // Refused requests are never queued; whatever was accepted before is applied by now.
    queue.drained().await;
    assert!(
        port.sim
            .state
            .entity("azureDevopsWorkItem", &still)
            .is_some()
    );

    // Azure DevOps disabled one subscription; a new secret must reach every subscription.
    let some = ado.state.subscriptions()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(ado.state.set_subscription_status(&some, "disabledBySystem"));
    let repaired = subscriptions::ensure(&client, &settings(SECRET))
        .await
        .unwrap();
    assert_eq!((repaired.recreated, repaired.kept), (1, 45), "{repaired:?}");
    let rotated = subscriptions::ensure(&client, &settings("new-secret"))
        .await
        .unwrap();
    assert_eq!(rotated.updated, 46, "{rotated:?}");
    assert_eq!(ado.state.subscriptions().len(), 46, "never duplicated");
    // Issue 13: no `resourceVersion`, as upstream (each publisher's default applies).
    assert!(
        ado.state
            .subscriptions()
            .iter()
            .all(|s| s.get("resourceVersion").is_none())
    );
    let masked: Vec<Value> = ado
        .state
        .subscriptions()
        .iter()
        .map(|s| s["consumerInputs"]["basicAuthPassword"].clone())
        .collect();
    assert!(masked.iter().all(|p| p == "********"));
}

/// Pieces of payloads, valid and not, that the fuzz test assembles into events.
fn fuzz_fragments() -> [Value; 12] {
    [
        json!(null),
        json!(7),
        json!(-1),
        json!(1e300),
        json!("x"),
        json!([]),
        json!({}),
        json!({"id": 3, "workItemId": "nope"}),
        json!({"repository": {"id": 5}}),
        json!({"release": {"id": 1}, "pullRequestId": 2}),
        json!({"repository": {"id": "r"}, "refUpdates": [{"name": "refs/heads/x", "newObjectId": 1}]}),
        json!({"repository": {"id": "r"}, "refUpdates": [null, {"name": "refs/heads/y",
            "oldObjectId": "0000000000000000000000000000000000000000", "newObjectId": "1"}]}),
    ]
}

#[tokio::test]
async fn ten_thousand_random_bodies_never_break_the_server() {
    let ado = sim_ado::spawn(SimConfig::default()).await.unwrap();
    let port = PortEnv::start().await.unwrap();
    let (addr, _) = serve(AdoLive::new(client(&ado), None), &port, "fuzz", 50).await;
    let http = reqwest::Client::new();
    let mut rng = fastrand::Rng::with_seed(7);
    let event_types = [
        "workitem.updated",
        "workitem.created",
        "workitem.deleted",
        "git.repo.created",
        "git.pullrequest.updated",
        "git.push",
        "ms.vss-release.release-created-event",
        "build.complete",
        "nonsense",
    ];
    let fragments = fuzz_fragments();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..10_000 {
        let body: Vec<u8> = match i % 3 {
            0 => (0..rng.usize(0..200)).map(|_| rng.u8(..)).collect(),
            1 => {
                let pick =
                    |rng: &mut fastrand::Rng| fragments[rng.usize(..fragments.len())].clone();
                json!({
                    "eventType": event_types[rng.usize(..event_types.len())],
                    "publisherId": if rng.bool() { json!("tfs") } else { pick(&mut rng) },
                    "resource": pick(&mut rng),
                    "resourceContainers": {"project": {"id": pick(&mut rng)}},
                })
                .to_string()
                .into_bytes()
            }
            _ => {
                let mut text = json!({"eventType": "workitem.updated", "publisherId": "tfs",
                    "resource": {"workItemId": rng.u64(..)}, "resourceContainers": {"project": {"id": "p"}}})
                .to_string()
                .into_bytes();
                let cut = rng.usize(..text.len());
                text.truncate(cut);
                text
            }
        };
        let status = http
            .post(format!("http://{addr}/integration/webhook"))
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        *statuses.entry(status).or_default() += 1;
    }
    assert!(
        statuses.keys().all(|s| [200, 400, 503].contains(s)),
        "only accepted, refused as invalid, or busy: {statuses:?}"
    );
    assert!(
        statuses.get(&400).copied().unwrap_or(0) > 5_000,
        "{statuses:?}"
    );
    let alive = http
        .get(format!("http://{addr}/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), 200, "still serving after {statuses:?}");
}

#[tokio::test]
async fn catch_up_reads_pull_requests_closed_since_and_nothing_older() {
    use futures::TryStreamExt;
    use ocean::live::{Changes, LiveEvents};
    let ado = sim_ado::spawn(SimConfig {
        sizes: Sizes {
            projects: 2,
            repositories: 3,
            work_items: 0,
            releases: 0,
            pull_requests: 6,
            pipelines: 0,
            teams: 1,
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let since = jiff::Timestamp::now();
    // Pull request 100001 is the first one of the second project's first repository.
    assert!(ado.state.close_pull_request(100_001, "completed"));
    let config = PortAppConfig::from_yaml(
        "resources:\n  - kind: pull-request\n    selector:\n      query: 'true'\n    port:\n      entity:\n        mappings:\n          identifier: .pullRequestId | tostring\n          blueprint: '\"pr\"'\n",
    )
    .unwrap();
    let pages: Vec<Changes> = AdoLive::new(client(&ado), None)
        .changed_since(since, Arc::new(config))
        .try_collect()
        .await
        .unwrap();
    let caught: Vec<&Value> = pages
        .iter()
        .flat_map(|c| &c.updated)
        .inspect(|(kind, _)| assert_eq!(kind, "pull-request"))
        .flat_map(|(_, items)| items)
        .collect();
    assert_eq!(caught.len(), 1, "{caught:?}");
    assert_eq!(caught[0]["pullRequestId"], 100_001);
    assert_eq!(caught[0]["status"], "completed");
    assert_eq!(caught[0]["__organizationUrl"], json!(ado.org_url()));
}

#[tokio::test]
#[expect(clippy::too_many_lines, reason = "one push scenario, step by step")]
async fn pushes_create_move_and_delete_branches_as_a_resync_would_write_them() {
    let ado = sim_ado::spawn(SimConfig {
        sizes: Sizes {
            projects: 1,
            repositories: 3,
            work_items: 0,
            releases: 0,
            pull_requests: 0,
            pipelines: 0,
            teams: 1,
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let port = PortEnv::start().await.unwrap();
    port.sim.state.put_blueprint(
        serde_json::from_str(&testkit::fixture("port/azure-devops-branch-blueprint.json")).unwrap(),
    );
    let client = client(&ado);
    let (app_config, plan) = mapping_with_branches();
    let resync = Resync {
        port: port.client("push"),
        integration: Arc::new(AzureDevops::new(client.clone())),
        app_config: Arc::clone(&app_config),
        plan: Arc::clone(&plan),
        installation: testkit::installation("push"),
        settings: ResyncSettings::default(),
    };
    assert!(resync.run().await.succeeded());
    let branches = || {
        port.sim
            .state
            .entities()
            .into_iter()
            .filter(|e| e["blueprint"] == "azureDevopsBranch")
            .count()
    };
    assert_eq!(
        branches(),
        2 + 3 + 4,
        "main and 1-3 features per repository"
    );

    let events = AdoLive::new(client.clone(), Some(&SecretString::from(SECRET)));
    let (addr, queue) = serve_with(events, &port, "push", 100, (app_config, plan)).await;
    let settings = Settings {
        app_host: format!("http://{addr}").parse().unwrap(),
        username: "port".into(),
        secret: Some(SecretString::from(SECRET)),
        projects_limited: true,
        fingerprint_key: SecretString::from("sim-pat"),
        excluded_tags: Vec::new(),
    };
    subscriptions::ensure(&client, &settings).await.unwrap();

    let repo = "00000003-0000-4000-8000-000000000000"; // repo-0-0
    let live = format!("{repo}/feature/live");
    let object_id = |id: &str| {
        port.sim
            .state
            .entity("azureDevopsBranch", id)
            .map(|e| e["properties"]["objectId"].clone())
    };
    let (a, b) = ("a".repeat(40), "b".repeat(40));
    // Created.
    assert!(ado.state.push(0, "repo-0-0", "feature/live", Some(&a)));
    eventually("the new branch is in Port", || {
        object_id(&live) == Some(json!(a))
    })
    .await;
    let entity = port.sim.state.entity("azureDevopsBranch", &live).unwrap();
    assert_eq!(entity["title"], "repo-0-0:feature/live");
    assert_eq!(entity["properties"]["isDefault"], json!(false));
    assert_eq!(entity["properties"]["organization"], ado.org_url().as_str());
    assert_eq!(entity["relations"]["repository"], json!(repo));
    assert!(
        entity["properties"]["link"]
            .as_str()
            .unwrap()
            .ends_with("/_git/repo-0-0?version=GBfeature/live"),
        "read from the full repository (the payload's has no webUrl): {entity}"
    );
    // Moved, then a seeded branch moved too.
    assert!(ado.state.push(0, "repo-0-0", "feature/live", Some(&b)));
    eventually("the branch moved in Port", || {
        object_id(&live) == Some(json!(b))
    })
    .await;
    let main = "00000003-0000-4001-8000-000000000001/main";
    assert!(ado.state.push(0, "repo-0-1", "refs/heads/main", Some(&a)));
    eventually("main moved in Port", || object_id(main) == Some(json!(a))).await;
    assert_eq!(
        port.sim.state.entity("azureDevopsBranch", main).unwrap()["properties"]["isDefault"],
        json!(true),
        "the full repository (its defaultBranch) is what the mapping sees"
    );
    // Deleted.
    assert!(ado.state.push(0, "repo-0-0", "feature/live", None));
    eventually("the branch is gone from Port", || {
        object_id(&live).is_none()
    })
    .await;
    assert_eq!(ado.state.deliveries().1, 0, "no delivery failed");

    // A push to a repository Azure DevOps does not know (deleted since) writes nothing.
    let http = reqwest::Client::new();
    let webhook = format!("http://{addr}/integration/webhook");
    let unknown = "00000003-ffff-4000-8000-000000000000";
    let stray = json!({"eventType": "git.push", "publisherId": "tfs", "resource": {
        "repository": {"id": unknown, "name": "gone"},
        "refUpdates": [{"name": "refs/heads/stray", "oldObjectId": "0".repeat(40), "newObjectId": a}]}});
    let accepted = http
        .post(&webhook)
        .basic_auth("port", Some(SECRET))
        .json(&stray)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    // A malformed push is refused at intake, naming what is missing.
    let malformed = json!({"eventType": "git.push", "publisherId": "tfs",
        "resource": {"repository": {"id": repo}}});
    let refused = http
        .post(&webhook)
        .basic_auth("port", Some(SECRET))
        .json(&malformed)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("resource.refUpdates"),
        "{body}"
    );
    // Later pushes still flow.
    assert!(ado.state.push(0, "repo-0-2", "after", Some(&b)));
    let after = "00000003-0000-4002-8000-000000000002/after";
    eventually("a later push is in Port", || object_id(after).is_some()).await;
    queue.drained().await;
    assert!(object_id(&format!("{unknown}/stray")).is_none());
    assert_eq!(branches(), 2 + 3 + 4 + 1);

    // What live events wrote is what a resync writes: the next resync changes nothing.
    port.sim.state.reset_stats();
    let report = resync.run().await;
    assert!(report.succeeded(), "{report}");
    assert_eq!(
        port.sim
            .state
            .stats()
            .requests_to("POST /v1/blueprints/{bp}/entities/bulk"),
        0,
        "{report}"
    );
    assert_eq!(report.deletion.total_deleted(), 0, "{report}");
}

/// Issue 12: a test that looks at Port after live events waits for the queue to drain; the
/// drain resolves only once each accepted event has been applied. Issue 13: bodies that start
/// with a UTF-8 byte order mark are JSON.
#[tokio::test]
async fn the_queue_drains_only_after_each_accepted_event_is_applied() {
    let ado = sim_ado::spawn(SimConfig::default()).await.unwrap();
    let port = PortEnv::start().await.unwrap();
    let (addr, queue) = serve(AdoLive::new(client(&ado), None), &port, "drain", 100).await;
    let project = "00000001-0000-4000-8000-000000000000";
    let ids = ado.state.work_item_ids(0);
    let http = reqwest::Client::new();
    // No subscriptions: the only deliveries are the ones posted here.
    for (n, id) in ids[..5].iter().enumerate() {
        assert!(
            ado.state
                .update_work_item(*id, "System.Title", json!(format!("Drained {id}")))
        );
        let event = json!({"eventType": "workitem.updated", "publisherId": "tfs",
            "resource": {"id": 1, "workItemId": id},
            "resourceContainers": {"project": {"id": project}}});
        // Every other body starts with a byte order mark, as Microsoft's samples do.
        let bom = if n % 2 == 0 { "\u{feff}" } else { "" };
        let answer = http
            .post(format!("http://{addr}/integration/webhook"))
            .header("content-type", "application/json")
            .body(format!("{bom}{event}"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    }
    queue.drained().await;
    assert_eq!(queue.depth(), 0);
    for id in &ids[..5] {
        let entity = port
            .sim
            .state
            .entity("azureDevopsWorkItem", &format!("{project}/{id}"));
        assert_eq!(
            entity.map(|e| e["title"].clone()),
            Some(json!(format!("Drained {id}"))),
            "work item {id} was applied before the drain resolved"
        );
    }
}

/// Issue 13: a live item that no longer passes its resource's `selector.query` leaves Port, as
/// with Ocean's live events; the other work items stay.
#[tokio::test]
async fn a_live_item_that_leaves_its_selector_is_deleted_from_port() {
    let ado = sim_ado::spawn(SimConfig::default()).await.unwrap();
    let port = PortEnv::start().await.unwrap();
    let client = client(&ado);
    let mut app_config = ado_kinds::defaults::default_mapping().unwrap();
    let work_items = app_config
        .resources
        .iter_mut()
        .find(|r| r.kind == ado_kinds::AdoKind::WorkItem.as_str())
        .expect("the default mapping maps work items");
    work_items.selector.query = r#".fields["System.Title"] | startswith("Gone") | not"#.into();
    let plan = Arc::new(MappingPlan::compile(&app_config, &CompileOptions::default()).unwrap());
    let app_config = Arc::new(app_config);
    let resync = Resync {
        port: port.client("leave"),
        integration: Arc::new(AzureDevops::new(client.clone())),
        app_config: Arc::clone(&app_config),
        plan: Arc::clone(&plan),
        installation: testkit::installation("leave"),
        settings: ResyncSettings::default(),
    };
    assert!(resync.run().await.succeeded());
    let project = "00000001-0000-4000-8000-000000000000";
    let ids = ado.state.work_item_ids(0);
    let key = |id: u64| format!("{project}/{id}");
    let held = |id: u64| {
        port.sim
            .state
            .entity("azureDevopsWorkItem", &key(id))
            .is_some()
    };
    assert!(held(ids[0]) && held(ids[1]));

    let (addr, queue) = serve_with(
        AdoLive::new(client, None),
        &port,
        "leave",
        100,
        (app_config, plan),
    )
    .await;
    assert!(
        ado.state
            .update_work_item(ids[0], "System.Title", json!("Gone for good"))
    );
    let event = json!({"eventType": "workitem.updated", "publisherId": "tfs",
        "resource": {"id": 1, "workItemId": ids[0]},
        "resourceContainers": {"project": {"id": project}}});
    let answer = reqwest::Client::new()
        .post(format!("http://{addr}/integration/webhook"))
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    queue.drained().await;
    assert!(!held(ids[0]), "the item left its selector");
    assert!(held(ids[1]));
}

/// Each service-hook delivery travels on its own, so a deletion and the restoration right
/// after it may arrive swapped: the item must end in Port, as it is in Azure DevOps. And a
/// plain deletion still removes its entity.
#[tokio::test]
async fn a_deletion_and_a_restoration_arriving_swapped_leave_the_item_in_port() {
    let ado = sim_ado::spawn(SimConfig::default()).await.unwrap();
    let port = PortEnv::start().await.unwrap();
    let (addr, queue) = serve(AdoLive::new(client(&ado), None), &port, "swap", 50).await;
    let project = "00000001-0000-4000-8000-000000000000";
    let http = reqwest::Client::new();
    let deliver = |event_type: &str, id: u64| {
        let body = json!({"eventType": event_type, "publisherId": "tfs",
            "resource": {"id": id, "workItemId": id, "fields": {}},
            "resourceContainers": {"project": {"id": project}}});
        let request = http
            .post(format!("http://{addr}/integration/webhook"))
            .json(&body);
        async move { request.send().await.unwrap().status() }
    };
    let work_items = |port: &PortEnv| -> Vec<String> {
        port.sim
            .state
            .entities()
            .iter()
            .filter(|e| e["blueprint"] == "azureDevopsWorkItem")
            .map(|e| e["identifier"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let [kept, gone] = [ado.state.work_item_ids(0)[2], ado.state.work_item_ids(0)[3]];
    for id in [kept, gone] {
        assert_eq!(deliver("workitem.updated", id).await, 200);
    }
    queue.drained().await;
    let before = work_items(&port);
    assert_eq!(before.len(), 2, "{before:?}");

    assert!(ado.state.delete_work_item(kept) && ado.state.restore_work_item(kept));
    assert!(ado.state.delete_work_item(gone));
    assert_eq!(deliver("workitem.restored", kept).await, 200);
    assert_eq!(deliver("workitem.deleted", kept).await, 200);
    assert_eq!(deliver("workitem.deleted", gone).await, 200);
    queue.drained().await;
    let after = work_items(&port);
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(after[0].ends_with(&kept.to_string()), "{after:?}");
}
