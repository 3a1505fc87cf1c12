//! Helpers shared by the benchmark binaries.

use std::time::Duration;

/// The `p` quantile (0.0-1.0) of samples sorted ascending.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
