//! The `file` kind: literal and glob paths on every repository's default branch, content
//! parsed, `files.repos` and `includedFiles`, one listing per repository.

use serde_json::json;
use sim_ado::Sizes;

use super::Env;
use crate::harness::eventually;

const MAPPING: &str = r#"
resources:
  - kind: file
    selector:
      query: 'true'
      files:
        path: [port.yml, '**/package.json', .config/*.yaml, missing.txt]
      includedFiles: [README.md]
    port:
      entity:
        mappings:
          identifier: .repo.name + "/" + .file.path
          title: .file.path
          blueprint: '"azureDevopsFile"'
          properties:
            version: .file.content.parsed.version
            tier: .file.content.parsed.properties.tier
            owners: if (.file.content.parsed | type) == "array" then .file.content.parsed | map(.owner) else null end
            readme: .__includedFiles["README.md"]
            size: .file.size
"#;

/// One project of six repositories (the fifth is empty): port.yml in repositories 0 and 3,
/// package.json at the root of 0 and 2 and under services/{api,web} of 1 and 5, a two-document
/// .config/settings.yaml in 0 and 5.
async fn env(mapping: &'static str) -> Env {
    let sizes = Sizes {
        projects: 1,
        repositories: 6,
        work_items: 0,
        releases: 0,
        pull_requests: 0,
        pipelines: 0,
        teams: 1,
    };
    let blueprints: [(&str, &[&str]); 1] = [(
        "azureDevopsFile",
        &["version", "tier", "owners:array", "readme", "size:number"],
    )];
    Env::start(sizes, mapping, &blueprints).await
}

#[tokio::test]
async fn a_resync_writes_every_matching_file_with_its_parsed_content() {
    let env = env(MAPPING).await;
    let report = env.resync().await;
    assert!(report.succeeded(), "{report:?}");
    let identifiers: std::collections::BTreeSet<String> = env
        .port
        .sim
        .state
        .entities()
        .iter()
        .filter(|e| e["blueprint"] == "azureDevopsFile")
        .map(|e| e["identifier"].as_str().unwrap().to_owned())
        .collect();
    let expected: std::collections::BTreeSet<String> = [
        "repo-0-0/port.yml",
        "repo-0-0/package.json",
        "repo-0-0/.config/settings.yaml",
        "repo-0-1/services/api/package.json",
        "repo-0-1/services/web/package.json",
        "repo-0-2/package.json",
        "repo-0-3/port.yml",
        "repo-0-5/services/api/package.json",
        "repo-0-5/services/web/package.json",
        "repo-0-5/.config/settings.yaml",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(identifiers, expected);

    let port_yml = env.entity("azureDevopsFile", "repo-0-3/port.yml").unwrap();
    assert_eq!(
        port_yml["properties"]["tier"], "Internal Service",
        "YAML parsed"
    );
    assert!(
        port_yml["properties"]["readme"]
            .as_str()
            .unwrap()
            .starts_with("# repo-0-3")
    );
    let package = env
        .entity("azureDevopsFile", "repo-0-2/package.json")
        .unwrap();
    assert_eq!(package["properties"]["version"], "1.2.0", "JSON parsed");
    let settings = env
        .entity("azureDevopsFile", "repo-0-0/.config/settings.yaml")
        .unwrap();
    assert_eq!(
        settings["properties"]["owners"],
        json!(["platform", "security"])
    );

    // The missing literal makes the first batch fail: then each path alone, per repository.
    let requests = env.ado.state.requests();
    let batches = requests
        .get("POST /{org}/{project}/_apis/git/repositories/{repo}/itemsbatch")
        .copied()
        .unwrap_or_default();
    assert_eq!(batches, 5 * (1 + 4), "{requests:?}");
    assert_eq!(env.resync().await.total_upserted(), 0);
}

#[tokio::test]
async fn files_repos_limits_the_repositories_and_one_batch_lists_them() {
    const ONE_REPO: &str = r#"
resources:
  - kind: file
    selector:
      query: 'true'
      files:
        path: 'services/*/package.json'
        repos: [repo-0-1]
    port:
      entity:
        mappings:
          identifier: .repo.name + "/" + .file.path
          title: .file.path
          blueprint: '"azureDevopsFile"'
          properties:
            version: .file.content.parsed.version
"#;
    let env = env(ONE_REPO).await;
    assert!(env.resync().await.succeeded());
    assert_eq!(env.count("azureDevopsFile"), 2);
    let requests = env.ado.state.requests();
    assert_eq!(
        requests.get("POST /{org}/{project}/_apis/git/repositories/{repo}/itemsbatch"),
        Some(&1)
    );
}

#[tokio::test]
async fn pushes_to_the_default_branch_update_add_and_delete_files_live() {
    let env = env(MAPPING).await;
    assert!(env.resync().await.succeeded());
    let _live = env.serve().await;
    let changed = env.ado.state.commit(
        0,
        "repo-0-3",
        &[
            ("port.yml", Some("properties:\n  tier: Other\n")),
            ("services/new/package.json", Some(r#"{"version": "9.9.9"}"#)),
            ("notes.txt", Some("not selected")),
        ],
    );
    assert!(changed.is_some());
    eventually("the edit and the new file reach Port", || {
        env.entity("azureDevopsFile", "repo-0-3/port.yml")
            .is_some_and(|e| e["properties"]["tier"] == "Other")
            && env
                .entity("azureDevopsFile", "repo-0-3/services/new/package.json")
                .is_some_and(|e| e["properties"]["version"] == "9.9.9")
    })
    .await;
    assert!(
        env.entity("azureDevopsFile", "repo-0-3/notes.txt")
            .is_none()
    );

    env.ado
        .state
        .commit(0, "repo-0-3", &[("port.yml", None)])
        .unwrap();
    eventually("the deleted file leaves Port", || {
        env.entity("azureDevopsFile", "repo-0-3/port.yml").is_none()
    })
    .await;
    assert!(env.entity("azureDevopsFile", "repo-0-0/port.yml").is_some());
    assert_eq!(env.ado.state.deliveries().1, 0, "no delivery failed");
}

#[tokio::test]
async fn a_live_file_is_mapped_only_by_the_resources_whose_paths_select_it() {
    const TWO: &str = r#"
resources:
  - kind: file
    selector:
      query: 'true'
      files:
        path: port.yml
    port:
      entity:
        mappings:
          identifier: .repo.name + "/" + .file.path
          title: .file.path
          blueprint: '"azureDevopsFile"'
  - kind: file
    selector:
      query: 'true'
      files:
        path: '**/package.json'
    port:
      entity:
        mappings:
          identifier: .repo.name + "/" + .file.path
          title: .file.path
          blueprint: '"azureDevopsPackage"'
"#;
    let env = env(TWO).await;
    env.port
        .sim
        .state
        .put_blueprint(json!({"identifier": "azureDevopsPackage",
        "title": "Package", "schema": {"properties": {}, "required": []}, "relations": {}}));
    assert!(env.resync().await.succeeded());
    let _live = env.serve().await;
    env.ado
        .state
        .commit(0, "repo-0-3", &[("tools/package.json", Some("{}"))])
        .unwrap();
    eventually("the package reaches its blueprint", || {
        env.entity("azureDevopsPackage", "repo-0-3/tools/package.json")
            .is_some()
    })
    .await;
    assert!(
        env.entity("azureDevopsFile", "repo-0-3/tools/package.json")
            .is_none(),
        "the port.yml resource never reads package.json"
    );
}
