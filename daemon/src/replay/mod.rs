//! The replay harness: billing scenarios (TOML) run in-process against chosen
//! rule modules on a virtual clock, with expectations on every step. See
//! docs/scenarios.md for the format.

mod matcher;
mod run;
mod scenario;

pub use matcher::Mismatch;
pub use run::{Failure, Outcome, Problem, ReplayError, RunOptions, check_keep_data, run};
pub use scenario::{Expect, Scenario, ScenarioError, Step};

use serde::Serialize;
use std::path::{Path, PathBuf};

/// The scenario files named: files as given, directories searched
/// recursively for `*.toml`, in name order. A directory without any is an
/// error: a mistyped or empty directory must not pass as "0 scenarios, all ok".
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = out.len();
            walk(path, &mut out)?;
            if out.len() == before {
                return Err(ScenarioError {
                    file: path.clone(),
                    line: 0,
                    message: "no scenario files (*.toml) in this directory".into(),
                });
            }
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ScenarioError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ScenarioError {
            file: dir.into(),
            line: 0,
            message: format!("cannot read the directory: {e}"),
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// What became of one scenario file, as `rulesd replay --json` prints it:
/// every file named appears, including those that could not run, tagged by
/// `status`.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Report {
    /// It ran and every expectation held.
    Ok(Outcome),
    /// It ran and stopped at the failing step in `failure`.
    Fail(Outcome),
    /// It could not run: the file does not parse or cannot be read, a bound
    /// module does not load, the store could not be set up.
    Error {
        file: PathBuf,
        /// The line the problem is on, when it is tied to one.
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<usize>,
        message: String,
    },
}

impl Report {
    /// The report of `file`, from loading and running it.
    pub fn new(file: &Path, result: Result<Outcome, ReplayError>) -> Report {
        match result {
            Ok(o) if o.failure.is_some() => Report::Fail(o),
            Ok(o) => Report::Ok(o),
            Err(ReplayError::Scenario(e)) => Report::Error {
                file: e.file,
                line: (e.line > 0).then_some(e.line),
                message: e.message,
            },
            Err(e) => Report::Error {
                file: file.to_path_buf(),
                line: None,
                message: e.to_string(),
            },
        }
    }
}

/// A failure as text a person reads: the step, its line, and each field
/// expected and found.
pub fn describe(failure: &Failure) -> String {
    let mut s = format!(
        "  {} (line {}) {} at {}\n",
        failure.step,
        failure.line,
        failure.op,
        failure
            .at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    match &failure.problem {
        Problem::Status {
            expected,
            actual,
            body,
        } => {
            s.push_str(&format!("    status: expected {expected}, got {actual}\n"));
            if let Some(detail) = body.get("detail").and_then(|d| d.as_str()) {
                s.push_str(&format!("    detail: {detail}\n"));
            }
        }
        Problem::Error { expected, actual } => s.push_str(&format!(
            "    error kind: expected {expected:?}, got {}\n",
            actual
                .as_deref()
                .map_or("none".into(), |a| format!("{a:?}"))
        )),
        Problem::Fields { mismatches } => {
            for m in mismatches {
                s.push_str(&format!(
                    "    {}: expected {}, got {}\n",
                    m.path,
                    m.expected,
                    m.actual
                        .as_ref()
                        .map_or_else(|| "nothing (missing)".into(), |a| a.to_string())
                ));
            }
        }
        Problem::Reference { message } => s.push_str(&format!("    {message}\n")),
    }
    s
}
