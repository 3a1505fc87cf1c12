//! Tariffs, orders, renewals, suspension, the ledger and the daily job, end
//! to end over HTTP on a test clock.

use crate::support::{TestServer, fixture, write_atomically};
use chrono::{Datelike, Days, NaiveDate, Weekday};
use rulesd::server::Config;
use serde_json::{Value, json};

pub(crate) async fn server_at(start: &str) -> TestServer {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.test_clock = Some(start.parse().unwrap());
    TestServer::start_config(config, data).await
}

impl TestServer {
    pub(crate) async fn ok(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.post_as(&self.client, path, &body, None).await;
        assert!(
            (200..300).contains(&status),
            "{path} {body}: {status} {v:#}"
        );
        v
    }

    pub(crate) async fn refused(&self, path: &str, body: Value) -> (u16, Value) {
        let (status, v) = self.post_as(&self.client, path, &body, None).await;
        assert!(status >= 400, "{path} {body} was accepted: {v:#}");
        (status, v)
    }

    pub(crate) async fn set_clock(&self, at: &str) {
        self.ok("/v1/clock", json!({ "now": at })).await;
    }

    pub(crate) async fn client(&self, name: &str, group: Option<u64>) -> u64 {
        self.ok("/v1/clients", json!({ "name": name, "group_id": group }))
            .await["id"]
            .as_u64()
            .unwrap()
    }

    pub(crate) async fn tariff(&self, spec: Value) -> u64 {
        self.ok("/v1/tariffs", spec).await["id"].as_u64().unwrap()
    }

    pub(crate) async fn fund(&self, client: u64, amount: &str) {
        self.ok(
            "/v1/ledger/adjustments",
            json!({"account_id": client, "currency": "EUR", "amount": format!("-{amount}"), "description": "payment"}),
        )
        .await;
    }

    /// A daily service (0.10 a day) of a new client with 10.00 on account.
    async fn funded_daily_service(&self) -> u64 {
        let client = self.client("alice", None).await;
        self.fund(client, "10.00").await;
        let t = self
            .tariff(json!({"name": "Daily", "currency": "EUR", "prices": [{"months": 1, "price": "3.00"}], "daily": {"price": "0.10"}}))
            .await;
        self.ok(
            "/v1/services",
            json!({"client_id": client, "tariff_id": t, "months": 1}),
        )
        .await["services"][0]["id"]
            .as_u64()
            .unwrap()
    }

    /// The days a service was charged as a daily service, in ledger order.
    async fn daily_days(&self, id: u64) -> Vec<String> {
        self.ledger(&format!("service_id={id}"))
            .await
            .iter()
            .filter(|l| l["kind"] == "daily")
            .map(|l| l["period_start"].as_str().unwrap().to_string())
            .collect()
    }

    /// Every ledger line, all pages.
    pub(crate) async fn ledger(&self, query: &str) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        loop {
            let after = out.last().map_or(0, |l| l["id"].as_u64().unwrap());
            let (status, page) = self
                .get(&format!("/v1/ledger?{query}&after={after}&limit=1000"))
                .await;
            assert_eq!(status, 200, "{page}");
            let page = page.as_array().unwrap().clone();
            if page.is_empty() {
                return out;
            }
            out.extend(page);
        }
    }
}

fn tariff(name: &str, extra: Value) -> Value {
    let mut t = json!({
        "name": name,
        "currency": "EUR",
        "prices": [{"months": 1, "price": "10.00"}, {"months": 3, "price": "27.00"}, {"months": 12, "price": "100.00"}],
        "setup_fee": "5.00",
    });
    for (k, v) in extra.as_object().unwrap() {
        t[k] = v.clone();
    }
    t
}

#[tokio::test(flavor = "multi_thread")]
async fn orders_that_break_a_policy_get_422_naming_it_and_record_nothing() {
    let s = server_at("2026-03-02T10:00:00Z").await;
    let gold = s.ok("/v1/client-groups", json!({"name": "gold"})).await["id"]
        .as_u64()
        .unwrap();
    let alice = s.client("alice", Some(gold)).await;
    let bob = s.client("bob", None).await;
    let t = s
        .tariff(tariff(
            "Basic",
            json!({
                "services_per_client": 1,
                "client_groups": {"allowed": [gold]},
                "minimum_period": {"length": 3, "unit": "months"},
                "end_date": "2026-06-30",
                "addons": [{"resource": "disk-space", "unit": "GiB", "included": 1, "minimum": 1, "maximum": 10, "price_per_unit": "0.50"}],
            }),
        ))
        .await;
    let order = |client: u64, extra: Value| {
        let mut o = json!({"client_id": client, "tariff_id": t, "months": 3});
        for (k, v) in extra.as_object().unwrap() {
            o[k] = v.clone();
        }
        o
    };
    let refusals = [
        (
            order(bob, json!({})),
            "is not available to clients outside its allowed client groups",
        ),
        (
            order(alice, json!({"months": 1})),
            "tariff Basic has a minimum order period of 3 month(s)",
        ),
        (
            order(
                alice,
                json!({"addons": [{"resource": "disk-space", "quantity": 11}]}),
            ),
            "between 1 and 10 GiB",
        ),
        (
            order(
                alice,
                json!({"addons": [{"resource": "ram", "quantity": 1}]}),
            ),
            "tariff Basic has no addon \"ram\"",
        ),
        (
            order(alice, json!({"count": 2})),
            "tariff Basic allows one service per order",
        ),
    ];
    for (body, policy) in &refusals {
        let (status, p) = s.refused("/v1/services", body.clone()).await;
        assert_eq!(status, 422, "{p:#}");
        assert_eq!(p["type"], "urn:rulesd:problem:policy-violation", "{p:#}");
        assert!(
            p["detail"].as_str().unwrap().contains(policy),
            "{policy}: {p:#}"
        );
    }
    assert!(
        s.ledger("").await.is_empty(),
        "a refused order recorded money"
    );
    assert_eq!(s.get("/v1/services").await.1, json!([]));

    // A quote is held to the same minimum period as the order, with a stored
    // tariff or an inline one.
    for quote in [
        json!({"tariff_id": t, "months": 1}),
        json!({"tariff": tariff("Inline", json!({"minimum_period": {"length": 3, "unit": "months"}})), "months": 1}),
    ] {
        let (status, p) = s.refused("/v1/quotes", quote).await;
        assert_eq!(status, 422);
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("has a minimum order period of 3 month(s)"),
            "{p:#}"
        );
    }

    // The first order is fine; the second breaks the per-client limit.
    let first = s.ok("/v1/services", order(alice, json!({}))).await;
    assert_eq!(first["total"], "32.00"); // 27.00 + setup 5.00; 1 GiB of disk is included
    let (status, p) = s.refused("/v1/services", order(alice, json!({}))).await;
    assert_eq!(status, 422);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("tariff Basic allows at most 1 service(s) per client"),
        "{p:#}"
    );

    // A disabled tariff, and one past its end date, take no orders.
    let carol = s.client("carol", Some(gold)).await;
    s.ok(&format!("/v1/tariffs/{t}/disable"), json!({})).await;
    let (_, p) = s.refused("/v1/services", order(carol, json!({}))).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("tariff Basic is disabled"),
        "{p:#}"
    );
    // A quote of the same order is refused the same way.
    let (status, p) = s
        .refused("/v1/quotes", json!({"tariff_id": t, "months": 3}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(p["type"], "urn:rulesd:problem:policy-violation", "{p:#}");
    s.ok(&format!("/v1/tariffs/{t}/enable"), json!({})).await;
    s.set_clock("2026-07-01T00:00:00Z").await;
    let (_, p) = s.refused("/v1/services", order(carol, json!({}))).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("ended on 2026-06-30"),
        "{p:#}"
    );
    assert_eq!(
        s.ledger("").await.len(),
        2,
        "only the first order's two lines"
    );

    // Malformed and impossible input is refused before anything happens.
    for (body, status) in [
        (
            json!({"client_id": carol, "tariff_id": t, "months": 2}),
            422,
        ),
        (
            json!({"client_id": carol, "tariff_id": t, "months": 3, "color": "red"}),
            422,
        ),
        (
            json!({"client_id": carol, "tariff_id": 999, "months": 3}),
            404,
        ),
        (
            json!({"client_id": carol, "tariff_id": t, "months": -3}),
            422,
        ),
    ] {
        assert_eq!(s.refused("/v1/services", body).await.0, status);
    }
    for bad in [
        json!({"name": "X", "currency": "EUR", "prices": [{"months": 1, "price": "-1"}]}),
        json!({"name": "X", "currency": "EUR", "prices": [{"months": 1, "price": "1"}], "end_date": "2026-02-30"}),
        json!({"name": "X", "currency": "EUR", "prices": [{"months": 1, "price": "1"}], "username_template": "u@NAME@"}),
        json!({"name": "X", "currency": "EUR", "prices": [{"months": 1, "price": "1"}], "daily": {"price": "0.1"}, "calendar": {}}),
        // Seed 002: a username template has at most 16 characters.
        json!({"name": "X", "currency": "EUR", "prices": [{"months": 1, "price": "1"}], "username_template": "averyveryverylongusername@ID@"}),
        // No period on sale reaches the minimum: nobody could order it.
        json!({"name": "X", "currency": "EUR", "prices": [{"months": 1, "price": "1"}], "minimum_period": {"length": 3, "unit": "months"}}),
    ] {
        assert_eq!(s.refused("/v1/tariffs", bad.clone()).await.0, 422, "{bad}");
    }
    for (amount, needle) in [
        ("0", "changes nothing"),
        ("-0.001", "finer than the smallest unit of EUR"),
    ] {
        let (status, p) = s
            .refused(
                "/v1/ledger/adjustments",
                json!({"account_id": carol, "currency": "EUR", "amount": amount, "description": "x"}),
            )
            .await;
        assert_eq!(status, 422);
        assert!(p["detail"].as_str().unwrap().contains(needle), "{p:#}");
    }
    let (status, p) = s
        .refused(
            "/v1/services",
            json!({"client_id": carol, "tariff_id": t, "months": 3, "domain": "../../etc"}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("only letters, digits, hyphens and dots"),
        "{p:#}"
    );
    assert_eq!(
        s.ledger("").await.len(),
        2,
        "a refused request recorded money"
    );
    let (status, p) = s.get("/v1/ledger?limit=0").await;
    assert_eq!(status, 422, "{p:#}");
    // The document's bounds are enforced, not clamped: at most 1000 lines,
    // and `after` an int64.
    let (status, p) = s.get("/v1/ledger?limit=1001").await;
    assert_eq!(status, 422, "{p:#}");
    assert!(
        p["detail"].as_str().unwrap().contains("at most 1000"),
        "{p:#}"
    );
    assert_eq!(s.get("/v1/ledger?limit=1000").await.0, 200);
    let (status, p) = s.get("/v1/ledger?after=9223372036854775808").await;
    assert_eq!(status, 422, "{p:#}");
    assert_eq!(s.get("/v1/ledger?after=9223372036854775807").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_is_not_an_object_is_refused_and_charges_nothing() {
    let s = server_at("2026-03-02T10:00:00Z").await;
    let client = s.client("alice", None).await;
    let t = s.tariff(tariff("Basic", json!({}))).await;
    let order = s
        .ok(
            "/v1/services",
            json!({"client_id": client, "tariff_id": t, "months": 1}),
        )
        .await;
    let id = order["services"][0]["id"].as_u64().unwrap();
    let before = s.ledger("").await;
    // serde would take `[]` for a request whose fields are all optional.
    for (path, body) in [
        (format!("/v1/services/{id}/renew"), json!([])),
        ("/v1/services".to_string(), json!([client, t, 1])),
        (
            "/v1/ledger/adjustments".to_string(),
            json!([client, "EUR", "-1.00", "array pay"]),
        ),
    ] {
        let (status, p) = s.refused(&path, body).await;
        assert_eq!(status, 422, "{path}: {p:#}");
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("must be a JSON object, not an array"),
            "{p:#}"
        );
    }
    assert_eq!(
        s.ledger("").await,
        before,
        "a refused request recorded money"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn quotes_agree_with_the_lines_the_operation_records() {
    let s = server_at("2026-01-17T09:30:00Z").await;
    let client = s.client("alice", None).await;
    let tariffs = [
        s.tariff(tariff("Plain", json!({"renewal_prices": [{"months": 1, "price": "9.00"}]})))
            .await,
        s.tariff(tariff("Calendar", json!({"calendar": {"pro_rata_day": 15}}))).await,
        s.tariff(tariff(
            "Addons",
            json!({"addons": [{"resource": "ram", "unit": "GiB", "included": 1, "maximum": 8, "price_per_unit": "1.25"}]}),
        ))
        .await,
        s.tariff(tariff("Late", json!({"late_fee": {"kind": "percent", "percent": "50"}}))).await,
    ];
    let mut services = vec![];
    for t in tariffs {
        let addons = json!([{"resource": "ram", "quantity": 3}]);
        let with_addons = t == tariffs[2];
        let mut q = json!({"tariff_id": t, "months": 1});
        let mut o = json!({"client_id": client, "tariff_id": t, "months": 1});
        if with_addons {
            q["addons"] = addons.clone();
            o["addons"] = addons;
        }
        let quote = s.ok("/v1/quotes", q).await;
        let ordered = s.ok("/v1/services", o).await;
        let recorded: Vec<Value> = ordered["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| json!({"kind": l["kind"], "description": l["description"], "amount": l["amount"], "period_start": l["period_start"], "period_end": l["period_end"]}))
            .collect();
        let quoted: Vec<Value> = quote["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| json!({"kind": l["kind"], "description": l["description"], "amount": l["amount"], "period_start": l["period_start"], "period_end": l["period_end"]}))
            .collect();
        assert_eq!(quoted, recorded, "order of tariff {t}");
        assert_eq!(quote["total"], ordered["total"]);
        services.push(ordered["services"][0]["id"].as_u64().unwrap());
    }
    // Renewals: on time for the first three, late for the last.
    s.set_clock("2026-02-20T12:00:00Z").await;
    for id in services {
        let quote = s
            .ok(
                "/v1/quotes",
                json!({"operation": "renewal", "service_id": id}),
            )
            .await;
        let renewed = s.ok(&format!("/v1/services/{id}/renew"), json!({})).await;
        let amounts = |v: &Value| -> Vec<(Value, Value)> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|l| (l["kind"].clone(), l["amount"].clone()))
                .collect()
        };
        assert_eq!(
            amounts(&quote["lines"]),
            amounts(&renewed["lines"]),
            "renewal of {id}"
        );
        assert_eq!(quote["expires"], renewed["service"]["expires"]);
    }
}

/// A day the rule could not price stays unpaid and is charged first, in
/// order, as soon as the rule answers again: the service never gets it free.
#[tokio::test(flavor = "multi_thread")]
async fn a_daily_charge_the_rule_failed_is_made_up_when_it_answers_again() {
    let rules = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.test_clock = Some("2026-01-04T06:00:00Z".parse().unwrap());
    config.rules_dir = Some(rules.path().to_path_buf());
    let s = TestServer::start_config(config, data).await;
    let id = s.funded_daily_service().await;

    // The pricing rule traps for two daily runs.
    write_atomically(rules.path(), "panic.wasm", &fixture("panic"));
    write_atomically(
        rules.path(),
        "rules.toml",
        b"[hooks]\npricing = \"panic.wasm\"\n",
    );
    s.wait_for_rules("the trapping module", |r| {
        r["bindings"].to_string().contains("panic.wasm")
    })
    .await;
    let moved = s
        .ok("/v1/clock", json!({"now": "2026-01-06T06:00:00Z"}))
        .await;
    assert_eq!(moved["daily"]["failed"], 2, "{moved:#}");
    let (_, service) = s.get(&format!("/v1/services/{id}")).await;
    assert_eq!(
        service["expires"], "2026-01-05",
        "the failed days stay unpaid: {service:#}"
    );

    // The rule answers again: the 5th and 6th are charged before the 7th.
    write_atomically(rules.path(), "rules.toml", b"");
    s.wait_for_rules("the default module", |r| {
        !r["bindings"].to_string().contains("panic.wasm")
    })
    .await;
    let moved = s
        .ok("/v1/clock", json!({"now": "2026-01-07T06:00:00Z"}))
        .await;
    assert_eq!(moved["daily"]["charged"], 3, "{moved:#}");
    let (_, service) = s.get(&format!("/v1/services/{id}")).await;
    assert_eq!(
        (service["status"].as_str(), service["expires"].as_str()),
        (Some("active"), Some("2026-01-08"))
    );
    let days = s.daily_days(id).await;
    assert_eq!(
        days,
        ["2026-01-04", "2026-01-05", "2026-01-06", "2026-01-07"],
        "every day charged once, in order"
    );
}

/// The provider's suspension of a daily service is not charged; once it
/// resumes, the service owes from that day on, no earlier and no later.
#[tokio::test(flavor = "multi_thread")]
async fn a_daily_service_the_provider_resumes_pays_from_that_day() {
    let s = server_at("2026-01-08T06:00:00Z").await;
    let id = s.funded_daily_service().await;
    s.ok(&format!("/v1/services/{id}/suspend"), json!({})).await;
    s.set_clock("2026-01-10T10:00:00Z").await;
    let resumed = s.ok(&format!("/v1/services/{id}/resume"), json!({})).await;
    assert_eq!(resumed["service"]["expires"], "2026-01-10", "{resumed:#}");
    s.set_clock("2026-01-11T06:00:00Z").await;
    let days = s.daily_days(id).await;
    // The 9th was suspended: not charged. The 10th (resumed) and 11th are.
    assert_eq!(days, ["2026-01-08", "2026-01-10", "2026-01-11"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_suspended_daily_downtime_is_refunded_or_charged_on_resume() {
    let s = server_at("2026-01-01T08:00:00Z").await;
    // Suspended on day 1 at 08:00, resumed on day 6 at 08:00: days 2 to 6 are
    // charged while suspended; days 2 to 5 are wholly inside the suspension
    // and refunded, day 6 is in use from 08:00 and paid (as day 1 was).
    for (round, (charge_downtime, expected_refund)) in [(false, Some("-0.40")), (true, None)]
        .into_iter()
        .enumerate()
    {
        let first = 1 + 10 * round;
        let client = s.client(&format!("c{charge_downtime}"), None).await;
        s.fund(client, "50.00").await;
        let t = s
            .tariff(json!({
                "name": format!("Daily {charge_downtime}"), "currency": "EUR",
                "prices": [{"months": 1, "price": "3.00"}],
                "daily": {"price": "0.10", "client_suspend": true, "charge_downtime": charge_downtime},
            }))
            .await;
        let id = s
            .ok(
                "/v1/services",
                json!({"client_id": client, "tariff_id": t, "months": 1}),
            )
            .await["services"][0]["id"]
            .as_u64()
            .unwrap();
        s.ok(
            &format!("/v1/services/{id}/suspend"),
            json!({"by": "client"}),
        )
        .await;
        // Days go by: the 5 days after the suspension are charged as they pass.
        s.set_clock(&format!("2026-01-{:02}T08:00:00Z", first + 5))
            .await;
        let resumed = s
            .ok(
                &format!("/v1/services/{id}/resume"),
                json!({"by": "client"}),
            )
            .await;
        let lines = resumed["lines"].as_array().unwrap();
        match expected_refund {
            Some(refund) => {
                assert_eq!(lines.len(), 1, "{resumed:#}");
                assert_eq!(lines[0]["kind"], "refund");
                assert_eq!(lines[0]["amount"], refund);
            }
            None => assert!(lines.is_empty(), "{resumed:#}"),
        }
        assert_eq!(resumed["service"]["status"], "active");
        // Provider-suspended services cannot be resumed by the client.
        s.ok(&format!("/v1/services/{id}/suspend"), json!({})).await;
        let (status, p) = s
            .refused(
                &format!("/v1/services/{id}/resume"),
                json!({"by": "client"}),
            )
            .await;
        assert_eq!(status, 422, "{p:#}");
        s.ok(&format!("/v1/services/{id}/resume"), json!({})).await;
        s.set_clock(&format!("2026-01-{:02}T08:00:00Z", first + 10))
            .await;
    }
    // A tariff without client suspend refuses the client.
    let client = s.client("plain", None).await;
    let t = s.tariff(tariff("Period", json!({}))).await;
    let id = s
        .ok(
            "/v1/services",
            json!({"client_id": client, "tariff_id": t, "months": 1}),
        )
        .await["services"][0]["id"]
        .as_u64()
        .unwrap();
    let (_, p) = s
        .refused(
            &format!("/v1/services/{id}/suspend"),
            json!({"by": "client"}),
        )
        .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("does not let clients suspend"),
        "{p:#}"
    );
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The first day on or after `d` that is not a weekend.
fn weekday_on_or_after(mut d: NaiveDate) -> NaiveDate {
    while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        d = d.succ_opt().unwrap();
    }
    d
}

#[tokio::test(flavor = "multi_thread")]
async fn a_year_of_daily_jobs_suspends_and_deletes_on_the_right_days() {
    let s = server_at("2026-01-01T06:00:00Z").await;
    let monthly = s
        .tariff(tariff(
            "Monthly",
            json!({"auto_delete_days": 10, "services_per_client": 100}),
        ))
        .await;
    let weekend = s
        .tariff(tariff(
            "No weekend suspension",
            json!({"auto_delete_days": 10, "weekend_suspension": "do-not-suspend", "services_per_client": 100}),
        ))
        .await;
    let daily = s
        .tariff(json!({"name": "Daily", "currency": "EUR", "prices": [{"months": 1, "price": "3.00"}], "daily": {"price": "0.10"}}))
        .await;
    let clients: Vec<u64> = {
        let mut v = vec![];
        for i in 0..20 {
            v.push(s.client(&format!("client{i}"), None).await);
        }
        v
    };
    // Order services spread over the first 60 days: period services on two
    // tariffs, some renewed once on time; daily services funded for 200 days.
    struct Expect {
        id: u64,
        weekend_policy: bool,
        renewed: bool,
        ordered: NaiveDate,
        daily: bool,
    }
    let mut expect = vec![];
    let start = day("2026-01-01");
    for d in 0..60u64 {
        let today = start + Days::new(d);
        s.set_clock(&format!("{today}T06:00:00Z")).await;
        for k in 0..4u64 {
            let client = clients[((d * 4 + k) % 20) as usize];
            let (tariff_id, weekend_policy, is_daily) = match (d + k) % 5 {
                0 => (daily, false, true),
                1 | 2 => (weekend, true, false),
                _ => (monthly, false, false),
            };
            if is_daily {
                // Each daily service gets its own client so balances are independent.
                let own = s.client(&format!("daily-{d}-{k}"), None).await;
                s.fund(own, "20.00").await;
                let o = s
                    .ok(
                        "/v1/services",
                        json!({"client_id": own, "tariff_id": tariff_id, "months": 1}),
                    )
                    .await;
                expect.push(Expect {
                    id: o["services"][0]["id"].as_u64().unwrap(),
                    weekend_policy,
                    renewed: false,
                    ordered: today,
                    daily: true,
                });
                continue;
            }
            let o = s
                .ok(
                    "/v1/services",
                    json!({"client_id": client, "tariff_id": tariff_id, "months": 1}),
                )
                .await;
            expect.push(Expect {
                id: o["services"][0]["id"].as_u64().unwrap(),
                weekend_policy,
                // Renewed 20 days after the order, while orders still come in.
                renewed: k == 0 && d < 40,
                ordered: today,
                daily: false,
            });
        }
        // Renew the services ordered 20 days ago that are marked for it (on time).
        for e in expect
            .iter()
            .filter(|e| e.renewed && e.ordered + Days::new(20) == today)
        {
            s.ok(&format!("/v1/services/{}/renew", e.id), json!({}))
                .await;
        }
    }
    assert!(expect.len() >= 200, "{} services", expect.len());
    // The rest of the year, one day at a time.
    for d in 60..366u64 {
        let today = start + Days::new(d);
        s.set_clock(&format!("{today}T06:00:00Z")).await;
    }
    for e in &expect {
        let (_, svc) = s.get(&format!("/v1/services/{}", e.id)).await;
        if e.daily {
            // 20.00 pays 200 days from the order day; day 201 is suspended.
            let unpaid = e.ordered + Days::new(200);
            assert_eq!(svc["status"], "suspended", "{svc:#}");
            assert_eq!(svc["suspended_at"], unpaid.to_string(), "{svc:#}");
            assert_eq!(svc["expires"], unpaid.to_string(), "{svc:#}");
            continue;
        }
        // Month ends clamp at every step: Jan 31 + 1 month + 1 month is Mar 28.
        let one = |d: NaiveDate| d.checked_add_months(chrono::Months::new(1)).unwrap();
        let expires = if e.renewed {
            one(one(e.ordered))
        } else {
            one(e.ordered)
        };
        let suspended = if e.weekend_policy {
            weekday_on_or_after(expires)
        } else {
            expires
        };
        assert_eq!(svc["expires"], expires.to_string(), "{svc:#}");
        assert_eq!(svc["suspended_at"], suspended.to_string(), "{svc:#}");
        assert_eq!(svc["status"], "deleted", "{svc:#}");
        assert_eq!(
            svc["deleted_at"],
            (expires + Days::new(10)).to_string(),
            "{svc:#}"
        );
    }
    // The ledger balances: every account's balance is minus the sum of its lines.
    let (_, accounts) = s.get("/v1/clients").await;
    for a in accounts.as_array().unwrap() {
        let id = a["id"].as_u64().unwrap();
        let lines = s.ledger(&format!("account_id={id}")).await;
        let sum: rust_decimal::Decimal = lines
            .iter()
            .map(|l| {
                l["amount"]
                    .as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            })
            .sum();
        let (_, balances) = s.get(&format!("/v1/ledger/balances?account_id={id}")).await;
        let balance: rust_decimal::Decimal = balances
            .get(0)
            .map_or("0", |b| b["balance"].as_str().unwrap())
            .parse()
            .unwrap();
        assert_eq!(balance, -sum, "account {id}");
        assert_eq!(balances.as_array().unwrap().is_empty(), lines.is_empty());
        assert!(
            lines
                .iter()
                .all(|l| l["kind"] == "adjustment" || l["rule_sha256"].is_string())
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_order_or_resume_gets_the_first_response_not_a_policy_refusal() {
    let s = server_at("2026-03-02T10:00:00Z").await;
    let alice = s.client("alice", None).await;
    let t = s
        .tariff(tariff(
            "One each",
            json!({"services_per_client": 1, "daily": {"price": "0.10", "client_suspend": true}, "prices": [{"months": 1, "price": "3.00"}], "setup_fee": "0"}),
        ))
        .await;
    let body = json!({"client_id": alice, "tariff_id": t, "months": 1});
    let (first, a) = s
        .post_as(&s.client, "/v1/services", &body, Some("order-1"))
        .await;
    let (again, b) = s
        .post_as(&s.client, "/v1/services", &body, Some("order-1"))
        .await;
    assert_eq!((first, again), (201, 201), "{b:#}");
    assert_eq!(a, b);
    assert_eq!(s.get("/v1/services").await.1.as_array().unwrap().len(), 1);
    // Without the key, the limit applies.
    assert_eq!(s.refused("/v1/services", body).await.0, 422);

    let id = a["services"][0]["id"].as_u64().unwrap();
    s.ok(
        &format!("/v1/services/{id}/suspend"),
        json!({"by": "client"}),
    )
    .await;
    let path = format!("/v1/services/{id}/resume");
    let by = json!({"by": "client"});
    let (first, a) = s.post_as(&s.client, &path, &by, Some("resume-1")).await;
    let (again, b) = s.post_as(&s.client, &path, &by, Some("resume-1")).await;
    assert_eq!((first, again), (200, 200), "{b:#}");
    assert_eq!(a, b);
}

#[tokio::test(flavor = "multi_thread")]
async fn resellers_sell_their_own_tariffs_and_see_only_their_own_money() {
    let s = server_at("2026-03-02T10:00:00Z").await;
    let (_, ka) = s.reseller("A").await;
    let (_, kb) = s.reseller("B").await;
    let post = |key: &reqwest::Client, path: &str, body: Value| {
        let (key, path, s) = (key.clone(), path.to_string(), &s);
        async move { s.post_as(&key, &path, &body, None).await }
    };
    let (_, t) = post(&ka, "/v1/tariffs", tariff("Retail A", json!({}))).await;
    let (_, c) = post(&ka, "/v1/clients", json!({"name": "a-client"})).await;
    let (status, order) = post(
        &ka,
        "/v1/services",
        json!({"client_id": c["id"], "tariff_id": t["id"], "months": 1}),
    )
    .await;
    assert_eq!(status, 201, "{order:#}");
    assert_eq!(
        order["lines"][0]["reseller_id"],
        order["services"][0]["reseller_id"]
    );
    let svc = order["services"][0]["id"].as_u64().unwrap();

    // B sees none of it, and cannot sell A's tariff to its own client.
    let (_, cb) = post(&kb, "/v1/clients", json!({"name": "b-client"})).await;
    for path in [
        format!("/v1/tariffs/{}", t["id"]),
        format!("/v1/services/{svc}"),
        format!("/v1/ledger/balances?account_id={}", c["id"]),
    ] {
        assert_eq!(s.get_as(&kb, &path).await.0, 404, "{path}");
    }
    for path in ["/v1/tariffs", "/v1/services", "/v1/ledger"] {
        assert_eq!(s.get_as(&kb, path).await.1, json!([]), "{path}");
    }
    let (status, _) = post(
        &kb,
        "/v1/services",
        json!({"client_id": cb["id"], "tariff_id": t["id"], "months": 1}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        post(&kb, &format!("/v1/services/{svc}/renew"), json!({}))
            .await
            .0,
        404
    );
    // The provider's own clients cannot order a reseller's retail plan either.
    let provider_client = s.client("direct", None).await;
    assert_eq!(
        s.refused(
            "/v1/services",
            json!({"client_id": provider_client, "tariff_id": t["id"], "months": 1})
        )
        .await
        .0,
        404
    );
    // A sees its own: its client's order and setup lines, and their shadow
    // lines on its own account; the provider sees everything.
    assert_eq!(
        s.get_as(&ka, "/v1/ledger")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(s.get("/v1/services").await.1.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daily_job_run_again_after_a_crash_charges_and_suspends_nothing_twice() {
    let s = server_at("2026-05-01T06:00:00Z").await;
    let client = s.client("alice", None).await;
    s.fund(client, "5.00").await;
    let daily = s
        .tariff(json!({"name": "Daily", "currency": "EUR", "prices": [{"months": 1, "price": "3.00"}], "daily": {"price": "0.10"}}))
        .await;
    let monthly = s.tariff(tariff("Monthly", json!({}))).await;
    for t in [daily, monthly] {
        s.ok(
            "/v1/services",
            json!({"client_id": client, "tariff_id": t, "months": 1}),
        )
        .await;
    }
    s.set_clock("2026-06-01T06:00:00Z").await;
    let lines = s.ledger("").await.len();
    let services = s.get("/v1/services").await.1;
    // As if the daemon died before recording the days as done: the job runs
    // them again, and every service is already where the first run left it.
    let app = s.app();
    let txn = app.store.begin_write().unwrap();
    txn.open_table(rulesd::store::META)
        .unwrap()
        .insert(
            "daily_job_last_day",
            day("2026-05-01").num_days_from_ce() as u64,
        )
        .unwrap();
    txn.commit().unwrap();
    let again = app.run_daily_jobs(day("2026-06-01")).await.unwrap();
    assert_eq!(again.days.len(), 31);
    assert_eq!(
        (again.charged, again.suspended, again.deleted),
        (0, 0, 0),
        "{again:?}"
    );
    assert_eq!(s.ledger("").await.len(), lines);
    assert_eq!(s.get("/v1/services").await.1, services);
}

async fn service_status(s: &TestServer, id: u64) -> String {
    let (code, v) = s.get(&format!("/v1/services/{id}")).await;
    assert_eq!(code, 200, "{v:#}");
    v["status"].as_str().unwrap().to_string()
}

/// Unpaid period services wait in their own index for deletion: the
/// daemon's default deletion period reaches them when their tariff has none,
/// and with no deletion period anywhere they stay suspended for good.
#[tokio::test(flavor = "multi_thread")]
async fn unpaid_services_are_deleted_after_the_daemons_default_period_or_kept() {
    for default_days in [Some(3), None] {
        let data = tempfile::tempdir().unwrap();
        let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
        config.test_clock = Some("2026-01-05T06:00:00Z".parse().unwrap());
        config.options.auto_delete_days = default_days;
        let s = TestServer::start_config(config, data).await;
        let plain = s
            .tariff(tariff("No deletion period of its own", json!({})))
            .await;
        let client = s.client("late payer", None).await;
        let order = s
            .ok(
                "/v1/services",
                json!({"client_id": client, "tariff_id": plain, "months": 1}),
            )
            .await;
        let id = order["services"][0]["id"].as_u64().unwrap();
        // Another, suspended by the provider before it expires: its paid
        // time runs out unpaid all the same, so it goes on the same day.
        let other = s
            .ok(
                "/v1/services",
                json!({"client_id": client, "tariff_id": plain, "months": 1}),
            )
            .await["services"][0]["id"]
            .as_u64()
            .unwrap();
        s.ok(&format!("/v1/services/{other}/suspend"), json!({}))
            .await;
        // Expires Thursday 2026-02-05: suspended that day.
        s.set_clock("2026-02-05T06:00:00Z").await;
        assert_eq!(service_status(&s, id).await, "suspended");
        s.set_clock("2026-02-07T06:00:00Z").await;
        assert_eq!(service_status(&s, id).await, "suspended");
        assert_eq!(service_status(&s, other).await, "suspended");
        s.set_clock("2026-02-08T06:00:00Z").await;
        let expected = if default_days.is_some() {
            "deleted"
        } else {
            "suspended"
        };
        for service in [id, other] {
            assert_eq!(
                service_status(&s, service).await,
                expected,
                "service {service}, default {default_days:?}"
            );
        }
        s.set_clock("2027-02-08T06:00:00Z").await;
        assert_eq!(
            service_status(&s, id).await,
            expected,
            "default {default_days:?}"
        );
    }
}
