//! Masking of secrets in text and JSON: the configured secret values and well-known token
//! shapes, each replaced by `[REDACTED]`. Ocean masks log lines and the raw-data examples it
//! posts to Port with its sensitive-value filter (ocean-framework.md §1.1, §2.3); this is ours,
//! shared by the log writer (app) and the examples ([`crate::resync`]).
//!
//! Ocean keeps the first six characters of a masked log value; we hide all of it everywhere
//! (as Ocean does for examples): a prefix of a secret is still part of the secret.

use std::{
    borrow::Cow,
    fmt,
    sync::{Arc, LazyLock, RwLock},
};

use regex::Regex;
use serde_json::Value;

/// What replaces a secret.
pub const MASK: &str = "[REDACTED]";

/// Token shapes masked even when they are not configured: keys that an Azure DevOps item may
/// carry in a description, a variable or a URL. Written from the vendors' documented formats.
const SHAPES: [&str; 8] = [
    // PEM private keys (RSA, EC, OpenSSH, PKCS#8), whole block.
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
    // AWS access key ids.
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    // GitHub personal, OAuth, app and refresh tokens; fine-grained PATs.
    r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",
    r"\bgithub_pat_[A-Za-z0-9_]{40,}\b",
    // Slack tokens and incoming-webhook URLs.
    r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    r"https://hooks\.slack\.com/services/[A-Za-z0-9/_]+",
    // Google API keys.
    r"\bAIza[0-9A-Za-z_-]{35}\b",
    // Credentials in a URL: scheme://user:password@host (the password part only).
    r"(?P<keep>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@",
];

/// [`SHAPES`] as one automaton (one pass over each log line), its lazy DFA's cache capped.
static SHAPE: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(
        clippy::expect_used,
        reason = "constant patterns, exercised by the tests"
    )]
    regex::RegexBuilder::new(&SHAPES.join("|"))
        .dfa_size_limit(256 * 1024)
        .build()
        .expect("valid regex")
});

/// The secrets to mask. Clones share the list, so values added after start-up (once the
/// configuration is read) apply everywhere.
#[derive(Clone, Default)]
pub struct Redaction(Arc<RwLock<Vec<String>>>);

impl fmt::Debug for Redaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.read().map_or(0, |list| list.len());
        write!(f, "Redaction({count} secret values)")
    }
}

impl Redaction {
    /// Adds secret values to mask. Values shorter than 4 characters are ignored: masking them
    /// would garble ordinary text, and they are not meaningful secrets.
    pub fn add(&self, secrets: impl IntoIterator<Item = String>) {
        if let Ok(mut list) = self.0.write() {
            for secret in secrets {
                let secret = secret.trim();
                if secret.len() >= 4 && !list.iter().any(|known| known == secret) {
                    list.push(secret.to_owned());
                }
            }
        }
    }

    /// `text` with every secret value and token shape replaced by [`MASK`].
    #[must_use]
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        if let Ok(list) = self.0.read() {
            for secret in list.iter() {
                if out.contains(secret.as_str()) {
                    out = Cow::Owned(out.replace(secret.as_str(), MASK));
                }
            }
        }
        if SHAPE.is_match(&out) {
            let replaced = SHAPE.replace_all(&out, |caps: &regex::Captures<'_>| {
                caps.name("keep").map_or_else(
                    || MASK.to_owned(),
                    |keep| format!("{}{MASK}@", keep.as_str()),
                )
            });
            out = Cow::Owned(replaced.into_owned());
        }
        out
    }

    /// Masks every string value of `value` in place (object keys are kept, as in Ocean).
    pub fn json(&self, value: &mut Value) {
        match value {
            Value::String(text) => {
                if let Cow::Owned(masked) = self.text(text) {
                    *text = masked;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.json(item)),
            Value::Object(map) => map.values_mut().for_each(|item| self.json(item)),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn configured_values_are_masked_and_short_ones_ignored() {
        let redaction = Redaction::default();
        redaction.add([
            "s3cr3t-token".to_owned(),
            "ab".to_owned(),
            " s3cr3t-token ".to_owned(),
        ]);
        assert_eq!(
            redaction.text("token=s3cr3t-token ab"),
            "token=[REDACTED] ab"
        );
        assert_eq!(format!("{redaction:?}"), "Redaction(1 secret values)");
    }

    #[test]
    fn token_shapes_are_masked_without_configuration() {
        let redaction = Redaction::default();
        let pat = format!("ghp_{}", "a1".repeat(18));
        assert_eq!(
            redaction.text(&format!("use {pat} here")),
            "use [REDACTED] here"
        );
        assert_eq!(
            redaction.text("https://build:hunter22@nexus.example.com/repo"),
            "https://build:[REDACTED]@nexus.example.com/repo"
        );
        assert_eq!(
            redaction.text("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----"),
            "[REDACTED]"
        );
        // An Azure DevOps remote URL names a user, not a password: kept.
        let url = "https://acme@dev.azure.com/acme/p/_git/r";
        assert_eq!(redaction.text(url), url);
    }

    #[test]
    fn json_masks_string_values_at_any_depth_and_keeps_keys() {
        let redaction = Redaction::default();
        redaction.add(["s3cr3t-token".to_owned()]);
        let mut value = json!({
            "s3cr3t-token": "x",
            "nested": [{"url": "https://u:s3cr3t-token@h/p"}, 7, null, true],
            "plain": "visible",
        });
        redaction.json(&mut value);
        assert_eq!(
            value,
            json!({
                "s3cr3t-token": "x",
                "nested": [{"url": "https://u:[REDACTED]@h/p"}, 7, null, true],
                "plain": "visible",
            })
        );
    }
}
