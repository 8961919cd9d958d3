//! Service hooks: subscriptions.

use serde_json::Value;

use crate::{Client, Error, Host, page::take_list};

impl Client {
    /// `GET _apis/hooks/subscriptions?publisherId=&eventType=` (service-hook subscriptions).
    pub async fn subscriptions(
        &self,
        publisher: &str,
        event_type: &str,
    ) -> Result<Vec<Value>, Error> {
        let query = [
            ("publisherId", publisher.to_owned()),
            ("eventType", event_type.to_owned()),
        ];
        let segments = ["_apis", "hooks", "subscriptions"];
        let (mut body, _) = self.get(Host::Core, &segments, &query).await?;
        take_list(&mut body, &segments)
    }

    /// `POST _apis/hooks/subscriptions` on `host` (not retried: a retry could duplicate it).
    pub async fn create_subscription(&self, host: Host, body: &Value) -> Result<Value, Error> {
        self.post(host, &["_apis", "hooks", "subscriptions"], &[], body, false)
            .await
    }

    /// `PUT _apis/hooks/subscriptions/{id}` (replaces inputs, e.g. new credentials).
    pub async fn replace_subscription(
        &self,
        host: Host,
        id: &str,
        body: &Value,
    ) -> Result<Value, Error> {
        self.call(
            reqwest::Method::PUT,
            host,
            &["_apis", "hooks", "subscriptions", id],
            Some(body),
        )
        .await
    }

    /// `DELETE _apis/hooks/subscriptions/{id}`.
    pub async fn delete_subscription(&self, host: Host, id: &str) -> Result<(), Error> {
        self.call(
            reqwest::Method::DELETE,
            host,
            &["_apis", "hooks", "subscriptions", id],
            None,
        )
        .await
        .map(|_| ())
    }
}
