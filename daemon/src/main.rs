//! The `rulesd` command line.

use clap::{Parser, Subcommand};
use rulesd::runtime::Limits;
use rulesd::server::{self, Config, Daemon};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "rulesd",
    version,
    about = "Hosting billing daemon with WebAssembly rules"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "RULESD_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory for the redb store and the compiled-module cache.
    #[arg(long, env = "RULESD_DATA_DIR", default_value = "rulesd-data")]
    data_dir: PathBuf,
    /// Directory of rule modules (*.wasm, optional rules.toml), watched for
    /// changes. Without it the embedded default rules serve every hook.
    #[arg(long, env = "RULESD_RULES_DIR")]
    rules_dir: Option<PathBuf>,
    /// Fuel (instruction budget) per rule call.
    #[arg(long, env = "RULESD_RULE_FUEL", default_value_t = Limits::default().fuel)]
    rule_fuel: u64,
    /// Wall-clock limit per rule call, in milliseconds.
    #[arg(long, env = "RULESD_RULE_TIMEOUT_MS", default_value_t = Limits::default().timeout.as_millis() as u64)]
    rule_timeout_ms: u64,
    /// Memory limit per rule instance, in MiB.
    #[arg(long, env = "RULESD_RULE_MEMORY_MIB", default_value_t = Limits::default().memory_bytes >> 20)]
    rule_memory_mib: usize,
    /// Start with a settable test clock (POST /v1/clock) instead of the system
    /// clock, at the given RFC 3339 time or now.
    #[arg(long, env = "RULESD_TEST_CLOCK", num_args = 0..=1, value_name = "START")]
    test_clock: Option<Option<chrono::DateTime<chrono::Utc>>>,
    /// The provider's API key for a new data directory (otherwise one is
    /// generated and printed once).
    #[arg(long, env = "RULESD_PROVIDER_KEY", hide_env_values = true)]
    provider_key: Option<String>,
    /// Keep Idempotency-Key records at least this many hours.
    #[arg(long, env = "RULESD_IDEMPOTENCY_RETENTION_HOURS", default_value_t = 24)]
    idempotency_retention_hours: u32,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RULESD_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rulesd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rulesd: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = Config::new(args.listen, args.data_dir);
    config.rules_dir = args.rules_dir;
    config.limits = Limits {
        fuel: args.rule_fuel,
        timeout: Duration::from_millis(args.rule_timeout_ms),
        memory_bytes: args.rule_memory_mib << 20,
        ..Limits::default()
    };
    config.test_clock = args
        .test_clock
        .map(|start| start.unwrap_or_else(chrono::Utc::now));
    config.provider_key = args.provider_key;
    config.options.idempotency_retention =
        chrono::Duration::hours(i64::from(args.idempotency_retention_hours));
    let daemon = Daemon::build(&config)?;
    if let Some(key) = &daemon.generated_provider_key {
        // Shown once: only its hash is stored.
        println!("provider API key (shown once, keep it safe): {key}");
    }
    let listener = server::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    // One plain line on stdout for scripts and tests that start on port 0.
    println!("rulesd listening on http://{addr}");
    tracing::info!(%addr, data_dir = %config.data_dir.display(), rules_dir = ?config.rules_dir, "rulesd listening");
    server::serve(&daemon, listener, shutdown_signal()).await?;
    tracing::info!("rulesd stopped");
    Ok(())
}

/// SIGTERM or ctrl-c.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
