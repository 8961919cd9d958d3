//! How requests authenticate (ocean-azure-devops.md §6.1): a personal access token as HTTP Basic
//! with an empty user, or an Entra ID service principal's bearer token (client credentials for
//! the Azure DevOps resource), cached until shortly before it expires and shared by every
//! organization's client, as the Python integration shares its `DefaultAzureCredential`.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tracing::{debug, warn};
use url::Url;

use crate::Error;

/// The scope of Azure DevOps tokens: its resource id (ocean-azure-devops.md §2.2).
pub const AZURE_DEVOPS_SCOPE: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default";
/// Entra ID's public-cloud authority (azure-identity's default `AZURE_AUTHORITY_HOST`).
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// A token is renewed this long before it expires (azure-identity refreshes 5 minutes early),
/// or at half its lifetime when that is shorter.
const REFRESH_MARGIN: Duration = Duration::from_mins(5);

/// What a client authenticates with.
#[derive(Clone)]
pub enum Credentials {
    /// A personal access token (`Single Account`).
    Pat(SecretString),
    /// An Entra ID service principal (`Multiple Accounts`), shared by all organizations.
    ServicePrincipal(Arc<ServicePrincipal>),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pat(_) => f.write_str("Credentials::Pat([redacted])"),
            Self::ServicePrincipal(sp) => f
                .debug_tuple("Credentials::ServicePrincipal")
                .field(sp)
                .finish(),
        }
    }
}

impl Credentials {
    /// The `Authorization` header value for the next request.
    pub(crate) async fn header(&self) -> Result<SecretString, Error> {
        match self {
            Self::Pat(pat) => {
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!(":{}", pat.expose_secret()));
                Ok(SecretString::from(format!("Basic {token}")))
            }
            Self::ServicePrincipal(sp) => {
                let token = sp.token().await?;
                Ok(SecretString::from(format!(
                    "Bearer {}",
                    token.expose_secret()
                )))
            }
        }
    }

    /// After a 401: forget a cached bearer token so that the retry asks for a new one.
    /// Returns whether that can help (a PAT cannot renew itself).
    pub(crate) async fn renew_after_unauthorized(&self) -> bool {
        match self {
            Self::Pat(_) => false,
            Self::ServicePrincipal(sp) => {
                *sp.cached.lock().await = None;
                true
            }
        }
    }
}

/// An Entra ID application that reads Azure DevOps with the client-credentials grant.
pub struct ServicePrincipal {
    http: reqwest::Client,
    /// For describing transport failures.
    tls: http_setup::Tls,
    token_url: Url,
    tenant_id: String,
    client_id: String,
    client_secret: SecretString,
    /// The current token and when to renew it; the async lock makes concurrent requests wait
    /// for one token request instead of sending one each.
    cached: tokio::sync::Mutex<Option<(SecretString, Instant)>>,
}

impl std::fmt::Debug for ServicePrincipal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServicePrincipal")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl ServicePrincipal {
    /// A service principal of `tenant_id` that signs in at `authority`
    /// (`https://login.microsoftonline.com`, or a sovereign cloud's).
    pub fn new(
        authority: &Url,
        tenant_id: &str,
        client_id: &str,
        client_secret: SecretString,
        timeout: Duration,
        tls: &http_setup::Tls,
    ) -> Result<Self, Error> {
        let http = tls
            .builder()
            .timeout(timeout)
            .build()
            .map_err(|e| Error::Build(e.to_string()))?;
        let mut token_url = authority.clone();
        token_url
            .path_segments_mut()
            .map_err(|()| Error::Build(format!("{authority} cannot be an authority URL")))?
            .pop_if_empty()
            .extend([tenant_id, "oauth2", "v2.0", "token"]);
        Ok(Self {
            http,
            tls: tls.clone(),
            token_url,
            tenant_id: tenant_id.to_owned(),
            client_id: client_id.to_owned(),
            client_secret,
            cached: tokio::sync::Mutex::new(None),
        })
    }

    /// A bearer token for Azure DevOps: the cached one while it is fresh, else a new one.
    pub async fn token(&self) -> Result<SecretString, Error> {
        let mut cached = self.cached.lock().await;
        if let Some((token, renew_at)) = cached.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.request().await?;
        debug!(
            tenant = %self.tenant_id,
            lifetime_s = lifetime.as_secs(),
            "Obtained an Entra ID token for Azure DevOps."
        );
        *cached = Some((token.clone(), Instant::now() + renew_after(lifetime)));
        Ok(token)
    }

    async fn request(&self) -> Result<(SecretString, Duration), Error> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", self.client_secret.expose_secret())
            .append_pair("scope", AZURE_DEVOPS_SCOPE)
            .finish();
        let failed = |message: String| Error::TokenFailed {
            tenant: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            message,
        };
        let response = self
            .http
            .post(self.token_url.clone())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| failed(self.tls.failure(&e).message().to_owned()))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            // Entra ID's `error_description` names the cause (AADSTS7000215: invalid client
            // secret, AADSTS700016: unknown application, ...) and never echoes the secret.
            let reason = json["error_description"]
                .as_str()
                .or_else(|| json["error"].as_str())
                .unwrap_or("no error description")
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            warn!(tenant = %self.tenant_id, status = status.as_u16(), "Entra ID refused the service principal.");
            return Err(failed(format!("HTTP {}: {reason}", status.as_u16())));
        }
        let Some(token) = json["access_token"].as_str() else {
            return Err(failed("the answer has no access_token".to_owned()));
        };
        let lifetime = json["expires_in"]
            .as_u64()
            .or_else(|| json["expires_in"].as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(3_600);
        Ok((
            SecretString::from(token.to_owned()),
            Duration::from_secs(lifetime),
        ))
    }
}

/// When to renew a token that lives `lifetime`: [`REFRESH_MARGIN`] before it expires, or at
/// half its life when it is short.
fn renew_after(lifetime: Duration) -> Duration {
    lifetime.saturating_sub(REFRESH_MARGIN.min(lifetime / 2))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::renew_after;

    #[test]
    fn tokens_are_renewed_five_minutes_early_or_at_half_life() {
        assert_eq!(
            renew_after(Duration::from_secs(3_599)),
            Duration::from_secs(3_299)
        );
        assert_eq!(renew_after(Duration::from_mins(1)), Duration::from_secs(30));
        assert_eq!(renew_after(Duration::ZERO), Duration::ZERO);
    }
}
