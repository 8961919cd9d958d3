//! A simulator of the Azure DevOps REST API subset the integration calls, for tests, the demo
//! and benchmarks. It shares no code with `ado-client`: wire shapes follow Microsoft's specs
//! and their `httpExamples` (`shared/ado-rest-specs`).
//!
//! Principal types: [`SimConfig`] (organization name, PAT, sizes, latency), [`AdoState`] (the
//! generated organization, mutations, request counters and injected faults) and [`router`].
//! Behaviour worth knowing: a wrong PAT gets `203` with an HTML sign-in page (or `401` when the
//! request says `X-TFS-FedAuthRedirect: Suppress`), each endpoint pages the way the real one
//! does, WIQL refuses results over 20,000 ids, and work items are read 200 ids at a time.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = sim_ado::spawn(sim_ado::SimConfig::default()).await?;
//! println!("organization URL: {}", sim.org_url());
//! # Ok(()) }
//! ```

mod advsec;
mod control;
mod entra;
mod environments;
mod graph;
mod hooks;
mod items;
mod model;
mod objects;
mod pipelines;
mod refs;
mod release;
mod routes;
mod seed;
mod state;
mod teams;
mod test_runs;
mod wiki;
mod wiql;
mod wire;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

pub use routes::router;
pub use seed::Sizes;
pub use state::AdoState;

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Organization name (the first path segment).
    pub organization: String,
    /// The only personal access token accepted.
    pub pat: String,
    /// The service principal whose Entra ID tokens are accepted (`POST
    /// /{tenant}/oauth2/v2.0/token` issues them): client id and secret.
    pub client_id: String,
    /// See `client_id`.
    pub client_secret: String,
    /// Lifetime of issued tokens.
    pub token_lifetime: Duration,
    /// Azure DevOps Server: the newest api-version it takes (`6.0` for Server 2020, `7.0` for
    /// 2022); newer ones are refused with 400. `None`: Services, which takes every version.
    pub max_api_version: Option<String>,
    /// Size of the generated organization.
    pub sizes: Sizes,
    /// Delay before each API response.
    pub latency: Duration,
    /// Throttling: requests allowed per one-second window (Azure DevOps counts TSTUs; one
    /// request is one unit here). Past half of it, responses carry `X-RateLimit-Limit`,
    /// `-Remaining` and `-Reset`; past all of it, `429` with `Retry-After` (ado-api.md §4).
    pub rate_limit: Option<u32>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            organization: "acme".to_owned(),
            pat: "sim-pat".to_owned(),
            client_id: "sim-client".to_owned(),
            client_secret: "sim-secret".to_owned(),
            token_lifetime: Duration::from_hours(1),
            max_api_version: None,
            sizes: Sizes::default(),
            latency: Duration::ZERO,
            rate_limit: None,
        }
    }
}

/// Serves the simulator on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AdoState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A simulator running on 127.0.0.1 in the background; it stops when dropped.
pub struct RunningSim {
    /// The bound address.
    pub addr: SocketAddr,
    /// State for inspection, mutation and fault injection.
    pub state: Arc<AdoState>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl RunningSim {
    /// The organization URL to configure (`http://127.0.0.1:PORT/{organization}`).
    #[must_use]
    pub fn org_url(&self) -> String {
        format!("http://{}/{}", self.addr, self.state.organization())
    }
}

/// Starts the simulator on 127.0.0.1 port 0 in a background task.
pub async fn spawn(config: SimConfig) -> std::io::Result<RunningSim> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = AdoState::new(config, &format!("http://{addr}"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = Arc::clone(&state);
    tokio::spawn(async move {
        let _ = serve(listener, served, async {
            let _ = stopped.await;
        })
        .await;
    });
    Ok(RunningSim {
        addr,
        state,
        _stop: stop,
    })
}
