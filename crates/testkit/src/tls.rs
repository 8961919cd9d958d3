//! TLS for tests of custom CAs, verification and proxies: a CA made per test, a TLS front that
//! terminates TLS with a certificate it signed and forwards the plain bytes to a simulator, and
//! a CONNECT proxy that counts the tunnels it opened.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

/// A certificate authority and one server certificate it signed, for `localhost` and
/// `127.0.0.1`.
pub struct Authority {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

impl Authority {
    /// A new CA (its certificate is in [`Self::ca_pem`]) and server certificate.
    ///
    /// # Panics
    /// If rcgen or rustls refuse the generated material (a bug, not an input).
    #[must_use]
    #[expect(clippy::expect_used, reason = "test fixture: generated input")]
    pub fn new() -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
            .expect("CA certificate");
        let key = KeyPair::generate().expect("server key");
        let server_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        let server_cert = server_params
            .signed_by(&key, &ca)
            .expect("server certificate");
        let chain = vec![server_cert.der().clone(), ca.der().clone()];
        let private = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .expect("server certificate accepted");
        Self {
            ca_pem: ca.pem(),
            server: Arc::new(server),
        }
    }

    /// The CA certificate, PEM.
    #[must_use]
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Writes the CA certificate to `dir/ca.pem` and returns its path.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write_ca(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem)?;
        Ok(path)
    }
}

impl Default for Authority {
    fn default() -> Self {
        Self::new()
    }
}

/// Terminates TLS on 127.0.0.1 and forwards each connection's plain bytes to `backend`.
pub struct TlsFront {
    /// Where it listens.
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TlsFront {
    /// Starts a front for `backend` with `authority`'s server certificate.
    ///
    /// # Errors
    /// The port cannot be bound.
    pub async fn spawn(authority: &Authority, backend: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&authority.server));
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake: nothing to do.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    if let Ok(mut plain) = TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    }
                });
            }
        });
        Ok(Self {
            addr,
            connections,
            task,
        })
    }

    /// TCP connections accepted so far (whether or not their handshake succeeded).
    #[must_use]
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An HTTP proxy that only tunnels (`CONNECT host:port`), as clients use for https URLs, and
/// records every tunnel's target and whether the client sent proxy credentials.
pub struct ConnectProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    tunnels: Arc<Mutex<Vec<Tunnel>>>,
    task: tokio::task::JoinHandle<()>,
}

/// One tunnel the proxy opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tunnel {
    /// `host:port` of the `CONNECT` request.
    pub target: String,
    /// The `Proxy-Authorization` header's value, if any.
    pub authorization: Option<String>,
}

impl ConnectProxy {
    /// Starts the proxy on 127.0.0.1.
    ///
    /// # Errors
    /// The port cannot be bound.
    pub async fn spawn() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&tunnels);
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let recorded = Arc::clone(&recorded);
                tokio::spawn(async move {
                    let _ = tunnel(tcp, &recorded).await;
                });
            }
        });
        Ok(Self {
            addr,
            tunnels,
            task,
        })
    }

    /// The proxy's URL with `credentials` (`user:password`) if given.
    #[must_use]
    pub fn url(&self, credentials: Option<&str>) -> String {
        match credentials {
            Some(credentials) => format!("http://{credentials}@{}", self.addr),
            None => format!("http://{}", self.addr),
        }
    }

    /// Every tunnel opened so far.
    #[must_use]
    pub fn tunnels(&self) -> Vec<Tunnel> {
        self.tunnels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one `CONNECT` request, opens the tunnel and copies bytes both ways until either side
/// closes; anything else is answered 405.
async fn tunnel(tcp: TcpStream, recorded: &Mutex<Vec<Tunnel>>) -> std::io::Result<()> {
    let mut client = BufReader::new(tcp);
    let mut request_line = String::new();
    client.read_line(&mut request_line).await?;
    let mut authorization = None;
    loop {
        let mut header = String::new();
        if client.read_line(&mut header).await? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("proxy-authorization")
        {
            authorization = Some(value.trim().to_owned());
        }
    }
    let mut parts = request_line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        client
            .get_mut()
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
            .await?;
        return Ok(());
    };
    let mut upstream = TcpStream::connect(target).await?;
    recorded
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Tunnel {
            target: target.to_owned(),
            authorization,
        });
    client
        .get_mut()
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}
