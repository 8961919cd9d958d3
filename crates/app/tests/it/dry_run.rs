//! `--dry-run`: after a change in Azure DevOps, the printed plan is what the following real
//! resync does, and Port receives no write while it runs.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use serde_json::{Value, json};

use super::{binary, text};

/// (blueprint, identifier) → entity, as sim-port holds them.
pub(super) type Catalog = BTreeMap<(String, String), Value>;

pub(super) fn catalog(port: &sim_port::RunningSim) -> Catalog {
    port.state
        .entities()
        .into_iter()
        .map(|e| {
            let key = (
                e["blueprint"].as_str().unwrap_or_default().to_owned(),
                e["identifier"].as_str().unwrap_or_default().to_owned(),
            );
            (key, e)
        })
        .collect()
}

/// Requests that change something in Port: every route but reads, searches and the token.
fn writes(port: &sim_port::RunningSim) -> BTreeMap<String, u64> {
    let reads = [
        "POST /v1/auth/access_token",
        "POST /v1/entities/search",
        "POST /v1/blueprints/{bp}/entities/search",
        "POST /v1/blueprints/entities/datasource-entities",
    ];
    port.state
        .stats()
        .requests
        .into_iter()
        .filter(|(route, _)| !route.starts_with("GET ") && !reads.contains(&route.as_str()))
        .collect()
}

/// Runs the binary with `args` against the simulators as installation `dry`; it must succeed.
pub(super) fn run(
    port: &sim_port::RunningSim,
    ado: &sim_ado::RunningSim,
    args: &[&str],
) -> (bool, String) {
    run_with(port, ado, args, &[])
}

/// [`run`] with more environment variables.
pub(super) fn run_with(
    port: &sim_port::RunningSim,
    ado: &sim_ado::RunningSim,
    args: &[&str],
    env: &[(&str, &str)],
) -> (bool, String) {
    let output = binary()
        .args(args)
        .env("OCEAN__PORT__BASE_URL", port.base_url())
        .env("OCEAN__PORT__CLIENT_ID", "sim-client-id")
        .env("OCEAN__PORT__CLIENT_SECRET", "sim-client-secret")
        .env("OCEAN__INTEGRATION__IDENTIFIER", "dry")
        .env(
            "OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL",
            ado.org_url(),
        )
        .env(
            "OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN",
            "sim-pat",
        )
        .envs(env.iter().copied())
        .output()
        .expect("binary runs");
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "{args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (output.status.success(), stdout)
}

/// The `-v` plan: (sign, blueprint, identifier) for `+` create, `~` update, `-` delete.
fn plan_lines(stdout: &str) -> BTreeSet<(char, String, String)> {
    let mut blueprint = String::new();
    let mut out = BTreeSet::new();
    for line in stdout.lines() {
        if line.starts_with("azureDevops") && !line.contains(' ') {
            line.clone_into(&mut blueprint);
        } else if let Some(rest) = line.strip_prefix("  ")
            && let Some((sign, id)) = rest.split_once(' ')
            && let Some(sign @ ('+' | '~' | '-')) = sign.chars().next()
        {
            out.insert((sign, blueprint.clone(), id.to_owned()));
        }
    }
    out
}

/// Both simulators with their default organization, shared with blocking test code.
pub(super) async fn simulators() -> (Arc<sim_port::RunningSim>, Arc<sim_ado::RunningSim>) {
    let port = sim_port::spawn(sim_port::SimConfig::default()).await;
    let ado = sim_ado::spawn(sim_ado::SimConfig::default()).await;
    (Arc::new(port.unwrap()), Arc::new(ado.unwrap()))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plan_is_what_the_next_resync_does_and_nothing_is_written() {
    let (port, ado) = simulators().await;
    tokio::task::spawn_blocking({
        let (port, ado) = (Arc::clone(&port), Arc::clone(&ado));
        move || {
            // A dry run before the first start writes nothing either (no record, no blueprint).
            let (_, first_plan) = run(&port, &ado, &["--dry-run"]);
            assert!(writes(&port).is_empty(), "{:?}", writes(&port));
            assert!(port.state.integration("dry").is_none());
            assert!(first_plan.contains("azureDevopsRepository"), "{first_plan}");

            run(&port, &ado, &["--once"]);
            assert!(ado.state.delete_repository(0, "repo-0-1"));
            assert!(ado.state.rename_repository(0, "repo-0-0", "renamed"));
            let item = ado.state.work_item_ids(1)[3];
            assert!(
                ado.state
                    .update_work_item(item, "System.Title", json!("Changed title"))
            );

            port.state.reset_stats();
            let before = catalog(&port);
            let (_, plan) = run(&port, &ado, &["--dry-run", "-v"]);
            assert_eq!(writes(&port), BTreeMap::new(), "the dry run wrote to Port");
            assert_eq!(catalog(&port), before);

            let (_, report) = run(&port, &ado, &["--once"]);
            let after = catalog(&port);
            let mut done = BTreeSet::new();
            for (key, entity) in &after {
                match before.get(key) {
                    None => done.insert(('+', key.0.clone(), key.1.clone())),
                    Some(old) if old != entity => done.insert(('~', key.0.clone(), key.1.clone())),
                    Some(_) => false,
                };
            }
            for key in before.keys().filter(|k| !after.contains_key(*k)) {
                done.insert(('-', key.0.clone(), key.1.clone()));
            }
            let planned = plan_lines(&plan);
            // Port refuses some entities (the default work-item blueprint has no `Feature`):
            // they are planned as creations each time and never land.
            let refused: BTreeSet<_> = planned.difference(&done).cloned().collect();
            assert!(
                done.is_subset(&planned),
                "done but not planned: {:?}\nplan:\n{plan}",
                done.difference(&planned).collect::<Vec<_>>()
            );
            let rejected: usize = report
                .lines()
                .filter_map(|l| l.split_whitespace().nth(5)?.parse::<usize>().ok())
                .sum();
            assert_eq!(refused.len(), rejected, "{refused:?}\n{report}");
            assert!(
                refused
                    .iter()
                    .all(|(sign, bp, _)| *sign == '+' && bp == "azureDevopsWorkItem"),
                "{refused:?}"
            );
            // The changes made: one deletion, one rename, one edited work item.
            assert_eq!(
                done.iter().filter(|(sign, ..)| *sign == '-').count(),
                1,
                "{done:?}"
            );
            assert!(
                done.iter()
                    .any(|(sign, bp, _)| *sign == '~' && bp == "azureDevopsRepository"),
                "{done:?}"
            );
            assert!(
                done.contains(&(
                    '~',
                    "azureDevopsWorkItem".to_owned(),
                    item_key(&after, item)
                )),
                "{done:?}"
            );
        }
    })
    .await
    .unwrap();
}

/// The identifier of work item `id` in the catalog.
fn item_key(catalog: &Catalog, id: u64) -> String {
    let suffix = format!("/{id}");
    catalog
        .keys()
        .find(|(bp, identifier)| bp == "azureDevopsWorkItem" && identifier.ends_with(&suffix))
        .map(|(_, identifier)| identifier.clone())
        .unwrap_or_default()
}
