//! The `wiki` kind: every page of every wiki (token-paged batches), with content when asked,
//! `wikiType`, and a push to a project wiki bringing its pages live.

use sim_ado::Sizes;

use super::Env;
use crate::harness::eventually;

const MAPPING: &str = r#"
resources:
  - kind: wiki
    selector:
      query: 'true'
      includeContent: true
    port:
      entity:
        mappings:
          identifier: .__wiki.id + "/" + (.id | tostring)
          title: .path
          blueprint: '"azureDevopsWikiPage"'
          properties:
            project: .__project.name
            type: .__wiki.type
            content: .content
"#;

/// Two projects: project wikis of seven pages each, and project 0's code wiki of three.
async fn env(mapping: &'static str) -> Env {
    let sizes = Sizes {
        projects: 2,
        repositories: 1,
        work_items: 0,
        releases: 0,
        pull_requests: 0,
        pipelines: 0,
        teams: 1,
    };
    let blueprints: [(&str, &[&str]); 1] =
        [("azureDevopsWikiPage", &["project", "type", "content"])];
    Env::start(sizes, mapping, &blueprints).await
}

fn page(env: &Env, project: usize, id: u64) -> Option<serde_json::Value> {
    env.entity(
        "azureDevopsWikiPage",
        &format!(
            "00000010-{project:04x}-4000-8000-{:012x}/{id}",
            project * 100_000
        ),
    )
}

#[tokio::test]
async fn a_resync_writes_every_page_of_every_wiki_with_its_content() {
    let env = env(MAPPING).await;
    let report = env.resync().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(env.count("azureDevopsWikiPage"), 7 + 3 + 7);
    let faq = page(&env, 1, 6).unwrap();
    assert_eq!(faq["title"], "/FAQ");
    assert_eq!(faq["properties"]["project"], "Project 1");
    assert!(
        faq["properties"]["content"]
            .as_str()
            .unwrap()
            .starts_with("# /FAQ")
    );
    let requests = env.ado.state.requests();
    assert_eq!(
        requests.get("POST /{org}/{project}/_apis/wiki/wikis/{wiki}/pagesbatch"),
        Some(&(2 + 1 + 2)),
        "batches of at most five pages, the token followed: {requests:?}"
    );
}

#[tokio::test]
async fn wiki_type_selects_code_wikis_only() {
    const CODE: &str = r#"
resources:
  - kind: wiki
    selector:
      query: 'true'
      wikiType: codeWiki
    port:
      entity:
        mappings:
          identifier: .__wiki.id + "/" + (.id | tostring)
          title: .path
          blueprint: '"azureDevopsWikiPage"'
          properties:
            type: .__wiki.type
"#;
    let env = env(CODE).await;
    assert!(env.resync().await.succeeded());
    assert_eq!(env.count("azureDevopsWikiPage"), 3);
}

#[tokio::test]
async fn editing_a_project_wiki_page_brings_the_wiki_live() {
    let env = env(MAPPING).await;
    assert!(env.resync().await.succeeded());
    let _live = env.serve().await;
    let deploy = env
        .ado
        .state
        .edit_wiki_page(1, "/Runbooks/Deploy", "Deploy on Tuesdays.")
        .unwrap();
    let new = env
        .ado
        .state
        .edit_wiki_page(1, "/Oncall", "Call the oncall.")
        .unwrap();
    eventually("the edited and the new page reach Port", || {
        page(&env, 1, deploy).is_some_and(|p| p["properties"]["content"] == "Deploy on Tuesdays.")
            && page(&env, 1, new).is_some_and(|p| p["title"] == "/Oncall")
    })
    .await;
    assert_eq!(env.ado.state.deliveries().1, 0, "no delivery failed");
}
