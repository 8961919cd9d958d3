//! How the simulator reads paths and answers items as Azure DevOps does, for clients other than
//! ours (the Python integration, conformance/README.md): case-insensitive route words, git
//! routes without the project, an item's bytes unless JSON is asked for, and the items list.

use serde_json::Value;
use sim_ado::{SimConfig, Sizes};

use crate::PAT;

async fn get(http: &reqwest::Client, url: &str, accept: Option<&str>) -> reqwest::Response {
    let mut request = http.get(url).basic_auth("", Some(PAT));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    request.send().await.unwrap()
}

async fn simulator() -> (sim_ado::RunningSim, String, String) {
    let sim = sim_ado::spawn(SimConfig {
        sizes: Sizes {
            projects: 1,
            repositories: 2,
            ..Sizes::default()
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let org = sim.org_url();
    let repos: Value = reqwest::Client::new()
        .get(format!("{org}/Project 0/_apis/git/repositories"))
        .basic_auth("", Some(PAT))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let repo = repos["value"][0]["id"].as_str().unwrap().to_owned();
    (sim, org, repo)
}

#[tokio::test]
async fn route_words_are_case_insensitive_and_git_routes_take_no_project() {
    let (_sim, org, repo) = simulator().await;
    let http = reqwest::Client::new();
    for url in [
        format!("{org}/Project 0/_apis/git/repositories/{repo}/items?path=README.md"),
        format!("{org}/Project 0/_APIS/Git/Repositories/{repo}/Items?path=README.md"),
        format!("{org}/_apis/git/repositories/{repo}/items?path=README.md"),
    ] {
        let response = get(&http, &url, None).await;
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(
            response.text().await.unwrap(),
            "# repo-0-0\n\nService owned by team 0.\n",
            "{url}"
        );
    }
}

#[tokio::test]
async fn an_item_is_its_bytes_unless_json_is_asked_for() {
    let (_sim, org, repo) = simulator().await;
    let http = reqwest::Client::new();
    let base = format!("{org}/_apis/git/repositories/{repo}/items?path=README.md");
    let bytes = get(&http, &base, Some("*/*")).await;
    assert_eq!(bytes.headers()["content-type"], "application/octet-stream");
    let json: Value = get(&http, &base, Some("application/json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["path"], "/README.md");
    assert!(
        json.get("content").is_none(),
        "content only on request: {json}"
    );
    let with_content: Value = get(
        &http,
        &format!("{base}&includeContent=true&$format=json"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        with_content["content"],
        "# repo-0-0\n\nService owned by team 0.\n"
    );
    let missing = get(&http, &format!("{base}.txt"), None).await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_items_list_holds_the_scope_and_its_children() {
    let (_sim, org, _) = simulator().await;
    let http = reqwest::Client::new();
    // Repository 1 of a project has service folders (items.rs seeds them).
    let repos: Value = get(
        &http,
        &format!("{org}/Project 0/_apis/git/repositories"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let repo = repos["value"][1]["id"].as_str().unwrap();
    let list: Value = get(
        &http,
        &format!(
            "{org}/_apis/git/repositories/{repo}/items?scopePath=/services&recursionLevel=OneLevel"
        ),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let paths: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/services", "/services/api", "/services/web"]);
    assert_eq!(list["count"], 3);
}
