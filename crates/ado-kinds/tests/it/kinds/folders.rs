//! The `folder` kind: folder patterns per repository (all, or those named with a branch),
//! `projectName`, and what each folder item carries.

use sim_ado::Sizes;

use super::Env;
use crate::harness::eventually;

const MAPPING: &str = r#"
resources:
  - kind: folder
    selector:
      query: 'true'
      includedFiles: [README.md]
      folders:
        - path: 'services/*'
        - path: .config
          repos:
            - name: repo-0-0
              branch: release
    port:
      entity:
        mappings:
          identifier: .__repository.name + "/" + .__branch + "/" + (.path | ltrimstr("/"))
          title: .path
          blueprint: '"azureDevopsFolder"'
          properties:
            pattern: .__pattern
            readme: .__includedFiles["README.md"]
"#;

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
    let blueprints: [(&str, &[&str]); 1] = [("azureDevopsFolder", &["pattern", "readme"])];
    Env::start(sizes, mapping, &blueprints).await
}

#[tokio::test]
async fn a_resync_writes_the_folders_each_pattern_matches_in_its_repositories() {
    let env = env(MAPPING).await;
    let report = env.resync().await;
    assert!(report.succeeded(), "{report:?}");
    let mut identifiers: Vec<String> = env
        .port
        .sim
        .state
        .entities()
        .iter()
        .filter(|e| e["blueprint"] == "azureDevopsFolder")
        .map(|e| e["identifier"].as_str().unwrap().to_owned())
        .collect();
    identifiers.sort();
    assert_eq!(
        identifiers,
        [
            "repo-0-0/release/.config",
            "repo-0-1/main/services/api",
            "repo-0-1/main/services/web",
            "repo-0-5/main/services/api",
            "repo-0-5/main/services/web",
        ]
    );
    let api = env
        .entity("azureDevopsFolder", "repo-0-1/main/services/api")
        .unwrap();
    assert_eq!(api["properties"]["pattern"], "services/*");
    assert!(
        api["properties"]["readme"]
            .as_str()
            .unwrap()
            .starts_with("# repo-0-1")
    );
}

#[tokio::test]
async fn project_name_limits_the_projects_and_a_missing_folders_list_is_refused() {
    const OTHER: &str = r#"
resources:
  - kind: folder
    selector:
      query: 'true'
      projectName: Project 9
      folders:
        - path: 'services/*'
    port:
      entity:
        mappings:
          identifier: .path
          blueprint: '"azureDevopsFolder"'
"#;
    let env = env(OTHER).await;
    assert!(env.resync().await.succeeded());
    assert_eq!(env.count("azureDevopsFolder"), 0);

    let mut env = env;
    env.mapping = r#"
resources:
  - kind: folder
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .path
          blueprint: '"azureDevopsFolder"'
"#;
    let report = env.resync().await;
    assert!(!report.succeeded());
    assert!(format!("{report:?}").contains("folders"));
}

#[tokio::test]
async fn a_push_that_adds_or_removes_a_matching_folder_updates_port_live() {
    let env = env(MAPPING).await;
    assert!(env.resync().await.succeeded());
    let _live = env.serve().await;
    let added = "repo-0-3/main/services/new";
    env.ado
        .state
        .commit(0, "repo-0-3", &[("services/new/app.json", Some("{}"))])
        .unwrap();
    eventually("the new folder reaches Port", || {
        env.entity("azureDevopsFolder", added)
            .is_some_and(|e| e["properties"]["pattern"] == "services/*")
    })
    .await;
    env.ado
        .state
        .commit(0, "repo-0-3", &[("services/new/app.json", None)])
        .unwrap();
    eventually("the removed folder leaves Port", || {
        env.entity("azureDevopsFolder", added).is_none()
    })
    .await;
    assert!(
        env.entity("azureDevopsFolder", "repo-0-1/main/services/api")
            .is_some()
    );
}

#[tokio::test]
async fn file_and_folder_resources_read_a_pushed_commits_changes_once() {
    const BOTH: &str = r#"
resources:
  - kind: folder
    selector:
      query: 'true'
      folders:
        - path: 'services/*'
    port:
      entity:
        mappings:
          identifier: .__repository.name + "/" + .__branch + "/" + (.path | ltrimstr("/"))
          title: .path
          blueprint: '"azureDevopsFolder"'
  - kind: file
    selector:
      query: 'true'
      files:
        path: '**/app.json'
    port:
      entity:
        mappings:
          identifier: .repo.name + "/" + .file.path
          title: .file.path
          blueprint: '"azureDevopsFolder"'
"#;
    let env = env(BOTH).await;
    let _live = env.serve().await;
    env.ado.state.reset_requests();
    env.ado
        .state
        .commit(0, "repo-0-3", &[("services/new/app.json", Some("{}"))])
        .unwrap();
    eventually("the folder and the file reach Port", || {
        env.entity("azureDevopsFolder", "repo-0-3/main/services/new")
            .is_some()
            && env
                .entity("azureDevopsFolder", "repo-0-3/services/new/app.json")
                .is_some()
    })
    .await;
    let requests = env.ado.state.requests();
    assert_eq!(
        requests.get("GET /{org}/{project}/_apis/git/repositories/{repo}/commits/{sha}/changes"),
        Some(&1),
        "{requests:?}"
    );
}
