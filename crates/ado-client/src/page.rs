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
                let key = if paging == Paging::ContinuationBody {
                    "items"
                } else {
                    "value"
                };
                let items = take_key(&mut body, key, &refs)?;
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
                let items = take_list(&mut answer, &refs)?;
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
/// `null` in its place. Moved, not cloned: a page of 200 work items is about 1 MiB of parsed
/// JSON. A body without a `value` array is a [`Error::Decode`] naming the endpoint, never an
/// empty page: an empty page would make a whole kind look empty, and reconciliation would then
/// delete its entities (issue 12: one such answer of the repositories list deleted them all).
pub(crate) fn take_list(body: &mut Value, segments: &[&str]) -> Result<Vec<Value>, Error> {
    take_key(body, "value", segments)
}

/// Moves the array under `key` out of `body`; anything else is a decode error.
pub(crate) fn take_key(
    body: &mut Value,
    key: &str,
    segments: &[&str],
) -> Result<Vec<Value>, Error> {
    let found = match body.get_mut(key).map(Value::take) {
        Some(Value::Array(items)) => return Ok(items),
        Some(other) => kind_of(&other),
        None if body.is_object() => "no such key",
        None => kind_of(body),
    };
    Err(Error::Decode {
        route: segments.join("/"),
        path: key.to_owned(),
        message: format!("expected the list's array, found {found}"),
    })
}

/// A JSON value's type, for error messages (never its content, which may be large).
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::take_list;
    use crate::Error;

    #[test]
    fn the_list_is_moved_out_of_its_envelope() {
        let mut body = json!({"count": 2, "value": [{"id": 1}, null]});
        let items = take_list(&mut body, &["_apis", "projects"]).expect("a list");
        assert_eq!(items, [json!({"id": 1}), json!(null)]);
        assert_eq!(body, json!({"count": 2, "value": null}));
        let empty = take_list(&mut json!({"count": 0, "value": []}), &["x"]).expect("a list");
        assert!(empty.is_empty());
    }

    #[test]
    fn a_body_without_its_value_array_is_a_decode_error_naming_the_endpoint() {
        for body in [
            json!({"count": 3}),
            json!({"value": "x"}),
            json!({"value": null}),
            json!([1]),
        ] {
            let error = take_list(&mut body.clone(), &["p", "_apis", "git", "repositories"])
                .expect_err(&format!("{body} is not a list response"));
            let Error::Decode { route, path, .. } = &error else {
                panic!("a decode error, not {error:?}");
            };
            assert_eq!(
                (route.as_str(), path.as_str()),
                ("p/_apis/git/repositories", "value")
            );
            assert!(
                error.to_string().contains("p/_apis/git/repositories"),
                "{error}"
            );
        }
    }
}
