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

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

/// A CA and a server certificate (see `sim_tls`), with the CA written where a test needs it.
pub use sim_tls::Authority;

/// Writes `authority`'s CA certificate to `dir/ca.pem` and returns its path.
///
/// # Errors
/// The file cannot be written.
pub fn write_ca(authority: &Authority, dir: &Path) -> std::io::Result<PathBuf> {
    let path = dir.join("ca.pem");
    std::fs::write(&path, authority.ca_pem())?;
    Ok(path)
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
        let acceptor = tokio_rustls::TlsAcceptor::from(authority.server_config());
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
