//! Running one scenario in-process: a scratch store, a test clock that jumps
//! to each step's time (the daily job runs for the days passed), and every
//! step sent through the daemon's own HTTP router without a socket, so a
//! scenario exercises exactly what the API does.

use super::matcher::{Mismatch, Saved, compare};
use super::scenario::{Scenario, ScenarioError, Step};
use crate::app::Caller;
use crate::http::problem::PROBLEM_URN;
use crate::ops::clock::ClockState;
use crate::server::{Config, Daemon};
use axum::body::Body;
use axum::http::{Request, header};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// The provider key of every scratch store (long enough for the check on
/// chosen keys).
const KEY: &str = "rk_replay_provider_key";

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Serve every hook from this rules directory instead of the scenario's bindings.
    pub rules_dir: Option<PathBuf>,
    /// Keep the store here (a new or empty directory, see
    /// [`check_keep_data`]) instead of a temporary one, e.g. to run
    /// `rulesd diff` on it afterwards.
    pub data_dir: Option<PathBuf>,
    /// A compile cache shared by the scenarios of one run (a directory this
    /// process created), so each module is compiled once, not per scenario.
    pub cache_dir: Option<PathBuf>,
    /// Advanced by one per step run (a hidden bar when not on a terminal).
    pub progress: Option<indicatif::ProgressBar>,
}

/// What went wrong at a step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Problem {
    Status {
        expected: String,
        actual: u16,
        body: Value,
    },
    Error {
        expected: String,
        actual: Option<String>,
    },
    Fields {
        mismatches: Vec<Mismatch>,
    },
    Reference {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// "setup 2" or "step 5".
    pub step: String,
    pub line: usize,
    pub op: String,
    pub at: DateTime<Utc>,
    pub problem: Problem,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub file: PathBuf,
    pub name: String,
    /// Steps run (setup included).
    pub steps: usize,
    pub elapsed_ms: f64,
    /// The first failing step; the scenario stops there.
    pub failure: Option<Failure>,
}

/// Why a scenario could not be run at all (as opposed to failing).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("{0}")]
    Setup(String),
    /// The directory to keep the store in is not new (see [`check_keep_data`]).
    #[error("cannot keep the store in {path}: {detail}")]
    KeepData { path: PathBuf, detail: String },
}

/// The directory a replay keeps its store in must be new or empty: a replay
/// into an existing store would start from that store's history (failing
/// confusingly and changing it), and a daemon's data directory would be
/// written by a scenario.
pub fn check_keep_data(dir: &Path) -> Result<(), ReplayError> {
    let refuse = |detail: String| ReplayError::KeepData {
        path: dir.to_path_buf(),
        detail,
    };
    match std::fs::read_dir(dir).map(|mut entries| entries.next().is_none()) {
        Ok(true) => Ok(()),
        Ok(false) => Err(refuse(
            "the directory exists and is not empty; name a new directory".into(),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if !dir.is_dir() => Err(refuse("it exists and is not a directory".into())),
        Err(e) => Err(refuse(e.to_string())),
    }
}

/// A rules directory holding the scenario's bound modules and a manifest.
fn bindings_dir(scenario: &Scenario, dir: &Path) -> Result<(), ReplayError> {
    let mut manifest = String::from("[hooks]\n");
    for (hook, path) in &scenario.rules {
        let file = format!("{}.wasm", hook.name());
        std::fs::copy(path, dir.join(&file)).map_err(|e| ScenarioError {
            file: scenario.file.clone(),
            line: 0,
            message: format!("rules.{hook}: cannot read {}: {e}", path.display()),
        })?;
        manifest.push_str(&format!("{} = \"{file}\"\n", hook.name()));
    }
    std::fs::write(dir.join(crate::rules::manifest::FILE_NAME), manifest)
        .map_err(|e| ReplayError::Setup(format!("cannot write the rules manifest: {e}")))
}

struct Runner {
    daemon: Daemon,
    /// The provider, as `KEY` authenticates.
    provider: Caller,
    router: axum::Router,
    saved: Saved,
    now: DateTime<Utc>,
}

impl Runner {
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        key: &str,
    ) -> Result<(u16, axum::body::Bytes), String> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {key}"));
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(v).map_err(|e| e.to_string())?)
            }
            None => Body::empty(),
        };
        let req = req.body(body).map_err(|e| format!("bad request: {e}"))?;
        let response = self
            .router
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| format!("reading the response failed: {e}"))?;
        Ok((status, bytes))
    }

    /// Move the clock (and run the daily job for the days passed) through
    /// the in-process API `POST /v1/clock` calls: it happens before nearly
    /// every step, and going through the router and JSON for it cost more
    /// than some steps themselves.
    async fn advance(&mut self, to: DateTime<Utc>) -> Result<(), String> {
        if to > self.now {
            self.daemon
                .app
                .set_clock(&self.provider, ClockState { now: to })
                .await
                .map_err(|e| format!("moving the clock to {to} failed: {e}"))?;
            self.now = to;
        }
        Ok(())
    }

    async fn step(&mut self, step: &Step) -> Result<(), Problem> {
        let reference = |message: String| Problem::Reference { message };
        if let Some(at) = step.at {
            self.advance(at).await.map_err(reference)?;
        }
        let path = self.saved.resolve_path(&step.path).map_err(reference)?;
        let body = match &step.body {
            Some(b) => Some(self.saved.resolve(b).map_err(reference)?),
            None => None,
        };
        let key = match &step.key {
            Some(k) => self.saved.resolve_path(k).map_err(reference)?,
            None => KEY.to_string(),
        };
        let (status, bytes) = self
            .send(&step.method, &path, body.as_ref(), &key)
            .await
            .map_err(reference)?;
        // No status named: a success, or any error if an error kind is named.
        let status_ok = match (step.expect.status, &step.expect.error) {
            (Some(s), _) => s == status,
            (None, None) => (200..300).contains(&status),
            (None, Some(_)) => status >= 400,
        };
        if !status_ok {
            return Err(Problem::Status {
                expected: match (step.expect.status, &step.expect.error) {
                    (Some(s), _) => s.to_string(),
                    (None, None) => "2xx".into(),
                    (None, Some(_)) => "an error (4xx or 5xx)".into(),
                },
                actual: status,
                body: parse_body(&bytes),
            });
        }
        // Most steps check only the status: the body is parsed only when
        // something looks at it.
        if step.expect.error.is_none() && step.expect.body.is_none() && step.save.is_none() {
            return Ok(());
        }
        let actual = parse_body(&bytes);
        if let Some(kind) = &step.expect.error {
            // A problem document names its kind in `type`, as a URN; the
            // scenario may give the URN or just its last part.
            let got = actual
                .get("type")
                .and_then(Value::as_str)
                .map(|t| t.strip_prefix(PROBLEM_URN).unwrap_or(t));
            let wanted = kind.strip_prefix(PROBLEM_URN).unwrap_or(kind);
            if got != Some(wanted) {
                return Err(Problem::Error {
                    expected: kind.clone(),
                    actual: got.map(str::to_string),
                });
            }
        }
        if let Some(expected) = &step.expect.body {
            let expected = self.saved.resolve(expected).map_err(reference)?;
            let mismatches = compare(&expected, &actual);
            if !mismatches.is_empty() {
                return Err(Problem::Fields { mismatches });
            }
        }
        if let Some(name) = &step.save {
            self.saved.insert(name.clone(), actual);
        }
        Ok(())
    }
}

/// Run one scenario to its end or its first failing step.
pub async fn run(scenario: &Scenario, options: &RunOptions) -> Result<Outcome, ReplayError> {
    let started = Instant::now();
    if let Some(dir) = &options.data_dir {
        check_keep_data(dir)?;
    }
    let scratch = tempfile::tempdir()
        .map_err(|e| ReplayError::Setup(format!("no temporary directory: {e}")))?;
    let daemon = start(scenario, options, scratch.path())?;
    let provider = daemon
        .app
        .authenticate(Some(KEY))
        .map_err(|e| ReplayError::Setup(format!("the replay provider key: {e}")))?;
    let mut runner = Runner {
        provider,
        router: crate::http::router(daemon.app.clone()),
        daemon,
        saved: Saved::default(),
        now: scenario.start,
    };
    let (steps, failure) = runner.all_steps(scenario, options).await;
    runner
        .daemon
        .app
        .store
        .flush()
        .map_err(|e| ReplayError::Setup(format!("cannot flush the store: {e}")))?;
    // Close the store before returning, so the data directory can be opened
    // at once (by `rulesd diff`, for one).
    let Runner { daemon, router, .. } = runner;
    drop(router);
    daemon.close().await;
    Ok(Outcome {
        file: scenario.file.clone(),
        name: scenario.name.clone(),
        steps,
        elapsed_ms: duration_ms(started.elapsed()),
        failure,
    })
}

/// A daemon for the scenario on the test clock, its data and rules in
/// `scratch` unless the options name directories.
fn start(scenario: &Scenario, options: &RunOptions, scratch: &Path) -> Result<Daemon, ReplayError> {
    let data_dir = options
        .data_dir
        .clone()
        .unwrap_or_else(|| scratch.join("data"));
    let rules_dir = match &options.rules_dir {
        Some(dir) => dir.clone(),
        None => {
            let dir = scratch.join("rules");
            std::fs::create_dir_all(&dir)
                .map_err(|e| ReplayError::Setup(format!("cannot create {}: {e}", dir.display())))?;
            bindings_dir(scenario, &dir)?;
            dir
        }
    };
    let mut config = Config::new(([127, 0, 0, 1], 0).into(), data_dir);
    config.rules_dir = Some(rules_dir);
    config.test_clock = Some(scenario.start);
    config.provider_key = Some(KEY.into());
    config.durable = false;
    config.cache_dir = options.cache_dir.clone();
    let daemon = Daemon::build(&config).map_err(|e| ReplayError::Setup(e.to_string()))?;
    if let Some(error) = daemon.app.registry.report().errors.first() {
        return Err(ReplayError::Setup(format!(
            "{}: the rules directory has a problem: {}: {}",
            scenario.file.display(),
            error.file,
            error.error
        )));
    }
    Ok(daemon)
}

impl Runner {
    /// The setup, then the steps, up to the first that fails: how many ran,
    /// and the failure.
    async fn all_steps(
        &mut self,
        scenario: &Scenario,
        options: &RunOptions,
    ) -> (usize, Option<Failure>) {
        let labelled = scenario
            .setup
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("setup {}", i + 1), s))
            .chain(
                scenario
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (format!("step {}", i + 1), s)),
            );
        let mut steps = 0;
        for (label, step) in labelled {
            steps += 1;
            if let Some(bar) = &options.progress {
                bar.inc(1);
            }
            if let Err(problem) = self.step(step).await {
                let failure = Failure {
                    step: label,
                    line: step.line,
                    op: format!("{} {}", step.method, step.path),
                    at: self.now,
                    problem,
                };
                return (steps, Some(failure));
            }
        }
        (steps, None)
    }
}

/// A response body as JSON; a body that is not JSON as a string, and an
/// empty one as null.
fn parse_body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into()))
    }
}

fn duration_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}
