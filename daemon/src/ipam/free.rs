//! Free space as intervals: each pool's free addresses are kept as
//! `(pool, first) -> last` entries, so a /8 or a /64 costs a handful of rows
//! and an allocation touches at most two, whatever the pool's size. Taking an
//! address splits the interval holding it; giving one back merges it with
//! its neighbours.

use redb::{ReadableTable, Table};

/// `(pool, first address) -> last address` of a free interval.
pub(super) type FreeTable<'t> = Table<'t, (u64, u128), u128>;

/// The spans of `ranges` less those of `excluded`, sorted and merged:
/// what a new pool can hand out. Both lists are `(first, last)` inclusive.
pub(super) fn subtract(ranges: &[(u128, u128)], excluded: &[(u128, u128)]) -> Vec<(u128, u128)> {
    let merge = |spans: &[(u128, u128)]| {
        let mut sorted = spans.to_vec();
        sorted.sort_unstable();
        let mut out: Vec<(u128, u128)> = Vec::with_capacity(sorted.len());
        for (first, last) in sorted {
            match out.last_mut() {
                Some(prev) if first <= prev.1.saturating_add(1) => prev.1 = prev.1.max(last),
                _ => out.push((first, last)),
            }
        }
        out
    };
    let mut out = Vec::new();
    let excluded = merge(excluded);
    for (first, last) in merge(ranges) {
        let mut from = first;
        for &(xf, xl) in excluded
            .iter()
            .filter(|(xf, xl)| *xl >= first && *xf <= last)
        {
            if xf > from {
                out.push((from, xf - 1));
            }
            from = match xl.checked_add(1) {
                Some(next) => next.max(from),
                None => return out,
            };
        }
        if from <= last {
            out.push((from, last));
        }
    }
    out
}

/// The free interval of `pool` holding `n`, if `n` is free.
fn holding(
    table: &impl ReadableTable<(u64, u128), u128>,
    pool: u64,
    n: u128,
) -> Result<Option<(u128, u128)>, redb::StorageError> {
    let found = table.range((pool, 0)..=(pool, n))?.next_back();
    Ok(match found {
        Some(entry) => {
            let (k, v) = entry?;
            let (first, last) = (k.value().1, v.value());
            (last >= n).then_some((first, last))
        }
        None => None,
    })
}

pub(super) fn is_free(
    table: &impl ReadableTable<(u64, u128), u128>,
    pool: u64,
    n: u128,
) -> Result<bool, redb::StorageError> {
    Ok(holding(table, pool, n)?.is_some())
}

/// Take `n` out of `pool`'s free space; false if it was not free.
pub(super) fn take(
    table: &mut FreeTable<'_>,
    pool: u64,
    n: u128,
) -> Result<bool, redb::StorageError> {
    let Some((first, last)) = holding(table, pool, n)? else {
        return Ok(false);
    };
    table.remove((pool, first))?;
    if first < n {
        table.insert((pool, first), n - 1)?;
    }
    if n < last {
        table.insert((pool, n + 1), last)?;
    }
    Ok(true)
}

/// Give `n` back to `pool`'s free space (it must not be free), merged with
/// the intervals just below and above it.
pub(super) fn give(
    table: &mut FreeTable<'_>,
    pool: u64,
    n: u128,
) -> Result<(), redb::StorageError> {
    let below = match n.checked_sub(1) {
        Some(prev) => holding(table, pool, prev)?,
        None => None,
    };
    let above = match n.checked_add(1) {
        Some(next) => table.get((pool, next))?.map(|v| (next, v.value())),
        None => None,
    };
    let first = below.map_or(n, |(f, _)| f);
    let last = match above {
        Some((next, last)) => {
            table.remove((pool, next))?;
            last
        }
        None => n,
    };
    table.insert((pool, first), last)?;
    Ok(())
}

/// Up to `limit` free addresses of `pool`, lowest first.
pub(super) fn first_free(
    table: &impl ReadableTable<(u64, u128), u128>,
    pool: u64,
    limit: usize,
) -> Result<Vec<u128>, redb::StorageError> {
    let mut out = Vec::with_capacity(limit);
    for entry in table.range((pool, 0)..=(pool, u128::MAX))? {
        let (k, v) = entry?;
        let (first, last) = (k.value().1, v.value());
        let mut n = first;
        while out.len() < limit {
            out.push(n);
            if n == last {
                break;
            }
            n += 1;
        }
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}

/// Every free interval of `pool` (to delete the pool).
pub(super) fn intervals(
    table: &impl ReadableTable<(u64, u128), u128>,
    pool: u64,
) -> Result<Vec<(u128, u128)>, redb::StorageError> {
    table
        .range((pool, 0)..=(pool, u128::MAX))?
        .map(|e| e.map(|(k, v)| (k.value().1, v.value())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{Database, TableDefinition, backends::InMemoryBackend};

    const T: TableDefinition<(u64, u128), u128> = TableDefinition::new("free");

    #[test]
    fn exclusions_cut_the_ranges() {
        assert_eq!(
            subtract(&[(0, 255)], &[(0, 0), (1, 1), (255, 255)]),
            vec![(2, 254)]
        );
        assert_eq!(
            subtract(&[(10, 20), (0, 5)], &[(3, 12)]),
            vec![(0, 2), (13, 20)]
        );
        assert_eq!(subtract(&[(0, 9)], &[(0, 9)]), vec![]);
        assert_eq!(subtract(&[(0, 9), (10, 19)], &[]), vec![(0, 19)]);
        assert_eq!(
            subtract(&[(u128::MAX - 1, u128::MAX)], &[(u128::MAX, u128::MAX)]),
            vec![(u128::MAX - 1, u128::MAX - 1)]
        );
    }

    #[test]
    fn take_splits_and_give_merges_back() {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(T).unwrap();
            t.insert((1, 10), 19).unwrap();
            t.insert((2, 10), 19).unwrap(); // another pool, untouched
            assert!(take(&mut t, 1, 15).unwrap());
            assert!(!take(&mut t, 1, 15).unwrap(), "taken twice");
            assert!(!take(&mut t, 1, 9).unwrap(), "outside");
            assert_eq!(intervals(&t, 1).unwrap(), vec![(10, 14), (16, 19)]);
            assert!(take(&mut t, 1, 10).unwrap());
            assert!(take(&mut t, 1, 19).unwrap());
            assert_eq!(intervals(&t, 1).unwrap(), vec![(11, 14), (16, 18)]);
            assert_eq!(first_free(&t, 1, 6).unwrap(), vec![11, 12, 13, 14, 16, 17]);
            give(&mut t, 1, 15).unwrap();
            assert_eq!(intervals(&t, 1).unwrap(), vec![(11, 18)]);
            give(&mut t, 1, 10).unwrap();
            give(&mut t, 1, 19).unwrap();
            assert_eq!(intervals(&t, 1).unwrap(), vec![(10, 19)]);
            assert_eq!(intervals(&t, 2).unwrap(), vec![(10, 19)]);
            assert!(is_free(&t, 1, 12).unwrap() && !is_free(&t, 1, 20).unwrap());
        }
        txn.commit().unwrap();
    }
}
