//! The teams area: `team` (with members and area paths), `member`, `iteration` and
//! `area-path`, resynced from sim-ado; lists shared by two kinds are read once.

use serde_json::json;
use sim_ado::Sizes;

use super::{Env, PROJECT};

const MAPPING: &str = r#"
resources:
  - kind: team
    selector:
      query: 'true'
      includeMembers: true
      includeAreaPaths: true
    port:
      entity:
        mappings:
          identifier: .id
          title: .name
          blueprint: '"azureDevopsTeam"'
          properties:
            project: .projectName
            members: .__members | map(.identity.uniqueName)
            areaPath: .__areaPaths.defaultValue
  - kind: member
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .__teamId + "/" + .identity.id
          title: .identity.displayName
          blueprint: '"azureDevopsMember"'
          properties:
            email: .identity.uniqueName
            admin: .isTeamAdmin
  - kind: iteration
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .__team.id + "/" + .id
          title: .name
          blueprint: '"azureDevopsIteration"'
          properties:
            path: .path
            timeFrame: .attributes.timeFrame
            project: .__project.name
  - kind: area-path
    selector:
      query: 'true'
      depth: 5
    port:
      entity:
        mappings:
          identifier: .identifier
          title: .name
          blueprint: '"azureDevopsAreaPath"'
          properties:
            path: .__normalizedPath
            parent: .__parentIdentifier
            project: .__project.id
"#;

/// Two projects of two teams each.
async fn env(mapping: &'static str) -> Env {
    let sizes = Sizes {
        projects: 2,
        repositories: 1,
        work_items: 0,
        releases: 0,
        pull_requests: 0,
        pipelines: 0,
        teams: 2,
    };
    let blueprints: [(&str, &[&str]); 4] = [
        ("azureDevopsTeam", &["project", "members:array", "areaPath"]),
        ("azureDevopsMember", &["email", "admin:boolean"]),
        ("azureDevopsIteration", &["path", "timeFrame", "project"]),
        ("azureDevopsAreaPath", &["path", "parent", "project"]),
    ];
    Env::start(sizes, mapping, &blueprints).await
}

#[tokio::test]
async fn a_resync_writes_teams_with_members_and_areas_their_members_iterations_and_areas() {
    let env = env(MAPPING).await;
    let report = env.resync().await;
    assert!(report.succeeded(), "{report:?}");

    assert_eq!(env.count("azureDevopsTeam"), 4);
    let default_team = env
        .entity("azureDevopsTeam", "00000002-0000-4000-8000-000000000000")
        .unwrap();
    assert_eq!(default_team["title"], "Project 0 Team");
    assert_eq!(default_team["properties"]["areaPath"], "Project 0");
    assert_eq!(
        default_team["properties"]["members"],
        json!([
            "user0@example.com",
            "user1@example.com",
            "user2@example.com"
        ])
    );
    let second = env
        .entity("azureDevopsTeam", "00000002-0000-4001-8000-000000000001")
        .unwrap();
    assert_eq!(second["properties"]["areaPath"], r"Project 0\Team 1");

    assert_eq!(env.count("azureDevopsMember"), 12, "three per team");
    assert_eq!(
        env.count("azureDevopsIteration"),
        12,
        "three sprints per team"
    );
    let current = env
        .entity(
            "azureDevopsIteration",
            "00000002-0000-4001-8000-000000000001/0000000b-0000-4001-8000-000000000001",
        )
        .unwrap();
    assert_eq!(current["properties"]["timeFrame"], "current");
    assert_eq!(current["properties"]["path"], r"Project 0\Sprint 2");

    // Root, Web, Mobile, Mobile\iOS and Team 1's area, per project.
    assert_eq!(env.count("azureDevopsAreaPath"), 10);
    let ios = env
        .entity(
            "azureDevopsAreaPath",
            "0000000a-0000-4003-8000-000000000003",
        )
        .unwrap();
    assert_eq!(ios["properties"]["path"], r"Project 0\Mobile\iOS");
    assert_eq!(
        ios["properties"]["parent"],
        "0000000a-0000-4002-8000-000000000002"
    );
    assert_eq!(ios["properties"]["project"], PROJECT);

    // One organization-wide team list and one member list per team, although two kinds use
    // each; the project team lists are read for `iteration` only.
    let requests = env.ado.state.requests();
    let count = |route: &str| requests.get(route).copied().unwrap_or_default();
    assert_eq!(count("GET /{org}/_apis/teams"), 1, "{requests:?}");
    assert_eq!(
        count("GET /{org}/_apis/projects/{project}/teams/{team}/members"),
        4
    );
    assert_eq!(count("GET /{org}/_apis/projects/{project}/teams"), 2);

    // A second resync writes nothing.
    let again = env.resync().await;
    assert!(again.succeeded(), "{again:?}");
    assert_eq!(again.total_upserted(), 0, "{again:?}");
}

/// Area paths without `depth`: the service sends the root area only.
const ROOTS: &str = r#"
resources:
  - kind: area-path
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .identifier
          title: .name
          blueprint: '"azureDevopsAreaPath"'
          properties:
            path: .__normalizedPath
"#;

#[tokio::test]
async fn without_depth_the_service_returns_only_the_root_area() {
    let env = env(ROOTS).await;
    assert!(env.resync().await.succeeded());
    assert_eq!(env.count("azureDevopsAreaPath"), 2, "one root per project");
}

#[tokio::test]
async fn a_bad_depth_fails_the_kind_naming_the_option_and_deletes_nothing() {
    let mut env = env(ROOTS).await;
    assert!(env.resync().await.succeeded());
    env.mapping = r#"
resources:
  - kind: area-path
    selector:
      query: 'true'
      depth: deep
    port:
      entity:
        mappings:
          identifier: .identifier
          title: .name
          blueprint: '"azureDevopsAreaPath"'
"#;
    let report = env.resync().await;
    assert!(!report.succeeded());
    let failure = format!("{report:?}");
    assert!(failure.contains("depth"), "{failure}");
    assert_eq!(env.count("azureDevopsAreaPath"), 2, "nothing deleted");
}
