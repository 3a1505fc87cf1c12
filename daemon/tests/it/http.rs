//! End to end over real HTTP on 127.0.0.1: quotes, problem documents for bad
//! input, and the OpenAPI document.

use crate::support::{TestServer, order, tariff};
use serde_json::{Value, json};

async fn post_raw(server: &TestServer, path: &str, body: &str) -> (u16, String, Value) {
    let r = server
        .client
        .post(server.url(path))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ctype = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn quote_for_an_order_and_a_renewal() {
    let server = TestServer::start(None).await;
    let (status, q) = server.quote(&order(None)).await;
    assert_eq!(status, 200, "{q:#}");
    assert_eq!(q["currency"], "EUR");
    assert_eq!(
        q["lines"],
        json!([
            {"kind": "order", "description": "Basic, 1 month", "amount": "10.00",
             "period_start": "2026-01-31", "period_end": "2026-02-28"},
            {"kind": "setup", "description": "Basic, setup fee", "amount": "5.00"}
        ])
    );
    assert_eq!(q["total"], "15.00");
    // Jan 31 + 1 month clamps to Feb 28.
    assert_eq!(q["expires"], "2026-02-28");
    assert_eq!(q["rule"]["hook"], "pricing");
    assert!(q["rule"]["fuel_used"].as_u64().unwrap() > 0);

    let renewal = json!({
        "operation": "renewal",
        "tariff": tariff(),
        "months": 1,
        "service": {"id": "s-1", "status": "active", "expires": "2026-03-01", "months": 1},
        "at": "2026-02-20T00:00:00Z"
    });
    let (status, q) = server.quote(&renewal).await;
    assert_eq!(status, 200, "{q:#}");
    assert_eq!(q["total"], "9.50");
    assert_eq!(q["period_start"], "2026-03-01");
    assert_eq!(q["expires"], "2026-04-01");
}

#[tokio::test(flavor = "multi_thread")]
async fn money_is_rounded_to_the_currency_minor_unit() {
    let server = TestServer::start(None).await;
    // 17 Jan to the pro-rata day (1 Feb) is 15 of January's 31 days.
    let quote = |currency: &str| {
        json!({
            "tariff": {"name": "Calendar", "currency": currency,
                "prices": [{"months": 1, "price": "1000"}], "calendar": {"pro_rata_day": 1}},
            "months": 1,
            "at": "2026-01-17T10:00:00Z"
        })
    };
    let amounts = |q: &Value| -> Vec<String> {
        q["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["amount"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, eur) = server.quote(&quote("EUR")).await;
    assert_eq!(status, 200, "{eur:#}");
    let (status, jpy) = server.quote(&quote("JPY")).await;
    assert_eq!(status, 200, "{jpy:#}");
    assert!(
        amounts(&eur)
            .iter()
            .all(|a| a.split('.').nth(1).map(str::len) == Some(2)),
        "{eur:#}"
    );
    assert!(amounts(&jpy).iter().all(|a| !a.contains('.')), "{jpy:#}");
    // The same amounts, each rounded to its currency's unit.
    for (e, j) in amounts(&eur).iter().zip(amounts(&jpy)) {
        let e: rust_decimal::Decimal = e.parse().unwrap();
        let rounded =
            e.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        assert_eq!(rounded.to_string(), j, "{eur:#} {jpy:#}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_problem_document_never_a_500() {
    let server = TestServer::start(None).await;
    let valid = order(None).to_string();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = order(None);
        f(&mut v);
        v.to_string()
    };
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "truncated JSON",
            valid[..valid.len() / 2].to_string(),
            400,
            "malformed-request",
        ),
        ("not JSON", "hello".into(), 400, "malformed-request"),
        (
            "an array",
            "[]".into(),
            422,
            "must be a JSON object, not an array",
        ),
        (
            "null",
            " null".into(),
            422,
            "must be a JSON object, not null",
        ),
        ("truncated array", "[1,".into(), 400, "malformed-request"),
        (
            "unknown field",
            with(&|v| v["colour"] = json!("red")),
            422,
            "unknown field `colour`",
        ),
        (
            "unknown tariff field",
            with(&|v| v["tariff"]["discount"] = json!("1")),
            422,
            "unknown field `discount`",
        ),
        (
            "number for money",
            with(&|v| v["tariff"]["setup_fee"] = json!(5)),
            422,
            "setup_fee",
        ),
        (
            "bad decimal",
            with(&|v| v["tariff"]["setup_fee"] = json!("5,00")),
            422,
            "setup_fee",
        ),
        (
            "scientific notation",
            with(&|v| v["tariff"]["setup_fee"] = json!("1e2")),
            422,
            "1e2\\\" is not a decimal amount",
        ),
        (
            "negative price",
            with(&|v| v["tariff"]["prices"][0]["price"] = json!("-1")),
            422,
            "-1 is negative",
        ),
        (
            "impossible date",
            with(&|v| v["at"] = json!("2026-02-30T00:00:00Z")),
            422,
            "at",
        ),
        (
            "a day whose periods would leave four-digit years",
            with(&|v| v["at"] = json!("9999-12-31T00:00:00Z")),
            422,
            "outside the days rulesd accepts",
        ),
        (
            "bad period",
            with(&|v| v["months"] = json!(2)),
            422,
            "2 is not a period length",
        ),
        (
            "negative months",
            with(&|v| v["months"] = json!(-1)),
            422,
            "months",
        ),
        (
            "bad currency",
            with(&|v| v["tariff"]["currency"] = json!("euro")),
            422,
            "ISO 4217",
        ),
        (
            "renewal without service",
            with(&|v| v["operation"] = json!("renewal")),
            422,
            "needs the service",
        ),
        (
            "unsold period",
            with(&|v| v["months"] = json!(3)),
            422,
            "not sold for 3 month",
        ),
    ];
    for (name, body, status, needle) in cases {
        let (got, ctype, problem) = post_raw(&server, "/v1/quotes", &body).await;
        assert_eq!(got, status, "{name}: {problem:#}");
        assert_eq!(ctype, "application/problem+json", "{name}");
        assert_eq!(problem["status"], status, "{name}");
        let text = format!("{} {}", problem["type"], problem["detail"]);
        assert!(text.contains(needle), "{name}: {text}");
    }

    let huge = format!(
        "{{\"pad\": \"{}\"}}",
        "x".repeat(rulesd::http::BODY_LIMIT + 10)
    );
    let (status, ctype, _) = post_raw(&server, "/v1/quotes", &huge).await;
    assert_eq!((status, ctype.as_str()), (413, "application/problem+json"));

    // No content type, or one that is not JSON: 415. JSON with parameters: fine.
    for (ctype, status) in [
        (None, 415),
        (Some("application/jsonx"), 415),
        (Some("text/plain"), 415),
        (Some("application/json; charset=utf-8"), 200),
    ] {
        let mut request = server.client.post(server.url("/v1/quotes"));
        if let Some(ctype) = ctype {
            request = request.header("content-type", ctype);
        }
        let r = request.body(valid.clone()).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{ctype:?}");
    }

    let (status, body) = server.get("/v1/nothing-here").await;
    assert_eq!(
        (status, body["type"].as_str()),
        (404, Some("urn:rulesd:problem:not-found"))
    );
    let r = server
        .client
        .delete(server.url("/v1/quotes"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
}

/// The committed `daemon/openapi.json` is what the code generates; set
/// RULESD_UPDATE_OPENAPI=1 to rewrite it after changing the API.
#[tokio::test(flavor = "multi_thread")]
async fn openapi_document_is_served_in_sync_and_complete() {
    let server = TestServer::start(None).await;
    let (status, served) = server.get("/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(served["openapi"], "3.1.0");

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let generated = rulesd::http::openapi_document().to_pretty_json().unwrap() + "\n";
    if std::env::var_os("RULESD_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "daemon/openapi.json is out of date: run RULESD_UPDATE_OPENAPI=1 cargo test -p rulesd openapi"
    );
    assert_eq!(served, serde_json::from_str::<Value>(&generated).unwrap());

    // Every documented operation exists on the router: it may answer 404 for
    // an unknown id (or 404 for the clock without --test-clock), but never
    // with the router's own "no such endpoint" or 405.
    for (path, item) in served["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let url = server.url(&path.replace("{id}", "1"));
            let req = server
                .client
                .request(method.to_uppercase().parse().unwrap(), url);
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            let unrouted = body["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("no such endpoint"));
            assert!(
                status != 405 && !unrouted,
                "{method} {path} -> {status} {body}"
            );
        }
    }
}

/// The document says what the API does, for the facts a review found wrong:
/// query parameters are in the query, bodies that may be left out are
/// optional, and the error statuses the API answers are listed.
#[tokio::test(flavor = "multi_thread")]
async fn openapi_document_declares_query_parameters_optional_bodies_and_errors() {
    let data = tempfile::tempdir().unwrap();
    let mut config =
        rulesd::server::Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.test_clock = Some("2026-01-01T00:00:00Z".parse().unwrap());
    let server = TestServer::start_config(config, data).await;
    let doc = server.get("/v1/openapi.json").await.1;
    let op = |method: &str, path: &str| doc["paths"][path][method].clone();

    for (method, path, names) in [
        (
            "get",
            "/v1/ledger",
            &["account_id", "service_id", "after", "limit"][..],
        ),
        ("get", "/v1/ledger/balances", &["account_id"]),
        ("get", "/v1/services", &["client_id"]),
        ("post", "/v1/rules/diff", &["since", "show"]),
    ] {
        let params = op(method, path)["parameters"].as_array().unwrap().clone();
        for name in names {
            let p = params
                .iter()
                .find(|p| p["name"] == *name)
                .unwrap_or_else(|| panic!("{method} {path}: no parameter {name}"));
            assert_eq!(p["in"], "query", "{method} {path} {name}");
            // Only a balance cannot do without its account.
            let required = path == "/v1/ledger/balances";
            assert_eq!(p["required"] == true, required, "{method} {path} {name}");
        }
    }
    // Every path parameter names a segment of its path.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    let segment = format!("{{{}}}", p["name"].as_str().unwrap());
                    assert!(path.contains(&segment), "{method} {path}: {p}");
                }
            }
        }
    }

    // Bodies that may be left out are optional; one that is sent is an object.
    for (method, path) in [
        ("post", "/v1/services/{id}/renew"),
        ("post", "/v1/services/{id}/suspend"),
        ("post", "/v1/services/{id}/resume"),
        ("delete", "/v1/services/{id}"),
        ("post", "/v1/api-keys"),
    ] {
        let body = op(method, path)["requestBody"].clone();
        assert_ne!(body["required"], true, "{method} {path}: {body}");
        assert!(
            body["content"]["application/json"]["schema"]["$ref"].is_string(),
            "{method} {path}: {body}"
        );
    }
    assert_eq!(op("post", "/v1/services")["requestBody"]["required"], true);

    // Statuses the API answers are listed for their operation, as problem
    // documents.
    let (_, reseller) = server.reseller("r").await;
    let anonymous = reqwest::Client::new();
    let send =
        |req: reqwest::RequestBuilder| async move { req.send().await.unwrap().status().as_u16() };
    let answered = [
        (
            "get",
            "/v1/ledger",
            404,
            send(server.client.get(server.url("/v1/ledger?account_id=999"))).await,
        ),
        (
            "get",
            "/v1/ledger",
            422,
            send(server.client.get(server.url("/v1/ledger?limit=abc"))).await,
        ),
        (
            "get",
            "/v1/ledger/balances",
            422,
            send(server.client.get(server.url("/v1/ledger/balances"))).await,
        ),
        (
            "get",
            "/v1/services",
            404,
            send(server.client.get(server.url("/v1/services?client_id=999"))).await,
        ),
        (
            "post",
            "/v1/clock",
            403,
            send(
                reseller
                    .post(server.url("/v1/clock"))
                    .json(&json!({"now": "2026-02-01T00:00:00Z"})),
            )
            .await,
        ),
        (
            "get",
            "/v1/tariffs",
            401,
            send(anonymous.get(server.url("/v1/tariffs"))).await,
        ),
        // No body at all: accepted as such, so the unknown service is the answer.
        (
            "post",
            "/v1/services/{id}/renew",
            404,
            send(server.client.post(server.url("/v1/services/999/renew"))).await,
        ),
    ];
    for (method, path, expected, status) in answered {
        assert_eq!(status, expected, "{method} {path}");
        let response = &op(method, path)["responses"][status.to_string()];
        assert!(
            response["content"]["application/problem+json"]["schema"]["$ref"]
                .as_str()
                .is_some_and(|r| r.ends_with("/Problem")),
            "{method} {path} does not list {status}: {response}"
        );
    }
    // A rule-calling operation lists the rule's failure and a full pool.
    for (method, path) in [
        ("post", "/v1/services"),
        ("post", "/v1/services/{id}/renew"),
        ("post", "/v1/services/{id}/resume"),
        ("post", "/v1/quotes"),
    ] {
        for status in ["502", "503"] {
            assert!(
                op(method, path)["responses"][status].is_object(),
                "{method} {path} does not list {status}"
            );
        }
    }
    // Every secured operation lists 401.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op["security"].is_array() {
                assert!(op["responses"]["401"].is_object(), "{method} {path}");
            }
        }
    }
}

/// Amounts are plain decimals ("5." and ".5" are typos, not prices), ledger
/// amounts keep exactly the currency's places, a tariff's charged-as-is
/// prices are whole minor units, and ISO's "no currency" is refused.
#[tokio::test]
async fn money_text_is_strict_and_kept_in_the_currencys_places() {
    let s = TestServer::start(None).await;
    let (status, c) = s
        .post_as(&s.client, "/v1/clients", &json!({"name": "c"}), None)
        .await;
    assert_eq!(status, 201);
    let client = c["id"].as_u64().unwrap();
    let adjust = |currency: &str, amount: &str| json!({"account_id": client, "currency": currency, "amount": amount, "description": "payment"});
    for amount in ["5.", ".5", "-.5", "1e2", "+1"] {
        let (status, p) = s
            .post_as(
                &s.client,
                "/v1/ledger/adjustments",
                &adjust("EUR", amount),
                None,
            )
            .await;
        assert_eq!(status, 422, "{amount}: {p:#}");
        assert!(
            p["detail"].as_str().unwrap().contains("decimal amount"),
            "{p:#}"
        );
    }
    let (status, line) = s
        .post_as(
            &s.client,
            "/v1/ledger/adjustments",
            &adjust("JPY", "-1.0"),
            None,
        )
        .await;
    assert_eq!(status, 201, "{line:#}");
    assert_eq!(line["amount"], "-1");
    let (_, b) = s
        .get(&format!("/v1/ledger/balances?account_id={client}"))
        .await;
    assert_eq!(b[0]["balance"], "1");
    let (_, line) = s
        .post_as(
            &s.client,
            "/v1/ledger/adjustments",
            &adjust("EUR", "-2.5"),
            None,
        )
        .await;
    assert_eq!(line["amount"], "-2.50");
    let tariff = |extra: Value| {
        let mut t =
            json!({"name": "T", "currency": "EUR", "prices": [{"months": 1, "price": "10.00"}]});
        for (k, v) in extra.as_object().unwrap() {
            t[k] = v.clone();
        }
        t
    };
    for (extra, field) in [
        (
            json!({"prices": [{"months": 1, "price": "0.001"}]}),
            "tariff.prices[0].price",
        ),
        (
            json!({"renewal_prices": [{"months": 1, "price": "9.995"}]}),
            "tariff.renewal_prices[0].price",
        ),
        (json!({"setup_fee": "10.005"}), "tariff.setup_fee"),
        (json!({"currency": "XXX"}), "no currency"),
        (
            json!({"currency": "JPY", "prices": [{"months": 1, "price": "100.5"}]}),
            "0 decimal places",
        ),
    ] {
        let (status, p) = s
            .post_as(&s.client, "/v1/tariffs", &tariff(extra.clone()), None)
            .await;
        assert_eq!(status, 422, "{extra}: {p:#}");
        assert!(
            p["detail"].as_str().unwrap().contains(field),
            "{extra}: {p:#}"
        );
    }
    // "-0" is zero written with a sign that an unsigned amount does not
    // have: refused where the document's pattern refuses it, with the field
    // named; an adjustment of zero is refused in either sign.
    for (extra, field) in [
        (json!({"setup_fee": "-0"}), "setup_fee"),
        (
            json!({"prices": [{"months": 1, "price": "-0.00"}]}),
            "prices[0].price",
        ),
        (
            json!({"addons": [{"resource": "traffic", "unit": "GiB", "maximum": 100, "price_per_unit": "-0"}]}),
            "addons[0].price_per_unit",
        ),
    ] {
        let (status, p) = s
            .post_as(&s.client, "/v1/tariffs", &tariff(extra.clone()), None)
            .await;
        assert_eq!(status, 422, "{extra}: {p:#}");
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains(field) && detail.contains("negative zero"),
            "{extra}: {p:#}"
        );
    }
    let r = s
        .client
        .patch(s.url(&format!("/v1/clients/{client}")))
        .json(&json!({"credit_limit": "-0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let p: Value = r.json().await.unwrap();
    assert!(
        p["detail"].as_str().unwrap().contains("negative zero"),
        "{p:#}"
    );
    for amount in ["-0", "-0.00", "0"] {
        let (status, p) = s
            .post_as(
                &s.client,
                "/v1/ledger/adjustments",
                &adjust("EUR", amount),
                None,
            )
            .await;
        assert_eq!(status, 422, "{amount}: {p:#}");
        assert!(p["detail"].as_str().unwrap().contains("zero"), "{p:#}");
    }
    let (_, b) = s
        .get(&format!("/v1/ledger/balances?account_id={client}"))
        .await;
    assert_eq!(b.as_array().unwrap().len(), 2, "nothing new: {b:#}");
    let (_, c) = s.get(&format!("/v1/clients/{client}")).await;
    assert!(c["credit_limit"].is_null(), "unchanged: {c:#}");
    // Per-unit addon prices may be finer than a cent.
    let fine = tariff(
        json!({"addons": [{"resource": "traffic", "unit": "GiB", "maximum": 100, "price_per_unit": "0.0125"}]}),
    );
    let (status, p) = s.post_as(&s.client, "/v1/tariffs", &fine, None).await;
    assert_eq!(status, 201, "{p:#}");
}

/// Each API key has its own bucket: a reseller over its limit gets 429 with
/// Retry-After and a problem document, counted in /metrics, while another
/// reseller and the provider are served.
#[tokio::test]
async fn a_key_over_its_rate_limit_gets_429_and_no_one_else_does() {
    let data = tempfile::tempdir().unwrap();
    let mut config =
        rulesd::server::Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.options.reseller_rate = "1/3".parse().unwrap();
    let s = TestServer::start_config(config, data).await;
    let (_, a) = s.reseller("a").await;
    let (_, b) = s.reseller("b").await;
    for _ in 0..3 {
        assert_eq!(s.get_as(&a, "/v1/clients").await.0, 200);
    }
    let r = a.get(s.url("/v1/clients")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "urn:rulesd:problem:rate-limited");
    assert_eq!(
        s.get_as(&b, "/v1/clients").await.0,
        200,
        "b has its own bucket"
    );
    for _ in 0..20 {
        assert_eq!(
            s.get("/v1/clients").await.0,
            200,
            "the provider is not limited"
        );
    }
    let metrics = s.metrics().await;
    assert!(
        metrics.contains("rulesd_rate_limited_total{role=\"reseller\"} 1"),
        "{metrics}"
    );
}

/// The document says what the daemon enforces (issue 20, point 5), so that
/// generated clients and the schema fuzzer (`.ci/fuzz-api`) send valid
/// requests: the bounds of names, periods, currencies, amounts and paging,
/// and every status an operation can answer.
#[tokio::test(flavor = "multi_thread")]
async fn openapi_document_states_the_bounds_the_daemon_enforces() {
    let doc = serde_json::to_value(rulesd::http::openapi_document()).unwrap();
    let schema = |name: &str| doc["components"]["schemas"][name].clone();
    let name = &schema("NewReseller")["properties"]["name"];
    assert_eq!(
        (name["minLength"].clone(), name["maxLength"].clone()),
        (json!(1), json!(200))
    );
    assert_eq!(
        schema("OrderRequest")["properties"]["months"]["enum"],
        json!([1, 3, 12, 36])
    );
    assert_eq!(
        schema("RenewRequest")["properties"]["months"]["enum"],
        json!([1, 3, 12, 36, null])
    );
    let currency = schema("TariffSpec")["properties"]["currency"]["pattern"].clone();
    assert_eq!(currency, "^(?!XXX)[A-Z]{3}$");
    assert!(schema("NewAdjustment")["properties"]["amount"]["pattern"].is_string());
    let ledger = &doc["paths"]["/v1/ledger"]["get"];
    let param = |n: &str| {
        ledger["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == n)
            .unwrap()["schema"]
            .clone()
    };
    assert_eq!(param("limit")["maximum"], 1000);
    assert_eq!(param("after")["maximum"], i64::MAX);
    // Every id in a path is bounded as `extract::Id` bounds it.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    let bounds = (&p["schema"]["minimum"], &p["schema"]["maximum"]);
                    assert_eq!(bounds, (&json!(0), &json!(i64::MAX)), "{method} {path}");
                }
            }
        }
    }
    // An amount that has no sign in the document refuses "-0"; an
    // adjustment's, which has one, refuses zero in any sign, as the daemon.
    let pattern = |schema_name: &str, field: &str| {
        let p = schema(schema_name)["properties"][field]["pattern"].clone();
        regex_automata::meta::Regex::new(p.as_str().unwrap()).unwrap()
    };
    let fee = pattern("TariffSpec", "setup_fee");
    assert!(fee.is_match("0") && fee.is_match("5.00") && !fee.is_match("-0"));
    let adjustment = pattern("NewAdjustment", "amount");
    for ok in [
        "-50.00",
        "1",
        "0.5",
        "00.0010",
        "-0.0001",
        "999999999999.9999",
    ] {
        assert!(adjustment.is_match(ok), "{ok}");
    }
    for refused in ["0", "-0", "0.00", "-0.0000", "5.", ".5", "0.00001", "+1"] {
        assert!(!adjustment.is_match(refused), "{refused}");
    }
    let statuses = |method: &str, path: &str| {
        doc["paths"][path][method]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(statuses("post", "/v1/client-groups").contains(&"404".into()));
    // Every operation with an Idempotency-Key says what a bad or reused key gets.
    for status in ["400", "422"] {
        assert!(statuses("delete", "/v1/ip-pools/{id}").contains(&status.into()));
    }
    let prices = &schema("TariffSpec")["properties"]["prices"];
    assert_eq!(
        (prices["minItems"].clone(), prices["maxItems"].clone()),
        (json!(1), json!(4))
    );
    // A stored tariff or price list validates against its own schema: its
    // stored fields are among its properties, not extras the flattened
    // spec's schema forbids.
    for (name, field) in [("Tariff", "id"), ("PriceList", "updated_at")] {
        let s = schema(name);
        assert!(s["properties"][field].is_object(), "{name}: {s:#}");
        assert!(s["properties"]["currency"].is_object(), "{name}: {s:#}");
    }
}

/// The document's request examples are requests the daemon accepts, and its
/// links lead somewhere: in a store seeded as .ci/fuzz-api seeds it (a
/// reseller, then as each role a client and two tariffs), every example is
/// sent as written and succeeds, and every link's expression finds an id in
/// the real answer of its operation and names a parameter or body field its
/// target takes. This is what lets the fuzzer (and a generated client)
/// chain a client and a tariff into an order and what follows it.
#[tokio::test(flavor = "multi_thread")]
async fn openapi_examples_are_accepted_and_links_resolve() {
    for as_reseller in [false, true] {
        let server = TestServer::start(None).await;
        let doc = server.get("/v1/openapi.json").await.1;
        let mut ops = std::collections::HashMap::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if let Some(id) = op["operationId"].as_str() {
                    ops.insert(id.to_string(), (method.clone(), path.clone(), op.clone()));
                }
            }
        }
        let example =
            |id: &str| ops[id].2["requestBody"]["content"]["application/json"]["example"].clone();
        let (reseller_id, reseller) = server.reseller("Reseller").await;
        assert_eq!(reseller_id, 2);
        let client = if as_reseller {
            reseller
        } else {
            server.client.clone()
        };
        let mut answers = std::collections::HashMap::new();
        let mut send = async |id: &str, body: Value, service: Option<u64>| {
            let (method, path, _) = &ops[id];
            let path = path.replace("{id}", &service.map_or(String::new(), |s| s.to_string()));
            let r = client
                .request(method.to_uppercase().parse().unwrap(), server.url(&path))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let answer: Value = r.json().await.unwrap();
            assert!(
                (200..300).contains(&status),
                "{id} {body} -> {status} {answer:#}"
            );
            answers.insert(id.to_string(), answer.clone());
            answer
        };
        assert_eq!(
            send("create_client", example("create_client"), None).await["id"],
            3
        );
        assert_eq!(
            send("create_tariff", example("create_tariff"), None).await["id"],
            1
        );
        let mut second = example("create_tariff");
        second["name"] = json!("Shared hosting M");
        assert_eq!(send("create_tariff", second, None).await["id"], 2);
        send("adjust", example("adjust"), None).await;
        let ordered = send("order", example("order"), None).await;
        assert_eq!(ordered["services"][0]["status"], "active", "{ordered:#}");
        let service = ordered["services"][0]["id"].as_u64();
        for id in ["renew", "set_addon", "change_tariff", "suspend", "resume"] {
            send(id, example(id), service).await;
        }
        assert_eq!(answers["change_tariff"]["service"]["tariff_id"], 2);

        let mut links = 0;
        for (producer, (_, _, op)) in &ops {
            for response in op["responses"].as_object().unwrap().values() {
                for (name, link) in response["links"].as_object().into_iter().flatten() {
                    links += 1;
                    let (_, path, target) = &ops[link["operationId"].as_str().unwrap()];
                    let (field, expression) = match link["requestBody"].as_object() {
                        Some(body) => {
                            let (field, expression) = body.iter().next().unwrap();
                            let schema = target["requestBody"]["content"]["application/json"]
                                ["schema"]["$ref"]
                                .as_str()
                                .unwrap()
                                .rsplit('/')
                                .next()
                                .unwrap();
                            let properties = &doc["components"]["schemas"][schema]["properties"];
                            assert!(
                                properties[field].is_object(),
                                "{name}: {schema} has no {field}"
                            );
                            (field, expression)
                        }
                        None => {
                            let (param, expression) = link["parameters"]
                                .as_object()
                                .unwrap()
                                .iter()
                                .next()
                                .unwrap();
                            let params = target["parameters"].as_array().unwrap();
                            assert!(
                                params.iter().any(|p| p["name"] == *param),
                                "{name}: {path} takes no {param}"
                            );
                            (param, expression)
                        }
                    };
                    let pointer = expression
                        .as_str()
                        .unwrap()
                        .strip_prefix("$response.body#")
                        .unwrap();
                    let value = answers[producer].pointer(pointer);
                    assert!(
                        value.is_some_and(Value::is_u64),
                        "{producer} -> {name} ({field}): {pointer} in {:#}",
                        answers[producer]
                    );
                }
            }
        }
        assert!(links > 40, "{links} links");
    }
}

/// A path id is int64, as the document bounds it: 2^63 fits the store's
/// u64 keys but is no id, answered like "abc" or -1, while i64::MAX is an
/// id that does not exist.
#[tokio::test]
async fn path_ids_above_i64_max_are_not_ids() {
    let s = TestServer::start(None).await;
    for (id, detail) in [
        (
            "9223372036854775807",
            "service 9223372036854775807 does not exist",
        ),
        ("9223372036854775808", "no object has this id"),
        ("18446744073709551615", "no object has this id"),
        ("-1", "no object has this id"),
    ] {
        let (status, p) = s.get(&format!("/v1/services/{id}")).await;
        assert_eq!(
            (status, p["detail"].as_str()),
            (404, Some(detail)),
            "{id}: {p:#}"
        );
    }
}
