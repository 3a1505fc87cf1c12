//! Daily bills and margins: a day's shadow lines summed per resource type
//! at the end of the day, billed once whatever happens, and seen by the
//! reseller only from the next day.

use super::{Shop, amount};
use crate::support::{Binary, PROVIDER_KEY, client_with_key};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// (resource -> (sum, lines)) of the parts of `lines` recorded on `day`.
fn sums_of(lines: &[Value], day: &str) -> BTreeMap<String, (Decimal, u64)> {
    let mut out: BTreeMap<String, (Decimal, u64)> = BTreeMap::new();
    for l in lines
        .iter()
        .filter(|l| l["at"].as_str().unwrap().starts_with(day))
    {
        for p in l["parts"].as_array().into_iter().flatten() {
            let e = out
                .entry(p["resource"].as_str().unwrap().into())
                .or_default();
            e.0 += amount(p);
            e.1 += 1;
        }
    }
    out
}

fn bill_sums(bills: &Value) -> BTreeMap<String, (Decimal, u64)> {
    bills
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["resource"].as_str().unwrap().to_string(),
                (amount(b), b["lines"].as_u64().unwrap()),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_day_of_mixed_charges_is_billed_per_resource_type_the_next_day() {
    let acme = Shop::open("2026-03-05T10:00:00Z").await;
    let beta = acme.another("beta").await;
    // Beta pays more for disk than the default.
    let mut own = super::default_prices();
    own["reseller_id"] = json!(beta.reseller);
    own["resources"][0]["price"] = json!("0.20");
    let r = acme
        .s
        .client
        .put(acme.s.url("/v1/wholesale-prices"))
        .json(&own)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let service = acme.order(1).await["services"][0]["id"].as_u64().unwrap();
    acme.order(12).await;
    acme.ok(
        &format!("/v1/services/{service}/addons"),
        json!({"resource": "disk-space", "quantity": 4}),
    )
    .await;
    beta.order_n(1, 3).await;
    let day = "2026-03-05";
    let bills_path = |r: u64| format!("/v1/resellers/{r}/bills?from={day}&to={day}");

    // The same day: nothing for the reseller, running totals for the provider.
    let (status, none) = acme.s.get_as(&acme.key, &bills_path(acme.reseller)).await;
    assert_eq!((status, none), (200, json!([])));
    let (_, open) = acme.s.get(&bills_path(acme.reseller)).await;
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .all(|b| b["status"] == "open"),
        "{open:#}"
    );

    // The next day the daily job bills the day: one bill per type each.
    acme.s.set_clock("2026-03-06T06:00:00Z").await;
    for shop in [&acme, &beta] {
        let (status, bills) = shop.s.get_as(&shop.key, &bills_path(shop.reseller)).await;
        assert_eq!(status, 200);
        assert!(
            bills
                .as_array()
                .unwrap()
                .iter()
                .all(|b| b["status"] == "closed" && b["day"] == day)
        );
        let expected = sums_of(&shop.lines_of(shop.reseller).await, day);
        assert_eq!(bill_sums(&bills), expected, "{bills:#}");
        assert_eq!(
            bills
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["resource"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["disk-space", "mailbox", "service"]
        );
    }
    // Acme: 2.25 for a month, 27.00 for a year; 4 GiB added for the rest of the month.
    let (_, bills) = acme.s.get(&bills_path(acme.reseller)).await;
    assert_eq!(bill_sums(&bills)["service"], ("13.00".parse().unwrap(), 2));
    // Beta: 3 services of a month at its own disk price 0.20.
    let (_, bills) = beta.s.get(&bills_path(beta.reseller)).await;
    assert_eq!(
        bill_sums(&bills)["disk-space"],
        ("6.00".parse().unwrap(), 3)
    );

    // Billing the day again bills nothing more.
    let app = acme.s.app();
    assert_eq!(
        app.bill_day(NaiveDate::from_ymd_opt(2026, 3, 5).unwrap())
            .await
            .unwrap(),
        0
    );
    let (_, again) = beta.s.get(&bills_path(beta.reseller)).await;
    assert_eq!(again, bills);
}

#[tokio::test(flavor = "multi_thread")]
async fn margins_are_retail_minus_wholesale_per_resource_type() {
    let acme = Shop::open("2026-03-05T10:00:00Z").await;
    acme.order(1).await;
    acme.order(12).await;
    let path = format!(
        "/v1/resellers/{}/margins?from=2026-03-01&to=2026-03-31",
        acme.reseller
    );
    // The reseller sees its margins up to yesterday: nothing yet.
    let (_, early) = acme.s.get_as(&acme.key, &path).await;
    assert_eq!(early["totals"], json!([]), "{early:#}");
    let (status, m) = acme.s.get(&path).await;
    assert_eq!(status, 200, "{m:#}");
    // Retail 5.00 + 2.00 setup + 50.00 + 2.00; wholesale 2.25 + 27.00.
    assert_eq!(
        m["totals"],
        json!([{"currency": "EUR", "retail": "59.00", "wholesale": "29.25", "margin": "29.75"}])
    );
    let mut sum = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for r in m["resources"].as_array().unwrap() {
        let (retail, wholesale, margin) = (
            r["retail"].as_str().unwrap().parse::<Decimal>().unwrap(),
            r["wholesale"].as_str().unwrap().parse::<Decimal>().unwrap(),
            r["margin"].as_str().unwrap().parse::<Decimal>().unwrap(),
        );
        assert_eq!(retail - wholesale, margin, "{r:#}");
        sum = (sum.0 + retail, sum.1 + wholesale, sum.2 + margin);
    }
    assert_eq!(
        sum,
        (
            "59.00".parse().unwrap(),
            "29.25".parse().unwrap(),
            "29.75".parse().unwrap()
        )
    );
    acme.s.set_clock("2026-03-06T06:00:00Z").await;
    let (_, seen) = acme.s.get_as(&acme.key, &path).await;
    assert_eq!(seen["totals"], m["totals"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bills_and_margins_are_the_resellers_own() {
    let acme = Shop::open("2026-03-05T10:00:00Z").await;
    acme.order(1).await;
    acme.s.set_clock("2026-03-06T06:00:00Z").await;
    let beta = acme.another("beta").await;
    for what in ["bills", "margins"] {
        let path = format!("/v1/resellers/{}/{what}?from=2026-03-01", acme.reseller);
        let (status, _) = beta.s.get_as(&beta.key, &path).await;
        assert_eq!(status, 404, "beta reads acme's {what}");
        let (status, _) = acme.s.get_as(&acme.key, &path).await;
        assert_eq!(status, 200);
        // A client is not a reseller.
        let (status, _) = acme
            .s
            .get(&format!("/v1/resellers/{}/{what}", acme.client))
            .await;
        assert_eq!(status, 404);
        let (status, p) = acme
            .s
            .get(&format!(
                "/v1/resellers/{}/{what}?from=2026-03-09&to=2026-03-01",
                acme.reseller
            ))
            .await;
        assert_eq!(status, 422, "{p:#}");
        let (status, _) = acme
            .s
            .get(&format!(
                "/v1/resellers/{}/{what}?from=2025-01-01&to=2026-03-01",
                acme.reseller
            ))
            .await;
        assert_eq!(status, 422, "more than 366 days");
        let (status, _) = acme
            .s
            .get(&format!(
                "/v1/resellers/{}/{what}?from=2026-02-30",
                acme.reseller
            ))
            .await;
        assert_eq!(status, 422, "an impossible date");
    }
}

/// Build a day of shadow lines on the real binary, then start it on the
/// next day again and again, SIGKILLing it while the daily job bills the
/// day; at the end every type of the day is billed once, exactly.
#[tokio::test(flavor = "multi_thread")]
async fn a_crash_while_billing_a_day_bills_it_once() {
    let data = tempfile::tempdir().unwrap();
    let mut daemon = Binary::spawn_with(
        data.path(),
        Some(PROVIDER_KEY),
        &["--test-clock", "2026-03-05T10:00:00Z"],
    );
    let base = daemon.base_url();
    let provider = client_with_key(PROVIDER_KEY);
    let post = async |client: &reqwest::Client, path: &str, body: Value| -> Value {
        let r = client
            .post(format!("{base}{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}");
        r.json().await.unwrap()
    };
    let r = provider
        .put(format!("{base}/v1/wholesale-prices"))
        .json(&super::default_prices())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let reseller = post(&provider, "/v1/resellers", json!({"name": "acme"})).await;
    let acme = client_with_key(reseller["api_key"].as_str().unwrap());
    let reseller = reseller["id"].as_u64().unwrap();
    let plan = post(&acme, "/v1/tariffs", super::plan()).await["id"].clone();
    let client = post(&acme, "/v1/clients", json!({"name": "c"})).await["id"].clone();
    for _ in 0..20 {
        post(
            &acme,
            "/v1/services",
            json!({"client_id": client, "tariff_id": plan, "months": 1, "count": 50}),
        )
        .await;
    }
    daemon.child.kill().unwrap();
    daemon.child.wait().unwrap();

    let mut delay = 7u64;
    for _ in 0..8 {
        let mut d =
            Binary::spawn_with(data.path(), None, &["--test-clock", "2026-03-06T06:00:00Z"]);
        d.base_url();
        delay = (delay * 37 + 11) % 120;
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        d.child.kill().unwrap();
        d.child.wait().unwrap();
    }
    let mut d = Binary::spawn_with(data.path(), None, &["--test-clock", "2026-03-06T06:00:00Z"]);
    let base = d.base_url();
    let path = format!("{base}/v1/resellers/{reseller}/bills?from=2026-03-05&to=2026-03-05");
    let mut bills = Value::Null;
    for _ in 0..100 {
        bills = provider
            .get(&path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if bills
            .as_array()
            .is_some_and(|b| !b.is_empty() && b.iter().all(|b| b["status"] == "closed"))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // 1,000 services of a month: 2.25 each, 2,000 shadow lines with the setups.
    assert_eq!(
        bill_sums(&bills),
        BTreeMap::from([
            ("disk-space".to_string(), ("1000.00".parse().unwrap(), 1000)),
            ("mailbox".to_string(), ("250.00".parse().unwrap(), 1000)),
            ("service".to_string(), ("1000.00".parse().unwrap(), 1000)),
        ]),
        "{bills:#}"
    );
    d.child.kill().unwrap();
    d.child.wait().unwrap();
}
