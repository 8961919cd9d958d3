//! A search query in an identifier or a relation resolves at Port when the entity is written;
//! Ocean writes resources one after another, so it finds what earlier resources wrote. Lanes
//! run concurrently here, so an entity with a search waits for the resources before its own.

use super::{Harness, projects, repos};

/// Projects, then repositories related to their project by a search on its identifier (each
/// kind in its own lane: their blueprints differ).
const SEARCH_MAPPING: &str = r#"
createMissingRelatedEntities: false
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
  - kind: repository
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .id
          title: .name
          blueprint: '"azureDevopsRepository"'
          relations:
            project:
              combinator: '"and"'
              rules:
                - property: '"$identifier"'
                  operator: '"="'
                  value: .project
"#;

#[tokio::test]
async fn a_search_relation_finds_what_an_earlier_resource_wrote_in_another_lane() {
    let h = Harness::new(SEARCH_MAPPING).await;
    // 60 pages of one project each; the repository relates to the last one.
    let pages = (0..60)
        .map(|i| Some(projects(&[format!("p{i}").as_str()])))
        .collect();
    h.script.set("project", pages);
    h.script
        .set("repository", vec![Some(repos(&["r1"], "p59"))]);
    let report = h.run().await;
    assert!(report.succeeded(), "{report:?}");
    let repository = h
        .env
        .sim
        .state
        .entity("azureDevopsRepository", "r1")
        .expect("r1 written");
    assert_eq!(repository["relations"]["project"], "p59", "{repository}");
}
