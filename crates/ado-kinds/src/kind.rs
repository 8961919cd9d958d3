//! [`AdoKind`]: every kind of the integration, in one list. A kind's name, its fetch, its
//! selector check, its live selection and its catch-up are each one `match` here, and each
//! arm calls the kind's own file under `kinds/` (mini-redis's `Command` idea, STYLE rule 7).
//! Adding a kind touches its file and this list, nothing else.

use std::{fmt, str::FromStr};

use futures::{StreamExt, TryStreamExt, future, stream};
use jiff::Timestamp;
use mapping::{PortAppConfig, ResourceConfig, SelectorConfig};
use ocean::PageStream;
use serde_json::Value;

use crate::{
    Error,
    kinds::{
        Fetch, Source, advsec::advanced_security_alert as alert, core, git, identity, pipelines,
        release, test::test_run, wiki::wiki_page, wit, work,
    },
};

/// Declares [`AdoKind`] with its port-app-config names, once.
macro_rules! kinds {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// A kind of the port-app-config (`kind:`), as the Python integration names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum AdoKind {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl AdoKind {
            /// Every kind, in the order of the Python integration's `Kind` enum.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];

            /// The kind's name in the port-app-config.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }

        impl FromStr for AdoKind {
            type Err = UnknownKind;

            fn from_str(name: &str) -> Result<Self, UnknownKind> {
                match name {
                    $($name => Ok(Self::$variant),)*
                    _ => Err(UnknownKind(name.to_owned())),
                }
            }
        }
    };
}

kinds! {
    Project => "project",
    Repository => "repository",
    RepositoryPolicy => "repository-policy",
    PullRequest => "pull-request",
    Branch => "branch",
    Board => "board",
    Column => "column",
    WorkItem => "work-item",
    Release => "release",
    ReleaseDefinition => "release-definition",
    ReleaseDeployment => "release-deployment",
    Pipeline => "pipeline",
    AdvancedSecurityAlert => "advanced-security-alert",
    TestRun => "test-run",
    PipelineRun => "pipeline-run",
    PipelineStage => "pipeline-stage",
    Build => "build",
    Environment => "environment",
    PipelineDeployment => "pipeline-deployment",
    Team => "team",
    Member => "member",
    Iteration => "iteration",
    AreaPath => "area-path",
    User => "user",
    Group => "group",
    GroupMember => "group-member",
    File => "file",
    Wiki => "wiki",
    Folder => "folder",
}

/// A `kind:` this integration does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown kind `{0}`: this integration has {known}", known = known())]
pub struct UnknownKind(pub String);

fn known() -> String {
    let names: Vec<&str> = AdoKind::ALL.iter().map(|k| k.as_str()).collect();
    names.join(", ")
}

impl fmt::Display for AdoKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<AdoKind> for String {
    fn from(kind: AdoKind) -> Self {
        kind.as_str().to_owned()
    }
}

impl AdoKind {
    /// The resources of `config` of this kind, in config order.
    pub fn resources(self, config: &PortAppConfig) -> impl Iterator<Item = &ResourceConfig> {
        config
            .resources
            .iter()
            .filter(move |r| r.kind == self.as_str())
    }

    /// Whether any resource of `config` is of this kind.
    #[must_use]
    pub fn is_mapped(self, config: &PortAppConfig) -> bool {
        self.resources(config).next().is_some()
    }

    /// Checks a resource of the port-app-config: its `kind` names one of ours and its
    /// selector options are ones that kind can use.
    pub fn check_resource(kind: &str, selector: &SelectorConfig) -> Result<(), Error> {
        kind.parse::<Self>()?.check(selector)
    }

    /// Checks the kind's selector options (the mapping is refused at load when one is wrong).
    ///
    /// ```
    /// use ado_kinds::AdoKind;
    ///
    /// let selector = serde_json::from_value(serde_json::json!({"query": "true", "depth": "deep"}))
    ///     .expect("a selector");
    /// let error = AdoKind::AreaPath.check(&selector).expect_err("depth is a number");
    /// assert!(error.to_string().contains("`depth` of kind `area-path`"));
    /// ```
    pub fn check(self, selector: &SelectorConfig) -> Result<(), Error> {
        match self {
            Self::PullRequest => git::pull_request::check(selector),
            Self::File => git::file::check(selector),
            Self::Folder => git::folder::check(selector),
            Self::AdvancedSecurityAlert => alert::check(selector),
            Self::TestRun => test_run::check(selector),
            Self::AreaPath => wit::area_path::check(selector),
            Self::User => identity::user::check(selector),
            Self::Wiki => wiki_page::check(selector),
            _ => Ok(()),
        }
    }

    /// Streams every item of this kind that a resource with `selector` reads from `source`'s
    /// organization.
    pub(crate) fn fetch(self, source: &Source, selector: &SelectorConfig) -> PageStream<Error> {
        let (c, s) = (source, selector);
        let started: Fetch = match self {
            Self::Project => Ok(core::project::fetch(c, s)),
            Self::Repository => Ok(git::repository::fetch(c, s)),
            Self::RepositoryPolicy => Ok(git::repository_policy::fetch(c, s)),
            Self::PullRequest => git::pull_request::fetch(c, s),
            Self::Branch => Ok(git::branch::fetch(c, s)),
            Self::Board => Ok(work::board::fetch(c, s)),
            Self::Column => Ok(work::column::fetch(c, s)),
            Self::WorkItem => Ok(wit::work_item::fetch(c, s)),
            Self::Release => Ok(release::release::fetch(c, s)),
            Self::ReleaseDefinition => Ok(release::release_definition::fetch(c, s)),
            Self::ReleaseDeployment => Ok(release::release_deployment::fetch(c, s)),
            Self::Pipeline => Ok(pipelines::pipeline::fetch(c, s)),
            Self::AdvancedSecurityAlert => alert::fetch(c, s),
            Self::TestRun => test_run::fetch(c, s),
            Self::PipelineRun => Ok(pipelines::pipeline_run::fetch(c, s)),
            Self::PipelineStage => Ok(pipelines::pipeline_stage::fetch(c, s)),
            Self::Build => Ok(pipelines::build::fetch(c, s)),
            Self::Environment => Ok(pipelines::environment::fetch(c, s)),
            Self::PipelineDeployment => Ok(pipelines::pipeline_deployment::fetch(c, s)),
            Self::Team => Ok(core::team::fetch(c, s)),
            Self::Member => Ok(core::member::fetch(c, s)),
            Self::Iteration => Ok(work::iteration::fetch(c, s)),
            Self::AreaPath => wit::area_path::fetch(c, s),
            Self::User => identity::user::fetch(c, s),
            Self::Group => Ok(identity::group::fetch(c, s)),
            Self::GroupMember => Ok(identity::group_member::fetch(c, s)),
            Self::File => git::file::fetch(c, s),
            Self::Wiki => wiki_page::fetch(c, s),
            Self::Folder => git::folder::fetch(c, s),
        };
        into_stream(started)
    }

    /// Live: whether the resource with `selector` would have read `item` in a resync, for the
    /// kinds whose resources read different items (paths, criteria, wiki type); `true` for
    /// the others (their `query` still applies).
    #[must_use]
    pub fn selects(self, selector: &SelectorConfig, item: &Value) -> bool {
        match self {
            Self::File => git::file::selects(selector, item),
            Self::Folder => git::folder::selects(selector, item),
            Self::AdvancedSecurityAlert => alert::selects(selector, item),
            Self::Wiki => wiki_page::selects(selector, item),
            _ => true,
        }
    }

    /// Catch-up: the selector options that change what a catch-up of this kind reads
    /// (resources that agree on them share one query), or `None` when Azure DevOps cannot be
    /// asked what changed since a time for this kind.
    pub(crate) const fn catch_up_filters(self) -> Option<&'static [&'static str]> {
        Some(match self {
            Self::WorkItem => &["wiql", "expand"],
            Self::Release => &[
                "expand",
                "statusFilter",
                "tagFilter",
                "sourceBranchFilter",
                "minCreatedTime",
                "maxCreatedTime",
            ],
            Self::AdvancedSecurityAlert => &["criteria"],
            Self::TestRun => &["includeResults", "codeCoverage"],
            Self::PullRequest
            | Self::ReleaseDeployment
            | Self::Build
            | Self::PipelineRun
            | Self::PipelineStage => &[],
            _ => return None,
        })
    }

    /// Catch-up: the items of this kind changed at or after `since`, as a resource with
    /// `selector` of the live mapping `config` reads them (see [`AdoKind::catch_up_filters`]).
    pub(crate) fn changed_since(
        self,
        source: &Source,
        selector: &SelectorConfig,
        since: Timestamp,
        config: &PortAppConfig,
    ) -> Option<PageStream<Error>> {
        let (c, s) = (source, selector);
        let started: Fetch = match self {
            Self::WorkItem => Ok(wit::work_item::fetch_since(c, s, Some(since))),
            Self::PullRequest => Ok(git::pull_request::changed_since(c, since)),
            Self::Release => Ok(release::release::created_since(c, s, since)),
            Self::ReleaseDeployment => Ok(release::release_deployment::changed_since(c, since)),
            Self::AdvancedSecurityAlert => alert::changed_since(c, s, since),
            Self::TestRun => test_run::changed_since(c, s, since),
            Self::Build => {
                let enrich = pipelines::build::wants_first_commit(config);
                Ok(pipelines::build::changed_since(c, since, enrich))
            }
            Self::PipelineRun => Ok(pipelines::pipeline_run::changed_since(c, since)),
            Self::PipelineStage => Ok(pipelines::pipeline_stage::changed_since(c, since)),
            _ => return None,
        };
        Some(into_stream(started))
    }
}

/// A kind's stream with this crate's errors, or one that fails at once with the selector
/// error that kept it from starting.
fn into_stream(started: Fetch) -> PageStream<Error> {
    match started {
        Ok(pages) => pages.err_into().boxed(),
        Err(error) => stream::once(future::ready(Err(error))).boxed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        assert_eq!(AdoKind::ALL.len(), 29, "the Python integration's 29 kinds");
        for kind in AdoKind::ALL {
            assert_eq!(kind.as_str().parse::<AdoKind>(), Ok(*kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
    }

    #[test]
    fn an_unknown_kind_names_itself_and_the_known_ones() {
        let error = "work-items".parse::<AdoKind>().expect_err("a typo");
        let text = error.to_string();
        assert!(
            text.contains("`work-items`") && text.contains("work-item,"),
            "{text}"
        );
    }
}
