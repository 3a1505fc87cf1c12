//! Decoded records kept in memory where decoding is a measurable share of
//! a request. Process-wide, keyed by the exact bytes of the record, so a
//! hit is always what decoding those bytes would give, whichever store they
//! came from.

use super::{StoreError, TARIFFS};
use crate::domain::tariff::Tariff;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// Most tariffs [`decode_tariff`] remembers; past that it starts over.
const REMEMBERED_TARIFFS: usize = 1024;

/// Tariffs decoded so far, by id, with the bytes each was decoded from.
type Decoded = HashMap<u64, (Box<[u8]>, Tariff)>;
static DECODED_TARIFFS: LazyLock<Mutex<Decoded>> = LazyLock::new(Default::default);

/// Decode a stored tariff, remembering the result.
///
/// Every billing operation, quote of a stored tariff and daily job decodes
/// its tariff, and a tariff's JSON (its spec flattened into it) is slow to
/// decode next to the rest of a request's reads (BENCHMARKS.md); a stored
/// tariff almost never changes (only `enabled` can). The memo is
/// keyed by the exact bytes, so it cannot return a stale or another
/// store's tariff: a different record under the same id is decoded afresh.
pub fn decode_tariff(id: u64, bytes: &[u8]) -> Result<Tariff, StoreError> {
    let mut decoded = DECODED_TARIFFS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((seen, tariff)) = decoded.get(&id)
        && **seen == *bytes
    {
        return Ok(tariff.clone());
    }
    let tariff: Tariff = super::decode(TARIFFS, id, bytes)?;
    if decoded.len() >= REMEMBERED_TARIFFS {
        decoded.clear();
    }
    decoded.insert(id, (bytes.into(), tariff.clone()));
    Ok(tariff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: u64, name: &str, enabled: bool) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "id": id,
            "created_at": "2026-01-01T00:00:00Z",
            "name": name,
            "currency": "EUR",
            "prices": [{"months": 1, "price": "10.00"}],
            "enabled": enabled,
        }))
        .unwrap()
    }

    #[test]
    fn a_remembered_tariff_is_decoded_again_when_its_record_changes() {
        // An id no other test uses: the memo is process-wide.
        let id = u64::MAX - 7;
        let first = decode_tariff(id, &stored(id, "Basic", true)).unwrap();
        assert!(first.spec.enabled);
        assert_eq!(
            decode_tariff(id, &stored(id, "Basic", true)).unwrap(),
            first
        );
        // Disabled (the one change a stored tariff sees), or another store's
        // tariff under the same id: never the remembered one.
        assert!(
            !decode_tariff(id, &stored(id, "Basic", false))
                .unwrap()
                .spec
                .enabled
        );
        assert_eq!(
            decode_tariff(id, &stored(id, "Other", true))
                .unwrap()
                .spec
                .name,
            "Other"
        );
        assert!(decode_tariff(id, b"{not json").is_err());
    }
}
