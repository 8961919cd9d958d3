//! Port self-service actions end to end: `trigger_pipeline` runs created in sim-port are
//! claimed by the binary, start pipeline runs in sim-ado with their branch, template parameters
//! and variables, and end when Azure DevOps reports the pipeline run's completion; bad inputs
//! end the run with the reason; two replicas never execute a run twice.

use std::time::Duration;

use serde_json::{Value, json};

use super::{free_port, served, terminate};

const ACTION: &str = "trigger_pipeline_action";

/// Polls `check` every 20 ms for up to 20 s; the last value it returned.
async fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..1000 {
        if let Some(value) = check() {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

fn run_of(port: &sim_port::RunningSim, id: &str) -> (Value, Vec<String>) {
    port.state.action_run(id).expect("the run exists")
}

/// The simulators, with the name of project number `project` and its pipelines' ids.
async fn simulators(
    project: usize,
) -> (sim_port::RunningSim, sim_ado::RunningSim, String, Vec<u64>) {
    let port = sim_port::spawn(sim_port::SimConfig::default())
        .await
        .unwrap();
    let ado = sim_ado::spawn(sim_ado::SimConfig::default()).await.unwrap();
    let (name, pipelines) = ado
        .state
        .pipelines_of(project)
        .expect("the project has pipelines");
    (port, ado, name, pipelines)
}

/// Waits until run `id` finished; its run and log.
async fn finished(port: &sim_port::RunningSim, id: &str) -> (Value, Vec<String>) {
    until("the run to finish", || {
        let (run, logs) = run_of(port, id);
        (run["status"] != "IN_PROGRESS").then_some((run, logs))
    })
    .await
}

/// The binary executing actions (and processing live events) as installation `identifier`.
fn actions_binary(
    port: &sim_port::RunningSim,
    ado: &sim_ado::RunningSim,
    http_port: u16,
    identifier: &str,
    listener: &str,
) -> tokio::process::Command {
    let mut command = served(port, ado, http_port, identifier);
    command
        .env("OCEAN__EVENT_LISTENER__TYPE", listener)
        .env("OCEAN__EVENT_LISTENER__SHOULD_RUN_ACTIONS", "true")
        .env("OCEAN__ACTIONS_PROCESSOR__ENABLED", "true")
        .env(
            "OCEAN__ACTIONS_PROCESSOR__POLL_CHECK_INTERVAL_SECONDS",
            "0.05",
        );
    command
}

/// The binary running actions and live events as installation `acts`, once its service-hook
/// subscriptions exist (completions arrive as events).
async fn with_live_events(
    port: &sim_port::RunningSim,
    ado: &sim_ado::RunningSim,
    http_port: u16,
) -> tokio::process::Child {
    let child = actions_binary(port, ado, http_port, "acts", "WEBHOOKS_ONLY")
        .env(
            "OCEAN__INTEGRATION__CONFIG__APP_HOST",
            format!("http://127.0.0.1:{http_port}"),
        )
        .spawn()
        .unwrap();
    until("the subscriptions", || {
        (ado.state.subscriptions().len() >= 23).then_some(())
    })
    .await;
    let record = until("the integration record", || port.state.integration("acts")).await;
    assert_eq!(record["actionsProcessingEnabled"], json!(true));
    child
}

#[tokio::test(flavor = "multi_thread")]
async fn trigger_pipeline_starts_a_run_and_ends_when_azure_devops_reports_it_complete() {
    let (port, ado, project, pipelines) = simulators(0).await;
    let child = with_live_events(&port, &ado, free_port()).await;

    let create = |properties: Value| {
        port.state
            .create_action_run(ACTION, "acts", "trigger_pipeline", properties)
    };
    let good = create(json!({
        "project": project, "pipelineId": pipelines[0].to_string(), "branch": "feature/x",
        "templateParameters": {"environment": "prod"},
        "variables": {"plain": "1", "token": {"value": "s3cret", "isSecret": true}},
    }));
    let quiet = create(json!({
        "project": project, "pipelineId": pipelines[0], "reportPipelineStatus": false,
    }));
    // Started: link and external id in Port, the request as given in Azure DevOps.
    let started = until("the run to start", || {
        let (run, _) = run_of(&port, &good);
        run["externalRunId"].as_str().map(str::to_owned)
    })
    .await;
    // Both started in Port too: a completion that arrived before the external id was set would
    // find no Port run (as upstream's would).
    until("the quiet run to start", || {
        run_of(&port, &quiet).0["externalRunId"].as_str().map(drop)
    })
    .await;
    let runs = ado.state.started_runs();
    assert_eq!(runs.len(), 2);
    let mine = runs
        .iter()
        .find(|r| started == format!("ado_{}_{}_{}", r.project, r.pipeline, r.run))
        .expect("the external id names the pipeline run");
    assert_eq!(
        mine.request,
        json!({
            "resources": {"repositories": {"self": {"refName": "refs/heads/feature/x"}}},
            "templateParameters": {"environment": "prod"},
            "variables": {"plain": {"value": "1"}, "token": {"value": "s3cret", "isSecret": true}},
        })
    );
    let (run, logs) = run_of(&port, &good);
    let link = run["link"].as_str().expect("a link");
    assert!(link.contains(&mine.run.to_string()), "{link}");
    assert_eq!(run["status"], "IN_PROGRESS");
    assert_eq!(
        logs,
        [
            format!(
                "Triggering pipeline {} in project '{project}'",
                pipelines[0]
            ),
            format!("Pipeline run started: {link}"),
        ]
    );

    // Completion: Azure DevOps's run-state-changed event finishes the Port run.
    let quiet_run = runs.iter().find(|r| r.run != mine.run).expect("quiet");
    assert!(ado.state.complete_run(quiet_run.run, "failed"));
    assert!(ado.state.complete_run(mine.run, "succeeded"));
    let (run, logs) = finished(&port, &good).await;
    assert_eq!(run["status"], "SUCCESS");
    assert_eq!(
        logs.last().map(String::as_str),
        Some("Pipeline run succeeded")
    );

    // Once the quiet run's completion was looked up in Port, the drain on SIGTERM applies what
    // is in flight: the run that asked not to report its status is still in progress, and
    // each run was executed once.
    let quiet_external = run_of(&port, &quiet).0["externalRunId"]
        .as_str()
        .unwrap()
        .to_owned();
    until("the quiet run's lookup", || {
        (port.state.action_run_lookups(&quiet_external) >= 1).then_some(())
    })
    .await;
    let (status, stderr) = terminate(child).await;
    assert!(status.success(), "{stderr}");
    assert_eq!(run_of(&port, &quiet).0["status"], "IN_PROGRESS", "{stderr}");
    assert!(
        stderr.contains("The run asked not to report its completion."),
        "{stderr}"
    );
    assert_eq!(ado.state.started_runs().len(), 2);
    assert_eq!(port.state.action_run_claims(&good), 1);
    assert!(!stderr.contains("s3cret"), "a secret variable was logged");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_inputs_and_unknown_action_types_end_the_run_with_the_reason() {
    let (port, ado, project, _) = simulators(0).await;
    let child = actions_binary(&port, &ado, free_port(), "acts", "ACTIONS_ONLY")
        .spawn()
        .unwrap();
    let create = |properties: Value| {
        port.state
            .create_action_run(ACTION, "acts", "trigger_pipeline", properties)
    };
    let missing_project = create(json!({"project": "No Such Project", "pipelineId": "1"}));
    let unknown_pipeline = create(json!({"project": project, "pipelineId": "987654"}));
    let not_a_number = create(json!({"project": project, "pipelineId": "twelve"}));
    let other_type = port
        .state
        .create_action_run("other", "acts", "deploy_everything", json!({}));
    let elsewhere = port.state.create_action_run(
        ACTION,
        "another-installation",
        "trigger_pipeline",
        json!({}),
    );
    // Bad inputs and unknown action types end the run with the reason.
    for (id, reason) in [
        (
            &missing_project,
            "Failed to execute run: Project 'No Such Project' was not found".to_owned(),
        ),
        (
            &unknown_pipeline,
            format!(
                "Failed to execute run: Error triggering pipeline 987654 in project '{project}': Pipeline with id 987654 not found."
            ),
        ),
        (
            &not_a_number,
            "Failed to execute run: pipelineId must be the pipeline's numeric id (as in \
             …/_build?definitionId=12), got \"twelve\""
                .to_owned(),
        ),
        (
            &other_type,
            "No executor registered for action type 'deploy_everything'".to_owned(),
        ),
    ] {
        let (run, logs) = finished(&port, id).await;
        assert_eq!(run["status"], "FAILURE");
        assert_eq!(logs.last(), Some(&reason), "{run}");
    }

    let (status, stderr) = terminate(child).await;
    assert!(status.success(), "{stderr}");
    assert!(ado.state.started_runs().is_empty());
    assert_eq!(port.state.action_run_claims(&elsewhere), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_claiming_the_same_runs_execute_each_once() {
    let (port, ado, project, pipelines) = simulators(1).await;
    // A visibility timeout of 0: both replicas are handed every pending run, and only the
    // acknowledgement decides which one executes it.
    let replicas: Vec<_> = (0..2)
        .map(|_| {
            actions_binary(&port, &ado, free_port(), "twins", "ACTIONS_ONLY")
                .env("OCEAN__ACTIONS_PROCESSOR__VISIBILITY_TIMEOUT_MS", "0")
                .spawn()
                .unwrap()
        })
        .collect();
    until("the integration record", || port.state.integration("twins")).await;
    let ids: Vec<String> = (0..12)
        .map(|i| {
            port.state.create_action_run(
                ACTION,
                "twins",
                "trigger_pipeline",
                json!({"project": project, "pipelineId": pipelines[i % pipelines.len()]}),
            )
        })
        .collect();
    until("every run to start", || {
        ids.iter()
            .all(|id| run_of(&port, id).0["externalRunId"].is_string())
            .then_some(())
    })
    .await;
    let mut stderrs = String::new();
    for child in replicas {
        let (status, stderr) = terminate(child).await;
        assert!(status.success(), "{stderr}");
        stderrs.push_str(&stderr);
    }
    assert_eq!(ado.state.started_runs().len(), ids.len(), "{stderrs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_waits_while_azure_devops_asks_to_slow_down() {
    let (port, ado, project, pipelines) = simulators(0).await;
    let child = actions_binary(&port, &ado, free_port(), "slow", "ACTIONS_ONLY")
        .spawn()
        .unwrap();
    let properties = json!({"project": project, "pipelineId": pipelines[0]});
    // The first run's project read is answered 429 with Retry-After: 2, which pauses every
    // request to the organization for 2 s.
    ado.state.inject("/_apis/projects/", 429, Some(2), 1);
    let first =
        port.state
            .create_action_run(ACTION, "slow", "trigger_pipeline", properties.clone());
    let throttled = || {
        ado.state
            .requests()
            .iter()
            .filter(|(route, _)| route.contains("/_apis/projects/"))
            .map(|(_, n)| *n)
            .sum::<u64>()
    };
    until("the throttled read", || (throttled() >= 1).then_some(())).await;
    let second = port
        .state
        .create_action_run(ACTION, "slow", "trigger_pipeline", properties);

    for id in [&first, &second] {
        until("the run to start", || {
            run_of(&port, id).0["externalRunId"].as_str().map(drop)
        })
        .await;
    }
    let (_, logs) = run_of(&port, &second);
    assert!(
        logs[0].starts_with("Delayed due to low remaining rate limit. Will attempt to re-run in"),
        "{logs:?}"
    );
    let (status, stderr) = terminate(child).await;
    assert!(status.success(), "{stderr}");
    assert_eq!(ado.state.started_runs().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_started_before_a_restart_is_not_executed_again_after_it() {
    let (port, ado, project, pipelines) = simulators(0).await;
    let properties = json!({"project": project, "pipelineId": pipelines[0]});
    let replica = || {
        actions_binary(&port, &ado, free_port(), "restarted", "ACTIONS_ONLY")
            .env("OCEAN__ACTIONS_PROCESSOR__VISIBILITY_TIMEOUT_MS", "200")
            .spawn()
            .unwrap()
    };
    // The first process acknowledges the run and is stopped while Azure DevOps holds it back.
    ado.state.inject("/_apis/projects/", 429, Some(2), 1);
    let first = replica();
    let interrupted =
        port.state
            .create_action_run(ACTION, "restarted", "trigger_pipeline", properties.clone());
    until("the held-back read", || {
        ado.state
            .requests()
            .keys()
            .any(|route| route.contains("/_apis/projects/"))
            .then_some(())
    })
    .await;
    let (status, stderr) = terminate(first).await;
    assert!(status.success(), "{stderr}");
    // It finished the run it had started before exiting.
    assert!(
        run_of(&port, &interrupted).0["externalRunId"].is_string(),
        "{stderr}"
    );

    // The next process executes new runs, and never the acknowledged one: had Port handed it
    // out again, it would have come with the new run's claim.
    let second = replica();
    let next = port
        .state
        .create_action_run(ACTION, "restarted", "trigger_pipeline", properties);
    until("the new run to start", || {
        run_of(&port, &next).0["externalRunId"].as_str().map(drop)
    })
    .await;
    let (status, stderr) = terminate(second).await;
    assert!(status.success(), "{stderr}");
    assert_eq!(port.state.action_run_claims(&interrupted), 1);
    assert_eq!(ado.state.started_runs().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_live_events_the_run_ends_when_polling_sees_the_pipeline_complete() {
    let (port, ado, project, pipelines) = simulators(0).await;
    // ACTIONS_ONLY, no public URL: no event will say that the pipeline run ended.
    let child = actions_binary(&port, &ado, free_port(), "polls", "ACTIONS_ONLY")
        .spawn()
        .unwrap();
    let id = port.state.create_action_run(
        ACTION,
        "polls",
        "trigger_pipeline",
        json!({"project": project, "pipelineId": pipelines[0]}),
    );
    until("the run to start", || {
        run_of(&port, &id).0["externalRunId"].as_str().map(drop)
    })
    .await;
    let started = ado.state.started_runs();
    assert!(ado.state.complete_run(started[0].run, "failed"));
    let (run, logs) = finished(&port, &id).await;
    let (status, stderr) = terminate(child).await;
    assert!(status.success(), "{stderr}");
    assert_eq!(run["status"], "FAILURE");
    assert_eq!(logs.last().map(String::as_str), Some("Pipeline run failed"));
    assert_eq!(
        ado.state.subscriptions().len(),
        0,
        "no event could have told it"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_once_run_that_also_runs_actions_still_exits_after_its_resync() {
    let (port, ado, _, _) = simulators(2).await;
    // Its log is not read: a pipe nobody drains could block it.
    let mut child = actions_binary(&port, &ado, free_port(), "once", "ONCE")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_mins(2), child.wait())
        .await
        .expect("exits after its resync")
        .unwrap();
    assert!(status.success(), "{status}");
}
