//! The `ocean-azure-devops` binary: parses the command line, sets up logging, wires the crates
//! together and maps failures to exit codes. `anyhow` lives only here.

mod bench;
mod demo;
mod log_shipping;
mod logging;
mod plan;
mod realtime;
mod run;
mod wiring;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keeps a Port software catalog in sync with Azure DevOps: a drop-in for Port's Azure DevOps
/// integration (Ocean), configured the same way.
#[derive(Debug, Parser)]
#[command(
    name = "ocean-azure-devops",
    version,
    args_conflicts_with_subcommands = true,
    after_help = AFTER_HELP
)]
struct Cli {
    #[command(flatten)]
    run: run::RunArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// What `--help` adds after the options: the settings that matter most.
const AFTER_HELP: &str = "\
Without a command, runs the integration as its container does, configured like Port's Python
integration by OCEAN__* variables (and an optional config.yaml). The ones that matter most:

  OCEAN__PORT__CLIENT_ID, OCEAN__PORT__CLIENT_SECRET   Port credentials (secret)
  OCEAN__PORT__BASE_URL                   https://api.getport.io (EU, default) or
                                          https://api.us.getport.io (US)
  OCEAN__INTEGRATION__IDENTIFIER          the integration's identifier in Port
  OCEAN__INTEGRATION__CONFIG__ORGANIZATION_URL           https://dev.azure.com/my-org
  OCEAN__INTEGRATION__CONFIG__PERSONAL_ACCESS_TOKEN      Azure DevOps PAT (secret)
  OCEAN__EVENT_LISTENER__TYPE             POLLING (default), ONCE, WEBHOOK, WEBHOOKS_ONLY, KAFKA
  OCEAN__BASE_URL                         public URL for Azure DevOps service hooks
  OCEAN__PORT_APP_CONFIG_FILE             a local mapping instead of the one in Port
  APPLICATION__LOG_LEVEL                  DEBUG, INFO (default), WARNING, ERROR

Every setting, its default and its config.yaml key: docs/configuration.md.
Exit status: 0 done, 1 the run failed, 2 invalid configuration.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Start both simulators in this process, run two resyncs with the default mapping and
    /// print what they did (no network, no credentials).
    Demo(demo::DemoArgs),
    /// Print the performance table: a medium simulated organization at 0 ms and 30 ms latency.
    Bench(bench::BenchArgs),
    /// Run the Port API simulator alone.
    SimPort {
        /// TCP port on 127.0.0.1.
        #[arg(long, default_value_t = 5555)]
        port: u16,
        /// Serve HTTPS with a certificate of a CA made at start, and write that CA's
        /// certificate (PEM) to this file, for the integration's `REQUESTS_CA_BUNDLE`.
        #[arg(long, value_name = "FILE")]
        tls_ca: Option<std::path::PathBuf>,
    },
    /// Run the Azure DevOps simulator alone.
    SimAdo {
        /// TCP port on 127.0.0.1.
        #[arg(long, default_value_t = 5556)]
        port: u16,
        /// Organization size.
        #[command(flatten)]
        sizes: demo::DemoArgs,
        /// A fixed "now" (RFC 3339, e.g. `2026-01-01T00:00:00Z`): the same requests then get
        /// the same answers whatever the day (recorded catalogs). Default: real time.
        #[arg(long, value_name = "RFC 3339 TIMESTAMP")]
        epoch: Option<jiff::Timestamp>,
        /// Serve HTTPS with a certificate of a CA made at start, and write that CA's
        /// certificate (PEM) to this file, for the integration's `REQUESTS_CA_BUNDLE`.
        #[arg(long, value_name = "FILE")]
        tls_ca: Option<std::path::PathBuf>,
    },
}

// jemalloc, built to return freed pages at once (`dirty_decay_ms:0,muzzy_decay_ms:0`, set in
// `.cargo/config.toml`; `_RJEM_MALLOC_CONF` overrides it at run time). Measured against
// mimalloc with its purge tuned (eighteenth session, `bench`, 2–3 interleaved runs): medium
// anon peak 14.5–15.6 → 10.7–10.9 MiB first and 17.7–19.5 → 11.4–11.7 second at the same
// CPU; large 31.1–33.1 → 17.1–18.1 MiB anon at 6–9 % more CPU. `Counting` keeps the live heap
// bytes (one uncontended atomic add per call, see `heap-count`) so that `bench` can tell the
// heap the program holds from the RSS the allocator keeps.
#[global_allocator]
static ALLOCATOR: heap_count::Counting<tikv_jemallocator::Jemalloc> =
    heap_count::Counting::new(tikv_jemallocator::Jemalloc);

/// Exit status for a configuration error (every problem is printed first).
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Mapping runs on the blocking pool: one thread per core keeps the cores busy, and every
    // extra thread costs a stack and an allocator heap (4 threads instead of 2 on this 2-core
    // machine: +1.8 MiB peak RSS in `bench`, no faster).
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(cores.max(2))
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Some(Command::Demo(args)) => {
                // The report says what the logs would (per-resource lines, each refused entity),
                // so only warnings and errors of other parts reach stderr.
                logging::init("warn,ocean::telemetry=off", false);
                demo::run(args).await
            }
            Some(Command::Bench(args)) => bench::run(args).await,
            Some(Command::SimPort { port, tls_ca }) => {
                demo::serve_sim_port(port, tls_ca.as_deref()).await
            }
            Some(Command::SimAdo {
                port,
                sizes,
                epoch,
                tls_ca,
            }) => demo::serve_sim_ado(port, sizes, epoch, tls_ca.as_deref()).await,
            None => run::run(cli.run).await,
        }
    });
    match outcome {
        Ok(code) => code,
        Err(error) => {
            if let Some(config_error) = error.downcast_ref::<ocean::config::ConfigError>() {
                eprintln!("error: invalid configuration:\n{config_error}");
                return ExitCode::from(EXIT_CONFIG);
            }
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
