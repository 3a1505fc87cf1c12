//! A durable daemon serving HTTP on an ephemeral port, for the benches that
//! measure through HTTP.

use rulesd::server::{self, Config, Daemon};
use std::sync::Arc;

/// The provider key of every served bench daemon.
pub const KEY: &str = "rk_bench_provider_key";

pub struct Served {
    pub daemon: Arc<Daemon>,
    pub base: String,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _data: tempfile::TempDir,
}

/// The multi-threaded runtime the serving benches run on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A daemon on a new store in a temporary directory, with [`KEY`] and
/// `configure` applied to its configuration.
pub async fn serve_with(configure: impl FnOnce(&mut Config)) -> Served {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.provider_key = Some(KEY.into());
    configure(&mut config);
    let daemon = Arc::new(Daemon::build(&config).unwrap());
    let listener = server::bind(config.listen).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let d = daemon.clone();
    let task = tokio::spawn(async move {
        server::serve(&d, listener, async {
            let _ = stopped.await;
        })
        .await
    });
    Served {
        daemon,
        base,
        shutdown,
        task,
        _data: data,
    }
}

impl Served {
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        self.task.await.unwrap().unwrap();
        drop(self.daemon);
    }
}
