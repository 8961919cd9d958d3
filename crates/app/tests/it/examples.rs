//! Raw-data examples after one resync with the default mapping: every kind that has items in
//! Azure DevOps has its first items in Port's mapping editor, with no secret in them.

use std::sync::Arc;

use super::dry_run::run;

#[tokio::test(flavor = "multi_thread")]
async fn after_a_resync_every_kind_of_the_mapping_has_examples_without_secrets() {
    let port = Arc::new(
        sim_port::spawn(sim_port::SimConfig::default())
            .await
            .unwrap(),
    );
    let ado = Arc::new(sim_ado::spawn(sim_ado::SimConfig::default()).await.unwrap());
    tokio::task::spawn_blocking({
        let (port, ado) = (Arc::clone(&port), Arc::clone(&ado));
        move || run(&port, &ado, &["--once"])
    })
    .await
    .unwrap();

    let record = port.state.integration("dry").expect("the record exists");
    let kinds: Vec<String> = record["config"]["resources"]
        .as_array()
        .expect("the default mapping")
        .iter()
        .map(|resource| resource["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains(&"work-item".to_owned()), "{kinds:?}");
    for kind in &kinds {
        let examples = port
            .state
            .examples("dry", kind)
            .unwrap_or_else(|| panic!("no examples for {kind}"));
        assert!(
            (1..=5).contains(&examples.len()),
            "{kind}: {}",
            examples.len()
        );
        let text = serde_json::to_string(&examples).unwrap();
        for secret in ["sim-pat", "sim-client-secret"] {
            assert!(!text.contains(secret), "{kind} example holds {secret}");
        }
    }
}
