//! Group commit and crash safety: every acknowledged write survives a restart
//! (and a SIGKILL), nothing is duplicated, nothing is half-applied.

use crate::support::{Binary, PROVIDER_KEY, client_with_key};
use rulesd::app::{App, Caller};
use rulesd::domain::accounts::{Account, Role};
use rulesd::domain::ids::{AccountId, GroupId};
use rulesd::server::{Config, Daemon};
use rulesd::tenancy::accounts::{CreatedReseller, NewClient};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn provider(app: &App) -> Caller {
    app.authenticate(Some(PROVIDER_KEY)).unwrap()
}

fn config(dir: &std::path::Path) -> Config {
    let mut c = Config::new("127.0.0.1:0".parse().unwrap(), dir.to_path_buf());
    c.provider_key = Some(PROVIDER_KEY.into());
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_writers_all_acknowledged_writes_survive_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let acked: BTreeSet<AccountId> = {
        let daemon = Daemon::build(&config(data.path())).unwrap();
        let app = daemon.app.clone();
        let caller = provider(&app);
        let mut tasks = Vec::new();
        for w in 0..32 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..25 {
                    let req = NewClient {
                        name: format!("w{w}-{i}"),
                        reseller_id: None,
                        group_id: None,
                        credit_limit: None,
                    };
                    let reply = app.create_client(caller, req, None).await.unwrap();
                    ids.push(reply.json::<Account>().unwrap().id);
                }
                ids
            }));
        }
        let mut all = BTreeSet::new();
        for t in tasks {
            for id in t.await.unwrap() {
                assert!(all.insert(id), "id {id} handed out twice");
            }
        }
        all
    };
    assert_eq!(acked.len(), 32 * 25);

    // "Restart": a new daemon on the same file.
    let daemon = Daemon::build(&config(data.path())).unwrap();
    let caller = provider(&daemon.app);
    let clients = daemon.app.list_clients(&caller).unwrap();
    let stored: BTreeSet<AccountId> = clients.iter().map(|c| c.id).collect();
    assert_eq!(stored, acked);
    assert_eq!(clients.len(), acked.len(), "no duplicates");
}

/// The provider key only bootstraps a new store: a restart with another key
/// never adds it (it is ignored, with a reason), and the stored key keeps
/// working.
#[tokio::test(flavor = "multi_thread")]
async fn a_restart_with_another_provider_key_does_not_add_it() {
    use rulesd::server::IgnoredKey;
    let data = tempfile::tempdir().unwrap();
    let restart = async |key: &str| {
        let mut c = config(data.path());
        c.provider_key = Some(key.into());
        let daemon = Daemon::build(&c).unwrap();
        let ignored = daemon.ignored_provider_key;
        let answers = [PROVIDER_KEY, key].map(|k| daemon.app.authenticate(Some(k)).is_ok());
        let app = daemon.app.clone();
        daemon.close().await;
        drop(app);
        (ignored, answers)
    };
    // The first start creates the provider with the given key.
    assert_eq!(restart(PROVIDER_KEY).await, (None, [true, true]));
    // The same key again: nothing to say.
    assert_eq!(restart(PROVIDER_KEY).await, (None, [true, true]));
    // Another key: ignored, not added.
    assert_eq!(
        restart("rk_another_provider_key").await,
        (Some(IgnoredKey::Unknown), [true, false])
    );
}

/// A restart with the same `--test-clock START` after the clock was moved on
/// resumes at the store's last daily-job day instead of going back (the job
/// would do nothing until the clock caught up).
#[tokio::test(flavor = "multi_thread")]
async fn a_restart_never_moves_the_test_clock_back() {
    use rulesd::ops::clock::ClockState;
    let data = tempfile::tempdir().unwrap();
    let mut c = config(data.path());
    c.test_clock = Some("2026-01-05T06:00:00Z".parse().unwrap());
    let daemon = Daemon::build(&c).unwrap();
    let caller = provider(&daemon.app);
    let to = ClockState {
        now: "2026-03-19T01:00:00Z".parse().unwrap(),
    };
    daemon.app.set_clock(&caller, to).await.unwrap();
    let app = daemon.app.clone();
    daemon.close().await;
    drop(app);

    let daemon = Daemon::build(&c).unwrap();
    let now = daemon.app.get_clock(&provider(&daemon.app)).unwrap().now;
    assert_eq!(
        now,
        "2026-03-19T00:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    let app = daemon.app.clone();
    daemon.close().await;
    drop(app);

    // A start after the stored days is taken as given.
    c.test_clock = Some("2026-04-01T12:00:00Z".parse().unwrap());
    let daemon = Daemon::build(&c).unwrap();
    let now = daemon.app.get_clock(&provider(&daemon.app)).unwrap().now;
    assert_eq!(now, c.test_clock.unwrap());
    let app = daemon.app.clone();
    daemon.close().await;
    drop(app);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_request_does_not_spoil_its_batch() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::build(&config(data.path())).unwrap();
    let app = daemon.app.clone();
    let caller = provider(&app);
    let mut tasks = Vec::new();
    for i in 0..64u64 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            // Every third request names a group that does not exist: it fails
            // inside the write transaction, after others in the batch applied.
            let group_id = (i % 3 == 0).then_some(GroupId(9_999));
            let req = NewClient {
                name: format!("c{i}"),
                reseller_id: None,
                group_id,
                credit_limit: None,
            };
            (
                group_id.is_none(),
                app.create_client(caller, req, None).await,
            )
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let (should_succeed, result) = t.await.unwrap();
        assert_eq!(result.is_ok(), should_succeed, "{result:?}");
        ok += usize::from(should_succeed);
    }
    assert_eq!(app.list_clients(&caller).unwrap().len(), ok);
}

/// A tiny deterministic generator for kill timings (no rand dependency).
pub(crate) struct Lcg(pub(crate) u64);
impl Lcg {
    pub(crate) fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

/// Drive resellers (each an account plus its key, written together) from
/// several clients, SIGKILL the daemon at random moments, restart it on the
/// same file, and check every acknowledged reseller and its key. Set
/// RULESD_CRASH_KILLS for a longer run.
#[tokio::test(flavor = "multi_thread")]
async fn sigkill_never_loses_an_acknowledged_write_or_leaves_half_of_one() {
    let kills: u64 = std::env::var("RULESD_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let data = tempfile::tempdir().unwrap();
    let mut rng = Lcg(0x5eed_cafe);
    let mut acked: Vec<CreatedReseller> = Vec::new();
    for round in 0..kills {
        let mut daemon = Binary::spawn(data.path(), Some(PROVIDER_KEY));
        let base = daemon.base_url();
        let base = Arc::new(base);
        let stop_at = Instant::now() + Duration::from_millis(30 + rng.next(250));
        let mut writers = Vec::new();
        for w in 0..4 {
            let base = base.clone();
            writers.push(tokio::spawn(async move {
                let client = client_with_key(PROVIDER_KEY);
                let mut mine = Vec::new();
                for i in 0.. {
                    let sent = client
                        .post(format!("{base}/v1/resellers"))
                        .json(&serde_json::json!({"name": format!("r{round}-{w}-{i}")}))
                        .send()
                        .await;
                    // Once the daemon is killed, requests fail: stop.
                    let Ok(response) = sent else { break };
                    if response.status().as_u16() != 201 {
                        break;
                    }
                    match response.json::<CreatedReseller>().await {
                        Ok(r) => mine.push(r),
                        Err(_) => break,
                    }
                }
                mine
            }));
        }
        tokio::time::sleep_until(stop_at.into()).await;
        daemon.child.kill().unwrap(); // SIGKILL
        daemon.child.wait().unwrap();
        for w in writers {
            acked.extend(w.await.unwrap());
        }
    }
    assert!(
        acked.len() > kills as usize,
        "too few writes to mean anything: {}",
        acked.len()
    );

    let daemon = Daemon::build(&config(data.path())).unwrap();
    let app = daemon.app.clone();
    let caller = provider(&app);
    let resellers = app.list_resellers(&caller).unwrap();
    let keys = app.list_api_keys(&caller).unwrap();
    for r in &acked {
        let stored = app.get_reseller(&caller, r.id).unwrap();
        assert_eq!(stored.name, r.name);
        let own = app
            .authenticate(Some(&r.api_key))
            .expect("an acknowledged reseller's key works");
        assert_eq!((own.account_id, own.role), (r.id, Role::Reseller));
    }
    // Nothing half-applied: every stored reseller (acknowledged or not) has its key.
    for r in &resellers {
        assert!(
            keys.iter().any(|k| k.account_id == r.id),
            "reseller {} has no key",
            r.id
        );
    }
    let unique: BTreeSet<AccountId> = resellers.iter().map(|r| r.id).collect();
    assert_eq!(unique.len(), resellers.len());
    eprintln!(
        "{kills} kills, {} acknowledged resellers, {} stored",
        acked.len(),
        resellers.len()
    );
}
