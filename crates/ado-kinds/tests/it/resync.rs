//! The default installation end to end: sim-ado → ado-client → the default kinds → the default
//! mapping → the resync engine → sim-port, all over HTTP on 127.0.0.1.

use std::{collections::BTreeSet, sync::Arc};

use ado_client::{Client as AdoClient, ClientOptions, Error as AdoError, ProjectId, RepositoryId};
use ado_kinds::AzureDevops;
use mapping::{CompileOptions, MappingPlan, PortAppConfig};
use ocean::resync::{Resync, ResyncReport, ResyncSettings, reconcile::SkipReason};
use secrecy::SecretString;
use serde_json::json;
use sim_ado::{RunningSim, SimConfig, Sizes};
use testkit::PortEnv;

use crate::harness::client;

const BULK: &str = "POST /v1/blueprints/{bp}/entities/bulk";

struct Env {
    ado: RunningSim,
    port: PortEnv,
    resync: Resync<AzureDevops>,
}

async fn env(sizes: Sizes) -> Env {
    let app_config =
        PortAppConfig::from_yaml(&testkit::fixture("mappings/azure-devops-default.yaml")).unwrap();
    env_with(sizes, app_config).await
}

/// An environment resyncing `app_config` (sim-port also has the test blueprint of branches).
async fn env_with(sizes: Sizes, app_config: PortAppConfig) -> Env {
    let ado = sim_ado::spawn(SimConfig {
        sizes,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let port = PortEnv::start().await.unwrap();
    port.sim.state.put_blueprint(
        serde_json::from_str(&testkit::fixture("port/azure-devops-branch-blueprint.json")).unwrap(),
    );
    let client = client(&ado);
    let plan = MappingPlan::compile(&app_config, &CompileOptions::default()).unwrap();
    let resync = Resync {
        port: port.client("it-ado"),
        integration: Arc::new(AzureDevops::new(client)),
        app_config: Arc::new(app_config),
        plan: Arc::new(plan),
        installation: testkit::installation("it-ado"),
        settings: ResyncSettings::default(),
    };
    Env { ado, port, resync }
}

impl Env {
    async fn run(&self) -> ResyncReport {
        self.resync.run().await
    }

    fn identifiers(&self, blueprint: &str) -> BTreeSet<String> {
        self.port
            .sim
            .state
            .entities()
            .into_iter()
            .filter(|e| {
                e["blueprint"] == blueprint
                    && self
                        .port
                        .sim
                        .state
                        .datasource_of(blueprint, e["identifier"].as_str().unwrap())
                        .is_some()
            })
            .map(|e| e["identifier"].as_str().unwrap().to_owned())
            .collect()
    }
}

const SMALL: Sizes = Sizes {
    projects: 1,
    repositories: 2,
    work_items: 9,
    releases: 2,
    pull_requests: 0,
    pipelines: 0,
    teams: 1,
};

/// The failure of `kind`'s resource in `report` (the test fails when it has none).
fn failure_of(report: &ResyncReport, kind: &str) -> String {
    let resource = report.resources.iter().find(|r| r.kind == kind);
    resource
        .and_then(|r| r.failure.clone())
        .unwrap_or_else(|| panic!("the {kind} kind did not fail: {report}"))
}

/// A first resync, then a second whose next answer on `route` is `body`: the second must fail
/// `kind` and leave every entity of `blueprint` in Port. Returns its report, the kind's failure
/// and the identifiers Port holds.
async fn after_one_malformed_answer(
    route: &str,
    body: serde_json::Value,
    kind: &str,
    blueprint: &str,
) -> (ResyncReport, String, BTreeSet<String>) {
    let env = env(SMALL).await;
    assert!(env.run().await.succeeded());
    let before = env.identifiers(blueprint);
    assert!(!before.is_empty());
    env.ado.state.inject_body(route, body, 1);
    let report = env.run().await;
    let failure = failure_of(&report, kind);
    let after = env.identifiers(blueprint);
    assert_eq!(after, before, "a failed read deletes nothing");
    (report, failure, after)
}

fn project_id(p: usize) -> String {
    format!("00000001-{p:04x}-4000-8000-{:012x}", p * 100_000)
}

#[tokio::test]
async fn a_full_resync_yields_exactly_the_expected_catalog() {
    let env = env(SMALL).await;
    let report = env.run().await;
    assert!(report.succeeded(), "{report}");
    let p = project_id(0);
    assert_eq!(
        env.identifiers("azureDevopsProject"),
        BTreeSet::from([p.clone()])
    );
    let repos: BTreeSet<String> = (0..2)
        .map(|r| format!("00000003-0000-4{r:03x}-8000-{r:012x}"))
        .collect();
    assert_eq!(env.identifiers("azureDevopsRepository"), repos);
    // The default WIQL keeps items that are not Closed, or changed in the last 7 days.
    let items = env.identifiers("azureDevopsWorkItem");
    assert!(
        items.iter().all(|i| i.starts_with(&format!("{p}/"))),
        "{items:?}"
    );
    assert!(!items.is_empty() && items.len() <= 9);
    assert_eq!(
        env.identifiers("azureDevopsRelease"),
        BTreeSet::from([format!("{p}/1"), format!("{p}/2")])
    );
    assert_eq!(env.identifiers("azureDevopsBoard").len(), 1);
    assert_eq!(
        env.identifiers("azureDevopsColumn").len(),
        8,
        "4 columns × 2 work item types"
    );

    let repo = env
        .port
        .sim
        .state
        .entity("azureDevopsRepository", repos.iter().next().unwrap())
        .unwrap();
    assert_eq!(repo["relations"]["project"], json!(p));
    assert!(
        repo["properties"]["readme"]
            .as_str()
            .unwrap()
            .starts_with("# repo-0-0")
    );
    // Issue 13: a file the repository lacks is "" (upstream's value), not null.
    assert_eq!(repo["properties"]["codeowners"], json!(""));
    assert_eq!(
        repo["properties"]["minimumApproverCount"],
        json!(1),
        "merged from repository-policy"
    );
    let project = env.port.sim.state.entity("azureDevopsProject", &p).unwrap();
    assert_eq!(project["properties"]["defaultTeam"], "Project 0 Team");
}

#[tokio::test]
async fn shared_lists_are_fetched_once_per_resync_and_again_in_the_next() {
    let env = env(Sizes {
        projects: 2,
        ..SMALL
    })
    .await;
    let repositories = "GET /{org}/{project}/_apis/git/repositories";
    let boards = "GET /{org}/{project}/{team}/_apis/work/boards";
    assert!(env.run().await.succeeded());
    // `repository` and two `repository-policy` resources share one listing per project, and
    // `board` and `column` share the boards.
    assert_eq!(env.ado.state.requests().get(repositories), Some(&2));
    assert_eq!(env.ado.state.requests().get(boards), Some(&2));
    assert!(env.run().await.succeeded());
    assert_eq!(
        env.ado.state.requests().get(repositories),
        Some(&4),
        "a new resync sees current data"
    );
}

#[tokio::test]
async fn a_second_resync_of_an_unchanged_org_writes_nothing() {
    let env = env(SMALL).await;
    assert!(env.run().await.succeeded());
    env.port.sim.state.reset_stats();
    let second = env.run().await;
    assert!(second.succeeded(), "{second}");
    assert_eq!(env.port.sim.state.stats().requests_to(BULK), 0);
    assert_eq!(second.deletion.total_deleted(), 0);
}

#[tokio::test]
async fn work_item_types_outside_the_blueprint_enum_are_rejected_and_reported_not_fatal() {
    let env = env(Sizes {
        work_items: 20,
        ..SMALL
    })
    .await;
    let report = env.run().await;
    let items = report
        .resources
        .iter()
        .find(|r| r.kind == "work-item")
        .unwrap();
    assert!(items.rejected >= 1, "{report}");
    assert!(
        items
            .rejections
            .iter()
            .all(|r| r.reason.contains("Feature"))
    );
    assert!(items.failure.is_none());
    assert!(items.upserted > 0);
}

#[tokio::test]
async fn mutations_are_reflected_and_each_deleted_object_is_one_deletion() {
    let env = env(SMALL).await;
    assert!(env.run().await.succeeded());
    let before = env.identifiers("azureDevopsRepository");
    let renamed_id = "00000003-0000-4000-8000-000000000000";
    assert!(env.ado.state.delete_repository(0, "repo-0-1"));
    assert!(env.ado.state.rename_repository(0, "repo-0-0", "renamed"));
    let added = env.ado.state.add_repository(0, "brand-new").unwrap();
    let changed = env.ado.state.work_item_ids(0)[1];
    assert!(
        env.ado
            .state
            .update_work_item(changed, "System.Title", json!("New title"))
    );
    let report = env.run().await;
    assert!(report.succeeded(), "{report}");
    assert_eq!(report.deletion.total_deleted(), 1, "{report}");
    let after = env.identifiers("azureDevopsRepository");
    assert_eq!(
        after,
        BTreeSet::from([renamed_id.to_owned(), added.clone()]),
        "before: {before:?}"
    );
    let entity = |blueprint: &str, id: &str| env.port.sim.state.entity(blueprint, id).unwrap();
    assert_eq!(
        entity("azureDevopsRepository", renamed_id)["title"],
        "renamed"
    );
    let new_repo = entity("azureDevopsRepository", &added);
    assert_eq!(new_repo["title"], "brand-new");
    assert_eq!(new_repo["relations"]["project"], json!(project_id(0)));
    let item_id = format!("{}/{changed}", project_id(0));
    assert_eq!(
        entity("azureDevopsWorkItem", &item_id)["title"],
        "New title"
    );

    // Deleting a work item that is in the catalog removes exactly that entity.
    let items = env.identifiers("azureDevopsWorkItem");
    assert!(env.ado.state.delete_work_item(changed));
    let report = env.run().await;
    assert!(report.succeeded(), "{report}");
    assert_eq!(report.deletion.total_deleted(), 1, "{report}");
    let mut expected = items;
    expected.remove(&item_id);
    assert_eq!(env.identifiers("azureDevopsWorkItem"), expected);
}

#[tokio::test]
async fn a_nearly_spent_rate_limit_slows_requests_down_before_any_429() {
    // 40 requests per second, far fewer than these fetches make at full speed with 16 requests
    // in flight: the client must hold back on X-RateLimit-Remaining, not on 429s.
    let ado = sim_ado::spawn(SimConfig {
        sizes: Sizes {
            projects: 4,
            repositories: 10,
            ..SMALL
        },
        rate_limit: Some(40),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = client(&ado);
    let integration = AzureDevops::new(client);
    let mut total = 0;
    let files = json!({"includedFiles": ["README.md"]});
    for (kind, selector) in [
        ("project", json!({})),
        ("repository", files),
        ("repository-policy", json!({})),
        ("work-item", json!({})),
        ("board", json!({})),
    ] {
        total += fetch_all(&integration, kind, selector).await.unwrap().len();
    }
    assert!(total > 0);
    assert!(
        ado.state.total_requests() > 2 * 40,
        "the limit must be exercised: {} requests",
        ado.state.total_requests()
    );
    assert_eq!(ado.state.throttled(), 0, "{:?}", ado.state.requests());
}

async fn fetch_all(
    integration: &AzureDevops,
    kind: &str,
    selector: serde_json::Value,
) -> Result<Vec<serde_json::Value>, ado_kinds::Error> {
    use futures::TryStreamExt;
    use ocean::Integration;
    let selector: mapping::SelectorConfig = serde_json::from_value(selector).unwrap();
    let pages: Vec<ocean::Page> = integration
        .fetch(kind, &selector)
        .expect("a kind")
        .try_collect()
        .await?;
    Ok(pages
        .into_iter()
        .flat_map(|page| page.into_items().expect("each item decodes"))
        .collect())
}

#[tokio::test]
async fn pull_requests_are_the_active_and_the_recently_closed_of_healthy_repositories() {
    let ado = sim_ado::spawn(SimConfig {
        sizes: Sizes {
            repositories: 8,
            pull_requests: 10,
            pipelines: 0,
            ..SMALL
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = client(&ado);
    let integration = AzureDevops::new(client);
    // Repositories 0..8: 4 is empty and 6 disabled, so six healthy ones. Of 10 pull requests
    // each, 4 are active and 4 of the 6 closed ones closed in the last 7 days.
    let all = fetch_all(&integration, "pull-request", json!({}))
        .await
        .unwrap();
    assert_eq!(all.len(), 6 * 8);
    let repos: BTreeSet<&str> = all
        .iter()
        .map(|pr| pr["repository"]["name"].as_str().unwrap())
        .collect();
    assert!(
        !repos.contains("repo-0-4") && !repos.contains("repo-0-6"),
        "{repos:?}"
    );
    let ids: BTreeSet<u64> = all
        .iter()
        .map(|pr| pr["pullRequestId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), all.len(), "no pull request twice");
    // Not `dev.azure.com`: upstream names the organization by its whole URL.
    assert!(
        all.iter()
            .all(|pr| pr["__organizationName"] == ado.org_url().as_str())
    );

    // maxResults caps each closed status per repository; minTimeInDays widens the window.
    let capped = fetch_all(&integration, "pull-request", json!({"maxResults": 1}))
        .await
        .unwrap();
    assert_eq!(capped.len(), 6 * (4 + 1 + 1));
    let wide = fetch_all(&integration, "pull-request", json!({"minTimeInDays": 30}))
        .await
        .unwrap();
    assert_eq!(wide.len(), 6 * 10);
    let error = fetch_all(&integration, "pull-request", json!({"maxResults": 0}))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("maxResults"), "{error}");
}

#[tokio::test]
async fn azure_devops_failing_mid_resync_deletes_nothing_of_that_kind() {
    let env = env(SMALL).await;
    assert!(env.run().await.succeeded());
    let items_before = env.identifiers("azureDevopsWorkItem");
    // Every work item read fails with a non-retryable error, and a release disappears.
    env.ado.state.inject("/_apis/wit/workitems", 400, None, 100);
    let report = env.run().await;
    assert!(!report.succeeded());
    let items = report
        .resources
        .iter()
        .find(|r| r.kind == "work-item")
        .unwrap();
    assert!(items.failure.is_some());
    assert!(report.deletion.skipped.iter().any(|s| matches!(s, SkipReason::KindFailed { blueprint, .. } if blueprint == "azureDevopsWorkItem")));
    assert_eq!(env.identifiers("azureDevopsWorkItem"), items_before);
}

/// Issue 12: one answer of the repositories list without its `value` array deleted every
/// repository from Port, and the run succeeded.
#[tokio::test]
async fn a_list_answer_without_its_value_array_fails_the_kind_and_deletes_nothing() {
    // The list is read once per resync (memoised), before anything per repository.
    let (report, failure, repositories) = after_one_malformed_answer(
        "GET /{org}/{project}/_apis/git/repositories",
        json!({"count": 2}),
        "repository",
        "azureDevopsRepository",
    )
    .await;
    assert_eq!(repositories.len(), 2);
    assert!(!report.succeeded(), "{report}");
    assert!(
        failure.contains("_apis/git/repositories") && failure.contains("`value`"),
        "the error names the endpoint and what is missing: {failure}"
    );
    assert!(report.deletion.skipped.iter().any(|s| matches!(s,
        SkipReason::KindFailed { blueprint, .. } if blueprint == "azureDevopsRepository")));
}

/// A WIQL answer with an item without its id used to lose that item silently (its work item
/// was then deleted from Port as stale): it is a decode error of the work-item kind.
#[tokio::test]
async fn a_wiql_item_without_its_id_fails_the_kind_and_deletes_nothing() {
    let (_, failure, _) = after_one_malformed_answer(
        "POST /{org}/{project}/_apis/wit/wiql",
        json!({"workItems": [{"url": "https://example.com/_apis/wit/workItems/1"}]}),
        "work-item",
        "azureDevopsWorkItem",
    )
    .await;
    assert!(
        failure.contains("_apis/wit/wiql")
            && failure.contains("workItems[0]")
            && failure.contains("`id`"),
        "the error names the endpoint and what is missing: {failure}"
    );
}

/// Work items stay JSON text until they are mapped (issue 18): a details answer whose `value`
/// is not a list is still an error of the kind, never an empty page.
#[tokio::test]
async fn a_work_items_answer_without_its_list_fails_the_kind_and_deletes_nothing() {
    let (_, failure, _) = after_one_malformed_answer(
        "GET /{org}/{project}/_apis/wit/workitems",
        json!({"count": 1, "value": {"id": 1}}),
        "work-item",
        "azureDevopsWorkItem",
    )
    .await;
    assert!(
        failure.contains("_apis/wit/workitems") && failure.contains("`value`"),
        "the error names the endpoint and what is wrong: {failure}"
    );
}

#[tokio::test]
async fn a_bad_pat_is_reported_with_the_organization_and_without_the_token() {
    let ado = sim_ado::spawn(SimConfig {
        sizes: SMALL,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = AdoClient::new(
        &ado.org_url().parse().unwrap(),
        &SecretString::from("wrong-pat-value"),
        &ClientOptions::default(),
    )
    .unwrap();
    let error = client
        .project(&ProjectId::from("anything"))
        .await
        .unwrap_err();
    assert!(matches!(error, AdoError::InvalidPat { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN")
            && text.contains(&ado.org_url()),
        "{text}"
    );
    assert!(
        !text.contains("wrong-pat-value") && !format!("{client:?}").contains("wrong-pat-value")
    );
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_organization_is_a_clear_transport_error() {
    let client = AdoClient::new(
        &"http://127.0.0.1:9/acme".parse().unwrap(),
        &SecretString::from("pat"),
        &ClientOptions::default(),
    )
    .unwrap();
    // Connection refused is retried a bounded number of times, then reported.
    let error = tokio::time::timeout(
        std::time::Duration::from_mins(2),
        client.project(&ProjectId::from("p")),
    )
    .await
    .expect("bounded retries")
    .unwrap_err();
    assert!(matches!(error, AdoError::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn a_project_with_more_than_the_wiql_limit_is_fetched_completely() {
    use futures::TryStreamExt;
    use ocean::Integration;
    // 20,001 items need two WIQL windows of at most 19,999 ids: completeness proves the id-window
    // paging, and every details request stays within 200 ids (the simulator refuses more).
    let ado = sim_ado::spawn(SimConfig {
        sizes: Sizes {
            projects: 1,
            repositories: 0,
            work_items: 20_001,
            releases: 0,
            pull_requests: 0,
            pipelines: 0,
            teams: 1,
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = client(&ado);
    let pages: Vec<Vec<serde_json::Value>> = AzureDevops::new(client)
        .fetch("work-item", &mapping::SelectorConfig::default())
        .expect("work-item is a kind")
        .map_ok(|page| page.into_items().expect("each item decodes"))
        .try_collect()
        .await
        .unwrap();
    let ids: BTreeSet<u64> = pages
        .iter()
        .flatten()
        .map(|w| w["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 20_001);
    assert!(pages.iter().all(|p| p.len() <= 200));
    assert_eq!(
        ado.state
            .requests()
            .get("POST /{org}/{project}/_apis/wit/wiql"),
        Some(&2)
    );
    assert!(pages[0][0]["__project"]["id"].is_string() && pages[0][0]["__projectId"].is_string());
}

/// Issue 13: a `wiql` selector with its own `ORDER BY` is split from the condition (upstream
/// does the same), read in one request, and keeps the user's order.
#[tokio::test]
async fn a_wiql_selector_with_order_by_works_in_one_request() {
    use futures::TryStreamExt;
    use ocean::Integration;
    let ado = sim_ado::spawn(SimConfig::default()).await.unwrap();
    let selector: mapping::SelectorConfig = serde_json::from_value(json!({
        "query": "true",
        "wiql": "[System.Id] > 0 ORDER BY [System.Id] DESC"
    }))
    .unwrap();
    let items: Vec<serde_json::Value> = AzureDevops::new(client(&ado))
        .fetch(ado_kinds::AdoKind::WorkItem.as_str(), &selector)
        .expect("work-item is a kind")
        .map_ok(|page| page.into_items().expect("each item decodes"))
        .try_concat()
        .await
        .unwrap();
    let first_project: Vec<u64> = items
        .iter()
        .filter(|w| w["__projectId"] == items[0]["__projectId"])
        .map(|w| w["id"].as_u64().unwrap())
        .collect();
    assert!(first_project.len() > 1);
    assert!(
        first_project.windows(2).all(|w| w[0] > w[1]),
        "the user's descending order: {first_project:?}"
    );
    let projects = ado.state.requests()["GET /{org}/_apis/projects"];
    assert!(projects >= 1);
    let wiql = ado.state.requests()["POST /{org}/{project}/_apis/wit/wiql"];
    let project_count = items
        .iter()
        .map(|w| w["__projectId"].as_str().unwrap())
        .collect::<BTreeSet<_>>()
        .len() as u64;
    assert_eq!(wiql, project_count, "one WIQL request per project");
}

/// Issue 13: one team whose boards cannot be read does not fail `board` and `column`: the other
/// team's boards are written, the team is named in the report, and nothing of either blueprint
/// is deleted (upstream skips the team too, then deletes its boards).
#[tokio::test]
async fn a_team_whose_boards_fail_is_skipped_and_nothing_of_its_blueprints_is_deleted() {
    let env = env(Sizes { teams: 2, ..SMALL }).await;
    assert!(env.run().await.succeeded());
    let boards = env.identifiers("azureDevopsBoard");
    let columns = env.identifiers("azureDevopsColumn");
    assert_eq!(boards.len(), 2, "one board per team");

    // `board` reads the project's boards once (shared with `column`): the first team's answer
    // is a 400 this time.
    env.ado.state.inject("/_apis/work/boards", 400, None, 1);
    let report = env.run().await;
    assert!(
        report.succeeded(),
        "a skipped team is not a failure: {report}"
    );
    let partial: Vec<(&str, usize)> = report
        .resources
        .iter()
        .filter(|r| !r.skipped_parts.is_empty())
        .map(|r| (r.kind.as_str(), r.skipped_parts.len()))
        .collect();
    assert_eq!(partial, [("board", 1), ("column", 1)], "{report}");
    assert!(
        report
            .resources
            .iter()
            .any(|r| r.skipped_parts.iter().any(|p| p.contains("boards of team"))),
        "{report}"
    );
    assert_eq!(env.identifiers("azureDevopsBoard"), boards);
    assert_eq!(env.identifiers("azureDevopsColumn"), columns);
    assert_eq!(report.deletion.total_deleted(), 0, "{report}");
}

/// The branches the simulator seeds for repository `r` of project `p` (sim-ado `seed.rs`): `main`
/// and one to three features, for repositories that have a default branch.
fn seeded_branches(p: usize, r: usize) -> Vec<String> {
    let features = (1..=1 + (p + r) % 3).map(|n| format!("feature/x-{n}"));
    std::iter::once("main".to_owned()).chain(features).collect()
}

#[tokio::test]
async fn branches_are_exactly_those_of_healthy_repositories_in_upstreams_shape() {
    let env = env(Sizes {
        projects: 2,
        repositories: 8,
        ..SMALL
    })
    .await;
    let client = client(&env.ado);
    let integration = AzureDevops::new(client.clone());
    let all = fetch_all(&integration, "branch", json!({})).await.unwrap();
    // Repositories 0..8 of each project: 4 is empty (no branches) and 6 is disabled (its
    // branches exist but are not read), as upstream's healthy filter.
    let expected: BTreeSet<(String, String)> = (0..2)
        .flat_map(|p| {
            (0..8).filter(|r| ![4, 6].contains(r)).flat_map(move |r| {
                seeded_branches(p, r)
                    .into_iter()
                    .map(move |b| (format!("repo-{p}-{r}"), b))
            })
        })
        .collect();
    let seen: Vec<(String, String)> = all
        .iter()
        .map(|b| {
            let repo = b["__repository"]["name"].as_str().unwrap().to_owned();
            (repo, b["name"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(seen.len(), expected.len(), "no branch twice");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);
    assert_eq!(
        env.ado
            .state
            .requests()
            .get("GET /{org}/{project}/_apis/git/repositories/{repo}/refs"),
        Some(&12),
        "one request per healthy repository"
    );

    // The synthesized item: upstream's keys in upstream's order, the full repository.
    let main = all
        .iter()
        .find(|b| b["__repository"]["name"] == "repo-0-1" && b["name"] == "main")
        .unwrap();
    let keys: Vec<&str> = main
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "name",
            "refName",
            "objectId",
            "__repository",
            "__organizationUrl",
            "__organizationName"
        ]
    );
    assert_eq!(main["refName"], "refs/heads/main");
    let object_id = main["objectId"].as_str().unwrap();
    assert!(object_id.len() == 40 && object_id.chars().all(|c| c.is_ascii_hexdigit()));
    let repo_id = RepositoryId::of(&main["__repository"]);
    assert_eq!(
        main["__repository"],
        client.repository(&repo_id).await.unwrap()
    );
    assert_eq!(main["__organizationName"], env.ado.org_url().as_str());

    // A repository deleted while branches are read (404) has none, and is no failure.
    env.ado.state.inject("/refs", 404, None, 1_000);
    let none = fetch_all(&integration, "branch", json!({})).await.unwrap();
    assert!(none.is_empty(), "{none:?}");
}

#[tokio::test]
async fn failing_refs_reads_skip_their_repositories_and_delete_none_of_the_branches() {
    let mapping = testkit::fixture("mappings/azure-devops-branches.yaml");
    let env = env_with(SMALL, PortAppConfig::from_yaml(&mapping).unwrap()).await;
    let first = env.run().await;
    assert!(first.succeeded(), "{first}");
    let before = env.identifiers("azureDevopsBranch");
    let repo = "00000003-0000-4001-8000-000000000001";
    assert_eq!(before.len(), 2 + 3, "repo-0-0 and repo-0-1: {before:?}");
    assert!(before.contains(&format!("{repo}/feature/x-2")));
    let entity = env
        .port
        .sim
        .state
        .entity("azureDevopsBranch", &format!("{repo}/main"))
        .unwrap();
    assert_eq!(entity["properties"]["isDefault"], json!(true));
    assert_eq!(entity["relations"]["repository"], json!(repo));

    // Every refs read fails with a server error (each retried at once, Retry-After 0, until
    // the client gives up: two repositories use up exactly the injected faults); a branch also
    // disappears, which a successful resync would delete.
    assert!(env.ado.state.push(0, "repo-0-1", "feature/x-2", None));
    let faults = 2 * ado_client::retry::MAX_ATTEMPTS;
    env.ado.state.inject("/refs", 500, Some(0), faults);
    let report = env.run().await;
    // Issue 13: each repository whose refs fail is skipped (upstream skips it too); the kind
    // is partial, not failed, and nothing of its blueprint is deleted.
    assert!(report.succeeded(), "{report}");
    let branches = report
        .resources
        .iter()
        .find(|r| r.kind == ado_kinds::AdoKind::Branch.as_str())
        .unwrap();
    assert_eq!(branches.skipped_parts.len(), 2, "{report}");
    assert!(
        branches.skipped_parts.iter().all(|p| p.contains("500")),
        "{report}"
    );
    assert!(report.deletion.skipped.iter().any(|s| matches!(s, SkipReason::KindFailed { blueprint, .. } if blueprint == "azureDevopsBranch")), "{report}");
    assert_eq!(env.identifiers("azureDevopsBranch"), before);

    // Azure DevOps answers again: the deleted branch goes, exactly that one.
    let healed = env.run().await;
    assert!(healed.succeeded(), "{healed}");
    let mut expected = before;
    expected.remove(&format!("{repo}/feature/x-2"));
    assert_eq!(env.identifiers("azureDevopsBranch"), expected);
}

#[tokio::test]
async fn the_client_follows_continuation_tokens_through_a_repositorys_refs() {
    use futures::TryStreamExt;
    let env = env(Sizes {
        repositories: 3,
        ..SMALL
    })
    .await;
    let client = client(&env.ado);
    // repo-0-2 has four branches: one per page, each once.
    let paged: Vec<Vec<serde_json::Value>> = client
        .refs(
            &ProjectId::from(project_id(0)),
            &RepositoryId::from("00000003-0000-4002-8000-000000000002"),
            "heads/",
            1,
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(paged.len(), seeded_branches(0, 2).len());
    let names: BTreeSet<&str> = paged
        .iter()
        .flatten()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let seeded: Vec<String> = seeded_branches(0, 2)
        .iter()
        .map(|b| format!("refs/heads/{b}"))
        .collect();
    assert_eq!(names, seeded.iter().map(String::as_str).collect());
    assert_eq!(
        env.ado
            .state
            .requests()
            .get("GET /{org}/{project}/_apis/git/repositories/{repo}/refs"),
        Some(&(seeded_branches(0, 2).len() as u64))
    );
}

#[tokio::test]
async fn projects_with_an_excluded_tag_are_left_out_with_everything_in_them() {
    let mut env = env(Sizes {
        projects: 2,
        ..SMALL
    })
    .await;
    assert!(env.ado.state.set_project_tags(1, &["team-x", "legacy"]));
    assert!(
        env.ado.state.set_project_tags(0, &["Legacy"]),
        "tags compare exactly"
    );
    env.resync.integration = Arc::new(AzureDevops::excluding(
        vec![client(&env.ado)],
        &["legacy".to_owned()],
    ));
    let report = env.run().await;
    assert!(report.succeeded(), "{report}");
    let kept = project_id(0);
    assert_eq!(
        env.identifiers("azureDevopsProject"),
        BTreeSet::from([kept.clone()])
    );
    for repo in env.identifiers("azureDevopsRepository") {
        assert!(repo.starts_with("00000003-0000-"), "{repo} is project 0's");
    }
    for item in env.identifiers("azureDevopsWorkItem") {
        assert!(item.starts_with(&kept), "{item}");
    }
    assert_eq!(env.identifiers("azureDevopsBoard").len(), 1);
    // Tags are read once per project for every kind of the resync.
    assert_eq!(
        env.ado
            .state
            .requests()
            .get("GET /{org}/_apis/projects/{project}/properties"),
        Some(&2)
    );
}

#[tokio::test]
async fn an_azure_devops_server_that_stops_at_api_version_6_gets_the_same_catalog() {
    let services = env(SMALL).await;
    assert!(services.run().await.succeeded());
    // Azure DevOps Server 2020 at http://host/DefaultCollection: 7.1 is refused, 6.0 taken.
    let server = sim_ado::spawn(SimConfig {
        organization: "DefaultCollection".to_owned(),
        sizes: SMALL,
        max_api_version: Some("6.0".to_owned()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut env = env(SMALL).await;
    env.resync.integration = Arc::new(AzureDevops::new(client(&server)));
    let report = env.run().await;
    assert!(report.succeeded(), "{report}");
    for blueprint in [
        "azureDevopsProject",
        "azureDevopsRepository",
        "azureDevopsWorkItem",
        "azureDevopsBoard",
        "azureDevopsColumn",
        "azureDevopsRelease",
    ] {
        assert_eq!(
            env.identifiers(blueprint),
            services.identifiers(blueprint),
            "{blueprint}"
        );
    }
    // One request refused for its version, then every request at 6.0.
    assert_eq!(
        server.state.total_requests(),
        services.ado.state.total_requests() + 1
    );
    let project = env
        .port
        .sim
        .state
        .entity("azureDevopsProject", &project_id(0))
        .unwrap();
    assert!(
        project["properties"]["link"]
            .as_str()
            .unwrap()
            .contains("/DefaultCollection/"),
        "{project}"
    );
}

/// Issue 12: a typo in a kind and a selector option the kind cannot use are reported when the
/// mapping loads, together with the jq expressions that do not compile. Issue 13: those
/// resources fail in the resync report (their blueprints kept), and the others sync.
#[tokio::test]
#[expect(clippy::too_many_lines, reason = "one scenario: load, then resync")]
async fn unknown_kinds_and_bad_selector_options_are_refused_at_load_with_jq_errors() {
    use ocean::runner::{Runner, RunnerSettings};
    let mapping = r#"
resources:
  - kind: work-items
    selector: {query: "true"}
    port: {entity: {mappings: {identifier: .id, blueprint: '"b"'}}}
  - kind: area-path
    selector: {query: "true", depth: deep}
    port: {entity: {mappings: {identifier: .id, blueprint: '"b"'}}}
  - kind: project
    selector: {query: "true"}
    port: {entity: {mappings: {identifier: .id | oops(, blueprint: '"b"'}}}
  - kind: project
    selector: {query: "true"}
    port: {entity: {mappings: {identifier: .id, title: .name, blueprint: '"azureDevopsProject"'}}}
"#;
    let port = PortEnv::start().await.unwrap();
    let ado = sim_ado::spawn(SimConfig::default()).await.unwrap();
    let runner = Runner::new(
        port.client("it-check"),
        Arc::new(AzureDevops::new(client(&ado))),
        RunnerSettings {
            installation: testkit::installation("it-check"),
            local_mapping: Some((
                "of the test".into(),
                PortAppConfig::from_yaml(mapping).unwrap(),
            )),
            default_mapping: None,
            jq_env: None,
            scheduled_interval_minutes: None,
            resync: ResyncSettings::default(),
            record: ocean::defaults::RecordFields::default(),
            heartbeat_every: std::time::Duration::from_secs(10),
            incremental_interval: None,
        },
    );
    let (_, plan) = runner
        .mapping()
        .await
        .expect("a mapping with bad resources still loads");
    let found: Vec<(usize, &str)> = plan
        .refused()
        .iter()
        .flat_map(|r| r.errors.iter())
        .map(|p| (p.resource_index, p.field.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (0, "selector"),
            (1, "selector"),
            (2, "port.entity.mappings.identifier")
        ],
        "{:?}",
        plan.refused()
    );
    let source = mapping::CompileErrors(
        plan.refused()
            .iter()
            .flat_map(|r| r.errors.clone())
            .collect(),
    );
    let text = source.to_string();
    assert!(text.contains("unknown kind `work-items`"), "{text}");
    assert!(text.contains("`depth` of kind `area-path`"), "{text}");
    assert_eq!(
        ado.state.requests().values().sum::<u64>(),
        0,
        "nothing is fetched at load"
    );

    // The resync syncs the good resource and reports the others as failed.
    port.sim.state.put_entity(
        json!({"identifier": "kept", "blueprint": "b", "properties": {}, "relations": {}}),
        &testkit::installation("it-check").to_string(),
    );
    let report = runner.resync().await.unwrap();
    let failed: Vec<usize> = report
        .resources
        .iter()
        .filter(|r| r.failure.is_some())
        .map(|r| r.index)
        .collect();
    assert_eq!(failed, [0, 1, 2], "{report}");
    assert!(report.resources[3].upserted > 0, "{report}");
    assert!(
        port.sim.state.entity("b", "kept").is_some(),
        "a refused resource's blueprint is not cleaned up"
    );
}
