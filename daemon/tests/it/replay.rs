//! `rulesd replay` and `rulesd diff`: the seed scenarios, a failing scenario,
//! malformed scenario files, and a diff against a replayed store.

use crate::support::{fixture, workspace};
use rulesd::contract::hook::Hook;
use rulesd::ops::diff::{DiffOptions, diff};
use rulesd::replay::{self, RunOptions, Scenario};
use rulesd::runtime::{Limits, ModuleSource, Runtime};
use rulesd::store::Store;
use rust_decimal::Decimal;
use std::path::Path;
use std::process::{Command, Output};

fn rulesd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rulesd"))
        .args(args)
        .env("RULESD_LOG", "error")
        .output()
        .expect("running rulesd")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn the_seed_scenarios_pass_through_rulesd_replay() {
    let dir = workspace().join("tests/scenarios");
    let out = rulesd(&["replay", dir.to_str().unwrap()]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert!(files >= 4, "the seed scenarios are missing");
    assert!(
        report.contains(&format!("{files} scenario(s): {files} passed, 0 failed")),
        "{report}"
    );
}

/// The scenarios the Python and JavaScript example rules are checked against
/// (`examples/rules/check.sh`, which needs PyPI and npm) state the default
/// rule's answers: they must keep passing on the default rule, or the
/// examples' check would compare them with answers the daemon no longer gives.
#[test]
fn the_example_rules_scenarios_pass_on_the_default_rules() {
    let dir = workspace().join("examples/rules/scenarios");
    let files = std::fs::read_dir(&dir).unwrap().count();
    let out = rulesd(&["replay", dir.to_str().unwrap()]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains(&format!("{files} scenario(s): {files} passed, 0 failed")),
        "{report}"
    );
}

/// Opt-in instance reuse (rules.toml `reuse`) changes no decision: every
/// scenario, the seeds' and the examples', is replayed on fresh instances
/// of the default rule, and every decision it stored is made again on
/// reused instances of it (all but the first call of each hook reuse one).
#[tokio::test(flavor = "multi_thread")]
async fn reused_instances_decide_every_scenario_exactly_as_fresh_ones() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(Limits::default(), None).unwrap();
    let default = runtime
        .load(
            "default",
            rulesd::rules::DEFAULT_MODULE,
            ModuleSource::Embedded,
        )
        .unwrap();
    default.set_reuse(true);
    let mut files: Vec<_> = ["tests/scenarios", "examples/rules/scenarios"]
        .iter()
        .flat_map(|d| std::fs::read_dir(workspace().join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut examined = 0;
    for (i, file) in files.iter().enumerate() {
        let data = dir.path().join(i.to_string());
        let outcome = replay::run(
            &Scenario::load(file).unwrap(),
            &RunOptions {
                rules_dir: None,
                data_dir: Some(data.clone()),
                cache_dir: None,
                progress: None,
            },
        )
        .await
        .unwrap();
        assert!(outcome.failure.is_none(), "{}: {outcome:?}", file.display());
        drop(outcome);
        let store = Store::open_existing(&data).unwrap();
        let options = DiffOptions {
            since: None,
            show: 10,
            hooks: vec![],
        };
        let report = diff(&store, &default, &options, |_| {}).unwrap();
        assert_eq!(
            (report.changed, report.failed),
            (0, 0),
            "{}: {report:#?}",
            file.display()
        );
        examined += report.examined;
    }
    assert!(files.len() >= 12, "{files:?}");
    assert!(examined >= 100, "{examined} decisions");
    assert!(default.reuses_instances());
}

const FAILING: &str = r#"name = "built to fail"
start = 2026-07-01T00:00:00Z

[[setup]]
op = "POST /v1/clients"
body = { name = "carol" }
save = "carol"

[[setup]]
op = "POST /v1/tariffs"
body = { name = "Calendar", currency = "EUR", prices = [{ months = 1, price = "31.00" }], calendar = {} }
save = "t"

[[step]]
at = 2026-07-12T10:00:00Z
op = "POST /v1/services"
body = { client_id = "${carol.id}", tariff_id = "${t.id}", months = 1 }
expect = { status = 201, body = { total = "31.00", services = [{ expires = "2026-08-12" }] } }
"#;

#[test]
fn a_failing_scenario_prints_a_field_by_field_diff_and_exits_nonzero() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("failing.toml");
    std::fs::write(&file, FAILING).unwrap();
    let out = rulesd(&["replay", file.to_str().unwrap()]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("FAIL  built to fail"), "{report}");
    assert!(
        report.contains("step 1 (line 14) POST /v1/services at 2026-07-12T10:00:00Z"),
        "{report}"
    );
    assert!(
        report.contains(r#"services[0].expires: expected "2026-08-12", got "2026-08-01""#),
        "{report}"
    );
    assert!(
        report.contains(r#"total: expected "31.00", got "20.00""#),
        "{report}"
    );
    // --json carries the same facts for machines.
    let out = rulesd(&["replay", "--json", file.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["failure"]["line"], 14);
    assert_eq!(json[0]["failure"]["problem"]["kind"], "fields");
}

const ERROR_KINDS: &str = r#"name = "error kinds"
start = 2026-07-01T00:00:00Z

[[setup]]
op = "POST /v1/clients"
body = { name = "carol" }
save = "carol"

[[setup]]
op = "POST /v1/tariffs"
body = { name = "Quarterly", currency = "EUR", prices = [{ months = 3, price = "30.00" }] }
save = "t"

[[step]]
at = 2026-07-02T00:00:00Z
op = "POST /v1/services"
body = { client_id = "${carol.id}", tariff_id = "${t.id}", months = 1 }
expect = { error = "policy-violation" }

[[step]]
op = "GET /v1/services/999"
expect = { status = 404, error = "urn:rulesd:problem:not-found" }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn scenarios_expect_error_kinds() {
    let run = |text: &str| {
        let scenario = Scenario::parse(Path::new("kinds.toml"), text).unwrap();
        async move {
            replay::run(&scenario, &RunOptions::default())
                .await
                .unwrap()
        }
    };
    let passed = run(ERROR_KINDS).await;
    assert!(
        passed.failure.is_none(),
        "{}",
        replay::describe(passed.failure.as_ref().unwrap())
    );
    // The wrong kind fails, naming both.
    let wrong = ERROR_KINDS.replacen(
        r#"expect = { error = "policy-violation" }"#,
        r#"expect = { error = "not-found" }"#,
        1,
    );
    let failed = run(&wrong).await;
    let text = replay::describe(failed.failure.as_ref().expect("a wrong kind passed"));
    assert!(
        text.contains("not-found") && text.contains("policy-violation"),
        "{text}"
    );
}

#[test]
fn malformed_scenarios_name_the_file_line_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "bad-toml.toml",
            "name = \"x\"\nstart = 2026-07-01T00:00:00Z\n[[step]\nop = \"GET /v1/rules\"\n",
            ":3:",
            "unclosed array table",
        ),
        (
            "unknown-op.toml",
            "name = \"x\"\nstart = 2026-07-01T00:00:00Z\n[[step]]\nop = \"ORDER /v1/services\"\n",
            ":4:",
            "unknown operation \"ORDER /v1/services\"",
        ),
        (
            "backwards.toml",
            "name = \"x\"\nstart = 2026-07-01T00:00:00Z\n[[step]]\nat = 2026-07-05T00:00:00Z\nop = \"GET /v1/rules\"\n[[step]]\nat = 2026-07-04T00:00:00Z\nop = \"GET /v1/rules\"\n",
            ":7:",
            "time goes backwards",
        ),
        (
            "missing.toml",
            "name = \"x\"\nstart = 2026-07-01T00:00:00Z\n[[step]]\nbody = {}\n",
            ":3:",
            "missing field `op`",
        ),
    ];
    for (name, body, line, problem) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, body).unwrap();
        let out = rulesd(&["replay", file.to_str().unwrap()]);
        let report = text(&out);
        assert!(!out.status.success(), "{name}: {report}");
        assert!(
            report.contains(&format!("{}{line}", file.display())),
            "{name}: no file:line in {report}"
        );
        assert!(report.contains(problem), "{name}: {report}");
    }
}

/// Every scenario named appears in `--json`, those that could not run too,
/// with where and why.
#[test]
fn replay_json_reports_every_scenario_including_those_that_could_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\nstart = 2026-07-01T00:00:00Z\n[[step]\n",
    )
    .unwrap();
    let failing = dir.path().join("failing.toml");
    std::fs::write(&failing, FAILING).unwrap();
    let missing = dir.path().join("none.toml");
    let arg = |p: &Path| p.to_str().unwrap().to_string();
    let out = rulesd(&[
        "replay",
        "--json",
        &arg(&bad),
        &arg(&failing),
        &arg(&missing),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = json.as_array().unwrap();
    assert_eq!(entries.len(), 3, "{json:#}");
    assert_eq!(entries[0]["status"], "error");
    assert_eq!(entries[0]["file"], arg(&bad));
    assert_eq!(entries[0]["line"], 3);
    assert!(
        entries[0]["message"]
            .as_str()
            .unwrap()
            .contains("unclosed array table"),
        "{json:#}"
    );
    assert_eq!(entries[1]["status"], "fail");
    assert_eq!(entries[1]["failure"]["line"], 14);
    assert_eq!(entries[2]["status"], "error");
    assert_eq!(entries[2]["file"], arg(&missing));
    assert!(
        entries[2]["message"]
            .as_str()
            .unwrap()
            .contains("cannot read"),
        "{json:#}"
    );

    let out = rulesd(&["replay", "--json", &arg(&missing)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["status"], "error", "{json:#}");
}

/// Arguments that would make a replay pass or write where it should not are
/// refused before anything runs, and leave everything as it was.
#[test]
fn replay_refuses_missing_rules_old_stores_and_empty_directories() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("failing.toml");
    std::fs::write(&file, FAILING).unwrap();
    let scenario = file.to_str().unwrap();
    let missing = dir.path().join("no-such-rules");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let kept = dir.path().join("kept");
    std::fs::create_dir(&kept).unwrap();
    let new = dir.path().join("new");
    std::fs::write(kept.join("rulesd.redb"), "an old store").unwrap();
    let cases: Vec<(Vec<&str>, Vec<String>)> = vec![
        (
            vec!["--rules", missing.to_str().unwrap(), scenario],
            vec![
                "--rules".into(),
                format!("{}: does not exist", missing.display()),
            ],
        ),
        (
            vec!["--rules", scenario, scenario],
            vec![format!("{scenario}: is not a directory")],
        ),
        (
            vec!["--keep-data", kept.to_str().unwrap(), scenario],
            vec![
                "--keep-data".into(),
                kept.display().to_string(),
                "exists and is not empty".into(),
            ],
        ),
        (
            vec!["--keep-data", new.to_str().unwrap(), scenario, scenario],
            vec!["--keep-data needs exactly one scenario; 2 were named".into()],
        ),
        (
            vec![empty.to_str().unwrap()],
            vec![format!("{}: no scenario files (*.toml)", empty.display())],
        ),
    ];
    for (args, says) in cases {
        let out = rulesd(&[&["replay"][..], &args].concat());
        let report = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {report}");
        for s in says {
            assert!(report.contains(&s), "{args:?}: {s:?} not in {report}");
        }
        assert!(!report.contains("scenario(s)"), "{args:?} ran: {report}");
    }
    assert!(!missing.exists(), "--rules created the directory");
    assert!(!new.exists());
    assert_eq!(
        std::fs::read(kept.join("rulesd.redb")).unwrap(),
        b"an old store"
    );
    assert_eq!(std::fs::read_dir(&kept).unwrap().count(), 1);
}

fn scenario(dir: &Path) -> Scenario {
    let text = r#"name = "orders on two tariffs"
start = 2026-01-01T00:00:00Z

[[setup]]
op = "POST /v1/clients"
body = { name = "a" }
save = "a"

[[setup]]
op = "POST /v1/tariffs"
body = { name = "Basic", currency = "EUR", prices = [{ months = 1, price = "10.00" }] }
save = "basic"

[[setup]]
op = "POST /v1/tariffs"
body = { name = "Pro", currency = "EUR", prices = [{ months = 1, price = "10.00" }] }
save = "pro"

[[step]]
at = 2026-01-01T10:00:00Z
op = "POST /v1/services"
body = { client_id = "${a.id}", tariff_id = "${basic.id}", months = 1 }

[[step]]
op = "POST /v1/services"
body = { client_id = "${a.id}", tariff_id = "${pro.id}", months = 1 }

[[step]]
at = 2026-01-02T10:00:00Z
op = "POST /v1/services"
body = { client_id = "${a.id}", tariff_id = "${pro.id}", months = 1 }
expect = { status = 201, body = { total = "10.00" } }
"#;
    let file = dir.join("two-tariffs.toml");
    std::fs::write(&file, text).unwrap();
    Scenario::load(&file).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_reports_exactly_the_decisions_a_candidate_changes() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("pricing.wasm"), fixture("list-price")).unwrap();
    let data = dir.path().join("data");
    let outcome = replay::run(
        &scenario(dir.path()),
        &RunOptions {
            rules_dir: Some(rules.clone()),
            data_dir: Some(data.clone()),
            cache_dir: None,
            progress: None,
        },
    )
    .await
    .unwrap();
    assert!(outcome.failure.is_none(), "{outcome:?}");
    drop(outcome);

    // diff promises to write nothing: the store's bytes stay as they were
    // through every run below, and a store file without write permission
    // (a backup kept as it should be) works. Tests may run as root, which
    // writes through permissions: the unchanged bytes are the real check.
    let store_file = data.join(rulesd::store::FILE_NAME);
    let before = crate::support::sha256(&std::fs::read(&store_file).unwrap());
    let mut permissions = std::fs::metadata(&store_file).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&store_file, permissions).unwrap();

    let runtime = Runtime::new(Limits::default(), None).unwrap();
    let store = Store::open_existing(&data).unwrap();
    let load = |features: &str| {
        runtime
            .load(features, &fixture(features), ModuleSource::Embedded)
            .unwrap()
    };
    let options = DiffOptions {
        since: None,
        show: 10,
        hooks: vec![],
    };

    let same = diff(&store, &load("list-price"), &options, |_| {}).unwrap();
    assert_eq!((same.examined, same.changed), (3, 0), "{same:?}");

    // A hook the candidate does not export is an error, not "0 would change".
    let err = diff(
        &store,
        &load("list-price"),
        &DiffOptions {
            hooks: vec![Hook::Proration],
            ..options.clone()
        },
        |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("the candidate does not export proration; it exports: pricing"),
        "{err}"
    );

    let mut streamed = 0;
    let cheaper = diff(&store, &load("pro-discount"), &options, |_| streamed += 1).unwrap();
    assert_eq!(
        (cheaper.examined, cheaper.changed, cheaper.failed),
        (3, 2, 0)
    );
    assert_eq!(streamed, 2);
    assert_eq!(cheaper.delta["EUR"], Decimal::new(-200, 2));
    for d in &cheaper.differences {
        assert_eq!(d.delta, Some(Decimal::new(-100, 2)));
        assert_eq!(
            d.candidate_lines.as_ref().unwrap()[0].amount.to_string(),
            "9.00"
        );
        assert_eq!(d.stored_lines[0].amount.to_string(), "10.00");
    }
    let since = diff(
        &store,
        &load("pro-discount"),
        &DiffOptions {
            since: Some("2026-01-02".parse().unwrap()),
            show: 10,
            hooks: vec![],
        },
        |_| {},
    )
    .unwrap();
    assert_eq!((since.examined, since.changed), (1, 1));
    // A filter by hook: the three decisions are pricing ones.
    let by_hook = |hooks: Vec<Hook>| {
        let options = DiffOptions {
            hooks,
            ..options.clone()
        };
        diff(&store, &load("pro-discount"), &options, |_| {}).unwrap()
    };
    let pricing = by_hook(vec![Hook::Pricing]);
    assert_eq!((pricing.examined, pricing.changed), (3, 2));
    assert_eq!(
        pricing.differences[0].subject(),
        format!("service {}", pricing.differences[0].service_id.unwrap())
    );

    // A candidate that only lets the service run longer moves no money and
    // changes the same lines, yet changes every decision: each difference
    // shows the two service periods.
    let longer = diff(&store, &load("longer"), &options, |_| {}).unwrap();
    assert_eq!((longer.examined, longer.changed), (3, 3), "{longer:?}");
    assert_eq!(longer.delta["EUR"], Decimal::ZERO);
    for d in &longer.differences {
        assert_eq!(d.candidate_lines.as_ref(), Some(&d.stored_lines));
        let (stored, candidate) = (d.stored_term.unwrap(), d.candidate_term.unwrap());
        assert_eq!(stored.period_start, candidate.period_start);
        assert_eq!(
            stored.expires.checked_add_months(chrono::Months::new(1)),
            Some(candidate.expires),
            "{d:?}"
        );
    }

    // A candidate that traps changes nothing: it fails, and a failure is not
    // a change with a zero delta.
    let trapping = diff(&store, &load("panic"), &options, |_| {}).unwrap();
    assert_eq!(
        (trapping.examined, trapping.changed, trapping.failed),
        (3, 0, 3),
        "{trapping:?}"
    );
    assert!(trapping.delta.is_empty(), "{trapping:?}");
    for d in &trapping.differences {
        assert_eq!((&d.candidate_lines, d.delta), (&None, None));
        assert!(
            d.candidate_error.as_deref().unwrap().contains("trapped"),
            "{d:?}"
        );
    }
    drop(store);

    // The command line gives the same answer.
    std::fs::write(dir.path().join("candidate.wasm"), fixture("pro-discount")).unwrap();
    let out = rulesd(&[
        "diff",
        "--candidate",
        dir.path().join("candidate.wasm").to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(report.contains("3 decision(s) re-run"), "{report}");
    assert!(report.contains("2 would change"), "{report}");
    assert!(report.contains("total delta EUR: -2.00"), "{report}");
    // Each change shows the lines that differ, stored then candidate.
    assert!(
        report.contains("line 1: - ") && report.contains("line 1: + "),
        "{report}"
    );

    // A change of the service's time alone is shown as one.
    std::fs::write(dir.path().join("longer.wasm"), fixture("longer")).unwrap();
    let out = rulesd(&[
        "diff",
        "--candidate",
        dir.path().join("longer.wasm").to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    let report = text(&out);
    assert!(report.contains("3 would change"), "{report}");
    assert!(
        report.contains("service period: - 2026-01-01 to 2026-02-01")
            && report.contains("service period: + 2026-01-01 to 2026-03-01"),
        "{report}"
    );

    // A trapping candidate: the failures are reported as such, no delta is
    // made up for them, and the exit status says something failed.
    std::fs::write(dir.path().join("trapping.wasm"), fixture("panic")).unwrap();
    let out = rulesd(&[
        "diff",
        "--candidate",
        dir.path().join("trapping.wasm").to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("0 would change, 3 failed"), "{report}");
    assert!(!report.contains("total delta"), "{report}");
    assert!(report.contains("-> candidate FAILED: rule"), "{report}");
    assert!(
        report.contains("the candidate failed on 3 decision(s)"),
        "{report}"
    );

    assert_eq!(
        crate::support::sha256(&std::fs::read(&store_file).unwrap()),
        before,
        "diff changed the store file"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_daemon_streams_the_diff_of_a_candidate() {
    let s = crate::support::TestServer::start(None).await;
    let post = |path: &str, body: serde_json::Value| {
        let s = &s;
        let path = path.to_string();
        async move {
            let (status, v) = s.post_as(&s.client, &path, &body, None).await;
            assert!((200..300).contains(&status), "{path}: {v:#}");
            v
        }
    };
    let client = post("/v1/clients", serde_json::json!({"name": "a"})).await["id"].clone();
    let tariff = post(
        "/v1/tariffs",
        serde_json::json!({"name": "Pro", "currency": "EUR", "prices": [{"months": 1, "price": "10.00"}], "setup_fee": "5.00"}),
    )
    .await["id"]
        .clone();
    post(
        "/v1/services",
        serde_json::json!({"client_id": client, "tariff_id": tariff, "months": 1}),
    )
    .await;
    let send = |key: &reqwest::Client, body: Vec<u8>| {
        key.post(s.url("/v1/rules/diff?show=5"))
            .header("content-type", "application/wasm")
            .body(body)
            .send()
    };
    // A module sent as something else is refused for what it is.
    let r = s
        .client
        .post(s.url("/v1/rules/diff"))
        .header("content-type", "application/json")
        .body(fixture("pro-discount"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    // Title and detail agree on what to send (the title once asked for JSON).
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["type"], "urn:rulesd:problem:unsupported-media-type");
    for field in ["title", "detail"] {
        let text = p[field].as_str().unwrap();
        assert!(text.contains("application/wasm"), "{p}");
        assert!(!text.contains("json"), "{p}");
    }
    // The default rules charged 10.00 + 5.00 setup; the candidate only 9.00.
    let r = send(&s.client, fixture("pro-discount")).await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2, "{text}");
    assert_eq!(events[0]["type"], "difference");
    assert_eq!(events[0]["delta"], "-6.00");
    assert_eq!(events[1]["type"], "summary");
    assert_eq!(events[1]["changed"], 1);
    assert_eq!(events[1]["delta"]["EUR"], "-6.00");

    // A candidate that traps: the summary counts the failure apart from the
    // changes, and the failure carries no delta.
    let r = send(&s.client, fixture("panic")).await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2, "{text}");
    assert_eq!(events[0]["type"], "difference");
    assert!(events[0].get("delta").is_none(), "{text}");
    assert!(events[0]["candidate_error"].is_string(), "{text}");
    assert_eq!(events[1]["type"], "summary");
    assert_eq!(
        (&events[1]["changed"], &events[1]["failed"]),
        (&0.into(), &1.into())
    );
    assert_eq!(events[1]["delta"], serde_json::json!({}), "{text}");

    assert_eq!(
        send(&s.client, b"not wasm".to_vec())
            .await
            .unwrap()
            .status(),
        422
    );
    let (_, reseller) = s.reseller("R").await;
    assert_eq!(
        send(&reseller, fixture("pro-discount"))
            .await
            .unwrap()
            .status(),
        403
    );
}

/// IP decisions are receipts like pricing ones: a candidate that picks the
/// highest free address instead of the lowest changes the allocations of
/// the seed 000 scenario, shown as addresses and no money.
#[tokio::test(flavor = "multi_thread")]
async fn diff_re_runs_ip_allocation_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seed_store("seed-000-ip-pools.toml", &data).await;

    std::fs::write(dir.path().join("last.wasm"), fixture("ip-last")).unwrap();
    let out = rulesd(&[
        "diff",
        "--candidate",
        dir.path().join("last.wasm").to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--hook",
        "ip-allocation",
    ]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    // Four allocations were recorded (the exhausted one was not).
    assert!(report.contains("4 decision(s) re-run"), "{report}");
    // 198.51.100.10 (lowest) becomes .11 (highest of the two offered; the
    // second allocation, when only .11 was free, stays); the common pool's
    // first choice .1 becomes the last offered, .6.
    assert!(report.contains("3 would change"), "{report}");
    assert!(
        report.contains("stored pool 2: 198.51.100.10 -> candidate pool 2: 198.51.100.11"),
        "{report}"
    );
    assert!(
        report.contains("stored pool 1: 192.0.2.1 -> candidate pool 1: 192.0.2.6"),
        "{report}"
    );
    assert!(!report.contains("total delta"), "no money moves: {report}");
}

/// Wholesale decisions are receipts too: a candidate that shadows half of
/// every retail line changes each of the seed 001 scenario's.
#[tokio::test(flavor = "multi_thread")]
async fn diff_re_runs_wholesale_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seed_store("seed-001-wholesale.toml", &data).await;
    std::fs::write(dir.path().join("half.wasm"), fixture("wholesale-half")).unwrap();
    let out = rulesd(&[
        "diff",
        "--candidate",
        dir.path().join("half.wasm").to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--hook",
        "wholesale",
    ]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    // Three orders, an addon and its refund.
    assert!(report.contains("5 decision(s) re-run"), "{report}");
    assert!(report.contains("5 would change"), "{report}");
    // Acme's month: 2.25 and 0.00 for the setup; half of 5.00 and of 2.00.
    assert!(report.contains("stored 2.25 -> candidate 3.50"), "{report}");
}

#[tokio::test]
async fn diff_re_runs_license_pool_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    seed_store("seed-003-license-pool.toml", &data).await;

    std::fs::write(dir.path().join("hostile.wasm"), fixture("license-hostile")).unwrap();
    let out = rulesd(&[
        "diff",
        "--candidate",
        dir.path().join("hostile.wasm").to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--hook",
        "license-pool",
    ]);
    let report = text(&out);
    assert!(!out.status.success(), "the candidate fails: {report}");
    // Three servers took a license; each stored decision is shown as the
    // action it took, and the candidate's refusal is the daemon's check.
    assert!(report.contains("3 decision(s) re-run"), "{report}");
    assert!(report.contains("3 failed"), "{report}");
    assert!(
        report.contains(r#"stored {"action":"take","candidates":[1,3]"#),
        "{report}"
    );
    assert!(report.contains("not offered as free"), "{report}");
}

/// Replay the seed scenario `file` (tests/scenarios) with the default rules
/// into a store kept in `data`, for `rulesd diff` to re-run.
async fn seed_store(file: &str, data: &std::path::Path) {
    let seed = Scenario::load(&workspace().join("tests/scenarios").join(file)).unwrap();
    let options = RunOptions {
        rules_dir: None,
        data_dir: Some(data.to_path_buf()),
        cache_dir: None,
        progress: None,
    };
    let outcome = replay::run(&seed, &options).await.unwrap();
    assert!(outcome.failure.is_none(), "{outcome:?}");
}
