//! `POST /v1/rules/diff`: how a candidate module would have decided the
//! stored history, computed by a running daemon. The diff reads one redb
//! snapshot (readers never block the writer) on the blocking pool and streams
//! its findings as they come.

use crate::app::{ApiError, App, Caller};
use crate::ops::diff::{DiffOptions, DiffReport, Difference, diff};
use crate::runtime::ModuleSource;
use serde::Serialize;
use tokio::sync::mpsc;

/// One line of the streamed report: each difference, then the summary.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum DiffEvent {
    Difference(Box<Difference>),
    Summary(Box<DiffReport>),
    /// The diff stopped (the store failed); what was streamed stands.
    Error {
        detail: String,
    },
}

impl App {
    /// Compile `wasm` as a candidate and start diffing; the receiver yields
    /// the report as it is made. Errors in the module itself come back here,
    /// before anything is streamed.
    pub async fn diff_rules(
        &self,
        caller: &Caller,
        wasm: Vec<u8>,
        options: DiffOptions,
    ) -> Result<mpsc::Receiver<DiffEvent>, ApiError> {
        caller.require_provider()?;
        let runtime = self.registry.runtime().clone();
        let candidate = tokio::task::spawn_blocking(move || {
            runtime.load("candidate", &wasm, ModuleSource::Embedded)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("compiling the candidate failed: {e}")))?
        .map_err(|e| ApiError::Invalid(crate::domain::invalid::invalid("module", e.to_string())))?;
        let (tx, rx) = mpsc::channel(64);
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let result = diff(&store, &candidate, &options, |d| {
                let _ = tx.blocking_send(DiffEvent::Difference(Box::new(d.clone())));
            });
            let last = match result {
                Ok(report) => DiffEvent::Summary(Box::new(report)),
                Err(e) => DiffEvent::Error {
                    detail: e.to_string(),
                },
            };
            let _ = tx.blocking_send(last);
        });
        Ok(rx)
    }
}
