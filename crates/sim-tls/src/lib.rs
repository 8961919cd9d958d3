//! HTTPS for the simulators. Every deployment of the integration talks TLS to Azure DevOps
//! Services and to Port, so `bench` and `link-order.sh` run the simulators over HTTPS: the TLS
//! code is then measured and laid out like the rest (over plain HTTP on loopback, hyper's read
//! buffers also grew to ~400 KiB per connection, which TLS records of ≤ 16 KiB never cause).
//!
//! - [`Authority`]: a CA and one server certificate it signed, for `localhost` and `127.0.0.1`,
//!   made at start (nothing secret is stored anywhere).
//! - [`SimListener`]: plain TCP or TLS, for `axum::serve`.

use std::{io, net::SocketAddr, pin::Pin, sync::Arc, time::Duration};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpListener,
};

/// A certificate authority and one server certificate it signed.
pub struct Authority {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

impl Authority {
    /// A new CA (its certificate is in [`Self::ca_pem`]) and server certificate.
    ///
    /// # Errors
    /// rcgen or rustls refuse the generated material (a bug, not an input), named in the error.
    pub fn new() -> io::Result<Self> {
        let failed = |what: &str, error: &dyn std::fmt::Display| {
            io::Error::other(format!(
                "making the simulator's TLS certificates: {what}: {error}"
            ))
        };
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| failed("CA params", &e))?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().map_err(|e| failed("CA key", &e))?;
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key)
            .map_err(|e| failed("CA certificate", &e))?;
        let key = KeyPair::generate().map_err(|e| failed("server key", &e))?;
        let server_cert =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .and_then(|params| params.signed_by(&key, &ca))
                .map_err(|e| failed("server certificate", &e))?;
        let chain = vec![server_cert.der().clone(), ca.der().clone()];
        let private = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| failed("TLS versions", &e))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| failed("server certificate refused", &e))?;
        Ok(Self {
            ca_pem: ca.pem(),
            server: Arc::new(server),
        })
    }

    /// The CA certificate, PEM.
    #[must_use]
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server side: the certificate chain and its key.
    #[must_use]
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        Arc::clone(&self.server)
    }
}

/// A client that has not finished its handshake by then is dropped (the accept loop waits for
/// handshakes one at a time).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a simulator listens: plain TCP, or TLS with a certificate of an [`Authority`].
pub enum SimListener {
    /// `http://`
    Plain(TcpListener),
    /// `https://`
    Tls {
        /// The bound socket.
        tcp: TcpListener,
        /// Terminates TLS with the authority's server certificate.
        acceptor: tokio_rustls::TlsAcceptor,
    },
}

impl SimListener {
    /// TLS on `tcp` with `authority`'s server certificate. Only HTTP/1.1 is offered (no ALPN),
    /// so clients open one connection per request in flight: the costlier case.
    #[must_use]
    pub fn tls(tcp: TcpListener, authority: &Authority) -> Self {
        Self::Tls {
            tcp,
            acceptor: tokio_rustls::TlsAcceptor::from(authority.server_config()),
        }
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    ///
    /// # Errors
    /// The socket has no local address.
    pub fn origin(&self) -> io::Result<String> {
        Ok(match self {
            Self::Plain(tcp) => format!("http://{}", tcp.local_addr()?),
            Self::Tls { tcp, .. } => format!("https://{}", tcp.local_addr()?),
        })
    }

    fn tcp(&self) -> &TcpListener {
        match self {
            Self::Plain(tcp) | Self::Tls { tcp, .. } => tcp,
        }
    }
}

impl From<TcpListener> for SimListener {
    fn from(tcp: TcpListener) -> Self {
        Self::Plain(tcp)
    }
}

/// A connection, plain or TLS.
pub trait Connection: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Connection for T {}

impl axum::serve::Listener for SimListener {
    type Io = Pin<Box<dyn Connection>>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp().accept().await else {
                // As axum's own TcpListener does: out of descriptors and the like pass.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            match self {
                Self::Plain(_) => return (Box::pin(tcp), addr),
                Self::Tls { acceptor, .. } => {
                    // A client that refuses the certificate, or never speaks, is dropped.
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
                    {
                        return (Box::pin(tls), addr);
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp().local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(listener: SimListener) -> String {
        let origin = listener.origin().unwrap();
        let app = axum::Router::new().route("/hello", axum::routing::get(|| async { "hi" }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        origin
    }

    async fn hello(client: &reqwest::Client, origin: &str) -> reqwest::Result<String> {
        client
            .get(format!("{origin}/hello"))
            .send()
            .await?
            .text()
            .await
    }

    #[tokio::test]
    async fn a_client_trusting_the_ca_gets_answers_over_https_and_others_are_refused() {
        let authority = Authority::new().unwrap();
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = serve(SimListener::tls(tcp, &authority));
        assert!(origin.starts_with("https://127.0.0.1:"), "{origin}");

        let ca = reqwest::Certificate::from_pem(authority.ca_pem().as_bytes()).unwrap();
        let trusting = reqwest::Client::builder()
            .tls_certs_merge([ca])
            .build()
            .unwrap();
        // Two requests on one client: a kept-alive connection serves the second.
        for _ in 0..2 {
            assert_eq!(hello(&trusting, &origin).await.unwrap(), "hi");
        }

        // Without the CA the handshake fails, and the listener goes on accepting: a new
        // client (its own connection) is served.
        let error = hello(&reqwest::Client::new(), &origin).await.unwrap_err();
        assert!(error.is_connect(), "{error:?}");
        let fresh = reqwest::Client::builder()
            .tls_certs_merge([
                reqwest::Certificate::from_pem(authority.ca_pem().as_bytes()).unwrap(),
            ])
            .build()
            .unwrap();
        assert_eq!(hello(&fresh, &origin).await.unwrap(), "hi");
    }

    #[tokio::test]
    async fn a_plain_listener_serves_http() {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = serve(tcp.into());
        assert!(origin.starts_with("http://127.0.0.1:"), "{origin}");
        assert_eq!(hello(&reqwest::Client::new(), &origin).await.unwrap(), "hi");
    }
}
