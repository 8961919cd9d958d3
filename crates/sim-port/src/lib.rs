//! An in-memory simulator of the Port API subset that Ocean calls (ocean-framework.md §2, §10),
//! for tests, the demo and benchmarks. It shares no code with `port-client`, so a client's
//! misreading of the wire cannot be mirrored here.
//!
//! Principal types: [`SimState`] (the catalog, tokens, faults and request counters) and
//! [`router`] (the axum routes). [`spawn`] starts it on 127.0.0.1 port 0 for a test.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = sim_port::spawn(sim_port::SimConfig::default()).await?;
//! println!("Port API at {}", sim.base_url());
//! assert!(sim.state.entities().is_empty());
//! # Ok(()) }
//! ```

mod actions;
mod cursor;
mod entities;
mod ingest;
mod routes;
mod search;
mod state;
mod validate;
mod wire;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

pub use ingest::SyncMetric;
pub use routes::router;
pub use state::{SimState, Stats};

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The only client id accepted by `POST /v1/auth/access_token`.
    pub client_id: String,
    /// The only client secret accepted.
    pub client_secret: String,
    /// Lifetime of issued tokens (`expiresIn`).
    pub token_ttl: Duration,
    /// Injected faults.
    pub faults: Faults,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            client_id: "sim-client-id".to_owned(),
            client_secret: "sim-client-secret".to_owned(),
            token_ttl: Duration::from_hours(1),
            faults: Faults::default(),
        }
    }
}

/// Faults injected into every response (besides the scripted ones of [`SimState`]).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Delay before each response.
    pub latency: Duration,
    /// Share of API requests (0..1) answered with 503.
    pub rate_5xx: f64,
    /// Seed of the fault generator.
    pub seed: u64,
}

/// Serves the simulator on `listener` until `shutdown` completes.
pub async fn serve(
    listener: impl Into<sim_tls::SimListener>,
    state: Arc<SimState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = listener.into();
    if let Ok(origin) = listener.origin() {
        state.lock().base = Some(origin);
    }
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A simulator running on 127.0.0.1 in the background; it stops when dropped.
pub struct RunningSim {
    /// The bound address.
    pub addr: SocketAddr,
    /// The simulator's state, for inspection and fault injection.
    pub state: Arc<SimState>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl RunningSim {
    /// The base URL to give a client (`http://127.0.0.1:PORT`).
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Starts the simulator on 127.0.0.1 port 0 in a background task.
pub async fn spawn(config: SimConfig) -> std::io::Result<RunningSim> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = SimState::new(config);
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
