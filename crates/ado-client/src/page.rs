//! Paging, in one place (STYLE.md rule 7): continuation tokens in the `x-ms-continuationtoken`
//! header or in the body (for GETs and the POSTs that page), `$top`/`$skip` offsets, and
//! unpaginated lists. Each returns a stream of pages.

use futures::{Stream, stream};
use serde_json::Value;

use crate::{Client, Error, client::Host};

/// How an endpoint pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `$top` + `continuationToken`; the next token is the response header
    /// `x-ms-continuationtoken` (absent or empty at the end).
    ContinuationHeader {
        /// Page size.
        top: usize,
    },
    /// The same with the page size in `top` (no `$`), as Advanced Security names it.
    ContinuationHeaderTop {
        /// Page size.
        top: usize,
    },
    /// `continuationToken` only, the next one in the header; the service picks the page size
    /// (the Graph's lists).
    Continuation,
    /// `continuationToken` from the body's `continuationToken`, items under `items` (user
    /// entitlements, 7.x).
    ContinuationBody,
    /// `$top` + `$skip`; the last page is shorter than `$top`.
    TopSkip {
        /// Page size.
        top: usize,
    },
    /// The same with `top` and `skip` (no `$`), as user entitlements before 7.0 name them.
    TopSkipPlain {
        /// Page size.
        top: usize,
    },
    /// One response holds everything.
    None,
}

/// Where a walk through a list is: the next token or offset, and whether it ended.
#[derive(Default)]
struct Cursor {
    token: Option<String>,
    skip: usize,
    done: bool,
}

impl Client {
    /// Streams the pages (`value` arrays) of a GET list endpoint.
    pub fn pages(
        &self,
        host: Host,
        segments: Vec<String>,
        query: Vec<(&'static str, String)>,
        paging: Paging,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let client = self.clone();
        let cursor = Cursor::default();
        stream::try_unfold(cursor, move |mut cursor| {
            let (client, segments, mut query) = (client.clone(), segments.clone(), query.clone());
            async move {
                if cursor.done {
                    return Ok(None);
                }
                match paging {
                    Paging::ContinuationHeader { top } | Paging::ContinuationHeaderTop { top } => {
                        let name = if matches!(paging, Paging::ContinuationHeaderTop { .. }) {
                            "top"
                        } else {
                            "$top"
                        };
                        query.push((name, top.to_string()));
                        if let Some(token) = &cursor.token {
                            query.push(("continuationToken", token.clone()));
                        }
                    }
                    Paging::Continuation | Paging::ContinuationBody => {
                        if let Some(token) = &cursor.token {
                            query.push(("continuationToken", token.clone()));
                        }
                    }
                    Paging::TopSkip { top } => {
                        query.push(("$top", top.to_string()));
                        query.push(("$skip", cursor.skip.to_string()));
                    }
                    Paging::TopSkipPlain { top } => {
                        query.push(("top", top.to_string()));
                        query.push(("skip", cursor.skip.to_string()));
                    }
                    Paging::None => {}
                }
                let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
                let (mut body, headers) = client.get(host, &refs, &query).await?;
                let items = if paging == Paging::ContinuationBody {
                    take_key(&mut body, "items")
                } else {
                    take_list(&mut body)
                };
                match paging {
                    Paging::ContinuationHeader { .. }
                    | Paging::ContinuationHeaderTop { .. }
                    | Paging::Continuation => {
                        cursor.token = header_token(&headers);
                        cursor.done = cursor.token.is_none();
                    }
                    Paging::ContinuationBody => {
                        cursor.token = body["continuationToken"]
                            .as_str()
                            .filter(|t| !t.is_empty())
                            .map(str::to_owned);
                        // A token with an empty page would loop forever on a broken answer.
                        cursor.done = cursor.token.is_none() || items.is_empty();
                    }
                    Paging::TopSkip { top } | Paging::TopSkipPlain { top } => {
                        cursor.skip += items.len();
                        cursor.done = items.len() < top;
                    }
                    Paging::None => cursor.done = true,
                }
                Ok(Some((items, cursor)))
            }
        })
    }
}

impl Client {
    /// Streams the pages of a POST list endpoint that takes `{"top", "continuationToken"}` in
    /// its body and answers the next token in the `x-ms-continuationtoken` header (wiki
    /// `pagesbatch`); it ends without a token or on an empty page. A read: retried like a GET.
    pub fn post_pages(
        &self,
        host: Host,
        segments: Vec<String>,
        query: Vec<(&'static str, String)>,
        top: usize,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let client = self.clone();
        let cursor = Cursor::default();
        stream::try_unfold(cursor, move |mut cursor| {
            let (client, segments, query) = (client.clone(), segments.clone(), query.clone());
            async move {
                if cursor.done {
                    return Ok(None);
                }
                let body = serde_json::json!({"top": top, "continuationToken": cursor.token});
                let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
                let (mut answer, headers) = client
                    .post_with_headers(host, &refs, &query, &body, true)
                    .await?;
                let items = take_list(&mut answer);
                cursor.token = header_token(&headers);
                cursor.done = cursor.token.is_none() || items.is_empty();
                Ok(Some((items, cursor)))
            }
        })
    }
}

/// A non-empty `x-ms-continuationtoken` header (any case).
fn header_token(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .iter()
        .find(|(name, _)| name.as_str().eq_ignore_ascii_case("x-ms-continuationtoken"))
        .and_then(|(_, v)| v.to_str().ok())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// Moves the `value` list out of a list response (`{"count": n, "value": [...]}`), leaving
/// `null` in its place; no list gives an empty one. Moved, not cloned: a page of 200 work items
/// is about 1 MiB of parsed JSON.
pub(crate) fn take_list(body: &mut Value) -> Vec<Value> {
    take_key(body, "value")
}

/// Moves the array under `key` out of `body` (an empty list when there is none).
fn take_key(body: &mut Value, key: &str) -> Vec<Value> {
    match body.get_mut(key).map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::take_list;

    #[test]
    fn the_list_is_moved_out_and_anything_else_is_empty() {
        let mut body = json!({"count": 2, "value": [{"id": 1}, null]});
        assert_eq!(take_list(&mut body), [json!({"id": 1}), json!(null)]);
        assert_eq!(body, json!({"count": 2, "value": null}));
        assert!(take_list(&mut json!({"value": "x"})).is_empty());
        assert!(take_list(&mut json!([1])).is_empty());
    }
}
