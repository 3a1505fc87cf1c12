//! The `rulesd` command line.

use clap::{Parser, Subcommand};
use rulesd::app::ratelimit::RateLimit;
use rulesd::domain::accounts::CreditLimit;
use rulesd::net::{ConnLimits, TlsFiles};
use rulesd::replay::{self, ReplayError, Report, RunOptions, Scenario};
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
    /// Run billing scenarios (TOML) in-process on a virtual clock and check
    /// their expectations. Exit status 1 if any fails.
    Replay(ReplayArgs),
    /// Re-run the stored decisions of a data directory through a candidate
    /// module and report which would change. Writes nothing.
    ///
    /// Exit status: 0 when the candidate decided every decision re-run
    /// (changed or not), 1 when it failed or refused on any of them, 2 when
    /// the diff could not run (unreadable module, store, arguments).
    Diff(DiffArgs),
    /// Load a rule module exactly as `rulesd serve` would (with the same
    /// --rule-* limits) and report its contract version, hooks, imports,
    /// memory, compile time, and one call of each hook on a sample request,
    /// then again on a reused instance (whether rules.toml may list it in
    /// `reuse`).
    ///
    /// Exit status: 0 when the daemon would load it and every hook answered
    /// its sample (a refusal is an answer), 1 otherwise, 2 when the file
    /// cannot be read.
    Check(CheckArgs),
    /// Write a new rule project: the chosen hooks in Rust, Python or
    /// JavaScript, starting from the default rule's decisions, with the
    /// daemon's WIT and a world exporting exactly those hooks, a build
    /// script, a scenario per hook and a README.
    NewRule(NewRuleArgs),
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// Scenario files or directories (searched for *.toml).
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    /// Serve the hooks from this rules directory (which must exist) instead
    /// of each scenario's bindings.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Keep the store of the (single) scenario in this new directory (or an
    /// empty one), e.g. for `rulesd diff --data`.
    #[arg(long)]
    keep_data: Option<PathBuf>,
    /// Print the results as JSON: one entry per scenario file, with
    /// `status` "ok", "fail" or "error" (could not run: `message`, `line`).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    compile_cache: CompileCacheArg,
}

/// Compiled modules kept between runs of `check`, `replay` and `diff`: a
/// Python or JavaScript rule takes 10-40 s to compile, once.
#[derive(clap::Args)]
struct CompileCacheArg {
    /// Keep compiled modules in this directory between runs (created if
    /// missing). Its files are native code that is loaded as is: use a
    /// directory only you can write. Default: none (replay: its own, for
    /// the run).
    #[arg(long, env = "RULESD_COMPILE_CACHE", value_name = "DIR")]
    compile_cache: Option<PathBuf>,
}

#[derive(clap::Args)]
struct DiffArgs {
    /// The candidate rule module (a component).
    #[arg(long)]
    candidate: PathBuf,
    /// A data directory no daemon holds (a copy or a backup).
    #[arg(long)]
    data: PathBuf,
    /// Only decisions made on or after this day (YYYY-MM-DD).
    #[arg(long)]
    since: Option<chrono::NaiveDate>,
    /// How many differences to print in full.
    #[arg(long, default_value_t = 10)]
    show: usize,
    /// Only decisions of this hook (repeat or separate with commas for
    /// several; default: every hook the candidate exports).
    #[arg(long = "hook", value_delimiter = ',')]
    hooks: Vec<rulesd::contract::hook::Hook>,
    /// Keep the candidate's instances between calls, as rules.toml's
    /// `reuse` would: every decision but the first runs on a reused
    /// instance, so a difference is one reuse causes.
    #[arg(long)]
    reuse_instances: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    compile_cache: CompileCacheArg,
}

/// The sandbox's limits per rule call: `serve` runs with them, `check`
/// checks against them.
#[derive(clap::Args)]
struct RuleLimitArgs {
    /// Fuel (instruction budget) per rule call, 1000000 to 1000000000000.
    #[arg(long, env = "RULESD_RULE_FUEL", default_value_t = Limits::default().fuel,
          value_parser = clap::value_parser!(u64).range(*Limits::FUEL.start()..=*Limits::FUEL.end()))]
    rule_fuel: u64,
    /// Wall-clock limit per rule call, in milliseconds, 10 to 60000.
    #[arg(long, env = "RULESD_RULE_TIMEOUT_MS", default_value_t = Limits::default().timeout.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(*Limits::TIMEOUT_MS.start()..=*Limits::TIMEOUT_MS.end()))]
    rule_timeout_ms: u64,
    /// Memory limit per rule instance, in MiB, 1 to 4096.
    #[arg(long, env = "RULESD_RULE_MEMORY_MIB", default_value_t = (Limits::default().memory_bytes >> 20) as u64,
          value_parser = clap::value_parser!(u64).range(*Limits::MEMORY_MIB.start() as u64..=*Limits::MEMORY_MIB.end() as u64))]
    rule_memory_mib: u64,
}

impl RuleLimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            fuel: self.rule_fuel,
            timeout: Duration::from_millis(self.rule_timeout_ms),
            // In range (the parser checked), so the shift cannot overflow.
            memory_bytes: (self.rule_memory_mib as usize) << 20,
            ..Limits::default()
        }
    }
}

#[derive(clap::Args)]
struct CheckArgs {
    /// The rule module (a component) to check.
    module: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    rule_limits: RuleLimitArgs,
    #[command(flatten)]
    compile_cache: CompileCacheArg,
}

#[derive(clap::Args)]
struct NewRuleArgs {
    /// The language: rust, python or js.
    #[arg(long)]
    lang: rulesd::ops::new_rule::Lang,
    /// The hooks the rule exports (repeat or separate with commas).
    #[arg(long = "hook", value_delimiter = ',', required = true)]
    hooks: Vec<rulesd::contract::hook::Hook>,
    /// The rulesd source tree a Rust project depends on (rules-sdk and the
    /// default rule); default: the tree this binary was built from.
    #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/.."))]
    rulesd_src: PathBuf,
    /// The directory to write the project into (new, or empty).
    dir: PathBuf,
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
    /// changes; it must exist, and every file its rules.toml binds must be there at start.
    /// Without it the embedded default rules serve every hook.
    #[arg(long, env = "RULESD_RULES_DIR")]
    rules_dir: Option<PathBuf>,
    #[command(flatten)]
    rule_limits: RuleLimitArgs,
    /// The store's page cache, in MiB, 16 to 65536: pages read stay cached up
    /// to this size, so it bounds how much a job that reads much (the
    /// daily bill job) grows the process.
    #[arg(long, env = "RULESD_STORE_CACHE_MIB", default_value_t = rulesd::store::DEFAULT_CACHE_MIB as u64,
          value_parser = clap::value_parser!(u64).range(*rulesd::store::CACHE_MIB.start() as u64..=*rulesd::store::CACHE_MIB.end() as u64))]
    store_cache_mib: u64,
    /// Start with a settable test clock (POST /v1/clock) instead of the system
    /// clock, at the given RFC 3339 time or now.
    #[arg(long, env = "RULESD_TEST_CLOCK", num_args = 0..=1, value_name = "START")]
    test_clock: Option<Option<chrono::DateTime<chrono::Utc>>>,
    /// The provider's API key for a new data directory (otherwise one is
    /// generated and printed once): 16 to 256 visible ASCII characters. A
    /// data directory that already has a provider keeps its keys; a key given
    /// for it that is not one of them is ignored, with a warning.
    #[arg(long, env = "RULESD_PROVIDER_KEY", hide_env_values = true, value_parser = parse_provider_key)]
    provider_key: Option<String>,
    /// Keep Idempotency-Key records at least this many hours.
    #[arg(long, env = "RULESD_IDEMPOTENCY_RETENTION_HOURS", default_value_t = 24)]
    idempotency_retention_hours: u32,
    /// Product-type setting: delete services this many days after they expired
    /// unpaid, for tariffs that set no auto-deletion period (default: never).
    #[arg(long, env = "RULESD_AUTO_DELETE_DAYS")]
    auto_delete_days: Option<u32>,
    /// Product-type setting: whether unpaid services are suspended on
    /// Saturdays and Sundays, for tariffs that leave it to the product type.
    #[arg(long, env = "RULESD_SUSPEND_ON_WEEKENDS", default_value_t = true, action = clap::ArgAction::Set)]
    suspend_on_weekends: bool,
    /// How far below zero an account's balance may go, for accounts that set
    /// no limit of their own: "unlimited" (orders and renewals are charged
    /// whatever the balance) or an amount such as "0" (strictly prepaid).
    #[arg(long, env = "RULESD_CREDIT_LIMIT", default_value = "unlimited")]
    credit_limit: CreditLimit,
    /// Requests per second each provider API key may make, "RATE" or
    /// "RATE/BURST" (default 50000/100000: never binds).
    #[arg(
        long,
        env = "RULESD_RATE_LIMIT_PROVIDER",
        default_value = "50000/100000"
    )]
    rate_limit_provider: RateLimit,
    /// Requests per second each reseller API key may make, "RATE" or
    /// "RATE/BURST"; beyond it: 429 with Retry-After.
    #[arg(long, env = "RULESD_RATE_LIMIT_RESELLER", default_value = "2000/4000")]
    rate_limit_reseller: RateLimit,
    /// Serve HTTPS with this PEM certificate chain (server certificate
    /// first); needs --tls-key. Replacing the file (and the key) on disk
    /// takes effect without a restart.
    #[arg(
        long,
        env = "RULESD_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// The certificate's PEM private key (PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "RULESD_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
    /// Connections open at once; beyond it new ones wait until one closes.
    /// Lowered at start to fit under the open-files limit.
    #[arg(long, env = "RULESD_MAX_CONNECTIONS", default_value_t = rulesd::net::DEFAULT_MAX_CONNECTIONS as u64,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// A request head must be complete this many milliseconds after the
    /// daemon starts waiting for it (connection opened, or previous answer
    /// sent); also bounds a TLS handshake.
    #[arg(long, env = "RULESD_HEADER_READ_TIMEOUT_MS", value_parser = timeout_ms,
          default_value_t = rulesd::net::DEFAULT_HEADER_READ_TIMEOUT.as_millis() as u64)]
    header_read_timeout_ms: u64,
    /// A request body must be complete this many milliseconds after its
    /// head; a slower one is answered 408 and the connection closed.
    #[arg(long, env = "RULESD_BODY_READ_TIMEOUT_MS", value_parser = timeout_ms,
          default_value_t = rulesd::net::DEFAULT_BODY_READ_TIMEOUT.as_millis() as u64)]
    body_read_timeout_ms: u64,
    /// A connection with no request in flight that sends nothing for this
    /// many milliseconds is closed; at most --header-read-timeout-ms.
    #[arg(long, env = "RULESD_IDLE_TIMEOUT_MS", value_parser = timeout_ms,
          default_value_t = rulesd::net::DEFAULT_IDLE_TIMEOUT.as_millis() as u64)]
    idle_timeout_ms: u64,
}

/// A connection timeout in milliseconds: 10 ms to an hour.
fn timeout_ms(value: &str) -> Result<u64, String> {
    let ms: u64 = value.parse().map_err(|e| format!("{e}"))?;
    if (10..=3_600_000).contains(&ms) {
        Ok(ms)
    } else {
        Err("must be 10 to 3600000 milliseconds".into())
    }
}

/// A chosen provider key, checked when the command line is parsed so a bad
/// one is refused before anything starts.
fn parse_provider_key(value: &str) -> Result<String, rulesd::tenancy::auth::ChosenKeyError> {
    let key = value.trim();
    rulesd::tenancy::auth::check_chosen_secret(key)?;
    Ok(key.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The daemon logs its work; the tools only what goes wrong.
    let default_filter = match cli.command {
        Command::Serve(_) => "info",
        Command::Replay(_) | Command::Diff(_) | Command::Check(_) | Command::NewRule(_) => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RULESD_LOG")
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rulesd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Check(args) => return check(args),
        Command::NewRule(args) => return new_rule(args),
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Replay(args) => return runtime.block_on(replay(args)),
        Command::Diff(args) => {
            return diff(args).unwrap_or_else(|e| {
                eprintln!("rulesd: {e}");
                ExitCode::from(2)
            });
        }
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
    config.limits = args.rule_limits.limits();
    config.test_clock = args
        .test_clock
        .map(|start| start.unwrap_or_else(chrono::Utc::now));
    config.provider_key = args.provider_key;
    config.store_cache_mib = args.store_cache_mib as usize;
    config.options.idempotency_retention =
        chrono::Duration::hours(i64::from(args.idempotency_retention_hours));
    config.options.auto_delete_days = args.auto_delete_days;
    config.options.suspend_on_weekends = args.suspend_on_weekends;
    config.options.credit_limit = args.credit_limit;
    config.options.provider_rate = args.rate_limit_provider;
    config.options.reseller_rate = args.rate_limit_reseller;
    config.conn = ConnLimits {
        // In range (the parser checked): fits any usize.
        max_connections: args.max_connections as usize,
        header_read_timeout: Duration::from_millis(args.header_read_timeout_ms),
        body_read_timeout: Duration::from_millis(args.body_read_timeout_ms),
        idle_timeout: Duration::from_millis(args.idle_timeout_ms),
    };
    // clap makes each of the two require the other.
    config.tls = args
        .tls_cert
        .zip(args.tls_key)
        .map(|(cert, key)| TlsFiles { cert, key });
    // Listen first: a daemon that cannot have its address must not create a
    // data directory or a provider key on the way to failing.
    let listener = server::bind(config.listen).await?;
    let daemon = Daemon::build(&config)?;
    if let Some(key) = &daemon.generated_provider_key {
        // Shown once: only its hash is stored.
        println!("provider API key (shown once, keep it safe): {key}");
    }
    let addr = listener.local_addr()?;
    // One plain line on stdout for scripts and tests that start on port 0.
    println!("rulesd listening on {}://{addr}", daemon.scheme());
    tracing::info!(%addr, data_dir = %config.data_dir.display(), rules_dir = ?config.rules_dir, "rulesd listening");
    server::serve(&daemon, listener, shutdown_signal()).await?;
    tracing::info!("rulesd stopped");
    Ok(())
}

async fn replay(args: ReplayArgs) -> ExitCode {
    let files = match check_replay_args(&args) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // One compile cache for the whole run: the one named, or one private to
    // this process.
    let cache = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("rulesd: no temporary directory: {e}");
            return ExitCode::from(2);
        }
    };
    let cache_dir = args
        .compile_cache
        .compile_cache
        .unwrap_or_else(|| cache.path().to_path_buf());
    let loaded = load_scenarios(&files);
    let progress = replay_progress(&loaded);
    let options = RunOptions {
        rules_dir: args.rules,
        data_dir: args.keep_data,
        cache_dir: Some(cache_dir),
        progress: Some(progress.clone()),
    };
    let reports = run_scenarios(&files, loaded, &options, &progress).await;
    progress.finish_and_clear();
    print_reports(&reports, args.json)
}

/// Checks `replay`'s options and collects the scenario files named; the
/// error is the line to print on stderr.
fn check_replay_args(args: &ReplayArgs) -> Result<Vec<PathBuf>, String> {
    // The directories named are checked before anything is read or run: a
    // mistyped --rules would otherwise replay on the embedded defaults and
    // pass, and an existing --keep-data would replay into an old store.
    if let Some(dir) = &args.rules
        && let Err(e) = server::check_rules_dir(dir)
    {
        return Err(format!("rulesd: --rules: {e}"));
    }
    if let Some(dir) = &args.keep_data
        && let Err(e) = replay::check_keep_data(dir)
    {
        return Err(format!("rulesd: --keep-data: {e}"));
    }
    let files = replay::collect(&args.scenarios).map_err(|e| format!("rulesd: {e}"))?;
    if args.keep_data.is_some() && files.len() != 1 {
        return Err(format!(
            "rulesd: --keep-data needs exactly one scenario; {} were named",
            files.len()
        ));
    }
    Ok(files)
}

/// Parses every scenario file, printing an ERROR line for each that cannot
/// be read or parsed.
fn load_scenarios(files: &[PathBuf]) -> Vec<Result<Scenario, ReplayError>> {
    // Parse everything first: a broken file is reported before anything runs,
    // and the progress bar knows the total number of steps.
    files
        .iter()
        .map(|file| {
            Scenario::load(file).map_err(|e| {
                eprintln!("ERROR {e}");
                e.into()
            })
        })
        .collect()
}

/// A progress bar over the steps (setup included) of the scenarios loaded.
fn replay_progress(loaded: &[Result<Scenario, ReplayError>]) -> indicatif::ProgressBar {
    let total: usize = loaded
        .iter()
        .flatten()
        .map(|s| s.setup.len() + s.steps.len())
        .sum();
    indicatif::ProgressBar::new(total as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} steps {per_sec} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    )
}

/// Runs the scenarios that loaded, in order, printing an ERROR line for each
/// that could not run, and returns one report per file.
async fn run_scenarios(
    files: &[PathBuf],
    loaded: Vec<Result<Scenario, ReplayError>>,
    options: &RunOptions,
    progress: &indicatif::ProgressBar,
) -> Vec<Report> {
    // One report per file, in order, including those that could not run.
    let mut reports = Vec::with_capacity(files.len());
    for (file, loaded) in files.iter().zip(loaded) {
        let result = match loaded {
            Ok(scenario) => {
                progress.set_message(scenario.name.clone());
                let result = replay::run(&scenario, options).await;
                if let Err(e) = &result {
                    progress.suspend(|| eprintln!("ERROR {e}"));
                }
                result
            }
            Err(e) => Err(e),
        };
        reports.push(Report::new(file, result));
    }
    reports
}

/// Prints the reports (as JSON, or one line per scenario that ran and a
/// summary) and returns the exit status: failure if any scenario failed or
/// could not run.
fn print_reports(reports: &[Report], json: bool) -> ExitCode {
    let count = |f: fn(&Report) -> bool| reports.iter().filter(|r| f(r)).count();
    let passed = count(|r| matches!(r, Report::Ok(_)));
    let failed = count(|r| matches!(r, Report::Fail(_)));
    let broken = count(|r| matches!(r, Report::Error { .. }));
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(reports).unwrap_or_default()
        );
    } else {
        for o in reports.iter().filter_map(|r| match r {
            Report::Ok(o) | Report::Fail(o) => Some(o),
            // Already printed as ERROR lines on stderr.
            Report::Error { .. } => None,
        }) {
            let verdict = if o.failure.is_some() { "FAIL" } else { "ok  " };
            println!(
                "{verdict}  {}  ({} steps, {} ms)  {}",
                o.name,
                o.steps,
                o.elapsed_ms,
                o.file.display()
            );
            if let Some(f) = &o.failure {
                print!("{}", replay::describe(f));
            }
        }
        // One report per scenario file named.
        println!(
            "{} scenario(s): {passed} passed, {failed} failed, {broken} could not run",
            reports.len(),
        );
    }
    if failed + broken == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Exit 1 when the candidate failed on any decision: a candidate that
/// traps must not pass a script's check as "no change".
fn diff(args: DiffArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    use rulesd::runtime::{ModuleSource, Runtime};
    let bytes = std::fs::read(&args.candidate)
        .map_err(|e| format!("cannot read {}: {e}", args.candidate.display()))?;
    let runtime = Runtime::new(Limits::default(), args.compile_cache.compile_cache)?;
    let name = args.candidate.display().to_string();
    let candidate = runtime.load(&name, &bytes, ModuleSource::File(args.candidate.clone()))?;
    candidate.set_reuse(args.reuse_instances);
    let store = rulesd::store::Store::open_existing(&args.data)?;
    let options = rulesd::ops::diff::DiffOptions {
        since: args.since,
        show: args.show,
        hooks: args.hooks,
    };
    let report = rulesd::ops::diff::diff(&store, &candidate, &options, |_| {})?;
    let status = if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(status);
    }
    println!(
        "{} decision(s) re-run through {} ({}), {} skipped: {} would change, {} failed",
        report.examined,
        name,
        &report.candidate_sha256[..12],
        report.skipped,
        report.changed,
        report.failed
    );
    for (currency, delta) in &report.delta {
        println!("  total delta {currency}: {delta}");
    }
    for d in &report.differences {
        for line in d.describe() {
            println!("{line}");
        }
    }
    if report.failed > 0 {
        eprintln!(
            "rulesd: the candidate failed on {} decision(s)",
            report.failed
        );
    }
    Ok(status)
}

fn check(args: CheckArgs) -> ExitCode {
    let bytes = match std::fs::read(&args.module) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("rulesd: cannot read {}: {e}", args.module.display());
            return ExitCode::from(2);
        }
    };
    // With a compile cache, a module compiled before loads from it, and the
    // compile time reported is that load's.
    let runtime = match rulesd::runtime::Runtime::new(
        args.rule_limits.limits(),
        args.compile_cache.compile_cache,
    ) {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("rulesd: {e}");
            return ExitCode::from(2);
        }
    };
    let report = rulesd::ops::check::check(&runtime, &args.module, &bytes);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        for line in report.describe() {
            println!("{line}");
        }
    }
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn new_rule(args: NewRuleArgs) -> ExitCode {
    // An absolute path: Cargo.toml names it, and the project may move.
    let src = std::fs::canonicalize(&args.rulesd_src).unwrap_or(args.rulesd_src);
    match rulesd::ops::new_rule::generate(args.lang, &args.hooks, &args.dir, &src) {
        Ok(files) => {
            for file in files {
                println!("wrote {}", file.display());
            }
            println!(
                "next: cd {} && ./build.sh && rulesd check build/rules/rule.wasm \
                 && rulesd replay --rules build/rules scenarios/ (see README.md)",
                args.dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rulesd: {e}");
            ExitCode::from(2)
        }
    }
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
