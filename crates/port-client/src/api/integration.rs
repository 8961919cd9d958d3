//! Integration-record calls (`/v1/integration`): the record, its port-app-config, resync state,
//! resync requests and kind examples (ocean-framework.md §2.3).

use jiff::Timestamp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{Client, Error, IntegrationRecord, transport};

/// Integration-record calls; get it from [`Client::integration`].
pub struct Integration<'a> {
    pub(crate) client: &'a Client,
}

impl Integration<'_> {
    /// Reads the integration record; `None` when it is not installed yet.
    pub async fn get(&self, id: &str) -> Result<Option<IntegrationRecord>, Error> {
        let record = self
            .client
            .envelope(
                Method::GET,
                &["integration", id],
                None,
                false,
                true,
                "integration",
            )
            .await?;
        record.map(|r| typed(r, "/v1/integration/{id}")).transpose()
    }

    /// Creates the integration record.
    pub async fn create(&self, body: &Value) -> Result<IntegrationRecord, Error> {
        self.client
            .envelope(
                Method::POST,
                &["integration"],
                Some(body),
                false,
                false,
                "integration",
            )
            .await
            .and_then(|r| typed(r.unwrap_or_default(), "/v1/integration"))
    }

    /// Creates the integration record and asks Port to provision its default resources
    /// (`integration_modes=create_resources`, the `Port` origin of `createPortResourcesOrigin`).
    pub async fn create_provisioned(&self, body: &Value) -> Result<IntegrationRecord, Error> {
        self.client
            .envelope_with_query(
                Method::POST,
                &["integration"],
                vec![("integration_modes", "create_resources".to_owned())],
                Some(body),
                false,
                false,
                "integration",
            )
            .await
            .and_then(|r| typed(r.unwrap_or_default(), "/v1/integration"))
    }

    /// Patches fields of the integration record.
    pub async fn patch(&self, id: &str, changes: &Value) -> Result<IntegrationRecord, Error> {
        self.client
            .envelope(
                Method::PATCH,
                &["integration", id],
                Some(changes),
                false,
                false,
                "integration",
            )
            .await
            .and_then(|r| typed(r.unwrap_or_default(), "/v1/integration/{id}"))
    }

    /// Replaces the port-app-config of the integration.
    pub async fn patch_config(&self, id: &str, config: &Value) -> Result<IntegrationRecord, Error> {
        let body = json!({ "config": config });
        self.client
            .envelope(
                Method::PATCH,
                &["integration", id, "config"],
                Some(&body),
                false,
                false,
                "integration",
            )
            .await
            .and_then(|r| typed(r.unwrap_or_default(), "/v1/integration/{id}"))
    }

    /// Reports the resync state (`{status, lastResyncStart, lastResyncEnd, nextResync,
    /// intervalInMinuets}`, Port's spelling).
    pub async fn patch_resync_state(&self, id: &str, state: &Value) -> Result<Value, Error> {
        self.client
            .envelope(
                Method::PATCH,
                &["integration", id, "resync-state"],
                Some(state),
                false,
                false,
                "integration",
            )
            .await
            .map(Option::unwrap_or_default)
    }

    /// The latest resync request made in Port's UI (`request.updatedAt`), if any.
    pub async fn resync_request(&self, id: &str) -> Result<Option<Value>, Error> {
        let request = self
            .client
            .envelope(
                Method::GET,
                &["integration", id, "resync-request"],
                None,
                false,
                true,
                "request",
            )
            .await?;
        Ok(request.filter(|r| !r.is_null()))
    }

    /// Sends up to five raw examples of a kind (shown by Port's mapping editor).
    pub async fn post_kind_examples(
        &self,
        id: &str,
        kind: &str,
        examples: &[Value],
    ) -> Result<(), Error> {
        let body = json!({ "examples": examples.iter().take(5).collect::<Vec<_>>() });
        self.client
            .envelope(
                Method::POST,
                &["integration", id, "kinds", kind, "examples"],
                Some(&body),
                true,
                false,
                "ok",
            )
            .await
            .map(drop)
    }
    /// The incremental-sync cursor of resource `index` of `kind` (`cursor.primary`, an ISO
    /// time); `None` when Port holds none yet. A `primary` that is not a time is a decode error.
    pub async fn cursor(
        &self,
        id: &str,
        kind: &str,
        index: usize,
    ) -> Result<Option<Timestamp>, Error> {
        let cursor = self
            .client
            .envelope_with_query(
                Method::GET,
                &["integration", id, "cursor"],
                vec![("kind", kind.to_owned()), ("index", index.to_string())],
                None,
                false,
                true,
                "cursor",
            )
            .await?;
        let primary = cursor.as_ref().and_then(|c| c.get("primary"));
        match primary {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_str()
                .and_then(|text| text.parse::<Timestamp>().ok())
                .map(Some)
                .ok_or_else(|| Error::Decode {
                    route: "/v1/integration/{id}/cursor".to_owned(),
                    path: "cursor.primary".to_owned(),
                    message: format!("must be an ISO time, got {value}"),
                }),
        }
    }

    /// Stores the cursor of resource `index` of `kind`: PUT, then POST when Port holds none yet
    /// (as Ocean).
    pub async fn set_cursor(
        &self,
        id: &str,
        kind: &str,
        index: usize,
        primary: Timestamp,
    ) -> Result<(), Error> {
        let body = json!({ "primary": primary.to_string() });
        let query = || vec![("kind", kind.to_owned()), ("index", index.to_string())];
        let put = self
            .client
            .envelope_with_query(
                Method::PUT,
                &["integration", id, "cursor"],
                query(),
                Some(&body),
                false,
                true,
                "cursor",
            )
            .await?;
        if put.is_none() {
            self.client
                .envelope_with_query(
                    Method::POST,
                    &["integration", id, "cursor"],
                    query(),
                    Some(&body),
                    false,
                    false,
                    "cursor",
                )
                .await?;
        }
        Ok(())
    }
}

/// The record in `answer` (`null` when Port answered without one: nothing known yet).
fn typed(answer: Value, route: &str) -> Result<IntegrationRecord, Error> {
    if answer.is_null() {
        return Ok(IntegrationRecord::default());
    }
    transport::decode_value(route, answer)
}
