//! A full disk: a write the disk refuses answers 503 with a problem saying
//! so, loses nothing acknowledged before, and writes work again once space
//! returns, without a restart. The data directory is a small tmpfs (the test
//! runs as root; without permission to mount it says so and skips).
//!
//! A disk that turns read-only under the daemon (EROFS): the same answer and
//! nothing lost. The data directory is an ext4 image on a loop device that
//! the kernel remounts read-only on an error, as it does for a failing disk;
//! such a file system stays read-only until it is checked and mounted again,
//! so recovery here is that, and a restart.

use crate::support::{Binary, PROVIDER_KEY, client_with_key};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted tmpfs, unmounted on drop (a failing test too).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status();
        match status {
            Ok(s) if s.success() => Some(Tmpfs(dir.to_path_buf())),
            other => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs on {} ({other:?}); the disk-full test needs root",
                    dir.display()
                );
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a daemon still holding the file must not keep it mounted.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Kills the daemon on drop, before the tmpfs goes.
struct Running(Binary);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.child.kill();
        let _ = self.0.child.wait();
    }
}

/// Create a client; (status, Retry-After, content type, body).
async fn create_client(
    base: &str,
    p: &reqwest::Client,
    name: &str,
) -> (u16, Option<String>, Option<String>, Value) {
    let r = p
        .post(format!("{base}/v1/clients"))
        .header("idempotency-key", name)
        .json(&json!({"name": name}))
        .send()
        .await
        .unwrap();
    let header = |h| {
        r.headers()
            .get(h)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string())
    };
    let (retry, ctype) = (header("retry-after"), header("content-type"));
    (r.status().as_u16(), retry, ctype, r.json().await.unwrap())
}

/// Every acknowledged client is there, as it was answered.
async fn all_there(base: &str, p: &reqwest::Client, acked: &[Value]) {
    for c in acked {
        let r = p
            .get(format!("{base}/v1/clients/{}", c["id"]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "client {}", c["id"]);
        assert_eq!(&r.json::<Value>().await.unwrap(), c);
    }
}

/// Fill the file system holding `dir` with one file, until it is full.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0xa5u8; 64 << 10];
    loop {
        if let Err(e) = f.write_all(&chunk).and_then(|()| f.sync_all()) {
            assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
            return path;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_answers_503_loses_nothing_and_recovers_when_space_returns() {
    let keep = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(keep.path(), "8m") else {
        return;
    };
    let p = client_with_key(PROVIDER_KEY);
    let mut daemon = Running(Binary::spawn(&disk.0, Some(PROVIDER_KEY)));
    let base = daemon.0.base_url();

    let mut acked = Vec::new();
    for i in 0..20 {
        let (status, _, _, body) = create_client(&base, &p, &format!("before-{i}")).await;
        assert_eq!(status, 201, "{body}");
        acked.push(body);
    }

    let filler = fill(&disk.0);
    // The store file may still have free pages inside it: write until the
    // disk refuses (each write that still succeeds is acknowledged).
    let mut refused = None;
    for i in 0..2_000 {
        let (status, retry, ctype, body) = create_client(&base, &p, &format!("full-{i}")).await;
        match status {
            201 => acked.push(body),
            503 => {
                refused = Some((i, retry, ctype, body));
                break;
            }
            _ => panic!("{status}: {body}"),
        }
    }
    let (i, retry, ctype, problem) = refused.expect("the full disk refused no write");
    assert_eq!(
        problem["type"], "urn:rulesd:problem:storage-unavailable",
        "{problem}"
    );
    assert_eq!(problem["status"], 503);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("disk")
            && detail.contains("full")
            && detail.contains("nothing was written"),
        "{detail}"
    );
    assert!(retry.is_some_and(|s| s.parse::<u64>().unwrap() > 0));
    assert_eq!(ctype.as_deref(), Some("application/problem+json"));
    // The refused write was not half-done.
    let r = p.get(format!("{base}/v1/clients")).send().await.unwrap();
    let listed: Vec<Value> = r.json().await.unwrap();
    assert!(listed.iter().all(|c| c["name"] != format!("full-{i}")));
    all_there(&base, &p, &acked).await;

    // Space returns: the same request (same key) now succeeds, and so do new
    // ones, without a restart.
    std::fs::remove_file(&filler).unwrap();
    let (status, _, _, body) = create_client(&base, &p, &format!("full-{i}")).await;
    assert_eq!(status, 201, "{body}");
    acked.push(body);
    for j in 0..5 {
        let (status, _, _, body) = create_client(&base, &p, &format!("after-{j}")).await;
        assert_eq!(status, 201, "{body}");
        acked.push(body);
    }
    all_there(&base, &p, &acked).await;

    // And all of it is durable: it survives a restart.
    drop(daemon);
    daemon = Running(Binary::spawn(&disk.0, None));
    let base = daemon.0.base_url();
    all_there(&base, &p, &acked).await;
    drop(daemon);
}

/// An ext4 image on a loop device, mounted with `errors=remount-ro`;
/// unmounted (and the loop device freed) on drop.
struct Ext4 {
    dir: PathBuf,
    image: PathBuf,
}

impl Ext4 {
    fn mount(dir: &Path, image: &Path) -> Option<Ext4> {
        std::fs::File::create(image)
            .and_then(|f| f.set_len(64 << 20))
            .unwrap();
        let made = Command::new("mkfs.ext4")
            .args(["-q", "-F"])
            .arg(image)
            .status();
        let disk = Ext4 {
            dir: dir.to_path_buf(),
            image: image.to_path_buf(),
        };
        match made.map(|s| s.success()).and_then(|_| disk.attach()) {
            Ok(true) => Some(disk),
            other => {
                eprintln!(
                    "SKIPPED: cannot make and loop-mount an ext4 image ({other:?}); the read-only \
                     disk test needs root, mkfs.ext4 and a loop device"
                );
                None
            }
        }
    }

    fn attach(&self) -> std::io::Result<bool> {
        let status = Command::new("mount")
            .args(["-o", "loop,errors=remount-ro"])
            .arg(&self.image)
            .arg(&self.dir)
            .status()?;
        Ok(status.success())
    }

    /// What a failing disk makes the kernel do: ext4 records an error and,
    /// with `errors=remount-ro`, turns read-only at once, under the open
    /// store (ext4's own hook for testing its error path).
    fn fail(&self) {
        let out = Command::new("findmnt")
            .args(["-n", "-o", "SOURCE"])
            .arg(&self.dir)
            .output()
            .unwrap();
        let device = String::from_utf8(out.stdout).unwrap();
        let name = Path::new(device.trim()).file_name().unwrap().to_owned();
        let hook = Path::new("/sys/fs/ext4")
            .join(name)
            .join("trigger_fs_error");
        std::fs::write(&hook, "rulesd read-only disk test").unwrap();
    }

    /// Unmount, check and repair, mount again: writable once more.
    fn repair(&self) {
        assert!(
            Command::new("umount")
                .arg(&self.dir)
                .status()
                .unwrap()
                .success()
        );
        // 0: clean; 1: errors corrected (the one recorded by `fail`).
        let fsck = Command::new("e2fsck")
            .args(["-f", "-y"])
            .arg(&self.image)
            .status()
            .unwrap();
        assert!(matches!(fsck.code(), Some(0 | 1)), "e2fsck: {fsck:?}");
        assert!(self.attach().unwrap(), "mount again");
    }
}

impl Drop for Ext4 {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_disk_answers_503_and_loses_nothing() {
    let keep = tempfile::tempdir().unwrap();
    let dir = keep.path().join("mnt");
    std::fs::create_dir(&dir).unwrap();
    let Some(disk) = Ext4::mount(&dir, &keep.path().join("disk.img")) else {
        return;
    };
    let data = dir.join("data");
    std::fs::create_dir(&data).unwrap();
    let p = client_with_key(PROVIDER_KEY);
    let mut daemon = Running(Binary::spawn(&data, Some(PROVIDER_KEY)));
    let base = daemon.0.base_url();

    let mut acked = Vec::new();
    for i in 0..20 {
        let (status, _, _, body) = create_client(&base, &p, &format!("before-{i}")).await;
        assert_eq!(status, 201, "{body}");
        acked.push(body);
    }

    disk.fail();
    let (status, retry, ctype, problem) = create_client(&base, &p, "read-only").await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(
        problem["type"], "urn:rulesd:problem:storage-unavailable",
        "{problem}"
    );
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("read-only") && detail.contains("nothing was written"),
        "{detail}"
    );
    assert!(retry.is_some_and(|s| s.parse::<u64>().unwrap() > 0));
    assert_eq!(ctype.as_deref(), Some("application/problem+json"));
    // Every later write is refused the same way, and none is half-done.
    for i in 0..3 {
        let (status, _, _, problem) = create_client(&base, &p, &format!("ro-{i}")).await;
        assert_eq!(status, 503, "{problem}");
    }

    // Checked and mounted again, the daemon restarted: everything
    // acknowledged is there, nothing refused is, and the refused request
    // (same key) now succeeds.
    drop(daemon);
    disk.repair();
    daemon = Running(Binary::spawn(&data, None));
    let base = daemon.0.base_url();
    all_there(&base, &p, &acked).await;
    let r = p.get(format!("{base}/v1/clients")).send().await.unwrap();
    let listed: Vec<Value> = r.json().await.unwrap();
    assert_eq!(listed.len(), acked.len(), "{listed:#?}");
    let (status, _, _, body) = create_client(&base, &p, "read-only").await;
    assert_eq!(status, 201, "{body}");
    drop(daemon);
}
