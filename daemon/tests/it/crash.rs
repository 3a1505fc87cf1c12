//! SIGKILL with money: concurrent clients order, renew, adjust and allocate
//! addresses (a reseller ordering for its client too, so shadow lines are in
//! play), each logical request with its own Idempotency-Key, while the real
//! binary is killed at random moments. A request left without an answer is
//! sent again, with the same key, after the restart, until it gets one. At
//! the end every answer must replay byte for byte, and the store must hold
//! exactly what was answered: no lost write, nothing twice, no half of one.
//! Set RULESD_MONEY_CRASH_KILLS (or RULESD_CRASH_KILLS) for a longer run.

use crate::durability::Lcg;
use crate::support::{Binary, PROVIDER_KEY, client_with_key};
use crate::wholesale::{default_prices, plan};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One logical request, sent with its key until it has an answer.
#[derive(Clone)]
struct Op {
    key: String,
    as_reseller: bool,
    method: reqwest::Method,
    path: String,
    body: Value,
}

struct Answered {
    op: Op,
    status: u16,
    text: String,
}

impl Answered {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap()
    }
}

/// What the workers act on; made before the first kill.
struct Shop {
    reseller_key: String,
    reseller: u64,
    /// The provider's two clients and its tariff.
    clients: [u64; 2],
    tariff: u64,
    /// The reseller's client and plan (which consumes wholesale resources).
    reseller_client: u64,
    plan: u64,
}

impl Shop {
    /// The accounts adjustments may name: clients (a reseller's own account
    /// is charged only through its shadow lines).
    fn clients(&self) -> [u64; 3] {
        [self.clients[0], self.clients[1], self.reseller_client]
    }

    fn accounts(&self) -> [u64; 4] {
        [
            self.clients[0],
            self.clients[1],
            self.reseller,
            self.reseller_client,
        ]
    }
}

/// Send `op` once: its answer, or None if the daemon went away first.
async fn send(base: &str, as_: &reqwest::Client, op: &Op) -> Option<(u16, String)> {
    let mut req = as_
        .request(op.method.clone(), format!("{base}{}", op.path))
        .header("idempotency-key", &op.key);
    if op.method != reqwest::Method::GET {
        req = req.json(&op.body);
    }
    let response = req.send().await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.ok()?))
}

/// A request the test needs answered now (setup, checks): the daemon is not
/// being killed.
async fn must(base: &str, as_: &reqwest::Client, op: Op) -> Answered {
    let (status, text) = send(base, as_, &op).await.expect("the daemon answers");
    assert!(
        (200..300).contains(&status),
        "{} {}: {text}",
        op.path,
        op.body
    );
    Answered { op, status, text }
}

fn post(key: String, as_reseller: bool, path: String, body: Value) -> Op {
    Op {
        key,
        as_reseller,
        method: reqwest::Method::POST,
        path,
        body,
    }
}

struct Worker {
    id: usize,
    rng: Lcg,
    sent: u64,
    /// Sent, no answer yet: sent again first in the next round.
    pending: Option<Op>,
    answered: Vec<Answered>,
    /// Services this worker ordered (acknowledged), for renewals and addresses.
    services: Vec<u64>,
}

impl Worker {
    /// Every third worker is the reseller ordering and renewing for its
    /// client; the others are the provider ordering, renewing, adjusting
    /// (both ways) and allocating addresses.
    fn next_op(&mut self, shop: &Shop) -> Op {
        self.sent += 1;
        let key = format!("w{}-{}", self.id, self.sent);
        let roll = self.rng.next(10);
        let own = (!self.services.is_empty())
            .then(|| self.services[self.rng.next(self.services.len() as u64) as usize]);
        if self.id.is_multiple_of(3) {
            return match own {
                Some(s) if roll >= 6 => post(
                    key,
                    true,
                    format!("/v1/services/{s}/renew"),
                    json!({"months": 1}),
                ),
                _ => post(
                    key,
                    true,
                    "/v1/services".into(),
                    json!({"client_id": shop.reseller_client, "tariff_id": shop.plan, "months": 1}),
                ),
            };
        }
        match (roll, own) {
            (4..6, Some(s)) => post(
                key,
                false,
                format!("/v1/services/{s}/renew"),
                json!({"months": 1}),
            ),
            (6..8, Some(s)) => post(
                key,
                false,
                "/v1/ip-allocations".into(),
                json!({"service_id": s}),
            ),
            (8..10, _) => {
                let accounts = shop.clients();
                let account = accounts[self.rng.next(3) as usize];
                // Mostly credits (funds received), some charges.
                let sign = if self.rng.next(3) == 0 { "" } else { "-" };
                let amount = format!("{sign}{}.{:02}", 1 + self.rng.next(50), self.rng.next(100));
                post(
                    key,
                    false,
                    "/v1/ledger/adjustments".into(),
                    json!({"account_id": account, "currency": "EUR", "amount": amount, "description": "crash test"}),
                )
            }
            _ => post(
                key,
                false,
                "/v1/services".into(),
                json!({"client_id": shop.clients[self.id % 2], "tariff_id": shop.tariff, "months": 1}),
            ),
        }
    }

    /// Send requests until the daemon goes away (or, with `until_done`,
    /// only the pending one).
    async fn run(mut self, base: Arc<String>, shop: Arc<Shop>, only_pending: bool) -> Worker {
        let provider = client_with_key(PROVIDER_KEY);
        let reseller = client_with_key(&shop.reseller_key);
        loop {
            let op = match self.pending.take() {
                Some(op) => op,
                None if only_pending => return self,
                None => self.next_op(&shop),
            };
            let as_ = if op.as_reseller { &reseller } else { &provider };
            let Some((status, text)) = send(&base, as_, &op).await else {
                self.pending = Some(op);
                return self;
            };
            let answered = Answered { op, status, text };
            if answered.op.path == "/v1/services" && status == 201 {
                for s in answered.json()["services"].as_array().unwrap() {
                    self.services.push(s["id"].as_u64().unwrap());
                }
            }
            self.answered.push(answered);
        }
    }
}

async fn setup(base: &str) -> (Shop, Vec<Answered>) {
    let p = client_with_key(PROVIDER_KEY);
    let mut done = Vec::new();
    let mut n = 0;
    let mut key = || {
        n += 1;
        format!("setup-{n}")
    };
    let put = Op {
        key: key(),
        as_reseller: false,
        method: reqwest::Method::PUT,
        path: "/v1/wholesale-prices".into(),
        body: default_prices(),
    };
    done.push(must(base, &p, put).await);
    let tariff = json!({"name": "Basic", "currency": "EUR",
        "prices": [{"months": 1, "price": "10.00"}], "setup_fee": "5.00"});
    let t = must(base, &p, post(key(), false, "/v1/tariffs".into(), tariff)).await;
    let r = must(
        base,
        &p,
        post(
            key(),
            false,
            "/v1/resellers".into(),
            json!({"name": "acme"}),
        ),
    )
    .await;
    let (reseller, reseller_key) = {
        let r = r.json();
        (
            r["id"].as_u64().unwrap(),
            r["api_key"].as_str().unwrap().to_string(),
        )
    };
    let rk = client_with_key(&reseller_key);
    let pl = must(base, &rk, post(key(), true, "/v1/tariffs".into(), plan())).await;
    let mut clients = Vec::new();
    for (name, as_reseller) in [("alice", false), ("bob", false), ("carol", true)] {
        let as_ = if as_reseller { &rk } else { &p };
        let c = must(
            base,
            as_,
            post(
                key(),
                as_reseller,
                "/v1/clients".into(),
                json!({"name": name}),
            ),
        )
        .await;
        clients.push(c.json()["id"].as_u64().unwrap());
    }
    must(
        base,
        &p,
        post(
            key(),
            false,
            "/v1/ip-pools".into(),
            json!({"name": "crash", "ranges": ["10.0.0.0/16"]}),
        ),
    )
    .await;
    let shop = Shop {
        reseller_key,
        reseller,
        clients: [clients[0], clients[1]],
        tariff: t.json()["id"].as_u64().unwrap(),
        reseller_client: clients[2],
        plan: pl.json()["id"].as_u64().unwrap(),
    };
    // Funds enough that no order waits for them (a waiting order's lines
    // would come later, from a credit, outside its own answer).
    for account in shop.clients() {
        let fund = post(
            key(),
            false,
            "/v1/ledger/adjustments".into(),
            json!({"account_id": account, "currency": "EUR", "amount": "-1000000.00", "description": "funds"}),
        );
        done.push(must(base, &p, fund).await);
    }
    (shop, done)
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_with_money_in_flight_loses_nothing_and_does_nothing_twice() {
    let kills: u64 = ["RULESD_MONEY_CRASH_KILLS", "RULESD_CRASH_KILLS"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.parse().ok())
        .unwrap_or(50);
    let started = Instant::now();
    let data = tempfile::tempdir().unwrap();
    let mut rng = Lcg(0x0dd_ba11);

    let mut daemon = Binary::spawn(data.path(), Some(PROVIDER_KEY));
    let (shop, mut answered) = setup(&daemon.base_url()).await;
    let shop = Arc::new(shop);
    daemon.child.kill().unwrap();
    daemon.child.wait().unwrap();

    let mut workers: Vec<Worker> = (0..6)
        .map(|id| Worker {
            id,
            rng: Lcg(0x5eed + id as u64),
            sent: 0,
            pending: None,
            answered: Vec::new(),
            services: Vec::new(),
        })
        .collect();
    let mut retried = 0;
    for _ in 0..kills {
        let mut daemon = Binary::spawn(data.path(), None);
        let base = Arc::new(daemon.base_url());
        retried += workers.iter().filter(|w| w.pending.is_some()).count();
        let stop_at = Instant::now() + Duration::from_millis(30 + rng.next(170));
        let tasks: Vec<_> = workers
            .drain(..)
            .map(|w| tokio::spawn(w.run(base.clone(), shop.clone(), false)))
            .collect();
        tokio::time::sleep_until(stop_at.into()).await;
        daemon.child.kill().unwrap(); // SIGKILL
        daemon.child.wait().unwrap();
        for t in tasks {
            workers.push(t.await.unwrap());
        }
    }

    // The last start: what was in flight at the last kill gets its answer,
    // then every answer is checked against the store.
    let mut daemon = Binary::spawn(data.path(), None);
    let base = daemon.base_url();
    let arc_base = Arc::new(base.clone());
    for w in std::mem::take(&mut workers) {
        let w = w.run(arc_base.clone(), shop.clone(), true).await;
        assert!(w.pending.is_none());
        answered.extend(w.answered);
    }
    let requests = answered.len();
    check(&base, &shop, &answered).await;
    daemon.child.kill().unwrap();
    daemon.child.wait().unwrap();
    eprintln!(
        "{kills} kills, {requests} requests answered, {retried} sent again after a kill, {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        retried > 0 && requests > 10 * kills as usize,
        "too little happened to mean anything"
    );
}

async fn check(base: &str, shop: &Shop, answered: &[Answered]) {
    let p = client_with_key(PROVIDER_KEY);
    let r = client_with_key(&shop.reseller_key);

    // Every answer was a success and replays byte for byte: the request ran
    // once, and its record survived every kill after it.
    let mut keys = BTreeSet::new();
    for a in answered {
        assert!(
            (200..300).contains(&a.status),
            "{} {}: {} {}",
            a.op.path,
            a.op.body,
            a.status,
            a.text
        );
        assert!(keys.insert(a.op.key.clone()));
        let as_ = if a.op.as_reseller { &r } else { &p };
        let again = send(base, as_, &a.op).await.unwrap();
        assert_eq!(again, (a.status, a.text.clone()), "replay of {}", a.op.key);
    }

    // What the answers say was written.
    let mut services = BTreeSet::new();
    let mut lines: BTreeMap<u64, Value> = BTreeMap::new();
    let mut allocations = BTreeSet::new();
    for a in answered {
        let v = a.json();
        let mut recorded = |line: &Value| {
            let id = line["id"].as_u64().unwrap();
            assert!(lines.insert(id, line.clone()).is_none(), "line {id} twice");
        };
        match a.op.path.as_str() {
            "/v1/services" => {
                let ordered = v["services"].as_array().unwrap();
                assert_eq!(ordered.len(), 1, "one order, one service: {v}");
                for s in ordered {
                    assert!(services.insert(s["id"].as_u64().unwrap()));
                }
                v["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .for_each(&mut recorded);
            }
            "/v1/ledger/adjustments" => recorded(&v),
            "/v1/ip-allocations" => {
                assert!(allocations.insert(v["id"].as_u64().unwrap()), "{v}");
            }
            path if path.ends_with("/renew") => {
                v["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .for_each(&mut recorded);
            }
            _ => {}
        }
    }

    // The store holds exactly that: every acknowledged service, line and
    // allocation, and nothing else (no request ran twice).
    let get = async |path: String| -> Value {
        let (status, text) = send(
            base,
            &p,
            &Op {
                key: String::new(),
                as_reseller: false,
                method: reqwest::Method::GET,
                path,
                body: Value::Null,
            },
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    };
    let stored: BTreeSet<u64> = get("/v1/services".into())
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(stored, services, "services");
    let stored: BTreeSet<u64> = get("/v1/ip-allocations".into())
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_u64().unwrap())
        .collect();
    assert_eq!(stored, allocations, "allocations");

    let mut ledger: Vec<Value> = Vec::new();
    loop {
        let after = ledger.last().map_or(0, |l| l["id"].as_u64().unwrap());
        let page = get(format!("/v1/ledger?after={after}&limit=1000")).await;
        let page = page.as_array().unwrap();
        if page.is_empty() {
            break;
        }
        ledger.extend(page.iter().cloned());
    }
    let by_id: BTreeMap<u64, &Value> = ledger
        .iter()
        .map(|l| (l["id"].as_u64().unwrap(), l))
        .collect();
    for (id, line) in &lines {
        assert_eq!(by_id.get(id), Some(&line), "acknowledged line {id}");
    }
    let mut shadows: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for l in &ledger {
        let id = l["id"].as_u64().unwrap();
        match l["shadow_of"].as_u64() {
            Some(of) => shadows.entry(of).or_default().push(id),
            None => assert!(lines.contains_key(&id), "line {id} nobody was told of: {l}"),
        }
    }

    // No service without the lines of its order.
    for s in &services {
        assert!(
            ledger
                .iter()
                .any(|l| l["service_id"].as_u64() == Some(*s) && l["kind"] == "order"),
            "service {s} has no order line"
        );
    }

    // Every retail line of the reseller's client has exactly one shadow
    // line, which points back at it (manual adjustments have none).
    for l in &ledger {
        let id = l["id"].as_u64().unwrap();
        let retail =
            l["account_id"].as_u64() == Some(shop.reseller_client) && l["kind"] != "adjustment";
        let shadow = shadows.get(&id).map(Vec::as_slice).unwrap_or_default();
        if retail {
            assert_eq!(shadow.len(), 1, "line {id}'s shadows: {shadow:?}");
            assert_eq!(l["shadow_id"].as_u64(), Some(shadow[0]), "{l}");
        } else {
            assert!(shadow.is_empty(), "line {id} has shadows {shadow:?}");
        }
    }

    // Every balance is minus the sum of the account's lines.
    for account in shop.accounts() {
        let sum: Decimal = ledger
            .iter()
            .filter(|l| l["account_id"].as_u64() == Some(account))
            .map(|l| l["amount"].as_str().unwrap().parse::<Decimal>().unwrap())
            .sum();
        let balances = get(format!("/v1/ledger/balances?account_id={account}")).await;
        let balances = balances.as_array().unwrap();
        assert_eq!(balances.len(), 1, "{balances:?}");
        assert_eq!(balances[0]["currency"], "EUR");
        let balance: Decimal = balances[0]["balance"].as_str().unwrap().parse().unwrap();
        assert_eq!(balance, -sum, "account {account}");
    }
}
