//! Conformance with Port's Python integration (conformance/README.md): every case is a mapping
//! run against the same simulated organization; its golden file is the catalog the Python
//! integration produced, recorded by `conformance/regenerate.sh`. These tests run ours on the same
//! state and require the same catalog, entity by entity.

mod catalog;
mod live;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use catalog::{Comparison, Departure, normalize};

/// The simulated organization's "now": goldens must not depend on the day they were recorded.
const EPOCH: &str = "2026-01-01T00:00:00Z";
/// The integration identifier both integrations run as.
const IDENTIFIER: &str = "conformance";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance")
}

/// One case: `conformance/cases/{name}.yaml`.
struct Case {
    name: String,
    sizes: sim_ado::Sizes,
    /// `initializePortResources`: the integration creates its default blueprints and mapping
    /// (then `mapping` is absent and the golden file holds the blueprints too).
    initialize: bool,
    blueprints: Vec<Value>,
    mapping: Option<Value>,
}

impl Case {
    fn load(name: &str) -> Self {
        let path = root().join(format!("cases/{name}.yaml"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let doc: Value = serde_yaml_ng::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
        let size = |key: &str, default: usize| {
            doc["sizes"][key]
                .as_u64()
                .map_or(default, |n| usize::try_from(n).unwrap_or(default))
        };
        let defaults = sim_ado::Sizes::default();
        Self {
            name: name.to_owned(),
            sizes: sim_ado::Sizes {
                projects: size("projects", defaults.projects),
                repositories: size("repositories", defaults.repositories),
                work_items: size("workItems", defaults.work_items),
                releases: size("releases", defaults.releases),
                pull_requests: size("pullRequests", defaults.pull_requests),
                pipelines: size("pipelines", defaults.pipelines),
                teams: size("teams", defaults.teams),
            },
            initialize: doc["initializePortResources"].as_bool().unwrap_or(false),
            blueprints: doc["blueprints"].as_array().cloned().unwrap_or_default(),
            mapping: doc.get("mapping").cloned(),
        }
    }
}

/// Which integration a run drives.
#[derive(Clone, Copy)]
enum Integration {
    Ours,
    /// `conformance/upstream.sh run` (after `setup`).
    Upstream,
}

/// What a run left in sim-port, normalized, and how it went.
struct Run {
    catalog: Value,
    wall: Duration,
    ado_requests: u64,
    port_requests: u64,
    /// Peak RSS of the integration's process, in KiB (`/usr/bin/time`), when measured.
    peak_rss_kib: Option<u64>,
    output: String,
}

/// A case's simulators: sim-ado at the fixed epoch with the case's sizes, sim-port with the
/// case's blueprints and mapping.
struct Sims {
    ado: sim_ado::RunningSim,
    port: sim_port::RunningSim,
}

impl Sims {
    async fn start(case: &Case) -> Self {
        let epoch: jiff::Timestamp = EPOCH.parse().unwrap();
        let ado = sim_ado::spawn(sim_ado::SimConfig {
            sizes: case.sizes,
            epoch: Some(epoch),
            ..sim_ado::SimConfig::default()
        })
        .await
        .unwrap();
        let port = sim_port::spawn(sim_port::SimConfig::default())
            .await
            .unwrap();
        seed_port(&port.base_url(), case).await;
        Self { ado, port }
    }

    fn catalog(&self, case: &Case) -> Value {
        normalize(
            &self.port.state.dump(),
            &format!("http://{}", self.ado.addr),
            case.initialize,
        )
    }

    /// The integration's command with the `OCEAN__*` settings both integrations get; `rss`:
    /// under `/usr/bin/time`, writing the peak RSS there.
    fn command(
        &self,
        case: &Case,
        integration: Integration,
        listener: &str,
        rss: Option<&Path>,
    ) -> std::process::Command {
        let program = match integration {
            Integration::Ours => PathBuf::from(env!("CARGO_BIN_EXE_ocean-azure-devops")),
            Integration::Upstream => root().join("upstream.sh"),
        };
        let mut command = match rss {
            Some(file) => {
                let mut command = std::process::Command::new("/usr/bin/time");
                command
                    .arg("-f")
                    .arg("%M")
                    .arg("-o")
                    .arg(file)
                    .arg(&program);
                command
            }
            None => std::process::Command::new(&program),
        };
        if matches!(integration, Integration::Upstream) {
            command.arg("run");
        }
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("OCEAN__PORT__BASE_URL", self.port.base_url())
            .env("OCEAN__PORT__CLIENT_ID", "sim-client-id")
            .env("OCEAN__PORT__CLIENT_SECRET", "sim-client-secret")
            .env("OCEAN__EVENT_LISTENER", listener)
            .env("OCEAN__INTEGRATION__IDENTIFIER", IDENTIFIER)
            .env("OCEAN__INTEGRATION__TYPE", "azure-devops")
            .env(
                "OCEAN__INITIALIZE_PORT_RESOURCES",
                case.initialize.to_string(),
            )
            .env(
                "OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL",
                self.ado.org_url(),
            )
            .env(
                "OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN",
                "sim-pat",
            );
        command
    }
}

/// Runs `integration` once (`ONCE`) on a fresh pair of simulators. `measure`: under
/// `/usr/bin/time` for the peak RSS (recording only).
async fn run(case: &Case, integration: Integration, measure: bool) -> Run {
    let sims = Sims::start(case).await;
    let port_before = total(&sims.port.state.stats());
    let rss_file = measure.then(|| {
        std::env::temp_dir().join(format!(
            "conformance-{}-{}.rss",
            case.name,
            std::process::id()
        ))
    });
    let command = sims.command(
        case,
        integration,
        r#"{"type": "ONCE"}"#,
        rss_file.as_deref(),
    );
    let started = Instant::now();
    let output = tokio::time::timeout(
        Duration::from_mins(10),
        tokio::process::Command::from(command).output(),
    )
    .await
    .expect("the integration finishes within 10 minutes")
    .expect("the integration starts");
    let wall = started.elapsed();
    let (stdout, stderr) = super::text(&output);
    let output_text = format!("{stdout}\n{stderr}");
    assert!(
        output.status.success(),
        "case {}: the integration failed ({}):\n{output_text}",
        case.name,
        output.status
    );
    let peak_rss_kib = rss_file.and_then(|file| {
        let text = std::fs::read_to_string(&file).ok()?;
        let _ = std::fs::remove_file(&file);
        text.lines().last()?.trim().parse().ok()
    });
    Run {
        catalog: sims.catalog(case),
        wall,
        ado_requests: sims.ado.state.total_requests(),
        port_requests: total(&sims.port.state.stats()) - port_before,
        peak_rss_kib,
        output: output_text,
    }
}

/// Live cases (live.rs) run the integration as a service through a series of changes.
fn is_live(case: &str) -> bool {
    case.starts_with("live")
}

fn figures(run: &Run) -> Value {
    json!({"wallMs": run.wall.as_millis(), "adoRequests": run.ado_requests,
        "portRequests": run.port_requests, "peakRssKiB": run.peak_rss_kib})
}

fn total(stats: &sim_port::Stats) -> u64 {
    stats.requests.values().sum()
}

/// Creates the case's blueprints and, when it has a mapping, the integration record holding it
/// (as a user does in Port before installing), through Port's API.
async fn seed_port(base: &str, case: &Case) {
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/v1/auth/access_token"))
        .json(&json!({"clientId": "sim-client-id", "clientSecret": "sim-client-secret"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", token["accessToken"].as_str().unwrap());
    let post = |path: String, body: Value| {
        let request = http
            .post(format!("{base}{path}"))
            .header("authorization", &bearer)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            assert!(status.is_success(), "{path}: {status} {text}");
        }
    };
    for blueprint in &case.blueprints {
        post("/v1/blueprints".into(), blueprint.clone()).await;
    }
    if let Some(mapping) = &case.mapping {
        post(
            "/v1/integration".into(),
            json!({"installationId": IDENTIFIER, "installationAppType": "azure-devops",
                "config": mapping}),
        )
        .await;
    }
}

fn golden_path(case: &str) -> PathBuf {
    root().join(format!("goldens/{case}.json"))
}

fn departures() -> Vec<Departure> {
    let path = root().join("departures.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let doc: Value = serde_yaml_ng::from_str(&text).unwrap_or(Value::Null);
    doc.as_array()
        .into_iter()
        .flatten()
        .map(|d| Departure::from_value(d).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

/// Runs ours on `name` and requires the golden catalog.
async fn conforms(name: &str) {
    let case = Case::load(name);
    let golden_text = std::fs::read_to_string(golden_path(name)).unwrap_or_else(|e| {
        panic!("no golden file for case {name} ({e}): run conformance/regenerate.sh")
    });
    let golden: Value = serde_json::from_str(&golden_text).unwrap();
    let departures = departures();
    let ours = if is_live(name) {
        live::run(&case, Integration::Ours, Some((&golden, &departures))).await
    } else {
        run(&case, Integration::Ours, false).await
    };
    let Comparison {
        compared,
        differences,
        departed,
    } = catalog::compare(name, &golden, &ours.catalog, &departures);
    let expected = golden["entities"].as_array().map_or(0, Vec::len);
    assert!(expected > 0, "the golden catalog of {name} is empty");
    assert!(
        differences.is_empty(),
        "case {name}: {} difference(s) from the Python integration's catalog \
         ({compared} of {expected} entities compared; listed departures hidden: {departed:?}):\n  {}\n\
         our output:\n{}",
        differences.len(),
        differences.join("\n  "),
        ours.output
    );
    eprintln!(
        "case {name}: {compared} entities equal to upstream's; departures hidden: {departed:?}; \
         ours {} ms, {} ADO / {} Port requests",
        ours.wall.as_millis(),
        ours.ado_requests,
        ours.port_requests
    );
}

/// The cases, each a test, and `CASES`, their names. A case file without a test fails
/// `every_case_has_a_test_and_a_golden_file`.
macro_rules! cases {
    ($($name:ident => $file:literal),* $(,)?) => {
        const CASES: &[&str] = &[$($file),*];
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                conforms($file).await;
            }
        )*
    };
}

cases! {
    default_mapping => "default",
    git => "git",
    work_items_and_boards => "work",
    pipelines_and_builds => "pipelines",
    releases => "releases",
    test_runs => "test-runs",
    teams_and_identities => "identity",
    files_folders_and_wikis => "files",
    advanced_security => "advsec",
    jq_merges_items_to_parse_and_relations => "jq",
    live_events => "live",
}

#[test]
fn every_case_has_a_test_and_a_golden_file() {
    let mut files: Vec<String> = std::fs::read_dir(root().join("cases"))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".yaml").map(str::to_owned)
        })
        .collect();
    files.sort();
    let mut listed: Vec<String> = CASES.iter().map(|s| (*s).to_owned()).collect();
    listed.sort();
    assert_eq!(files, listed, "conformance/cases/*.yaml and CASES differ");
    for case in CASES {
        assert!(golden_path(case).exists(), "no golden file for {case}");
    }
}

/// Records every golden file from the Python integration: `conformance/regenerate.sh` runs
/// this after `conformance/upstream.sh setup`. `CONFORMANCE_CASES=a,b` limits it to some cases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the Python integration: conformance/regenerate.sh"]
async fn record_goldens_from_upstream() {
    let versions_path = root().join("../target/conformance/versions.json");
    let versions: Value = serde_json::from_str(
        &std::fs::read_to_string(&versions_path)
            .expect("run `conformance/upstream.sh setup OCEAN_CHECKOUT` first"),
    )
    .unwrap();
    #[expect(
        clippy::disallowed_methods,
        reason = "the recorder's own switch, not the integration's configuration"
    )]
    let only: Option<Vec<String>> = std::env::var("CONFORMANCE_CASES")
        .ok()
        .map(|s| s.split(',').map(str::to_owned).collect());
    for name in CASES {
        if only.as_ref().is_some_and(|o| !o.iter().any(|c| c == name)) {
            continue;
        }
        let case = Case::load(name);
        let (upstream, ours) = if is_live(name) {
            (
                live::run(&case, Integration::Upstream, None).await,
                live::run(&case, Integration::Ours, None).await,
            )
        } else {
            (
                run(&case, Integration::Upstream, true).await,
                run(&case, Integration::Ours, true).await,
            )
        };
        let mut golden = upstream.catalog.clone();
        golden["case"] = json!(name);
        golden["recordedWith"] = versions.clone();
        golden["upstream"] = figures(&upstream);
        golden["oursAtRecording"] = figures(&ours);
        let mut text = serde_json::to_string_pretty(&golden).unwrap();
        text.push('\n');
        std::fs::create_dir_all(root().join("goldens")).unwrap();
        std::fs::write(golden_path(name), text).unwrap();
        let entities = golden["entities"].as_array().map_or(0, Vec::len);
        eprintln!(
            "recorded {name}: {entities} entities; upstream {}; ours {}",
            golden["upstream"], golden["oursAtRecording"]
        );
        // The Python integration's log, for the README's table of differences (404s from the
        // simulator, rejected entities).
        let logs = root().join("../target/conformance/logs");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::write(logs.join(format!("{name}.upstream.log")), &upstream.output).unwrap();
        std::fs::write(logs.join(format!("{name}.ours.log")), &ours.output).unwrap();
    }
}
