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

mod config;
pub mod defaults;
mod kinds;
mod memo;
pub mod webhooks;

use ado_client::Client;
pub use config::{AccountMode, AdoConfig};
use futures::StreamExt;
use mapping::SelectorConfig;
use ocean::{Integration, PageStream};

/// Every kind this integration implements so far: the default mapping's kinds,
/// `pull-request`, `branch`, `file`, `folder`, `advanced-security-alert`, `test-run`, `release-definition`,
/// `release-deployment`, the pipelines area's `pipeline`, `pipeline-run`, `pipeline-stage`,
/// `build`, `environment` and `pipeline-deployment`, the teams area's `team`, `member`,
/// `iteration` and `area-path`, the identity area's `user`, `group` and `group-member`, and
/// `wiki`. Live events (`webhooks`) update the kinds Azure DevOps sends
/// events for: all but `project`, `repository-policy`, `board`, `column` and the kinds added
/// with the teams and environments (no service-hook event covers those).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdoKind {
    /// `project`
    Project,
    /// `repository`
    Repository,
    /// `repository-policy`
    RepositoryPolicy,
    /// `pull-request`
    PullRequest,
    /// `branch`
    Branch,
    /// `board`
    Board,
    /// `column`
    Column,
    /// `work-item`
    WorkItem,
    /// `release`
    Release,
    /// `release-definition`
    ReleaseDefinition,
    /// `release-deployment`
    ReleaseDeployment,
    /// `pipeline`
    Pipeline,
    /// `advanced-security-alert`
    AdvancedSecurityAlert,
    /// `test-run`
    TestRun,
    /// `pipeline-run`
    PipelineRun,
    /// `pipeline-stage`
    PipelineStage,
    /// `build`
    Build,
    /// `environment`
    Environment,
    /// `pipeline-deployment`
    PipelineDeployment,
    /// `team`
    Team,
    /// `member`
    Member,
    /// `iteration`
    Iteration,
    /// `area-path`
    AreaPath,
    /// `user`
    User,
    /// `group`
    Group,
    /// `group-member`
    GroupMember,
    /// `file`
    File,
    /// `wiki`
    Wiki,
    /// `folder`
    Folder,
}

impl AdoKind {
    /// The kind for a port-app-config `kind` string.
    #[must_use]
    pub fn parse(kind: &str) -> Option<Self> {
        Some(match kind {
            "project" => Self::Project,
            "repository" => Self::Repository,
            "repository-policy" => Self::RepositoryPolicy,
            "pull-request" => Self::PullRequest,
            "branch" => Self::Branch,
            "board" => Self::Board,
            "column" => Self::Column,
            "work-item" => Self::WorkItem,
            "release" => Self::Release,
            "release-definition" => Self::ReleaseDefinition,
            "release-deployment" => Self::ReleaseDeployment,
            "pipeline" => Self::Pipeline,
            "advanced-security-alert" => Self::AdvancedSecurityAlert,
            "test-run" => Self::TestRun,
            "pipeline-run" => Self::PipelineRun,
            "pipeline-stage" => Self::PipelineStage,
            "build" => Self::Build,
            "environment" => Self::Environment,
            "pipeline-deployment" => Self::PipelineDeployment,
            "team" => Self::Team,
            "member" => Self::Member,
            "iteration" => Self::Iteration,
            "area-path" => Self::AreaPath,
            "user" => Self::User,
            "group" => Self::Group,
            "group-member" => Self::GroupMember,
            "file" => Self::File,
            "wiki" => Self::Wiki,
            "folder" => Self::Folder,
            _ => return None,
        })
    }
}

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

    fn fetch_one(
        source: &kinds::Source,
        kind: AdoKind,
        selector: &SelectorConfig,
    ) -> PageStream<ado_client::Error> {
        let c = source;
        let pages = match kind {
            AdoKind::Project => kinds::core::project::fetch(c, selector),
            AdoKind::Repository => kinds::git::repository::fetch(c, selector),
            AdoKind::RepositoryPolicy => kinds::git::repository_policy::fetch(c, selector),
            AdoKind::PullRequest => kinds::git::pull_request::fetch(c, selector),
            AdoKind::Branch => kinds::git::branch::fetch(c, selector),
            AdoKind::Board => kinds::work::board::fetch(c, selector),
            AdoKind::Column => kinds::work::column::fetch(c, selector),
            AdoKind::WorkItem => kinds::wit::work_item::fetch(c, selector),
            AdoKind::Release => kinds::release::release::fetch(c, selector),
            AdoKind::ReleaseDefinition => kinds::release::release_definition::fetch(c, selector),
            AdoKind::ReleaseDeployment => kinds::release::release_deployment::fetch(c, selector),
            AdoKind::Pipeline => kinds::pipelines::pipeline::fetch(c, selector),
            AdoKind::AdvancedSecurityAlert => {
                kinds::advsec::advanced_security_alert::fetch(c, selector)
            }
            AdoKind::TestRun => kinds::test::test_run::fetch(c, selector),
            AdoKind::PipelineRun => kinds::pipelines::pipeline_run::fetch(c, selector),
            AdoKind::PipelineStage => kinds::pipelines::pipeline_stage::fetch(c, selector),
            AdoKind::Build => kinds::pipelines::build::fetch(c, selector),
            AdoKind::Environment => kinds::pipelines::environment::fetch(c, selector),
            AdoKind::PipelineDeployment => {
                kinds::pipelines::pipeline_deployment::fetch(c, selector)
            }
            AdoKind::Team => kinds::core::team::fetch(c, selector),
            AdoKind::Member => kinds::core::member::fetch(c, selector),
            AdoKind::Iteration => kinds::work::iteration::fetch(c, selector),
            AdoKind::AreaPath => kinds::wit::area_path::fetch(c, selector),
            AdoKind::User => kinds::identity::user::fetch(c, selector),
            AdoKind::Group => kinds::identity::group::fetch(c, selector),
            AdoKind::GroupMember => kinds::identity::group_member::fetch(c, selector),
            AdoKind::File => kinds::git::file::fetch(c, selector),
            AdoKind::Wiki => kinds::wiki::wiki_page::fetch(c, selector),
            AdoKind::Folder => kinds::git::folder::fetch(c, selector),
        };
        kinds::with_organization(&c.client, pages)
    }
}

impl Integration for AzureDevops {
    type Error = ado_client::Error;

    fn fetch(&self, kind: &str, selector: &SelectorConfig) -> Option<PageStream<Self::Error>> {
        let kind = AdoKind::parse(kind)?;
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

    fn resync_started(&self) {
        for source in &self.sources {
            source.memo.clear();
        }
    }
}
