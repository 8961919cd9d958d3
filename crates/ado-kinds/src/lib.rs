//! Port's Azure DevOps integration on ocean-rs: its configuration ([`AdoConfig`], the
//! `OCEAN__INTEGRATION__CONFIG__*` keys of the Python integration's `spec.yaml`) and its kinds
//! ([`AdoKind`], one file each under `kinds/`), served through [`AzureDevops`].
//!
//! ```
//! use ado_kinds::AdoConfig;
//! use ocean::config::{Config, Overrides};
//!
//! let env: Vec<(String, String)> = [
//!     ("OCEAN__PORT__CLIENT_ID", "id"),
//!     ("OCEAN__PORT__CLIENT_SECRET", "secret"),
//!     ("OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL", "https://dev.azure.com/acme"),
//!     ("OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN", "pat"),
//! ]
//! .map(|(k, v)| (k.to_owned(), v.to_owned()))
//! .into();
//! let config = Config::<AdoConfig>::load(&env, None, "config.yaml", &Overrides::default(), |_, _| {})
//!     .expect("valid");
//! assert_eq!(config.integration.r#type, "azure-devops");
//! ```

pub mod actions;
mod config;
pub mod defaults;
mod error;
mod kind;
mod kinds;
mod memo;
pub mod webhooks;

use ado_client::Client;
pub use config::{AccountMode, AdoConfig};
pub use error::Error;
use futures::StreamExt;
pub use kind::{AdoKind, UnknownKind};
use mapping::SelectorConfig;
use ocean::{Integration, PageStream};

/// Organizations resynced at a time (upstream's `CONCURRENT_ORG_RESYNCS`, §3.0).
const ORGANIZATION_CONCURRENCY: usize = 3;

/// The integration: one client per organization, and the dispatch of kinds to their files.
#[derive(Debug, Clone)]
pub struct AzureDevops {
    sources: Vec<kinds::Source>,
}

impl AzureDevops {
    /// An integration reading from `client`'s organization.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self::organizations(vec![client])
    }

    /// An integration reading from several organizations (`Multiple Accounts`): every kind
    /// lists each organization's objects, [`ORGANIZATION_CONCURRENCY`] organizations at a
    /// time, each item with its `__organizationUrl` and `__organizationName`.
    ///
    /// Departure: upstream logs and skips an organization that fails, so the kind looks
    /// complete and reconciliation deletes that organization's entities; here the kind fails
    /// and its blueprints keep their entities.
    #[must_use]
    pub fn organizations(clients: Vec<Client>) -> Self {
        Self::excluding(clients, &[])
    }

    /// [`AzureDevops::organizations`] without the projects that carry one of `excluded_tags`
    /// (`excludedTags`), nor anything in them.
    #[must_use]
    pub fn excluding(clients: Vec<Client>, excluded_tags: &[String]) -> Self {
        let excluded: std::sync::Arc<[String]> = excluded_tags.into();
        Self {
            sources: clients
                .into_iter()
                .map(|client| kinds::Source::new(client, std::sync::Arc::clone(&excluded)))
                .collect(),
        }
    }

    /// Forgets every organization's lists shared within a resync.
    fn clear_memos(&self) {
        for source in &self.sources {
            source.memo.clear();
        }
    }

    fn fetch_one(
        source: &kinds::Source,
        kind: AdoKind,
        selector: &SelectorConfig,
    ) -> PageStream<Error> {
        kinds::with_organization(&source.client, kind.fetch(source, selector))
    }
}

impl Integration for AzureDevops {
    type Error = Error;

    fn fetch(&self, kind: &str, selector: &SelectorConfig) -> Option<PageStream<Self::Error>> {
        let kind = kind.parse::<AdoKind>().ok()?;
        if let [source] = self.sources.as_slice() {
            return Some(Self::fetch_one(source, kind, selector));
        }
        let streams: Vec<_> = self
            .sources
            .iter()
            .map(|source| Self::fetch_one(source, kind, selector))
            .collect();
        Some(
            futures::stream::iter(streams)
                .flatten_unordered(ORGANIZATION_CONCURRENCY)
                .boxed(),
        )
    }

    /// The kinds catch-up reads (ocean-azure-devops.md §7.3 lists upstream's incremental kinds:
    /// work items, builds, releases, release deployments, test runs, Advanced Security alerts
    /// and pipeline runs; pull requests created or closed and pipeline stages come on top, as
    /// catch-up reads them).
    fn fetch_changed(
        &self,
        kind: &str,
        selector: &SelectorConfig,
        since: jiff::Timestamp,
    ) -> Option<PageStream<Self::Error>> {
        let kind = kind.parse::<AdoKind>().ok()?;
        kind.catch_up_filters()?;
        let first_commits = kinds::flag(selector, "enrichWithFirstCommit");
        let streams = self
            .sources
            .iter()
            .map(|source| {
                let pages = kind.changed_since(source, selector, since, first_commits)?;
                Some(kinds::with_organization(&source.client, pages))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(
            futures::stream::iter(streams)
                .flatten_unordered(ORGANIZATION_CONCURRENCY)
                .boxed(),
        )
    }

    fn check(&self, kind: &str, selector: &SelectorConfig) -> Result<(), Error> {
        AdoKind::check_resource(kind, selector)
    }

    fn resync_started(&self) {
        self.clear_memos();
    }

    /// The memo's lists (repositories, policies, …: 6 MiB at the large bench) are of no use
    /// between resyncs.
    fn resync_finished(&self) {
        self.clear_memos();
    }

    /// Credentials refused, or the organization out of reach after retries: every kind would
    /// fail alike. With several organizations only a refused Entra ID token (shared by all) stops
    /// the resync: the other organizations' items are still written.
    fn stops_resync(&self, error: &Error) -> bool {
        let Error::Ado(error) = error else {
            return false;
        };
        match error.root() {
            ado_client::Error::TokenFailed { .. } => true,
            ado_client::Error::InvalidPat { .. }
            | ado_client::Error::ServicePrincipalRefused { .. }
            | ado_client::Error::Certificate { .. }
            | ado_client::Error::Transport { .. } => self.sources.len() == 1,
            _ => false,
        }
    }
}
