//! Hot reload: watch the rules directory and rescan it after a burst of changes.
//!
//! The directory is watched, not the files: editors and deploy tools often write
//! a temporary file and rename it over the old one, which replaces the inode a
//! per-file watch would be attached to. Any event in the directory schedules a
//! full rescan once the directory has been quiet for [`DEBOUNCE`]; the rescan
//! compares sha256s, so unchanged modules cost a hash and nothing more.

use super::Registry;
use notify::{RecursiveMode, Watcher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Quiet time after the last event before a rescan.
pub const DEBOUNCE: Duration = Duration::from_millis(50);

/// Start watching the registry's rules directory. Dropping the returned watcher
/// stops it. The rescans run on tokio's blocking pool.
pub fn watch(registry: Arc<Registry>) -> notify::Result<Option<notify::RecommendedWatcher>> {
    let Some(dir) = registry.dir().map(|d| d.to_path_buf()) else {
        return Ok(None);
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        use notify::event::{AccessKind, AccessMode, EventKind};
        match event {
            // Our own rescans open and read the files: ignore reads, or every
            // rescan would schedule the next. A finished write still counts.
            Ok(e) if matches!(e.kind, EventKind::Access(a) if a != AccessKind::Close(AccessMode::Write)) =>
                {}
            Ok(_) => {
                let _ = tx.send(());
            }
            Err(e) => tracing::warn!(error = %e, "rules directory watch error"),
        }
    })?;
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Debounce: wait until no event has arrived for DEBOUNCE.
            while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
            let registry = registry.clone();
            let reloaded = move || {
                registry.reload();
                registry.prune_cache();
            };
            if let Err(e) = tokio::task::spawn_blocking(reloaded).await {
                tracing::error!(error = %e, "rules reload task failed");
            }
        }
    });
    Ok(Some(watcher))
}
