//! What the Port and Azure DevOps clients share about HTTP (one place, so both sides behave
//! alike):
//!
//! - [`Tls`]: extra CA certificates trusted on top of the system's (`REQUESTS_CA_BUNDLE`, what
//!   Port's docs set; `SSL_CERT_FILE`/`SSL_CERT_DIR` are read by rustls' native roots already),
//!   and verification that can be turned off per side (`OCEAN__SSL__PORT__VERIFY`,
//!   `OCEAN__SSL__THIRD_PARTY__VERIFY`, as in Ocean).
//! - Proxies: reqwest reads `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (either case)
//!   from the environment for every client built here; nothing to do but not to disable it.
//! - [`Failure`]: a transport error told apart (certificate problem, no connection, timeout)
//!   and described in one line with the host and the innermost cause. A certificate problem is
//!   not transient: callers do not retry it.

use std::sync::Arc;

/// TLS settings of one side (Port, or the third-party API).
#[derive(Clone, Debug)]
pub struct Tls {
    /// CA certificates trusted besides the system's.
    pub extra_roots: Arc<[reqwest::Certificate]>,
    /// `false` accepts any certificate (`OCEAN__SSL__*__VERIFY=false`).
    pub verify: bool,
    /// The variable that turns verification off for this side, named in certificate errors.
    pub verify_variable: &'static str,
}

/// How long an idle pooled connection is kept, by every client built here: httpx's
/// `keepalive_expiry` default, which every client of the Python integration keeps (Ocean sets
/// only the Port client's connection counts, ocean-framework.md; reqwest's own default is 90 s).
/// Each idle connection keeps hyper's read buffer, sized by its largest body (76 KB on average
/// after a medium resync, heaptrack): 1.9 MB of the 3.4 MB a process held between two resyncs
/// before idle connections expired.
pub const IDLE_CONNECTION_EXPIRY: std::time::Duration = std::time::Duration::from_secs(5);

impl Tls {
    /// Verified against the system's roots only.
    #[must_use]
    pub fn system(verify_variable: &'static str) -> Self {
        Self {
            extra_roots: Arc::new([]),
            verify: true,
            verify_variable,
        }
    }

    /// A reqwest builder with these settings (proxies from the environment, as reqwest does by
    /// default) and idle connections expiring after [`IDLE_CONNECTION_EXPIRY`].
    pub fn builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .pool_idle_timeout(IDLE_CONNECTION_EXPIRY)
            .tls_certs_merge(self.extra_roots.iter().cloned())
            .tls_danger_accept_invalid_certs(!self.verify)
    }

    /// Tells what kind of failure `error` is, with a line a person can act on.
    #[must_use]
    pub fn failure(&self, error: &reqwest::Error) -> Failure {
        let host = error
            .url()
            .and_then(|url| {
                Some(format!(
                    "{}:{}",
                    url.host_str()?,
                    url.port_or_known_default()?
                ))
            })
            .unwrap_or_else(|| "the server".to_owned());
        if let Some(problem) = certificate_problem(error) {
            return Failure::Certificate(format!(
                "the TLS certificate of {host} is not accepted ({problem}); put the CA that \
                 signed it in a PEM file named by REQUESTS_CA_BUNDLE or SSL_CERT_FILE, or set \
                 {}=false to skip verification",
                self.verify_variable
            ));
        }
        let mut cause: &dyn std::error::Error = error;
        while let Some(source) = cause.source() {
            cause = source;
        }
        let what = if error.is_timeout() {
            "timed out talking to"
        } else if error.is_connect() {
            "could not connect to"
        } else {
            "the connection failed with"
        };
        Failure::Transient(format!("{what} {host}: {cause}"))
    }
}

/// A transport error, told apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server's certificate was refused: retrying cannot help.
    Certificate(String),
    /// No connection, a reset or a timeout: worth retrying.
    Transient(String),
}

impl Failure {
    /// The description.
    #[must_use]
    pub fn message(&self) -> &str {
        match self {
            Self::Certificate(text) | Self::Transient(text) => text,
        }
    }
}

/// Reads a PEM bundle of CA certificates (`REQUESTS_CA_BUNDLE`).
///
/// # Errors
/// The file cannot be read or holds no certificate; the message names the file.
pub fn read_ca_bundle(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("{} is not a PEM certificate bundle: {e}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!("{} holds no PEM certificate", path.display()));
    }
    Ok(certificates)
}

/// The certificate problem behind `error`, in words, if that is what it is. rustls' error sits
/// inside `io::Error`s (two, with hyper-util: `Other` around `InvalidData`), whose `source()`
/// skips what they wrap, so their contents are looked into as well.
fn certificate_problem(error: &reqwest::Error) -> Option<String> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = next {
        let mut inner: &(dyn std::error::Error + 'static) = current;
        loop {
            if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                return describe_tls(tls);
            }
            match inner
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
            {
                Some(wrapped) => inner = wrapped,
                None => break,
            }
        }
        next = current.source();
    }
    None
}

fn describe_tls(error: &rustls::Error) -> Option<String> {
    use rustls::CertificateError as C;
    let rustls::Error::InvalidCertificate(certificate) = error else {
        return None;
    };
    Some(
        match certificate {
            C::UnknownIssuer => "unknown issuer: no trusted CA signed it",
            C::Expired | C::ExpiredContext { .. } => "expired",
            C::NotValidYet | C::NotValidYetContext { .. } => "not valid yet",
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "name mismatch: it was not issued for this host"
            }
            C::Revoked => "revoked",
            C::BadSignature => "bad signature",
            _ => return Some(format!("invalid: {certificate:?}")),
        }
        .to_owned(),
    )
}
