//! Reseller wholesale billing: price lists, shadow lines, daily bills and
//! margins, end to end over HTTP on a test clock.

mod bills;
mod prices;
mod properties;
mod shadows;

use crate::billing::server_at;
use crate::support::TestServer;
use serde_json::{Value, json};
use std::sync::Arc;

/// A reseller selling its own plan built on the provider's resources, with
/// one client, on a test clock.
pub(crate) struct Shop {
    pub s: Arc<TestServer>,
    pub reseller: u64,
    pub key: reqwest::Client,
    /// "A Web": 5.00 a month or 50.00 a year, setup 2.00; one service
    /// consumes 10 GiB of disk and 5 mailboxes; disk addon at 0.50 a GiB.
    pub plan: u64,
    pub client: u64,
}

/// The provider's default EUR list: base 1.00 a service, disk 0.10 a GiB,
/// mailboxes 0.05: one "A Web" service is 2.25 a month at wholesale.
pub(crate) fn default_prices() -> Value {
    json!({"currency": "EUR", "service_base": "1.00", "resources": [
        {"resource": "disk-space", "unit": "GiB", "price": "0.10"},
        {"resource": "mailbox", "unit": "mailbox", "price": "0.05"},
    ]})
}

pub(crate) fn plan() -> Value {
    json!({"name": "A Web", "currency": "EUR",
           "prices": [{"months": 1, "price": "5.00"}, {"months": 12, "price": "50.00"}],
           "setup_fee": "2.00", "simultaneous_orders": 100,
           "consumes": [{"resource": "disk-space", "quantity": 10}, {"resource": "mailbox", "quantity": 5}],
           "addons": [{"resource": "disk-space", "unit": "GiB", "maximum": 100, "price_per_unit": "0.50"}]})
}

impl Shop {
    pub async fn open(at: &str) -> Shop {
        let s = server_at(at).await;
        let r = s
            .client
            .put(s.url("/v1/wholesale-prices"))
            .json(&default_prices())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        Shop::add_reseller(Arc::new(s), "acme").await
    }

    /// Another reseller on the same server, with its plan and a client.
    pub async fn another(&self, name: &str) -> Shop {
        Shop::add_reseller(self.s.clone(), name).await
    }

    async fn add_reseller(s: Arc<TestServer>, name: &str) -> Shop {
        let (reseller, key) = s.reseller(name).await;
        let (status, t) = s.post_as(&key, "/v1/tariffs", &plan(), None).await;
        assert_eq!(status, 201, "{t:#}");
        let (status, c) = s
            .post_as(
                &key,
                "/v1/clients",
                &json!({"name": format!("{name}-client")}),
                None,
            )
            .await;
        assert_eq!(status, 201, "{c:#}");
        Shop {
            s,
            reseller,
            key,
            plan: t["id"].as_u64().unwrap(),
            client: c["id"].as_u64().unwrap(),
        }
    }

    /// The reseller orders its client a service for `months`; its lines.
    pub async fn order(&self, months: u32) -> Value {
        self.order_n(months, 1).await
    }

    pub async fn order_n(&self, months: u32, count: u32) -> Value {
        let (status, v) = self
            .s
            .post_as(
                &self.key,
                "/v1/services",
                &json!({"client_id": self.client, "tariff_id": self.plan, "months": months, "count": count}),
                None,
            )
            .await;
        assert_eq!(status, 201, "{v:#}");
        v
    }

    /// POST as the reseller; the answer, which must be a success.
    pub async fn ok(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.s.post_as(&self.key, path, &body, None).await;
        assert!(
            (200..300).contains(&status),
            "{path} {body}: {status} {v:#}"
        );
        v
    }

    /// Every ledger line of an account, as the provider sees them.
    pub async fn lines_of(&self, account: u64) -> Vec<Value> {
        self.s.ledger(&format!("account_id={account}")).await
    }

    pub async fn balance(&self, account: u64) -> String {
        let (status, v) = self
            .s
            .get(&format!("/v1/ledger/balances?account_id={account}"))
            .await;
        assert_eq!(status, 200, "{v:#}");
        v[0]["balance"].as_str().unwrap().to_string()
    }
}

/// A line's amount as a decimal.
pub(crate) fn amount(line: &Value) -> rust_decimal::Decimal {
    line["amount"].as_str().unwrap().parse().unwrap()
}
