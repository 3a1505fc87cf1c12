//! Property: over random sequences of orders, renewals, addon changes
//! (charges and refunds) and days of daily charging for a reseller's
//! client, every retail line has exactly one shadow line of the same sign
//! (or zero), no shadow line lacks its retail line, and the margins the API
//! reports are the retail lines minus the shadow lines, to the cent.

use super::{Shop, amount};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Op {
    Order { months: u32, daily: bool },
    Renew(usize),
    Addon(usize, u32),
    Days(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (prop::sample::select(vec![1u32, 12]), any::<bool>())
            .prop_map(|(months, daily)| Op::Order { months, daily }),
        2 => (0..4usize).prop_map(Op::Renew),
        3 => (0..4usize, 0..6u32).prop_map(|(i, q)| Op::Addon(i, q)),
        2 => (1..4u32).prop_map(Op::Days),
    ]
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let shop = Shop::open("2026-03-05T10:00:00Z").await;
    let mut daily = super::plan();
    daily["name"] = json!("A Daily");
    daily["daily"] = json!({"price": "0.30"});
    let daily_plan = shop.ok("/v1/tariffs", daily).await["id"].as_u64().unwrap();
    let mut services: Vec<u64> = Vec::new();
    let mut day = chrono::NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
    for op in ops {
        match op {
            Op::Order { months, daily } => {
                let tariff = if daily { daily_plan } else { shop.plan };
                let v = shop
                    .ok(
                        "/v1/services",
                        json!({"client_id": shop.client, "tariff_id": tariff, "months": months}),
                    )
                    .await;
                services.push(v["services"][0]["id"].as_u64().unwrap());
            }
            Op::Renew(i) | Op::Addon(i, _) if services.is_empty() => {
                let _ = i;
            }
            Op::Renew(i) => {
                let id = services[i % services.len()];
                // Daily services are not renewed by hand: refused, nothing recorded.
                let _ = shop
                    .s
                    .post_as(
                        &shop.key,
                        &format!("/v1/services/{id}/renew"),
                        &json!({}),
                        None,
                    )
                    .await;
            }
            Op::Addon(i, quantity) => {
                let id = services[i % services.len()];
                let _ = shop
                    .s
                    .post_as(
                        &shop.key,
                        &format!("/v1/services/{id}/addons"),
                        &json!({"resource": "disk-space", "quantity": quantity}),
                        None,
                    )
                    .await;
            }
            Op::Days(n) => {
                day = day + chrono::Days::new(n.into());
                shop.s.set_clock(&format!("{day}T06:00:00Z")).await;
            }
        }
    }
    let retail = shop.lines_of(shop.client).await;
    let wholesale = shop.lines_of(shop.reseller).await;
    let by_id: BTreeMap<u64, &Value> = wholesale
        .iter()
        .map(|l| (l["id"].as_u64().unwrap(), l))
        .collect();
    for line in &retail {
        let shadow = line["shadow_id"].as_u64().and_then(|id| by_id.get(&id));
        let Some(shadow) = shadow else {
            return Err(TestCaseError::fail(format!("no shadow line for {line:#}")));
        };
        prop_assert_eq!(&shadow["shadow_of"], &line["id"]);
        let (r, w) = (amount(line), amount(shadow));
        prop_assert!(
            w.is_zero() || r.is_sign_negative() == w.is_sign_negative(),
            "{} vs {}",
            r,
            w
        );
        let parts: Decimal = shadow["parts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(amount)
            .sum();
        prop_assert_eq!(parts, w);
    }
    prop_assert_eq!(
        wholesale.len(),
        retail.len(),
        "a shadow line without its retail line"
    );
    let (_, m) = shop
        .s
        .get(&format!(
            "/v1/resellers/{}/margins?from=2026-03-05&to={day}",
            shop.reseller
        ))
        .await;
    let total = |ls: &[Value]| ls.iter().map(amount).sum::<Decimal>();
    let (r, w) = (total(&retail), total(&wholesale));
    if retail.is_empty() {
        prop_assert_eq!(&m["totals"], &json!([]));
    } else {
        prop_assert_eq!(
            &m["totals"],
            &json!([{"currency": "EUR", "retail": format!("{r:.2}"), "wholesale": format!("{w:.2}"), "margin": format!("{:.2}", r - w)}])
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn every_retail_line_has_one_shadow_line_and_the_margins_add_up(
        ops in proptest::collection::vec(op(), 1..14),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(run(ops))?;
    }
}
