//! Dev-only helpers shared by the integration tests: a Port simulator on 127.0.0.1 port 0 with the
//! default blueprints installed, a [`port_client::Client`] wired to it, and fixture loading.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let env = testkit::PortEnv::start().await?;
//! let client = env.client("my-integration");
//! assert!(client.blueprints().get("azureDevopsProject").await?.is_some());
//! # Ok(()) }
//! ```

#![allow(
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "dev-only test helper: failing loudly on a broken fixture is the point"
)]

pub mod tls;

use std::{path::PathBuf, time::Duration};

use port_client::{Client, Installation};
use secrecy::SecretString;
use serde_json::Value;
use sim_port::{RunningSim, SimConfig};

/// Path of a file under the repository's `fixtures/` directory.
#[must_use]
pub fn fixture_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(relative)
}

/// Contents of a fixture file, or a panic naming the missing file (tests only).
#[must_use]
pub fn fixture(relative: &str) -> String {
    let path = fixture_path(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// The default Azure DevOps blueprints (`fixtures/port/azure-devops-blueprints.json`).
#[must_use]
pub fn default_blueprints() -> Vec<Value> {
    serde_json::from_str(&fixture("port/azure-devops-blueprints.json"))
        .expect("fixture is valid JSON")
}

/// Our installation `identifier` (type `azure-devops`).
#[must_use]
pub fn installation(identifier: &str) -> Installation {
    Installation {
        integration_type: "azure-devops".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        identifier: identifier.to_owned(),
    }
}

/// A running Port simulator with the default blueprints.
pub struct PortEnv {
    /// The simulator (its state is inspectable in tests).
    pub sim: RunningSim,
}

impl PortEnv {
    /// Starts sim-port on 127.0.0.1:0 with default settings and the default blueprints.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(SimConfig::default()).await
    }

    /// Starts sim-port with `config` and the default blueprints.
    pub async fn start_with(config: SimConfig) -> anyhow::Result<Self> {
        let sim = sim_port::spawn(config).await?;
        for blueprint in default_blueprints() {
            sim.state.put_blueprint(blueprint);
        }
        Ok(Self { sim })
    }

    /// A Port client for integration `identifier`, with the simulator's credentials.
    #[must_use]
    pub fn client(&self, identifier: &str) -> Client {
        client(&self.sim, identifier)
    }
}

/// A Port client of `sim` with its default credentials, as installation `identifier`.
#[must_use]
pub fn client(sim: &sim_port::RunningSim, identifier: &str) -> Client {
    let defaults = SimConfig::default();
    Client::builder(
        sim.base_url().parse().expect("simulator URL is valid"),
        SecretString::from(defaults.client_id),
        SecretString::from(defaults.client_secret),
    )
    .installation(installation(identifier))
    .timeout(Duration::from_secs(30))
    .build()
    .expect("client builds")
}
