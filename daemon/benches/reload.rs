//! Time from a new module file landing in the rules directory (written to a
//! temp name and renamed, as deploy tools do) to it serving requests. Each
//! round is a new sha256, so it includes a real compile (no cache hit).
//!
//! cargo bench -p rulesd --bench reload

use rulesd::contract::hook::Hook;
use rulesd::rules::DEFAULT_MODULE;
use rulesd::runtime::sha256_hex;
use rulesd::server::{Config, Daemon};
use std::time::{Duration, Instant};

/// The default module with a custom section appended: a valid component with
/// a different sha256.
fn variant(i: u32) -> Vec<u8> {
    let name = b"rulesd-bench";
    let payload = i.to_le_bytes();
    let size = 1 + name.len() + payload.len();
    let mut bytes = DEFAULT_MODULE.to_vec();
    bytes.push(0); // custom section id
    bytes.push(size as u8); // LEB128, < 128
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(&payload);
    bytes
}

#[tokio::main]
async fn main() {
    let data = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), data.path().to_path_buf());
    config.rules_dir = Some(rules.path().to_path_buf());
    config.provider_key = Some("rk_bench_provider_key".into());
    let daemon = Daemon::build(&config).unwrap();
    let mut samples = Vec::new();
    for i in 0..15 {
        let bytes = variant(i);
        let sha = sha256_hex(&bytes);
        let tmp = rules.path().join(".pricing.wasm.tmp");
        std::fs::write(&tmp, &bytes).unwrap();
        let t = Instant::now();
        std::fs::rename(&tmp, rules.path().join("pricing.wasm")).unwrap();
        while daemon.app.registry.resolve(Hook::Pricing, None).sha256 != sha {
            assert!(t.elapsed() < Duration::from_secs(30), "module never served");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        samples.push(t.elapsed());
    }
    samples.sort();
    println!(
        "module landed -> serving (default module, fresh compile): n={} p50={:?} max={:?}",
        samples.len(),
        samples[samples.len() / 2],
        samples[samples.len() - 1]
    );
}
