//! Wiring: build the runtime, registry, store and app from a [`Config`], then
//! serve HTTP until shutdown.

use crate::api::App;
use crate::clock::{Clock, SystemClock, TestClock};
use crate::rules::{self, Registry};
use crate::runtime::{Limits, LoadError, ModuleSource, Runtime};
use crate::store::{Store, StoreError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Holds the redb file and the compile cache.
    pub data_dir: PathBuf,
    /// Rule modules to watch; None serves the embedded defaults only.
    pub rules_dir: Option<PathBuf>,
    pub limits: Limits,
    /// Start with a settable clock at this time instead of the system clock.
    pub test_clock: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the embedded default rules failed to load (a build problem): {0}")]
    Embedded(LoadError),
    #[error(transparent)]
    Runtime(LoadError),
    #[error("rules directory {path}: {detail}")]
    RulesDir { path: PathBuf, detail: String },
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
    pub store: Store,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Daemon {
    /// Build everything and do the first load of the rules directory. Must run
    /// inside a tokio runtime (the watcher spawns a task).
    pub fn build(config: &Config) -> Result<Daemon, StartError> {
        let store = Store::open(&config.data_dir)?;
        let runtime = Arc::new(
            Runtime::new(config.limits, Some(config.data_dir.join("compiled")))
                .map_err(StartError::Runtime)?,
        );
        let default = runtime
            .load(
                rules::DEFAULT_MODULE_NAME,
                rules::DEFAULT_MODULE,
                ModuleSource::Embedded,
            )
            .map_err(StartError::Embedded)?;
        if let Some(dir) = &config.rules_dir {
            std::fs::create_dir_all(dir).map_err(|e| StartError::RulesDir {
                path: dir.clone(),
                detail: e.to_string(),
            })?;
        }
        let registry = Arc::new(Registry::new(
            runtime,
            Arc::new(default),
            config.rules_dir.clone(),
        ));
        registry.reload();
        let watcher = rules::watch(registry.clone()).map_err(|e| StartError::RulesDir {
            path: config.rules_dir.clone().unwrap_or_default(),
            detail: format!("cannot watch: {e}"),
        })?;
        let clock: Arc<dyn Clock> = match config.test_clock {
            Some(start) => Arc::new(TestClock::new(start)),
            None => Arc::new(SystemClock),
        };
        Ok(Daemon {
            app: Arc::new(App::new(registry, clock)),
            store,
            _watcher: watcher,
        })
    }
}

/// Bind the listener. Separate from [`serve`] so callers learn the real address
/// (tests listen on port 0).
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, StartError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })
}

/// Serve until `shutdown` resolves; in-flight requests are allowed to finish.
pub async fn serve(
    daemon: &Daemon,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, crate::http::router(daemon.app.clone()))
        .with_graceful_shutdown(shutdown)
        .await
}
