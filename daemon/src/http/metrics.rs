//! `GET /metrics`: the daemon's counters in the Prometheus text format 0.0.4.

use super::problem::Problem;
use crate::app::metrics::MetricsSnapshot;
use crate::app::{ApiError, App, Caller};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;
use std::sync::Arc;

/// Counters in the Prometheus text format (provider only): rule calls by
/// hook, module and outcome; rule load errors; what the daily job did.
#[utoipa::path(
    get,
    tag = "operations", path = "/metrics",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"),
        (status = 403, description = "Provider only", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn metrics(State(app): State<Arc<App>>, caller: Caller) -> Result<Response, ApiError> {
    let text = render(&app.metrics(&caller)?);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// One metric family: its HELP and TYPE lines, then its samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value in the text format: backslash, quote and newline escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn render(m: &MetricsSnapshot) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "rulesd_rule_calls_total",
        "counter",
        "Rule calls by hook, module and outcome: ok; refused (the rule said no); \
         failed (trapped, out of fuel, time or memory, or an invalid decision); busy.",
    );
    for c in &m.rule_calls {
        let _ = writeln!(
            out,
            "rulesd_rule_calls_total{{hook=\"{}\",module=\"{}\",outcome=\"{}\"}} {}",
            c.hook,
            label(&c.module),
            c.outcome,
            c.count
        );
    }
    family(
        &mut out,
        "rulesd_rule_load_errors",
        "gauge",
        "Rule files and bindings that currently fail to load or cannot be served \
         as written (GET /v1/rules lists them).",
    );
    let _ = writeln!(out, "rulesd_rule_load_errors {}", m.load_errors);
    family(
        &mut out,
        "rulesd_rate_limited_total",
        "counter",
        "Requests refused with 429 because their API key's rate limit was used up, by role.",
    );
    for (role, n) in ["provider", "reseller"].iter().zip(m.rate_limited) {
        let _ = writeln!(out, "rulesd_rate_limited_total{{role=\"{role}\"}} {n}");
    }
    render_daily(&mut out, m);
    out
}

fn render_daily(out: &mut String, m: &MetricsSnapshot) {
    let d = &m.daily;
    family(
        out,
        "rulesd_daily_days_total",
        "counter",
        "Days the daily job has completed.",
    );
    let _ = writeln!(out, "rulesd_daily_days_total {}", d.days);
    family(
        out,
        "rulesd_daily_services_total",
        "counter",
        "What the daily job did to services: charged a day; reactivated (a daily \
         service whose balance covers a day again: that day is charged too, and counted \
         here, not under charged); suspended; deleted; failed: the rule could not price \
         a day, which stays unpaid.",
    );
    for (result, n) in [
        ("charged", d.charged),
        ("reactivated", d.reactivated),
        ("suspended", d.suspended),
        ("deleted", d.deleted),
        ("failed", d.failed),
    ] {
        let _ = writeln!(
            out,
            "rulesd_daily_services_total{{result=\"{result}\"}} {n}"
        );
    }
    if let Some(day) = d.last_day {
        family(
            out,
            "rulesd_daily_last_day_timestamp_seconds",
            "gauge",
            "Start (UTC) of the last day the daily job completed.",
        );
        let start = day
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp());
        let _ = writeln!(out, "rulesd_daily_last_day_timestamp_seconds {start}");
        family(
            out,
            "rulesd_daily_last_run_failed",
            "gauge",
            "Services the last daily run could not price.",
        );
        let _ = writeln!(out, "rulesd_daily_last_run_failed {}", d.last_run_failed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
