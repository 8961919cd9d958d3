//! A simulator of the Azure DevOps REST API subset the integration calls, for tests, the demo
//! and benchmarks. It shares no code with `ado-client`: wire shapes follow Microsoft's specs
//! and their `httpExamples` (`shared/ado-rest-specs`).
//!
//! Principal types: [`SimConfig`] (organization name, PAT, sizes, latency, a fixed epoch),
//! [`AdoState`] (the generated organization, mutations, request counters and injected faults)
//! and [`router`].
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
mod config;
mod control;
mod entra;
mod environments;
mod graph;
mod guard;
mod hooks;
mod items;
mod lists;
mod model;
mod objects;
mod paths;
mod pipeline_events;
mod pipeline_runs;
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

use std::{future::Future, net::SocketAddr, sync::Arc};

pub use config::{SimConfig, Sizes};
pub use model::StartedRun;
pub use routes::router;
pub use state::AdoState;

/// Serves the simulator on `listener` until `shutdown` completes.
pub async fn serve(
    listener: impl Into<sim_tls::SimListener>,
    state: Arc<AdoState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::ServiceExt as _;
    let routes = router(Arc::clone(&state));
    // Paths are made canonical before routing (paths.rs): a rewrite inside the router would
    // come after the route was chosen.
    let app = tower::ServiceBuilder::new()
        .map_request(move |mut request: axum::extract::Request| {
            if let Some(path) = paths::canonical(&state, request.uri().path()) {
                let with_query = match request.uri().query() {
                    Some(query) => format!("{path}?{query}"),
                    None => path,
                };
                if let Ok(uri) = with_query.parse() {
                    *request.uri_mut() = uri;
                }
            }
            request
        })
        .service(routes);
    axum::serve(listener.into(), app.into_make_service())
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
