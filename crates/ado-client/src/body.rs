//! Response bodies as Azure DevOps sends them.

/// `body` without the UTF-8 byte order mark that Microsoft's own samples of these bodies
/// start with (`ado-rest-specs/`), which `serde_json` refuses.
pub(crate) fn without_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}
