//! Calls to Port's ingest hosts, which the integration record names
//! (`metricAttributes.ingestUrl`, `logAttributes.ingestUrl`; ocean-framework.md §2.6): sync
//! metrics, the sync heartbeat and log batches. They carry the same token as every Port call.
//! As in Ocean, a POST there is not retried (a lost heartbeat or log batch is replaced by the
//! next one) and a PUT is.

use bytes::Bytes;
use reqwest::Method;
use serde_json::Value;
use url::Url;

use crate::{Client, Error, transport::Call};

impl Client {
    /// POSTs `body` to `url` on an ingest host (not retried); `label` names the call in the
    /// request metrics (`ingest/{label}`).
    pub async fn ingest_post(&self, url: &Url, label: &str, body: &Value) -> Result<(), Error> {
        self.ingest(Method::POST, url, label, body).await
    }

    /// PUTs `body` to `url` on an ingest host (retried as every PUT).
    pub async fn ingest_put(&self, url: &Url, label: &str, body: &Value) -> Result<(), Error> {
        self.ingest(Method::PUT, url, label, body).await
    }

    async fn ingest(
        &self,
        method: Method,
        url: &Url,
        label: &str,
        body: &Value,
    ) -> Result<(), Error> {
        let idempotent = method == Method::PUT;
        let call = Call {
            method,
            segments: &["ingest", label],
            query: Vec::new(),
            body: Some(Bytes::from(body.to_string())),
            idempotent,
            accept: &[],
            target: Some(url),
            headers: &[],
        };
        self.inner.send(&call).await.map(drop)
    }
}
