//! gitops spec files: a push changing `port.yml` on the default branch (`useDefaultBranch`)
//! upserts the entities it declares, `file://` values read at the commit, under the gitops
//! datasource; entities it stops declaring are deleted.

use serde_json::json;
use sim_ado::Sizes;

use super::Env;
use crate::harness::eventually;

const MAPPING: &str = r#"
useDefaultBranch: true
resources:
  - kind: repository
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .id
          title: .name
          blueprint: '"azureDevopsRepository"'
"#;

#[tokio::test]
async fn a_spec_file_push_upserts_its_entities_and_deletes_those_it_drops() {
    let sizes = Sizes {
        projects: 1,
        repositories: 4,
        work_items: 0,
        releases: 0,
        pull_requests: 0,
        pipelines: 0,
        teams: 1,
    };
    let blueprints: [(&str, &[&str]); 2] = [("azureDevopsRepository", &[]), ("service", &["tier"])];
    let env = Env::start(sizes, MAPPING, &blueprints).await;
    let _live = env.serve().await;
    let spec = "- identifier: svc-a\n  title: A\n  blueprint: service\n  properties:\n    tier: Silver\n\
                - identifier: svc-b\n  blueprint: service\n  properties:\n    tier: file://tier.txt\n";
    env.ado
        .state
        .commit(
            0,
            "repo-0-3",
            &[("port.yml", Some(spec)), ("tier.txt", Some("Gold"))],
        )
        .unwrap();
    eventually("both declared entities reach Port", || {
        env.entity("service", "svc-a").is_some()
            && env
                .entity("service", "svc-b")
                .is_some_and(|e| e["properties"]["tier"] == "Gold")
    })
    .await;
    let datasource = env
        .port
        .sim
        .state
        .datasource_of("service", "svc-a")
        .unwrap();
    assert!(datasource.ends_with("/kinds/gitops"), "{datasource}");

    let only_a = "identifier: svc-a\ntitle: A\nblueprint: service\nproperties:\n  tier: Silver\n";
    env.ado
        .state
        .commit(0, "repo-0-3", &[("port.yml", Some(only_a))])
        .unwrap();
    eventually("the dropped entity leaves Port", || {
        env.entity("service", "svc-b").is_none()
    })
    .await;
    assert_eq!(env.entity("service", "svc-a").unwrap()["title"], json!("A"));

    // A spec that no longer parses changes nothing; the next push of the same repository
    // (applied after it) declares a new entity without deleting the old one.
    env.ado
        .state
        .commit(0, "repo-0-3", &[("port.yml", Some("identifier: [broken"))])
        .unwrap();
    let both = "- identifier: svc-a\n  title: A\n  blueprint: service\n- identifier: svc-c\n  blueprint: service\n";
    env.ado
        .state
        .commit(0, "repo-0-3", &[("port.yml", Some(both))])
        .unwrap();
    eventually("the push after the broken one is applied", || {
        env.entity("service", "svc-c").is_some()
    })
    .await;
    assert!(
        env.entity("service", "svc-a").is_some(),
        "the broken spec deleted nothing"
    );
    // The exporter's reconciliation leaves gitops entities alone.
    assert!(env.resync().await.succeeded());
    assert!(env.entity("service", "svc-a").is_some() && env.entity("service", "svc-c").is_some());
}
