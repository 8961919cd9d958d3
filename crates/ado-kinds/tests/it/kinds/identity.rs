//! The identity area: `user` from entitlements and from the Graph (with group memberships),
//! `group` and `group-member`, resynced from sim-ado with every list followed page by page.

use serde_json::json;
use sim_ado::Sizes;

use super::Env;

const MAPPING: &str = r#"
resources:
  - kind: user
    selector:
      query: 'true'
      includeFields: [license]
    port:
      entity:
        mappings:
          identifier: .user.principalName
          title: .user.displayName
          blueprint: '"azureDevopsUser"'
          properties:
            license: .accessLevel.licenseDisplayName
  - kind: user
    selector:
      query: 'true'
      source: graph
      subjectTypes: [aad]
      includeGroupMemberships: true
    port:
      entity:
        mappings:
          identifier: .descriptor
          title: .displayName
          blueprint: '"azureDevopsGraphUser"'
          properties:
            groups: .__groups | map(.principalName)
            projects: .__projects
  - kind: group
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .descriptor
          title: .principalName
          blueprint: '"azureDevopsGroup"'
  - kind: group-member
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .__group.descriptor + "/" + .descriptor
          title: .displayName
          blueprint: '"azureDevopsGroupMember"'
          properties:
            group: .__group.principalName
            kind: .subjectKind
"#;

/// Three projects of one team each: users 0–2, 1–3 and 2–4 are their contributors, user `p`
/// administers project `p`, user 0 and the three administrators groups the organization.
async fn env(mapping: &'static str) -> Env {
    let sizes = Sizes {
        projects: 3,
        repositories: 1,
        work_items: 0,
        releases: 0,
        pull_requests: 0,
        pipelines: 0,
        teams: 1,
    };
    let blueprints: [(&str, &[&str]); 4] = [
        ("azureDevopsUser", &["license"]),
        ("azureDevopsGraphUser", &["groups:array", "projects:array"]),
        ("azureDevopsGroup", &[]),
        ("azureDevopsGroupMember", &["group", "kind"]),
    ];
    Env::start(sizes, mapping, &blueprints).await
}

#[tokio::test]
async fn a_resync_writes_users_groups_and_members_following_every_page() {
    let env = env(MAPPING).await;
    let report = env.resync().await;
    assert!(report.succeeded(), "{report:?}");

    // Seven users and a guest: two pages of entitlements (a body continuation token).
    assert_eq!(env.count("azureDevopsUser"), 8);
    let first = env.entity("azureDevopsUser", "user0@example.com").unwrap();
    assert_eq!(first["properties"]["license"], "Basic + Test Plans");

    // The Graph without the guest (`subjectTypes: [aad]`), with direct groups.
    assert_eq!(env.count("azureDevopsGraphUser"), 7);
    let graph_users = env.port.sim.state.entities();
    let user0 = graph_users
        .iter()
        .find(|e| e["blueprint"] == "azureDevopsGraphUser" && e["title"] == "User 0")
        .unwrap();
    assert_eq!(
        user0["properties"]["groups"],
        json!([
            r"[acme]\Project Collection Administrators",
            r"[Project 0]\Contributors",
            r"[Project 0]\Project Administrators"
        ]),
        "in the order Azure DevOps lists the memberships"
    );
    assert_eq!(
        user0["properties"]["projects"],
        json!(["Project 0", "acme"])
    );

    assert_eq!(env.count("azureDevopsGroup"), 7);
    // The collection administrators (user 0 and three groups), then 3 contributors and one
    // administrator per project.
    assert_eq!(env.count("azureDevopsGroupMember"), 16);
    let nested = env
        .port
        .sim
        .state
        .entities()
        .into_iter()
        .filter(|e| {
            e["blueprint"] == "azureDevopsGroupMember" && e["properties"]["kind"] == "group"
        })
        .count();
    assert_eq!(nested, 3, "groups in a group are members, not expanded");

    let requests = env.ado.state.requests();
    let count = |route: &str| requests.get(route).copied().unwrap_or_default();
    assert_eq!(
        count("GET /{org}/_apis/userentitlements"),
        2,
        "{requests:?}"
    );
    assert_eq!(
        count("GET /{org}/_apis/graph/groups"),
        2,
        "one listing (two pages) for group and group-member"
    );
    // One per group, and one per page of Graph users with groups (users 5 and 6, on the second
    // page, are in none: nothing to look up).
    assert_eq!(count("POST /{org}/_apis/graph/subjectlookup"), 7 + 1);

    let again = env.resync().await;
    assert_eq!(again.total_upserted(), 0, "{again:?}");
}

#[tokio::test]
async fn an_unknown_source_fails_the_kind_naming_the_allowed_ones() {
    const BAD: &str = r#"
resources:
  - kind: user
    selector:
      query: 'true'
      source: ldap
    port:
      entity:
        mappings:
          identifier: .id
          blueprint: '"azureDevopsUser"'
"#;
    let env = env(BAD).await;
    let report = env.resync().await;
    assert!(!report.succeeded());
    let text = format!("{report:?}");
    assert!(
        text.contains("ldap") && text.contains("entitlements, graph"),
        "{text}"
    );
}

/// Only `group-member`, so that a scripted Graph answer reaches its memberships.
const MEMBERS_ONLY: &str = r#"
resources:
  - kind: group-member
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .__group.descriptor + "/" + .descriptor
          title: .displayName
          blueprint: '"azureDevopsGroupMember"'
          properties:
            group: .__group.principalName
            kind: .subjectKind
"#;

/// Issue 13: a group whose memberships fail is skipped (the others are written, nothing of the
/// blueprint is deleted); a group whose memberships answer 404 has no members, as upstream.
#[tokio::test]
async fn a_group_whose_members_fail_is_skipped_and_a_404_means_no_members() {
    let env = env(MEMBERS_ONLY).await;
    assert!(env.resync().await.succeeded());
    assert_eq!(env.count("azureDevopsGroupMember"), 16);

    env.ado
        .state
        .inject("/_apis/graph/memberships", 400, None, 1);
    let partial = env.resync().await;
    assert!(partial.succeeded(), "{partial}");
    assert_eq!(partial.resources[0].skipped_parts.len(), 1, "{partial}");
    assert!(partial.resources[0].skipped_parts[0].starts_with("members of group"));
    assert_eq!(env.count("azureDevopsGroupMember"), 16, "nothing deleted");

    env.ado
        .state
        .inject("/_apis/graph/memberships", 404, None, 1);
    let report = env.resync().await;
    assert!(report.succeeded(), "{report}");
    assert!(report.resources[0].skipped_parts.is_empty(), "{report}");
    let left = env.count("azureDevopsGroupMember");
    assert!(left < 16, "the group's members left Port ({left})");
}

/// A membership without its `memberDescriptor` fails the kind, as upstream's `KeyError` does;
/// it was skipped, and that member deleted from Port as stale.
#[tokio::test]
async fn a_membership_without_its_member_descriptor_fails_the_kind_and_deletes_nothing() {
    let env = env(MEMBERS_ONLY).await;
    assert!(env.resync().await.succeeded());
    env.ado.state.inject_body(
        "/_apis/graph/memberships",
        json!({"count": 1, "value": [{"containerDescriptor": "vssgp.x"}]}),
        1,
    );
    let report = env.resync().await;
    let failure = report.resources[0]
        .failure
        .clone()
        .expect("the kind failed");
    assert!(
        failure.contains("memberDescriptor") && failure.contains("value[0]"),
        "{failure}"
    );
    assert_eq!(env.count("azureDevopsGroupMember"), 16, "nothing deleted");
}
