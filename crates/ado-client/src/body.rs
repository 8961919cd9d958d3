//! Response bodies as Azure DevOps sends them.

use serde_json::Value;

/// `body` without the UTF-8 byte order mark that Microsoft's own samples of these bodies
/// start with (`ado-rest-specs/`), which `serde_json` refuses.
pub(crate) fn without_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

/// The `message` of an Azure DevOps error body, or the body's first 500 characters.
pub(crate) fn service_message(body: &str) -> String {
    let body = body.trim_start_matches('\u{feff}');
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(500).collect())
}
