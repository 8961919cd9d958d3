//! Blueprint calls (`/v1/blueprints`), with the scorecards and pages built on blueprints.

use reqwest::Method;
use serde_json::Value;

use crate::{Client, Error};

/// Blueprint calls; get it from [`Client::blueprints`].
pub struct Blueprints<'a> {
    pub(crate) client: &'a Client,
}

impl Blueprints<'_> {
    /// Reads a blueprint; `None` when it does not exist.
    pub async fn get(&self, id: &str) -> Result<Option<Value>, Error> {
        self.client
            .envelope(
                Method::GET,
                &["blueprints", id],
                None,
                false,
                true,
                "blueprint",
            )
            .await
    }

    /// Creates a blueprint (not retried on 5xx: a retry could hit "already exists").
    pub async fn create(&self, blueprint: &Value) -> Result<Value, Error> {
        self.client
            .envelope(
                Method::POST,
                &["blueprints"],
                Some(blueprint),
                false,
                false,
                "blueprint",
            )
            .await
            .map(Option::unwrap_or_default)
    }

    /// Patches a blueprint.
    pub async fn patch(&self, id: &str, changes: &Value) -> Result<Value, Error> {
        self.client
            .envelope(
                Method::PATCH,
                &["blueprints", id],
                Some(changes),
                false,
                false,
                "blueprint",
            )
            .await
            .map(Option::unwrap_or_default)
    }

    /// Creates a scorecard on blueprint `id` (`POST /v1/blueprints/{id}/scorecards`).
    pub async fn create_scorecard(&self, id: &str, scorecard: &Value) -> Result<Value, Error> {
        self.client
            .envelope(
                Method::POST,
                &["blueprints", id, "scorecards"],
                Some(scorecard),
                false,
                false,
                "scorecard",
            )
            .await
            .map(Option::unwrap_or_default)
    }

    /// Creates a page (`POST /v1/pages`).
    pub async fn create_page(&self, page: &Value) -> Result<Value, Error> {
        self.client
            .envelope(Method::POST, &["pages"], Some(page), false, false, "page")
            .await
            .map(Option::unwrap_or_default)
    }

    /// Deletes a blueprint (it must have no entities).
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        self.client
            .envelope(
                Method::DELETE,
                &["blueprints", id],
                None,
                false,
                false,
                "ok",
            )
            .await
            .map(drop)
    }
}
