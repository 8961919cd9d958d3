//! Older Azure DevOps Servers refuse a newer api-version and name the newest they take; every
//! later request is capped to it ([`crate::client::Client`]).

use url::Url;

use crate::body::service_message;

/// The newest api-version a `400 VssVersionOutOfRangeException` names ("… The latest REST API
/// version this server supports is 6.0."), if that is what `body` is.
pub(crate) fn supported_version(status: u16, body: &str) -> Option<String> {
    if status != 400 || !body.contains("VssVersionOutOfRangeException") {
        return None;
    }
    let message = service_message(body);
    let tail = message.split("supports is ").nth(1)?;
    let version: String = tail
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let version = version.trim_end_matches('.');
    (!version.is_empty()).then(|| version.to_owned())
}

/// `url` with its api-version lowered to `max` when it is newer (a preview keeps `-preview`:
/// the server then serves its own newest preview of that resource).
pub(crate) fn with_version_capped(url: &Url, max: &str) -> Url {
    let number = |v: &str| -> Vec<u32> {
        v.split('-')
            .next()
            .unwrap_or_default()
            .split('.')
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            if k == "api-version" && number(&v) > number(max) {
                let capped = if v.contains("-preview") {
                    format!("{max}-preview")
                } else {
                    max.to_owned()
                };
                (k.into_owned(), capped)
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    let mut url = url.clone();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn an_older_servers_newest_version_is_read_and_newer_ones_capped() {
        let body = r#"{"$id":"1","message":"The requested REST API version of 7.1 is out of range for this server. The latest REST API version this server supports is 6.0.","typeKey":"VssVersionOutOfRangeException"}"#;
        assert_eq!(supported_version(400, body).as_deref(), Some("6.0"));
        assert_eq!(supported_version(404, body), None);
        assert_eq!(supported_version(400, r#"{"message":"bad"}"#), None);
        let url: Url =
            "https://tfs.contoso.com/Coll/_apis/teams?$top=100&api-version=7.1-preview.3"
                .parse()
                .unwrap();
        assert_eq!(
            with_version_capped(&url, "6.0").query(),
            Some("%24top=100&api-version=6.0-preview")
        );
        let old: Url = "https://h/c/_apis/x?api-version=5.1".parse().unwrap();
        assert_eq!(
            with_version_capped(&old, "6.0").query(),
            Some("api-version=5.1")
        );
    }
}
