//! [`AdoKind`]: every kind of the integration, in one list. A kind's name, its selector options
//! and fetch, its live selection and its catch-up are each one `match` here, and each arm calls
//! the kind's own file under `kinds/` (mini-redis's `Command` idea, STYLE rule 7). Adding a
//! kind touches its file and this list, nothing else.
//!
//! The selector check at load and the fetch read a kind's options through the same `match`
//! ([`AdoKind::with_options`]): each arm parses the options with the kind's one parse function
//! and hands them, typed, to the kind's `fetch`, so the check cannot accept what the fetch
//! would refuse, nor read an option differently.

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
        self.with_options(selector, Check)
    }

    /// Streams every item of this kind that a resource with `selector` reads from `source`'s
    /// organization; a stream that fails at once when an option is wrong (a second line:
    /// [`AdoKind::check`] refuses such a mapping at load).
    pub(crate) fn fetch(self, source: &Source, selector: &SelectorConfig) -> PageStream<Error> {
        match self.with_options(selector, Start(source)) {
            Ok(pages) => pages.err_into().boxed(),
            Err(error) => stream::once(future::ready(Err(error))).boxed(),
        }
    }

    /// Parses the kind's selector options with the kind's one parse function, then hands them
    /// with the kind's `fetch` to `then`: [`Check`] stops there, [`Start`] starts the fetch.
    /// Kinds whose options cannot be wrong read them from the selector in their `fetch`.
    fn with_options<W: WithOptions>(
        self,
        selector: &SelectorConfig,
        then: W,
    ) -> Result<W::Output, Error> {
        let s = selector;
        Ok(match self {
            Self::Project => then.with(s, core::project::fetch),
            Self::Repository => then.with(s, git::repository::fetch),
            Self::RepositoryPolicy => then.with(s, git::repository_policy::fetch),
            Self::PullRequest => {
                let options = git::pull_request::Options::from(s)?;
                then.with(options, git::pull_request::fetch)
            }
            Self::Branch => then.with(s, git::branch::fetch),
            Self::Board => then.with(s, work::board::fetch),
            Self::Column => then.with(s, work::column::fetch),
            Self::WorkItem => then.with(s, wit::work_item::fetch),
            Self::Release => then.with(s, release::release::fetch),
            Self::ReleaseDefinition => then.with(s, release::release_definition::fetch),
            Self::ReleaseDeployment => then.with(s, release::release_deployment::fetch),
            Self::Pipeline => then.with(s, pipelines::pipeline::fetch),
            Self::AdvancedSecurityAlert => then.with(alert::Criteria::from(s)?, alert::fetch),
            Self::TestRun => then.with(test_run::Options::from(s)?, test_run::fetch),
            Self::PipelineRun => then.with(s, pipelines::pipeline_run::fetch),
            Self::PipelineStage => then.with(s, pipelines::pipeline_stage::fetch),
            Self::Build => then.with(s, pipelines::build::fetch),
            Self::Environment => then.with(s, pipelines::environment::fetch),
            Self::PipelineDeployment => then.with(s, pipelines::pipeline_deployment::fetch),
            Self::Team => then.with(s, core::team::fetch),
            Self::Member => then.with(s, core::member::fetch),
            Self::Iteration => then.with(s, work::iteration::fetch),
            Self::AreaPath => then.with(wit::area_path::depth(s)?, wit::area_path::fetch),
            Self::User => then.with(identity::user::Options::from(s)?, identity::user::fetch),
            Self::Group => then.with(s, identity::group::fetch),
            Self::GroupMember => then.with(s, identity::group_member::fetch),
            Self::File => then.with(git::file::Selection::from(s)?, git::file::fetch),
            Self::Wiki => then.with(wiki_page::Options::from(s)?, wiki_page::fetch),
            Self::Folder => then.with(git::folder::Selection::from(s)?, git::folder::fetch),
        })
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

    /// Catch-up and incremental runs: the items of this kind changed at or after `since`, as a
    /// resource with `selector` reads them (see [`AdoKind::catch_up_filters`]); builds get
    /// their first commit when `first_commits` (a `build` resource asks for
    /// `enrichWithFirstCommit`).
    pub(crate) fn changed_since(
        self,
        source: &Source,
        selector: &SelectorConfig,
        since: Timestamp,
        first_commits: bool,
    ) -> Option<PageStream<Error>> {
        let (c, s) = (source, selector);
        let started: Fetch = match self {
            Self::WorkItem => Ok(wit::work_item::fetch_since(c, s, Some(since))),
            Self::PullRequest => Ok(git::pull_request::changed_since(c, since)),
            Self::Release => Ok(release::release::created_since(c, s, since)),
            Self::ReleaseDeployment => Ok(release::release_deployment::changed_since(c, since)),
            Self::AdvancedSecurityAlert => alert::changed_since(c, s, since),
            Self::TestRun => test_run::changed_since(c, s, since),
            Self::Build => Ok(pipelines::build::changed_since(c, since, first_commits)),
            Self::PipelineRun => Ok(pipelines::pipeline_run::changed_since(c, since)),
            Self::PipelineStage => Ok(pipelines::pipeline_stage::changed_since(c, since)),
            _ => return None,
        };
        Some(into_stream(started))
    }
}

/// A kind's `fetch`: its page stream, from the options its parse function read.
type KindFetch<O> = fn(&Source, O) -> PageStream<ado_client::Error>;

/// What [`AdoKind::with_options`] does with a kind's parsed options and its `fetch`.
trait WithOptions {
    /// What it makes of them.
    type Output;

    /// Uses `options`, which the kind's parse function read, and the kind's `fetch`.
    fn with<O>(self, options: O, fetch: KindFetch<O>) -> Self::Output;
}

/// Checks the options: parsed, so they are valid; nothing is fetched.
struct Check;

impl WithOptions for Check {
    type Output = ();

    fn with<O>(self, _options: O, _fetch: KindFetch<O>) {}
}

/// Starts the kind's fetch from `source` with the parsed options.
struct Start<'a>(&'a Source);

impl WithOptions for Start<'_> {
    type Output = PageStream<ado_client::Error>;

    fn with<O>(self, options: O, fetch: KindFetch<O>) -> Self::Output {
        fetch(self.0, options)
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

    #[tokio::test]
    async fn a_fetch_refuses_at_once_what_the_check_refuses_and_alike() {
        let client = ado_client::Client::new(
            &"https://dev.azure.com/acme".parse().expect("a URL"),
            &secrecy::SecretString::from("pat"),
            &ado_client::ClientOptions::default(),
        )
        .expect("a client");
        let source = Source::new(client, std::sync::Arc::from([]));
        for (kind, options) in [
            (AdoKind::PullRequest, serde_json::json!({"maxResults": 0})),
            (AdoKind::File, serde_json::json!({})),
            (AdoKind::Folder, serde_json::json!({"folders": []})),
            (
                AdoKind::AdvancedSecurityAlert,
                serde_json::json!({"criteria": {"x": 1}}),
            ),
            (AdoKind::TestRun, serde_json::json!({"includeResults": 1})),
            (AdoKind::AreaPath, serde_json::json!({"depth": "deep"})),
            (AdoKind::User, serde_json::json!({"source": "ldap"})),
            (AdoKind::Wiki, serde_json::json!({"wikiType": "blog"})),
        ] {
            let mut selector = serde_json::json!({"query": "true"});
            if let (Some(s), Some(o)) = (selector.as_object_mut(), options.as_object()) {
                s.extend(o.clone());
            }
            let selector: SelectorConfig = serde_json::from_value(selector).expect("a selector");
            let checked = kind.check(&selector).expect_err("a wrong option");
            let fetched = kind.fetch(&source, &selector).next().await;
            let Some(Err(fetched)) = fetched else {
                panic!("{kind}: the fetch did not fail at once");
            };
            assert_eq!(checked.to_string(), fetched.to_string(), "{kind}");
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
