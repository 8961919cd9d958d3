//! Every kind at once, under Azure DevOps' rate limit: one resource per kind (the 29 of the
//! Python integration), resynced against a simulator that throttles at 40 requests a second.
//! The resync completes without a single 429 (the `X-RateLimit-*` headers slow it down first),
//! every kind writes entities, the lists several kinds share are read once, and a second
//! resync writes nothing. A list that fails fails only the kinds that read it, and they keep
//! their entities.

use sim_ado::{SimConfig, Sizes};

use super::Env;

/// Every kind, and the selector options a kind needs to read anything.
const KINDS: [(&str, &str); 29] = [
    ("project", ""),
    ("repository", ""),
    ("repository-policy", ""),
    ("pull-request", ""),
    ("branch", ""),
    ("board", ""),
    ("column", ""),
    ("work-item", ""),
    ("release", ""),
    ("release-definition", ""),
    ("release-deployment", ""),
    ("pipeline", ""),
    ("pipeline-run", ""),
    ("pipeline-stage", ""),
    ("build", ""),
    ("test-run", ""),
    ("environment", ""),
    ("pipeline-deployment", ""),
    ("advanced-security-alert", ""),
    ("team", "\n      includeMembers: true"),
    ("member", ""),
    ("iteration", ""),
    ("area-path", "\n      depth: 3"),
    ("user", ""),
    ("group", ""),
    ("group-member", ""),
    ("file", "\n      files:\n        path: '**/package.json'"),
    ("folder", "\n      folders:\n        - path: 'services/*'"),
    ("wiki", ""),
];

fn blueprint(kind: &str) -> String {
    format!("k_{}", kind.replace('-', "_"))
}

fn mapping() -> &'static str {
    use std::fmt::Write;
    // One identifier expression for every kind's items, unique within a kind.
    let identifier = r#"'[.__organizationName, (.id // .descriptor // .identifier // .file.path // .refName // .identity.id // .name // .path | tostring), (.__stateType // ""), (.__team.id // .__teamId // .__group.descriptor // .__repository.id // .repo.id // .__wiki.id // .__board.id // "")] | join("/")'"#;
    let mut yaml = String::from("resources:\n");
    for (kind, options) in KINDS {
        let _ = write!(
            yaml,
            "  - kind: {kind}\n    selector:\n      query: 'true'{options}\n    port:\n      entity:\n        mappings:\n          identifier: {identifier}\n          title: .name // .path // .displayName // \"x\"\n          blueprint: '\"{}\"'\n",
            blueprint(kind)
        );
    }
    Box::leak(yaml.into_boxed_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_resyncs_under_the_rate_limit_without_a_429() {
    let config = SimConfig {
        sizes: Sizes {
            projects: 2,
            repositories: 6,
            work_items: 10,
            releases: 3,
            pull_requests: 2,
            pipelines: 2,
            teams: 2,
        },
        rate_limit: Some(40),
        ..SimConfig::default()
    };
    let blueprints: Vec<String> = KINDS.iter().map(|(k, _)| blueprint(k)).collect();
    let empty: &[&str] = &[];
    let declared: Vec<(&str, &[&str])> = blueprints.iter().map(|b| (b.as_str(), empty)).collect();
    let env = Env::start_with(config, mapping(), &declared).await;
    let report = env.resync().await;
    assert!(report.succeeded(), "{report}");
    for (kind, _) in KINDS {
        assert!(
            env.count(&blueprint(kind)) > 0,
            "{kind} wrote nothing:\n{report}"
        );
    }
    assert_eq!(
        env.ado.state.throttled(),
        0,
        "{:?}",
        env.ado.state.requests()
    );
    let requests = env.ado.state.requests();
    let count = |route: &str| requests.get(route).copied().unwrap_or_default();
    assert_eq!(
        count("GET /{org}/_apis/projects"),
        1,
        "projects listed once"
    );
    assert_eq!(
        count("GET /{org}/{project}/_apis/git/repositories"),
        2,
        "each project's repositories listed once for seven kinds"
    );
    assert_eq!(count("GET /{org}/_apis/projects/{project}/teams"), 2);
    assert_eq!(count("GET /{org}/_apis/teams"), 1);

    let again = env.resync().await;
    assert_eq!(
        again.total_upserted(),
        0,
        "a second resync writes nothing:\n{again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_shared_list_fails_only_its_kinds_and_they_keep_their_entities() {
    let config = SimConfig {
        sizes: Sizes {
            projects: 1,
            repositories: 3,
            work_items: 4,
            releases: 1,
            pull_requests: 1,
            pipelines: 1,
            teams: 1,
        },
        ..SimConfig::default()
    };
    let blueprints: Vec<String> = KINDS.iter().map(|(k, _)| blueprint(k)).collect();
    let empty: &[&str] = &[];
    let declared: Vec<(&str, &[&str])> = blueprints.iter().map(|b| (b.as_str(), empty)).collect();
    let env = Env::start_with(config, mapping(), &declared).await;
    assert!(env.resync().await.succeeded());
    let before: Vec<usize> = KINDS
        .iter()
        .map(|(k, _)| env.count(&blueprint(k)))
        .collect();

    // The groups list is refused (403, not retried): `group` and `group-member` (which share
    // it) fail; every other kind completes.
    env.ado
        .state
        .inject("/_apis/graph/groups", 403, None, 1_000);
    let report = env.resync().await;
    let failed: Vec<&str> = report
        .resources
        .iter()
        .filter(|r| r.failure.is_some())
        .map(|r| r.kind.as_str())
        .collect();
    assert_eq!(failed, ["group", "group-member"], "{report}");
    let after: Vec<usize> = KINDS
        .iter()
        .map(|(k, _)| env.count(&blueprint(k)))
        .collect();
    assert_eq!(after, before, "nothing deleted, nothing lost: {report}");
}
