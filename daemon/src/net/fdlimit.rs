//! The open-files limit and the connection limit that fits under it.
//!
//! Every connection is a file descriptor. A daemon that accepts until
//! `accept` fails with EMFILE can no longer open its store, its rule files or
//! even a fresh connection for `/healthz`, so the connection limit is kept
//! below the open-files limit with room for the daemon's own files. Many
//! systems start processes with a soft limit of 1,024 and a far higher hard
//! one: the soft limit is raised to the hard one first.

/// Open files held back from connections: the store, the rules directory
/// and its watcher, compiled modules, the log, the runtime's own. At most a
/// quarter of the limit, for very low limits.
pub const HEADROOM: u64 = 256;

/// The process's open-files limit after [`raise`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdLimit {
    pub soft: u64,
    pub hard: u64,
}

/// Raise the soft open-files limit to the hard one where the system allows,
/// and return the limit in force; None where it cannot be read (then the
/// connection limit is taken as given).
#[cfg(unix)]
pub fn raise() -> Option<FdLimit> {
    use rlimit::Resource;
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!(error = %e, "cannot raise the open-files limit");
    }
    let (soft, hard) = Resource::NOFILE.get().ok()?;
    Some(FdLimit { soft, hard })
}

#[cfg(not(unix))]
pub fn raise() -> Option<FdLimit> {
    None
}

/// The connection limit to use: `wanted`, lowered to leave [`HEADROOM`]
/// under the soft open-files limit; never below 1.
pub fn fit(wanted: usize, limit: Option<FdLimit>) -> usize {
    let Some(limit) = limit else { return wanted };
    let room = limit.soft - HEADROOM.min(limit.soft / 4);
    wanted
        .min(usize::try_from(room).unwrap_or(usize::MAX))
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(soft: u64) -> Option<FdLimit> {
        Some(FdLimit { soft, hard: soft })
    }

    #[test]
    fn the_connection_limit_leaves_headroom_under_the_open_files_limit() {
        assert_eq!(fit(4096, at(20_000)), 4096);
        assert_eq!(fit(4096, at(1024)), 768);
        assert_eq!(fit(4096, at(4096)), 3840);
        assert_eq!(fit(4096, at(100)), 75);
        assert_eq!(fit(4096, at(0)), 1);
        assert_eq!(fit(4096, None), 4096);
    }
}
