//! `test-run`: the test runs of every project with their details (ocean-azure-devops.md §3.1),
//! each with `__testResults` (its results, unless `includeResults: false`; `[]` otherwise) and
//! `__codeCoverage` (its build's coverage when the selector has `codeCoverage`, with its
//! `flags`; `{}` otherwise or without a build). 10 runs enriched at a time.

use ado_client::{BuildId, Client, Error, ProjectId};
use futures::{StreamExt, TryStreamExt, stream};
use mapping::{PortAppConfig, SelectorConfig};
use ocean::{Page, PageStream};
use serde_json::{Map, Value};

use super::super::{Fetch, Source, ado_time, per_project_streams};
use crate::AdoKind;

/// Runs enriched at once.
const ENRICH_CONCURRENCY: usize = 10;
/// The widest window of `minLastUpdatedDate`..`maxLastUpdatedDate` the service accepts.
const WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(7 * 24);

/// What each run is enriched with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    results: bool,
    coverage: Coverage,
}

/// Whether code coverage is read, and with which `flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coverage {
    Off,
    On { flags: Option<u64> },
}

impl Options {
    /// The options of `selector`, or which one is wrong.
    pub(crate) fn from(selector: &SelectorConfig) -> Result<Self, crate::Error> {
        let invalid = |option: &str, message: String| {
            crate::Error::selector(AdoKind::TestRun, option, message)
        };
        let results = match selector.extra.get("includeResults") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(other) => {
                return Err(invalid(
                    "includeResults",
                    format!("must be true or false, not {other}"),
                ));
            }
        };
        let coverage = match selector.extra.get("codeCoverage") {
            None | Some(Value::Null) => Coverage::Off,
            Some(Value::Object(o)) => match o.get("flags") {
                None | Some(Value::Null) => Coverage::On { flags: None },
                Some(flags) => Coverage::On {
                    flags: Some(flags.as_u64().ok_or_else(|| {
                        invalid(
                            "codeCoverage.flags",
                            format!("must be a whole number, not {flags}"),
                        )
                    })?),
                },
            },
            Some(other) => {
                return Err(invalid(
                    "codeCoverage",
                    format!("must be an object such as {{flags: 1}}, not {other}"),
                ));
            }
        };
        Ok(Self { results, coverage })
    }

    /// For live events, one object for every `test-run` resource: results when any asks,
    /// coverage when any asks (with the first one's flags).
    pub(crate) fn of_mapping(config: &PortAppConfig) -> Result<Option<Self>, crate::Error> {
        let mut merged: Option<Self> = None;
        for resource in AdoKind::TestRun.resources(config) {
            let options = Self::from(&resource.selector)?;
            merged = Some(match merged {
                None => options,
                Some(m) => Self {
                    results: m.results || options.results,
                    coverage: match m.coverage {
                        Coverage::Off => options.coverage,
                        on @ Coverage::On { .. } => on,
                    },
                },
            });
        }
        Ok(merged)
    }
}

/// Streams pages of enriched test runs.
pub(crate) fn fetch(source: &Source, options: Options) -> PageStream<Error> {
    runs(source, options, Vec::new())
}

/// Catch-up: runs updated at or after `since`, in windows of at most 7 days up to now.
pub(crate) fn changed_since(
    source: &Source,
    selector: &SelectorConfig,
    since: jiff::Timestamp,
) -> Fetch {
    let options = Options::from(selector)?;
    let now = jiff::Timestamp::now();
    let mut windows = Vec::new();
    let mut from = since;
    while from < now {
        let to = (from + WINDOW).min(now);
        windows.push(runs(
            source,
            options,
            vec![
                ("minLastUpdatedDate", ado_time(from)),
                ("maxLastUpdatedDate", ado_time(to)),
            ],
        ));
        from = to;
    }
    Ok(stream::iter(windows).flatten().boxed())
}

fn runs(
    source: &Source,
    options: Options,
    query: Vec<(&'static str, String)>,
) -> PageStream<Error> {
    per_project_streams(source, move |source, project| {
        let project_id = ProjectId::of(&project);
        let client = source.client.clone();
        let mut query = query.clone();
        query.push(("includeRunDetails", "true".to_owned()));
        source
            .client
            .test_runs(&project_id, query)
            .and_then(move |runs| {
                let (client, project_id) = (client.clone(), project_id.clone());
                async move {
                    Ok(Page::from(
                        enrich(&client, &project_id, runs, options).await?,
                    ))
                }
            })
            .boxed()
    })
}

/// Live: the runs of build `build`, enriched.
pub(crate) async fn of_build(
    client: &Client,
    project_id: &ProjectId,
    build: BuildId,
    options: Options,
) -> Result<Vec<Value>, Error> {
    let query = vec![
        ("includeRunDetails", "true".to_owned()),
        ("buildUri", format!("vstfs:///Build/Build/{build}")),
    ];
    let runs = client.test_runs(project_id, query).try_concat().await?;
    enrich(client, project_id, runs, options).await
}

async fn enrich(
    client: &Client,
    project_id: &ProjectId,
    runs: Vec<Value>,
    options: Options,
) -> Result<Vec<Value>, Error> {
    stream::iter(runs)
        .map(|mut run| async move {
            let id = run["id"].as_u64().unwrap_or_default();
            run["__testResults"] = if options.results {
                Value::Array(client.test_results(project_id, id).await?)
            } else {
                Value::Array(Vec::new())
            };
            // A shallow reference: the build id is a string.
            let build = match &run["build"]["id"] {
                Value::String(s) => s.parse::<BuildId>().ok(),
                other => other.as_u64().map(BuildId::from),
            };
            run["__codeCoverage"] = match (options.coverage, build) {
                (Coverage::On { flags }, Some(build)) => {
                    client.code_coverage(project_id, build, flags).await?
                }
                _ => Value::Object(Map::new()),
            };
            Ok::<_, Error>(run)
        })
        .buffered(ENRICH_CONCURRENCY)
        .try_collect()
        .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use serde_json::json;

    use super::*;

    fn options(extra: &Value) -> Result<Options, crate::Error> {
        let mut selector = json!({"query": "true"});
        selector
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        Options::from(&serde_json::from_value(selector).unwrap())
    }

    #[test]
    fn results_are_included_unless_turned_off_and_coverage_only_when_asked() {
        let default = options(&json!({})).unwrap();
        assert_eq!((default.results, default.coverage), (true, Coverage::Off));
        let off = options(&json!({"includeResults": "false", "codeCoverage": {}})).unwrap();
        assert_eq!(
            (off.results, off.coverage),
            (false, Coverage::On { flags: None })
        );
        let flagged = options(&json!({"codeCoverage": {"flags": 3}})).unwrap();
        assert_eq!(flagged.coverage, Coverage::On { flags: Some(3) });
        let bad = options(&json!({"codeCoverage": {"flags": "all"}})).unwrap_err();
        assert!(bad.to_string().contains("codeCoverage.flags"), "{bad}");
        assert!(options(&json!({"includeResults": 1})).is_err());
    }
}
