//! Member entitlement management (spec `memberEntitlementManagement`, the `vsaex` host): user
//! entitlements.

use futures::Stream;
use serde_json::Value;

use crate::{Client, Error, Host, Paging};

impl Client {
    /// `GET _apis/userentitlements` with `query` (`select`; an `api-version` overrides the
    /// default). From 7.0 on the page is `items` with a body `continuationToken`; before, it
    /// is `value` paged by `top`/`skip` (ocean-azure-devops.md §9, 0.9.0).
    pub fn user_entitlements(
        &self,
        query: Vec<(&'static str, String)>,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let legacy = query
            .iter()
            .find(|(k, _)| *k == "api-version")
            .and_then(|(_, v)| v.split('.').next()?.parse::<u32>().ok())
            .is_some_and(|major| major < 7);
        let paging = if legacy {
            Paging::TopSkipPlain { top: 100 }
        } else {
            Paging::ContinuationBody
        };
        self.pages(
            Host::Entitlements,
            vec!["_apis".into(), "userentitlements".into()],
            query,
            paging,
        )
    }
}
