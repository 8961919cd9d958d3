//! Client-credentials token exchange (`POST /v1/auth/access_token`) and the token cache.
//! Tokens are refreshed before they expire (at 80% of `expiresIn`; Ocean refreshes only after
//! expiry and relies on the 401 retry) and whenever Port answers 401.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokio::time::Instant;
use url::Url;

use crate::{
    Error,
    models::TokenResponse,
    retry::{Outcome, RetryAction, classify},
    transport::{decode, pause},
};

/// The client credentials and the token they last bought; one per [`crate::Client`].
pub(crate) struct TokenCache {
    /// Port's `/v1/auth/access_token`.
    url: Url,
    client_id: SecretString,
    client_secret: SecretString,
    token: tokio::sync::Mutex<Option<Token>>,
    /// For describing transport failures.
    tls: http_setup::Tls,
}

/// A cached access token.
struct Token {
    /// `"{tokenType} {accessToken}"`, ready for the Authorization header.
    header: SecretString,
    refresh_at: Instant,
}

impl Token {
    fn fresh(&self) -> bool {
        Instant::now() < self.refresh_at
    }
}

impl TokenCache {
    /// A cache holding no token yet; tokens are bought at `url` (Port's `/v1/auth/access_token`).
    pub(crate) fn new(
        url: Url,
        client_id: SecretString,
        client_secret: SecretString,
        tls: http_setup::Tls,
    ) -> Self {
        Self {
            url,
            client_id,
            client_secret,
            token: tokio::sync::Mutex::new(None),
            tls,
        }
    }

    /// The same credentials with an empty cache (for a client that must fetch its own token).
    pub(crate) fn same_credentials(&self) -> Self {
        Self::new(
            self.url.clone(),
            self.client_id.clone(),
            self.client_secret.clone(),
            self.tls.clone(),
        )
    }

    /// A valid Authorization header value, fetching a new token through `http` when needed.
    pub(crate) async fn authorization(
        &self,
        http: &reqwest::Client,
    ) -> Result<SecretString, Error> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| t.fresh()) {
            return Ok(token.header.clone());
        }
        let token = self.fetch_token(http).await?;
        let header = token.header.clone();
        *cached = Some(token);
        Ok(header)
    }

    /// Forgets the cached token (after a 401), unless it was already replaced.
    pub(crate) async fn invalidate(&self, used: &SecretString) {
        let mut cached = self.token.lock().await;
        if cached
            .as_ref()
            .is_some_and(|t| t.header.expose_secret() == used.expose_secret())
        {
            *cached = None;
        }
    }

    async fn fetch_token(&self, http: &reqwest::Client) -> Result<Token, Error> {
        let url = &self.url;
        let body = json!({
            "clientId": self.client_id.expose_secret(),
            "clientSecret": self.client_secret.expose_secret(),
        });
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = http.post(url.clone()).json(&body).send().await;
            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    let failed = crate::transport::transport_error(
                        &self.tls,
                        &reqwest::Method::POST,
                        "/v1/auth/access_token",
                        &error,
                    );
                    if matches!(failed, Error::Certificate { .. }) {
                        return Err(failed);
                    }
                    match classify(Outcome::Transport, attempt, true, &[]) {
                        RetryAction::Retry { after, reason } => {
                            pause("POST /v1/auth/access_token", &reason, after).await;
                            continue;
                        }
                        _ => return Err(failed),
                    }
                }
            };
            let status = response.status().as_u16();
            if matches!(status, 401 | 403 | 422 | 400) {
                return Err(Error::Auth {
                    status,
                    url: url.to_string(),
                });
            }
            match classify(
                Outcome::Status(status, response.headers()),
                attempt,
                true,
                &[],
            ) {
                RetryAction::Done => return read_token(&self.tls, response).await,
                RetryAction::Retry { after, reason } => {
                    pause("POST /v1/auth/access_token", &reason, after).await;
                }
                RetryAction::DontRetry { .. } => {
                    return Err(Error::Auth {
                        status,
                        url: url.to_string(),
                    });
                }
            }
        }
    }
}

/// Reads a token from Port's answer; it is refreshed at 80% of its lifetime.
async fn read_token(tls: &http_setup::Tls, response: reqwest::Response) -> Result<Token, Error> {
    let route = "/v1/auth/access_token";
    let bytes = response
        .bytes()
        .await
        .map_err(|e| crate::transport::transport_error(tls, &reqwest::Method::POST, route, &e))?;
    let parsed: TokenResponse = decode(route, &bytes)?;
    let lifetime = Duration::from_secs(parsed.expires_in);
    Ok(Token {
        header: SecretString::from(format!("{} {}", parsed.token_type, parsed.access_token)),
        refresh_at: Instant::now() + lifetime.mul_f64(0.8),
    })
}
