//! The control API over HTTP: what `sim-ado` run as its own process offers to tests and demos.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sim_ado::{SimConfig, Sizes};

use crate::PAT;

/// Sends a request to the simulator, which must answer.
trait Call {
    async fn response(self) -> reqwest::Response;
    async fn json_body(self) -> Value;
}

impl Call for reqwest::RequestBuilder {
    async fn response(self) -> reqwest::Response {
        self.send().await.unwrap()
    }

    async fn json_body(self) -> Value {
        self.response().await.json().await.unwrap()
    }
}

async fn names(http: &reqwest::Client, org: &str, project: &str) -> Vec<String> {
    let body: Value = http
        .get(format!("{org}/{project}/_apis/git/repositories"))
        .basic_auth("", Some(PAT))
        .json_body()
        .await;
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn data_changes_through_the_control_api_show_in_the_rest_api() {
    let sim = sim_ado::spawn(SimConfig {
        sizes: Sizes {
            projects: 2,
            repositories: 2,
            work_items: 3,
            releases: 0,
            pull_requests: 1,
            pipelines: 0,
            teams: 1,
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (http, org) = (reqwest::Client::new(), sim.org_url());
    let control = format!("http://{}/_control", sim.addr);
    let project = "00000001-0000-4000-8000-000000000000";

    let added: Value = http
        .post(format!("{control}/projects/0/repositories"))
        .json(&json!({"name": "added"}))
        .json_body()
        .await;
    assert!(added["id"].is_string());
    let renamed = http
        .patch(format!("{control}/projects/0/repositories/repo-0-0"))
        .json(&json!({"name": "renamed"}))
        .response()
        .await;
    assert_eq!(renamed.status(), StatusCode::NO_CONTENT);
    let deleted = http
        .delete(format!("{control}/projects/0/repositories/repo-0-1"))
        .response()
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(names(&http, &org, project).await, ["renamed", "added"]);
    let missing = http
        .delete(format!("{control}/projects/0/repositories/nope"))
        .response()
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let id = sim.state.work_item_ids(0)[0];
    let changed = http
        .patch(format!("{control}/workitems/{id}"))
        .json(&json!({"fields": {"System.Title": "Changed"}}))
        .response()
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    let item: Value = http
        .get(format!("{org}/{project}/_apis/wit/workitems?ids={id}"))
        .basic_auth("", Some(PAT))
        .json_body()
        .await;
    assert_eq!(item["value"][0]["fields"]["System.Title"], "Changed");

    let new_project: Value = http.post(format!("{control}/projects")).json_body().await;
    let new_id = new_project["id"].as_str().unwrap();
    assert_eq!(names(&http, &org, new_id).await.len(), 2);
    let gone = http
        .delete(format!("{control}/projects/{project}"))
        .response()
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let projects: Value = http
        .get(format!("{org}/_apis/projects"))
        .basic_auth("", Some(PAT))
        .json_body()
        .await;
    assert_eq!(projects["count"], 2, "one deleted, one added");

    http.post(format!("{control}/faults"))
        .json(&json!({"route": "/_apis/projects", "status": 503, "count": 1}))
        .response()
        .await;
    let faulted = http
        .get(format!("{org}/_apis/projects"))
        .basic_auth("", Some(PAT))
        .response()
        .await;
    assert_eq!(faulted.status(), StatusCode::SERVICE_UNAVAILABLE);
    let counts: Value = http.get(format!("{control}/requests")).json_body().await;
    assert_eq!(counts["requests"]["GET /{org}/_apis/projects"], 2);
}

/// The names of one page of refs, and the next continuation token.
async fn refs_page(http: &reqwest::Client, url: &str) -> (Vec<String>, Option<String>) {
    let response = http.get(url).basic_auth("", Some(PAT)).response().await;
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    let token = response
        .headers()
        .get("x-ms-continuationtoken")
        .map(|t| t.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap();
    let names = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    (names, token)
}

#[tokio::test]
async fn refs_page_by_continuation_token_and_each_branch_comes_once() {
    let sim = sim_ado::spawn(SimConfig {
        sizes: Sizes {
            projects: 1,
            repositories: 5,
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
    let http = reqwest::Client::new();
    let repo = "00000003-0000-4002-8000-000000000002"; // repo-0-2: main and three features
    let refs = format!(
        "{}/Project%200/_apis/git/repositories/{repo}/refs",
        sim.org_url()
    );
    let (all, token) = refs_page(&http, &format!("{refs}?filter=heads/")).await;
    assert_eq!(
        all,
        [
            "refs/heads/feature/x-1",
            "refs/heads/feature/x-2",
            "refs/heads/feature/x-3",
            "refs/heads/main"
        ]
    );
    assert_eq!(token, None, "no $top, no token: everything at once");

    // One at a time; the first branch is deleted after the first page, and the walk still
    // serves every other branch exactly once (the token is a position by name, not an offset).
    let mut walked = Vec::new();
    let mut next = Some(String::new());
    while let Some(token) = next {
        let query = if token.is_empty() {
            String::new()
        } else {
            format!("&continuationToken={token}")
        };
        let (page, following) =
            refs_page(&http, &format!("{refs}?filter=heads/&$top=1{query}")).await;
        assert_eq!(page.len(), 1, "{page:?}");
        if walked.is_empty() {
            assert!(sim.state.push(0, "repo-0-2", "feature/x-1", None));
        }
        walked.extend(page);
        next = following;
    }
    assert_eq!(walked, all, "every branch once, in order");

    let (tags, _) = refs_page(&http, &format!("{refs}?filter=tags/")).await;
    assert!(tags.is_empty());
    let too_many = http
        .get(format!("{refs}?$top=1001"))
        .basic_auth("", Some(PAT))
        .response()
        .await;
    assert_eq!(too_many.status(), StatusCode::BAD_REQUEST);
    let empty = "00000003-0000-4004-8000-000000000004"; // repo-0-4 has no branch
    let (none, _) = refs_page(
        &http,
        &format!(
            "{}/Project%200/_apis/git/repositories/{empty}/refs",
            sim.org_url()
        ),
    )
    .await;
    assert!(none.is_empty());

    let unknown = http
        .get(format!(
            "{}/Project%200/_apis/git/repositories/nope/refs",
            sim.org_url()
        ))
        .basic_auth("", Some(PAT))
        .response()
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["typeKey"], "GitRepositoryNotFoundException");
}

#[tokio::test]
async fn pushes_through_the_control_api_create_move_and_delete_branches() {
    let sim = sim_ado::spawn(SimConfig {
        sizes: Sizes {
            projects: 1,
            repositories: 5,
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
    let http = reqwest::Client::new();
    let control = format!("http://{}/_control/projects/0/repositories", sim.addr);
    let branches = |repo: &str| {
        format!(
            "{}/Project%200/_apis/git/repositories/{repo}/refs?filter=heads/new",
            sim.org_url()
        )
    };
    let refs_of = |repo: &'static str| {
        let (http, url) = (http.clone(), branches(repo));
        async move {
            let body: Value = http.get(url).basic_auth("", Some(PAT)).json_body().await;
            body["value"].as_array().unwrap().clone()
        }
    };
    let push = |repo: &str, body: Value| {
        http.post(format!("{control}/{repo}/pushes"))
            .json(&body)
            .response()
    };
    let (a, b) = ("a".repeat(40), "b".repeat(40));
    let created = push("repo-0-0", json!({"branch": "new", "newObjectId": a})).await;
    assert_eq!(created.status(), StatusCode::NO_CONTENT);
    assert_eq!(refs_of("repo-0-0").await[0]["objectId"], json!(a));
    push(
        "repo-0-0",
        json!({"branch": "refs/heads/new", "newObjectId": b}),
    )
    .await;
    assert_eq!(refs_of("repo-0-0").await[0]["objectId"], json!(b));
    push("repo-0-0", json!({"branch": "new", "newObjectId": null})).await;
    assert!(refs_of("repo-0-0").await.is_empty());
    let missing = push("repo-0-0", json!({"branch": "new", "newObjectId": null})).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND, "nothing to delete");

    // The first push to an empty repository makes its default branch.
    push("repo-0-4", json!({"branch": "new", "newObjectId": a})).await;
    assert_eq!(refs_of("repo-0-4").await.len(), 1);
    let repo: Value = http
        .get(format!(
            "{}/_apis/git/repositories/00000003-0000-4004-8000-000000000004",
            sim.org_url()
        ))
        .basic_auth("", Some(PAT))
        .json_body()
        .await;
    assert_eq!(repo["defaultBranch"], "refs/heads/new");
}
