//! `work-item`: per project, WIQL with id-range paging so a project with more than 20,000
//! matches still syncs completely (ocean-azure-devops.md §3.2), then details 200 ids at a time,
//! each item with `__projectId` and `__project` (shared keys of the page). Each page's items
//! stay the response's JSON text until they are mapped (`ocean::JsonItems`, issue 18).

use ado_client::{Client, Error, ProjectId};
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{JsonItems, Page, PageStream};
use serde_json::Value;

use super::super::{PROJECT_CONCURRENCY, Source, ado_time, project_fields, projects_stream};

/// WIQL returns at most 20,000 ids; the Python integration asks for 19,999 per window.
pub const WIQL_WINDOW: usize = 19_999;
/// Ids per details request (the API's maximum).
pub const IDS_PER_REQUEST: usize = 200;

/// Streams pages of up to 200 work items.
pub(crate) fn fetch(source: &Source, selector: &SelectorConfig) -> PageStream<Error> {
    fetch_since(source, selector, None)
}

/// Streams the selector's work items changed at or after `since` (or all of them), with a
/// WIQL `[System.ChangedDate] >= since` and `timePrecision` so the time of day counts.
pub(crate) fn fetch_since(
    source: &Source,
    selector: &SelectorConfig,
    since: Option<jiff::Timestamp>,
) -> PageStream<Error> {
    let client = &source.client;
    let (filter, order_by) = selector
        .extra
        .get("wiql")
        .and_then(Value::as_str)
        .map_or((None, None), split_order_by);
    let filter = filter.map(|f| format!("({f})"));
    let filter = match since {
        None => filter,
        Some(since) => {
            let changed = format!("[System.ChangedDate] >= '{}'", ado_time(since));
            Some(filter.map_or(changed.clone(), |f| format!("{f} AND {changed}")))
        }
    };
    let time_precision = since.is_some();
    let expand = selector
        .extra
        .get("expand")
        .and_then(Value::as_str)
        .unwrap_or("All")
        .to_owned();
    let client = client.clone();
    projects_stream(source)
        .map_ok(move |project| {
            let query = Wiql {
                filter: filter.clone(),
                order_by: order_by.clone(),
                time_precision,
            };
            project_items(client.clone(), project, query, expand.clone())
        })
        .try_flatten_unordered(PROJECT_CONCURRENCY)
        .boxed()
}

/// The condition added to a project's WIQL, the user's own sort order, and whether it
/// compares times of day.
#[derive(Debug, Clone)]
struct Wiql {
    filter: Option<String>,
    order_by: Option<String>,
    time_precision: bool,
}

/// The `wiql` selector split into its condition and its `ORDER BY` clause, as upstream splits
/// it (case-insensitive ` ORDER BY `, or a leading `ORDER BY`) before adding its own clauses.
fn split_order_by(wiql: &str) -> (Option<String>, Option<String>) {
    let upper = wiql.to_ascii_uppercase();
    let trimmed = upper.trim_start();
    let (condition, order) = if trimmed.starts_with("ORDER BY ") {
        let start = wiql.len() - trimmed.len();
        ("", &wiql[start + "ORDER BY ".len()..])
    } else if let Some(at) = upper.find(" ORDER BY ") {
        (&wiql[..at], &wiql[at + " ORDER BY ".len()..])
    } else {
        (wiql, "")
    };
    let part = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    (part(condition), part(order))
}

fn project_items(client: Client, project: Value, query: Wiql, expand: String) -> PageStream<Error> {
    let ids = {
        let (client, project) = (client.clone(), project.clone());
        async move { all_ids(&client, &project, &query).await }
    };
    stream::once(ids)
        .map_ok(move |ids| {
            let chunks: Vec<Vec<u64>> = ids.chunks(IDS_PER_REQUEST).map(<[u64]>::to_vec).collect();
            let (client, project, expand) = (client.clone(), project.clone(), expand.clone());
            stream::iter(chunks).then(move |chunk| {
                let (client, project, expand) = (client.clone(), project.clone(), expand.clone());
                async move {
                    let project_id = ProjectId::of(&project);
                    let body = client.work_items_body(&project_id, &chunk, &expand).await?;
                    let items = JsonItems::from_list(body, "value")
                        .map_err(|e| Error::Decode {
                            route: format!("{}/_apis/wit/workitems", project_id.as_str()),
                            path: "value".to_owned(),
                            message: e.to_string(),
                        })?
                        .without_nulls();
                    Ok(Page {
                        items: items.into(),
                        shared: project_fields(project_id, project),
                        skipped: Vec::new(),
                    })
                }
            })
        })
        .try_flatten()
        .boxed()
}

/// Every matching id of `project`, in windows of `[System.Id] > last`.
async fn all_ids(client: &Client, project: &Value, wiql: &Wiql) -> Result<Vec<u64>, Error> {
    let name = project["name"]
        .as_str()
        .unwrap_or_default()
        .replace('\'', "''");
    let mut base =
        format!("SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = '{name}'");
    if let Some(filter) = &wiql.filter {
        base = format!("{base} AND ({filter})");
    }
    if let Some(order_by) = &wiql.order_by {
        // The user's order rules out windows by id: one request, at most the service's limit
        // (upstream does the same and warns).
        let query = format!("{base} ORDER BY {order_by}");
        let ids = client
            .wiql(
                &ProjectId::of(project),
                &query,
                WIQL_WINDOW,
                wiql.time_precision,
            )
            .await?;
        if ids.len() >= WIQL_WINDOW {
            tracing::warn!(
                project = name,
                limit = WIQL_WINDOW,
                "The wiql selector has ORDER BY, so at most this many work items of the project are read; remove ORDER BY to read them all."
            );
        }
        return Ok(ids);
    }
    let mut ids = Vec::new();
    let mut last = 0u64;
    loop {
        let query = format!("{base} AND [System.Id] > {last} ORDER BY [System.Id] ASC");
        let window = client
            .wiql(
                &ProjectId::of(project),
                &query,
                WIQL_WINDOW,
                wiql.time_precision,
            )
            .await?;
        let full = window.len() >= WIQL_WINDOW;
        last = window.iter().copied().max().unwrap_or(last);
        ids.extend(window);
        if !full {
            return Ok(ids);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_order_by;

    #[test]
    fn order_by_is_split_from_the_condition_in_any_case() {
        let split = |w: &str| split_order_by(w);
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            split("[System.State] = 'Active' order by [System.ChangedDate] desc"),
            (
                some("[System.State] = 'Active'"),
                some("[System.ChangedDate] desc")
            )
        );
        assert_eq!(split("  ORDER BY [System.Id]"), (None, some("[System.Id]")));
        assert_eq!(
            split("[System.Title] CONTAINS 'reorder by'"),
            (some("[System.Title] CONTAINS 'reorder by'"), None)
        );
        assert_eq!(split("   "), (None, None));
    }
}
