//! `bench`: the same resync as `demo`, at a medium size (20 projects × 25 repositories, 250 work
//! items and 50 releases per project, 10 pull requests per repository), with 0 ms and 30 ms of
//! simulated Azure DevOps latency, and at 0 ms an unchanged second resync (what every scheduled
//! resync of a quiet organization costs: reads only, no write).
//! The simulators run as child processes (`sim-ado`, `sim-port`), so the CPU time and peak RSS
//! printed are the integration's own. They serve HTTPS, as Azure DevOps Services and Port do,
//! with CAs made at start that the integration trusts (`--http`: plain HTTP, as before the
//! sixteenth session); the live-event table's in-process simulators serve plain HTTP.
//!
//! `bench --large` (issue 18): 40 projects × 25 repositories, 4,000 work items per project
//! (160,000; the default mapping's WIQL keeps the open ones and those changed in the last 7
//! days), 50 releases per project and 10 pull requests per repository, at 0 ms: a first and an
//! unchanged second resync, to show how memory and time grow with the organization.

use std::{
    net::TcpListener,
    process::{Child, Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use ado_client::{Client as AdoClient, ClientOptions};
use ado_kinds::AzureDevops;
use anyhow::Context;
use ocean::runner::Runner;
use secrecy::SecretString;

use crate::wiring::{self, Extras};

mod live;

/// Kills a child simulator when dropped.
struct Sim(Child);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn spawn(args: &[String]) -> anyhow::Result<Sim> {
    let exe = std::env::current_exe()?;
    let child = Command::new(exe)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok(Sim(child))
}

/// Waits for a simulator to listen (a large organization takes seconds to generate).
async fn wait_until_up(port: u16) -> anyhow::Result<()> {
    for _ in 0..2_400 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    anyhow::bail!("a simulator did not listen on port {port} within 60 s")
}

/// (user+system CPU seconds, peak RSS in KiB) of this process, from /proc.
fn usage() -> (f64, u64) {
    (cpu_seconds("self"), status_kib("VmHWM:"))
}

/// User+system CPU seconds of a process (`self` or a pid), from `/proc/{pid}/stat` (0 when
/// unreadable).
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks: u64 = fields.get(11).and_then(|u| u.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
    #[expect(clippy::cast_precision_loss, reason = "tick counts are small")]
    let seconds = ticks as f64 / 100.0;
    seconds
}

/// The highest live heap seen so far (bytes), sampled with the anonymous RSS.
static HEAP_PEAK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The highest anonymous RSS (heap, stacks: what the process owns, unlike the binary's code,
/// which is file-backed, shared and reclaimable) while it runs, sampled from
/// `/proc/self/status` every 2 ms (the kernel keeps no peak of it); and with it the live heap
/// ([`HEAP_PEAK`]: the allocator counts live bytes, not their peak).
struct AnonPeak {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    sampler: std::thread::JoinHandle<u64>,
}

impl AnonPeak {
    fn start() -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let sampler = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(status_kib("RssAnon:"));
                HEAP_PEAK.fetch_max(
                    crate::ALLOCATOR.live_bytes(),
                    std::sync::atomic::Ordering::Relaxed,
                );
                #[expect(
                    clippy::disallowed_methods,
                    reason = "its own thread, not one of the runtime's"
                )]
                std::thread::sleep(Duration::from_millis(2));
            }
            peak.max(status_kib("RssAnon:"))
        });
        Self { stop, sampler }
    }

    /// The peak in KiB.
    fn finish(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.sampler.join().unwrap_or(0)
    }
}

/// A `/proc/self/status` field in KiB (0 when unreadable).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// `bench` options.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct BenchArgs {
    /// The large organization (160,000 work items) at 0 ms instead of the medium one at 0 and
    /// 30 ms, without the live-event table.
    #[arg(long, conflicts_with = "heap_probe")]
    large: bool,
    /// One project with this many work items (one repository, one release), a first and an
    /// unchanged second resync and their rows only: what the memory test compares at two
    /// sizes.
    #[arg(long, value_name = "WORK_ITEMS")]
    heap_probe: Option<u32>,
    /// Serve the simulators over plain HTTP instead of HTTPS (as Azure DevOps Server without
    /// TLS is reached; the bench ran so before the sixteenth session).
    #[arg(long)]
    http: bool,
}

/// An organization's size, as sim-ado's flags take it.
#[derive(Debug, Clone, Copy)]
struct Size {
    projects: u32,
    repositories: u32,
    work_items: u32,
    releases: u32,
    pull_requests: u32,
}

const MEDIUM: Size = Size {
    projects: 20,
    repositories: 25,
    work_items: 250,
    releases: 50,
    pull_requests: 10,
};

const LARGE: Size = Size {
    projects: 40,
    repositories: 25,
    work_items: 4_000,
    releases: 50,
    pull_requests: 10,
};

/// Runs the benchmark and prints its table.
pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    println!(
        "{:<10} {:>9} {:>10} {:>9} {:>8} {:>9} {:>10} {:>9} {:>12} {:>9} {:>8} {:>8} {:>9}",
        "latency",
        "wall s",
        "entities",
        "ent/s",
        "written",
        "ADO req",
        "Port req",
        "CPU s",
        "sims CPU s",
        "base MiB",
        "peak MiB",
        "anon MiB",
        "heap MiB"
    );
    // Every case runs a first and an unchanged second resync at 0 ms; the medium one also a
    // first at 30 ms.
    let cases: &[(u64, bool)] = if args.large || args.heap_probe.is_some() {
        &[(0, true)]
    } else {
        &[(0, true), (30, false)]
    };
    let size = match (args.large, args.heap_probe) {
        (_, Some(work_items)) => Size {
            projects: 1,
            repositories: 1,
            work_items,
            releases: 1,
            pull_requests: 0,
        },
        (true, None) => LARGE,
        (false, None) => MEDIUM,
    };
    let mut splits = Vec::new();
    for &(latency, again) in cases {
        let rows = one(size, latency, again, !args.http)
            .await
            .with_context(|| format!("bench at {latency} ms"))?;
        for (row, split) in rows {
            println!("{row}");
            splits.push(split);
        }
    }
    println!(
        "(CPU and RSS are this process's; the simulators run as child processes, their CPU is sims CPU: sim-ado + sim-port. base: RSS before the resync; peak: highest RSS so far; anon: highest anonymous RSS during the resync (peak minus anon is mostly the binary's code, file-backed); heap: highest live heap so far, sampled every 2 ms)"
    );
    println!(
        "\n{:<10} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "latency", "wall s", "snapshot s", "ADO wait s", "mapping s", "Port wait s", "deletion s"
    );
    for split in splits {
        println!("{split}");
    }
    println!(
        "(where the time went: reading Port's entities at the start, then per resource, summed over resources (lanes run at once, so the sums can exceed the wall): waiting for Azure DevOps' next page while ready to take it, mapping on the blocking pool, waiting for Port's upserts; then the deletion phase)"
    );
    if !args.large && args.heap_probe.is_none() {
        live::run(&[50, 200]).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The first resync of a fresh organization of `size` at `latency_ms`, and with `again` an
/// unchanged second one: one table row each (requests counted per run). With `tls` both
/// simulators serve HTTPS with a CA of their own, which the integration trusts as a user's
/// `REQUESTS_CA_BUNDLE` would make it: every deployment on Azure DevOps Services talks TLS.
async fn one(
    size: Size,
    latency_ms: u64,
    again: bool,
    tls: bool,
) -> anyhow::Result<Vec<(String, String)>> {
    let (ado_port, port_port) = (free_port()?, free_port()?);
    let cas = CaFiles::new(tls)?;
    let ca_paths = cas.paths();
    let mut ado_args: Vec<String> = vec![
        "sim-ado".into(),
        "--port".into(),
        ado_port.to_string(),
        "--projects".into(),
        size.projects.to_string(),
        "--repositories".into(),
        size.repositories.to_string(),
        "--work-items".into(),
        size.work_items.to_string(),
        "--releases".into(),
        size.releases.to_string(),
        "--pull-requests".into(),
        size.pull_requests.to_string(),
        "--latency-ms".into(),
        latency_ms.to_string(),
    ];
    let mut port_args: Vec<String> =
        vec!["sim-port".into(), "--port".into(), port_port.to_string()];
    if let Some((ado_ca, port_ca)) = &ca_paths {
        ado_args.extend(["--tls-ca".into(), ado_ca.display().to_string()]);
        port_args.extend(["--tls-ca".into(), port_ca.display().to_string()]);
    }
    let ado_sim = spawn(&ado_args)?;
    let port_sim = spawn(&port_args)?;
    wait_until_up(ado_port).await?;
    wait_until_up(port_port).await?;
    let (scheme, roots) = match &ca_paths {
        Some((ado_ca, port_ca)) => {
            let mut roots = http_setup::read_ca_bundle(ado_ca).map_err(anyhow::Error::msg)?;
            roots.extend(http_setup::read_ca_bundle(port_ca).map_err(anyhow::Error::msg)?);
            ("https", roots)
        }
        None => ("http", Vec::new()),
    };
    let tls = http_setup::Tls {
        extra_roots: roots.into(),
        ..http_setup::Tls::system("OCEAN__SSL__THIRD_PARTY__VERIFY")
    };
    let (runner, _) = bench_runner_trusting(
        &format!("{scheme}://127.0.0.1:{ado_port}/acme"),
        &format!("{scheme}://127.0.0.1:{port_port}"),
        &tls,
    )
    .await?;
    let sims = Sims {
        origins: (
            format!("{scheme}://127.0.0.1:{ado_port}"),
            format!("{scheme}://127.0.0.1:{port_port}"),
        ),
        pids: [ado_sim.0.id().to_string(), port_sim.0.id().to_string()],
        // Reads the simulators' counters between resyncs. It verifies nothing (no root store
        // loaded) and keeps no connection, so that this process holds no more than the
        // integration between and during resyncs: these are our own simulators on loopback.
        inspect: reqwest::Client::builder()
            .tls_danger_accept_invalid_certs(true)
            .pool_max_idle_per_host(0)
            .build()?,
    };
    let mut rows = vec![resync_row(&runner, format!("{latency_ms} ms"), &sims).await?];
    if again {
        rows.push(resync_row(&runner, format!("{latency_ms} ms again"), &sims).await?);
    }
    Ok(rows)
}

/// Where the simulators write their CA certificates (a directory of this process, removed
/// when dropped); none over plain HTTP.
struct CaFiles(Option<std::path::PathBuf>);

impl CaFiles {
    fn new(tls: bool) -> anyhow::Result<Self> {
        if !tls {
            return Ok(Self(None));
        }
        let dir = std::env::temp_dir().join(format!("ocean-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(Some(dir)))
    }

    /// (sim-ado's CA file, sim-port's CA file)
    fn paths(&self) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
        self.0
            .as_ref()
            .map(|dir| (dir.join("sim-ado-ca.pem"), dir.join("sim-port-ca.pem")))
    }
}

impl Drop for CaFiles {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The two simulators a bench case runs: their origins (sim-ado, sim-port), pids, and a
/// client for their inspection routes.
struct Sims {
    origins: (String, String),
    pids: [String; 2],
    inspect: reqwest::Client,
}

impl Sims {
    /// CPU seconds both have used so far.
    fn cpu(&self) -> f64 {
        self.pids.iter().map(|pid| cpu_seconds(pid)).sum()
    }
}

/// Runs one resync and formats its row and its time split; requests are those the simulators
/// counted during it.
async fn resync_row(
    runner: &Runner<AzureDevops>,
    label: String,
    sims: &Sims,
) -> anyhow::Result<(String, String)> {
    let (ado, port) = &sims.origins;
    let sims_cpu_before = sims.cpu();
    let ado_before = http_count(&sims.inspect, ado, "/_control/requests").await;
    let port_before = http_count(&sims.inspect, port, "/_stats").await;
    let (cpu_before, _) = usage();
    // What the process holds as the resync starts (VmHWM, in `usage`, is the peak so far).
    let rss_before = status_kib("VmRSS:");
    let anon = AnonPeak::start();
    let started = Instant::now();
    let report = runner.resync().await?;
    let wall = started.elapsed().as_secs_f64();
    let anon = anon.finish();
    let (cpu_after, rss) = usage();
    let sims_cpu = sims.cpu() - sims_cpu_before;
    let entities: usize = report.resources.iter().map(|r| r.mapped).sum();
    let ado_requests = http_count(&sims.inspect, ado, "/_control/requests")
        .await
        .saturating_sub(ado_before);
    let port_requests = http_count(&sims.inspect, port, "/_stats")
        .await
        .saturating_sub(port_before);
    #[expect(
        clippy::cast_precision_loss,
        reason = "entity counts and byte counts are far below 2^52"
    )]
    let (rate, rss_mib, anon_mib, base_mib, heap_mib) = (
        entities as f64 / wall,
        rss as f64 / 1024.0,
        anon as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        HEAP_PEAK.load(std::sync::atomic::Ordering::Relaxed) as f64 / f64::from(1 << 20),
    );
    let mut time = ocean::resync::TimeSplit::default();
    for resource in &report.resources {
        time += resource.time;
    }
    let split = format!(
        "{:<10} {:>9.2} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>10.2}",
        label,
        wall,
        report.snapshot_duration.as_secs_f64(),
        time.fetch_wait.as_secs_f64(),
        time.mapping.as_secs_f64(),
        time.port_wait.as_secs_f64(),
        report.deletion_duration.as_secs_f64(),
    );
    let row = format!(
        "{:<10} {:>9.2} {:>10} {:>9.0} {:>8} {:>9} {:>10} {:>9.2} {:>12.2} {:>9.1} {:>8.1} {:>8.1} {:>9.1}{}",
        label,
        wall,
        entities,
        rate,
        report.total_upserted(),
        ado_requests,
        port_requests,
        cpu_after - cpu_before,
        sims_cpu,
        base_mib,
        rss_mib,
        anon_mib,
        heap_mib,
        if report.succeeded() {
            String::new()
        } else {
            "  (resync reported failures)".into()
        }
    );
    Ok((row, split))
}

/// The production runner (and its Azure DevOps client), pointed at the two simulators, with
/// the default resources created in Port (so it is past starting).
pub(crate) async fn bench_runner(
    ado_url: &str,
    port_url: &str,
) -> anyhow::Result<(Runner<AzureDevops>, AdoClient)> {
    bench_runner_trusting(
        ado_url,
        port_url,
        &http_setup::Tls::system("OCEAN__SSL__THIRD_PARTY__VERIFY"),
    )
    .await
}

/// [`bench_runner`] with `tls` for both clients (the simulators' CAs when they serve HTTPS).
async fn bench_runner_trusting(
    ado_url: &str,
    port_url: &str,
    tls: &http_setup::Tls,
) -> anyhow::Result<(Runner<AzureDevops>, AdoClient)> {
    let (port, installation) = wiring::simulated_port(port_url, "bench", tls).await?;
    let ado = AdoClient::new(
        &ado_url.parse()?,
        &SecretString::from("sim-pat"),
        &ClientOptions {
            tls: tls.clone(),
            ..ClientOptions::default()
        },
    )?;
    let runner = wiring::runner(port, vec![ado.clone()], &installation, Extras::default())?;
    // Initialized: a server started with this runner takes events at once.
    runner.health().set_serving();
    Ok((runner, ado))
}

/// Total requests a simulator counted, from its inspection route.
async fn http_count(client: &reqwest::Client, origin: &str, path: &str) -> u64 {
    let Ok(response) = client.get(format!("{origin}{path}")).send().await else {
        return 0;
    };
    let Ok(body) = response.json::<serde_json::Value>().await else {
        return 0;
    };
    let requests = body.get("requests").unwrap_or(&body);
    requests.as_object().map_or(0, |m| {
        m.values().filter_map(serde_json::Value::as_u64).sum()
    })
}
