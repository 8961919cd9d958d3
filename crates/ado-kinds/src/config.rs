//! The Azure DevOps integration's settings (ocean-azure-devops.md §2.1, `spec.yaml`), with the
//! same names, defaults and rules as the Python integration.

use ocean::config::{IntegrationConfig, Problems, Section};
use secrecy::SecretString;
use url::Url;

/// How the integration authenticates.
#[derive(Debug)]
pub enum AccountMode {
    /// `Single Account`: one organization with a personal access token.
    Single {
        /// `organizationUrl`.
        organization_url: Url,
        /// `personalAccessToken`.
        personal_access_token: SecretString,
    },
    /// `Multiple Accounts`: several organizations with an Entra ID service principal.
    Multiple {
        /// `organizationUrls`.
        organization_urls: Vec<Url>,
        /// `clientId`.
        client_id: String,
        /// `clientSecret`.
        client_secret: SecretString,
        /// `tenantId`.
        tenant_id: String,
        /// Where the service principal signs in: azure-identity's `AZURE_AUTHORITY_HOST`
        /// (a sovereign cloud's login host), by default `https://login.microsoftonline.com`.
        authority: Url,
    },
}

/// `OCEAN__INTEGRATION__CONFIG__*` of the Azure DevOps integration.
#[derive(Debug)]
pub struct AdoConfig {
    /// Authentication and organizations.
    pub account: AccountMode,
    /// `isProjectsLimited` (default true): project-scoped service-hook subscriptions.
    pub is_projects_limited: bool,
    /// `webhookSecret`: Basic-auth password on subscriptions and incoming events.
    pub webhook_secret: Option<SecretString>,
    /// `webhookAuthUsername` (default `port`).
    pub webhook_auth_username: String,
    /// `excludedTags`: projects carrying any of these tags are skipped.
    pub excluded_tags: Vec<String>,
}

impl IntegrationConfig for AdoConfig {
    const TYPE: &'static str = "azure-devops";

    fn resolve(s: &Section<'_>, p: &mut Problems) -> Option<Self> {
        let mode = s
            .string("account_mode", p)
            .unwrap_or_else(|| "Single Account".to_owned());
        let account = match mode.as_str() {
            "Single Account" => single(s, p),
            "Multiple Accounts" => multiple(s, p),
            other => {
                p.push(
                    s.key_name("account_mode"),
                    format!("unknown account mode \"{other}\""),
                    "use \"Single Account\" (PAT) or \"Multiple Accounts\" (service principal)",
                );
                None
            }
        };
        let config = Self {
            is_projects_limited: s.bool("is_projects_limited", true, p),
            webhook_secret: s.secret("webhook_secret", p),
            webhook_auth_username: s
                .string("webhook_auth_username", p)
                .unwrap_or_else(|| "port".to_owned()),
            excluded_tags: s.list("excluded_tags", p).unwrap_or_default(),
            account: account?,
        };
        Some(config)
    }
}

fn single(s: &Section<'_>, p: &mut Problems) -> Option<AccountMode> {
    let url = if s.raw("organization_url").is_some() {
        s.url("organization_url", p)
    } else {
        p.push(
            s.key_name("organization_url"),
            "is required in Single Account mode",
            format!(
                "set {} to https://dev.azure.com/<organization>",
                s.env_name("organization_url")
            ),
        );
        None
    };
    let pat = s.secret("personal_access_token", p);
    if pat.is_none() && s.raw("personal_access_token").is_none() {
        p.push(
            s.key_name("personal_access_token"),
            "is required in Single Account mode",
            format!(
                "set {} to a personal access token",
                s.env_name("personal_access_token")
            ),
        );
    }
    Some(AccountMode::Single {
        organization_url: url?,
        personal_access_token: pat?,
    })
}

fn multiple(s: &Section<'_>, p: &mut Problems) -> Option<AccountMode> {
    let urls = s.list("organization_urls", p).unwrap_or_default();
    let mut parsed = Vec::new();
    for raw in &urls {
        let text = raw.trim().trim_end_matches('/');
        match Url::parse(text) {
            Ok(url) if text.starts_with("http") => parsed.push(url),
            _ => p.push(
                s.key_name("organization_urls"),
                format!("\"{raw}\" is not an http(s) URL"),
                "list organization URLs such as https://dev.azure.com/acme",
            ),
        }
    }
    if urls.is_empty() {
        p.push(
            s.key_name("organization_urls"),
            "needs at least one organization URL in Multiple Accounts mode",
            format!("set {}", s.env_name("organization_urls")),
        );
    }
    let client_id = s.required("client_id", "Entra ID application id", p);
    let client_secret = s.secret("client_secret", p);
    if client_secret.is_none() {
        p.push(
            s.key_name("client_secret"),
            "is required in Multiple Accounts mode",
            format!("set {}", s.env_name("client_secret")),
        );
    }
    let tenant_id = s.required("tenant_id", "Entra ID tenant", p);
    let authority_text = s
        .env_var("AZURE_AUTHORITY_HOST")
        .unwrap_or(ado_client::auth::DEFAULT_AUTHORITY);
    let authority = match Url::parse(authority_text) {
        Ok(url) if url.scheme().starts_with("http") => Some(url),
        _ => {
            p.push(
                "AZURE_AUTHORITY_HOST",
                format!("\"{authority_text}\" is not an http(s) URL"),
                "set it to the Entra ID login host, e.g. https://login.microsoftonline.us, or unset it",
            );
            None
        }
    };
    Some(AccountMode::Multiple {
        organization_urls: parsed,
        client_id: client_id?,
        client_secret: client_secret?,
        tenant_id: tenant_id?,
        authority: authority?,
    })
}
