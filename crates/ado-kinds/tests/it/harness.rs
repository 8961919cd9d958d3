//! What the scenarios of every module start from: a client of sim-ado, a started integration's
//! readiness, and waiting for live processing to reach Port.

use std::{sync::Arc, time::Duration};

use ado_client::{Client as AdoClient, ClientOptions};
use ocean::health::Health;
use secrecy::SecretString;
use sim_ado::RunningSim;

/// A client of the simulated organization with its PAT.
pub(crate) fn client(ado: &RunningSim) -> AdoClient {
    AdoClient::new(
        &ado.org_url().parse().unwrap(),
        &SecretString::from("sim-pat"),
        &ClientOptions::default(),
    )
    .unwrap()
}

/// Readiness of a started integration (the webhook route refuses events while starting).
pub(crate) fn serving() -> Arc<Health> {
    let health = Arc::new(Health::default());
    health.set_serving();
    health
}

/// Polls `check` every 50 ms for up to 5 s; panics naming `what` if it never holds.
pub(crate) async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..100 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}
