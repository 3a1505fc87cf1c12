//! HTTPS with rustls (ring provider; no OpenSSL), and certificate renewal
//! without a restart.
//!
//! Handshakes ask [`CertSlot`] for the certificate, so replacing what it holds
//! changes what every later handshake serves; connections already open keep
//! theirs. The two files' directories are watched, not the files (renewal
//! tools, like deploy tools, write a temporary file and rename it over the
//! old one, which a watch on the file would miss), and after a burst of
//! changes both files are read again. A pair that does not load (a key
//! written before its certificate, a broken file) is logged and the pair in
//! use is kept: a failed renewal must not take the daemon off the air.

use notify::{RecursiveMode, Watcher};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

/// Quiet time after the last change before the files are read again: long
/// enough for a tool to write the certificate and the key one after the
/// other, short enough that a renewal serves within a second.
pub const DEBOUNCE: Duration = Duration::from_millis(250);

/// The certificate chain and private key files (PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server's certificate first, then any intermediates.
    pub cert: PathBuf,
    /// Its private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
    pub key: PathBuf,
}

/// Why the certificate or key cannot be served; each names its file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS certificate {}: {detail}", .path.display())]
    Cert { path: PathBuf, detail: String },
    #[error("TLS key {}: {detail}", .path.display())]
    Key { path: PathBuf, detail: String },
    #[error("TLS key {} does not belong to certificate {}: {detail}", .key.display(), .cert.display())]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        detail: String,
    },
    #[error("cannot watch {} for certificate changes: {source}", .path.display())]
    Watch {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
}

/// HTTPS being served: the acceptor for new connections and the watcher
/// that keeps its certificate current (dropping this stops the watching).
pub struct Tls {
    acceptor: TlsAcceptor,
    _watcher: notify::RecommendedWatcher,
}

impl Tls {
    /// Load the pair (an error names the file at fault) and start watching
    /// it. Must run inside a tokio runtime.
    pub fn start(files: &TlsFiles) -> Result<Tls, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let pem = read(files)?;
        let slot = Arc::new(CertSlot(RwLock::new(Arc::new(parse(
            files, &pem, &provider,
        )?))));
        let mut config = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Cert {
                path: files.cert.clone(),
                detail: e.to_string(),
            })?
            .with_no_client_auth()
            .with_cert_resolver(slot.clone());
        // The router speaks HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let watcher = watch(files.clone(), provider, slot, pem)?;
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            _watcher: watcher,
        })
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }
}

/// The certificate every new handshake is given.
#[derive(Debug)]
struct CertSlot(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for CertSlot {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // A poisoned lock still holds a whole certificate: a panic cannot
        // happen between reading it and storing it.
        let current = self.0.read().unwrap_or_else(|p| p.into_inner());
        Some(current.clone())
    }
}

/// The two files' contents (PEM), to tell a real change from a touch.
#[derive(Clone, PartialEq, Eq)]
struct Pem {
    cert: Vec<u8>,
    key: Vec<u8>,
}

/// Read both files; an error names the one that cannot be read.
fn read(files: &TlsFiles) -> Result<Pem, TlsError> {
    Ok(Pem {
        cert: std::fs::read(&files.cert).map_err(|e| TlsError::Cert {
            path: files.cert.clone(),
            detail: e.to_string(),
        })?,
        key: std::fs::read(&files.key).map_err(|e| TlsError::Key {
            path: files.key.clone(),
            detail: e.to_string(),
        })?,
    })
}

/// Check the pair: a certificate chain, a key, and the key being the
/// certificate's.
fn parse(files: &TlsFiles, pem: &Pem, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let cert_err = |detail: String| TlsError::Cert {
        path: files.cert.clone(),
        detail,
    };
    let key_err = |detail: String| TlsError::Key {
        path: files.key.clone(),
        detail,
    };
    let chain = CertificateDer::pem_slice_iter(&pem.cert)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_err(format!("not PEM certificates: {e}")))?;
    if chain.is_empty() {
        return Err(cert_err("holds no PEM certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&pem.key)
        .map_err(|e| key_err(format!("no PEM private key: {e}")))?;
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| key_err(format!("unusable private key: {e}")))?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => TlsError::Mismatch {
            cert: files.cert.clone(),
            key: files.key.clone(),
            detail: e.to_string(),
        },
        other => cert_err(format!("unusable certificate: {other}")),
    })?;
    Ok(certified)
}

/// Watch the files' directories; after each burst of changes, load the pair
/// again and serve it if it changed and loads.
fn watch(
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    slot: Arc<CertSlot>,
    mut serving: Pem,
) -> Result<notify::RecommendedWatcher, TlsError> {
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        match event {
            // Our own reads of the files are no change.
            Ok(e) if e.kind.is_access() => {}
            Ok(_) => {
                let _ = tx.send(());
            }
            Err(e) => tracing::warn!(error = %e, "TLS certificate watch error"),
        }
    })
    .map_err(|source| TlsError::Watch {
        path: files.cert.clone(),
        source,
    })?;
    for dir in directories(&files) {
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|source| TlsError::Watch { path: dir, source })?;
    }
    tokio::spawn(async move {
        // What was tried last, so a broken pair is reported once, not on
        // every unrelated change in the directory.
        let mut tried = serving.clone();
        while rx.recv().await.is_some() {
            while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
            let pem = match read(&files) {
                Ok(pem) if pem == serving || pem == tried => continue,
                Ok(pem) => pem,
                Err(e) => {
                    // Mid-rename, or removed: the next change reads again.
                    tracing::warn!(error = %e, "TLS certificate files unreadable; still serving the previous certificate");
                    continue;
                }
            };
            tried = pem.clone();
            match parse(&files, &pem, &provider) {
                Ok(certified) => {
                    *slot.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(certified);
                    tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
                    serving = pem;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "new TLS certificate not loaded; still serving the previous one")
                }
            }
        }
    });
    Ok(watcher)
}

/// The directories holding the two files, once each.
fn directories(files: &TlsFiles) -> Vec<PathBuf> {
    let parent = |p: &Path| match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut dirs = vec![parent(&files.cert), parent(&files.key)];
    dirs.dedup();
    dirs
}
