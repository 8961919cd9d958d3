//! Both APIs over TLS under a CA made for the test: the CA given in `SSL_CERT_FILE` or in
//! `REQUESTS_CA_BUNDLE`, none (a certificate error, at once, naming what to set), verification
//! turned off for one side only, and the whole run through a CONNECT proxy with `NO_PROXY`.

use std::{sync::Arc, time::Duration};

use testkit::tls::{Authority, ConnectProxy, TlsFront};

use super::{binary, text};

/// The simulators, each behind a TLS front signed by `authority`.
struct Secured {
    port: sim_port::RunningSim,
    _ado: sim_ado::RunningSim,
    port_front: TlsFront,
    ado_front: TlsFront,
    dir: tempdir::Dir,
    authority: Authority,
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct Dir(pub std::path::PathBuf);

    impl Dir {
        pub fn new(name: &str) -> Self {
            let path = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Secured {
    async fn start(name: &str) -> Arc<Self> {
        let authority = Authority::new().unwrap();
        let port = sim_port::spawn(sim_port::SimConfig::default())
            .await
            .unwrap();
        let ado = sim_ado::spawn(sim_ado::SimConfig::default()).await.unwrap();
        let port_front = TlsFront::spawn(&authority, port.addr).await.unwrap();
        let ado_front = TlsFront::spawn(&authority, ado.addr).await.unwrap();
        Arc::new(Self {
            port,
            _ado: ado,
            port_front,
            ado_front,
            dir: tempdir::Dir::new(name),
            authority,
        })
    }

    /// Port by IP, Azure DevOps by name: `NO_PROXY` can then tell them apart.
    fn port_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port_front.addr.port())
    }

    fn org_url(&self) -> String {
        format!("https://localhost:{}/acme", self.ado_front.addr.port())
    }

    fn ca_file(&self) -> String {
        testkit::tls::write_ca(&self.authority, &self.dir.0)
            .unwrap()
            .display()
            .to_string()
    }

    /// `--once` with the given extra environment: (exit code, stdout, stderr).
    fn once(&self, port_url: &str, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
        let output = binary()
            .arg("--once")
            .env("OCEAN__PORT__BASE_URL", port_url)
            .env("OCEAN__PORT__CLIENT_ID", "sim-client-id")
            .env("OCEAN__PORT__CLIENT_SECRET", "sim-client-secret")
            .env("OCEAN__INTEGRATION__IDENTIFIER", "tls")
            .env(
                "OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL",
                self.org_url(),
            )
            .env(
                "OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN",
                "sim-pat",
            )
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        (output.status.code(), stdout, stderr)
    }

    fn repositories(&self) -> usize {
        self.port
            .state
            .entities()
            .iter()
            .filter(|e| e["blueprint"] == "azureDevopsRepository")
            .count()
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_ca_in_ssl_cert_file_or_requests_ca_bundle_a_resync_over_tls_completes() {
    let sims = Secured::start("tls-ca").await;
    for variable in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"] {
        let s = Arc::clone(&sims);
        let (code, stdout, stderr) = blocking(move || {
            let ca = s.ca_file();
            s.once(&s.port_url(), &[(variable, ca.as_str())])
        })
        .await;
        assert_eq!(code, Some(0), "{variable}\n{stdout}\n{stderr}");
        assert_eq!(sims.repositories(), 15, "{variable}: {stdout}");
    }
    assert!(sims.port_front.connections() > 0 && sims.ado_front.connections() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_ca_the_run_fails_at_once_naming_the_problem_and_what_to_set() {
    let sims = Secured::start("tls-none").await;
    let s = Arc::clone(&sims);
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = blocking(move || s.once(&s.port_url(), &[])).await;
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    for expected in [
        "the TLS certificate of 127.0.0.1",
        "unknown issuer",
        "REQUESTS_CA_BUNDLE",
        "OCEAN__SSL__PORT__VERIFY=false",
    ] {
        assert!(stderr.contains(expected), "missing `{expected}`:\n{stderr}");
    }
    // Not retried: a certificate does not fix itself.
    assert!(!stderr.contains("Retrying"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn third_party_verification_off_skips_the_azure_devops_side_only() {
    let sims = Secured::start("tls-verify").await;
    let s = Arc::clone(&sims);
    // Port in plain HTTP, Azure DevOps over TLS with no CA given: verification off works.
    let (code, stdout, stderr) = blocking(move || {
        s.once(
            &s.port.base_url(),
            &[("OCEAN__SSL__THIRD_PARTY__VERIFY", "false")],
        )
    })
    .await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(sims.repositories(), 15, "{stdout}");
    assert_eq!(
        stderr.matches("TLS certificates are not verified").count(),
        1,
        "one warning at start:\n{stderr}"
    );
    // Port over TLS, still verified: its certificate is refused.
    let s = Arc::clone(&sims);
    let (code, _, stderr) = blocking(move || {
        s.once(
            &s.port_url(),
            &[("OCEAN__SSL__THIRD_PARTY__VERIFY", "false")],
        )
    })
    .await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("the TLS certificate of 127.0.0.1")
            && stderr.contains("OCEAN__SSL__PORT__VERIFY"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn through_a_proxy_every_connection_is_tunnelled_and_no_proxy_hosts_go_direct() {
    let sims = Secured::start("tls-proxy").await;
    let proxy = Arc::new(ConnectProxy::spawn().await.unwrap());
    let proxy_url = proxy.url(Some("user:pr0xy-pass"));
    let s = Arc::clone(&sims);
    let url = proxy_url.clone();
    let (code, stdout, stderr) = blocking(move || {
        let ca = s.ca_file();
        s.once(
            &s.port_url(),
            &[
                ("REQUESTS_CA_BUNDLE", ca.as_str()),
                ("HTTPS_PROXY", url.as_str()),
            ],
        )
    })
    .await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let tunnels = proxy.tunnels();
    let to = |addr: std::net::SocketAddr, host: &str| {
        tunnels
            .iter()
            .filter(|t| t.target == format!("{host}:{}", addr.port()))
            .count()
    };
    // Every connection either front accepted came through a tunnel.
    assert_eq!(
        to(sims.port_front.addr, "127.0.0.1"),
        sims.port_front.connections()
    );
    assert_eq!(
        to(sims.ado_front.addr, "localhost"),
        sims.ado_front.connections()
    );
    assert!(tunnels.len() >= 2, "{tunnels:?}");
    assert!(
        tunnels.iter().all(|t| t.authorization.is_some()),
        "{tunnels:?}"
    );
    assert!(!stderr.contains("pr0xy-pass") && !stdout.contains("pr0xy-pass"));

    // NO_PROXY names Port's host: Port is reached directly, Azure DevOps still tunnelled.
    let before = (proxy.tunnels().len(), sims.port_front.connections());
    let s = Arc::clone(&sims);
    let (code, stdout, stderr) = blocking(move || {
        let ca = s.ca_file();
        s.once(
            &s.port_url(),
            &[
                ("REQUESTS_CA_BUNDLE", ca.as_str()),
                ("https_proxy", proxy_url.as_str()),
                ("NO_PROXY", "127.0.0.1"),
            ],
        )
    })
    .await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let new: Vec<_> = proxy.tunnels().split_off(before.0);
    assert!(!new.is_empty(), "Azure DevOps still goes through the proxy");
    assert!(
        new.iter().all(|t| t.target.starts_with("localhost:")),
        "{new:?}"
    );
    assert!(
        sims.port_front.connections() > before.1,
        "Port reached directly"
    );
}
