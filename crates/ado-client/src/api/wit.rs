//! Work item tracking: WIQL, work items and the area tree.

use bytes::Bytes;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{Client, Error, Host, ProjectId, body::without_bom};

/// A WIQL answer, decoded for its ids only: up to 20,000 references with a URL each, which
/// as a JSON tree cost ≈ 300 bytes an item (issue 18: ≈ 6 MiB for one large project's query).
#[derive(serde::Deserialize)]
struct WiqlResult {
    #[serde(rename = "workItems")]
    work_items: Vec<WorkItemRef>,
}

/// `{"id": …, "url": …}`: the id is kept.
#[derive(serde::Deserialize)]
struct WorkItemRef {
    id: u64,
}

impl Client {
    /// `POST {project}/_apis/wit/wiql?$top=` → work item ids (a read: retried like a GET).
    /// `time_precision` sets `timePrecision=true`: date literals may then carry a time of day
    /// (without it the service compares days and refuses such literals).
    pub async fn wiql(
        &self,
        project: &ProjectId,
        query: &str,
        top: usize,
        time_precision: bool,
    ) -> Result<Vec<u64>, Error> {
        let body = json!({ "query": query });
        let mut params = vec![("$top", top.to_string())];
        if time_precision {
            params.push(("timePrecision", "true".to_owned()));
        }
        let segments = [project.as_str(), "_apis", "wit", "wiql"];
        // Decoded straight into the ids (no JSON tree), retried like a GET.
        let (result, _): (WiqlResult, _) = self
            .post_with_headers(Host::Core, &segments, &params, &body, true)
            .await?;
        Ok(result.work_items.into_iter().map(|w| w.id).collect())
    }

    /// `GET {project}/_apis/wit/workitems?ids=` for at most 200 ids: the body as received
    /// (without a byte order mark). Its `value` list (deleted ids as `null`, `errorPolicy=omit`)
    /// is left for the caller to split: a page of work items then waits to be mapped as text
    /// instead of as a JSON tree three times its size (issue 18, `ocean::JsonItems`).
    pub async fn work_items_body(
        &self,
        project: &ProjectId,
        ids: &[u64],
        expand: &str,
    ) -> Result<Bytes, Error> {
        let ids = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
        let query = [
            ("ids", ids),
            ("$expand", expand.to_owned()),
            ("errorPolicy", "omit".to_owned()),
        ];
        let segments = [project.as_str(), "_apis", "wit", "workitems"];
        let url = self.url(Host::Core, &segments, &query);
        let body = self.send(Method::GET, url, None, true).await?.body;
        let start = body.len() - without_bom(&body).len();
        Ok(body.slice(start..))
    }

    /// `GET {project}/_apis/wit/workitems/{id}?$expand=` (one work item).
    pub async fn work_item(
        &self,
        project: &ProjectId,
        id: u64,
        expand: &str,
    ) -> Result<Value, Error> {
        let id = id.to_string();
        Ok(self
            .get(
                Host::Core,
                &[project.as_str(), "_apis", "wit", "workitems", &id],
                &[("$expand", expand.to_owned())],
            )
            .await?
            .0)
    }

    /// `GET {project}/_apis/wit/classificationnodes/Areas`: the root area, with `depth`
    /// levels of `children` when given (the service sends none without `$depth`).
    pub async fn area_tree(&self, project: &ProjectId, depth: Option<u64>) -> Result<Value, Error> {
        let query: Vec<(&str, String)> = depth
            .map(|d| ("$depth", d.to_string()))
            .into_iter()
            .collect();
        let segments = [
            project.as_str(),
            "_apis",
            "wit",
            "classificationnodes",
            "Areas",
        ];
        Ok(self.get(Host::Core, &segments, &query).await?.0)
    }
}
