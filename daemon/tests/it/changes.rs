//! Tariff changes and mid-period addons (seed 002) end to end over HTTP on a
//! test clock: each change policy and each addon policy with exact amounts
//! and dates, what the daemon refuses, quotes that match, and a change
//! racing a renewal.

use crate::billing::server_at;
use crate::support::{TestServer, fixture, write_atomically};
use rulesd::server::Config;
use serde_json::{Value, json};

/// Basic (10.00 a month, 30.00 for three) and Pro (20.00, 60.00), both with
/// `policy`, and a client.
async fn plans(s: &TestServer, policy: &str) -> (u64, u64, u64) {
    let plan = |name: &str, month: &str, quarter: &str| {
        json!({
            "name": name, "currency": "EUR", "change_policy": policy,
            "prices": [{"months": 1, "price": month}, {"months": 3, "price": quarter}],
        })
    };
    let basic = s.tariff(plan("Basic", "10.00", "30.00")).await;
    let pro = s.tariff(plan("Pro", "20.00", "60.00")).await;
    (s.client("alice", None).await, basic, pro)
}

async fn order(s: &TestServer, client: u64, tariff: u64, months: u32) -> u64 {
    s.ok(
        "/v1/services",
        json!({"client_id": client, "tariff_id": tariff, "months": months}),
    )
    .await["services"][0]["id"]
        .as_u64()
        .unwrap()
}

async fn change(s: &TestServer, service: u64, body: Value) -> Value {
    s.ok(&format!("/v1/services/{service}/change-tariff"), body)
        .await
}

/// The lines of a response as (kind, amount, period start, period end).
fn lines(v: &Value) -> Vec<(String, String, String, String)> {
    v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let text = |k: &str| l[k].as_str().unwrap_or("").to_string();
            (
                text("kind"),
                text("amount"),
                text("period_start"),
                text("period_end"),
            )
        })
        .collect()
}

fn line(kind: &str, amount: &str, start: &str, end: &str) -> (String, String, String, String) {
    (kind.into(), amount.into(), start.into(), end.into())
}

async fn balance(s: &TestServer, client: u64) -> String {
    let (_, b) = s
        .get(&format!("/v1/ledger/balances?account_id={client}"))
        .await;
    b[0]["balance"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn add_funds_or_refund_charges_the_difference_and_the_reverse_refunds_it() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let (alice, basic, pro) = plans(&s, "add-funds-or-refund").await;
    let first_day = order(&s, alice, basic, 1).await;
    let mid = order(&s, alice, basic, 1).await;
    let last_day = order(&s, alice, basic, 1).await;
    // The first day of the period (Nov 1..Dec 1, 30 days): all 30 days at
    // the difference of 10.00.
    let v = change(&s, first_day, json!({"tariff_id": pro})).await;
    assert_eq!(
        lines(&v),
        [line("change", "10.00", "2026-11-01", "2026-12-01")]
    );
    assert_eq!(v["service"]["tariff_id"], pro);
    assert_eq!(v["service"]["expires"], "2026-12-01");

    s.set_clock("2026-11-16T09:00:00Z").await;
    let before = balance(&s, alice).await;
    let up = change(&s, mid, json!({"tariff_id": pro})).await;
    assert_eq!(
        lines(&up),
        [line("change", "5.00", "2026-11-16", "2026-12-01")]
    );
    let down = change(&s, mid, json!({"tariff_id": basic})).await;
    assert_eq!(
        lines(&down),
        [line("refund", "-5.00", "2026-11-16", "2026-12-01")]
    );
    assert_eq!(down["service"]["tariff_id"], basic);
    assert_eq!(down["service"]["expires"], "2026-12-01");
    assert_eq!(balance(&s, alice).await, before, "there and back nets zero");

    // The last day: one day of 30 at the difference.
    s.set_clock("2026-11-30T23:00:00Z").await;
    let v = change(&s, last_day, json!({"tariff_id": pro})).await;
    assert_eq!(
        lines(&v),
        [line("change", "0.33", "2026-11-30", "2026-12-01")]
    );
}

/// After an early renewal the days left run over two periods: both are
/// valued, both count as paid, and a change and its reverse still cancel.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_and_its_reverse_cancel_after_an_early_renewal() {
    let s = server_at("2026-11-16T10:00:00Z").await;
    let (alice, basic, pro) = plans(&s, "add-funds-or-refund").await;
    let id = order(&s, alice, basic, 1).await;
    s.set_clock("2026-11-20T10:00:00Z").await;
    let renewed = s.ok(&format!("/v1/services/{id}/renew"), json!({})).await;
    assert_eq!(renewed["service"]["period_start"], "2026-12-16");
    s.set_clock("2026-12-01T10:00:00Z").await;
    let before = balance(&s, alice).await;
    // 46 days left, valued by the 31-day current period: 10.00 x 46/31.
    let up = change(&s, id, json!({"tariff_id": pro})).await;
    assert_eq!(
        lines(&up),
        [line("change", "14.84", "2026-12-01", "2027-01-16")]
    );
    let down = change(&s, id, json!({"tariff_id": basic})).await;
    assert_eq!(
        lines(&down),
        [line("refund", "-14.84", "2026-12-01", "2027-01-16")]
    );
    assert_eq!(balance(&s, alice).await, before);
    // A change quote cannot look at a time before the service existed.
    let (status, p) = s
        .quote(&json!({"operation": "change", "service_id": id, "tariff_id": pro, "at": "2026-11-01T00:00:00Z"}))
        .await;
    assert_eq!(status, 422, "{p:#}");
    assert!(
        p["detail"].as_str().unwrap().contains("was ordered at"),
        "{p:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn change_period_moves_the_expiry_and_no_money() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let (alice, basic, pro) = plans(&s, "change-period").await;
    let up = order(&s, alice, basic, 1).await;
    let down = order(&s, alice, pro, 1).await;
    s.set_clock("2026-11-16T09:00:00Z").await;
    let before = s.ledger("").await.len();
    // 15 days left of 30 worth 5.00 at Basic buy 7.5 days of Pro: 7 whole.
    let v = change(&s, up, json!({"tariff_id": pro})).await;
    assert_eq!(lines(&v), []);
    assert_eq!(v["service"]["expires"], "2026-11-23");
    assert_eq!(v["service"]["period_start"], "2026-11-01");
    // 15 days worth 10.00 at Pro buy 30 days of Basic.
    let v = change(&s, down, json!({"tariff_id": basic})).await;
    assert_eq!(v["service"]["expires"], "2026-12-16");
    assert_eq!(s.ledger("").await.len(), before, "no money moved");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forbidden_change_is_a_policy_violation_and_records_nothing() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let (alice, basic, pro) = plans(&s, "forbidden").await;
    let id = order(&s, alice, basic, 1).await;
    let before = s.ledger("").await;
    let (status, p) = s
        .refused(
            &format!("/v1/services/{id}/change-tariff"),
            json!({"tariff_id": pro}),
        )
        .await;
    assert_eq!(status, 422, "{p:#}");
    assert_eq!(p["type"], "urn:rulesd:problem:policy-violation", "{p:#}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("tariff Basic cannot be changed"),
        "{p:#}"
    );
    let (status, q) = s
        .quote(&json!({"operation": "change", "service_id": id, "tariff_id": pro}))
        .await;
    assert_eq!((status, &q["type"]), (422, &p["type"]), "{q:#}");
    assert_eq!(s.ledger("").await, before);
    let (_, service) = s.get(&format!("/v1/services/{id}")).await;
    assert_eq!(service["tariff_id"], basic);
}

#[tokio::test(flavor = "multi_thread")]
async fn extra_charge_only_charges_upgrades_and_lets_downgrades_keep_the_time() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let (alice, basic, pro) = plans(&s, "extra-charge-only").await;
    let id = order(&s, alice, basic, 1).await;
    s.set_clock("2026-11-16T09:00:00Z").await;
    let up = change(&s, id, json!({"tariff_id": pro})).await;
    assert_eq!(
        lines(&up),
        [line("change", "5.00", "2026-11-16", "2026-12-01")]
    );
    let down = change(&s, id, json!({"tariff_id": basic})).await;
    assert_eq!(lines(&down), []);
    assert_eq!(down["service"]["tariff_id"], basic);
    assert_eq!(down["service"]["expires"], "2026-12-01");
}

#[tokio::test(flavor = "multi_thread")]
async fn full_payment_renews_from_today_or_from_the_expiry() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let (alice, basic, pro) = plans(&s, "full-payment-from-today").await;
    let today = order(&s, alice, basic, 1).await;
    let from_expiry = s
        .tariff(json!({
            "name": "Basic-E", "currency": "EUR", "change_policy": "full-payment-from-expiry",
            "prices": [{"months": 1, "price": "10.00"}],
        }))
        .await;
    let expiry = order(&s, alice, from_expiry, 1).await;
    s.set_clock("2026-11-16T09:00:00Z").await;
    let v = change(&s, today, json!({"tariff_id": pro, "months": 3})).await;
    assert_eq!(
        lines(&v),
        [line("change", "60.00", "2026-11-16", "2027-02-16")]
    );
    assert_eq!(v["service"]["period_start"], "2026-11-16");
    assert_eq!(v["service"]["expires"], "2027-02-16");
    assert_eq!(v["service"]["months"], 3);
    let v = change(&s, expiry, json!({"tariff_id": pro, "months": 3})).await;
    assert_eq!(
        lines(&v),
        [line("change", "60.00", "2026-12-01", "2027-03-01")]
    );
    assert_eq!(v["service"]["period_start"], "2026-12-01");
    assert_eq!(v["service"]["expires"], "2027-03-01");
}

/// A response's lines with what a line says (not its ledger id or time).
fn as_lines(v: &Value) -> Vec<Value> {
    v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            json!({"kind": l["kind"], "description": l["description"], "amount": l["amount"],
                   "period_start": l["period_start"], "period_end": l["period_end"]})
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quote_of_a_change_gives_exactly_the_lines_the_change_records() {
    for policy in [
        "change-period",
        "add-funds-or-refund",
        "extra-charge-only",
        "full-payment-from-today",
        "full-payment-from-expiry",
    ] {
        let s = server_at("2026-11-01T10:00:00Z").await;
        let (alice, basic, pro) = plans(&s, policy).await;
        let id = order(&s, alice, basic, 1).await;
        let back = order(&s, alice, pro, 1).await;
        s.set_clock("2026-11-20T09:00:00Z").await;
        for (service, to) in [(id, pro), (back, basic)] {
            let (status, q) = s
                .quote(&json!({"operation": "change", "service_id": service, "tariff_id": to}))
                .await;
            assert_eq!(status, 200, "{policy}: {q:#}");
            assert_eq!(q["rule"]["hook"], "tariff-change");
            let v = change(&s, service, json!({"tariff_id": to})).await;
            let (quoted, recorded) = (as_lines(&q), as_lines(&v));
            assert_eq!(quoted, recorded, "{policy}");
            assert_eq!(q["expires"], v["service"]["expires"], "{policy}");
            assert_eq!(q["period_start"], v["service"]["period_start"], "{policy}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_the_daemon_does_not_allow_are_refused_naming_why() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let gold = s.ok("/v1/client-groups", json!({"name": "gold"})).await["id"]
        .as_u64()
        .unwrap();
    let (alice, basic, pro) = plans(&s, "add-funds-or-refund").await;
    let plan = |name: &str, extra: Value| {
        let mut t =
            json!({"name": name, "currency": "EUR", "prices": [{"months": 1, "price": "15.00"}]});
        for (k, v) in extra.as_object().unwrap() {
            t[k] = v.clone();
        }
        t
    };
    let usd = s
        .tariff(json!({"name": "Dollar", "currency": "USD", "prices": [{"months": 1, "price": "15.00"}]}))
        .await;
    let gold_only = s
        .tariff(plan("Gold", json!({"client_groups": {"allowed": [gold]}})))
        .await;
    let ended = s
        .tariff(plan("Old", json!({"end_date": "2026-10-31"})))
        .await;
    let disabled = s.tariff(plan("Off", json!({"enabled": false}))).await;
    let yearly = s
        .tariff(json!({"name": "Yearly", "currency": "EUR", "prices": [{"months": 12, "price": "100.00"}]}))
        .await;
    let small_disk = s
        .tariff(plan(
            "Small",
            json!({"addons": [{"resource": "disk-space", "unit": "GiB", "minimum": 1, "maximum": 5, "price_per_unit": "1.00"}]}),
        ))
        .await;
    let big_disk = s
        .tariff(plan(
            "Big",
            json!({"addons": [{"resource": "disk-space", "unit": "GiB", "minimum": 1, "maximum": 50, "price_per_unit": "1.00"}]}),
        ))
        .await;
    let only_pro = s
        .tariff(plan("Locked", json!({"may_change_to": [pro]})))
        .await;
    let id = order(&s, alice, basic, 1).await;
    let locked = order(&s, alice, only_pro, 1).await;
    let big = s
        .ok(
            "/v1/services",
            json!({"client_id": alice, "tariff_id": big_disk, "months": 1, "addons": [{"resource": "disk-space", "quantity": 20}]}),
        )
        .await["services"][0]["id"]
        .as_u64()
        .unwrap();
    let (_, reseller) = s.reseller("acme").await;
    let resellers_plan = s
        .post_as(&reseller, "/v1/tariffs", &plan("Acme", json!({})), None)
        .await
        .1["id"]
        .as_u64()
        .unwrap();
    let before = s.ledger("").await;
    for (service, body, status, says) in [
        (
            id,
            json!({"tariff_id": basic}),
            422,
            "already on tariff Basic",
        ),
        (id, json!({"tariff_id": usd}), 422, "priced in USD"),
        (
            id,
            json!({"tariff_id": gold_only}),
            422,
            "not available to clients outside",
        ),
        (id, json!({"tariff_id": ended}), 422, "ended on 2026-10-31"),
        (
            id,
            json!({"tariff_id": disabled}),
            422,
            "tariff Off is disabled",
        ),
        (
            id,
            json!({"tariff_id": yearly}),
            422,
            "does not sell 1-month periods",
        ),
        (
            id,
            json!({"tariff_id": pro, "months": 3}),
            422,
            "only a full-payment policy",
        ),
        (
            id,
            json!({"tariff_id": resellers_plan}),
            422,
            "changes among its seller's tariffs",
        ),
        (id, json!({"tariff_id": 999}), 404, "does not exist"),
        (
            locked,
            json!({"tariff_id": basic}),
            422,
            "may change only to tariff(s)",
        ),
        (
            big,
            json!({"tariff_id": small_disk}),
            422,
            "allows disk-space between 1 and 5 GiB",
        ),
    ] {
        let (got, p) = s
            .refused(
                &format!("/v1/services/{service}/change-tariff"),
                body.clone(),
            )
            .await;
        assert_eq!(got, status, "{body}: {p:#}");
        assert!(
            p["detail"].as_str().unwrap().contains(says),
            "{body}: {p:#}"
        );
    }
    let (status, p) = s
        .refused(
            &format!("/v1/services/{id}/change-tariff"),
            json!({"tariff_id": pro, "extra": 1}),
        )
        .await;
    assert_eq!(status, 422, "unknown fields are refused: {p:#}");
    // Only an active service changes tariff.
    s.ok(&format!("/v1/services/{locked}/suspend"), json!({}))
        .await;
    let (status, p) = s
        .refused(
            &format!("/v1/services/{locked}/change-tariff"),
            json!({"tariff_id": pro}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        p["detail"].as_str().unwrap().contains("is suspended"),
        "{p:#}"
    );
    assert_eq!(s.ledger("").await, before, "nothing was recorded");
    // A tariff's list of targets must name this account's tariffs.
    let (status, p) = s
        .refused("/v1/tariffs", plan("Bad", json!({"may_change_to": [usd]})))
        .await;
    assert_eq!(status, 422);
    assert!(
        p["detail"].as_str().unwrap().contains("priced in USD"),
        "{p:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn addons_carry_over_and_price_the_renewals_after_a_change() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let disk = |max: u32| json!([{"resource": "disk-space", "unit": "GiB", "included": 1, "minimum": 1, "maximum": max, "price_per_unit": "1.00"}]);
    let small = s
        .tariff(json!({"name": "Small", "currency": "EUR", "prices": [{"months": 1, "price": "10.00"}], "addons": disk(10)}))
        .await;
    let large = s
        .tariff(json!({"name": "Large", "currency": "EUR", "prices": [{"months": 1, "price": "20.00"}], "addons": disk(50)}))
        .await;
    let alice = s.client("alice", None).await;
    let id = s
        .ok(
            "/v1/services",
            json!({"client_id": alice, "tariff_id": small, "months": 1, "addons": [{"resource": "disk-space", "quantity": 4}]}),
        )
        .await["services"][0]["id"]
        .as_u64()
        .unwrap();
    s.set_clock("2026-11-16T09:00:00Z").await;
    // (20 + 3 extra GiB) - (10 + 3) = 10.00 a month; half a month left.
    let v = change(&s, id, json!({"tariff_id": large})).await;
    assert_eq!(
        lines(&v),
        [line("change", "5.00", "2026-11-16", "2026-12-01")]
    );
    assert_eq!(
        v["service"]["addons"],
        json!([{"resource": "disk-space", "quantity": 4}])
    );
    let renewed = s.ok(&format!("/v1/services/{id}/renew"), json!({})).await;
    assert_eq!(renewed["lines"][0]["amount"], "23.00", "{renewed:#}");
}

async fn addon_tariff(s: &TestServer, order_policy: &str, cancellation: &str) -> u64 {
    s.tariff(json!({
        "name": "Disk", "currency": "EUR",
        "prices": [{"months": 1, "price": "10.00"}, {"months": 3, "price": "30.00"}],
        "addon_order_policy": order_policy, "addon_cancellation": cancellation,
        "addons": [{"resource": "disk-space", "unit": "GiB", "included": 0, "minimum": 0, "maximum": 10, "price_per_unit": "3.10"}],
    }))
    .await
}

async fn set_disk(s: &TestServer, service: u64, quantity: u32) -> Value {
    s.ok(
        &format!("/v1/services/{service}/addons"),
        json!({"resource": "disk-space", "quantity": quantity}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn addons_ordered_mid_period_are_priced_to_the_expiry() {
    // Seed: valid until November 30, ordered November 15: 15 days.
    let s = server_at("2026-10-30T10:00:00Z").await;
    let t = addon_tariff(&s, "prorated-to-expiry", "refund").await;
    let alice = s.client("alice", None).await;
    let id = order(&s, alice, t, 1).await;
    s.set_clock("2026-11-15T10:00:00Z").await;
    let v = set_disk(&s, id, 2).await;
    // 2 x 3.10 x 15 / 31 days = 3.00
    assert_eq!(
        lines(&v),
        [line("addon", "3.00", "2026-11-15", "2026-11-30")]
    );
    assert_eq!(
        v["service"]["addons"],
        json!([{"resource": "disk-space", "quantity": 2}])
    );
    // Cancelling one unit five days later refunds its 10 unused days.
    s.set_clock("2026-11-20T10:00:00Z").await;
    let v = set_disk(&s, id, 1).await;
    assert_eq!(
        lines(&v),
        [line("refund", "-1.00", "2026-11-20", "2026-11-30")]
    );
    // The renewal prices the quantity the service has now.
    let renewed = s.ok(&format!("/v1/services/{id}/renew"), json!({})).await;
    assert_eq!(renewed["lines"][0]["amount"], "13.10", "{renewed:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn full_price_addons_pay_the_whole_last_period_and_may_not_be_refunded() {
    // Seed example 1: bought for a month until November 20, addons ordered
    // November 10: the full month.
    let s = server_at("2026-10-20T10:00:00Z").await;
    let t = addon_tariff(&s, "full-period", "no-refund").await;
    let alice = s.client("alice", None).await;
    let id = order(&s, alice, t, 1).await;
    s.set_clock("2026-11-10T10:00:00Z").await;
    let v = set_disk(&s, id, 2).await;
    assert_eq!(
        lines(&v),
        [line("addon", "6.20", "2026-10-20", "2026-11-20")]
    );
    let v = set_disk(&s, id, 0).await;
    assert_eq!(lines(&v), [], "the tariff refunds nothing");
    assert_eq!(v["service"]["addons"][0]["quantity"], 0);

    // Seed example 2: three one-month renewals, then three months; two of
    // them used: the addons cost the three months.
    let s = server_at("2026-01-01T10:00:00Z").await;
    let t = addon_tariff(&s, "full-period", "refund").await;
    let alice = s.client("alice", None).await;
    let id = order(&s, alice, t, 1).await;
    for day in ["2026-01-25", "2026-02-25"] {
        s.set_clock(&format!("{day}T10:00:00Z")).await;
        s.ok(&format!("/v1/services/{id}/renew"), json!({})).await;
    }
    s.set_clock("2026-03-25T10:00:00Z").await;
    let v = s
        .ok(&format!("/v1/services/{id}/renew"), json!({"months": 3}))
        .await;
    assert_eq!(v["service"]["period_start"], "2026-04-01");
    s.set_clock("2026-06-01T10:00:00Z").await;
    let v = set_disk(&s, id, 1).await;
    assert_eq!(
        lines(&v),
        [line("addon", "9.30", "2026-04-01", "2026-07-01")]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn addon_quantities_outside_the_limits_are_refused_naming_the_addon() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let t = addon_tariff(&s, "prorated-to-expiry", "refund").await;
    let alice = s.client("alice", None).await;
    let id = order(&s, alice, t, 1).await;
    let before = s.ledger("").await;
    for (body, says) in [
        (
            json!({"resource": "disk-space", "quantity": 11}),
            "allows disk-space between 0 and 10 GiB",
        ),
        (
            json!({"resource": "ram", "quantity": 1}),
            "has no addon \"ram\"",
        ),
        (
            json!({"resource": "disk-space", "quantity": 0}),
            "already has 0 GiB disk-space",
        ),
        (
            json!({"resource": "disk-space", "quantity": -1}),
            "quantity",
        ),
    ] {
        let (status, p) = s
            .refused(&format!("/v1/services/{id}/addons"), body.clone())
            .await;
        assert_eq!(status, 422, "{body}: {p:#}");
        assert!(
            p["detail"].as_str().unwrap().contains(says),
            "{body}: {p:#}"
        );
    }
    assert_eq!(s.ledger("").await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_racing_a_renewal_lets_one_win_and_the_ledger_stays_whole() {
    let s = server_at("2026-11-01T10:00:00Z").await;
    let (alice, basic, pro) = plans(&s, "add-funds-or-refund").await;
    s.set_clock("2026-11-16T09:00:00Z").await;
    let mut conflicts = 0;
    for _ in 0..16 {
        let id = order(&s, alice, basic, 1).await;
        let change_path = format!("/v1/services/{id}/change-tariff");
        let renew_path = format!("/v1/services/{id}/renew");
        let change_body = json!({"tariff_id": pro});
        let renew_body = json!({});
        let (changed, renewed) = tokio::join!(
            s.post_as(&s.client, &change_path, &change_body, None),
            s.post_as(&s.client, &renew_path, &renew_body, None),
        );
        let mut recorded = 0;
        for (status, v) in [&changed, &renewed] {
            match status {
                200 => recorded += v["lines"].as_array().unwrap().len(),
                409 => conflicts += 1,
                other => panic!("{other}: {v:#}"),
            }
        }
        assert!(changed.0 == 200 || renewed.0 == 200, "one of them wins");
        // Every line answered is in the ledger and nothing else was: the
        // order's line plus the winners'.
        let ledger = s.ledger(&format!("service_id={id}")).await;
        assert_eq!(ledger.len(), 1 + recorded, "{ledger:#?}");
        let (_, service) = s.get(&format!("/v1/services/{id}")).await;
        let expected_tariff = if changed.0 == 200 { pro } else { basic };
        assert_eq!(service["tariff_id"], expected_tariff);
        // Ordered on the 16th: paid to December 16; a renewal adds a month.
        let expected_expiry = if renewed.0 == 200 {
            "2027-01-16"
        } else {
            "2026-12-16"
        };
        assert_eq!(service["expires"], expected_expiry, "{service:#}");
    }
    eprintln!("{conflicts} of 16 races ended in a 409");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_rule_answering_what_the_facts_forbid_is_refused_and_nothing_recorded() {
    let rules = tempfile::tempdir().unwrap();
    write_atomically(rules.path(), "hostile.wasm", &fixture("change"));
    write_atomically(
        rules.path(),
        "rules.toml",
        b"[hooks]\ntariff-change = \"hostile.wasm\"\n",
    );
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.test_clock = Some("2026-11-01T10:00:00Z".parse().unwrap());
    config.rules_dir = Some(rules.path().to_path_buf());
    let s = TestServer::start_config(config, data).await;
    let (alice, basic, pro) = plans(&s, "add-funds-or-refund").await;
    let mut services = Vec::new();
    for _ in 0..4 {
        services.push(order(&s, alice, basic, 1).await);
    }
    s.set_clock("2026-11-16T09:00:00Z").await;
    let before = s.ledger("").await;
    let mut said = std::collections::BTreeMap::new();
    for id in services {
        let (status, p) = s
            .refused(
                &format!("/v1/services/{id}/change-tariff"),
                json!({"tariff_id": pro}),
            )
            .await;
        assert_eq!(status, 502, "{p:#}");
        assert_eq!(p["type"], "urn:rulesd:problem:rule-failed");
        said.insert(id % 4, p["detail"].as_str().unwrap().to_string());
        let (_, service) = s.get(&format!("/v1/services/{id}")).await;
        assert_eq!(service["tariff_id"], basic);
        assert_eq!(service["expires"], "2026-12-01");
    }
    for (case, says) in [
        (0, "cannot expire before it"),
        (1, "negative"),
        (2, "outside"),
        (3, "finer than the smallest unit"),
    ] {
        assert!(said[&case].contains(says), "case {case}: {}", said[&case]);
    }
    assert_eq!(s.ledger("").await, before, "nothing was recorded");
}
