//! `demo`: starts the Azure DevOps and Port simulators in-process, runs two full resyncs with
//! the default mapping through the production code path (only the URLs differ), and prints what
//! happened. `sim-port` and `sim-ado` serve a simulator alone.

use std::{collections::BTreeMap, process::ExitCode, time::Instant};

use anyhow::Context;
use ocean::resync::ResyncReport;
use secrecy::SecretString;
use sim_port::SimConfig;

use ado_client::{Client as AdoClient, ClientOptions};

use crate::wiring::{self, Extras};

/// Size flags of the demo organization.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Projects in the fixture organization.
    #[arg(long, default_value_t = 3)]
    projects: usize,
    /// Repositories per project.
    #[arg(long, default_value_t = 5)]
    repositories: usize,
    /// Work items per project.
    #[arg(long, default_value_t = 40)]
    work_items: usize,
    /// Releases per project.
    #[arg(long, default_value_t = 5)]
    releases: usize,
    /// Pull requests per repository.
    #[arg(long, default_value_t = 2)]
    pull_requests: usize,
    /// Pipelines per project (each with a few runs).
    #[arg(long, default_value_t = 2)]
    pipelines: usize,
    /// Teams per project (each with a board, members, an area and sprints).
    #[arg(long, default_value_t = 1)]
    teams: usize,
    /// Simulated Azure DevOps latency per response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Simulated Azure DevOps rate limit, in requests per second (none by default).
    #[arg(long)]
    rate_limit: Option<u32>,
}

impl DemoArgs {
    /// The simulator's sizes.
    pub fn sizes(&self) -> sim_ado::Sizes {
        sim_ado::Sizes {
            projects: self.projects,
            repositories: self.repositories,
            work_items: self.work_items,
            releases: self.releases,
            pull_requests: self.pull_requests,
            pipelines: self.pipelines,
            teams: self.teams,
        }
    }
}

/// Runs the demo and prints its report.
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let sim = sim_port::spawn(SimConfig::default())
        .await
        .context("starting sim-port")?;
    let (port, installation) = wiring::simulated_port(
        &sim.base_url(),
        "demo-azure-devops",
        &http_setup::Tls::system("OCEAN__SSL__PORT__VERIFY"),
    )
    .await?;

    let ado = sim_ado::spawn(sim_ado::SimConfig {
        sizes: args.sizes(),
        latency: std::time::Duration::from_millis(args.latency_ms),
        rate_limit: args.rate_limit,
        ..sim_ado::SimConfig::default()
    })
    .await
    .context("starting sim-ado")?;
    let org_url = ado.org_url().parse()?;
    let client = AdoClient::new(
        &org_url,
        &SecretString::from(sim_ado::SimConfig::default().pat),
        &ClientOptions::default(),
    )?;
    let runner = wiring::runner(port, vec![client], &installation, Extras::default())?;
    println!(
        "ocean-azure-devops demo: a simulated organization of {} projects (per project: {} \
         repositories, {} work items, {} releases, {} pipelines, {} team(s)), synced to the Port \
         simulator at {} with the default mapping.\n",
        args.projects,
        args.repositories,
        args.work_items,
        args.releases,
        args.pipelines,
        args.teams,
        sim.base_url()
    );

    let first = runner.resync().await?;
    print_report("first resync", &first);
    println!(
        "Azure DevOps requests during the first resync: {}\n",
        ado.state.total_requests()
    );
    sim.state.reset_stats();
    let second = runner.resync().await?;
    print_report("second resync (unchanged organization)", &second);
    print_catalog(&sim.state, &sim.state.stats().requests);
    println!("wall time: {} ms", started.elapsed().as_millis());
    Ok(if first.failure.is_none() && second.failure.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(title: &str, report: &ResyncReport) {
    println!(
        "== {title}: {} in {} ms",
        if report.succeeded() {
            "completed"
        } else {
            "failed"
        },
        report.duration.as_millis()
    );
    println!("{report}");
    // One line per distinct reason: the same refusal repeated per entity says nothing more.
    let mut reasons: BTreeMap<(&str, u16, &str), usize> = BTreeMap::new();
    for rejection in report.resources.iter().flat_map(|r| &r.rejections) {
        *reasons
            .entry((&rejection.blueprint, rejection.status, &rejection.reason))
            .or_default() += 1;
    }
    for ((blueprint, status, reason), count) in reasons {
        println!("Port refused {count} {blueprint} entities ({status}): {reason}.");
        if reason.contains("must be equal to one of the allowed values") {
            println!(
                "  The default blueprint allows only these values, as the Python integration's \
                 does; add the value to the blueprint's enum in Port to keep these entities."
            );
        }
    }
    println!();
}

fn print_catalog(port: &sim_port::SimState, requests: &BTreeMap<String, u64>) {
    // blueprint → (entities, placeholders: entities Port created for a relation's target).
    let mut per_blueprint: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for entity in port.entities() {
        let blueprint = entity["blueprint"].as_str().unwrap_or("?");
        let identifier = entity["identifier"].as_str().unwrap_or_default();
        let placeholder = port.datasource_of(blueprint, identifier).is_none();
        let counts = per_blueprint.entry(blueprint.to_owned()).or_default();
        counts.0 += 1;
        counts.1 += usize::from(placeholder);
    }
    println!("== catalog in Port after both resyncs");
    for (blueprint, (count, placeholders)) in &per_blueprint {
        if *placeholders == 0 {
            println!("{blueprint:<24} {count:>6} entities");
        } else {
            println!(
                "{blueprint:<24} {count:>6} entities, of which {placeholders} are placeholders \
                 Port created as targets of relations (createMissingRelatedEntities)"
            );
        }
    }
    println!("\n== Port API requests during the second resync");
    for (route, count) in requests {
        println!("{route:<60} {count:>6}");
    }
}

/// Serves the Azure DevOps simulator on 127.0.0.1:`port` until Ctrl-C, with its clock fixed at
/// `epoch` when given (`SimConfig::epoch`).
pub async fn serve_sim_ado(
    port: u16,
    args: DemoArgs,
    epoch: Option<jiff::Timestamp>,
    tls_ca: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let listener = sim_listener(port, tls_ca).await?;
    let origin = listener.origin()?;
    let config = sim_ado::SimConfig {
        sizes: args.sizes(),
        latency: std::time::Duration::from_millis(args.latency_ms),
        rate_limit: args.rate_limit,
        epoch,
        ..sim_ado::SimConfig::default()
    };
    let state = sim_ado::AdoState::new(config, &origin);
    eprintln!(
        "sim-ado serving organization {origin}/{} (PAT \"sim-pat\")",
        state.organization()
    );
    if let Some(epoch) = epoch {
        eprintln!("sim-ado clock fixed at {epoch}");
    }
    sim_ado::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// Serves the Port simulator on 127.0.0.1:`port` until Ctrl-C.
pub async fn serve_sim_port(
    port: u16,
    tls_ca: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let listener = sim_listener(port, tls_ca).await?;
    let state = sim_port::SimState::new(SimConfig::default());
    let defaults = SimConfig::default();
    eprintln!(
        "sim-port listening on {} (OCEAN__PORT__CLIENT_ID={}, \
         OCEAN__PORT__CLIENT_SECRET={})",
        listener.origin()?,
        defaults.client_id,
        defaults.client_secret
    );
    sim_port::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// A simulator's listener on 127.0.0.1:`port`; with `tls_ca`, HTTPS with a CA made here, whose
/// certificate is written to that file before the port is bound (so a client that waits for
/// the port finds the file).
async fn sim_listener(
    port: u16,
    tls_ca: Option<&std::path::Path>,
) -> anyhow::Result<sim_tls::SimListener> {
    let authority = match tls_ca {
        Some(path) => {
            let authority = sim_tls::Authority::new()?;
            std::fs::write(path, authority.ca_pem())
                .with_context(|| format!("writing the CA certificate to {}", path.display()))?;
            Some(authority)
        }
        None => None,
    };
    let tcp = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    Ok(match authority {
        Some(authority) => sim_tls::SimListener::tls(tcp, &authority),
        None => tcp.into(),
    })
}
