//! The scenario file format (TOML) and its parser. Every error names the file,
//! the line and the problem. The format is documented in docs/scenarios.md.

use crate::contract::hook::Hook;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A scenario file that cannot be run: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is not tied to a line (an unreadable file).
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file.display(), self.message),
            line => write!(f, "{}:{line}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// One API call: at a time, with a body, an optional name for its response,
/// and what the response must contain.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Line of the step in its file.
    pub line: usize,
    /// None: at the time of the previous step (setup steps: the start).
    pub at: Option<DateTime<Utc>>,
    pub method: String,
    /// The path with `${name.field}` references still in it.
    pub path: String,
    pub body: Option<serde_json::Value>,
    pub save: Option<String>,
    /// The API key to send, with `${name.field}` references (e.g. a
    /// reseller's `"${a.api_key}"`); None: the provider's.
    pub key: Option<String>,
    pub expect: Expect,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expect {
    /// Default: any 2xx.
    pub status: Option<u16>,
    /// The problem kind of an error response (its `kind` field).
    pub error: Option<String>,
    /// A partial JSON body: only the fields named are compared.
    pub body: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub file: PathBuf,
    pub name: String,
    pub start: DateTime<Utc>,
    /// Hook -> module file, resolved against the scenario's directory.
    pub rules: BTreeMap<Hook, PathBuf>,
    pub setup: Vec<Step>,
    pub steps: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    start: Spanned<When>,
    #[serde(default)]
    rules: BTreeMap<Hook, Spanned<String>>,
    #[serde(default)]
    setup: Vec<Spanned<RawStep>>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    at: Option<Spanned<When>>,
    op: Spanned<String>,
    #[serde(default)]
    body: Option<toml::Value>,
    #[serde(default)]
    save: Option<String>,
    #[serde(default)]
    key: Option<String>,
    /// Act as the account saved under this name (its `api_key`).
    #[serde(default, rename = "as")]
    act_as: Option<String>,
    #[serde(default)]
    expect: Option<RawExpect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    body: Option<toml::Value>,
}

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

/// Line numbers (1-based) of byte offsets, from a table of line starts built
/// once: counting newlines from the top for every step made parsing a large
/// scenario quadratic.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        Lines(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    fn of(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

/// A time written as a TOML datetime or as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum When {
    Datetime(toml::value::Datetime),
    Text(String),
}

fn instant(value: &When) -> Result<DateTime<Utc>, String> {
    let text = match value {
        When::Datetime(d) => d.to_string(),
        When::Text(t) => t.clone(),
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "{text} is not a full RFC 3339 instant with a time zone, e.g. 2026-07-01T00:00:00Z"
            )
        })
}

/// TOML to JSON, for bodies: same shape, strings stay strings.
fn json(value: toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => serde_json::Value::String(s),
        toml::Value::Integer(i) => serde_json::Value::from(i),
        toml::Value::Float(f) => serde_json::Value::from(f),
        toml::Value::Boolean(b) => serde_json::Value::Bool(b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(json).collect()),
        toml::Value::Table(t) => {
            serde_json::Value::Object(t.into_iter().map(|(k, v)| (k, json(v))).collect())
        }
    }
}

impl Scenario {
    pub fn load(file: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(file).map_err(|e| ScenarioError {
            file: file.into(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        Scenario::parse(file, &text)
    }

    pub fn parse(file: &Path, text: &str) -> Result<Scenario, ScenarioError> {
        let source = Source {
            file,
            lines: Lines::new(text),
        };
        let raw = source.toml(text)?;
        let start =
            instant(raw.start.get_ref()).map_err(|m| source.error(Some(raw.start.span()), m))?;
        let rules = source.rules(raw.rules)?;
        let setup = source.steps(raw.setup, true, start)?;
        let steps = source.steps(raw.step, false, start)?;
        if steps.is_empty() && setup.is_empty() {
            return Err(source.error(None, "the scenario has no [[setup]] or [[step]]".into()));
        }
        Ok(Scenario {
            file: file.into(),
            name: raw.name,
            start,
            rules,
            setup,
            steps,
        })
    }
}

/// The scenario file being parsed: its path and line table, to say where an
/// error is.
struct Source<'a> {
    file: &'a Path,
    lines: Lines,
}

impl Source<'_> {
    /// An error at the line of `span` (no line without one).
    fn error(&self, span: Option<Range<usize>>, message: String) -> ScenarioError {
        ScenarioError {
            file: self.file.into(),
            line: span.map_or(0, |s| self.lines.of(s.start)),
            message,
        }
    }

    /// Reads the file's TOML into its raw shape.
    fn toml(&self, text: &str) -> Result<RawScenario, ScenarioError> {
        toml::from_str(text).map_err(|e| {
            // toml's message repeats the source line; keep its first line.
            let message = e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .to_string();
            self.error(e.span(), message)
        })
    }

    /// Resolves each hook's module file against the scenario's directory and
    /// checks that it exists.
    fn rules(
        &self,
        raw: BTreeMap<Hook, Spanned<String>>,
    ) -> Result<BTreeMap<Hook, PathBuf>, ScenarioError> {
        let base = self.file.parent().unwrap_or(Path::new("."));
        let mut rules = BTreeMap::new();
        for (hook, path) in raw {
            let full = base.join(path.get_ref());
            if !full.is_file() {
                return Err(self.error(
                    Some(path.span()),
                    format!("rules.{hook}: no module file {}", full.display()),
                ));
            }
            rules.insert(hook, full);
        }
        Ok(rules)
    }

    /// Parses the `[[setup]]` (`setup`) or `[[step]]` steps, checking that
    /// setup steps name no time and that time never goes backwards from
    /// `start`.
    fn steps(
        &self,
        raw: Vec<Spanned<RawStep>>,
        setup: bool,
        start: DateTime<Utc>,
    ) -> Result<Vec<Step>, ScenarioError> {
        let mut out = Vec::with_capacity(raw.len());
        let mut last = start;
        // Whether a step before this one named its time.
        let mut timed = false;
        for spanned in raw {
            let span = spanned.span();
            let step = spanned.into_inner();
            let line = self.lines.of(span.start);
            let at = match &step.at {
                None => None,
                Some(_) if setup => {
                    return Err(self.error(
                        Some(span),
                        "setup runs at the scenario's start; move timed calls to [[step]]".into(),
                    ));
                }
                Some(at) => Some(self.step_time(at, &mut last, &mut timed)?),
            };
            out.push(self.step(line, at, step)?);
        }
        Ok(out)
    }

    /// The time a step names, which must not be before `last` (the previous
    /// timed step's, or the start when `timed` is false); both are advanced.
    fn step_time(
        &self,
        at: &Spanned<When>,
        last: &mut DateTime<Utc>,
        timed: &mut bool,
    ) -> Result<DateTime<Utc>, ScenarioError> {
        let t = instant(at.get_ref()).map_err(|m| self.error(Some(at.span()), m))?;
        if t < *last {
            let before = if *timed {
                "the previous step's"
            } else {
                "the scenario's start,"
            };
            return Err(self.error(
                Some(at.span()),
                format!("time goes backwards: {t} is before {before} {last}"),
            ));
        }
        *last = t;
        *timed = true;
        Ok(t)
    }

    /// Builds a step from its raw form, at `line` and time `at`, splitting its
    /// operation into a known method and a path.
    fn step(
        &self,
        line: usize,
        at: Option<DateTime<Utc>>,
        step: RawStep,
    ) -> Result<Step, ScenarioError> {
        let op = step.op.get_ref();
        let (method, path) = op
            .split_once(' ')
            .filter(|(m, p)| METHODS.contains(m) && p.starts_with('/'))
            .ok_or_else(|| {
                self.error(
                    Some(step.op.span()),
                    format!(
                        "unknown operation {op:?}: write it as METHOD /path, e.g. \"POST /v1/services\" (methods: {})",
                        METHODS.join(", ")
                    ),
                )
            })?;
        let key = match (step.key, step.act_as) {
            (Some(_), Some(_)) => {
                return Err(self.error(
                    Some(step.op.span()),
                    "a step names either `key` or `as` (the saved account whose key it uses), not both"
                        .into(),
                ));
            }
            (None, Some(name)) if name.is_empty() || name.contains(['.', '$', '{', '}']) => {
                return Err(self.error(
                    Some(step.op.span()),
                    format!("`as = {name:?}` must be the name a setup step saved an account under"),
                ));
            }
            (None, Some(name)) => Some(format!("${{{name}.api_key}}")),
            (key, None) => key,
        };
        let expect = step.expect.map_or_else(Expect::default, |e| Expect {
            status: e.status,
            error: e.error,
            body: e.body.map(json),
        });
        Ok(Step {
            line,
            at,
            method: method.to_string(),
            path: path.trim().to_string(),
            body: step.body.map(json),
            save: step.save,
            key,
            expect,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse(Path::new("s.toml"), text)
    }

    #[test]
    fn a_step_acts_as_a_saved_account_by_its_key() {
        let head = "name = \"x\"\nstart = 2026-07-01T00:00:00Z\n[[setup]]\nop = \"POST /v1/resellers\"\nbody = { name = \"acme\" }\nsave = \"acme\"\n";
        let s = parse(&format!(
            "{head}[[step]]\nop = \"GET /v1/clients\"\nas = \"acme\"\n"
        ))
        .unwrap();
        assert_eq!(s.steps[0].key.as_deref(), Some("${acme.api_key}"));
        let err = parse(&format!(
            "{head}[[step]]\nop = \"GET /v1/clients\"\nas = \"acme\"\nkey = \"k\"\n"
        ))
        .unwrap_err();
        assert!(err.to_string().contains("either `key` or `as`"), "{err}");
        let err = parse(&format!(
            "{head}[[step]]\nop = \"GET /v1/clients\"\nas = \"acme.id\"\n"
        ))
        .unwrap_err();
        assert!(err.to_string().contains("must be the name"), "{err}");
    }

    #[test]
    fn parses_a_complete_scenario() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.wasm"), b"").unwrap();
        let s = Scenario::parse(
            &dir.path().join("s.toml"),
            r#"
name = "x"
start = 2026-07-01T00:00:00Z
[rules]
pricing = "p.wasm"
[[setup]]
op = "POST /v1/clients"
body = { name = "a" }
save = "a"
[[step]]
at = "2026-07-12T10:00:00Z"
op = "POST /v1/services"
body = { client_id = "${a.id}", months = 1 }
expect = { status = 201, body = { total = "20.00" } }
"#,
        )
        .unwrap();
        assert_eq!(s.setup.len(), 1);
        assert_eq!(s.steps[0].line, 10); // its [[step]] header
        assert_eq!(s.steps[0].method, "POST");
        assert_eq!(s.steps[0].expect.status, Some(201));
        assert_eq!(s.rules[&Hook::Pricing], dir.path().join("p.wasm"));
        let e =
            parse("name = \"x\"\nstart = 2026-07-01T00:00:00Z\n[rules]\npricing = \"none.wasm\"\n")
                .unwrap_err();
        assert_eq!(
            (e.line, e.to_string().contains("no module file")),
            (4, true),
            "{e}"
        );
    }

    #[test]
    fn errors_name_the_line_and_problem() {
        let e =
            parse("name = \"x\"\nstart = 2026-07-01T00:00:00Z\n[[step]]\nop = \"FETCH /v1/x\"\n")
                .unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.message.contains("unknown operation"), "{e}");

        let e = parse(
            "name = \"x\"\nstart = 2026-07-01T00:00:00Z\n[[step]]\nat = 2026-07-02T00:00:00Z\nop = \"GET /v1/x\"\n[[step]]\nat = 2026-07-01T00:00:00Z\nop = \"GET /v1/x\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 7);
        assert!(
            e.message.contains("time goes backwards") && e.message.contains("previous step's"),
            "{e}"
        );
        let e = parse(
            "name = \"x\"\nstart = 2026-07-01T00:00:00Z\n[[step]]\nat = 2026-06-30T00:00:00Z\nop = \"GET /v1/x\"\n",
        )
        .unwrap_err();
        assert!(e.message.contains("before the scenario's start"), "{e}");

        let e = parse("name = \"x\"\n[[step]]\nop = \"GET /v1/x\"\n").unwrap_err();
        assert!(e.message.contains("start"), "{e}");

        let e = parse(
            "name = \"x\"\nstart = 2026-07-01T00:00:00Z\n[[step]]\nop = \"GET /v1/x\"\nwhen = 1\n",
        )
        .unwrap_err();
        assert!(e.message.contains("when"), "{e}");
        assert_eq!(e.to_string().split(':').nth(1), Some("5"), "{e}");

        let e = parse("name = \"x\nstart").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }
}
