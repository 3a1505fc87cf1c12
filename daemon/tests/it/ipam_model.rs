//! Model-based property test of IP allocation: random sequences of
//! allocate (any or a requested address), release, delete-service and
//! reassign-pool against a plain model (`BTreeSet`s of taken and quarantined
//! addresses) never hand out an address twice, never lose one, and keep the
//! pool's counts exact, for IPv4 and IPv6 pools.

use crate::support::PROVIDER_KEY;
use proptest::prelude::*;
use rulesd::app::{ApiError, App, Caller};
use rulesd::billing::model::{ActRequest, OrderRequest, Ordered};
use rulesd::domain::accounts::Account;
use rulesd::domain::ids::{AccountId, PoolId, ServiceId};
use rulesd::domain::tariff::{Tariff, TariffSpec};
use rulesd::ipam::address::{Family, parse_address, to_text};
use rulesd::ipam::model::{AddressKind, Allocation, NewAllocation, NewPool, PoolChange, PoolView};
use rulesd::server::{Config, Daemon};
use rulesd::tenancy::accounts::{CreatedReseller, NewClient, NewReseller};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// One daemon for every case (each case works in a pool, reseller and
/// services of its own), on a runtime that outlives the cases.
struct World {
    rt: tokio::runtime::Runtime,
    app: Arc<App>,
    provider: Caller,
    _daemon: Daemon,
    _data: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let data = tempfile::tempdir().unwrap();
        let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
        config.provider_key = Some(PROVIDER_KEY.into());
        config.durable = false;
        let daemon = rt.block_on(async { Daemon::build(&config).unwrap() });
        let app = daemon.app.clone();
        let provider = app.authenticate(Some(PROVIDER_KEY)).unwrap();
        World {
            rt,
            app,
            provider,
            _daemon: daemon,
            _data: data,
        }
    })
}

#[derive(Debug, Clone)]
enum Op {
    /// Allocate for service `.0`, optionally the address at offset `.1`.
    Allocate(usize, Option<u32>),
    /// Release the n-th address held (in address order).
    Release(usize),
    DeleteService(usize),
    /// Assign the pool to the services' reseller (0), to another (1), or
    /// make it common (2).
    Reassign(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..4usize, proptest::option::of(0..24u32)).prop_map(|(s, o)| Op::Allocate(s, o)),
        3 => (0..64usize).prop_map(Op::Release),
        1 => (0..4usize).prop_map(Op::DeleteService),
        1 => (0..3u8).prop_map(Op::Reassign),
    ]
}

/// What the daemon should hold.
#[derive(Default)]
struct Model {
    /// address -> (allocation, service index)
    taken: BTreeMap<u128, (Allocation, usize)>,
    quarantined: BTreeSet<u128>,
    deleted: BTreeSet<usize>,
    /// The reseller the pool is assigned to: 0 ours, 1 another, 2 none.
    owner: u8,
}

struct Case {
    pool: PoolId,
    first: u128,
    size: u128,
    family: Family,
    quarantine: bool,
    ours: AccountId,
    other: AccountId,
    reseller: Caller,
    services: Vec<ServiceId>,
}

static CASES: AtomicU64 = AtomicU64::new(1);

fn setup(w: &World, v6: bool, size: u32, quarantine: bool) -> Case {
    let n = CASES.fetch_add(1, Ordering::Relaxed);
    let (family, range, first) = if v6 {
        let base = format!("2001:db8:{n:x}::");
        let first = parse_address(&base).unwrap().1;
        (
            Family::Ipv6,
            format!(
                "{base}-{}",
                to_text(Family::Ipv6, first + u128::from(size) - 1)
            ),
            first,
        )
    } else {
        let base = format!("10.{}.{}.0", n >> 8, n & 255);
        let first = parse_address(&base).unwrap().1;
        (
            Family::Ipv4,
            format!(
                "{base}-{}",
                to_text(Family::Ipv4, first + u128::from(size) - 1)
            ),
            first,
        )
    };
    let app = &w.app;
    let reseller = |name: String| -> CreatedReseller {
        w.rt.block_on(app.create_reseller(
            w.provider,
            NewReseller {
                name,
                credit_limit: None,
            },
            None,
        ))
        .unwrap()
        .json()
        .unwrap()
    };
    let ours = reseller(format!("ours {n}"));
    let other = reseller(format!("other {n}"));
    let caller = app.authenticate(Some(&ours.api_key)).unwrap();
    let client: Account =
        w.rt.block_on(app.create_client(
            w.provider,
            NewClient {
                name: format!("c{n}"),
                reseller_id: Some(ours.id),
                group_id: None,
                credit_limit: None,
            },
            None,
        ))
        .unwrap()
        .json()
        .unwrap();
    // The reseller's own plan, ordered for its client.
    let spec: TariffSpec = serde_json::from_value(serde_json::json!({
        "name": "VPS", "currency": "EUR", "prices": [{"months": 1, "price": "1.00"}]
    }))
    .unwrap();
    let tariff: Tariff =
        w.rt.block_on(app.create_tariff(caller, spec, None))
            .unwrap()
            .json()
            .unwrap();
    let mut services = Vec::new();
    for _ in 0..4 {
        let ordered: Ordered =
            w.rt.block_on(app.order(
                caller,
                OrderRequest {
                    client_id: client.id,
                    tariff_id: tariff.id,
                    months: 1,
                    addons: vec![],
                    domain: None,
                    count: 1,
                    control_panel: None,
                },
                None,
            ))
            .unwrap()
            .json()
            .unwrap();
        services.push(ordered.services[0].id);
    }
    let pool: PoolView =
        w.rt.block_on(app.create_pool(
            w.provider,
            NewPool {
                name: format!("p{n}"),
                ranges: vec![range],
                excluded: vec![],
                reseller_id: Some(ours.id),
                quarantine_days: u32::from(quarantine),
            },
            None,
        ))
        .unwrap()
        .json()
        .unwrap();
    Case {
        pool: pool.pool.id,
        first,
        size: u128::from(size),
        family,
        quarantine,
        ours: ours.id,
        other: other.id,
        reseller: caller,
        services,
    }
}

fn run(w: &World, case: &Case, model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    let app = &w.app;
    match *op {
        Op::Allocate(s, offset) => {
            let req = NewAllocation {
                service_id: case.services[s],
                kind: AddressKind::Static,
                family: Some(case.family),
                address: offset
                    .map(|o| to_text(case.family, case.first + u128::from(o) % case.size)),
                pool_id: None,
            };
            let wanted = offset.map(|o| case.first + u128::from(o) % case.size);
            let got = w.rt.block_on(app.allocate(case.reseller, req, None));
            let usable = model.owner != 1;
            match got {
                Ok(written) => {
                    let a: Allocation = written.json().unwrap();
                    let n = parse_address(&a.address).unwrap().1;
                    prop_assert!(
                        !model.deleted.contains(&s),
                        "a deleted service got {}",
                        a.address
                    );
                    prop_assert!(usable, "drew {} from a pool it may not use", a.address);
                    prop_assert!(
                        n >= case.first && n < case.first + case.size,
                        "{} outside",
                        a.address
                    );
                    prop_assert!(!model.taken.contains_key(&n), "{} given twice", a.address);
                    prop_assert!(
                        !model.quarantined.contains(&n),
                        "{} given in quarantine",
                        a.address
                    );
                    if let Some(want) = wanted {
                        prop_assert_eq!(n, want);
                    }
                    model.taken.insert(n, (a, s));
                }
                Err(ApiError::Policy(_)) => prop_assert!(model.deleted.contains(&s)),
                Err(ApiError::Conflict(m)) => {
                    let want = wanted.expect("a conflict only for a requested address");
                    prop_assert!(
                        model.taken.contains_key(&want) || model.quarantined.contains(&want),
                        "{m}"
                    );
                }
                Err(ApiError::NotFound(m)) => prop_assert!(!usable && wanted.is_some(), "{m}"),
                Err(ApiError::Exhausted(m)) => {
                    let free =
                        case.size - model.taken.len() as u128 - model.quarantined.len() as u128;
                    prop_assert!(!usable || free == 0, "exhausted with {free} free: {m}");
                }
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }
        Op::Release(k) => {
            if model.taken.is_empty() {
                return Ok(());
            }
            let n = *model.taken.keys().nth(k % model.taken.len()).unwrap();
            let (a, _) = model.taken.remove(&n).unwrap();
            w.rt.block_on(app.release_allocation(w.provider, a.id, None))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            if case.quarantine {
                model.quarantined.insert(n);
            }
        }
        Op::DeleteService(s) => {
            let result = w.rt.block_on(app.delete_service(
                w.provider,
                case.services[s],
                ActRequest::default(),
                None,
            ));
            if model.deleted.insert(s) {
                result.map_err(|e| TestCaseError::fail(e.to_string()))?;
                let held: Vec<u128> = model
                    .taken
                    .iter()
                    .filter(|(_, (_, x))| *x == s)
                    .map(|(n, _)| *n)
                    .collect();
                for n in held {
                    model.taken.remove(&n);
                    if case.quarantine {
                        model.quarantined.insert(n);
                    }
                }
            } else {
                prop_assert!(result.is_err(), "deleted twice");
            }
        }
        Op::Reassign(to) => {
            let reseller = match to {
                0 => Some(case.ours),
                1 => Some(case.other),
                _ => None,
            };
            w.rt.block_on(app.change_pool(
                w.provider,
                case.pool,
                PoolChange {
                    reseller_id: Some(reseller),
                    ..PoolChange::default()
                },
                None,
            ))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
            model.owner = to;
        }
    }
    check(w, case, model)
}

/// The daemon's view of the pool equals the model's.
fn check(w: &World, case: &Case, model: &Model) -> Result<(), TestCaseError> {
    let view = w.app.get_pool(&w.provider, case.pool).unwrap();
    let held: BTreeSet<u128> = w
        .app
        .pool_allocations(&w.provider, case.pool)
        .unwrap()
        .iter()
        .map(|a| parse_address(&a.address).unwrap().1)
        .collect();
    let expected: BTreeSet<u128> = model.taken.keys().copied().collect();
    prop_assert_eq!(held, expected);
    prop_assert_eq!(view.usage.allocated, model.taken.len() as u128);
    prop_assert_eq!(view.usage.quarantined, model.quarantined.len() as u128);
    prop_assert_eq!(
        view.usage.free,
        case.size - model.taken.len() as u128 - model.quarantined.len() as u128
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn allocation_never_gives_an_address_twice_nor_loses_one(
        v6 in any::<bool>(),
        size in 1..12u32,
        quarantine in any::<bool>(),
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let w = world();
        let case = setup(w, v6, size, quarantine);
        let mut model = Model::default();
        for op in &ops {
            run(w, &case, &mut model, op)?;
        }
        // Leave nothing another case could draw from.
        w.rt.block_on(w.app.change_pool(
            w.provider,
            case.pool,
            PoolChange { reseller_id: Some(Some(case.other)), ..PoolChange::default() },
            None,
        )).unwrap();
    }
}
