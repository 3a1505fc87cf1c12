//! Wiring: build the runtime, registry, store and app from a [`Config`], then
//! serve HTTP or HTTPS until shutdown (the accept loop and its limits are
//! in `net`).

use crate::app::{ApiError, App, Domains, Options, daily};
use crate::billing::daily::BillingDay;
use crate::clock::TestClock;
use crate::ipam::allocations::ReleaseOnDelete;
use crate::licenses::daily::LicenseDay;
use crate::licenses::lifecycle::FollowServers;
use crate::licenses::vendor::{LicenseVendor, Simulator};
use crate::net::{self, ConnLimits, ConnLimitsError, Tls, TlsError, TlsFiles};
use crate::rules::{self, Registry};
use crate::runtime::{Limits, LimitsError, LoadError, ModuleSource, Runtime};
use crate::store::{self, Store, StoreError, Writer};
use crate::tenancy::{accounts, auth, tables};
use crate::wholesale::bills::WholesaleDay;
use crate::wholesale::shadows::ShadowLines;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Holds the redb file and the compile cache.
    pub data_dir: PathBuf,
    /// Rule modules to watch (an existing directory: see [`check_rules_dir`]);
    /// None serves the embedded defaults only.
    pub rules_dir: Option<PathBuf>,
    pub limits: Limits,
    /// Start with a settable clock at this time instead of the system clock.
    pub test_clock: Option<chrono::DateTime<chrono::Utc>>,
    /// The provider's API key for a new data directory (otherwise one is
    /// generated and shown once); at least [`auth::MIN_CHOSEN_SECRET`]
    /// characters. A store that already has a provider keeps its keys: a key
    /// given for it is never added, and if it is not one of the provider's
    /// live keys the daemon warns ([`Daemon::ignored_provider_key`]).
    pub provider_key: Option<String>,
    pub options: Options,
    /// Most jobs per write transaction; 1 disables group commit.
    pub max_batch: usize,
    /// Commits are fsync'd (the default). Off only for replay's scratch stores,
    /// which read and write through one open transaction on the caller's
    /// thread (`store::Session`), answering writes before their commit.
    pub durable: bool,
    /// Where compiled modules are cached; default `data_dir/compiled`, which
    /// reloads prune (a given directory may be shared, so it is not). Only
    /// ever a directory this process (or its replays) writes: cached code is
    /// trusted.
    pub cache_dir: Option<PathBuf>,
    /// The store's page cache, in MiB (`store::CACHE_MIB`).
    pub store_cache_mib: usize,
    /// How many connections, and how long each may wait or be slow.
    pub conn: ConnLimits,
    /// Serve HTTPS with this certificate and key (reloaded when they change
    /// on disk); None serves plain HTTP.
    pub tls: Option<TlsFiles>,
}

impl Config {
    /// Defaults for everything but where to listen and keep data.
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Config {
        Config {
            listen,
            data_dir,
            rules_dir: None,
            limits: Limits::default(),
            test_clock: None,
            provider_key: None,
            options: Options::default(),
            max_batch: Writer::DEFAULT_MAX_BATCH,
            durable: true,
            cache_dir: None,
            store_cache_mib: store::DEFAULT_CACHE_MIB,
            conn: ConnLimits::default(),
            tls: None,
        }
    }
}

/// How often the daemon checks whether a new day needs its daily job.
const DAILY_JOB_CHECK: std::time::Duration = std::time::Duration::from_secs(60);

/// How often old idempotency records are pruned.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Limits(#[from] LimitsError),
    #[error("creating the provider account: {0}")]
    Bootstrap(ApiError),
    #[error(transparent)]
    ProviderKey(#[from] auth::ChosenKeyError),
    #[error("the embedded default rules failed to load (a build problem): {0}")]
    Embedded(LoadError),
    #[error(transparent)]
    Runtime(LoadError),
    #[error("rules directory {path}: {detail}")]
    RulesDir { path: PathBuf, detail: String },
    /// A hook is bound to a file that is missing, does not load or does not
    /// export it (see [`Registry::unservable_bindings`]).
    #[error(
        "rules directory {path}: {}; refusing to start, since those hooks would be served \
         by the embedded default rules: add or fix the file, or change rules.toml",
        .errors.iter().map(|e| e.error.as_str()).collect::<Vec<_>>().join("; ")
    )]
    Rules {
        path: PathBuf,
        errors: Vec<rules::LoadFailure>,
    },
    #[error(transparent)]
    ConnLimits(#[from] ConnLimitsError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A built daemon: the app plus what must stay alive while it serves.
pub struct Daemon {
    pub app: Arc<App>,
    /// The provider key generated for a new data directory; shown once.
    pub generated_provider_key: Option<String>,
    /// Why `Config::provider_key` was ignored: the store already had a
    /// provider and the key is not one of its live keys (also logged as a
    /// warning at start).
    pub ignored_provider_key: Option<IgnoredKey>,
    _watcher: Option<notify::RecommendedWatcher>,
    conn: ConnLimits,
    /// HTTPS with its certificate watcher, when configured.
    tls: Option<Tls>,
    /// The periodic tasks (pruning, the daily job); they hold the app while
    /// they run, so [`Daemon::close`] stops them before letting go of it.
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Daemon {
    /// "https" when serving TLS, else "http": for the address printed at start.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Stop the periodic tasks and wait for them, then drop the daemon: once
    /// the caller's other handles on the app are gone too, the writer has
    /// finished and the store file is closed (another process may open it).
    pub async fn close(self) {
        for task in &self.background {
            task.abort();
        }
        for task in self.background {
            let _ = task.await;
        }
    }

    /// Build everything and do the first load of the rules directory. Must run
    /// inside a tokio runtime (the watcher spawns a task).
    pub fn build(config: &Config) -> Result<Daemon, StartError> {
        // Everything the config can get wrong is checked before the store is
        // opened or created: a refused start changes nothing.
        check_config(config)?;
        let tls = config.tls.as_ref().map(Tls::start).transpose()?;
        let registry = load_rules(config)?;
        let watcher = rules::watch(registry.clone()).map_err(|e| StartError::RulesDir {
            path: config.rules_dir.clone().unwrap_or_default(),
            detail: format!("cannot watch: {e}"),
        })?;
        let store = Store::open_cached(&config.data_dir, config.durable, config.store_cache_mib)?;
        let (generated_provider_key, ignored_provider_key) = provider_keys(&store, config)?;
        let test_start = prepare_store(&store, config)?;
        let test_clock = test_start.map(|start| Arc::new(TestClock::new(start)));
        // Without fsync there is nothing for group commit to share: a
        // scratch store writes in its session.
        let writer = Writer::for_store(&store, config.max_batch);
        let shadows = Arc::new(ShadowLines::new(registry.clone()));
        let vendor: Arc<dyn LicenseVendor> = Arc::new(Simulator);
        let licenses = Arc::new(FollowServers::new(registry.clone(), vendor));
        let app = Arc::new(App::new(
            registry,
            test_clock,
            store,
            writer,
            config.options.clone(),
            Domains {
                // Billing first: licenses renew only for servers still
                // active after it, and the wholesale step bills the day
                // before, whose lines are all recorded by then.
                daily_steps: vec![
                    Box::new(BillingDay),
                    Box::new(LicenseDay {
                        follow: licenses.clone(),
                    }),
                    Box::new(WholesaleDay),
                ],
                on_service_deleted: vec![Arc::new(ReleaseOnDelete), licenses.clone()],
                on_lines_recorded: vec![shadows],
                on_service_saved: vec![licenses],
            },
        ));
        let background = spawn_background(&app, config.durable);
        Ok(Daemon {
            app,
            generated_provider_key,
            ignored_provider_key,
            _watcher: watcher,
            conn: config.conn,
            tls,
            background,
        })
    }
}

/// Checks what a config can get wrong without touching anything: the rule
/// and connection limits, a chosen provider key and the rules directory.
fn check_config(config: &Config) -> Result<(), StartError> {
    config.limits.validate()?;
    config.conn.validate()?;
    if let Some(key) = &config.provider_key {
        auth::check_chosen_secret(key.trim())?;
    }
    if let Some(dir) = &config.rules_dir {
        check_rules_dir(dir)?;
    }
    Ok(())
}

/// The rule runtime, with its compile cache in the given directory or in
/// `data_dir/compiled` (pruned on reloads).
fn new_runtime(config: &Config) -> Result<Arc<Runtime>, StartError> {
    let runtime = match &config.cache_dir {
        // Given from outside: maybe shared with other daemons.
        Some(dir) => Runtime::new(config.limits, Some(dir.clone())),
        None => Runtime::new(config.limits, Some(config.data_dir.join("compiled")))
            .map(Runtime::pruning_cache),
    };
    Ok(Arc::new(runtime.map_err(StartError::Runtime)?))
}

/// Builds the rule registry over the embedded defaults and does the first
/// load of the rules directory, refusing to start if a bound hook cannot be
/// served; then prunes the compile cache.
fn load_rules(config: &Config) -> Result<Arc<Registry>, StartError> {
    let runtime = new_runtime(config)?;
    let default = runtime
        .load(
            rules::DEFAULT_MODULE_NAME,
            rules::DEFAULT_MODULE,
            ModuleSource::Embedded,
        )
        .map_err(StartError::Embedded)?;
    let registry = Arc::new(Registry::new(
        runtime,
        Arc::new(default),
        config.rules_dir.clone(),
    ));
    // The first load happens before the store is opened: a start refused
    // because a binding cannot be served leaves the store
    // untouched (and generates no provider key).
    registry.reload();
    if let Some(dir) = &config.rules_dir {
        let errors = registry.unservable_bindings();
        if !errors.is_empty() {
            return Err(StartError::Rules {
                path: dir.clone(),
                errors,
            });
        }
    }
    // The start is not refused for the rules: only now may the cache lose
    // what this configuration does not use.
    registry.prune_cache();
    Ok(registry)
}

/// Bootstraps the provider (see [`bootstrap_provider`]) and logs a warning
/// when the given provider key is ignored. Returns the generated key and why
/// the given one was ignored.
fn provider_keys(
    store: &Store,
    config: &Config,
) -> Result<(Option<String>, Option<IgnoredKey>), StartError> {
    let (generated_provider_key, ignored_provider_key) = bootstrap_provider(store, config)?;
    if let Some(why) = &ignored_provider_key {
        tracing::warn!(
            data_dir = %config.data_dir.display(),
            "the given provider key (--provider-key / RULESD_PROVIDER_KEY) is ignored: {why}"
        );
    }
    Ok((generated_provider_key, ignored_provider_key))
}

/// Works out where a test clock starts (see [`resume_test_clock`]), runs the
/// store's migrations and initializes the daily job for today. Returns the
/// test clock's start, if there is a test clock.
fn prepare_store(
    store: &Store,
    config: &Config,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, StartError> {
    let test_start = match config.test_clock {
        Some(start) => Some(resume_test_clock(store, start)?),
        None => None,
    };
    let today = test_start.unwrap_or_else(chrono::Utc::now).date_naive();
    store::migrations::run(store)?;
    daily::initialize(store, today)?;
    Ok(test_start)
}

/// Starts the periodic tasks (pruning, the daily job) for a durable store;
/// none for a scratch one.
fn spawn_background(app: &Arc<App>, durable: bool) -> Vec<tokio::task::JoinHandle<()>> {
    // A scratch store (a replay) has no periodic tasks: its test clock
    // moves only through the API, which runs the daily job itself, and a
    // task's writes would interleave with the steps at random.
    if durable {
        vec![
            spawn_pruning(Arc::downgrade(app)),
            spawn_daily_job(Arc::downgrade(app)),
        ]
    } else {
        Vec::new()
    }
}

/// A rules directory must already exist: one created for a mistyped path
/// would be empty, so the daemon (or a replay testing a candidate) would run
/// on the embedded defaults and look like a success.
pub fn check_rules_dir(dir: &Path) -> Result<(), StartError> {
    let detail = match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(_) => "is not a directory".to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist".to_string(),
        Err(e) => e.to_string(),
    };
    Err(StartError::RulesDir {
        path: dir.to_path_buf(),
        detail,
    })
}

/// Why a provider key given for a store that already has a provider was
/// ignored. The key only bootstraps a new data directory: adding it to an
/// existing store would let whoever sets the daemon's environment mint a
/// provider key outside the API, so it is never added (keys are managed
/// through `/v1/api-keys`); saying so keeps a mistyped or stale key from
/// failing later as a puzzling 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IgnoredKey {
    #[error(
        "the store already has a provider and this is not one of its keys; \
         it was not added (manage keys with /v1/api-keys)"
    )]
    Unknown,
    #[error("it is a key of this store but was revoked; it stays revoked")]
    Revoked,
    #[error("it is a reseller's key of this store, not the provider's")]
    NotProvider,
}

/// Create the provider account with its key on a new data directory.
/// Returns the key if it was generated (the caller shows it once), and on a
/// store that already has a provider, why a given key was ignored.
fn bootstrap_provider(
    store: &Store,
    config: &Config,
) -> Result<(Option<String>, Option<IgnoredKey>), StartError> {
    let given = config.provider_key.as_deref().map(str::trim);
    if tables::has_provider(store).map_err(StartError::Bootstrap)? {
        let Some(given) = given else {
            return Ok((None, None));
        };
        let ignored = match auth::find_key(store, given)? {
            None => Some(IgnoredKey::Unknown),
            Some(key) if key.revoked_at.is_some() => Some(IgnoredKey::Revoked),
            Some(key) if key.role != crate::domain::accounts::Role::Provider => {
                Some(IgnoredKey::NotProvider)
            }
            Some(_) => None,
        };
        return Ok((None, ignored));
    }
    let (secret, generated) = match given {
        Some(key) => (key.to_string(), false),
        None => (auth::generate_secret(), true),
    };
    let now = config.test_clock.unwrap_or_else(chrono::Utc::now);
    let txn = store.begin_write()?;
    accounts::create_provider(&txn, &secret, now).map_err(StartError::Bootstrap)?;
    txn.commit().map_err(StoreError::from)?;
    Ok((generated.then_some(secret), None))
}

/// Where a test clock starts on `store`: at `start`, unless the store's daily
/// job already ran for a later day (a restart with the same `--test-clock`
/// after the clock was moved on). Time never goes back for what is stored:
/// the clock then resumes at the first instant of that day, and the daily job
/// would otherwise do nothing until the clock caught up, leaving services
/// ordered meanwhile uncharged.
fn resume_test_clock(
    store: &Store,
    start: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, StartError> {
    match daily::last_day(store)? {
        Some(last) if start.date_naive() < last => {
            let resumed = daily::start_of(last);
            tracing::warn!(
                %start,
                %resumed,
                "the store's daily job already ran through {last}: the test clock resumes there instead of going back"
            );
            Ok(resumed)
        }
        _ => Ok(start),
    }
}

fn spawn_pruning(app: std::sync::Weak<App>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PRUNE_EVERY);
        loop {
            every.tick().await;
            let Some(app) = app.upgrade() else { return };
            match app.prune_idempotency().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(records = n, "pruned old idempotency records"),
                Err(e) => tracing::warn!(error = %e, "pruning idempotency records failed"),
            }
        }
    })
}

/// Run the daily job for today on the daemon's clock, at start and then every
/// minute (it does nothing for a day already done). Under a test clock the
/// job also runs whenever the clock is moved.
fn spawn_daily_job(app: std::sync::Weak<App>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(DAILY_JOB_CHECK);
        loop {
            every.tick().await;
            let Some(app) = app.upgrade() else { return };
            let today = app.clock.now().date_naive();
            match app.run_daily_jobs(today).await {
                Ok(r) if r.days.is_empty() => {}
                Ok(r) => tracing::info!(
                    days = r.days.len(),
                    charged = r.charged,
                    suspended = r.suspended,
                    deleted = r.deleted,
                    failed = r.failed,
                    "daily job done"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "the daily job failed; it runs again in a minute")
                }
            }
        }
    })
}

/// Bind the listener. Separate from [`serve`] so callers learn the real address
/// (tests listen on port 0).
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, StartError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })
}

/// Serve until `shutdown` resolves; in-flight requests are allowed to finish.
/// HTTPS if the daemon was built with a certificate, plain HTTP otherwise.
pub async fn serve(
    daemon: &Daemon,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    if daemon.tls.is_none() && !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "serving plain HTTP on a non-loopback address: API keys and money cross the network \
             unencrypted; give --tls-cert and --tls-key, or listen on 127.0.0.1 behind a TLS proxy"
        );
    }
    let mut limits = daemon.conn;
    let files = net::fdlimit::raise();
    limits.max_connections = net::fdlimit::fit(limits.max_connections, files);
    if limits.max_connections < daemon.conn.max_connections {
        tracing::warn!(
            wanted = daemon.conn.max_connections,
            max_connections = limits.max_connections,
            "the connection limit is lowered to fit under the open-files limit"
        );
    }
    tracing::info!(
        max_connections = limits.max_connections,
        open_files_soft = files.map(|f| f.soft),
        open_files_hard = files.map(|f| f.hard),
        header_read_timeout_ms = limits.header_read_timeout.as_millis() as u64,
        body_read_timeout_ms = limits.body_read_timeout.as_millis() as u64,
        idle_timeout_ms = limits.idle_timeout.as_millis() as u64,
        tls = daemon.tls.is_some(),
        "connection limits"
    );
    let router = crate::http::router(daemon.app.clone());
    net::serve(
        listener,
        router,
        daemon.tls.as_ref().map(Tls::acceptor),
        limits,
        shutdown,
    )
    .await;
    Ok(())
}
