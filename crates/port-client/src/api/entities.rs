//! Entity calls: bulk upsert (20 entities / 1 MiB per request, 207 per-entity errors, 413
//! split), search, bulk delete and the datasource listing (ocean-framework.md §2.5).

use bytes::Bytes;
use futures::Stream;
use jiff::Timestamp;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json, value::RawValue};

use crate::{
    BulkUpsertReport, Client, EntityFailure, Error, UpsertOptions,
    models::BulkResponse,
    transport::{Call, decode},
};

/// Port's limit on entities per bulk upsert.
pub const MAX_BULK_ENTITIES: usize = 20;
/// Identifiers per bulk delete request (Ocean clamps its setting to 100).
pub const MAX_BULK_DELETE: usize = 100;
/// Page size of the datasource listing (Ocean's value).
const DATASOURCE_PAGE: u64 = 5000;
/// Port's largest page of a blueprint's entity search.
const MAX_SEARCH_PAGE: u64 = 1000;

/// Entity calls; get it from [`Client::entities`].
pub struct Entities<'a> {
    pub(crate) client: &'a Client,
}

impl Entities<'_> {
    /// Upserts already-serialized entities of one blueprint. Batches over 20 entities are sent
    /// in chunks; a batch Port refuses as too large (413) is split in halves down to single
    /// entities. Per-entity refusals (207) are in the report, indexed by position in `entities`.
    pub async fn bulk_upsert(
        &self,
        blueprint: &str,
        entities: &[Box<RawValue>],
        options: &UpsertOptions,
    ) -> Result<BulkUpsertReport, Error> {
        let mut report = BulkUpsertReport::default();
        let mut pending: Vec<(usize, &[Box<RawValue>])> = entities
            .chunks(MAX_BULK_ENTITIES)
            .enumerate()
            .map(|(i, chunk)| (i * MAX_BULK_ENTITIES, chunk))
            .collect();
        while let Some((offset, chunk)) = pending.pop() {
            match self.send_bulk(blueprint, chunk, options).await? {
                Some(response) => {
                    report
                        .upserted
                        .extend(response.entities.into_iter().map(|mut e| {
                            e.index += offset;
                            e
                        }));
                    report
                        .failed
                        .extend(response.errors.into_iter().map(|mut e| {
                            e.index += offset;
                            e
                        }));
                }
                None if chunk.len() > 1 => {
                    let (left, right) = chunk.split_at(chunk.len() / 2);
                    pending.push((offset + left.len(), right));
                    pending.push((offset, left));
                }
                None => report.failed.push(EntityFailure {
                    index: offset,
                    identifier: identifier_of(&chunk[0]),
                    status_code: 413,
                    error: "payload_too_large".into(),
                    message: "the entity alone exceeds Port's 1 MiB request limit".into(),
                }),
            }
        }
        report.upserted.sort_by_key(|e| e.index);
        report.failed.sort_by_key(|e| e.index);
        Ok(report)
    }

    /// One bulk request; `None` when Port answered 413.
    async fn send_bulk(
        &self,
        blueprint: &str,
        chunk: &[Box<RawValue>],
        options: &UpsertOptions,
    ) -> Result<Option<BulkResponse>, Error> {
        let mut body =
            Vec::with_capacity(chunk.iter().map(|e| e.get().len() + 1).sum::<usize>() + 16);
        body.extend_from_slice(b"{\"entities\":[");
        for (i, entity) in chunk.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(entity.get().as_bytes());
        }
        body.extend_from_slice(b"]}");
        let call = Call {
            method: Method::POST,
            segments: &["blueprints", blueprint, "entities", "bulk"],
            query: vec![
                ("upsert", "true".into()),
                ("merge", options.merge.to_string()),
                (
                    "create_missing_related_entities",
                    options.create_missing_related_entities.to_string(),
                ),
                ("validation_only", "false".into()),
            ],
            body: Some(Bytes::from(body)),
            idempotent: true,
            accept: &[413],
            target: None,
            headers: &[],
        };
        let (status, bytes) = self.client.inner.send(&call).await?;
        if status == 413 {
            return Ok(None);
        }
        decode("/v1/blueprints/{bp}/entities/bulk", &bytes).map(Some)
    }

    /// Searches entities with Port's query language; `include` limits the returned fields.
    pub async fn search(&self, query: &Value, include: &[&str]) -> Result<Vec<Value>, Error> {
        let mut params = vec![("exclude_calculated_properties", "true".to_owned())];
        params.extend(include.iter().map(|f| ("include", (*f).to_owned())));
        let call = Call {
            method: Method::POST,
            segments: &["entities", "search"],
            query: params,
            body: Some(Bytes::from(query.to_string())),
            idempotent: true,
            accept: &[],
            target: None,
            headers: &[],
        };
        let (_, bytes) = self.client.inner.send(&call).await?;
        let response: EntitiesPage = decode("/v1/entities/search", &bytes)?;
        Ok(response.entities)
    }

    /// Searches one blueprint's entities page by page (`POST /v1/blueprints/{id}/entities/search`,
    /// the paginated search Port documents): `query` as Port's search rules, only the `include`d
    /// fields, up to 1000 per page (Port's limit), following `next` cursors. One page is held at
    /// a time, as text ([`EntityText`]).
    pub fn search_blueprint<'a>(
        &'a self,
        blueprint: &'a str,
        query: &'a Value,
        include: &'a [&'a str],
    ) -> impl Stream<Item = Result<Vec<EntityText>, Error>> + Send + 'a {
        futures::stream::try_unfold(Some(None::<String>), move |cursor| async move {
            let Some(from) = cursor else {
                return Ok(None);
            };
            let mut body = json!({"query": query, "include": include, "limit": MAX_SEARCH_PAGE});
            if let Some(from) = &from {
                body["from"] = json!(from);
            }
            let call = Call {
                method: Method::POST,
                segments: &["blueprints", blueprint, "entities", "search"],
                query: Vec::new(),
                body: Some(Bytes::from(body.to_string())),
                idempotent: true,
                accept: &[],
                target: None,
                headers: &[],
            };
            let (_, bytes) = self.client.inner.send(&call).await?;
            let page: SearchPage = decode(SEARCH, &bytes)?;
            let next = match page.next {
                Some(next) if Some(&next) != from.as_ref() => Some(Some(next)),
                _ => None,
            };
            Ok(Some((
                page.entities.into_iter().map(EntityText).collect(),
                next,
            )))
        })
    }

    /// Deletes entities of one blueprint (in requests of 100); returns the deleted identifiers.
    pub async fn bulk_delete(
        &self,
        blueprint: &str,
        ids: &[String],
        delete_dependents: bool,
    ) -> Result<Vec<String>, Error> {
        let mut deleted = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_BULK_DELETE) {
            let call = Call {
                method: Method::POST,
                segments: &["blueprints", blueprint, "bulk", "entities", "delete"],
                query: vec![("delete_dependents", delete_dependents.to_string())],
                body: Some(Bytes::from(json!({ "entities": chunk }).to_string())),
                idempotent: true,
                accept: &[],
                target: None,
                headers: &[],
            };
            let (_, bytes) = self.client.inner.send(&call).await?;
            let response: DeleteResponse =
                decode("/v1/blueprints/{bp}/bulk/entities/delete", &bytes)?;
            deleted.extend(response.deleted_entities);
        }
        Ok(deleted)
    }

    /// Lists every entity whose datasource starts with `prefix` and ends with `suffix`
    /// (optionally only those last updated before `before`), following `next` cursors.
    pub async fn datasource_entities(
        &self,
        prefix: &str,
        suffix: &str,
        before: Option<Timestamp>,
    ) -> Result<Vec<Value>, Error> {
        let mut all = Vec::new();
        self.datasource_pages(prefix, suffix, before, |page| {
            all.extend(page);
            Ok(())
        })
        .await?;
        Ok(all)
    }

    /// [`Self::datasource_entities`] a page at a time: `page` gets each page as it arrives, so
    /// a caller that keeps less than the whole entity never holds the whole listing; an error
    /// it returns ends the listing.
    pub async fn datasource_pages(
        &self,
        prefix: &str,
        suffix: &str,
        before: Option<Timestamp>,
        mut page: impl FnMut(Vec<Value>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut from: Option<String> = None;
        loop {
            let mut body = json!({"datasource_prefix": prefix, "datasource_suffix": suffix, "limit": DATASOURCE_PAGE});
            if let Some(before) = before {
                body["before"] = json!(before.to_string());
            }
            if let Some(from) = &from {
                body["from"] = json!(from);
            }
            let call = Call {
                method: Method::POST,
                segments: &["blueprints", "entities", "datasource-entities"],
                query: Vec::new(),
                body: Some(Bytes::from(body.to_string())),
                idempotent: true,
                accept: &[],
                target: None,
                headers: &[],
            };
            let (_, bytes) = self.client.inner.send(&call).await?;
            let listed: EntitiesPage =
                decode("/v1/blueprints/entities/datasource-entities", &bytes)?;
            drop(bytes);
            page(listed.entities)?;
            match listed.next {
                Some(next) if Some(&next) != from.as_ref() => from = Some(next),
                _ => return Ok(()),
            }
        }
    }
}

fn identifier_of(entity: &RawValue) -> String {
    serde_json::from_str::<Value>(entity.get())
        .ok()
        .and_then(|v| {
            v.get("identifier")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

const SEARCH: &str = "/v1/blueprints/{bp}/entities/search";

/// One entity a search returned, as Port's JSON text (validated). A page of 1,000 entities
/// decoded as `Value` trees cost 2.5 MB against its 0.6 MB of text, and up to four pages are
/// read at once when a resync starts: readers decode one entity at a time
/// ([`EntityText::value`]).
#[derive(Debug)]
pub struct EntityText(Box<RawValue>);

impl EntityText {
    /// The entity as a JSON value.
    pub fn value(&self) -> Result<Value, Error> {
        decode(SEARCH, self.0.get().as_bytes())
    }
}

/// A page of a search, its entities kept as text.
#[derive(Deserialize)]
struct SearchPage {
    entities: Vec<Box<RawValue>>,
    #[serde(default)]
    next: Option<String>,
}

/// A page of entities: `entities` is required (an answer without it is malformed, never an
/// empty page).
#[derive(Deserialize)]
struct EntitiesPage {
    entities: Vec<Value>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteResponse {
    #[serde(default)]
    deleted_entities: Vec<String>,
}
