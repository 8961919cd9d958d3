//! One handler per Port API area (octocrab's handler pattern), and the [`Client`] methods that
//! hand them out.
//!
//! Handlers sit above `client.rs`: they borrow a [`Client`] and send through its request loop,
//! while `client.rs` knows nothing of them.

pub mod actions;
pub mod blueprints;
pub mod entities;
mod ingest;
pub mod integration;
pub mod organization;

use bytes::Bytes;
use reqwest::Method;
use serde_json::Value;

use crate::{
    Client, Error,
    transport::{Call, decode},
};
use actions::Actions;
use blueprints::Blueprints;
use entities::Entities;
use integration::Integration;

impl Client {
    /// Action-run calls (runs this integration executes).
    #[must_use]
    pub fn actions(&self) -> Actions<'_> {
        Actions { client: self }
    }

    /// Entity calls.
    #[must_use]
    pub fn entities(&self) -> Entities<'_> {
        Entities { client: self }
    }

    /// Blueprint calls.
    #[must_use]
    pub fn blueprints(&self) -> Blueprints<'_> {
        Blueprints { client: self }
    }

    /// Integration-record calls.
    #[must_use]
    pub fn integration(&self) -> Integration<'_> {
        Integration { client: self }
    }

    /// Sends a JSON call and returns the value under `key` of Port's envelope (`None` on 404 when
    /// `missing_ok`).
    pub(crate) async fn envelope(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
        retry_post: bool,
        missing_ok: bool,
        key: &str,
    ) -> Result<Option<Value>, Error> {
        self.envelope_with_query(
            method,
            segments,
            Vec::new(),
            body,
            retry_post,
            missing_ok,
            key,
        )
        .await
    }

    /// [`Client::envelope`] with query parameters.
    #[expect(
        clippy::too_many_arguments,
        reason = "private plumbing of one call's parts"
    )]
    pub(crate) async fn envelope_with_query(
        &self,
        method: Method,
        segments: &[&str],
        query: Vec<(&'static str, String)>,
        body: Option<&Value>,
        retry_post: bool,
        missing_ok: bool,
        key: &str,
    ) -> Result<Option<Value>, Error> {
        let idempotent = retry_post || !matches!(method, Method::POST | Method::PATCH);
        let accept: &[u16] = if missing_ok { &[404] } else { &[] };
        let call = Call {
            method,
            segments,
            query,
            body: body.map(|b| Bytes::from(b.to_string())),
            idempotent,
            accept,
            target: None,
            headers: &[],
        };
        let (status, bytes) = self.inner.send(&call).await?;
        if status == 404 {
            return Ok(None);
        }
        let route = format!("/v1/{}", segments.join("/"));
        let value: Value = decode(&route, &bytes)?;
        Ok(Some(value.get(key).cloned().unwrap_or(Value::Null)))
    }
}
