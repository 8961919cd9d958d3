//! The simulator's settings: [`SimConfig`] and the [`Sizes`] of the organization it generates.
//! Below everything else; it imports no other module.

use std::time::Duration;

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
    /// A fixed "now": the seed's dates and every later timestamp are computed from it, so two
    /// runs with the same epoch and the same requests answer the same bytes. The seed is
    /// generated as of the epoch; each later timestamp (a mutation, an event, an object added)
    /// is one second after the previous one, and reads (WIQL's `@today` and `asOf`, a commit's
    /// date) take the latest one without moving it. `None`: real time.
    pub epoch: Option<jiff::Timestamp>,
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
            epoch: None,
        }
    }
}

/// How big the generated organization is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Projects.
    pub projects: usize,
    /// Repositories per project.
    pub repositories: usize,
    /// Work items per project.
    pub work_items: usize,
    /// Releases per project.
    pub releases: usize,
    /// Pull requests per (non-empty) repository: active, completed and abandoned in turn.
    pub pull_requests: usize,
    /// YAML pipelines per project, each with a few completed runs.
    pub pipelines: usize,
    /// Teams per project (at least the default one), each with a board, members, an area
    /// path and the project's sprints.
    pub teams: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Self {
            projects: 3,
            repositories: 5,
            work_items: 40,
            releases: 5,
            pull_requests: 2,
            pipelines: 2,
            teams: 1,
        }
    }
}
